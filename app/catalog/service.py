"""Catalog operations: the global parts catalog (imports, counts, search) and
each shop's offers on it (price lists, single edits, the demo price list).

Global tables (`catalog_parts`, `catalog_imports`) are read and written with
`platform_session()`; offers and price-list imports only with the tenant's
session. Every committed change to a tenant's offers bumps its offers version
(`offers_version`), and every catalog import that changed parts bumps the
catalog version (`catalog_version`), so in-memory caches know to reload.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, cast, func, literal_column, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from app.catalog import importer, pricelist
from app.catalog.models import CatalogImport, CatalogPart, PartOffer, PriceListImport
from app.catalog.slots import SLOT_TITLES, SLOTS
from app.catalog.versions import bump_catalog_version, bump_offers_version, catalog_version, offers_version
from app.platform import audit, config, live, tasks
from app.platform.auth import Principal
from app.platform.db import on_commit, platform_session, session_tenant_id, tenant_session
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import EventLog, utcnow

log = logging.getLogger(__name__)

__all__ = [
    "CATALOG_CHANNEL",
    "SLOTS",
    "SLOT_TITLES",
    "OfferFilter",
    "PartFilter",
    "bump_catalog_version",
    "bump_offers_version",
    "catalog_empty",
    "catalog_version",
    "deactivate_offer",
    "get_import",
    "get_part",
    "has_demo_prices",
    "import_catalog",
    "import_price_list",
    "latest_import",
    "list_offers",
    "list_parts",
    "list_price_lists",
    "offer_counts",
    "offers_version",
    "queue_import",
    "set_offer",
    "shop_currency",
    "slot_counts",
    "upsert_offers",
]

CATALOG_CHANNEL = importer.CATALOG_CHANNEL
import_catalog = importer.import_catalog
MAX_STORED_ERRORS = 1000


# --- versions bumped after commit -------------------------------------------------------


def _offers_changed(session: Session) -> None:
    """Bump the tenant's offers version and tell open pages, once this commits."""
    tenant_id = session_tenant_id(session)

    def bump() -> None:
        bump_offers_version(tenant_id)

    on_commit(session, bump, key="catalog.offers-version")
    live.notify_after_commit(session, "offers")


# --- the catalog (global) -------------------------------------------------------------------


@dataclass
class PartFilter:
    search: str = ""
    slot: str = ""
    page: int = 0
    page_size: int = 25


def _check_slot(slot: str) -> str:
    slot = (slot or "").strip().lower()
    if slot and slot not in SLOTS:
        raise ValidationFailed(f"unknown slot '{slot}' (one of {', '.join(SLOTS)})")
    return slot


def _search(q, search: str):
    for word in search.split()[:6]:
        like = f"%{word}%"
        q = q.where(
            or_(
                col(CatalogPart.name).ilike(like),
                col(CatalogPart.manufacturer).ilike(like),
                cast(CatalogPart.id, String).ilike(like),
            )
        )
    return q


def slot_counts(session: Session | None = None) -> dict[str, int]:
    """Parts per slot (every slot listed, in SLOTS order)."""

    def run(s: Session) -> dict[str, int]:
        found = dict(s.execute(select(col(CatalogPart.slot), func.count()).group_by(col(CatalogPart.slot))).all())
        return {slot: found.get(slot, 0) for slot in SLOTS}

    if session is not None:
        return run(session)
    with platform_session() as s:
        return run(s)


def catalog_empty() -> bool:
    with platform_session() as s:
        return s.execute(select(col(CatalogPart.id)).limit(1)).first() is None


def list_parts(session: Session, f: PartFilter) -> tuple[list[CatalogPart], int]:
    slot = _check_slot(f.slot)
    q = select(CatalogPart)
    cq = select(func.count()).select_from(CatalogPart)
    if slot:
        q, cq = q.where(col(CatalogPart.slot) == slot), cq.where(col(CatalogPart.slot) == slot)
    if f.search.strip():
        q, cq = _search(q, f.search), _search(cq, f.search)
    total = session.execute(cq).scalar_one()
    rows = (
        session.execute(
            q.order_by(col(CatalogPart.slot), col(CatalogPart.name), col(CatalogPart.id))
            .offset(max(0, f.page) * f.page_size)
            .limit(f.page_size)
        )
        .scalars()
        .all()
    )
    return list(rows), total


