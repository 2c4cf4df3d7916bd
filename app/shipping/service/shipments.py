"""Shipments: one per order (seed 003: CreateShipment, CancelShipment,
GetShipmentsByOrderId), its Sendcloud parcel and label, and what staff change
before the label is made.

A label is asked for in the caller's transaction (`request_label`) and made
by the SHIPMENT retry operation after commit, so a Sendcloud hiccup is
retried with backoff and a refusal is shown on the order. Creation is
idempotent three times over: one shipment row per order (unique), at most
one open SHIPMENT entry per shipment, and Sendcloud's own `external_reference`
(looked up before creating), so a redelivered event or a double click never
makes a second parcel.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.integrations import sendcloud as sc
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import retry, storage
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, ValidationFailed
from app.platform.events import publish
from app.platform.models import Attachment, RetryEntry, utcnow
from app.printing.models import AssemblyPart, ProductMapping
from app.shipping import machine
from app.shipping.models import SendcloudConnection, Shipment, TrackingEvent
from app.shipping.service._common import SOURCE, changed
from app.shipping.service.connection import client, connection

# "SendcloudError: …" → "…": people read the reason, not the exception's name.
_ERROR_NAME = re.compile(r"^(?:[A-Za-z_.]*(?:Error|Exception): )+")
# Where a label may be made from: produced and not yet gone.
LABEL_STEPS = ("ready", "packaging")


def shipment_for_order(session: Session, order_id: uuid.UUID, *, lock: bool = False) -> Shipment | None:
    q = select(Shipment).where(Shipment.order_id == order_id)
    return session.exec(q.with_for_update() if lock else q).first()


def get_shipment(session: Session, shipment_id: uuid.UUID | str, *, lock: bool = False) -> Shipment:
    return get_or_404(session, Shipment, shipment_id, "shipment", lock=lock)


def shipments_for_orders(session: Session, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, Shipment]:
    if not order_ids:
        return {}
    rows = session.exec(select(Shipment).where(col(Shipment.order_id).in_(order_ids)))
    return {s.order_id: s for s in rows}


def tracking_history(session: Session, shipment_id: uuid.UUID) -> list[TrackingEvent]:
    """The parcel's steps, newest first (GetShipmentsByOrderId shows them)."""
    return list(
        session.exec(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment_id)
            .order_by(col(TrackingEvent.reported_at_ms).desc(), col(TrackingEvent.received_at).desc())
        )
    )


def external_reference(order: Order, attempt: int) -> str:
    """Unique per order and label attempt across the Sendcloud account: asking
    Sendcloud with it again finds the parcel made the first time."""
    return f"shopfloor-{order.id}-{attempt}"


# --- weight and size -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelSize:
    weight_grams: int
    length_cm: int | None
    width_cm: int | None
    height_cm: int | None
    basis: str  # how the weight was found, shown beside it


