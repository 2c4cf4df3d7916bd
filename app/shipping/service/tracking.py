"""Tracking (seed 003, the Shipping & Tracking flow): Sendcloud's parcel
status webhooks and a reconciliation poll move shipments, and each move is
mirrored on the order.

A reported step is applied at most once and never backwards:
- each step is stored once per (parcel, status, carrier timestamp): a
  redelivered webhook or a poll that sees the same step adds nothing;
- a step older (by the carrier's timestamp) than the last one applied is kept
  in the history but changes nothing: deliveries arrive out of order;
- the shipment machine refuses moves out of DELIVERED and CANCELLED and back
  from IN_TRANSIT, whatever the timestamps say.

Mirrored on the order: with the carrier → fulfillment shipped (Shopify gets
its fulfillment with tracking); new tracking later → Shopify's tracking is
updated; delivered → fulfillment completed; a carrier problem or a label
Sendcloud cancelled → a visible problem and a staff notification.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.integrations import sendcloud as sc
from app.orders import service as orders
from app.orders.models import Order
from app.platform.db import session_tenant_id, tenant_session
from app.platform.errors import DomainError, NotFound, Unauthorized
from app.platform.models import utcnow
from app.platform.notifications import notify_staff
from app.shipping import machine
from app.shipping.models import SendcloudConnection, Shipment, TrackingEvent
from app.shipping.service._common import changed
from app.shipping.service.connection import client, connection, route
from app.shipping.service.shipments import _set_status, apply_parcel_fields, carrier_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    """What one reported parcel status did: `outcome` is applied | duplicate
    | out-of-order | refused | unknown-parcel | no-change."""

    outcome: str
    shipment_id: uuid.UUID | None = None
    status: str = ""


def _find(session: Session, parcel: sc.Parcel) -> Shipment | None:
    q = select(Shipment).where(Shipment.sendcloud_parcel_id == parcel.id)
    shipment = session.exec(q.with_for_update()).first()
    if shipment is None and parcel.external_reference:
        # a parcel whose creation answer was lost: its reference is ours
        q = select(Shipment).where(Shipment.external_reference == parcel.external_reference)
        shipment = session.exec(q.with_for_update()).first()
    return shipment


def apply_parcel(session: Session, parcel: sc.Parcel, reported_at_ms: int, *, source: str) -> Applied:
    """Apply one reported status of a parcel (the webhook and the poll both
    come here). The shipment row is locked, so concurrent deliveries for the
    same parcel apply one after the other."""
    shipment = _find(session, parcel)
    if shipment is None:
        return Applied("unknown-parcel")
    if shipment.manual or (shipment.sendcloud_parcel_id and shipment.sendcloud_parcel_id != parcel.id):
        return Applied("unknown-parcel", shipment.id)  # an older label's parcel, since remade
    status_id = parcel.status_id if parcel.status_id is not None else 1337
    target = machine.status_for(status_id)
    stored = session.exec(
        insert(TrackingEvent)
        .values(
            id=uuid.uuid4(),
            tenant_id=shipment.tenant_id,
            shipment_id=shipment.id,
            sendcloud_status_id=status_id,
            message=(parcel.status_message or "")[:200],
            status=target or shipment.status,
            reported_at_ms=reported_at_ms,
            source=source,
            applied=False,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "shipment_id", "sendcloud_status_id", "reported_at_ms"])
        .returning(col(TrackingEvent.id))
    ).first()
    if stored is None:
        return Applied("duplicate", shipment.id, shipment.status)
    event_id = stored[0]
    if shipment.carrier_status_at_ms is not None and reported_at_ms < shipment.carrier_status_at_ms:
        return Applied("out-of-order", shipment.id, shipment.status)
    if target is not None and not machine.may_apply(shipment.status, target):
        return Applied("refused", shipment.id, shipment.status)
    event = session.get(TrackingEvent, event_id)
    if event is not None:
        event.applied = True
        session.add(event)
    previous_tracking = (shipment.tracking_number, shipment.tracking_url)
    apply_parcel_fields(shipment, parcel)
    shipment.carrier_status_at_ms = reported_at_ms
    shipment.sendcloud_status_id = status_id
    shipment.sendcloud_status = (parcel.status_message or "")[:200]
    shipment.updated_at = utcnow()
    session.add(shipment)
    previous = shipment.status
    if target is not None and target != previous:
        _set_status(session, shipment, target, message=parcel.status_message)
    order = session.get(Order, shipment.order_id)
    if order is not None:
        _mirror(session, order, shipment, previous, status_id, previous_tracking)
    changed(session, shipment.order_id)
    return Applied("applied" if target and target != previous else "no-change", shipment.id, shipment.status)


def _tracking(shipment: Shipment) -> orders.Tracking:
    return orders.Tracking(shipment.tracking_number, shipment.tracking_url, carrier_name(shipment.carrier))


def _mirror(
    session: Session,
    order: Order,
    shipment: Shipment,
    previous: str,
    status_id: int,
    previous_tracking: tuple[str, str],
) -> None:
    """What the parcel's new status means for its order (one place)."""
    status = shipment.status
    words = shipment.sendcloud_status or machine.SHIPMENT_STATUS.label(status)
    if status != previous:
        orders.log_event(
            session,
            order,
            "shipment.status-changed",
            f"Parcel: {words}",
            meta={"shipmentId": str(shipment.id), "previousStatus": previous, "newStatus": status},
        )
    if (shipment.tracking_number, shipment.tracking_url) != previous_tracking:
        orders.set_tracking(session, order, _tracking(shipment), reason="from Sendcloud")
    if status in machine.WITH_CARRIER:
        orders.ship_by_carrier(session, order, _tracking(shipment), reason=f"handed to {_carrier(shipment)}")
    if status == "DELIVERED":
        orders.deliver_by_carrier(session, order, reason=f"delivered by {_carrier(shipment)}")
    if status != previous and (status == "FAILED" or status_id in machine.WARNING_STATUS_IDS):
        _problem(session, order, f"{_carrier(shipment).capitalize()} reports: {words}")
    if status == "CANCELLED" and previous != "CANCELLED" and order.status != "CANCELLED":
        _problem(session, order, "Sendcloud cancelled this order's label; remake it on the order page")


