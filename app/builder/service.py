"""Saved builds: the one place their rules live (seed 002: SavedAnon,
SavedAccount, Shared; ADR-0003 claim at sign-in). Pages, the REST API and
tests all call these functions with a tenant session; the caller commits.

- A customer touches only their own builds: anyone else's (or a deleted one)
  is "no such build" (404), never "forbidden", so ids reveal nothing.
- Deleting is soft (`deleted_at`), so a shared link can answer 410 Gone.
- Sharing adds a random unlisted slug; sharing again returns the same slug.
- Ordering turns a build into an Order (source `builder`) at today's prices,
  plus the shop's assembly fee and shipping cost (`quote`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from app.builder import cookie as build_cookie
from app.builder import slotmap
from app.builder.models import SavedBuild
from app.builder.slotmap import SlotMap
from app.catalog.service import part_sku
from app.customers.models import Customer
from app.customers.service import CustomerPrincipal, get_customer, normalise_email
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.orders.service import create_order, log_event
from app.platform import config
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, Gone, NotFound, ValidationFailed
from app.platform.models import utcnow

DEFAULT_NAME = "My build"
MAX_NAME = 120

if TYPE_CHECKING:
    from app.builder.evaluation import BuildView

CustomerLike = CustomerPrincipal | Customer


def _cid(customer: CustomerLike) -> uuid.UUID:
    return customer.customer_id if isinstance(customer, CustomerPrincipal) else customer.id


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound("no such build") from None


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"a build name has at most {MAX_NAME} characters")
    return name


def _default_name(session: Session, customer_id: uuid.UUID | None) -> str:
    """ "My build", then "My build 2", "My build 3", … among the customer's builds."""
    if customer_id is None:
        return DEFAULT_NAME
    taken = set(
        session.exec(
            select(SavedBuild.name).where(SavedBuild.customer_id == customer_id, col(SavedBuild.deleted_at).is_(None))
        )
    )
    if DEFAULT_NAME not in taken:
        return DEFAULT_NAME
    n = 2
    while f"{DEFAULT_NAME} {n}" in taken:
        n += 1
    return f"{DEFAULT_NAME} {n}"


def _new_build(session: Session, customer_id: uuid.UUID | None, slots: Mapping, name: str = "") -> SavedBuild:
    now = utcnow()
    build = SavedBuild(
        tenant_id=session_tenant_id(session),
        customer_id=customer_id,
        name=_clean_name(name) or _default_name(session, customer_id),
        slots=slotmap.normalise(slots),
        created_at=now,
        updated_at=now,
    )
    session.add(build)
    session.flush()
    return build


# --- a customer's builds ----------------------------------------------------------------


def get_build(
    session: Session, customer: CustomerLike, build_id: uuid.UUID | str, *, include_deleted: bool = False
) -> SavedBuild:
    """The customer's own build; NotFound for anyone else's, unknown or deleted ones."""
    build = session.get(SavedBuild, _uuid(build_id))
    if build is None or build.customer_id != _cid(customer) or (build.deleted_at is not None and not include_deleted):
        raise NotFound("no such build")
    return build


def list_builds(session: Session, customer: CustomerLike) -> list[SavedBuild]:
    """The customer's builds (not deleted), most recently changed first."""
    return list(
        session.exec(
            select(SavedBuild)
            .where(SavedBuild.customer_id == _cid(customer), col(SavedBuild.deleted_at).is_(None))
            .order_by(col(SavedBuild.updated_at).desc(), col(SavedBuild.created_at).desc())
        )
    )


def save_build(session: Session, customer: CustomerLike, slots: Mapping, name: str = "") -> SavedBuild:
    """Save a slot map into the account (SavedAccount). Incompatible or
    incomplete builds save too (a `block` never prevents saving)."""
    return _new_build(session, _cid(customer), slots, name)


def update_build(
    session: Session,
    customer: CustomerLike,
    build_id: uuid.UUID | str,
    *,
    name: str | None = None,
    slots: Mapping | None = None,
) -> SavedBuild:
    """Rename and/or replace the parts of an own build."""
    build = get_build(session, customer, build_id)
    if name is not None:
        clean = _clean_name(name)
        if not clean:
            raise ValidationFailed("give the build a name")
        build.name = clean
    if slots is not None:
        build.slots = slotmap.normalise(slots)
    build.updated_at = utcnow()
    session.add(build)
    session.flush()
    return build


def rename(session: Session, customer: CustomerLike, build_id: uuid.UUID | str, name: str) -> SavedBuild:
    return update_build(session, customer, build_id, name=name)


