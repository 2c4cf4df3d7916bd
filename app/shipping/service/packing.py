"""The packing bench: the orders ready to ship, one PDF of labels and packing
slips in pack order, a scan that finds an order, and the tracking board."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.builds import service as builds
from app.orders import service as orders
from app.orders.models import Order
from app.platform import storage
from app.platform.formatting import ShopFormat
from app.platform.models import Attachment, Tenant, utcnow
from app.platform.text import like_pattern
from app.shipping import documents, machine
from app.shipping.models import Shipment
from app.shipping.service.connection import connection
from app.shipping.service.shipments import carrier_name

READY_STEPS = ("ready", "packaging")
MAX_BATCH = 200  # orders in one labels PDF
# A parcel in transit this long without news stands out on the tracking board.
STUCK_AFTER = timedelta(days=4)


@dataclass
class BenchFilter:
    search: str = ""
    label: str = ""  # "" | ready (label made) | waiting (none yet) | problem (failed)
    page: int = 0
    page_size: int = 25


@dataclass(frozen=True)
class BenchRow:
    order: Order
    shipment: Shipment | None


def _bench_query(q, f: BenchFilter):
    q = q.where(col(Order.fulfillment_status).in_(READY_STEPS), Order.status != "CANCELLED")
    if f.search.strip():
        like = like_pattern(f.search.strip())
        q = q.where(
            or_(
                col(Order.number).ilike(like),
                col(Order.customer_name).ilike(like),
                col(Order.ship_city).ilike(like),
            )
        )
    if f.label == "ready":
        q = q.where(col(Shipment.label_attachment_id).is_not(None), Shipment.status != "CANCELLED")
    elif f.label == "problem":
        q = q.where(Shipment.status == "FAILED")
    elif f.label == "waiting":
        q = q.where(or_(col(Shipment.id).is_(None), col(Shipment.label_attachment_id).is_(None)))
    return q


def ready_to_ship(session: Session, f: BenchFilter) -> tuple[list[BenchRow], int]:
    """Orders produced and not yet gone, oldest first (the pack order)."""
    base = select(Order, Shipment).join(Shipment, col(Shipment.order_id) == col(Order.id), isouter=True)
    count = (
        select(func.count()).select_from(Order).join(Shipment, col(Shipment.order_id) == col(Order.id), isouter=True)
    )
    total = session.exec(_bench_query(count, f)).one()
    rows = session.exec(
        _bench_query(base, f)
        .order_by(col(Order.placed_at).asc(), col(Order.number).asc())
        .offset(max(0, f.page) * f.page_size)
        .limit(f.page_size)
    ).all()
    return [BenchRow(order, shipment) for order, shipment in rows], total


def bench_counts(session: Session) -> dict[str, int]:
    """How many orders wait on the bench, by label state."""
    rows = session.exec(
        select(Shipment.status, col(Shipment.label_attachment_id).is_not(None), func.count())
        .select_from(Order)
        .join(Shipment, col(Shipment.order_id) == col(Order.id), isouter=True)
        .where(col(Order.fulfillment_status).in_(READY_STEPS), Order.status != "CANCELLED")
        .group_by(Shipment.status, col(Shipment.label_attachment_id).is_not(None))
    ).all()
    counts = {"ready": 0, "waiting": 0, "problem": 0}
    for status, has_label, n in rows:
        if status == "FAILED":
            counts["problem"] += n
        elif has_label and status != "CANCELLED":
            counts["ready"] += n
        else:
            counts["waiting"] += n
    return counts


def find_by_scan(session: Session, text: str) -> Order | None:
    """What a scanner (or a person) typed: an order number ("#1042", "1042",
    "M-00012") or a parcel's tracking number."""
    value = text.strip()[:100]
    if not value:
        return None
    candidates = {value, value.upper(), value.lstrip("#"), "#" + value.lstrip("#")}
    order = session.exec(
        select(Order).where(col(Order.number).in_(candidates)).order_by(col(Order.placed_at).desc())
    ).first()
    if order is not None:
        return order
    shipment = session.exec(select(Shipment).where(func.upper(Shipment.tracking_number) == value.upper())).first()
    if shipment is not None:
        return session.get(Order, shipment.order_id)
    return session.exec(select(Order).where(func.upper(Order.tracking_number) == value.upper())).first()


# --- labels and packing slips ---------------------------------------------------------------------


def _grams(fmt: ShopFormat, grams: int) -> str:
    return f"{fmt.number(grams / 1000, 2)} kg" if grams >= 1000 else f"{grams} g"


def _ship_to(order: Order) -> tuple[str, ...]:
    street = " ".join(p for p in (order.ship_street, order.ship_house_number) if p)
    city = " ".join(p for p in (order.ship_postal_code, order.ship_city) if p)
    lines = (order.ship_name or order.customer_name, order.ship_company, street, order.ship_address2, city)
    return tuple(line for line in (*lines, order.ship_country_code) if line)