def parcel_size(session: Session, order: Order, conn: SendcloudConnection | None) -> ParcelSize:
    """A PC ships in its box (the shop's PC parcel); printed products weigh
    what their mapping says per packed unit, else what their parts' filament
    weighs; else the shop's default parcel."""
    default_weight = conn.default_weight_grams if conn else 500
    if order.source == "builder":
        if conn is None:
            return ParcelSize(12000, 60, 35, 55, "a PC's box")
        return ParcelSize(conn.pc_weight_grams, conn.pc_length_cm, conn.pc_width_cm, conn.pc_height_cm, "a PC's box")
    lines = orders.line_items(session, order.id)
    skus = {li.sku for li in lines if li.sku}
    mappings = (
        {m.sku: m for m in session.exec(select(ProductMapping).where(col(ProductMapping.sku).in_(skus)))}
        if skus
        else {}
    )
    filament: dict[uuid.UUID, float] = {}
    if mappings:
        rows = session.exec(
            select(
                AssemblyPart.product_mapping_id,
                func.sum(col(AssemblyPart.estimated_filament_g) * col(AssemblyPart.quantity_per_product)),
            )
            .where(col(AssemblyPart.product_mapping_id).in_([m.id for m in mappings.values()]))
            .group_by(col(AssemblyPart.product_mapping_id))
        )
        filament = {mid: float(grams or 0) for mid, grams in rows}
    total, known = 0.0, 0
    for li in lines:
        mapping = mappings.get(li.sku)
        if mapping is None:
            continue
        unit = mapping.weight_grams or filament.get(mapping.id) or 0
        if unit:
            total += unit * max(1, li.quantity)
            known += 1
    dims: tuple[int | None, int | None, int | None] = (
        (conn.default_length_cm, conn.default_width_cm, conn.default_height_cm) if conn else (None, None, None)
    )
    if len(lines) == 1 and lines[0].quantity == 1 and (m := mappings.get(lines[0].sku)) and m.length_cm:
        dims = (m.length_cm, m.width_cm, m.height_cm)
    if not known:
        return ParcelSize(default_weight, *dims, "the shop's default parcel")
    basis = "its products" if known == len(lines) else "its products (some unknown)"
    return ParcelSize(max(1, round(total)), *dims, basis)


# --- asking for a label ------------------------------------------------------------------------


def _open_entry(session: Session, shipment: Shipment) -> RetryEntry | None:
    return session.exec(
        select(RetryEntry).where(
            RetryEntry.job_type == "SHIPMENT",
            RetryEntry.order_id == shipment.order_id,
            col(RetryEntry.status).in_(("PENDING", "PROCESSING")),
        )
    ).first()


def _ensure_shipment(session: Session, order: Order, conn: SendcloudConnection | None) -> Shipment:
    """The order's shipment, made once (concurrent callers get the same row, locked)."""
    existing = shipment_for_order(session, order.id, lock=True)
    if existing is not None:
        return existing
    size = parcel_size(session, order, conn)
    to_point = order.delivery_type == "service_point" and bool(order.service_point)
    method_id, method_name = (
        (conn.service_point_method_id, conn.service_point_method_name)
        if conn and to_point
        else (conn.shipping_method_id, conn.shipping_method_name)
        if conn
        else (None, "")
    )
    session.exec(
        insert(Shipment)
        .values(
            id=uuid.uuid4(),
            tenant_id=session_tenant_id(session),
            order_id=order.id,
            status="PENDING",
            manual=False,
            attempt=1,
            external_reference=external_reference(order, 1),
            carrier="",
            tracking_number="",
            tracking_url="",
            label_format=conn.label_format if conn else "a6",
            weight_grams=size.weight_grams,
            length_cm=size.length_cm,
            width_cm=size.width_cm,
            height_cm=size.height_cm,
            shipping_method_id=method_id,
            shipping_method_name=method_name,
            service_point=dict(order.service_point or {}) if to_point else {},
            sendcloud_status="",
            slip_fingerprint="",
            error="",
            created_at=utcnow(),
            updated_at=utcnow(),
            status_changed_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "order_id"])
    )
    shipment = shipment_for_order(session, order.id, lock=True)
    assert shipment is not None  # inserted above, or by the caller that won the race
    return shipment


def label_problems(session: Session, order: Order) -> list[str]:
    """What stops a label being made for the order now (empty: nothing)."""
    if order.status == "CANCELLED":
        return ["the order is cancelled"]
    if order.fulfillment_status in ("shipped", "completed"):
        return ["the order has already shipped"]
    if order.fulfillment_status not in LABEL_STEPS:
        return ["the order is not produced yet (it must be ready or packing)"]
    if order.source == "builder" and order.fulfillment_status != "packaging":
        # a PC's label once its packaging passed its gate (build, photos, QA)
        return ["start packaging first (the PC must pass its packaging checks)"]
    problems = []
    if not order.ship_street and not (order.delivery_type == "service_point" and order.service_point):
        problems.append("the order has no shipping address")
    elif not (order.ship_city and order.ship_postal_code and order.ship_country_code):
        problems.append("the shipping address lacks a city, postal code or country")
    return problems