def get_part(session: Session, part_id: uuid.UUID | str) -> CatalogPart:
    try:
        ident = part_id if isinstance(part_id, uuid.UUID) else uuid.UUID(str(part_id))
    except ValueError as exc:
        raise NotFound("no such part") from exc
    part = session.get(CatalogPart, ident)
    if part is None:
        raise NotFound("no such part")
    return part


# --- catalog imports --------------------------------------------------------------------------


def queue_import(actor: Principal) -> CatalogImport:
    """Queue a catalog import job (global; needs catalog.write); audited in the
    actor's tenant. Refuses while another import is queued or running."""
    actor.require("catalog.write")
    run = importer.create_run(started_by=actor.display_name or actor.username)
    with tenant_session(actor.tenant_id) as s:
        audit.record(
            s, "catalog.import.started", actor_user_id=actor.user_id, target_type="catalog_import", target_id=run.id
        )
        s.commit()
    tasks.enqueue(
        "jobs.catalog.run_import",
        str(run.id),
        queue_name="default",
        retry=False,
        job_timeout=1800,
        job_id=importer.job_id(run.id),
        description=f"catalog import {run.id}",
    )
    return run


def latest_import() -> CatalogImport | None:
    return importer.latest_run()


def get_import(run_id: uuid.UUID | str) -> CatalogImport:
    return importer.get_run(run_id)


# --- offers (tenant) ----------------------------------------------------------------------------


def shop_currency(session: Session) -> str:
    value = config.get(session, "shop.currency")
    return value if isinstance(value, str) and len(value) == 3 else "EUR"


@dataclass
class OfferFilter:
    search: str = ""
    slot: str = ""
    status: str = ""  # "" | active | inactive | demo | unsold (unsold: only with whole_catalog)
    sort: str = "name"  # name | manufacturer | slot | price | stock | updated
    descending: bool = False
    page: int = 0
    page_size: int = 25
    whole_catalog: bool = False  # every catalog part, with this shop's offer where there is one


OFFER_SORTS = {
    "name": CatalogPart.name,
    "manufacturer": CatalogPart.manufacturer,
    "slot": CatalogPart.slot,
    "price": PartOffer.price,
    "stock": PartOffer.stock,
    "updated": PartOffer.updated_at,
}


def _offer_filtered(q, f: OfferFilter):
    slot = _check_slot(f.slot)
    if slot:
        q = q.where(col(CatalogPart.slot) == slot)
    if f.status == "active":
        q = q.where(col(PartOffer.active).is_(True))
    elif f.status == "inactive":
        q = q.where(col(PartOffer.active).is_(False))
    elif f.status == "demo":
        q = q.where(col(PartOffer.is_demo).is_(True))
    elif f.status == "unsold":
        q = q.where(col(PartOffer.id).is_(None))
    if f.search.strip():
        q = _search(q, f.search)
    return q


def list_offers(session: Session, f: OfferFilter) -> tuple[list[tuple[PartOffer | None, CatalogPart]], int]:
    """This shop's offers with their parts (or, with `whole_catalog`, every
    part with its offer or None), filtered, sorted and paged."""

    def joined(q):
        if f.whole_catalog:
            return q.select_from(CatalogPart).outerjoin(PartOffer, PartOffer.part_id == CatalogPart.id)
        return q.select_from(PartOffer).join(CatalogPart, CatalogPart.id == PartOffer.part_id)

    total = session.execute(_offer_filtered(joined(select(func.count())), f)).scalar_one()
    sort_col = OFFER_SORTS.get(f.sort, CatalogPart.name)
    order = sort_col.desc().nulls_last() if f.descending else sort_col.asc().nulls_last()
    q = _offer_filtered(joined(select(PartOffer, CatalogPart)), f).order_by(
        order, col(CatalogPart.name), col(CatalogPart.id)
    )
    rows = session.execute(q.offset(max(0, f.page) * f.page_size).limit(f.page_size)).all()
    return [(o, p) for o, p in rows], total