def _service_point(shipment: Shipment | None, order: Order) -> str:
    point = (shipment.service_point if shipment else None) or (
        order.service_point if order.delivery_type == "service_point" else {}
    )
    if not point:
        return ""
    name = point.get("name") or point.get("id") or ""
    street = " ".join(str(point[k]) for k in ("street", "house_number") if point.get(k))
    town = " ".join(str(point[k]) for k in ("postal_code", "city") if point.get(k))
    where = ", ".join(p for p in (street, town) if p)
    carrier = carrier_name(str(point.get("carrier") or ""))
    return f"{carrier + ' point' if carrier else 'Service point'}: {name}" + (f", {where}" if where else "")


def _build_photos(session: Session, order: Order, limit: int = 4) -> list[Attachment]:
    """The PC's photos a slip shows (a print order has none)."""
    if order.source != "builder":
        return []
    build = builds.build_for_order(session, order.id)
    if build is None:
        return []
    ids = [pid for pid in builds.photo_ids(build).values() if pid][:limit]
    if not ids:
        return []
    found = {a.id: a for a in session.exec(select(Attachment).where(col(Attachment.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def _photo_bytes(store: storage.TenantStorage, photos: list[Attachment]) -> tuple[bytes, ...]:
    found = []
    for attachment in photos:
        try:
            found.append(store.get(attachment.thumbnail_key or attachment.key).data)
        except Exception:  # a photo that went missing leaves a gap, not a failed batch
            continue
    return tuple(found)


def _slip(
    session: Session, order: Order, shipment: Shipment | None, fmt: ShopFormat, shop: str
) -> documents.PackingSlip:
    """The order's packing slip as it reads now (without its photos' bytes)."""
    lines = tuple(
        documents.SlipLine(title=li.title or li.sku, variant=li.variant_title, sku=li.sku, quantity=li.quantity)
        for li in orders.line_items(session, order.id)
        if li.status != "CANCELLED"
    )
    missing = ""
    if shipment is None or shipment.label_attachment_id is None or shipment.status == "CANCELLED":
        missing = (
            f"No carrier label: {shipment.error}"
            if shipment is not None and shipment.error
            else "No carrier label yet"
            if connection(session) is not None
            else "No carrier label: Sendcloud is not connected (write the carrier and tracking on the order)"
        )
    return documents.PackingSlip(
        order_number=order.number,
        placed_on=fmt.day(order.placed_at),
        shop_name=shop,
        customer_name=order.customer_name,
        ship_to=_ship_to(order),
        service_point=_service_point(shipment, order),
        shipping_method=(shipment.shipping_method_name if shipment else "") or "",
        carrier=carrier_name(shipment.carrier) if shipment else order.tracking_carrier,
        tracking_number=(shipment.tracking_number if shipment else "") or order.tracking_number,
        weight=_grams(fmt, shipment.weight_grams) if shipment and shipment.weight_grams else "",
        lines=lines,
        note=order.note,
        label_missing=missing,
    )


def _shop_name(session: Session, tenant_id: uuid.UUID) -> str:
    return session.exec(select(Tenant.name).where(Tenant.id == tenant_id)).first() or ""


def _slip_size(session: Session) -> str:
    conn = connection(session)
    return conn.label_format if conn else "a6"


def store_slip(session: Session, shipment_id: uuid.UUID | str, fmt: ShopFormat) -> bool:
    """Render the order's packing slip once its label is made and keep it
    beside the label: printing a batch then only joins PDFs. False when
    there is nothing to render (no label, or the stored one is current)."""
    shipment = session.get(Shipment, uuid.UUID(str(shipment_id)))
    if shipment is None or shipment.label_attachment_id is None or shipment.status == "CANCELLED":
        return False
    order = session.get(Order, shipment.order_id)
    if order is None:
        return False
    size = _slip_size(session)
    slip = _slip(session, order, shipment, fmt, _shop_name(session, order.tenant_id))
    photos = _build_photos(session, order)
    fingerprint = documents.slip_fingerprint(slip, size, [str(a.id) for a in photos])
    if fingerprint == shipment.slip_fingerprint and shipment.slip_attachment_id is not None:
        return False
    store = storage.for_tenant(order.tenant_id)
    pdf = documents.packing_slip_pdf(replace(slip, photos=_photo_bytes(store, photos)), page_size=size)
    key = f"shipping/slips/{shipment.id}-{fingerprint[:12]}.pdf"
    store.put(key, pdf, "application/pdf")
    attachment = Attachment(
        tenant_id=order.tenant_id,
        kind="packing_slip",
        key=key,
        filename=f"packing-slip-{order.number.lstrip('#')}.pdf"[:255],
        content_type="application/pdf",
        size=len(pdf),
    )
    session.add(attachment)
    shipment.slip_attachment_id, shipment.slip_fingerprint = attachment.id, fingerprint
    session.add(shipment)
    return True


@dataclass
class Batch:
    pdf: bytes
    orders: int
    labels: int
    missing: list[str] = field(default_factory=list)  # order numbers printed without a label
    reused_slips: int = 0  # slips rendered when their label was made


def labels_pdf(session: Session, order_ids: list[uuid.UUID], fmt: ShopFormat) -> Batch:
    """One PDF: each order's carrier label then its packing slip, in pack
    order (oldest first). Orders without a label get a marked page instead."""
    if not order_ids:
        raise ValueError("choose at least one order")
    ids = list(dict.fromkeys(order_ids))[:MAX_BATCH]
    found = list(
        session.exec(
            select(Order).where(col(Order.id).in_(ids)).order_by(col(Order.placed_at).asc(), col(Order.number).asc())
        )
    )
    if not found:
        raise ValueError("none of those orders exist")
    tenant_id = found[0].tenant_id
    store = storage.for_tenant(tenant_id)
    shop = _shop_name(session, tenant_id)
    size = _slip_size(session)
    by_order = {
        s.order_id: s for s in session.exec(select(Shipment).where(col(Shipment.order_id).in_([o.id for o in found])))
    }
    files = {
        a.id: a
        for a in session.exec(
            select(Attachment).where(
                col(Attachment.id).in_(
                    [i for s in by_order.values() for i in (s.label_attachment_id, s.slip_attachment_id) if i]
                )
            )
        )
    }
    items, missing, reused = [], [], 0
    for order in found:
        shipment = by_order.get(order.id)
        label = slip_pdf = None
        label_file = files.get(shipment.label_attachment_id) if shipment and shipment.label_attachment_id else None
        if label_file is not None and shipment is not None and shipment.status != "CANCELLED":
            label = store.get(label_file.key).data
        if label is None:
            missing.append(order.number)
        slip = _slip(session, order, shipment, fmt, shop)
        photos = _build_photos(session, order)
        slip_file = files.get(shipment.slip_attachment_id) if shipment and shipment.slip_attachment_id else None
        if slip_file is not None and shipment is not None:
            current = documents.slip_fingerprint(slip, size, [str(a.id) for a in photos])
            if current == shipment.slip_fingerprint:  # rendered when its label was made, and still true
                slip_pdf = store.get(slip_file.key).data
                reused += 1
        if slip_pdf is None and photos:
            slip = replace(slip, photos=_photo_bytes(store, photos))
        items.append(
            documents.PackItem(
                slip=slip,
                label_pdf=label,
                label_format=(shipment.label_format if shipment else None) or size,
                slip_pdf=slip_pdf,
            )
        )
    pdf = documents.batch_pdf(items, slip_size=size)
    return Batch(pdf=pdf, orders=len(found), labels=len(found) - len(missing), missing=missing, reused_slips=reused)


def label_file(session: Session, shipment_id: uuid.UUID | str) -> tuple[bytes, str]:
    """A shipment's carrier label PDF and its file name."""
    from app.platform.errors import NotFound

    shipment = session.get(Shipment, uuid.UUID(str(shipment_id))) if _uuid(shipment_id) else None
    if shipment is None or shipment.label_attachment_id is None:
        raise NotFound("no label for that shipment")
    attachment = session.get(Attachment, shipment.label_attachment_id)
    if attachment is None:
        raise NotFound("no label for that shipment")
    return storage.for_tenant(shipment.tenant_id).get(attachment.key).data, attachment.filename or "label.pdf"


def _uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- the tracking board ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingRow:
    shipment: Shipment
    order_number: str
    customer: str
    destination: str
    since: datetime  # when its last status came
    stuck: bool


def tracking_board(session: Session, *, limit: int = 200) -> list[TrackingRow]:
    """Parcels on their way (label made, announced, in transit, or in
    trouble), the longest-quiet first; stuck ones stand out."""
    rows = session.exec(
        select(Shipment, Order)
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .where(col(Shipment.status).in_(("LABEL_CREATED", "ANNOUNCED", "IN_TRANSIT", "FAILED")))
        .order_by(col(Shipment.status_changed_at).asc())
        .limit(limit)
    ).all()
    now = utcnow()
    out = []
    for shipment, order in rows:
        since = shipment.updated_at if shipment.status == "IN_TRANSIT" else shipment.status_changed_at
        stuck = (
            shipment.status == "FAILED"
            or (shipment.sendcloud_status_id in machine.WARNING_STATUS_IDS)
            or (shipment.status == "IN_TRANSIT" and now - since > STUCK_AFTER)
        )
        out.append(
            TrackingRow(
                shipment=shipment,
                order_number=order.number,
                customer=order.customer_name,
                destination=", ".join(p for p in (order.ship_city, order.ship_country_code) if p),
                since=since,
                stuck=stuck,
            )
        )
    out.sort(key=lambda r: (not r.stuck, r.since))
    return out


def shipment_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Shipment.status, func.count()).group_by(Shipment.status)).all()
    return {status: n for status, n in rows}
