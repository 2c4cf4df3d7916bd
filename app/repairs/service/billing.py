"""Dispatches, invoices and credit notes, and their PDFs.

A dispatch gathers a client's assets that are ready to leave (repaired and
checked, or going back unrepaired); an asset is in at most one open dispatch.
Finalizing a dispatch is idempotent, as the seed decided: the dispatch row is
locked first and a dispatch already finalized returns at once, so a double
click or a retried request gives one dispatch, one invoice and one event.
Finalizing moves the assets to dispatched and writes the invoice draft: a line
per repair code done (priced by the shop's price rules; a code without a rule
gets a line at 0 that the draft flags until someone prices it), a line per
spare part kept (its cost with the shop's markup) and, for an asset going back
unrepaired, the shop's assessment fee when it has one.

Sending an invoice takes the next gapless invoice number in the same
transaction, dates it, moves the dispatch's assets to invoiced and has the PDF
rendered by a job. A sent invoice is paid, or voided with a credit note (its
own gapless number, lines mirroring the invoice's with the opposite sign, its
own PDF); a draft is voided without one.

Shop settings (config keys, read when a draft is written):
- `repairs.billing.vat_percent`: the VAT rate, default 21
- `repairs.billing.parts_markup_percent`: added to a spare part's unit cost, default 0
- `repairs.billing.assessment_fee`: billed for an asset returned unrepaired, default 0 (no line)
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import jinja2
from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.inventory import service as inventory
from app.platform import config, events, numbering, storage, tasks
from app.platform.auth import Principal
from app.platform.db import on_commit, session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat, for_shop
from app.platform.models import Tenant, utcnow
from app.repairs import events as names
from app.repairs import machine
from app.repairs.models import (
    DeviceModel,
    DeviceRepairCode,
    RepairAsset,
    RepairClient,
    RepairCode,
    RepairDispatch,
    RepairInvoice,
    RepairInvoiceLine,
    Worksheet,
)
from app.repairs.service import master
from app.repairs.service._common import (
    EMAIL,
    MAX_MONEY,
    READ,
    SOURCE,
    WRITE,
    Problems,
    changed,
    clean_text,
    get_row,
    money_field,
    move_asset,
)
from app.settings import ROOT

__all__ = ["READ", "WRITE"]

VAT_KEY = "repairs.billing.vat_percent"
MARKUP_KEY = "repairs.billing.parts_markup_percent"
ASSESSMENT_KEY = "repairs.billing.assessment_fee"
DEFAULT_VAT = Decimal("21")
config.describe(VAT_KEY, "Repairs: VAT rate on invoices")
config.describe(MARKUP_KEY, "Repairs: markup on spare parts")
config.describe(ASSESSMENT_KEY, "Repairs: assessment fee for a device returned unrepaired")

CENT = Decimal("0.01")
LINE_KINDS = ("repair", "part", "labour", "other")
NO_PRICE = "No price rule for this repair: set a price (0 is a price) or remove the line."
NO_WORK = "No repair was recorded as done for this device: set a price (0 is a price) or remove the line."
DISPATCH_SORTS = ("number", "created", "client", "assets", "status")
INVOICE_SORTS = ("number", "created", "issued", "due", "client", "total", "status")
PDF_STATUSES = ("", "queued", "rendering", "ready", "failed")
PDF_QUEUE = "booklets"  # PDFs are rendered where the booklets are

TEMPLATES = ROOT / "assets" / "repairs"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True
)


# --- money and settings ----------------------------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    """An amount to the cent, halves away from zero."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal_setting(session: Session, key: str, default: Decimal) -> Decimal:
    raw = config.get(session, key)
    if raw is None or raw == "":
        return default
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return default
    return value if value.is_finite() and value >= 0 else default


def vat_percent(session: Session) -> Decimal:
    return _decimal_setting(session, VAT_KEY, DEFAULT_VAT).quantize(CENT)


def parts_markup_percent(session: Session) -> Decimal:
    return _decimal_setting(session, MARKUP_KEY, Decimal("0"))


def assessment_fee(session: Session) -> Decimal:
    return money(_decimal_setting(session, ASSESSMENT_KEY, Decimal("0")))


SETTINGS_PERMISSION = "settings.write"  # what an invoice says and charges is the shop's admin's to change
ADDRESS_KEY, SHOP_VAT_KEY, SUPPORT_EMAIL_KEY = "shop.address", "shop.vat_number", "shop.support_email"
config.describe(ADDRESS_KEY, "Shop address on invoices")
config.describe(SHOP_VAT_KEY, "Shop VAT number on invoices")
config.describe(SUPPORT_EMAIL_KEY, "Shop support e-mail on invoices and booklets")
MAX_VAT_PERCENT, MAX_MARKUP_PERCENT = Decimal("100"), Decimal("1000")
ADDRESS_LINES = 6
SETTING_FIELDS = (
    "shop_address", "shop_vat_number", "support_email", "vat_percent", "parts_markup_percent", "assessment_fee"
)  # fmt: skip


@dataclass(frozen=True)
class BillingSettings:
    """What a repair invoice says about the shop and how it charges."""

    shop_address: str
    shop_vat_number: str
    support_email: str
    vat_percent: Decimal
    parts_markup_percent: Decimal
    assessment_fee: Decimal


def billing_settings(session: Session) -> BillingSettings:
    return BillingSettings(
        shop_address=str(config.get(session, ADDRESS_KEY) or ""),
        shop_vat_number=str(config.get(session, SHOP_VAT_KEY) or ""),
        support_email=str(config.get(session, SUPPORT_EMAIL_KEY) or ""),
        vat_percent=vat_percent(session),
        parts_markup_percent=parts_markup_percent(session).quantize(CENT),
        assessment_fee=assessment_fee(session),
    )


def _percent(p: Problems, name: str, value: Any, high: Decimal, *, label: str) -> Decimal:
    raw = str(value if value is not None else "").strip().removesuffix("%").strip().replace(",", ".")
    try:
        d = Decimal(raw)
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or not Decimal(0) <= d <= high or d != d.quantize(CENT):
        p.add(name, f"the {label} is a percentage from 0 to {high:,} with at most two decimals")
        return Decimal(0)
    return d.quantize(CENT)


