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
from collections.abc import Callable
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
from app.platform.errors import Forbidden, NotFound, ValidationFailed
from app.platform.models import EventLog, Tenant, utcnow
from app.platform.permissions import is_platform_operator
from app.platform.text import like_pattern

log = logging.getLogger(__name__)

__all__ = [
    "CATALOG_CHANNEL",
    "PARTS_LOW_THRESHOLD_KEY",
    "SLOTS",
    "SLOT_TITLES",
    "OfferFilter",
    "PartFilter",
    "StockChange",
    "availability_words",
    "bump_catalog_version",
    "bump_offers_version",
    "can_import_catalog",
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
    "offers_changed",
    "offers_version",
    "on_stock_change",
    "part_sku",
    "parts_low_threshold",
    "queue_import",
    "reserved_source",
    "reserved_units",
    "set_offer",
    "shop_currency",
    "slot_counts",
    "started_by_label",
    "upsert_offers",
]

CATALOG_CHANNEL = importer.CATALOG_CHANNEL


def part_sku(slot: str, part_id: object) -> str:
    """The SKU a sold part carries on an order line ("PC-CPU-1a2b3c4d"): the
    builder writes it, and staff typing a manual order find the part by it."""
    return f"PC-{slot.upper()}-{str(part_id)[:8]}"


import_catalog = importer.import_catalog
MAX_STORED_ERRORS = 1000


# --- versions bumped after commit -------------------------------------------------------


def offers_changed(session: Session) -> None:
    """Bump the tenant's offers version and tell open pages, once this commits
    (also what a domain above calls after it changed what the offers show:
    inventory, after a reservation moved a part's availability)."""
    tenant_id = session_tenant_id(session)

    def bump() -> None:
        bump_offers_version(tenant_id)

    on_commit(session, bump, key="catalog.offers-version")
    live.notify_after_commit(session, "offers")


# --- what domains above hook in -------------------------------------------------------------


@dataclass(frozen=True)
class StockChange:
    """An offer's units on hand moved from `before` to `after` (0 before: a new offer)."""

    offer_id: uuid.UUID
    part_id: uuid.UUID
    before: int
    after: int


# Called in the same transaction whenever a price list, an offer edit or the
# demo prices change offers' stock: (session, changes, reason, actor). The
# inventory domain writes each change into its ledger.
StockChangeHook = Callable[[Session, list[StockChange], str, Principal | None], None]
STOCK_CHANGE_HOOKS: list[StockChangeHook] = []

# Units of a slot's parts held for orders not yet built, per part id (str):
# what the builder takes off the stock to show what is available. The
# inventory domain answers with its active reservations.
ReservedSource = Callable[[Session, str], dict[str, int]]
RESERVED_SOURCES: list[ReservedSource] = []

# The shop's low-stock threshold for PC parts: at most this many available is
# "2 left" in the builder and low on the parts page (staff hear of it).
PARTS_LOW_THRESHOLD_KEY = "stock.parts.low_threshold"
DEFAULT_PARTS_LOW_THRESHOLD = 2
MAX_PARTS_LOW_THRESHOLD = 1000


def on_stock_change(hook: StockChangeHook) -> StockChangeHook:
    STOCK_CHANGE_HOOKS.append(hook)
    return hook


def reserved_source(source: ReservedSource) -> ReservedSource:
    RESERVED_SOURCES.append(source)
    return source


def reserved_units(session: Session, slot: str) -> dict[str, int]:
    """Units of `slot`'s parts held for orders, per part id (none: {})."""
    total: dict[str, int] = {}
    for source in RESERVED_SOURCES:
        for part_id, units in source(session, slot).items():
            total[part_id] = total.get(part_id, 0) + units
    return total


