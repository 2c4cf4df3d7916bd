"""Repairs master data: the repair clients (business customers), device models,
teams and technicians, the repair-codes catalogue and the price rules.

Each kind has a listing with search, sort and paging (the seed's "Devices page
+ pagination retrofit"), create and edit with every field checked (a refusal
names the fields at fault in `details["fields"]`, for the forms), and
deactivation. A row that other rows refer to (a client with batches, a model
on assets, a team with technicians, a code on assets) is never deleted: the
refusal says so and deactivating is the way.

Repair codes: the canonical codes (no shop) are read by every shop and
changed by none; a shop adds, edits and deactivates its own, which may not
take a canonical code's name (a shop code never shadows a canonical one).

Price rules: for one client or every client (default), for a repair code
and/or a device model, valid between two optional dates. Two rules for the
same target may not overlap in time. `price_for` picks the most specific rule
valid on the day: client+code+model, client+code, client+model, default
code+model, default code, default model.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, Forbidden, ValidationFailed
from app.platform.models import User, utcnow
from app.platform.text import like_pattern
from app.repairs.models import (
    DeviceModel,
    DeviceRepairCode,
    DrfoneCodeMapping,
    ExpectedBatch,
    ExpectedDevice,
    PriceRule,
    RepairAsset,
    RepairClient,
    RepairCode,
    RepairDispatch,
    RepairInvoice,
    RepairTeam,
    Technician,
    Worksheet,
)
from app.repairs.service._common import (
    EMAIL,
    WRITE,
    Problems,
    as_uuid,
    changed,
    clean_text,
    get_row,
    money_field,
    whole_number,
)

CATEGORIES = ("phone", "tablet", "laptop", "other")
CATEGORY_WORDS = {"phone": "Phone", "tablet": "Tablet", "laptop": "Laptop", "other": "Other"}
CODE_CATEGORIES = (
    "display",
    "power",
    "board",
    "housing",
    "camera",
    "audio",
    "buttons",
    "biometrics",
    "input",
    "software",
    "other",
)
ACTIVE_FILTERS = ("", "active", "inactive")  # "" = every row
MAX_PAGE_SIZE = 200
MAX_VARIANTS = 30


CLIENT_SORTS = ("name", "currency", "terms", "ber", "created")
DEVICE_SORTS = ("manufacturer", "model", "category", "value", "created")
TEAM_SORTS = ("name", "members", "created")
TECHNICIAN_SORTS = ("name", "team", "rate", "created")
CODE_SORTS = ("code", "name", "category", "minutes")
RULE_SORTS = ("client", "code", "model", "price", "valid_from")

_VAT = re.compile(r"^[A-Z]{2}[A-Z0-9]{2,15}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")


# --- checking what comes in ----------------------------------------------------------------------


def _optional_id(p: Problems, name: str, value: Any, *, label: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        p.add(name, f"choose a {label} from the list")
        return None


def _day(p: Problems, name: str, value: Any, *, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        p.add(name, f"the {label} is a date such as 2026-12-31")
        return None


def normalize_vat(value: str) -> str:
    """A VAT number as stored: capitals, without spaces, dots or dashes."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def vat_looks_valid(vat: str) -> bool:
    """Loosely: a two-letter country prefix and 2 to 15 letters or digits, at least two of them digits."""
    return bool(_VAT.match(vat)) and sum(c.isdigit() for c in vat) >= 2


def _page_bounds(page: int, page_size: int) -> tuple[int, int]:
    size = max(1, min(MAX_PAGE_SIZE, page_size))
    return max(0, page) * size, size