def request_label(
    session: Session, order: Order, *, actor: Principal | None = None, reason: str = ""
) -> Shipment | None:
    """CreateShipment: make sure the order has a shipment and its label is on
    its way. Idempotent. None in manual mode (no Sendcloud connection): staff
    record the carrier and tracking by hand."""
    conn = connection(session)
    if conn is None:
        return None
    problems = label_problems(session, order)
    if problems:
        raise InvalidTransition("cannot make a label yet: " + "; ".join(problems), details={"missing": problems})
    shipment = _ensure_shipment(session, order, conn)
    if shipment.status == "CANCELLED":
        _new_attempt(shipment, order)  # its label was voided: a new parcel
    if shipment.status not in ("PENDING", "FAILED") or shipment.manual:
        return shipment  # it has its label (or went with the carrier)
    if _open_entry(session, shipment) is not None:
        return shipment  # already being made
    if shipment.status == "FAILED":
        _set_status(session, shipment, "PENDING", message="trying again")
        shipment.error = ""
    session.add(shipment)
    retry.schedule(session, "SHIPMENT", order_id=order.id, payload={"shipmentId": str(shipment.id), "action": "create"})
    if actor is not None or reason:
        orders.log_event(
            session,
            order,
            "shipment.requested",
            "Label requested" + (f" by {actor.display_name}" if actor else "") + (f" ({reason})" if reason else ""),
            actor=actor,
        )
    changed(session, order.id)
    return shipment


def create_label(session: Session, order_id: uuid.UUID | str, *, actor: Principal) -> Shipment:
    """Staff's "Create label" (a PC once packaging passed its gate, or any
    order staff want to send now)."""
    actor.require("shipping.write")
    order = orders.get_order(session, order_id, lock=True)
    shipment = request_label(session, order, actor=actor)
    if shipment is None:
        raise Conflict("Sendcloud is not connected: record the carrier and tracking number when you ship it")
    return shipment


@dataclass(frozen=True)
class ParcelChange:
    weight_grams: int | None = None
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    shipping_method_id: int | None = None
    shipping_method_name: str | None = None


def _whole(value: int | None, low: int, high: int, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"{what} must be a whole number from {low} to {high}")
    return value


def update_parcel(
    session: Session, shipment_id: uuid.UUID | str, change: ParcelChange, *, actor: Principal
) -> Shipment:
    """Weight, size and method, while no label exists (a label made with
    other figures is remade: `remake_label`)."""
    actor.require("shipping.write")
    shipment = get_shipment(session, shipment_id, lock=True)
    if shipment.status not in ("PENDING", "FAILED") or shipment.sendcloud_parcel_id:
        raise InvalidTransition("the label is made; remake it to change the parcel")
    if change.weight_grams is not None:
        shipment.weight_grams = _whole(change.weight_grams, 1, 70_000, "the weight in grams") or 1
    dims = (change.length_cm, change.width_cm, change.height_cm)
    if any(d is not None for d in dims):
        if not all(d is not None for d in dims):
            raise ValidationFailed("give the length, width and height together (or none)")
        shipment.length_cm = _whole(change.length_cm, 1, 300, "the length in cm")
        shipment.width_cm = _whole(change.width_cm, 1, 300, "the width in cm")
        shipment.height_cm = _whole(change.height_cm, 1, 300, "the height in cm")
    if change.shipping_method_id is not None:
        shipment.shipping_method_id = change.shipping_method_id
        shipment.shipping_method_name = (change.shipping_method_name or "")[:200]
    shipment.updated_at = utcnow()
    session.add(shipment)
    changed(session, shipment.order_id)
    return shipment