def set_billing_settings(session: Session, values: dict[str, Any], *, actor: Principal) -> BillingSettings:
    """Change what repair invoices say about the shop and how they charge; only
    the given fields change. Refused as a whole, with every field's problem,
    when one is wrong. Invoices already written keep their rate and figures;
    the new rate, markup and fee apply from the next finalized dispatch, the
    shop's details from the next PDF rendered. Audited per key; does not
    commit."""
    actor.require(SETTINGS_PERMISSION)
    known = {
        "shop_address",
        "shop_vat_number",
        "support_email",
        "vat_percent",
        "parts_markup_percent",
        "assessment_fee",
    }
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationFailed(f"'{unknown[0]}' is not an invoice setting")
    p = Problems()
    wanted: dict[str, Any] = {}
    if "shop_address" in values:
        address = clean_text(p, "shop_address", values["shop_address"], 500, label="shop address")
        lines = [line.strip() for line in address.splitlines() if line.strip()]
        if len(lines) > ADDRESS_LINES:
            p.add("shop_address", f"the shop address has at most {ADDRESS_LINES} lines")
        wanted[ADDRESS_KEY] = "\n".join(lines)
    if "shop_vat_number" in values:
        vat = master.normalize_vat(clean_text(p, "shop_vat_number", values["shop_vat_number"], 30, label="VAT number"))
        if vat and not master.vat_looks_valid(vat):
            p.add("shop_vat_number", "the VAT number starts with the country's two letters, such as NL123456789B01")
        wanted[SHOP_VAT_KEY] = vat
    if "support_email" in values:
        email = clean_text(p, "support_email", values["support_email"], 254, label="e-mail address")
        if email and not EMAIL.match(email):
            p.add("support_email", "the e-mail address looks like name@example.com")
        wanted[SUPPORT_EMAIL_KEY] = email
    if "vat_percent" in values:
        wanted[VAT_KEY] = str(_percent(p, "vat_percent", values["vat_percent"], MAX_VAT_PERCENT, label="VAT rate"))
    if "parts_markup_percent" in values:
        markup = _percent(p, "parts_markup_percent", values["parts_markup_percent"], MAX_MARKUP_PERCENT, label="markup")
        wanted[MARKUP_KEY] = str(markup)
    if "assessment_fee" in values:
        wanted[ASSESSMENT_KEY] = str(money_field(p, "assessment_fee", values["assessment_fee"], label="assessment fee"))
    p.raise_any()
    now = billing_settings(session)
    current = {
        ADDRESS_KEY: now.shop_address,
        SHOP_VAT_KEY: now.shop_vat_number,
        SUPPORT_EMAIL_KEY: now.support_email,
        VAT_KEY: str(now.vat_percent),
        MARKUP_KEY: str(now.parts_markup_percent),
        ASSESSMENT_KEY: str(now.assessment_fee),
    }
    for key, value in wanted.items():
        if value != current[key]:
            config.set_value(session, key, value, actor_user_id=actor.user_id)
    session.flush()
    return billing_settings(session)


def _shop(session: Session) -> tuple[Tenant | None, ShopFormat]:
    tenant = session.get(Tenant, session_tenant_id(session))
    return tenant, for_shop(tenant)


def shop_today(session: Session) -> date:
    """Today in the shop's time zone (invoices are dated by the shop's calendar)."""
    return _shop(session)[1].local(utcnow()).date()


# --- dispatches ------------------------------------------------------------------------------


@dataclass
class DispatchFilter:
    search: str = ""  # dispatch number, client, tracking number
    status: str = ""  # "" or a DISPATCH_STATUS value
    client_id: str = ""
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclass
class DispatchRow:
    dispatch: RepairDispatch
    client_name: str
    assets: int
    invoice_number: str = ""
    invoice_status: str = ""


def get_dispatch(session: Session, dispatch_id: uuid.UUID | str, *, lock: bool = False) -> RepairDispatch:
    return get_row(session, RepairDispatch, dispatch_id, "dispatch", lock=lock)


def _asset_count():
    return (
        select(func.count())
        .where(col(RepairAsset.dispatch_id) == col(RepairDispatch.id))
        .correlate(RepairDispatch)
        .scalar_subquery()
    )


