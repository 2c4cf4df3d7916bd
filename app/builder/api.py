"""Storefront REST API (`/api/v1/shop`): customer accounts, saved and shared
builds, the anonymous build cookie and ordering a build.

Public and customer routes only; nothing here accepts a staff session, and the
customer cookie opens nothing outside these routes. Every route works in the
storefront's shop (`customers.storefront_tenant()`). Writes from a browser
must come from our own pages (the staff Origin check).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, overload

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from app.builder import cookie as build_cookie
from app.builder import service, slotmap
from app.builder.models import SavedBuild
from app.customers import service as customers
from app.customers.service import CustomerPrincipal
from app.orders.models import Order
from app.orders.service import line_items
from app.platform.db import tenant_session
from app.platform.errors import Unauthorized
from app.platform.web import _check_origin, client_ip
from app.settings import get_settings


def _origin_guard(request: Request) -> None:
    _check_origin(request)


router = APIRouter(prefix="/shop", tags=["storefront"], dependencies=[Depends(_origin_guard)])


# --- JSON shapes ----------------------------------------------------------------------------


def build_json(b: SavedBuild) -> dict:
    slots = slotmap.normalise(b.slots)
    return {
        "id": str(b.id),
        "name": b.name,
        "slots": slots,
        "query": slotmap.to_query(slots),
        "builderUrl": slotmap.builder_url(slots),
        "state": slotmap.state_of(slots),
        "shareSlug": b.share_slug,
        "shareUrl": f"/b/{b.share_slug}" if b.share_slug else None,
        "sharedAt": b.shared_at,
        "claimedAt": b.claimed_at,
        "createdAt": b.created_at,
        "updatedAt": b.updated_at,
    }


def view_json(view: Any) -> dict:  # an app.builder.evaluation.BuildView
    """A BuildView (verdicts, prices, wattage) as JSON."""

    def money(v: Any) -> str | None:
        return None if v is None else str(v)

    return {
        "slots": view.slots,
        "state": view.state,
        "overall": view.overall,
        "total": money(view.total),
        "currency": view.currency,
        "drawW": view.draw_w,
        "drawParts": [[name, watts] for name, watts in view.draw_parts],
        "unavailable": list(view.unavailable),
        "notChecked": list(view.not_checked),
        "slotSeverity": dict(view.slot_severity),
        "parts": {
            slot: [
                {
                    "id": str(p.part.id),
                    "name": p.part.name,
                    "price": money(p.price),
                    "currency": p.currency,
                    "stock": p.stock,
                    "availability": p.availability or None,
                    "available": p.available,
                }
                for p in parts
            ]
            for slot, parts in view.parts.items()
            if parts
        },
        "verdicts": [
            {
                "rule": v.rule,
                "severity": v.severity,
                "slots": list(v.slots),
                "message": v.message,
                "suggestions": [
                    {
                        "slot": s.slot,
                        "index": s.index,
                        "partId": s.part_id,
                        "name": s.name,
                        "price": money(s.price),
                        "currency": s.currency,
                        "slots": s.slots,
                        "builderUrl": slotmap.builder_url(s.slots),
                    }
                    for s in v.suggestions
                ],
            }
            for v in view.verdicts
        ],
    }


def _evaluate(session: Any, slots: dict) -> dict:
    from app.builder.evaluation import evaluate_build

    return view_json(evaluate_build(session, slots))


def customer_json(p: CustomerPrincipal) -> dict:
    return {"id": str(p.customer_id), "email": p.email, "name": p.name}


def order_json(order: Order, session: Any) -> dict:
    return {
        "id": str(order.id),
        "number": order.number,
        "source": order.source,
        "status": order.status,
        "placedAt": order.placed_at,
        "savedBuildId": str(order.saved_build_id) if order.saved_build_id else None,
        "pricing": {
            "currency": order.currency,
            "subtotal": str(order.subtotal),
            "shipping": str(order.shipping_total),
            "total": str(order.total),
        },
        "shippingAddress": {
            "name": order.ship_name,
            "company": order.ship_company,
            "street": order.ship_street,
            "houseNumber": order.ship_house_number,
            "address2": order.ship_address2,
            "postalCode": order.ship_postal_code,
            "city": order.ship_city,
            "countryCode": order.ship_country_code,
        },
        "lineItems": [
            {
                "sku": li.sku,
                "title": li.title,
                "quantity": li.quantity,
                "unitPrice": str(li.unit_price),
                "properties": li.properties,
            }
            for li in line_items(session, order.id)
        ],
        "note": order.note,
    }


# --- cookies and who is asking --------------------------------------------------------------


def _shop_id() -> uuid.UUID:
    return customers.storefront_tenant().id


def optional_customer(request: Request) -> CustomerPrincipal | None:
    """The signed-in customer of the storefront's shop, or None. Staff cookies
    and API keys are not looked at."""
    principal = customers.authenticate_customer(request.cookies.get(customers.CUSTOMER_COOKIE))
    if principal is None or principal.tenant_id != _shop_id():
        return None
    return principal


def current_customer(principal: CustomerPrincipal | None = Depends(optional_customer)) -> CustomerPrincipal:
    if principal is None:
        raise Unauthorized("sign in to your account first")
    return principal


def _set_customer_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        customers.CUSTOMER_COOKIE,
        value,
        max_age=customers.SESSION_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        path="/",
    )


def _set_build_cookie(response: Response, value: str) -> None:
    """Readable by the page (Reflex's rx.Cookie reads it), so not HttpOnly; it is signed."""
    response.set_cookie(
        build_cookie.COOKIE_NAME,
        value,
        max_age=build_cookie.MAX_AGE_SECONDS,
        httponly=False,
        samesite="lax",
        secure=get_settings().cookie_secure,
        path="/",
    )


def _signed_in(
    session: Any,
    request: Request,
    response: Response,
    result: customers.SignInResult,
) -> dict:
    """The sign-in response (ADR-0003): set the customer cookie, claim the
    browser's `build_session` build into the account, and clear that cookie."""
    _set_customer_cookie(response, result.cookie_value)
    claimed = None
    anon = request.cookies.get(build_cookie.COOKIE_NAME)
    if anon is not None:
        claimed = service.claim_anonymous(session, result.principal, anon)
        response.delete_cookie(build_cookie.COOKIE_NAME, path="/", samesite="lax", secure=get_settings().cookie_secure)
    session.commit()
    return {"customer": customer_json(result.principal), "claimedBuild": build_json(claimed) if claimed else None}


# --- customers ----------------------------------------------------------------------------------


class SignUpBody(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=customers.MIN_PASSWORD_LENGTH, max_length=500)


class SignInBody(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=500)


@router.post("/customers/signup", status_code=201)
def sign_up(body: SignUpBody, request: Request, response: Response) -> dict:
    """Create an account and sign in (same response claims the cookied build)."""
    with tenant_session(_shop_id()) as s:
        customer = customers.sign_up(s, email=body.email, name=body.name, password=body.password, ip=client_ip(request))
        return _signed_in(s, request, response, customers.open_session(s, customer, ip=client_ip(request)))


@router.post("/customers/login")
def sign_in(body: SignInBody, request: Request, response: Response) -> dict:
    with tenant_session(_shop_id()) as s:
        result = customers.sign_in(s, body.email, body.password, ip=client_ip(request))
        return _signed_in(s, request, response, result)


@router.post("/customers/logout", status_code=204)
def sign_out(request: Request) -> Response:
    customers.sign_out(request.cookies.get(customers.CUSTOMER_COOKIE), ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(
        customers.CUSTOMER_COOKIE, path="/", httponly=True, samesite="lax", secure=get_settings().cookie_secure
    )
    return response


@router.get("/customers/me")
def me(customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    return customer_json(customer)


# --- a customer's builds --------------------------------------------------------------------------


# A build names at most a few dozen slots, each with a few part ids (or a
# comma-separated string of them, as in the builder's address).
_PartIds = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=20)]
Slots = Annotated[
    dict[Annotated[str, Field(max_length=50)], _PartIds | Annotated[str, Field(max_length=2000)]],
    Field(max_length=60),
]
BuildId = Annotated[str, Path(max_length=100)]


class SaveBody(BaseModel):
    name: str = Field("", max_length=service.MAX_NAME)
    slots: Slots = Field(default_factory=dict)


class PatchBody(BaseModel):
    name: str | None = Field(None, max_length=service.MAX_NAME)
    slots: Slots | None = None


@overload
def _slots(raw: dict) -> slotmap.SlotMap: ...
@overload
def _slots(raw: None) -> None: ...
def _slots(raw: dict | None) -> dict | None:
    if raw is None:
        return None
    return slotmap.normalise({k: v.split(",") if isinstance(v, str) else v for k, v in raw.items()})


@router.get("/builds")
def list_builds(customer: CustomerPrincipal = Depends(current_customer)) -> list[dict]:
    with tenant_session(customer.tenant_id) as s:
        return [build_json(b) for b in service.list_builds(s, customer)]


@router.post("/builds", status_code=201)
def save_build(body: SaveBody, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    with tenant_session(customer.tenant_id) as s:
        build = service.save_build(s, customer, _slots(body.slots) or {}, body.name)
        s.commit()
        return build_json(build)


@router.get("/builds/{build_id}")
def get_build(build_id: BuildId, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    with tenant_session(customer.tenant_id) as s:
        build = service.get_build(s, customer, build_id)
        return {**build_json(build), "evaluation": _evaluate(s, build.slots)}


@router.patch("/builds/{build_id}")
def patch_build(build_id: BuildId, body: PatchBody, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    with tenant_session(customer.tenant_id) as s:
        build = service.update_build(s, customer, build_id, name=body.name, slots=_slots(body.slots))
        s.commit()
        return build_json(build)


@router.delete("/builds/{build_id}", status_code=204)
def delete_build(build_id: BuildId, customer: CustomerPrincipal = Depends(current_customer)) -> Response:
    with tenant_session(customer.tenant_id) as s:
        service.delete(s, customer, build_id)
        s.commit()
    return Response(status_code=204)


@router.post("/builds/{build_id}/duplicate", status_code=201)
def duplicate_build(build_id: BuildId, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    with tenant_session(customer.tenant_id) as s:
        build = service.duplicate(s, customer, build_id)
        s.commit()
        return build_json(build)


@router.post("/builds/{build_id}/share")
def share_build(build_id: BuildId, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    with tenant_session(customer.tenant_id) as s:
        slug = service.share(s, customer, build_id)
        s.commit()
        return {"slug": slug, "url": f"/b/{slug}"}


class AddressBody(BaseModel):
    name: str = Field("", max_length=200)
    company: str = Field("", max_length=200)
    street: str = Field("", max_length=200)
    houseNumber: str = Field("", max_length=30)
    address2: str = Field("", max_length=200)
    postalCode: str = Field("", max_length=20)
    city: str = Field("", max_length=100)
    countryCode: str = Field("", max_length=2)
    phone: str = Field("", max_length=50)


class OrderBody(BaseModel):
    address: AddressBody
    acknowledgeBlocks: bool = False


@router.post("/builds/{build_id}/order", status_code=201)
def order_build(build_id: BuildId, body: OrderBody, customer: CustomerPrincipal = Depends(current_customer)) -> dict:
    """201 with the order; 409 `blocks_not_acknowledged` (details.blocks) until
    `acknowledgeBlocks` is true for a build with block verdicts; 409
    `parts_unavailable` (details.unavailable); 422 for the address (details.fields)."""
    with tenant_session(customer.tenant_id) as s:
        order = service.order_build(
            s, customer, build_id, body.address.model_dump(), acknowledge_blocks=body.acknowledgeBlocks
        )
        s.commit()
        return order_json(order, s)


# --- public: shared builds and the anonymous cookie ---------------------------------------------


@router.get("/shared/{slug}")
def shared_build(slug: Annotated[str, Path(max_length=100)]) -> dict:
    """A shared build, read-only, with verdicts and prices. 404 unknown; 410 deleted."""
    with tenant_session(_shop_id()) as s:
        build = service.get_shared(s, slug)
        return {
            "slug": build.share_slug,
            "name": build.name,
            "slots": slotmap.normalise(build.slots),
            "builderUrl": slotmap.builder_url(build.slots),
            "sharedAt": build.shared_at,
            "evaluation": _evaluate(s, build.slots),
        }


class CookieBuildBody(BaseModel):
    slots: Slots = Field(default_factory=dict)


def _cookie_build_json(slots: dict, saved_id: uuid.UUID | None) -> dict:
    return {
        "slots": slots,
        "savedBuildId": str(saved_id) if saved_id else None,
        "builderUrl": slotmap.builder_url(slots),
    }


@router.get("/cookie-build")
def read_cookie_build(request: Request) -> dict:
    """The build saved in this browser (`build_session`); empty when there is none or it was tampered with."""
    with tenant_session(_shop_id()) as s:
        slots, saved_id = build_cookie.decode_anonymous(s, request.cookies.get(build_cookie.COOKIE_NAME))
        return _cookie_build_json(slots, saved_id)


@router.put("/cookie-build")
def save_cookie_build(body: CookieBuildBody, request: Request, response: Response) -> dict:
    """Save anonymously: sets the signed `build_session` cookie (1 year)."""
    with tenant_session(_shop_id()) as s:
        value = build_cookie.encode_anonymous(
            s, _slots(body.slots) or {}, previous=request.cookies.get(build_cookie.COOKIE_NAME)
        )
        s.commit()
        slots, saved_id = build_cookie.decode_anonymous(s, value)
    _set_build_cookie(response, value)
    return _cookie_build_json(slots, saved_id)


@router.post("/cookie-build/share")
def share_cookie_build(request: Request, response: Response, body: CookieBuildBody | None = None) -> dict:
    """Share the given slots (or the cookie's build) without an account; the
    cookie then points at the shared server-side build."""
    current = request.cookies.get(build_cookie.COOKIE_NAME)
    with tenant_session(_shop_id()) as s:
        slots = _slots(body.slots) if body and body.slots else build_cookie.decode_anonymous(s, current)[0]
        result = service.share_slots(s, slots, None, cookie_value=current)
        s.commit()
    assert result.cookie_value is not None  # an anonymous share always points the cookie at the build
    _set_build_cookie(response, result.cookie_value)
    return {"slug": result.slug, "url": f"/b/{result.slug}", "savedBuildId": str(result.build.id)}