# --- the SHIPMENT retry operation: make or void the label ----------------------------------------


def _parcel_request(session: Session, order: Order, shipment: Shipment, conn: SendcloudConnection) -> sc.ParcelRequest:
    lines: list[LineItem] = orders.line_items(session, order.id)
    priced = [li for li in lines if li.quantity > 0]
    unit_weight = shipment.weight_grams // max(1, sum(li.quantity for li in priced)) if priced else 0
    point = shipment.service_point or {}
    point_id = None
    if point.get("id") not in (None, ""):
        try:
            point_id = int(str(point["id"]))
        except ValueError:
            point_id = None
    return sc.ParcelRequest(
        name=order.ship_name or order.customer_name,
        company_name=order.ship_company,
        address=order.ship_street,
        house_number=order.ship_house_number,
        address_2=order.ship_address2,
        city=order.ship_city,
        postal_code=order.ship_postal_code,
        country=order.ship_country_code,
        telephone=order.customer_phone,
        email=order.customer_email,
        weight_grams=shipment.weight_grams,
        length_cm=shipment.length_cm,
        width_cm=shipment.width_cm,
        height_cm=shipment.height_cm,
        order_number=order.number,
        external_reference=shipment.external_reference,
        shipping_method_id=shipment.shipping_method_id or conn.shipping_method_id,
        sender_address_id=conn.sender_address_id,
        to_service_point=point_id,
        total_order_value=order.total,
        currency=order.currency,
        items=tuple(
            sc.ParcelItem(
                description=(li.title or li.sku or "item")[:255],
                quantity=max(1, li.quantity),
                weight_grams=max(1, unit_weight),
                value=Decimal(li.unit_price),
                sku=li.sku,
            )
            for li in priced
        ),
    )


def _set_status(session: Session, shipment: Shipment, status: str, *, message: str = "") -> str:
    previous = shipment.status
    if previous == status:
        return previous
    shipment.status = status
    shipment.updated_at = shipment.status_changed_at = utcnow()
    now = utcnow()
    if status == "LABEL_CREATED" and shipment.label_created_at is None:
        shipment.label_created_at = now
    if status in machine.WITH_CARRIER and shipment.handed_over_at is None:
        shipment.handed_over_at = now
    if status == "DELIVERED":
        shipment.delivered_at = now
    if status == "CANCELLED":
        shipment.cancelled_at = now
    session.add(shipment)
    publish(
        session,
        "shipment.status-changed",
        {
            "shipmentId": str(shipment.id),
            "orderId": str(shipment.order_id),
            "previousStatus": previous,
            "newStatus": status,
            "message": message,
        },
        source=SOURCE,
    )
    return previous


def _store_label(session: Session, shipment: Shipment, pdf: bytes) -> Attachment:
    key = f"shipping/labels/{shipment.id}-{shipment.attempt}.pdf"
    storage.for_tenant(shipment.tenant_id).put(key, pdf, "application/pdf")
    attachment = Attachment(
        tenant_id=shipment.tenant_id,
        kind="shipping_label",
        key=key,
        filename=f"label-{shipment.tracking_number or shipment.id}.pdf"[:255],
        content_type="application/pdf",
        size=len(pdf),
    )
    session.add(attachment)
    return attachment


def apply_parcel_fields(shipment: Shipment, parcel: sc.Parcel) -> None:
    """What Sendcloud says of the parcel: its id, carrier and tracking."""
    shipment.sendcloud_parcel_id = parcel.id
    shipment.carrier = (parcel.carrier or shipment.carrier)[:100]
    shipment.tracking_number = (parcel.tracking_number or shipment.tracking_number)[:100]
    shipment.tracking_url = (parcel.tracking_url or shipment.tracking_url)[:500]
    if parcel.shipping_method_id:
        shipment.shipping_method_id = parcel.shipping_method_id
        shipment.shipping_method_name = (parcel.shipping_method_name or shipment.shipping_method_name)[:200]