def list_dispatches(session: Session, f: DispatchFilter) -> tuple[list[DispatchRow], int]:
    count = _asset_count()
    q = select(RepairDispatch, RepairClient.name, count).join(
        RepairClient, col(RepairClient.id) == col(RepairDispatch.client_id)
    )
    if f.status:
        q = q.where(RepairDispatch.status == f.status)
    if f.client_id:
        q = q.where(RepairDispatch.client_id == master_id(f.client_id, "client"))
    if f.search.strip():
        like = f"%{f.search.strip()}%"
        q = q.where(
            or_(
                col(RepairDispatch.number).ilike(like),
                col(RepairClient.name).ilike(like),
                col(RepairDispatch.tracking_number).ilike(like),
                col(RepairDispatch.invoice_id).in_(
                    select(RepairInvoice.id).where(col(RepairInvoice.number).ilike(like))
                ),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    order = {
        "number": col(RepairDispatch.number),
        "created": col(RepairDispatch.created_at),
        "client": func.lower(RepairClient.name),
        "assets": count,
        "status": col(RepairDispatch.status),
    }.get(f.sort, col(RepairDispatch.created_at))
    q = q.order_by(order.desc() if f.descending else order.asc(), col(RepairDispatch.number).desc())
    rows = session.exec(q.offset(f.page * f.page_size).limit(f.page_size)).all()
    invoice_ids = [d.invoice_id for d, _, _ in rows if d.invoice_id]
    invoices = (
        {i.id: i for i in session.exec(select(RepairInvoice).where(col(RepairInvoice.id).in_(invoice_ids)))}
        if invoice_ids
        else {}
    )
    out = []
    for d, name, n in rows:
        inv = invoices.get(d.invoice_id) if d.invoice_id else None
        out.append(DispatchRow(d, name, int(n or 0), inv.number if inv else "", inv.status if inv else ""))
    return out, int(total)


def dispatch_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(RepairDispatch.status, func.count()).group_by(col(RepairDispatch.status))).all()
    counts = {s: 0 for s in machine.DISPATCH_STATUS.values}
    counts.update({s: int(n) for s, n in rows})
    return counts


def master_id(value: uuid.UUID | str, what: str) -> uuid.UUID:
    from app.repairs.service._common import as_uuid

    return as_uuid(value, f"{what} id")


def dispatch_assets(session: Session, dispatch_id: uuid.UUID | str, *, lock: bool = False) -> list[RepairAsset]:
    q = select(RepairAsset).where(RepairAsset.dispatch_id == master_id(dispatch_id, "dispatch"))
    q = q.order_by(col(RepairAsset.number), col(RepairAsset.id))
    if lock:
        q = q.with_for_update()
    return list(session.exec(q).all())


def ready_assets(session: Session, client_id: uuid.UUID | str) -> list[RepairAsset]:
    """The client's assets waiting to leave and in no dispatch yet."""
    return list(
        session.exec(
            select(RepairAsset)
            .where(
                RepairAsset.client_id == master_id(client_id, "client"),
                col(RepairAsset.status).in_(sorted(machine.DISPATCHABLE)),
                col(RepairAsset.dispatch_id).is_(None),
            )
            .order_by(col(RepairAsset.number))
        ).all()
    )


def ready_counts(session: Session) -> dict[uuid.UUID, int]:
    """Per client: assets waiting to leave and in no dispatch (the new-dispatch dialog)."""
    rows = session.exec(
        select(RepairAsset.client_id, func.count())
        .where(col(RepairAsset.status).in_(sorted(machine.DISPATCHABLE)), col(RepairAsset.dispatch_id).is_(None))
        .group_by(col(RepairAsset.client_id))
    ).all()
    return {cid: int(n) for cid, n in rows}


def _client(session: Session, client_id: uuid.UUID | str) -> RepairClient:
    return get_row(session, RepairClient, client_id, "client")


def _text(value: str | None, limit: int, what: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"{what} is longer than {limit} characters")
    return value


def create_dispatch(
    session: Session,
    client_id: uuid.UUID | str,
    *,
    actor: Principal,
    carrier: str = "",
    tracking_number: str = "",
    notes: str = "",
) -> RepairDispatch:
    """A new open dispatch for a client, numbered from the shop's dispatch sequence."""
    actor.require(WRITE)
    client = _client(session, client_id)
    if not client.active:
        raise ValidationFailed(f"{client.name} is not an active client")
    dispatch = RepairDispatch(
        tenant_id=session_tenant_id(session),
        number=numbering.reserve(session, "dispatch"),
        client_id=client.id,
        carrier=_text(carrier, 60, "the carrier"),
        tracking_number=_text(tracking_number, 100, "the tracking number"),
        notes=_text(notes, 2000, "the notes"),
        created_by_id=actor.user_id,
    )
    session.add(dispatch)
    session.flush()
    changed(session, dispatch=str(dispatch.id))
    return dispatch


def _open(dispatch: RepairDispatch, doing: str) -> None:
    if dispatch.status != "open":
        raise InvalidTransition(
            f"dispatch {dispatch.number} is {machine.DISPATCH_STATUS.label(dispatch.status).lower()}: "
            f"only an open dispatch can {doing}",
            details={"allowed": machine.DISPATCH.allowed(dispatch.status)},
        )


def add_assets(
    session: Session, dispatch_id: uuid.UUID | str, asset_ids: Iterable[uuid.UUID | str], *, actor: Principal
) -> list[RepairAsset]:
    """Put the client's ready assets into an open dispatch. An asset already in
    it is left as it is; one in another open dispatch is refused, naming it."""
    actor.require(WRITE)
    dispatch = get_dispatch(session, dispatch_id, lock=True)
    _open(dispatch, "take assets")
    ids = sorted({master_id(a, "asset") for a in asset_ids})
    if not ids:
        raise ValidationFailed("choose at least one asset")
    assets = list(
        session.exec(
            select(RepairAsset).where(col(RepairAsset.id).in_(ids)).order_by(col(RepairAsset.id)).with_for_update()
        )
    )
    if len(assets) != len(ids):
        raise NotFound("asset not found")
    others = {
        d.id: d
        for d in session.exec(
            select(RepairDispatch).where(
                col(RepairDispatch.id).in_({a.dispatch_id for a in assets if a.dispatch_id}),
            )
        )
    }
    added = []
    for asset in sorted(assets, key=lambda a: a.number):
        if asset.dispatch_id == dispatch.id:
            continue
        if asset.client_id != dispatch.client_id:
            raise ValidationFailed(f"asset {asset.number} belongs to another client than dispatch {dispatch.number}")
        other = others.get(asset.dispatch_id) if asset.dispatch_id else None
        if other is not None and other.status == "open":
            raise Conflict(f"asset {asset.number} is already in open dispatch {other.number}")
        if asset.status not in machine.DISPATCHABLE:
            raise InvalidTransition(
                f"asset {asset.number} is {machine.asset_words(asset.status)}: a dispatch takes assets that are "
                "ready for dispatch or to be returned unrepaired",
                details={"allowed": sorted(machine.DISPATCHABLE)},
            )
        asset.dispatch_id, asset.updated_at = dispatch.id, utcnow()
        session.add(asset)
        added.append(asset)
    changed(session, dispatch=str(dispatch.id))
    return added


def remove_asset(
    session: Session, dispatch_id: uuid.UUID | str, asset_id: uuid.UUID | str, *, actor: Principal
) -> RepairAsset:
    actor.require(WRITE)
    dispatch = get_dispatch(session, dispatch_id, lock=True)
    _open(dispatch, "give assets back")
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    if asset.dispatch_id != dispatch.id:
        raise ValidationFailed(f"asset {asset.number} is not in dispatch {dispatch.number}")
    asset.dispatch_id, asset.updated_at = None, utcnow()
    session.add(asset)
    changed(session, dispatch=str(dispatch.id))
    return asset


def update_dispatch(
    session: Session,
    dispatch_id: uuid.UUID | str,
    *,
    actor: Principal,
    carrier: str | None = None,
    tracking_number: str | None = None,
    notes: str | None = None,
) -> RepairDispatch:
    """Carrier, tracking number and notes: open or finalized (the tracking
    number often comes after the parcel has left); not once cancelled."""
    actor.require(WRITE)
    dispatch = get_dispatch(session, dispatch_id, lock=True)
    if dispatch.status == "cancelled":
        raise InvalidTransition(f"dispatch {dispatch.number} is cancelled and no longer changes")
    if carrier is not None:
        dispatch.carrier = _text(carrier, 60, "the carrier")
    if tracking_number is not None:
        dispatch.tracking_number = _text(tracking_number, 100, "the tracking number")
    if notes is not None:
        dispatch.notes = _text(notes, 2000, "the notes")
    session.add(dispatch)
    changed(session, dispatch=str(dispatch.id))
    return dispatch


def cancel_dispatch(session: Session, dispatch_id: uuid.UUID | str, *, actor: Principal) -> RepairDispatch:
    """An open dispatch is given up: its assets wait for another one."""
    actor.require(WRITE)
    dispatch = get_dispatch(session, dispatch_id, lock=True)
    machine.DISPATCH.check(dispatch.status, "cancelled")
    for asset in dispatch_assets(session, dispatch.id, lock=True):
        asset.dispatch_id, asset.updated_at = None, utcnow()
        session.add(asset)
    dispatch.status = "cancelled"
    session.add(dispatch)
    changed(session, dispatch=str(dispatch.id))
    return dispatch


def can_make_parcel(session: Session, dispatch: RepairDispatch) -> bool:
    """Whether the shipping domain can make this dispatch's parcel (label and
    tracking). Shipping makes parcels for shop orders only, so a repair
    dispatch records its carrier and tracking number by hand; once shipping
    takes other senders, this is where a dispatch asks for a parcel."""
    return False


# --- finalize: the invoice draft -------------------------------------------------------------


@dataclass
class _Line:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    asset_id: uuid.UUID | None = None
    repair_code_id: uuid.UUID | None = None
    warning: str = ""


def _model_names(session: Session, assets: list[RepairAsset]) -> dict[uuid.UUID, str]:
    ids = {a.device_model_id for a in assets if a.device_model_id}
    if not ids:
        return {}
    rows = session.exec(select(DeviceModel).where(col(DeviceModel.id).in_(ids))).all()
    return {m.id: f"{m.manufacturer} {m.model}".strip() for m in rows}


def _codes_done(session: Session, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[RepairCode]]:
    """Each asset's repair codes done (once each, by code)."""
    rows = session.exec(
        select(DeviceRepairCode.asset_id, RepairCode)
        .join(RepairCode, col(RepairCode.id) == col(DeviceRepairCode.repair_code_id))
        .where(col(DeviceRepairCode.asset_id).in_(asset_ids), col(DeviceRepairCode.done).is_(True))
        .order_by(col(RepairCode.code))
    ).all()
    out: dict[uuid.UUID, list[RepairCode]] = {}
    for asset_id, code in rows:
        if asset_id is None:
            continue
        done = out.setdefault(asset_id, [])
        if all(c.id != code.id for c in done):
            done.append(code)
    return out


def _parts_kept(session: Session, asset_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[Any, int]]]:
    """Each asset's spare parts issued to its worksheets and not returned: (part, units)."""
    sheets = session.exec(
        select(Worksheet.id, Worksheet.asset_id)
        .where(col(Worksheet.asset_id).in_(asset_ids))
        .order_by(col(Worksheet.created_at))
    ).all()
    out: dict[uuid.UUID, dict[uuid.UUID, tuple[Any, int]]] = {}
    for ws_id, asset_id in sheets:
        for issued in inventory.issued_to_worksheet(session, ws_id):
            if issued.used <= 0:
                continue
            kept = out.setdefault(asset_id, {})
            part, units = kept.get(issued.part.id, (issued.part, 0))
            kept[issued.part.id] = (part, units + issued.used)
    return {a: list(parts.values()) for a, parts in out.items()}