def duplicate(session: Session, customer: CustomerLike, build_id: uuid.UUID | str) -> SavedBuild:
    """A private copy ("<name> (copy)"), without the original's share link."""
    build = get_build(session, customer, build_id)
    suffix = " (copy)"
    return _new_build(session, build.customer_id, build.slots, build.name[: MAX_NAME - len(suffix)] + suffix)


def delete(session: Session, customer: CustomerLike, build_id: uuid.UUID | str) -> SavedBuild:
    """Soft delete: the build leaves the account and its share link answers 410.
    Deleting a deleted build changes nothing."""
    build = get_build(session, customer, build_id, include_deleted=True)
    if build.deleted_at is None:
        build.deleted_at = build.updated_at = utcnow()
        session.add(build)
        session.flush()
    return build


# --- claiming the anonymous build (ADR-0003) ----------------------------------------------


def claim_anonymous(session: Session, customer: CustomerLike, cookie_value: str | None) -> SavedBuild | None:
    """Move the build of a `build_session` cookie into the account (SavedAnon →
    SavedAccount). A cookie holding the slot map becomes a new account build;
    one pointing at an owner-less server-side build (large, or shared) attaches
    that build, share link included. Idempotent: claiming the same cookie again
    returns the same build. None for an empty, tampered or foreign cookie."""
    cid = _cid(customer)
    slots, saved_id = build_cookie.decode_anonymous(session, cookie_value)
    if saved_id is not None:
        build = session.exec(select(SavedBuild).where(SavedBuild.id == saved_id).with_for_update()).first()
        if build is None or build.deleted_at is not None:
            return None
        if build.customer_id is None:
            name = _default_name(session, cid) if build.name == DEFAULT_NAME else build.name
            build.customer_id, build.name = cid, name
            build.claimed_at = build.updated_at = utcnow()
            session.add(build)
            session.flush()
            return build
        return build if build.customer_id == cid else None
    if not slots:
        return None
    for build in session.exec(
        select(SavedBuild).where(
            SavedBuild.customer_id == cid, col(SavedBuild.deleted_at).is_(None), col(SavedBuild.claimed_at).is_not(None)
        )
    ):
        if slotmap.normalise(build.slots) == slots:
            return build  # this cookie was claimed already
    build = _new_build(session, cid, slots)
    build.claimed_at = build.created_at
    session.add(build)
    session.flush()
    return build


# --- sharing ---------------------------------------------------------------------------------


def _new_slug(session: Session) -> str:
    for _ in range(10):
        slug = secrets.token_urlsafe(9)
        if session.exec(select(SavedBuild.id).where(SavedBuild.share_slug == slug)).first() is None:
            return slug
    raise Conflict("could not make a share link; please try again")


def _share_build(session: Session, build: SavedBuild) -> str:
    if build.share_slug is None:
        build.share_slug = _new_slug(session)
        build.shared_at = utcnow()
        session.add(build)
        session.flush()
    return build.share_slug


@dataclass(frozen=True)
class ShareResult:
    slug: str
    build: SavedBuild
    cookie_value: str | None  # the new `build_session` value for an anonymous share, else None


def share_slots(
    session: Session, slots: Mapping, customer: CustomerLike | None, *, cookie_value: str | None = None
) -> ShareResult:
    """Share what the builder shows. A signed-in customer's build is kept in
    the account (an own build with the same parts is reused). An anonymous
    build is kept server-side without an owner, and `cookie_value` in the
    result points the browser's cookie at it (claimed at sign-in, shared link
    included). Sharing the same parts again returns the same slug."""
    clean = slotmap.normalise(slots)
    if not clean:
        raise ValidationFailed("add parts to the build before sharing it")
    if customer is not None:
        cid = _cid(customer)
        own = [
            b
            for b in session.exec(
                select(SavedBuild)
                .where(SavedBuild.customer_id == cid, col(SavedBuild.deleted_at).is_(None))
                .order_by(col(SavedBuild.shared_at).desc().nulls_last(), col(SavedBuild.updated_at).desc())
            )
            if slotmap.normalise(b.slots) == clean
        ]
        build = own[0] if own else _new_build(session, cid, clean)
        return ShareResult(_share_build(session, build), build, None)
    prev_slots, prev_id = build_cookie.decode_anonymous(session, cookie_value)
    build = session.get(SavedBuild, prev_id) if prev_id is not None and prev_slots == clean else None
    if build is not None and build.customer_id is None:  # this browser's own build: its cookie stays as it is
        return ShareResult(_share_build(session, build), build, cookie_value)
    build = _new_build(session, None, clean)
    value = build_cookie.encode_saved(build)
    return ShareResult(_share_build(session, build), build, value)