def carrier_name(code: str) -> str:
    """How people write a carrier Sendcloud names by code ("postnl" → "PostNL")."""
    known = {"postnl": "PostNL", "dhl": "DHL", "dpd": "DPD", "ups": "UPS", "gls": "GLS", "bpost": "bpost"}
    return known.get(code.lower(), code.upper() if len(code) <= 4 else code.title()) if code else ""


def make_label(session: Session, entry: RetryEntry) -> None:
    """One attempt at the label: find the parcel Sendcloud may already have
    (a lost answer), else create it; store the label PDF; fill the order's
    tracking; publish `shipment.created`."""
    shipment = get_shipment(session, entry.payload["shipmentId"], lock=True)
    if shipment.status not in ("PENDING", "FAILED") or shipment.manual:
        return  # made meanwhile, cancelled, or gone with the carrier
    order = orders.get_order(session, shipment.order_id)
    if order.status == "CANCELLED":
        _set_status(session, shipment, "CANCELLED", message="the order was cancelled")
        return
    conn = connection(session)
    c = client(session)
    if conn is None or c is None:
        raise retry.GiveUp("Sendcloud is not connected: record the carrier and tracking number by hand")
    if shipment.service_point and not shipment.shipping_method_id:
        raise retry.GiveUp(
            "No shipping method to service points is chosen: choose one in Settings › Integrations › Sendcloud"
        )
    if not (shipment.shipping_method_id or conn.shipping_method_id):
        raise retry.GiveUp(
            "No shipping method is chosen: choose the default one in Settings › Integrations › Sendcloud"
        )
    try:
        request = _parcel_request(session, order, shipment, conn)
    except ValueError as exc:  # what Sendcloud requires is missing (the address)
        raise retry.GiveUp(f"The label cannot be made: {exc}") from exc
    try:
        parcel = c.find_parcel(shipment.external_reference) or c.create_parcel(request)
        label = c.label_pdf(parcel.id, label_format=conn.label_format)
    except sc.SendcloudError as exc:
        if exc.transient:
            raise
        raise retry.GiveUp(f"Sendcloud refused the label: {exc.message}") from exc
    apply_parcel_fields(shipment, parcel)
    shipment.label_format = conn.label_format
    shipment.label_attachment_id = _store_label(session, shipment, label).id
    shipment.error = ""
    status = machine.status_for(parcel.status_id) or "LABEL_CREATED"
    if status in ("PENDING", "FAILED"):
        status = "LABEL_CREATED"  # we hold its label
    _set_status(session, shipment, status, message=parcel.status_message)
    session.add(
        TrackingEvent(
            tenant_id=shipment.tenant_id,
            shipment_id=shipment.id,
            sendcloud_status_id=parcel.status_id if parcel.status_id is not None else 1000,
            message=parcel.status_message or "Ready to send",
            status=status,
            reported_at_ms=int(utcnow().timestamp() * 1000),
            source="label",
        )
    )
    carrier = carrier_name(shipment.carrier)
    orders.set_tracking(
        session,
        order,
        orders.Tracking(shipment.tracking_number, shipment.tracking_url, carrier),
        reason="label made",
    )
    orders.log_event(
        session,
        order,
        "shipment.created",
        f"Label made: {carrier} {shipment.tracking_number}".strip(),
        meta={"shipmentId": str(shipment.id), "parcelId": parcel.id},
    )
    publish(
        session,
        "shipment.created",
        {
            "shipmentId": str(shipment.id),
            "orderId": str(order.id),
            "trackingNumber": shipment.tracking_number or None,
            "trackingUrl": shipment.tracking_url or None,
            "carrier": carrier or None,
        },
        source=SOURCE,
    )
    changed(session, order.id)