def _draft_lines(
    session: Session, client: RepairClient, assets: list[tuple[RepairAsset, str]], today: date
) -> list[_Line]:
    """The draft's lines for assets with the status they had before leaving."""
    ids = [a.id for a, _ in assets]
    models = _model_names(session, [a for a, _ in assets])
    codes = _codes_done(session, ids)
    parts = _parts_kept(session, ids)
    markup = parts_markup_percent(session)
    fee = assessment_fee(session)
    lines: list[_Line] = []
    for asset, was in assets:
        device = " ".join(p for p in (asset.number, models.get(asset.device_model_id or uuid.UUID(int=0), "")) if p)
        mine: list[_Line] = []
        if was == "return_unrepaired" and fee > 0:
            mine.append(_Line("other", f"Assessment, returned unrepaired · {device}", Decimal(1), fee, asset.id))
        for code in codes.get(asset.id, []):
            price = master.price_for(
                session, client_id=client.id, repair_code_id=code.id, device_model_id=asset.device_model_id, on=today
            )
            mine.append(
                _Line(
                    "repair",
                    f"{code.name} ({code.code}) · {device}",
                    Decimal(1),
                    money(price) if price is not None else Decimal("0.00"),
                    asset.id,
                    code.id,
                    "" if price is not None else NO_PRICE,
                )
            )
        for part, units in parts.get(asset.id, []):
            unit = money(Decimal(part.unit_cost) * (Decimal(100) + markup) / Decimal(100))
            mine.append(_Line("part", f"{part.name} ({part.sku}) · {device}", Decimal(units), unit, asset.id))
        if not mine and was != "return_unrepaired":
            mine.append(_Line("repair", f"Repair · {device}", Decimal(1), Decimal("0.00"), asset.id, None, NO_WORK))
        lines.extend(mine)
    return lines