def share(
    session: Session,
    customer: CustomerLike | None,
    build_or_slots: SavedBuild | uuid.UUID | str | Mapping,
) -> str:
    """The share slug of an own build (by id or row) or of a slot map
    (see `share_slots`; anonymous when `customer` is None). Same slug on
    every call. `share(session, build_or_slots, customer)` works too."""
    if isinstance(customer, SavedBuild | uuid.UUID | str | Mapping) and (
        build_or_slots is None or isinstance(build_or_slots, CustomerPrincipal | Customer)
    ):
        customer, build_or_slots = build_or_slots, customer
    if isinstance(build_or_slots, Mapping):
        return share_slots(session, build_or_slots, customer).slug
    build_id = build_or_slots.id if isinstance(build_or_slots, SavedBuild) else build_or_slots
    if customer is None:
        build = session.get(SavedBuild, _uuid(build_id))
        if build is None or build.customer_id is not None or build.deleted_at is not None:
            raise NotFound("no such build")
    else:
        build = get_build(session, customer, build_id)
    return _share_build(session, build)


def get_shared(session: Session, slug: str) -> SavedBuild:
    """A shared build by its slug: NotFound when unknown, Gone (410) when deleted."""
    slug = (slug or "").strip()
    build = session.exec(select(SavedBuild).where(SavedBuild.share_slug == slug)).first() if slug else None
    if build is None:
        raise NotFound("there is no shared build at this link")
    if build.deleted_at is not None:
        raise Gone("this build was deleted by its owner, so its share link no longer works")
    return build


# --- ordering a build -------------------------------------------------------------------------

ADDRESS_FIELDS = {  # address key → (other accepted spelling, label, max length, required)
    "name": ("name", "the recipient's name", 200, True),
    "street": ("street", "the street", 200, True),
    "house_number": ("houseNumber", "the house number", 30, True),
    "address2": ("address2", "the second address line", 200, False),
    "postal_code": ("postalCode", "the postal code", 20, True),
    "city": ("city", "the city", 100, True),
    "country_code": ("countryCode", "the country", 2, True),
    "phone": ("phone", "the phone number", 50, False),
    "company": ("company", "the company", 200, False),
}


def clean_address(address: Mapping | None) -> dict[str, str]:
    """Check a shipping address (snake_case or camelCase keys); ValidationFailed
    names every missing or malformed field (`details.fields`)."""
    address = address or {}
    out: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key, (alt, label, limit, required) in ADDRESS_FIELDS.items():
        value = address.get(key)
        if value is None:
            value = address.get(alt)
        value = " ".join(str(value or "").split())
        if required and not value:
            problems[key] = f"enter {label}"
        elif len(value) > limit:
            problems[key] = f"{label} has at most {limit} characters"
        out[key] = value
    cc = out["country_code"].upper()
    if cc and (len(cc) != 2 or not cc.isalpha() or not cc.isascii()):
        problems["country_code"] = "the country is a two-letter code (e.g. NL)"
    out["country_code"] = cc
    if problems:
        raise ValidationFailed("check the address: " + "; ".join(problems.values()), details={"fields": problems})
    return out


# --- what a PC order costs ------------------------------------------------------------------------
#
# A PC ordered from the builder costs its parts at the shop's current prices,
# plus assembly (building, testing) and shipping. The two fees are shop-level
# values: a shop sets them as config keys, and the defaults below are the one
# place they live otherwise. The order dialog shows `quote(...)` and
# `order_build` / `order_slots` charge exactly that.

ASSEMBLY_FEE_KEY = "builder.assembly-fee"
SHIPPING_COST_KEY = "builder.shipping-cost"
DEFAULT_ASSEMBLY_FEE = Decimal("79.00")  # building, cable management, burn-in test
DEFAULT_SHIPPING_COST = Decimal("24.95")  # one insured parcel for an assembled PC
ASSEMBLY_SKU = "PC-ASSEMBLY"


def _fee(session: Session, key: str, default: Decimal) -> Decimal:
    """A shop's fee from its config; the default when unset or not a sensible amount."""
    value = config.get(session, key)
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else default
    except (InvalidOperation, ValueError):
        return default
    return amount if amount.is_finite() and amount >= 0 else default


def shop_fees(session: Session) -> tuple[Decimal, Decimal]:
    """(assembly fee, shipping cost) of the session's shop."""
    return (
        _fee(session, ASSEMBLY_FEE_KEY, DEFAULT_ASSEMBLY_FEE),
        _fee(session, SHIPPING_COST_KEY, DEFAULT_SHIPPING_COST),
    )