def void_at_sendcloud(session: Session, entry: RetryEntry) -> None:
    """Void a label whose order was cancelled while Sendcloud could not be reached."""
    shipment = get_shipment(session, entry.payload["shipmentId"], lock=True)
    c = client(session)
    if not shipment.sendcloud_parcel_id:
        return
    if c is None:
        raise retry.GiveUp("Sendcloud is not connected: void the label in the Sendcloud panel")
    try:
        outcome = c.cancel_parcel(shipment.sendcloud_parcel_id)
    except sc.SendcloudError as exc:
        if exc.transient:
            raise
        raise retry.GiveUp(f"Sendcloud could not void the label: {exc.message}") from exc
    shipment.sendcloud_status = "Cancellation requested" if outcome == "queued" else "Cancelled"
    session.add(shipment)


def label_gave_up(session: Session, entry: RetryEntry) -> None:
    """The last attempt failed: the shipment shows the problem, the order too."""
    shipment = session.get(Shipment, uuid.UUID(entry.payload["shipmentId"]))
    if shipment is None:
        return
    reason = _ERROR_NAME.sub("", entry.last_error or "") or "the label could not be made"
    if entry.payload.get("action") == "create" and shipment.status == "PENDING":
        shipment.error = reason[:1000]
        _set_status(session, shipment, "FAILED", message=reason[:200])
    order = session.get(Order, shipment.order_id)
    if order is not None:
        orders.log_event(session, order, "shipment.problem", reason, severity="ERROR")
    changed(session, shipment.order_id)


@retry.operation("SHIPMENT", on_give_up=label_gave_up)
def shipment_operation(session: Session, entry: RetryEntry) -> None:
    if entry.payload.get("action") == "void":
        void_at_sendcloud(session, entry)
    else:
        make_label(session, entry)


# --- cancelling --------------------------------------------------------------------------------


def _void(session: Session, shipment: Shipment, *, why: str) -> None:
    """Void the label at Sendcloud now (the shipment is locked). Refused with
    Conflict when the parcel is with the carrier; when Sendcloud cannot be
    reached, the void is retried from the queue."""
    if machine.WITH_CARRIER & {shipment.status}:
        raise Conflict(
            f"the parcel is already with the carrier ({machine.SHIPMENT_STATUS.label(shipment.status).lower()}); "
            "it can no longer be cancelled"
        )
    if shipment.status == "CANCELLED":
        return
    outcome = "cancelled"
    if shipment.sendcloud_parcel_id and not shipment.manual:
        c = client(session)
        if c is None:
            outcome = "not connected"
        else:
            try:
                outcome = c.cancel_parcel(shipment.sendcloud_parcel_id)
            except sc.SendcloudError as exc:
                if exc.cannot_cancel:
                    raise Conflict(
                        f"Sendcloud says the parcel is already with the carrier and can no longer be cancelled "
                        f"({exc.message})"
                    ) from exc
                if not exc.transient and not exc.not_found:
                    raise Conflict(f"Sendcloud could not void the label: {exc.message}") from exc
                if exc.transient:
                    retry.schedule(
                        session,
                        "SHIPMENT",
                        order_id=shipment.order_id,
                        payload={"shipmentId": str(shipment.id), "action": "void"},
                    )
                    outcome = "void queued"
    shipment.sendcloud_status = "Cancellation requested" if outcome == "queued" else shipment.sendcloud_status
    _set_status(session, shipment, "CANCELLED", message=why)
    order = session.get(Order, shipment.order_id)
    if order is not None:
        words = {
            "cancelled": "voided at Sendcloud",
            "deleted": "deleted at Sendcloud",
            "queued": "Sendcloud is voiding it",
            "void queued": "Sendcloud could not be reached; voiding it from the retry queue",
            "not connected": "Sendcloud is not connected: void it in the Sendcloud panel",
        }
        label = shipment.tracking_number or "without tracking"
        detail = words.get(outcome, outcome) if shipment.sendcloud_parcel_id else "no label had been made"
        orders.log_event(session, order, "shipment.cancelled", f"Label {label}: {detail} ({why})")
    changed(session, shipment.order_id)