def _add_lines(session: Session, invoice: RepairInvoice, lines: list[_Line]) -> None:
    for position, line in enumerate(lines, start=1):
        session.add(
            RepairInvoiceLine(
                tenant_id=invoice.tenant_id,
                invoice_id=invoice.id,
                position=position,
                asset_id=line.asset_id,
                kind=line.kind,
                description=line.description[:300],
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=money(line.quantity * line.unit_price),
                repair_code_id=line.repair_code_id,
                warning=line.warning,
            )
        )


def finalize_dispatch(session: Session, dispatch_id: uuid.UUID | str, *, actor: Principal) -> RepairInvoice:
    """Finalize once: the dispatch row is locked (SELECT … FOR UPDATE) and a
    dispatch already finalized returns its invoice at once. Otherwise its
    assets are dispatched, the invoice draft is written from their worksheets,
    codes and the price rules, and `repair-dispatch.finalized` is published,
    all in the caller's transaction."""
    actor.require(WRITE)
    dispatch = get_dispatch(session, dispatch_id, lock=True)
    if dispatch.status == "finalized" and dispatch.invoice_id is not None:
        invoice = session.get(RepairInvoice, dispatch.invoice_id)
        if invoice is None:
            raise NotFound("invoice not found")
        return invoice
    machine.DISPATCH.check(dispatch.status, "finalized")
    assets = dispatch_assets(session, dispatch.id, lock=True)
    if not assets:
        raise ValidationFailed(f"dispatch {dispatch.number} is empty: add the assets that leave before finalizing it")
    client = _client(session, dispatch.client_id)
    before = [(a, a.status) for a in assets]
    for asset in assets:
        move_asset(session, asset, "dispatched", actor=actor, reason=f"Dispatch {dispatch.number}")
    today = shop_today(session)
    invoice = RepairInvoice(
        tenant_id=dispatch.tenant_id,
        kind="invoice",
        client_id=client.id,
        dispatch_id=dispatch.id,
        currency=client.currency or "EUR",
        vat_rate=vat_percent(session),
        due_on=today + timedelta(days=client.payment_terms_days),
        created_by_id=actor.user_id,
    )
    session.add(invoice)
    session.flush()
    _add_lines(session, invoice, _draft_lines(session, client, before, today))
    session.flush()
    _recompute(session, invoice)
    now = utcnow()
    dispatch.status, dispatch.invoice_id = "finalized", invoice.id
    dispatch.finalized_at, dispatch.finalized_by_id = now, actor.user_id
    session.add(dispatch)
    events.publish(
        session,
        names.DISPATCH_FINALIZED,
        {
            "dispatchId": str(dispatch.id),
            "number": dispatch.number,
            "invoiceId": str(invoice.id),
            "assets": [str(a.id) for a in assets],
        },
        source=SOURCE,
    )
    changed(session, dispatch=str(dispatch.id), invoice=str(invoice.id))
    return invoice


# --- invoices --------------------------------------------------------------------------------


@dataclass
class InvoiceFilter:
    search: str = ""  # number, client
    status: str = ""  # "" or an INVOICE_STATUS value
    kind: str = ""  # "" | invoice | credit_note
    client_id: str = ""
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclass
class InvoiceRow:
    invoice: RepairInvoice
    client_name: str
    dispatch_number: str = ""


@dataclass
class InvoiceTotals:
    """Per status: how many and their total (in each currency)."""

    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # status → currency → total


def get_invoice(session: Session, invoice_id: uuid.UUID | str, *, lock: bool = False) -> RepairInvoice:
    return get_row(session, RepairInvoice, invoice_id, "invoice", lock=lock)


def invoice_lines(session: Session, invoice_id: uuid.UUID | str) -> list[RepairInvoiceLine]:
    return list(
        session.exec(
            select(RepairInvoiceLine)
            .where(RepairInvoiceLine.invoice_id == master_id(invoice_id, "invoice"))
            .order_by(col(RepairInvoiceLine.position), col(RepairInvoiceLine.id))
        ).all()
    )