@dataclass(frozen=True)
class OrderQuote:
    """What ordering a build costs: the order carries these amounts
    (`subtotal` = parts + assembly, `shipping`, `total`)."""

    parts: Decimal
    assembly: Decimal
    shipping: Decimal
    currency: str

    @property
    def subtotal(self) -> Decimal:
        return self.parts + self.assembly

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping


def quote(session: Session, view: BuildView) -> OrderQuote:
    """The price of ordering the evaluated build `view` (its sold parts)."""
    assembly, shipping = shop_fees(session)
    return OrderQuote(parts=view.total, assembly=assembly, shipping=shipping, currency=view.currency)


def quote_slots(session: Session, slots: Mapping) -> OrderQuote:
    """`quote` of a slot map."""
    from app.builder.evaluation import evaluate_build

    return quote(session, evaluate_build(session, slots))


# --- the address an order dialog starts with ------------------------------------------------------


def last_address(session: Session, customer: CustomerLike) -> dict[str, str]:
    """The shipping address of the customer's most recent order (the keys of
    `ADDRESS_FIELDS`), or {} when they have not ordered yet."""
    order = session.exec(
        select(Order).where(Order.customer_id == _cid(customer)).order_by(col(Order.placed_at).desc()).limit(1)
    ).first()
    if order is None:
        return {}
    return {
        "name": order.ship_name,
        "company": order.ship_company,
        "street": order.ship_street,
        "house_number": order.ship_house_number,
        "address2": order.ship_address2,
        "postal_code": order.ship_postal_code,
        "city": order.ship_city,
        "country_code": order.ship_country_code,
        "phone": order.customer_phone,
    }


# --- ordering a build -------------------------------------------------------------------------------


def _checked_view(session: Session, slots: SlotMap, acknowledge_blocks: bool) -> tuple[BuildView, list[str]]:
    """The evaluated build, refused when it cannot be ordered: empty, parts
    gone from the catalog or not sold, or blocks not acknowledged."""
    from app.builder.evaluation import evaluate_build

    if not slots:
        raise ValidationFailed("this build has no parts yet; add parts before ordering it")
    view = evaluate_build(session, slots)
    missing = len(slotmap.part_ids(slots)) - len(slotmap.part_ids(view.slots))
    if missing:
        raise Conflict(
            f"{missing} part(s) of this build are no longer in the catalog; "
            "open it in the builder and choose replacements first",
            code="parts_unavailable",
            details={"unavailable": [], "missing": missing},
        )
    if view.unavailable:
        raise Conflict(
            "the shop does not sell these parts at the moment: "
            + "; ".join(view.unavailable)
            + ". Choose other parts in the builder first.",
            code="parts_unavailable",
            details={"unavailable": list(view.unavailable)},
        )
    blocks = [v.message for v in view.verdicts if v.severity == "block"]
    if blocks and not acknowledge_blocks:
        raise Conflict(
            "this build has parts that do not fit together: "
            + "; ".join(blocks)
            + ". Confirm that you want it anyway, or fix the build first.",
            code="blocks_not_acknowledged",
            details={"blocks": blocks},
        )
    return view, blocks