def offer_counts(session: Session) -> dict[str, dict[str, int]]:
    """Per slot: offers, active offers, demo offers."""
    rows = session.execute(
        select(
            col(PartOffer.slot),
            func.count(),
            func.count().filter(col(PartOffer.active)),
            func.count().filter(col(PartOffer.is_demo)),
        ).group_by(col(PartOffer.slot))
    ).all()
    found = {slot: {"offers": n, "active": a, "demo": d} for slot, n, a, d in rows}
    return {slot: found.get(slot, {"offers": 0, "active": 0, "demo": 0}) for slot in SLOTS}


@dataclass
class OfferInput:
    part_id: uuid.UUID
    price: Decimal
    stock: int
    currency: str
    active: bool = True
    is_demo: bool = False


def upsert_offers(session: Session, items: list[OfferInput]) -> tuple[int, int, int]:
    """Create or change this shop's offers; returns (created, updated, unchanged).
    Parts must exist (callers check); an offer equal in every field is left alone."""
    if not items:
        return 0, 0, 0
    tid = session_tenant_id(session)
    slots = dict(
        session.execute(
            select(col(CatalogPart.id), col(CatalogPart.slot)).where(
                col(CatalogPart.id).in_([i.part_id for i in items])
            )
        ).all()
    )
    created = updated = 0
    now = utcnow()
    for start in range(0, len(items), 1000):
        chunk = [i for i in items[start : start + 1000] if i.part_id in slots]
        if not chunk:
            continue
        stmt = insert(PartOffer).values(
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tid,
                    "part_id": i.part_id,
                    "slot": slots[i.part_id],
                    "price": i.price,
                    "currency": i.currency,
                    "stock": i.stock,
                    "active": i.active,
                    "is_demo": i.is_demo,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in chunk
            ]
        )
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "part_id"],
            set_={
                "price": ex.price,
                "currency": ex.currency,
                "stock": ex.stock,
                "active": ex.active,
                "is_demo": ex.is_demo,
                "slot": ex.slot,
                "updated_at": ex.updated_at,
            },
            where=tuple_(
                PartOffer.price, PartOffer.currency, PartOffer.stock, PartOffer.active, PartOffer.is_demo
            ).is_distinct_from(tuple_(ex.price, ex.currency, ex.stock, ex.active, ex.is_demo)),
        ).returning(literal_column("xmax = 0"))
        for (inserted,) in session.execute(stmt):
            created += bool(inserted)
            updated += not inserted
    if created or updated:
        _offers_changed(session)
    return created, updated, len(items) - created - updated


def _offer_log(session: Session, event_type: str, message: str, actor: Principal | None, meta: dict) -> None:
    session.add(
        EventLog(
            tenant_id=session_tenant_id(session),
            event_type=event_type,
            message=message[:2000],
            actor_user_id=actor.user_id if actor else None,
            meta=meta,
        )
    )


def set_offer(
    session: Session,
    part_id: uuid.UUID | str,
    *,
    price: Decimal | str,
    stock: int,
    active: bool = True,
    currency: str | None = None,
    actor: Principal | None,
) -> PartOffer:
    """Sell one part at a price (creates or changes the offer)."""
    if actor is not None:
        actor.require("catalog.write")
    part = get_part(session, part_id)
    try:
        amount = pricelist.parse_price(str(price))
        count = pricelist.parse_stock(str(stock))
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    cur = (currency or shop_currency(session)).upper()
    if cur != shop_currency(session):
        raise ValidationFailed(f"this shop sells in {shop_currency(session)}, not {cur}")
    created, updated, _ = upsert_offers(session, [OfferInput(part.id, amount, count, cur, active)])
    if created or updated:
        _offer_log(
            session,
            "catalog.offer-changed",
            f"{part.name}: {cur} {amount} · {count} in stock" + ("" if active else " · not for sale"),
            actor,
            {"partId": str(part.id)},
        )
    return session.execute(select(PartOffer).where(col(PartOffer.part_id) == part.id)).scalar_one()


