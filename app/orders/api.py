"""Orders REST API and the Shopify webhook."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from app.orders import inputs, service, shopify
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import LineItem, Order
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import DomainError, Unauthorized
from app.platform.web import Day, csv_download, require

router = APIRouter(tags=["orders"])
MAX_SEARCH = 200
MAX_PAGE = 10_000  # 10,000 pages of up to 200 orders: beyond any shop's list
webhooks = APIRouter(tags=["webhooks"])


def order_json(order: Order, items: list[LineItem] | None = None) -> dict:
    out = {
        "id": str(order.id),
        "number": order.number,
        "source": order.source,
        "shopifyOrderId": order.shopify_order_id,
        "name": order.name,
        "status": order.status,
        "fulfillmentStatus": order.fulfillment_status,
        "financialStatus": order.financial_status,
        "customer": {"name": order.customer_name, "email": order.customer_email, "phone": order.customer_phone},
        "shippingAddress": {
            "name": order.ship_name,
            "company": order.ship_company,
            "street": order.ship_street,
            "houseNumber": order.ship_house_number,
            "address2": order.ship_address2,
            "city": order.ship_city,
            "postalCode": order.ship_postal_code,
            "countryCode": order.ship_country_code,
        },
        "deliveryType": order.delivery_type,
        "servicePoint": order.service_point or None,
        "pricing": {
            "currency": order.currency,
            "subtotal": str(order.subtotal),
            "shipping": str(order.shipping_total),
            "total": str(order.total),
        },
        "tracking": {"number": order.tracking_number, "url": order.tracking_url, "carrier": order.tracking_carrier},
        "totalParts": order.total_parts,
        "completedParts": order.completed_parts,
        "problems": order.problems,
        "note": order.note,
        "placedAt": order.placed_at,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "cancelledAt": order.cancelled_at,
        "shippedAt": order.shipped_at,
    }
    if items is not None:
        out["lineItems"] = [
            {
                "id": str(li.id),
                "shopifyLineItemId": li.shopify_line_item_id,
                "sku": li.sku,
                "title": li.title,
                "variantTitle": li.variant_title,
                "quantity": li.quantity,
                "unitPrice": str(li.unit_price),
                "properties": li.properties,
                "status": li.status,
                "totalParts": li.total_parts,
                "completedParts": li.completed_parts,
                "problem": li.problem,
            }
            for li in items
        ]
    return out


@router.get("/orders")
def list_orders(
    principal: Principal = Depends(require("orders.read")),
    search: str = Query("", max_length=MAX_SEARCH),
    status: str = Query("", max_length=30),
    fulfillment_status: str = Query("", max_length=30, alias="fulfillmentStatus"),
    source: str = Query("", max_length=20),
    date_from: Day | None = Query(None, alias="from"),
    date_to: Day | None = Query(None, alias="to"),
    sort: str = Query("placed_at", max_length=40),
    desc: bool = True,
    page: int = Query(0, ge=0, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = service.OrderFilter(
        search=search,
        status=status,
        fulfillment_status=fulfillment_status,
        source=source,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        descending=desc,
        page=page,
        page_size=page_size,
        timezone=principal.fmt.timezone,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_orders(s, f)
        return {"total": total, "page": page, "pageSize": page_size, "orders": [order_json(o) for o in rows]}


@router.get("/orders/export.csv")
def export_orders(
    principal: Principal = Depends(require("orders.read")),
    search: str = Query("", max_length=MAX_SEARCH),
    status: str = Query("", max_length=30),
    fulfillment_status: str = Query("", max_length=30, alias="fulfillmentStatus"),
    source: str = Query("", max_length=20),
    date_from: Day | None = Query(None, alias="from"),
    date_to: Day | None = Query(None, alias="to"),
    sort: str = Query("placed_at", max_length=40),
    desc: bool = True,
    ids: str = Query("", max_length=40_000, description="comma-separated order ids: only these (the ticked rows)"),
):
    """Every order matching the filters (the list's, without paging) as CSV,
    in the shop's time zone and words; `ids` narrows it to chosen orders."""
    f = service.OrderFilter(
        search=search,
        status=status,
        fulfillment_status=fulfillment_status,
        source=source,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        descending=desc,
        ids=[i for i in ids.split(",") if i.strip()][:1000],
        timezone=principal.fmt.timezone,
    )

    def rows():
        with tenant_session(principal.tenant_id) as s:
            yield from service.export_rows(s, f, principal.fmt)

    today = principal.fmt.local(datetime.now(UTC)).date()  # the shop's today, in the file's name
    return csv_download(f"orders-{today.isoformat()}.csv", service.EXPORT_HEADER, rows())


@router.get("/orders/{order_id}")
def get_order(order_id: uuid.UUID, principal: Principal = Depends(require("orders.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        order = service.get_order(s, order_id)
        return {
            **order_json(order, service.line_items(s, order.id)),
            "allowedActions": service.allowed_actions(s, order, principal),
            "nextStep": dict(zip(("step", "missing"), service.next_step_problems(s, order), strict=True)),
            "timeline": [
                {"eventType": e.event_type, "severity": e.severity, "message": e.message, "createdAt": e.created_at}
                for e in service.timeline(s, order.id)
            ],
        }


class LineBody(BaseModel):
    sku: str = Field("", max_length=100)
    title: str = Field("", max_length=300)
    quantity: int = Field(1, ge=1, le=10000)
    unitPrice: Decimal = Field(Decimal("0"), ge=0, le=inputs.MAX_AMOUNT, decimal_places=2)
    properties: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        max_length=inputs.MAX_PROPERTIES,
        description=f"at most {inputs.MAX_PROPERTIES} name/value pairs, each value at most "
        f"{inputs.MAX_PROPERTY_VALUE} characters",
    )


class ManualOrderBody(BaseModel):
    customerName: str = Field(min_length=1, max_length=200)
    customerEmail: str = Field("", max_length=254)
    customerPhone: str = Field("", max_length=50)
    shipName: str = Field("", max_length=200)
    shipCompany: str = Field("", max_length=200)
    street: str = Field("", max_length=200)
    houseNumber: str = Field("", max_length=30)
    city: str = Field("", max_length=100)
    postalCode: str = Field("", max_length=20)
    countryCode: str = Field("", max_length=2)
    currency: str = Field("EUR", min_length=3, max_length=3)
    shipping: Decimal = Field(Decimal("0"), ge=0, le=inputs.MAX_AMOUNT, decimal_places=2)
    note: str = Field("", max_length=inputs.MAX_NOTE)
    lineItems: list[LineBody] = Field(min_length=1, max_length=inputs.MAX_LINES)


@router.post("/orders", status_code=201)
def create_manual_order(body: ManualOrderBody, principal: Principal = Depends(require("orders.write"))) -> dict:
    data = OrderInput(
        source="manual",
        customer_name=body.customerName,
        customer_email=body.customerEmail,
        customer_phone=body.customerPhone,
        ship_name=body.shipName or body.customerName,
        ship_company=body.shipCompany,
        ship_street=body.street,
        ship_house_number=body.houseNumber,
        ship_city=body.city,
        ship_postal_code=body.postalCode,
        ship_country_code=body.countryCode.upper(),
        currency=body.currency.upper(),
        shipping_total=body.shipping,
        note=body.note,
        lines=[
            LineInput(
                sku=li.sku.strip(),
                title=li.title.strip(),
                quantity=li.quantity,
                unit_price=li.unitPrice,
                properties=li.properties,
            )
            for li in body.lineItems
        ],
    )
    with tenant_session(principal.tenant_id) as s:
        order = service.take_manual_order(s, data, actor=principal)
        s.commit()
        return order_json(order, service.line_items(s, order.id))


class PatchBody(BaseModel):
    fulfillmentStatus: Literal["ready", "packaging", "shipped", "completed"]
    trackingNumber: str = Field("", max_length=100)
    trackingUrl: str = Field("", max_length=500)
    carrier: str = Field("", max_length=100)


@router.patch("/orders/{order_id}")
def patch_order(order_id: uuid.UUID, body: PatchBody, principal: Principal = Depends(require("orders.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        order = service.advance_fulfillment(
            s,
            order_id,
            body.fulfillmentStatus,
            actor=principal,
            tracking=service.Tracking(body.trackingNumber, body.trackingUrl, body.carrier),
        )
        s.commit()
        return order_json(order)


class CancelBody(BaseModel):
    reason: Literal["customer", "fraud", "inventory", "declined", "other"] = "other"


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    order_id: uuid.UUID, body: CancelBody | None = None, principal: Principal = Depends(require("orders.write"))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        order = service.cancel(s, order_id, actor=principal, reason=(body or CancelBody()).reason)
        s.commit()
        return order_json(order)


# --- Shopify connection and backfill -------------------------------------------------------


class ShopifyConnectBody(BaseModel):
    shopDomain: str = Field(min_length=3, max_length=100)
    accessToken: str = Field(min_length=1, max_length=500, pattern=r"^\s*[\x21-\x7e]+\s*$")  # sent in a header: ASCII
    webhookSecret: str = Field(min_length=1, max_length=500)
    apiBaseUrl: str = Field("", max_length=500)


@router.put("/integrations/shopify", tags=["settings"])
def connect_shopify(body: ShopifyConnectBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        shop = shopify.connect(
            s,
            shop_domain=body.shopDomain,
            access_token=body.accessToken,
            webhook_secret=body.webhookSecret,
            api_base_url=body.apiBaseUrl,
            actor=principal,
        )
        s.commit()
        return {"shopDomain": shop.shop_domain, "connected": True}


@router.delete("/integrations/shopify", tags=["settings"], status_code=204)
def disconnect_shopify(principal: Principal = Depends(require("settings.write"))) -> None:
    with tenant_session(principal.tenant_id) as s:
        shopify.disconnect(s, actor=principal)
        s.commit()


class BackfillBody(BaseModel):
    since: Day


@router.post("/orders/backfill", status_code=202)
def start_backfill(body: BackfillBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        run = shopify.start_backfill(s, datetime.combine(body.since, datetime.min.time(), UTC), actor=principal)
        s.commit()
    shopify.queue_backfill(principal.tenant_id, run.id)
    return {"id": str(run.id), "status": run.status}


# --- the webhook --------------------------------------------------------------------------------


@webhooks.post("/webhooks/shopify")
async def shopify_webhook(request: Request) -> dict:
    """Shopify order webhooks: verified on the raw body, deduplicated by
    X-Shopify-Webhook-Id, applied in one transaction; downstream work goes
    through the outbox (`order.created`)."""
    raw = await request.body()
    if not raw:
        raise DomainError("the body is empty", code="empty_body")
    if not request.headers.get("x-shopify-hmac-sha256", "").isascii():
        raise Unauthorized("the webhook signature is not valid")  # a base64 digest is plain ASCII
    result = await asyncio.to_thread(shopify.handle_webhook, raw, dict(request.headers))
    return {"status": result.status, "orderId": str(result.order_id) if result.order_id else None}