def list_invoices(session: Session, f: InvoiceFilter) -> tuple[list[InvoiceRow], int]:
    q = (
        select(RepairInvoice, RepairClient.name, RepairDispatch.number)
        .join(RepairClient, col(RepairClient.id) == col(RepairInvoice.client_id))
        .outerjoin(RepairDispatch, col(RepairDispatch.id) == col(RepairInvoice.dispatch_id))
    )
    if f.status:
        q = q.where(RepairInvoice.status == f.status)
    if f.kind:
        q = q.where(RepairInvoice.kind == f.kind)
    if f.client_id:
        q = q.where(RepairInvoice.client_id == master_id(f.client_id, "client"))
    if f.search.strip():
        like = f"%{f.search.strip()}%"
        q = q.where(
            or_(
                col(RepairInvoice.number).ilike(like),
                col(RepairClient.name).ilike(like),
                col(RepairDispatch.number).ilike(like),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    order = {
        "number": col(RepairInvoice.number),
        "created": col(RepairInvoice.created_at),
        "issued": col(RepairInvoice.issued_at),
        "due": col(RepairInvoice.due_on),
        "client": func.lower(RepairClient.name),
        "total": col(RepairInvoice.total),
        "status": col(RepairInvoice.status),
    }.get(f.sort, col(RepairInvoice.created_at))
    order = order.desc().nulls_last() if f.descending else order.asc().nulls_last()
    q = q.order_by(order, col(RepairInvoice.created_at).desc())
    rows = session.exec(q.offset(f.page * f.page_size).limit(f.page_size)).all()
    return [InvoiceRow(i, name, number or "") for i, name, number in rows], int(total)


def invoice_totals(session: Session) -> InvoiceTotals:
    rows = session.exec(
        select(
            RepairInvoice.status, RepairInvoice.currency, func.count(), func.coalesce(func.sum(RepairInvoice.total), 0)
        )
        .where(RepairInvoice.kind == "invoice")
        .group_by(col(RepairInvoice.status), col(RepairInvoice.currency))
    ).all()
    out = InvoiceTotals(counts={s: 0 for s in machine.INVOICE_STATUS.values})
    for status, currency, n, total in rows:
        out.counts[status] = out.counts.get(status, 0) + int(n)
        out.totals.setdefault(status, {})[currency] = Decimal(total)
    return out


def _recompute(session: Session, invoice: RepairInvoice) -> None:
    """Each line's amount, then subtotal, VAT and total (to the cent, halves up)."""
    subtotal = Decimal("0")
    for line in invoice_lines(session, invoice.id):
        amount = money(line.quantity * line.unit_price)
        if amount != line.amount:
            line.amount = amount
            session.add(line)
        subtotal += amount
    invoice.subtotal = money(subtotal)
    invoice.vat_amount = money(invoice.subtotal * invoice.vat_rate / Decimal(100))
    invoice.total = invoice.subtotal + invoice.vat_amount
    session.add(invoice)


def _draft(session: Session, invoice_id: uuid.UUID | str) -> RepairInvoice:
    invoice = get_invoice(session, invoice_id, lock=True)
    if invoice.status != "draft":
        raise InvalidTransition(
            f"invoice {invoice.number or '(draft)'} is {machine.INVOICE_STATUS.label(invoice.status).lower()}: "
            "only a draft's lines change",
            details={"allowed": machine.INVOICE.allowed(invoice.status)},
        )
    return invoice


def _amount(value: Any, what: str, *, negative: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{what} must be a number, like 49.90") from None
    if not number.is_finite():
        raise ValidationFailed(f"{what} must be a number, like 49.90")
    if number < 0 and not negative:
        raise ValidationFailed(f"{what} cannot be below 0")
    if abs(number) > MAX_MONEY:
        raise ValidationFailed(f"{what} is too large")
    return number


def _quantity(value: Any) -> Decimal:
    q = _amount(value, "the quantity")
    if q <= 0 or q != q.quantize(CENT):
        raise ValidationFailed("the quantity must be above 0, with at most two decimals")
    if q > Decimal("99999999"):
        raise ValidationFailed("the quantity is too large")
    return q


def _description(value: str) -> str:
    text = _text(value, 300, "the description")
    if not text:
        raise ValidationFailed("write what the line is for")
    return text


def add_line(
    session: Session,
    invoice_id: uuid.UUID | str,
    *,
    description: str,
    unit_price: Any,
    quantity: Any = 1,
    kind: str = "other",
    actor: Principal,
) -> RepairInvoiceLine:
    actor.require(WRITE)
    invoice = _draft(session, invoice_id)
    if kind not in LINE_KINDS:
        raise ValidationFailed(f"a line is one of: {', '.join(LINE_KINDS)}")
    position = session.exec(
        select(func.coalesce(func.max(RepairInvoiceLine.position), 0)).where(RepairInvoiceLine.invoice_id == invoice.id)
    ).one()
    qty, price = _quantity(quantity), money(_amount(unit_price, "the price"))
    line = RepairInvoiceLine(
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.id,
        position=int(position) + 1,
        kind=kind,
        description=_description(description),
        quantity=qty,
        unit_price=price,
        amount=money(qty * price),
    )
    session.add(line)
    session.flush()
    _recompute(session, invoice)
    changed(session, invoice=str(invoice.id))
    return line


def _line(session: Session, line_id: uuid.UUID | str) -> RepairInvoiceLine:
    return get_row(session, RepairInvoiceLine, line_id, "invoice line", lock=True)


def update_line(
    session: Session,
    line_id: uuid.UUID | str,
    *,
    actor: Principal,
    description: str | None = None,
    quantity: Any = None,
    unit_price: Any = None,
) -> RepairInvoiceLine:
    """Change a draft's line; a price set by hand clears the line's warning."""
    actor.require(WRITE)
    line = _line(session, line_id)
    invoice = _draft(session, line.invoice_id)
    if description is not None:
        line.description = _description(description)
    if quantity is not None:
        line.quantity = _quantity(quantity)
    if unit_price is not None:
        line.unit_price = money(_amount(unit_price, "the price"))
        line.warning = ""
    line.amount = money(line.quantity * line.unit_price)
    session.add(line)
    session.flush()
    _recompute(session, invoice)
    changed(session, invoice=str(invoice.id))
    return line


def remove_line(session: Session, line_id: uuid.UUID | str, *, actor: Principal) -> RepairInvoice:
    actor.require(WRITE)
    line = _line(session, line_id)
    invoice = _draft(session, line.invoice_id)
    session.delete(line)
    session.flush()
    _recompute(session, invoice)
    changed(session, invoice=str(invoice.id))
    return invoice


def set_vat_rate(session: Session, invoice_id: uuid.UUID | str, rate: Any, *, actor: Principal) -> RepairInvoice:
    """A draft's VAT rate (percent), e.g. 0 for a client abroad that reverse-charges."""
    actor.require(WRITE)
    invoice = _draft(session, invoice_id)
    value = _amount(rate, "the VAT rate")
    if value > 100 or value != value.quantize(CENT):
        raise ValidationFailed("the VAT rate is a percentage from 0 to 100, with at most two decimals")
    invoice.vat_rate = value
    _recompute(session, invoice)
    changed(session, invoice=str(invoice.id))
    return invoice


def _pdf_after_commit(session: Session, invoice: RepairInvoice) -> None:
    """The PDF is rendered by a job once this transaction commits."""
    invoice.pdf_status, invoice.pdf_error = "queued", ""
    session.add(invoice)
    tenant_id, invoice_id = str(invoice.tenant_id), str(invoice.id)
    on_commit(
        session,
        lambda: tasks.enqueue(
            "jobs.repairs_invoices.render",
            tenant_id,
            invoice_id,
            queue_name=PDF_QUEUE,
            shop=tenant_id,
            description=f"repair invoice PDF {invoice.number}",
        ),
        key=f"repairs.invoice-pdf:{invoice_id}",
    )


def send_invoice(session: Session, invoice_id: uuid.UUID | str, *, actor: Principal) -> RepairInvoice:
    """Draft → sent: the next gapless invoice number (in this transaction: a
    rollback gives it back), issued today, due by the client's payment terms;
    the dispatch's assets are invoiced; the PDF is rendered after commit."""
    actor.require(WRITE)
    invoice = get_invoice(session, invoice_id, lock=True)
    if invoice.kind != "invoice":
        raise InvalidTransition("a credit note is issued when its invoice is voided; it is not sent by hand")
    machine.INVOICE.check(invoice.status, "sent")
    lines = invoice_lines(session, invoice.id)
    if not lines:
        raise ValidationFailed("the invoice has no lines: add what is billed before sending it")
    unpriced = [line for line in lines if line.warning]
    if unpriced:
        raise ValidationFailed(
            f"{len(unpriced)} line(s) still need a price (set one, 0 included, or remove the line): "
            + "; ".join(line.description for line in unpriced[:3]),
            details={"lines": [str(line.id) for line in unpriced]},
        )
    _recompute(session, invoice)
    client = _client(session, invoice.client_id)
    today = shop_today(session)
    invoice.number = numbering.reserve(session, "invoice")
    invoice.status, invoice.issued_at = "sent", utcnow()
    invoice.issued_on, invoice.due_on = today, today + timedelta(days=client.payment_terms_days)
    session.add(invoice)
    if invoice.dispatch_id is not None:
        dispatch = get_dispatch(session, invoice.dispatch_id)
        for asset in dispatch_assets(session, invoice.dispatch_id, lock=True):
            if asset.status == "dispatched":
                move_asset(session, asset, "invoiced", actor=actor, reason=f"Invoice {invoice.number}")
        _ = dispatch
    events.publish(
        session,
        names.INVOICE_SENT,
        {"invoiceId": str(invoice.id), "number": invoice.number, "total": str(invoice.total)},
        source=SOURCE,
    )
    _pdf_after_commit(session, invoice)
    changed(session, invoice=str(invoice.id))
    return invoice


def mark_paid(
    session: Session, invoice_id: uuid.UUID | str, *, actor: Principal, paid_at: datetime | None = None
) -> RepairInvoice:
    actor.require(WRITE)
    invoice = get_invoice(session, invoice_id, lock=True)
    if invoice.kind != "invoice":
        raise InvalidTransition("a credit note is settled with the invoice it voids; it is not paid")
    machine.INVOICE.check(invoice.status, "paid")
    invoice.status, invoice.paid_at = "paid", paid_at or utcnow()
    session.add(invoice)
    changed(session, invoice=str(invoice.id))
    return invoice


def void_invoice(
    session: Session, invoice_id: uuid.UUID | str, reason: str, *, actor: Principal
) -> RepairInvoice | None:
    """Void an invoice with a reason. A sent invoice gets a credit note (its own
    gapless number, lines mirroring the invoice's with the opposite sign, its
    own PDF), which is returned; a draft is voided without one (None)."""
    actor.require(WRITE)
    why = _text(reason, 500, "the reason")
    if not why:
        raise ValidationFailed("say why the invoice is voided")
    invoice = get_invoice(session, invoice_id, lock=True)
    if invoice.kind != "invoice":
        raise InvalidTransition("a credit note cannot be voided")
    machine.INVOICE.check(invoice.status, "void")
    was = invoice.status
    invoice.status, invoice.void_reason, invoice.voided_at = "void", why, utcnow()
    session.add(invoice)
    changed(session, invoice=str(invoice.id))
    if was == "draft":
        return None
    today = shop_today(session)
    note = RepairInvoice(
        tenant_id=invoice.tenant_id,
        kind="credit_note",
        number=numbering.reserve(session, "credit_note"),
        client_id=invoice.client_id,
        dispatch_id=invoice.dispatch_id,
        credit_for_id=invoice.id,
        status="sent",
        currency=invoice.currency,
        subtotal=-invoice.subtotal,
        vat_rate=invoice.vat_rate,
        vat_amount=-invoice.vat_amount,
        total=-invoice.total,
        issued_on=today,
        due_on=today,
        void_reason=why,
        created_by_id=actor.user_id,
        issued_at=utcnow(),
    )
    session.add(note)
    session.flush()
    for line in invoice_lines(session, invoice.id):
        session.add(
            RepairInvoiceLine(
                tenant_id=note.tenant_id,
                invoice_id=note.id,
                position=line.position,
                asset_id=line.asset_id,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=-line.unit_price,
                amount=-line.amount,
                repair_code_id=line.repair_code_id,
            )
        )
    _pdf_after_commit(session, note)
    return note


def credit_note_for(session: Session, invoice_id: uuid.UUID | str) -> RepairInvoice | None:
    return session.exec(
        select(RepairInvoice).where(
            RepairInvoice.credit_for_id == master_id(invoice_id, "invoice"), RepairInvoice.kind == "credit_note"
        )
    ).first()


# --- the PDF ---------------------------------------------------------------------------------


def request_pdf(session: Session, invoice_id: uuid.UUID | str, *, actor: Principal) -> RepairInvoice:
    """Render an issued invoice's PDF again (after a failed render)."""
    actor.require(WRITE)
    invoice = get_invoice(session, invoice_id, lock=True)
    if not invoice.number:
        raise InvalidTransition("a draft has no PDF: send the invoice first")
    if invoice.pdf_status in ("queued", "rendering"):
        return invoice
    _pdf_after_commit(session, invoice)
    changed(session, invoice=str(invoice.id))
    return invoice


def pdf_filename(invoice: RepairInvoice) -> str:
    stem = "Credit-note" if invoice.kind == "credit_note" else "Invoice"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in invoice.number)
    return f"{stem}-{safe}.pdf"


def invoice_pdf(session: Session, invoice_id: uuid.UUID | str) -> tuple[bytes, str]:
    """The stored PDF and its file name."""
    invoice = get_invoice(session, invoice_id)
    if not invoice.pdf_key:
        raise NotFound(f"the PDF of {'credit note' if invoice.kind == 'credit_note' else 'invoice'} is not ready yet")
    data = storage.for_tenant(invoice.tenant_id).get(invoice.pdf_key).data
    return data, pdf_filename(invoice)


def pdf_context(session: Session, invoice: RepairInvoice) -> dict:
    tenant, fmt = _shop(session)
    client = _client(session, invoice.client_id)
    dispatch = session.get(RepairDispatch, invoice.dispatch_id) if invoice.dispatch_id else None
    voided = session.get(RepairInvoice, invoice.credit_for_id) if invoice.credit_for_id else None

    def cash(value: Decimal) -> str:
        return fmt.money(value, invoice.currency)

    lines = invoice_lines(session, invoice.id)
    return {
        "title": "Credit note" if invoice.kind == "credit_note" else "Invoice",
        "credit": invoice.kind == "credit_note",
        "shop_name": tenant.name if tenant else "Shopfloor",
        "shop_address": config.get(session, "shop.address") or "",
        "shop_vat": config.get(session, "shop.vat_number") or "",
        "shop_email": config.get(session, "shop.support_email") or "",
        "client": client,
        "address_lines": [line for line in client.billing_address.splitlines() if line.strip()],
        "number": invoice.number,
        "issued": fmt.day(invoice.issued_on),
        "due": fmt.day(invoice.due_on),
        "terms": client.payment_terms_days,
        "dispatch": dispatch.number if dispatch else "",
        "tracking": dispatch.tracking_number if dispatch else "",
        "voided_number": voided.number if voided else "",
        "reason": invoice.void_reason,
        "lines": [
            {
                "description": line.description,
                "quantity": fmt.number(line.quantity, 0 if line.quantity == line.quantity.to_integral() else 2),
                "unit": cash(line.unit_price),
                "amount": cash(line.amount),
            }
            for line in lines
        ],
        "subtotal": cash(invoice.subtotal),
        "vat_rate": f"{invoice.vat_rate.normalize():f}",
        "vat": cash(invoice.vat_amount),
        "total": cash(invoice.total),
        "currency": invoice.currency,
    }


def render_html(ctx: dict) -> str:
    css = _env.get_template("invoice.css").render(**ctx)
    return _env.get_template("invoice.html").render(css=css, **ctx)


def fetcher() -> URLFetcher:
    """Only data: URIs; everything else (files, the network) is refused, so
    nothing a client or a line says can make the renderer read or call out."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)


def render_pdf(html: str) -> bytes:
    pdf = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher()).write_pdf()
    assert pdf is not None  # no target given: write_pdf returns the document's bytes
    return pdf


def _set_pdf(tenant_id: uuid.UUID | str, invoice_id: uuid.UUID | str, **values: Any) -> None:
    from app.platform.db import tenant_session

    with tenant_session(tenant_id) as s:
        invoice = s.get(RepairInvoice, master_id(invoice_id, "invoice"), with_for_update=True)
        if invoice is None:
            return
        for key, value in values.items():
            setattr(invoice, key, value)
        s.add(invoice)
        changed(s, invoice=str(invoice.id))
        s.commit()


def generate(tenant_id: uuid.UUID | str, invoice_id: uuid.UUID | str) -> str:
    """The job: rendering → ready (the PDF stored, the old one removed) or
    failed with the reason the page shows next to its retry."""
    from app.platform.db import tenant_session

    _set_pdf(tenant_id, invoice_id, pdf_status="rendering", pdf_error="")
    try:
        with tenant_session(tenant_id) as s:
            invoice = get_invoice(s, invoice_id)
            pdf = render_pdf(render_html(pdf_context(s, invoice)))
            key = f"repairs/invoices/{invoice.id}/{pdf_filename(invoice)[:-4]}-{uuid.uuid4().hex[:8]}.pdf"
            old = invoice.pdf_key
        storage.for_tenant(tenant_id).put(key, pdf, "application/pdf")
    except Exception as exc:  # recorded on the invoice with the reason
        _set_pdf(tenant_id, invoice_id, pdf_status="failed", pdf_error=f"{type(exc).__name__}: {exc}"[:1000])
        return "failed"
    _set_pdf(tenant_id, invoice_id, pdf_status="ready", pdf_error="", pdf_key=key)
    if old and old != key:
        with contextlib.suppress(NotFound):
            storage.for_tenant(tenant_id).delete(old)
    return "ready"


ABANDONED_RETRYING = "The worker stopped while rendering the PDF; trying again"
ABANDONED_FAILED = "The worker stopped while rendering the PDF; try again"


def render_abandoned(tenant_id: uuid.UUID | str, invoice_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The render's worker died: shown as queued again (the job's retry runs)
    or failed with the reason and the page's retry."""
    if retrying:
        _set_pdf(tenant_id, invoice_id, pdf_status="queued", pdf_error="")
    else:
        _set_pdf(tenant_id, invoice_id, pdf_status="failed", pdf_error=ABANDONED_FAILED)


STALE_PDF_MINUTES = 10


def requeue_stale_pdfs(session: Session) -> int:
    """The sweep (per shop): a sent invoice (or credit note) whose PDF has been
    waiting for longer than a few minutes lost its job (the queue was away when
    it was sent): queue it again. Returns how many."""
    cutoff = utcnow() - timedelta(minutes=STALE_PDF_MINUTES)
    stale = session.exec(
        select(RepairInvoice)
        .where(
            col(RepairInvoice.pdf_status).in_(("queued", "rendering")),
            col(RepairInvoice.issued_at) < cutoff,
        )
        .limit(200)
    ).all()
    for invoice in stale:
        _pdf_after_commit(session, invoice)
    return len(stale)