def _check_choice(value: str, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        shown = ", ".join(a for a in allowed if a) or "nothing"
        raise ValidationFailed(f"unknown {what} '{value}' (one of {shown})")


def _active_where(q, model, active: str):
    _check_choice(active, ACTIVE_FILTERS, "active filter")
    if active == "active":
        q = q.where(col(model.active).is_(True))
    elif active == "inactive":
        q = q.where(col(model.active).is_(False))
    return q


def _search(q, words: str, *columns):
    for word in (words or "").split()[:6]:
        pattern = like_pattern(word)
        q = q.where(or_(*[c.ilike(pattern) for c in columns]))
    return q


def _count(session: Session, q) -> int:
    return int(session.exec(select(func.count()).select_from(q.subquery())).one())


def _save(session: Session, row: Any, duplicate: str, *, fields: dict[str, str] | None = None) -> None:
    """Add and flush `row`; a unique index refusing it becomes a Conflict saying `duplicate`."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(duplicate, details={"fields": fields or {}}) from None


def _refs(session: Session, checks: list[tuple[Any, Any, str]]) -> list[str]:
    """How many rows of each kind refer to a row: ["3 batches", "1 price rule"]."""
    found = []
    for model, where, words in checks:
        n = int(session.exec(select(func.count()).select_from(model).where(where)).one())
        if n:
            one, many = words.split("|")
            found.append(f"{n} {one if n == 1 else many}")
    return found


def _refuse_delete(what: str, refs: list[str]) -> None:
    if refs:
        raise Conflict(
            f"{what} cannot be deleted: {', '.join(refs)} refer to it. Deactivate it instead "
            "(it stays on those records and is no longer offered for new ones)",
            code="in_use",
        )


# --- repair clients ------------------------------------------------------------------------------


@dataclass
class ClientData:
    name: str
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    billing_address: str = ""
    country: str = ""
    vat_number: str = ""
    payment_terms_days: int | str = 30
    currency: str = "EUR"
    ber_threshold_percent: int | str = 70
    notes: str = ""


@dataclass
class ListFilter:
    search: str = ""
    active: str = ""  # "" (all) | active | inactive
    sort: str = ""
    descending: bool = False
    page: int = 0
    page_size: int = 25


def _check_client(data: ClientData) -> dict[str, Any]:
    p = Problems()
    out: dict[str, Any] = {
        "name": clean_text(p, "name", data.name, 200, label="client's name", required=True),
        "contact_name": clean_text(p, "contact_name", data.contact_name, 200, label="contact's name"),
        "email": clean_text(p, "email", data.email, 254, label="e-mail address"),
        "phone": clean_text(p, "phone", data.phone, 50, label="phone number"),
        "billing_address": clean_text(p, "billing_address", data.billing_address, 1000, label="billing address"),
        "notes": clean_text(p, "notes", data.notes, 2000, label="notes"),
    }
    if out["email"] and not EMAIL.match(out["email"]):
        p.add("email", "the e-mail address looks like name@example.com")
    country = str(data.country or "").strip().upper()
    if country and not _COUNTRY.match(country):
        p.add("country", "the country is a two-letter code such as NL or DE")
    out["country"] = country
    vat = normalize_vat(str(data.vat_number or ""))
    if vat and not vat_looks_valid(vat):
        p.add("vat_number", "the VAT number starts with the country's two letters, then its digits (NL123456789B01)")
    out["vat_number"] = vat
    currency = str(data.currency or "").strip().upper()
    if not _CURRENCY.match(currency):
        p.add("currency", "the currency is a three-letter ISO code such as EUR, GBP or USD")
    out["currency"] = currency
    out["payment_terms_days"] = whole_number(
        p, "payment_terms_days", data.payment_terms_days, 0, 365, label="payment term (days)"
    )
    out["ber_threshold_percent"] = whole_number(
        p, "ber_threshold_percent", data.ber_threshold_percent, 1, 100, label="BER threshold (%)"
    )
    p.raise_any()
    return out


def _same_name(session: Session, model: Any, column: Any, name: str, exclude: uuid.UUID | None) -> bool:
    q = select(func.count()).select_from(model).where(func.lower(column) == name.lower())
    if exclude is not None:
        q = q.where(model.id != exclude)
    return bool(session.exec(q).one())


def create_client(session: Session, data: ClientData, *, actor: Principal) -> RepairClient:
    actor.require(WRITE)
    values = _check_client(data)
    duplicate = f"there is already a client called {values['name']!r}"
    if _same_name(session, RepairClient, RepairClient.name, values["name"], None):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    client = RepairClient(tenant_id=session_tenant_id(session), **values)
    _save(session, client, duplicate, fields={"name": duplicate})
    changed(session, master="clients")
    return client


def update_client(session: Session, client_id: uuid.UUID | str, data: ClientData, *, actor: Principal) -> RepairClient:
    actor.require(WRITE)
    client = get_row(session, RepairClient, client_id, "repair client", lock=True)
    values = _check_client(data)
    duplicate = f"there is already a client called {values['name']!r}"
    if _same_name(session, RepairClient, RepairClient.name, values["name"], client.id):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    for key, value in values.items():
        setattr(client, key, value)
    client.updated_at = utcnow()
    _save(session, client, duplicate, fields={"name": duplicate})
    changed(session, master="clients")
    return client


def set_client_active(session: Session, client_id: uuid.UUID | str, active: bool, *, actor: Principal) -> RepairClient:
    """Deactivate (no new batches, not offered in lists) or reactivate a client."""
    actor.require(WRITE)
    client = get_row(session, RepairClient, client_id, "repair client", lock=True)
    client.active, client.updated_at = bool(active), utcnow()
    session.add(client)
    session.flush()
    changed(session, master="clients")
    return client


def delete_client(session: Session, client_id: uuid.UUID | str, *, actor: Principal) -> None:
    """Delete a client nothing refers to (a mistake); otherwise refused: deactivate it."""
    actor.require(WRITE)
    client = get_row(session, RepairClient, client_id, "repair client", lock=True)
    _refuse_delete(
        f"client {client.name!r}",
        _refs(
            session,
            [
                (ExpectedBatch, ExpectedBatch.client_id == client.id, "batch|batches"),
                (RepairAsset, RepairAsset.client_id == client.id, "asset|assets"),
                (RepairDispatch, RepairDispatch.client_id == client.id, "dispatch|dispatches"),
                (RepairInvoice, RepairInvoice.client_id == client.id, "invoice|invoices"),
                (PriceRule, PriceRule.client_id == client.id, "price rule|price rules"),
            ],
        ),
    )
    session.delete(client)
    session.flush()
    changed(session, master="clients")


def get_client(session: Session, client_id: uuid.UUID | str) -> RepairClient:
    return get_row(session, RepairClient, client_id, "repair client")


def list_clients(session: Session, f: ListFilter) -> tuple[list[RepairClient], int]:
    """The shop's repair clients: searched (name, contact, e-mail, VAT number), sorted, paged."""
    sort = f.sort or "name"
    _check_choice(sort, CLIENT_SORTS, "sort")
    q = select(RepairClient)
    q = _active_where(q, RepairClient, f.active)
    q = _search(
        q,
        f.search,
        col(RepairClient.name),
        col(RepairClient.contact_name),
        col(RepairClient.email),
        col(RepairClient.vat_number),
    )
    total = _count(session, q)
    column = {
        "currency": col(RepairClient.currency),
        "terms": col(RepairClient.payment_terms_days),
        "ber": col(RepairClient.ber_threshold_percent),
        "created": col(RepairClient.created_at),
    }.get(sort, func.lower(RepairClient.name))
    offset, size = _page_bounds(f.page, f.page_size)
    rows = session.exec(
        q.order_by(column.desc() if f.descending else column.asc(), func.lower(RepairClient.name), col(RepairClient.id))
        .offset(offset)
        .limit(size)
    ).all()
    return list(rows), total


def client_choices(session: Session, *, include: Iterable[uuid.UUID] = ()) -> list[tuple[str, str]]:
    """(id, name) of the active clients (and of `include`, inactive or not), by name: for drop-downs."""
    ids = [i for i in include if i]
    q = select(RepairClient.id, RepairClient.name).where(
        or_(col(RepairClient.active).is_(True), col(RepairClient.id).in_(ids)) if ids else col(RepairClient.active)
    )
    return [(str(i), n) for i, n in session.exec(q.order_by(func.lower(RepairClient.name))).all()]


# --- device models -------------------------------------------------------------------------------


@dataclass
class DeviceModelData:
    manufacturer: str
    model: str
    category: str = "phone"
    variants: list[str] | str = field(default_factory=list)
    typical_value: Decimal | str | int = Decimal("0")


def parse_variants(value: list[str] | str) -> list[str]:
    """Variants as a list: from a list, or from text with one per line or comma-separated."""
    items = value if isinstance(value, list) else re.split(r"[\n,]", value or "")
    out: list[str] = []
    for item in items:
        v = " ".join(str(item).split())
        if v and v.lower() not in (o.lower() for o in out):
            out.append(v)
    return out


def _check_device(data: DeviceModelData) -> dict[str, Any]:
    p = Problems()
    out: dict[str, Any] = {
        "manufacturer": clean_text(p, "manufacturer", data.manufacturer, 100, label="manufacturer", required=True),
        "model": clean_text(p, "model", data.model, 200, label="model", required=True),
    }
    category = str(data.category or "").strip().lower()
    if category not in CATEGORIES:
        p.add("category", "the category is phone, tablet, laptop or other")
    out["category"] = category
    variants = parse_variants(data.variants)
    if len(variants) > MAX_VARIANTS:
        p.add("variants", f"at most {MAX_VARIANTS} variants")
    elif any(len(v) > 60 or "\x00" in v for v in variants):
        p.add("variants", "a variant has at most 60 characters (such as '128 GB · Blue')")
    out["variants"] = variants
    out["typical_value"] = money_field(p, "typical_value", data.typical_value, label="typical value")
    p.raise_any()
    return out


def _device_duplicate(session: Session, values: dict[str, Any], exclude: uuid.UUID | None) -> None:
    q = (
        select(func.count())
        .select_from(DeviceModel)
        .where(
            func.lower(DeviceModel.manufacturer) == values["manufacturer"].lower(),
            func.lower(DeviceModel.model) == values["model"].lower(),
        )
    )
    if exclude is not None:
        q = q.where(DeviceModel.id != exclude)
    if session.exec(q).one():
        message = f"{values['manufacturer']} {values['model']} is already a device model"
        raise Conflict(message, details={"fields": {"model": message}})


def create_device_model(session: Session, data: DeviceModelData, *, actor: Principal) -> DeviceModel:
    actor.require(WRITE)
    values = _check_device(data)
    _device_duplicate(session, values, None)
    dm = DeviceModel(tenant_id=session_tenant_id(session), **values)
    message = f"{values['manufacturer']} {values['model']} is already a device model"
    _save(session, dm, message, fields={"model": message})
    changed(session, master="devices")
    return dm


def update_device_model(
    session: Session, model_id: uuid.UUID | str, data: DeviceModelData, *, actor: Principal
) -> DeviceModel:
    actor.require(WRITE)
    dm = get_row(session, DeviceModel, model_id, "device model", lock=True)
    values = _check_device(data)
    _device_duplicate(session, values, dm.id)
    for key, value in values.items():
        setattr(dm, key, value)
    message = f"{values['manufacturer']} {values['model']} is already a device model"
    _save(session, dm, message, fields={"model": message})
    changed(session, master="devices")
    return dm


def set_device_model_active(
    session: Session, model_id: uuid.UUID | str, active: bool, *, actor: Principal
) -> DeviceModel:
    actor.require(WRITE)
    dm = get_row(session, DeviceModel, model_id, "device model", lock=True)
    dm.active = bool(active)
    session.add(dm)
    session.flush()
    changed(session, master="devices")
    return dm


def delete_device_model(session: Session, model_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require(WRITE)
    dm = get_row(session, DeviceModel, model_id, "device model", lock=True)
    _refuse_delete(
        f"{dm.manufacturer} {dm.model}",
        _refs(
            session,
            [
                (RepairAsset, RepairAsset.device_model_id == dm.id, "asset|assets"),
                (ExpectedDevice, ExpectedDevice.device_model_id == dm.id, "manifest line|manifest lines"),
                (PriceRule, PriceRule.device_model_id == dm.id, "price rule|price rules"),
            ],
        ),
    )
    session.delete(dm)
    session.flush()
    changed(session, master="devices")


def get_device_model(session: Session, model_id: uuid.UUID | str) -> DeviceModel:
    return get_row(session, DeviceModel, model_id, "device model")


@dataclass
class DeviceFilter(ListFilter):
    category: str = ""  # "" (all) or one of CATEGORIES


def list_device_models(session: Session, f: DeviceFilter) -> tuple[list[DeviceModel], int]:
    """The shop's device models: searched (manufacturer, model, variants), by category, sorted, paged."""
    sort = f.sort or "manufacturer"
    _check_choice(sort, DEVICE_SORTS, "sort")
    if f.category:
        _check_choice(f.category, CATEGORIES, "category")
    q = select(DeviceModel)
    q = _active_where(q, DeviceModel, f.active)
    if f.category:
        q = q.where(DeviceModel.category == f.category)
    q = _search(
        q,
        f.search,
        col(DeviceModel.manufacturer),
        col(DeviceModel.model),
        cast(col(DeviceModel.variants), String),
    )
    total = _count(session, q)
    column = {
        "model": func.lower(DeviceModel.model),
        "category": col(DeviceModel.category),
        "value": col(DeviceModel.typical_value),
        "created": col(DeviceModel.created_at),
    }.get(sort, func.lower(DeviceModel.manufacturer))
    offset, size = _page_bounds(f.page, f.page_size)
    rows = session.exec(
        q.order_by(
            column.desc() if f.descending else column.asc(),
            func.lower(DeviceModel.manufacturer),
            func.lower(DeviceModel.model),
            col(DeviceModel.id),
        )
        .offset(offset)
        .limit(size)
    ).all()
    return list(rows), total


def device_choices(session: Session, *, include: Iterable[uuid.UUID] = ()) -> list[tuple[str, str]]:
    """(id, "Manufacturer Model") of the active device models (and `include`): for drop-downs."""
    ids = [i for i in include if i]
    q = select(DeviceModel.id, DeviceModel.manufacturer, DeviceModel.model).where(
        or_(col(DeviceModel.active).is_(True), col(DeviceModel.id).in_(ids)) if ids else col(DeviceModel.active)
    )
    rows = session.exec(q.order_by(func.lower(DeviceModel.manufacturer), func.lower(DeviceModel.model))).all()
    return [(str(i), f"{m} {n}") for i, m, n in rows]


# --- teams -----------------------------------------------------------------------------------------


@dataclass
class TeamData:
    name: str
    description: str = ""


@dataclass
class TeamRow:
    team: RepairTeam
    members: int


def _check_team(data: TeamData) -> dict[str, Any]:
    p = Problems()
    out = {
        "name": clean_text(p, "name", data.name, 100, label="team's name", required=True),
        "description": clean_text(p, "description", data.description, 500, label="description"),
    }
    p.raise_any()
    return out


def create_team(session: Session, data: TeamData, *, actor: Principal) -> RepairTeam:
    actor.require(WRITE)
    values = _check_team(data)
    duplicate = f"there is already a team called {values['name']!r}"
    if _same_name(session, RepairTeam, RepairTeam.name, values["name"], None):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    team = RepairTeam(tenant_id=session_tenant_id(session), **values)
    _save(session, team, duplicate, fields={"name": duplicate})
    changed(session, master="teams")
    return team


def update_team(session: Session, team_id: uuid.UUID | str, data: TeamData, *, actor: Principal) -> RepairTeam:
    actor.require(WRITE)
    team = get_row(session, RepairTeam, team_id, "team", lock=True)
    values = _check_team(data)
    duplicate = f"there is already a team called {values['name']!r}"
    if _same_name(session, RepairTeam, RepairTeam.name, values["name"], team.id):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    team.name, team.description = values["name"], values["description"]
    _save(session, team, duplicate, fields={"name": duplicate})
    changed(session, master="teams")
    return team


def set_team_active(session: Session, team_id: uuid.UUID | str, active: bool, *, actor: Principal) -> RepairTeam:
    actor.require(WRITE)
    team = get_row(session, RepairTeam, team_id, "team", lock=True)
    team.active = bool(active)
    session.add(team)
    session.flush()
    changed(session, master="teams")
    return team


def delete_team(session: Session, team_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require(WRITE)
    team = get_row(session, RepairTeam, team_id, "team", lock=True)
    _refuse_delete(
        f"team {team.name!r}",
        _refs(
            session,
            [
                (Technician, Technician.team_id == team.id, "technician|technicians"),
                (Worksheet, Worksheet.team_id == team.id, "worksheet|worksheets"),
            ],
        ),
    )
    session.delete(team)
    session.flush()
    changed(session, master="teams")


def get_team(session: Session, team_id: uuid.UUID | str) -> RepairTeam:
    return get_row(session, RepairTeam, team_id, "team")


def list_teams(session: Session, f: ListFilter) -> tuple[list[TeamRow], int]:
    """The shop's teams with how many technicians each has: searched, sorted, paged."""
    sort = f.sort or "name"
    _check_choice(sort, TEAM_SORTS, "sort")
    members = (
        select(Technician.team_id, func.count().label("n"))
        .where(col(Technician.team_id).is_not(None))
        .group_by(col(Technician.team_id))
        .subquery()
    )
    n = func.coalesce(members.c.n, 0)
    q = select(RepairTeam, n).outerjoin(members, members.c.team_id == RepairTeam.id)
    q = _active_where(q, RepairTeam, f.active)
    q = _search(q, f.search, col(RepairTeam.name), col(RepairTeam.description))
    total = _count(session, q)
    column = {"members": n, "created": col(RepairTeam.created_at)}.get(sort, func.lower(RepairTeam.name))
    offset, size = _page_bounds(f.page, f.page_size)
    rows = session.exec(
        q.order_by(column.desc() if f.descending else column.asc(), func.lower(RepairTeam.name), col(RepairTeam.id))
        .offset(offset)
        .limit(size)
    ).all()
    return [TeamRow(team, int(count)) for team, count in rows], total


def team_choices(session: Session, *, include: Iterable[uuid.UUID] = ()) -> list[tuple[str, str]]:
    ids = [i for i in include if i]
    q = select(RepairTeam.id, RepairTeam.name).where(
        or_(col(RepairTeam.active).is_(True), col(RepairTeam.id).in_(ids)) if ids else col(RepairTeam.active)
    )
    return [(str(i), n) for i, n in session.exec(q.order_by(func.lower(RepairTeam.name))).all()]


# --- technicians ---------------------------------------------------------------------------------


@dataclass
class TechnicianData:
    name: str
    email: str = ""
    user_id: uuid.UUID | str | None = None  # a staff account of the shop
    team_id: uuid.UUID | str | None = None
    hourly_rate: Decimal | str | int = Decimal("0")


@dataclass
class TechnicianRow:
    technician: Technician
    team_name: str
    user_name: str


def _check_technician(session: Session, data: TechnicianData, exclude: uuid.UUID | None) -> dict[str, Any]:
    p = Problems()
    out: dict[str, Any] = {
        "name": clean_text(p, "name", data.name, 200, label="technician's name", required=True),
        "email": clean_text(p, "email", data.email, 254, label="e-mail address"),
        "hourly_rate": money_field(p, "hourly_rate", data.hourly_rate, label="hourly rate"),
    }
    if out["email"] and not EMAIL.match(out["email"]):
        p.add("email", "the e-mail address looks like name@example.com")
    team_id = _optional_id(p, "team_id", data.team_id, label="team")
    if team_id is not None and session.get(RepairTeam, team_id) is None:
        p.add("team_id", "that team does not exist (any more)")
    out["team_id"] = team_id
    user_id = _optional_id(p, "user_id", data.user_id, label="staff account")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None:
            p.add("user_id", "that staff account is not one of this shop's")
        else:
            q = select(Technician.name).where(Technician.user_id == user_id)
            if exclude is not None:
                q = q.where(Technician.id != exclude)
            other = session.exec(q).first()
            if other:
                p.add("user_id", f"that staff account is already linked to {other}")
    out["user_id"] = user_id
    p.raise_any()
    return out


def create_technician(session: Session, data: TechnicianData, *, actor: Principal) -> Technician:
    actor.require(WRITE)
    values = _check_technician(session, data, None)
    duplicate = f"there is already a technician called {values['name']!r}"
    if _same_name(session, Technician, Technician.name, values["name"], None):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    tech = Technician(tenant_id=session_tenant_id(session), **values)
    _save(session, tech, duplicate, fields={"name": duplicate})
    changed(session, master="technicians")
    return tech


def update_technician(
    session: Session, technician_id: uuid.UUID | str, data: TechnicianData, *, actor: Principal
) -> Technician:
    actor.require(WRITE)
    tech = get_row(session, Technician, technician_id, "technician", lock=True)
    values = _check_technician(session, data, tech.id)
    duplicate = f"there is already a technician called {values['name']!r}"
    if _same_name(session, Technician, Technician.name, values["name"], tech.id):
        raise Conflict(duplicate, details={"fields": {"name": duplicate}})
    for key, value in values.items():
        setattr(tech, key, value)
    _save(session, tech, duplicate, fields={"name": duplicate})
    changed(session, master="technicians")
    return tech


def set_technician_active(
    session: Session, technician_id: uuid.UUID | str, active: bool, *, actor: Principal
) -> Technician:
    actor.require(WRITE)
    tech = get_row(session, Technician, technician_id, "technician", lock=True)
    tech.active = bool(active)
    session.add(tech)
    session.flush()
    changed(session, master="technicians")
    return tech


def delete_technician(session: Session, technician_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require(WRITE)
    tech = get_row(session, Technician, technician_id, "technician", lock=True)
    _refuse_delete(
        f"technician {tech.name!r}",
        _refs(session, [(Worksheet, Worksheet.technician_id == tech.id, "worksheet|worksheets")]),
    )
    session.delete(tech)
    session.flush()
    changed(session, master="technicians")


def get_technician(session: Session, technician_id: uuid.UUID | str) -> Technician:
    return get_row(session, Technician, technician_id, "technician")


@dataclass
class TechnicianFilter(ListFilter):
    team_id: str = ""  # "" (every team) | "none" (no team) | a team's id


def list_technicians(session: Session, f: TechnicianFilter) -> tuple[list[TechnicianRow], int]:
    """The shop's technicians with their team and staff account: searched, by team, sorted, paged."""
    sort = f.sort or "name"
    _check_choice(sort, TECHNICIAN_SORTS, "sort")
    q = (
        select(Technician, RepairTeam.name, User.display_name, User.username)
        .outerjoin(RepairTeam, col(RepairTeam.id) == Technician.team_id)
        .outerjoin(User, col(User.id) == Technician.user_id)
    )
    q = _active_where(q, Technician, f.active)
    if f.team_id == "none":
        q = q.where(col(Technician.team_id).is_(None))
    elif f.team_id:
        q = q.where(Technician.team_id == as_uuid(f.team_id, "team id"))
    q = _search(q, f.search, col(Technician.name), col(Technician.email), col(RepairTeam.name))
    total = _count(session, q)
    column = {
        "team": func.lower(func.coalesce(RepairTeam.name, "")),
        "rate": col(Technician.hourly_rate),
        "created": col(Technician.created_at),
    }.get(sort, func.lower(Technician.name))
    offset, size = _page_bounds(f.page, f.page_size)
    rows = session.exec(
        q.order_by(column.desc() if f.descending else column.asc(), func.lower(Technician.name), col(Technician.id))
        .offset(offset)
        .limit(size)
    ).all()
    return [TechnicianRow(t, team or "", (display or username or "")) for t, team, display, username in rows], total


def staff_choices(session: Session) -> list[tuple[str, str]]:
    """(id, name) of the shop's active staff accounts: to link a technician to."""
    rows = session.exec(
        select(User.id, User.display_name, User.username)
        .where(col(User.is_active).is_(True))
        .order_by(func.lower(func.coalesce(func.nullif(User.display_name, ""), User.username)))
    ).all()
    return [(str(i), f"{d} ({u})" if d else u) for i, d, u in rows]


# --- repair codes --------------------------------------------------------------------------------


@dataclass
class CodeData:
    code: str
    name: str
    category: str = "other"
    default_labour_minutes: int | str = 30


@dataclass
class CodeFilter(ListFilter):
    origin: str = ""  # "" (all) | canonical | shop
    category: str = ""


def is_canonical(code: RepairCode) -> bool:
    return code.tenant_id is None


def _check_code(session: Session, data: CodeData, exclude: uuid.UUID | None) -> dict[str, Any]:
    p = Problems()
    code = str(data.code or "").strip().upper().replace(" ", "-")
    if not _CODE.match(code):
        p.add("code", "the code has 2 to 40 capital letters, digits and dashes (such as HINGE-REPL)")
    else:
        canonical = session.exec(
            select(RepairCode.name).where(col(RepairCode.tenant_id).is_(None), RepairCode.code == code)
        ).first()
        if canonical:
            p.add("code", f"{code} is a canonical code ({canonical}): use it, or give your code another name")
        else:
            q = (
                select(func.count())
                .select_from(RepairCode)
                .where(col(RepairCode.tenant_id).is_not(None), RepairCode.code == code)
            )
            if exclude is not None:
                q = q.where(RepairCode.id != exclude)
            if session.exec(q).one():
                p.add("code", f"your shop already has the code {code}")
    category = str(data.category or "").strip().lower() or "other"
    if category not in CODE_CATEGORIES:
        p.add("category", f"the category is one of {', '.join(CODE_CATEGORIES)}")
    out: dict[str, Any] = {
        "code": code,
        "name": clean_text(p, "name", data.name, 200, label="code's name", required=True),
        "category": category,
        "default_labour_minutes": whole_number(
            p, "default_labour_minutes", data.default_labour_minutes, 0, 1440, label="labour (minutes)"
        ),
    }
    p.raise_any()
    return out


def _own_code(session: Session, code_id: uuid.UUID | str, *, lock: bool = True) -> RepairCode:
    code = get_row(session, RepairCode, code_id, "repair code", lock=lock)
    if is_canonical(code):
        raise Forbidden(
            f"{code.code} is a canonical code shared by every shop: it cannot be changed or deactivated; "
            "add a code of your own instead"
        )
    return code


def create_code(session: Session, data: CodeData, *, actor: Principal) -> RepairCode:
    """A repair code of this shop's own (never a canonical code's name)."""
    actor.require(WRITE)
    values = _check_code(session, data, None)
    code = RepairCode(tenant_id=session_tenant_id(session), **values)
    duplicate = f"your shop already has the code {values['code']}"
    _save(session, code, duplicate, fields={"code": duplicate})
    changed(session, master="codes")
    return code


def update_code(session: Session, code_id: uuid.UUID | str, data: CodeData, *, actor: Principal) -> RepairCode:
    actor.require(WRITE)
    code = _own_code(session, code_id)
    values = _check_code(session, data, code.id)
    for key, value in values.items():
        setattr(code, key, value)
    duplicate = f"your shop already has the code {values['code']}"
    _save(session, code, duplicate, fields={"code": duplicate})
    changed(session, master="codes")
    return code


def set_code_active(session: Session, code_id: uuid.UUID | str, active: bool, *, actor: Principal) -> RepairCode:
    actor.require(WRITE)
    code = _own_code(session, code_id)
    code.active = bool(active)
    session.add(code)
    session.flush()
    changed(session, master="codes")
    return code


def delete_code(session: Session, code_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require(WRITE)
    code = _own_code(session, code_id)
    _refuse_delete(
        f"code {code.code}",
        _refs(
            session,
            [
                (DeviceRepairCode, DeviceRepairCode.repair_code_id == code.id, "asset code|asset codes"),
                (DrfoneCodeMapping, DrfoneCodeMapping.repair_code_id == code.id, "code mapping|code mappings"),
                (PriceRule, PriceRule.repair_code_id == code.id, "price rule|price rules"),
            ],
        ),
    )
    session.delete(code)
    session.flush()
    changed(session, master="codes")


def get_code(session: Session, code_id: uuid.UUID | str) -> RepairCode:
    return get_row(session, RepairCode, code_id, "repair code")


def list_codes(session: Session, f: CodeFilter) -> tuple[list[RepairCode], int]:
    """The catalogue this shop sees: the canonical codes and its own (row-level
    security hides other shops'); searched, by origin and category, sorted, paged."""
    sort = f.sort or "code"
    _check_choice(sort, CODE_SORTS, "sort")
    _check_choice(f.origin, ("", "canonical", "shop"), "origin")
    if f.category:
        _check_choice(f.category, CODE_CATEGORIES, "category")
    q = select(RepairCode)
    q = _active_where(q, RepairCode, f.active)
    if f.origin == "canonical":
        q = q.where(col(RepairCode.tenant_id).is_(None))
    elif f.origin == "shop":
        q = q.where(col(RepairCode.tenant_id).is_not(None))
    if f.category:
        q = q.where(RepairCode.category == f.category)
    q = _search(q, f.search, col(RepairCode.code), col(RepairCode.name), col(RepairCode.category))
    total = _count(session, q)
    column = {
        "name": func.lower(RepairCode.name),
        "category": col(RepairCode.category),
        "minutes": col(RepairCode.default_labour_minutes),
    }.get(sort, col(RepairCode.code))
    offset, size = _page_bounds(f.page, f.page_size)
    rows = session.exec(
        q.order_by(column.desc() if f.descending else column.asc(), col(RepairCode.code), col(RepairCode.id))
        .offset(offset)
        .limit(size)
    ).all()
    return list(rows), total


def code_choices(session: Session, *, include: Iterable[uuid.UUID] = ()) -> list[tuple[str, str]]:
    """(id, "CODE · name") of the active codes this shop sees (and `include`): for drop-downs."""
    ids = [i for i in include if i]
    q = select(RepairCode.id, RepairCode.code, RepairCode.name).where(
        or_(col(RepairCode.active).is_(True), col(RepairCode.id).in_(ids)) if ids else col(RepairCode.active)
    )
    return [(str(i), f"{c} · {n}") for i, c, n in session.exec(q.order_by(col(RepairCode.code))).all()]


def code_by_name(session: Session, code: str) -> RepairCode | None:
    """The code this shop means by `code` (its own or the canonical one)."""
    return session.exec(
        select(RepairCode)
        .where(RepairCode.code == code.strip().upper())
        .order_by(col(RepairCode.tenant_id).nulls_last())
    ).first()


# --- price rules ---------------------------------------------------------------------------------


@dataclass
class PriceRuleData:
    price: Decimal | str | int
    client_id: uuid.UUID | str | None = None  # None: every client (a default rule)
    repair_code_id: uuid.UUID | str | None = None
    device_model_id: uuid.UUID | str | None = None
    valid_from: date | str | None = None
    valid_to: date | str | None = None
    description: str = ""


@dataclass
class PriceRuleRow:
    rule: PriceRule
    client_name: str  # "" for a default rule
    code: str
    code_name: str
    model_name: str

    @property
    def specificity(self) -> str:
        """Which kind of rule this is, in words ("Client · code + model")."""
        return rule_kind(self.rule)


@dataclass
class PriceRuleFilter(ListFilter):
    client_id: str = ""  # "" (all) | "default" | a client's id
    on: date | None = None  # only rules valid on this day


def rule_kind(rule: PriceRule) -> str:
    who = "Client" if rule.client_id else "Default"
    what = (
        "code + model"
        if rule.repair_code_id and rule.device_model_id
        else ("code" if rule.repair_code_id else "model (flat)")
    )
    return f"{who} · {what}"


def _check_rule(session: Session, data: PriceRuleData) -> dict[str, Any]:
    p = Problems()
    out: dict[str, Any] = {
        "price": money_field(p, "price", data.price, label="price"),
        "description": clean_text(p, "description", data.description, 200, label="description"),
    }
    if data.price in (None, ""):
        p.add("price", "give the price")
    client_id = _optional_id(p, "client_id", data.client_id, label="client")
    if client_id is not None and session.get(RepairClient, client_id) is None:
        p.add("client_id", "that client does not exist (any more)")
    code_id = _optional_id(p, "repair_code_id", data.repair_code_id, label="repair code")
    if code_id is not None and session.get(RepairCode, code_id) is None:
        p.add("repair_code_id", "that repair code does not exist (any more)")
    model_id = _optional_id(p, "device_model_id", data.device_model_id, label="device model")
    if model_id is not None and session.get(DeviceModel, model_id) is None:
        p.add("device_model_id", "that device model does not exist (any more)")
    if code_id is None and model_id is None and "repair_code_id" not in p.fields and "device_model_id" not in p.fields:
        p.add("repair_code_id", "a rule prices a repair code, a device model or both: choose at least one")
    valid_from = _day(p, "valid_from", data.valid_from, label="first day")
    valid_to = _day(p, "valid_to", data.valid_to, label="last day")
    if valid_from and valid_to and valid_to < valid_from:
        p.add("valid_to", "the last day comes on or after the first day")
    out.update(
        client_id=client_id,
        repair_code_id=code_id,
        device_model_id=model_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    p.raise_any()
    return out


def _span(valid_from: date | None, valid_to: date | None) -> str:
    if valid_from and valid_to:
        return f"{valid_from.isoformat()} to {valid_to.isoformat()}"
    if valid_from:
        return f"from {valid_from.isoformat()}"
    if valid_to:
        return f"until {valid_to.isoformat()}"
    return "always"


def _refuse_overlap(session: Session, values: dict[str, Any], exclude: uuid.UUID | None) -> None:
    """No two rules for the same target (client, code, model) valid on a same day.
    Serialised per target with a transaction lock, so two requests at once cannot both pass."""
    tid = session_tenant_id(session)
    key = f"price-rule:{tid}:{values['client_id']}:{values['repair_code_id']}:{values['device_model_id']}"
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
    q = select(PriceRule).where(
        col(PriceRule.client_id).is_not_distinct_from(values["client_id"]),
        col(PriceRule.repair_code_id).is_not_distinct_from(values["repair_code_id"]),
        col(PriceRule.device_model_id).is_not_distinct_from(values["device_model_id"]),
    )
    if exclude is not None:
        q = q.where(PriceRule.id != exclude)
    if values["valid_to"] is not None:
        q = q.where(or_(col(PriceRule.valid_from).is_(None), col(PriceRule.valid_from) <= values["valid_to"]))
    if values["valid_from"] is not None:
        q = q.where(or_(col(PriceRule.valid_to).is_(None), col(PriceRule.valid_to) >= values["valid_from"]))
    other = session.exec(q.limit(1)).first()
    if other is not None:
        message = (
            f"a rule for the same client, code and model is already valid {_span(other.valid_from, other.valid_to)} "
            f"(price {other.price}): end it first or choose dates that do not overlap"
        )
        raise Conflict(message, code="overlapping_rule", details={"fields": {"valid_from": message}})


def create_price_rule(session: Session, data: PriceRuleData, *, actor: Principal) -> PriceRule:
    actor.require(WRITE)
    values = _check_rule(session, data)
    _refuse_overlap(session, values, None)
    rule = PriceRule(tenant_id=session_tenant_id(session), **values)
    _save(session, rule, "the price rule could not be saved")
    changed(session, master="prices")
    return rule


def update_price_rule(
    session: Session, rule_id: uuid.UUID | str, data: PriceRuleData, *, actor: Principal
) -> PriceRule:
    actor.require(WRITE)
    rule = get_row(session, PriceRule, rule_id, "price rule", lock=True)
    values = _check_rule(session, data)
    _refuse_overlap(session, values, rule.id)
    for key, value in values.items():
        setattr(rule, key, value)
    _save(session, rule, "the price rule could not be saved")
    changed(session, master="prices")
    return rule


def delete_price_rule(session: Session, rule_id: uuid.UUID | str, *, actor: Principal) -> None:
    """Price rules are only read when pricing: deleting one leaves invoices as they were."""
    actor.require(WRITE)
    rule = get_row(session, PriceRule, rule_id, "price rule", lock=True)
    session.delete(rule)
    session.flush()
    changed(session, master="prices")


def get_price_rule(session: Session, rule_id: uuid.UUID | str) -> PriceRuleRow:
    rule = get_row(session, PriceRule, rule_id, "price rule")
    rows, _ = _rule_rows(session, _rule_query().where(col(PriceRule.id) == rule.id), PriceRuleFilter(page_size=1))
    return rows[0]


def _rule_query():
    return (
        sa_select(
            PriceRule,
            col(RepairClient.name),
            col(RepairCode.code),
            col(RepairCode.name),
            col(DeviceModel.manufacturer),
            col(DeviceModel.model),
        )
        .outerjoin(RepairClient, col(RepairClient.id) == PriceRule.client_id)
        .outerjoin(RepairCode, col(RepairCode.id) == PriceRule.repair_code_id)
        .outerjoin(DeviceModel, col(DeviceModel.id) == PriceRule.device_model_id)
    )


def _rule_rows(session: Session, q, f: PriceRuleFilter) -> tuple[list[PriceRuleRow], int]:
    sort = f.sort or "client"
    _check_choice(sort, RULE_SORTS, "sort")
    total = _count(session, q)
    model_name = func.lower(func.coalesce(DeviceModel.manufacturer, "") + " " + func.coalesce(DeviceModel.model, ""))
    column = {
        "code": func.coalesce(RepairCode.code, ""),
        "model": model_name,
        "price": col(PriceRule.price),
        "valid_from": col(PriceRule.valid_from),
    }.get(sort, func.lower(func.coalesce(RepairClient.name, "")))
    offset, size = _page_bounds(f.page, f.page_size)
    ordered = column.desc().nulls_last() if f.descending else column.asc().nulls_first()
    rows = session.execute(
        q.order_by(
            ordered,
            func.coalesce(RepairCode.code, ""),
            model_name,
            col(PriceRule.valid_from).asc().nulls_first(),
            col(PriceRule.id),
        )
        .offset(offset)
        .limit(size)
    ).all()
    out = [
        PriceRuleRow(
            rule=r,
            client_name=client or "",
            code=code or "",
            code_name=code_name or "",
            model_name=f"{maker} {model}" if model else "",
        )
        for r, client, code, code_name, maker, model in rows
    ]
    return out, total


def list_price_rules(session: Session, f: PriceRuleFilter) -> tuple[list[PriceRuleRow], int]:
    """The shop's price rules with the names of their client, code and model:
    searched (client, code, model, description), by client, valid on a day, sorted, paged."""
    q = _rule_query()
    if f.client_id == "default":
        q = q.where(col(PriceRule.client_id).is_(None))
    elif f.client_id:
        q = q.where(col(PriceRule.client_id) == as_uuid(f.client_id, "client id"))
    if f.on is not None:
        q = q.where(
            or_(col(PriceRule.valid_from).is_(None), col(PriceRule.valid_from) <= f.on),
            or_(col(PriceRule.valid_to).is_(None), col(PriceRule.valid_to) >= f.on),
        )
    q = _search(
        q,
        f.search,
        func.coalesce(RepairClient.name, "every client"),
        func.coalesce(RepairCode.code, ""),
        func.coalesce(RepairCode.name, ""),
        func.coalesce(DeviceModel.manufacturer, "") + " " + func.coalesce(DeviceModel.model, ""),
        col(PriceRule.description),
    )
    return _rule_rows(session, q, f)


# The order in which rules win: (has client, has code, has model), most specific first.
PRECEDENCE: tuple[tuple[bool, bool, bool], ...] = (
    (True, True, True),
    (True, True, False),
    (True, False, True),
    (False, True, True),
    (False, True, False),
    (False, False, True),
)


def rule_for(
    session: Session,
    *,
    client_id: uuid.UUID | str | None,
    repair_code_id: uuid.UUID | str | None = None,
    device_model_id: uuid.UUID | str | None = None,
    on: date | None = None,
) -> PriceRule | None:
    """The rule `price_for` uses (None: no rule applies)."""
    if repair_code_id is None and device_model_id is None:
        return None
    client = as_uuid(client_id, "client id") if client_id else None
    code = as_uuid(repair_code_id, "repair code id") if repair_code_id else None
    model = as_uuid(device_model_id, "device model id") if device_model_id else None
    day = on or date.today()
    q = select(PriceRule).where(
        or_(col(PriceRule.valid_from).is_(None), col(PriceRule.valid_from) <= day),
        or_(col(PriceRule.valid_to).is_(None), col(PriceRule.valid_to) >= day),
        or_(col(PriceRule.client_id).is_(None), col(PriceRule.client_id) == client)
        if client
        else col(PriceRule.client_id).is_(None),
        or_(col(PriceRule.repair_code_id).is_(None), col(PriceRule.repair_code_id) == code)
        if code
        else col(PriceRule.repair_code_id).is_(None),
        or_(col(PriceRule.device_model_id).is_(None), col(PriceRule.device_model_id) == model)
        if model
        else col(PriceRule.device_model_id).is_(None),
    )
    best: tuple[int, PriceRule] | None = None
    for rule in session.exec(q).all():
        shape = (rule.client_id is not None, rule.repair_code_id is not None, rule.device_model_id is not None)
        if shape not in PRECEDENCE:
            continue
        rank = PRECEDENCE.index(shape)
        if best is None or rank < best[0]:
            best = (rank, rule)
    return best[1] if best else None


def price_for(
    session: Session,
    *,
    client_id: uuid.UUID | str | None,
    repair_code_id: uuid.UUID | str | None = None,
    device_model_id: uuid.UUID | str | None = None,
    on: date | None = None,
) -> Decimal | None:
    """The price of a repair code (and/or device model) for a client on a day
    (default: today): the most specific rule valid that day wins (client +
    code + model, client + code, client + model, default code + model,
    default code, default model). None when no rule applies."""
    rule = rule_for(session, client_id=client_id, repair_code_id=repair_code_id, device_model_id=device_model_id, on=on)
    return rule.price if rule else None