def parts_low_threshold(session: Session) -> int:
    """The shop's low-stock threshold for parts (a bad stored value: the default)."""
    value = config.get(session, PARTS_LOW_THRESHOLD_KEY, DEFAULT_PARTS_LOW_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return DEFAULT_PARTS_LOW_THRESHOLD
    try:
        number = int(value)
    except ValueError:
        return DEFAULT_PARTS_LOW_THRESHOLD
    return number if 0 <= number <= MAX_PARTS_LOW_THRESHOLD else DEFAULT_PARTS_LOW_THRESHOLD


def availability_words(available: int, threshold: int) -> str:
    """What a shopper reads about a part: "In stock", "2 left" (1 up to the
    threshold) or "Back-order" (none available: it is ordered in for them)."""
    if available <= 0:
        return "Back-order"
    if available <= threshold:
        return f"{available} left"
    return "In stock"


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
        like = like_pattern(word)
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


def can_import_catalog(actor: Principal) -> bool:
    """The parts catalog is shared by every shop, so re-importing it is
    platform work: only a platform operator may (no shop role grants it, not
    even a shop's admin). The command line (`catalog-import`) is the other
    door, for whoever runs the servers."""
    return is_platform_operator(actor.tenant_id, actor.user_id)


def queue_import(actor: Principal) -> CatalogImport:
    """Queue a catalog import job (global; platform operators only); audited
    in the actor's tenant. Refuses while another import is queued or running."""
    if not can_import_catalog(actor):
        raise Forbidden("only a platform operator can re-import the parts catalog shared by every shop")
    run = importer.create_run(started_by=actor.display_name or actor.username, started_by_tenant_id=actor.tenant_id)
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


def started_by_label(run: CatalogImport, tenant_id: uuid.UUID) -> str:
    """Who started an import, as this shop may see it: a name only for its own
    users; "another shop" or "the platform" (command line, demo) otherwise."""
    if run.started_by_tenant_id is None:
        return "the platform"
    if run.started_by_tenant_id != tenant_id:
        return "another shop"
    return run.started_by or "someone in this shop"


def latest_import() -> CatalogImport | None:
    return importer.latest_run()


def get_import(run_id: uuid.UUID | str) -> CatalogImport:
    return importer.get_run(run_id)


# --- offers (tenant) ----------------------------------------------------------------------------


def shop_currency(session: Session) -> str:
    """The currency the shop sells in (Settings › Shop): prices are kept in it."""
    tenant = session.get(Tenant, session_tenant_id(session))
    return tenant.currency if tenant is not None else "EUR"


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


def upsert_offers(
    session: Session, items: list[OfferInput], *, reason: str = "offer edited", actor: Principal | None = None
) -> tuple[int, int, int]:
    """Create or change this shop's offers; returns (created, updated, unchanged).
    Parts must exist (callers check); an offer equal in every field is left alone.
    Offers whose stock moved are handed to the stock-change hooks with `reason`
    (their rows stay locked from the read of the old figure to the commit)."""
    if not items:
        return 0, 0, 0
    watched = bool(STOCK_CHANGE_HOOKS)
    changes: list[StockChange] = []
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
        before: dict[uuid.UUID, int] = {}
        if watched:
            before = dict(
                session.execute(
                    select(col(PartOffer.part_id), col(PartOffer.stock))
                    .where(col(PartOffer.part_id).in_([i.part_id for i in chunk]))
                    .order_by(col(PartOffer.id))
                    .with_for_update()
                ).all()
            )
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
        ).returning(literal_column("xmax = 0"), col(PartOffer.id), col(PartOffer.part_id), col(PartOffer.stock))
        for inserted, offer_id, part_id, stock in session.execute(stmt):
            created += bool(inserted)
            updated += not inserted
            old = 0 if inserted else before.get(part_id, 0)
            if watched and old != stock:
                changes.append(StockChange(offer_id, part_id, old, stock))
    if created or updated:
        offers_changed(session)
    if changes:
        for hook in STOCK_CHANGE_HOOKS:
            hook(session, changes, reason, actor)
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
    sells_in = shop_currency(session)
    cur = (currency or sells_in).upper()
    if cur != sells_in:
        raise ValidationFailed(f"this shop sells in {sells_in}, not {cur}")
    created, updated, _ = upsert_offers(
        session, [OfferInput(part.id, amount, count, cur, active)], reason="offer edited", actor=actor
    )
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
        offers_changed(session)
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
    created, updated, unchanged = upsert_offers(session, items, reason=f"price list {name}", actor=actor)
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