@orders.on_cancel
def cancel_for_order(session: Session, order: Order, actor: Principal | None) -> None:
    """CancelShipment, in the order's cancellation: a label is voided; a
    parcel with the carrier refuses the cancellation (409)."""
    shipment = shipment_for_order(session, order.id, lock=True)
    if shipment is None:
        return
    _void(session, shipment, why="the order was cancelled")


def void_label(session: Session, shipment_id: uuid.UUID | str, *, actor: Principal) -> Shipment:
    """Staff void a label without cancelling the order (a wrong parcel);
    "Remake label" makes a new one."""
    actor.require("shipping.write")
    shipment = get_shipment(session, shipment_id, lock=True)
    _void(session, shipment, why=f"voided by {actor.display_name}")
    return shipment


def _new_attempt(shipment: Shipment, order: Order) -> None:
    """The order's next label: a new parcel at Sendcloud (its own external
    reference), whose lifecycle starts again."""
    shipment.attempt += 1
    shipment.external_reference = external_reference(order, shipment.attempt)
    shipment.sendcloud_parcel_id, shipment.label_attachment_id = None, None
    shipment.tracking_number = shipment.tracking_url = shipment.sendcloud_status = shipment.error = ""
    shipment.sendcloud_status_id, shipment.carrier_status_at_ms = None, None
    shipment.label_created_at = shipment.cancelled_at = shipment.handed_over_at = None
    shipment.manual = False
    shipment.status = "PENDING"
    shipment.status_changed_at = shipment.updated_at = utcnow()


def remake_label(session: Session, shipment_id: uuid.UUID | str, change: ParcelChange, *, actor: Principal) -> Shipment:
    """A new label for the order (wrong weight, method or a voided label): the
    old one is voided first, then the next attempt is made with `change`."""
    actor.require("shipping.write")
    shipment = get_shipment(session, shipment_id, lock=True)
    order = orders.get_order(session, shipment.order_id, lock=True)
    problems = label_problems(session, order)
    if problems:
        raise InvalidTransition("cannot make a label now: " + "; ".join(problems), details={"missing": problems})
    if shipment.status != "CANCELLED":
        _void(session, shipment, why=f"remade by {actor.display_name}")
    _new_attempt(shipment, order)
    session.add(shipment)
    session.flush()
    update_parcel(session, shipment.id, change, actor=actor)
    result = request_label(session, order, actor=actor, reason="remade")
    assert result is not None or connection(session) is None
    return shipment


# --- manual mode -----------------------------------------------------------------------------


def record_manual(session: Session, order: Order) -> Shipment | None:
    """Staff shipped an order by hand (manual mode): its parcel is recorded
    from the order's tracking, so the tracking board shows it too."""
    existing = shipment_for_order(session, order.id, lock=True)
    if existing is not None and existing.status not in ("PENDING", "FAILED", "CANCELLED"):
        return existing  # its label's parcel is what went
    if existing is None:
        existing = _ensure_shipment(session, order, connection(session))
    existing.manual = True
    existing.carrier = order.tracking_carrier[:100]
    existing.tracking_number = order.tracking_number[:100]
    existing.tracking_url = order.tracking_url[:500]
    existing.sendcloud_status = "Shipped by hand"
    _set_status(session, existing, "IN_TRANSIT", message="shipped by hand")
    changed(session, order.id)
    return existing


def deliver_manual(session: Session, order: Order) -> None:
    """Staff marked a hand-shipped order delivered."""
    shipment = shipment_for_order(session, order.id, lock=True)
    if shipment is not None and shipment.manual and shipment.status == "IN_TRANSIT":
        _set_status(session, shipment, "DELIVERED", message="marked delivered by staff")
        changed(session, order.id)