def deactivate_offer(session: Session, part_id: uuid.UUID | str, *, actor: Principal | None) -> PartOffer:
    """Stop selling a part (the offer stays, inactive)."""
    if actor is not None:
        actor.require("catalog.write")
    part = get_part(session, part_id)
    offer = session.execute(
        select(PartOffer).where(col(PartOffer.part_id) == part.id).with_for_update()
    ).scalar_one_or_none()
    if offer is None:
        raise NotFound("this shop has no offer for that part")
    if offer.active:
        offer.active, offer.updated_at = False, utcnow()
        session.add(offer)
        _offers_changed(session)
        _offer_log(
            session, "catalog.offer-changed", f"{part.name}: no longer for sale", actor, {"partId": str(part.id)}
        )
    return offer


# --- price lists ----------------------------------------------------------------------------------


def import_price_list(
    session: Session, csv_text: str | bytes, filename: str = "", actor: Principal | None = None
) -> PriceListImport:
    """Apply a price list (CSV `opendb_id,price,stock[,currency][,active]`).

    Valid rows become offers (created/updated/unchanged); bad rows are listed
    with their row number and reason and skipped. A file that cannot be read
    as a price list at all raises ValidationFailed and changes nothing."""
    if actor is not None:
        actor.require("catalog.write")
    name = (filename or "price-list.csv").strip()[:255]
    if name.lower().rsplit(".", 1)[-1] not in ("csv", "txt", "tsv") and "." in name:
        raise ValidationFailed(f"{name} is not a CSV file", code="not_csv")
    parsed = pricelist.parse(csv_text)
    errors = list(parsed.errors)
    currency = shop_currency(session)
    known = set()
    ids = [r.part_id for r in parsed.rows]
    for start in range(0, len(ids), 5000):
        known |= set(
            session.execute(
                select(col(CatalogPart.id)).where(col(CatalogPart.id).in_(ids[start : start + 5000]))
            ).scalars()
        )
    items = []
    for row in parsed.rows:
        if row.part_id not in known:
            errors.append(pricelist.RowError(row.row, str(row.part_id), "unknown part: not in the catalog"))
        elif row.currency and row.currency != currency:
            errors.append(
                pricelist.RowError(
                    row.row, str(row.part_id), f"currency {row.currency} differs from the shop's {currency}"
                )
            )
        else:
            items.append(OfferInput(row.part_id, row.price, row.stock, currency, row.active))
    created, updated, unchanged = upsert_offers(session, items)
    errors.sort(key=lambda e: e.row)
    result = PriceListImport(
        tenant_id=session_tenant_id(session),
        filename=name,
        status="COMPLETED",
        rows_total=parsed.total,
        created=created,
        updated=updated,
        unchanged=unchanged,
        failed=len(errors),
        errors=[e.as_dict() for e in errors[:MAX_STORED_ERRORS]],
        created_by_id=actor.user_id if actor else None,
    )
    session.add(result)
    session.flush()
    summary = (
        f"Price list {name}: {created} new, {updated} changed, {unchanged} unchanged, {len(errors)} row(s) with errors"
    )
    _offer_log(
        session,
        "catalog.price-list-imported",
        summary,
        actor,
        {
            "priceListImportId": str(result.id),
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "failed": len(errors),
        },
    )
    audit.record(
        session,
        "catalog.price-list.imported",
        actor_user_id=actor.user_id if actor else None,
        target_type="price_list_import",
        target_id=result.id,
        meta={"filename": name, "rows": parsed.total, "created": created, "updated": updated, "failed": len(errors)},
    )
    return result


def list_price_lists(session: Session, limit: int = 20) -> list[PriceListImport]:
    return list(
        session.execute(select(PriceListImport).order_by(col(PriceListImport.created_at).desc()).limit(limit)).scalars()
    )


# --- demo ---------------------------------------------------------------------------------------------


def has_demo_prices(session: Session) -> bool:
    """Whether the shop sells anything at demo prices (the storefront says so)."""
    return (
        session.execute(select(col(PartOffer.id)).where(col(PartOffer.is_demo), col(PartOffer.active)).limit(1)).first()
        is not None
    )