def _place(
    session: Session,
    build: SavedBuild,
    view: BuildView,
    blocks: list[str],
    ship: dict[str, str],
    *,
    customer_name: str,
    customer_email: str,
    customer_id: uuid.UUID | None,
    expected_total: Decimal | None,
) -> Order:
    """The Order of an evaluated, checked build: a line per part at the
    shop's current price, one for assembly, and shipping, as `quote` says."""
    price = quote(session, view)
    if expected_total is not None and expected_total != price.total:
        raise Conflict(
            "the price of this build changed while you were ordering; check the new total and order again",
            code="price_changed",
            details={"total": str(price.total)},
        )
    lines: list[LineInput] = []
    by_part: dict[str, LineInput] = {}
    for slot in slotmap.SLOTS:
        for priced in view.parts.get(slot, []):
            pid = str(priced.part.id)
            if pid in by_part:  # the same RAM kit (or drive) more than once
                by_part[pid].quantity += 1
                continue
            assert priced.price is not None  # every part is available (checked before)
            line = LineInput(
                sku=part_sku(slot, pid),
                title=priced.part.name,
                quantity=1,
                unit_price=Decimal(priced.price),
                properties={"_slot": slot, "_opendbId": pid},  # "_": the shop's own, not shown as the customer's words
            )
            by_part[pid] = line
            lines.append(line)
    if price.assembly:
        lines.append(
            LineInput(
                sku=ASSEMBLY_SKU,
                title="Assembly and testing",
                quantity=1,
                unit_price=price.assembly,
                properties={"kind": "assembly"},
            )
        )
    who = f"The customer acknowledged {len(blocks)} compatibility block(s): " + "; ".join(blocks)
    note = f"PC build “{build.name}” from the storefront builder" + (
        f". {who}" if blocks else "; no compatibility blocks."
    )
    order, _ = create_order(
        session,
        OrderInput(
            source="builder",
            lines=lines,
            customer_name=customer_name,
            customer_email=customer_email,
            customer_phone=ship["phone"],
            ship_name=ship["name"],
            ship_company=ship["company"],
            ship_street=ship["street"],
            ship_house_number=ship["house_number"],
            ship_address2=ship["address2"],
            ship_city=ship["city"],
            ship_postal_code=ship["postal_code"],
            ship_country_code=ship["country_code"],
            currency=price.currency,
            subtotal=price.subtotal,
            shipping_total=price.shipping,
            total=price.total,
            note=note[:2000],
        ),
    )
    order.customer_id = customer_id
    order.saved_build_id = build.id
    session.add(order)
    by = f"storefront customer {customer_email}" if customer_id else f"guest {customer_email}"
    log_event(
        session,
        order,
        "order.builder-build",
        f"Ordered by {by} from build “{build.name}”" + (" (compatibility blocks acknowledged)" if blocks else ""),
        severity="WARNING" if blocks else "INFO",
        meta={
            "savedBuildId": str(build.id),
            "customerId": str(customer_id) if customer_id else None,
            "blocks": blocks,
        },
    )
    session.flush()
    return order


def order_build(
    session: Session,
    customer: CustomerLike,
    build_id: uuid.UUID | str,
    address: Mapping,
    acknowledge_blocks: bool = False,
    *,
    expected_total: Decimal | None = None,
) -> Order:
    """Order an own saved build: an Order (source `builder`, B-00001…) whose
    lines are its parts at the shop's current prices plus assembly, with
    shipping (`quote`), for the staff orders page and the workbench. Refuses
    an empty build, parts the shop does not sell now, and — unless
    `acknowledge_blocks` — a build with `block` verdicts (Conflict,
    `details.blocks`). With `expected_total` (what the customer was shown),
    a different total is refused (Conflict `price_changed`)."""
    build = get_build(session, customer, build_id)
    account = get_customer(session, _cid(customer))
    view, blocks = _checked_view(session, slotmap.normalise(build.slots), acknowledge_blocks)
    ship = clean_address(address)
    return _place(
        session,
        build,
        view,
        blocks,
        ship,
        customer_name=account.name,
        customer_email=account.email,
        customer_id=account.id,
        expected_total=expected_total,
    )


def order_slots(
    session: Session,
    slots: Mapping,
    address: Mapping,
    *,
    customer: CustomerLike | None = None,
    email: str = "",
    acknowledge_blocks: bool = False,
    expected_total: Decimal | None = None,
) -> Order:
    """Order what the builder shows. A signed-in customer's build is kept in
    the account (an own build with the same parts is reused); a guest gives
    an email address, and the build is kept without an owner so staff see
    what was ordered. Same checks and amounts as `order_build`."""
    clean = slotmap.normalise(slots)
    view, blocks = _checked_view(session, clean, acknowledge_blocks)
    if customer is None:
        try:
            guest_email = normalise_email(email)
        except ValidationFailed:
            raise ValidationFailed(
                "enter a valid email address, so we can tell you about your order",
                details={"fields": {"email": "enter a valid email address"}},
            ) from None
    ship = clean_address(address)
    if customer is not None:
        account = get_customer(session, _cid(customer))
        own = [
            b
            for b in session.exec(
                select(SavedBuild)
                .where(SavedBuild.customer_id == account.id, col(SavedBuild.deleted_at).is_(None))
                .order_by(col(SavedBuild.updated_at).desc())
            )
            if slotmap.normalise(b.slots) == clean
        ]
        build = own[0] if own else _new_build(session, account.id, clean)
        return _place(
            session,
            build,
            view,
            blocks,
            ship,
            customer_name=account.name,
            customer_email=account.email,
            customer_id=account.id,
            expected_total=expected_total,
        )
    build = _new_build(session, None, clean, f"{DEFAULT_NAME} ({ship['name']})"[:MAX_NAME])
    return _place(
        session,
        build,
        view,
        blocks,
        ship,
        customer_name=ship["name"],
        customer_email=guest_email,
        customer_id=None,
        expected_total=expected_total,
    )