def _carrier(shipment: Shipment) -> str:
    return carrier_name(shipment.carrier) or "the carrier"


def _problem(session: Session, order: Order, text: str) -> None:
    orders.log_event(session, order, "shipment.problem", text, severity="WARNING")
    notify_staff(
        session,
        kind="shipment.problem",
        severity="WARNING",
        title=f"Order {order.number}: shipping problem",
        body=text,
        link=f"/orders/{order.id}",
        order_id=order.id,
        permission="shipping.read",
    )


# --- the webhook --------------------------------------------------------------------------------


def handle_webhook(tenant_slug: str, raw_body: bytes, signature: str | None) -> str:
    """A Sendcloud delivery for one shop: verified with the shop's key,
    applied, answered with what it did. Anything we deliberately ignore is
    answered too (2xx), so Sendcloud does not retry it (contract §6); an
    unknown shop, a wrong signature or an unreadable body is refused."""
    found = route(tenant_slug)
    if found is None:
        raise NotFound("no shop takes Sendcloud webhooks here")
    tenant_id, secret = found
    if not sc.verify_webhook(raw_body, signature, secret):
        raise Unauthorized("the webhook signature is not valid")
    try:
        event = sc.parse_webhook(raw_body)
    except ValueError as exc:
        raise DomainError(str(exc)[:200]) from exc
    if event.action != "parcel_status_changed" or event.parcel is None:
        return f"ignored {event.action or 'event'}"
    reported = event.carrier_status_at_ms or event.timestamp_ms or int(time.time() * 1000)
    with tenant_session(tenant_id) as s:
        applied = apply_parcel(s, event.parcel, reported, source="webhook")
        s.commit()
    return applied.outcome


# --- reconciliation -------------------------------------------------------------------------------


def due(conn: SendcloudConnection) -> bool:
    return conn.last_poll_at is None or utcnow() - conn.last_poll_at >= timedelta(minutes=conn.reconcile_minutes)


def reconcile(session: Session, *, force: bool = False) -> dict[str, int]:
    """Ask Sendcloud for every parcel not yet delivered or cancelled and apply
    what webhooks missed. Counts of outcomes."""
    conn = connection(session)
    c = client(session)
    if conn is None or c is None or not (force or due(conn)):
        return {}
    open_ids = [
        pid
        for pid in session.exec(
            select(Shipment.sendcloud_parcel_id).where(
                col(Shipment.status).not_in(tuple(machine.TERMINAL)),
                col(Shipment.sendcloud_parcel_id).is_not(None),
                col(Shipment.manual).is_(False),
            )
        )
        if pid is not None
    ]
    counts: dict[str, int] = {}
    now_ms = int(time.time() * 1000)
    try:
        for start in range(0, len(open_ids), 100):
            for parcel in c.parcels(ids=open_ids[start : start + 100]):
                with session.begin_nested():
                    shipment = session.exec(select(Shipment).where(Shipment.sendcloud_parcel_id == parcel.id)).first()
                    if shipment is not None and shipment.sendcloud_status_id == parcel.status_id:
                        counts["no-change"] = counts.get("no-change", 0) + 1
                        continue
                    # a poll knows the status now, not when the carrier reported it
                    stamp = max(now_ms, (shipment.carrier_status_at_ms or 0) + 1 if shipment else now_ms)
                    outcome = apply_parcel(session, parcel, stamp, source="poll").outcome
                counts[outcome] = counts.get(outcome, 0) + 1
        conn.last_error = ""
    except sc.SendcloudError as exc:
        conn.last_error = f"Checking parcels with Sendcloud failed: {exc.message}"[:1000]
        log.warning("Sendcloud reconciliation of shop %s failed: %s", session_tenant_id(session), exc.message)
    conn.last_poll_at = utcnow()
    session.add(conn)
    return counts
