"""Spare parts for repairs (issue 17, "Parts and worksheets"): the screens,
batteries, charge ports… a shop keeps to repair phones, tablets and laptops.
Each part has units on the shelf (`SparePart.current_stock`, never below
zero) that move only through the inventory ledger, like the printed
products and the PC parts:

- RECEIVED (IN): a delivery (or the opening stock of a new part);
- ADJUSTMENT_IN / ADJUSTMENT_OUT: a count or a correction by hand, with a reason;
- ISSUED (OUT): units taken to a repair worksheet (reference WORKSHEET, its id);
- RETURNED (IN): units a worksheet did not use, back on the shelf (never more
  than were issued to that worksheet and not yet returned).

So per part Σ IN - Σ OUT of its entries is its stock
(`app.inventory.consistency` checks it).

Issuing and returning take an idempotency key (the API's Idempotency-Key
header): a request repeated with the same key returns the entry the first
one wrote and changes nothing, also when both arrive at once (the part's row
lock makes them wait for each other; the ledger's unique key index decides
the rest). The same key sent with a different request is refused.

Every change locks the part's row first, so two repairs racing for the last
screen never both get it. Staff who may see inventory hear once when a part
drops below its minimum (again only after it was back at or above it: each
change knows the figure before and after under the lock).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from sqlalchemy import Text, case, cast, func, or_, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.inventory.models import InventoryTransaction, SparePart
from app.inventory.service._common import changed
from app.orders import service as orders
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.notifications import notify_staff
from app.platform.text import like_pattern, strip_nul

CATEGORIES = ("screen", "battery", "port", "camera", "housing", "board", "other")
CATEGORY_WORDS = {
    "screen": "Screen",
    "battery": "Battery",
    "port": "Charge port",
    "camera": "Camera",
    "housing": "Housing",
    "board": "Board",
    "other": "Other",
}
SPARE_STATUSES = ("ok", "low", "out")  # out: none on the shelf; low: below its minimum
SPARE_STATUS_WORDS = {"ok": "In stock", "low": "Low", "out": "Out of stock"}
SPARE_SORTS = {
    "sku": "SKU",
    "name": "name",
    "category": "category",
    "stock": "on the shelf",
    "minimum": "minimum",
    "cost": "unit cost",
    "updated": "last change",
}
# the ledger entries of spare parts and the way each moves the shelf
SPARE_DIRECTION = {
    "RECEIVED": "IN",
    "RETURNED": "IN",
    "ADJUSTMENT_IN": "IN",
    "ISSUED": "OUT",
    "ADJUSTMENT_OUT": "OUT",
}
SPARE_TYPE_WORDS = {
    "RECEIVED": "Received",
    "ISSUED": "Issued to a worksheet",
    "RETURNED": "Returned from a worksheet",
    "ADJUSTMENT_IN": "Adjusted in",
    "ADJUSTMENT_OUT": "Adjusted out",
}
WORKSHEET = "WORKSHEET"
MAX_UNITS = 100_000
MAX_MODELS = 50
MAX_COST = Decimal("9999999999.99")
MAX_KEY = 100
SPARE_PARTS_LINK = "/inventory/spare-parts"


# --- input ---------------------------------------------------------------------------------------


@dataclass
class SparePartData:
    """What a person (or an import) says about a spare part. `stock`: the
    units on the shelf when it is created (a RECEIVED entry), or, in an
    import of an existing part, the counted units (an adjustment to them);
    None leaves the figure alone. `update_spare_part` never changes the stock."""

    sku: str
    name: str
    manufacturer: str = ""
    category: str = "other"
    compatible_models: Sequence[str] = field(default_factory=list)
    unit_cost: Decimal | str | int | float = Decimal("0.00")
    minimum_stock: int = 0
    location: str = ""
    active: bool = True
    stock: int | None = None


@dataclass
class _Clean:
    sku: str
    name: str
    manufacturer: str
    category: str
    compatible_models: list[str]
    unit_cost: Decimal
    minimum_stock: int
    location: str
    active: bool
    stock: int | None


def _line(value: object) -> str:
    return " ".join(strip_nul(str(value or "")).split())


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _cost(value: object) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip().replace(",", ".")) if str(value).strip() else Decimal("0")
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_COST or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def spare_part_errors(data: SparePartData) -> dict[str, str]:
    """What is wrong with a spare part's fields, by field (the dialog, the API's 422)."""
    return _clean(data)[1]


def _clean(data: SparePartData) -> tuple[_Clean, dict[str, str]]:
    errors: dict[str, str] = {}
    sku = _line(data.sku)
    if not sku:
        errors["sku"] = "Give the part a SKU (your article number)."
    elif len(sku) > 100:
        errors["sku"] = "The SKU is at most 100 characters."
    name = _line(data.name)
    if not name:
        errors["name"] = "Give the part a name (say, “iPhone 12 screen, OLED”)."
    elif len(name) > 200:
        errors["name"] = "The name is at most 200 characters."
    manufacturer = _line(data.manufacturer)
    if len(manufacturer) > 100:
        errors["manufacturer"] = "The manufacturer is at most 100 characters."
    category = _line(data.category).lower() or "other"
    if len(category) > 40:
        errors["category"] = "The category is at most 40 characters."
    raw_models = data.compatible_models
    if isinstance(raw_models, str):
        raw_models = raw_models.split(",")
    models: list[str] = []
    for m in raw_models or []:
        m = _line(m)
        if m and m.lower() not in {x.lower() for x in models}:
            models.append(m)
    if len(models) > MAX_MODELS:
        errors["compatibleModels"] = f"At most {MAX_MODELS} compatible models."
    elif any(len(m) > 100 for m in models):
        errors["compatibleModels"] = "Each compatible model is at most 100 characters."
    cost = _cost(data.unit_cost)
    if cost is None:
        errors["unitCost"] = "The unit cost is an amount of 0 or more with at most two decimals (say, 24.90)."
    minimum = _whole(data.minimum_stock)
    if minimum is None or not 0 <= minimum <= MAX_UNITS:
        errors["minimumStock"] = f"The minimum is a whole number from 0 to {MAX_UNITS:,}."
    location = _line(data.location)
    if len(location) > 100:
        errors["location"] = "The location is at most 100 characters."
    stock = None if data.stock is None else _whole(data.stock)
    if data.stock is not None and (stock is None or not 0 <= stock <= MAX_UNITS):
        errors["stock"] = f"The units on the shelf are a whole number from 0 to {MAX_UNITS:,}."
    clean = _Clean(
        sku=sku,
        name=name,
        manufacturer=manufacturer,
        category=category,
        compatible_models=models,
        unit_cost=cost if cost is not None else Decimal("0.00"),
        minimum_stock=minimum if minimum is not None else 0,
        location=location,
        active=bool(data.active),
        stock=stock,
    )
    return clean, errors


def _valid(data: SparePartData) -> _Clean:
    clean, errors = _clean(data)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), details={"fields": errors})
    return clean


def _units(quantity: object, what: str = "the quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_UNITS:
        raise ValidationFailed(
            f"{what} is a whole number from 1 to {MAX_UNITS:,}",
            details={"fields": {"quantity": "Write a whole number of units, 1 or more."}},
        )
    return quantity


def _reason(reason: str, *, required: bool) -> str:
    reason = _line(reason)
    if required and not reason:
        raise ValidationFailed(
            "give a reason (a count, damage, a correction…)", details={"fields": {"reason": "Give a reason."}}
        )
    if len(reason) > 500:
        raise ValidationFailed(
            "the reason is at most 500 characters", details={"fields": {"reason": "At most 500 characters."}}
        )
    return reason


def _key(idempotency_key: object) -> str:
    key = strip_nul(str(idempotency_key or "")).strip()
    if not key:
        raise ValidationFailed(
            "an idempotency key is needed (a retried request must not issue twice)",
            code="idempotency_key_missing",
            details={"fields": {"idempotencyKey": "Send an Idempotency-Key."}},
        )
    if len(key) > MAX_KEY:
        raise ValidationFailed(
            f"the idempotency key is at most {MAX_KEY} characters",
            details={"fields": {"idempotencyKey": f"At most {MAX_KEY} characters."}},
        )
    return key


def _worksheet(worksheet_id: object) -> uuid.UUID:
    try:
        return worksheet_id if isinstance(worksheet_id, uuid.UUID) else uuid.UUID(str(worksheet_id))
    except ValueError as exc:
        raise ValidationFailed(
            "the worksheet is named by its id", details={"fields": {"worksheetId": "Not a worksheet id."}}
        ) from exc


# --- reading -------------------------------------------------------------------------------------


def spare_status(part: SparePart) -> str:
    """out (none on the shelf) | low (below its minimum) | ok."""
    if part.current_stock <= 0:
        return "out"
    if part.current_stock < part.minimum_stock:
        return "low"
    return "ok"


def _status_expr():
    return case(
        (col(SparePart.current_stock) <= 0, "out"),
        (col(SparePart.current_stock) < col(SparePart.minimum_stock), "low"),
        else_="ok",
    )


@dataclass
class SparePartFilter:
    search: str = ""  # words, each found in the SKU, name, manufacturer or a compatible model
    category: str = ""  # "" (all) or a category
    status: str = ""  # "" (all) | low (below minimum, out ones too) | out (none on the shelf)
    active: bool | None = None  # None: all; True: in use; False: retired
    sort: str = "sku"
    descending: bool = False
    page: int = 0
    page_size: int = 25


def list_spare_parts(session: Session, f: SparePartFilter) -> tuple[list[SparePart], int]:
    """The shop's spare parts (GET /inventory/spare-parts, the table):
    searched, filtered, sorted, paged; and how many match in all."""
    if f.status and f.status not in ("low", "out", "ok"):
        raise ValidationFailed("the status is low, out or ok")
    if f.sort and f.sort not in SPARE_SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(SPARE_SORTS)}")
    q = select(SparePart)
    for word in f.search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(
            or_(
                col(SparePart.sku).ilike(pattern),
                col(SparePart.name).ilike(pattern),
                col(SparePart.manufacturer).ilike(pattern),
                cast(SparePart.compatible_models, Text).ilike(pattern),
            )
        )
    if f.category:
        q = q.where(col(SparePart.category) == f.category.strip().lower())
    if f.status == "low":
        q = q.where(col(SparePart.current_stock) < col(SparePart.minimum_stock))
    elif f.status == "out":
        q = q.where(col(SparePart.current_stock) <= 0)
    elif f.status == "ok":
        q = q.where(_status_expr() == "ok")
    if f.active is not None:
        q = q.where(col(SparePart.active) == f.active)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    column = {
        "name": func.lower(SparePart.name),
        "category": col(SparePart.category),
        "stock": col(SparePart.current_stock),
        "minimum": col(SparePart.minimum_stock),
        "cost": col(SparePart.unit_cost),
        "updated": col(SparePart.updated_at),
    }.get(f.sort, func.lower(SparePart.sku))
    size = max(1, min(f.page_size, 500))
    q = (
        q.order_by(column.desc() if f.descending else column.asc(), func.lower(SparePart.sku), col(SparePart.id))
        .offset(max(0, f.page) * size)
        .limit(size)
    )
    return list(session.exec(q).all()), int(total)


def spare_counts(session: Session) -> dict[str, int]:
    """Spare parts per status (ok, low, out), and `all`; `below_minimum` counts the low and out ones
    whose minimum they are under (what the low filter shows)."""
    counts: dict[str, int] = dict.fromkeys(SPARE_STATUSES, 0)
    status = _status_expr()
    for st, n in session.exec(select(status, func.count()).select_from(SparePart).group_by(status)):
        counts[st] = int(n)
    counts["all"] = sum(counts[s] for s in SPARE_STATUSES)
    counts["below_minimum"] = int(
        session.exec(
            select(func.count())
            .select_from(SparePart)
            .where(col(SparePart.current_stock) < col(SparePart.minimum_stock))
        ).one()
    )
    return counts


def _part(session: Session, part_id: uuid.UUID | str, *, lock: bool = False) -> SparePart:
    try:
        ident = part_id if isinstance(part_id, uuid.UUID) else uuid.UUID(str(part_id))
    except ValueError as exc:
        raise NotFound("no such spare part") from exc
    q = select(SparePart).where(SparePart.id == ident)
    if lock:
        q = q.with_for_update()
    part = session.exec(q.execution_options(populate_existing=True)).first()
    if part is None:
        raise NotFound("no such spare part")
    return part


def get_spare_part(session: Session, part_id: uuid.UUID | str) -> SparePart:
    """One spare part (NotFound when the shop has none with that id)."""
    return _part(session, part_id)


def get_spare_part_by_sku(session: Session, sku: str) -> SparePart | None:
    return session.exec(select(SparePart).where(SparePart.sku == _line(sku))).first()


def spare_part_ledger(
    session: Session, part_id: uuid.UUID | str, limit: int = 50, *, offset: int = 0
) -> list[InventoryTransaction]:
    """A spare part's ledger entries, newest first."""
    part = _part(session, part_id)
    return list(
        session.exec(
            select(InventoryTransaction)
            .where(InventoryTransaction.spare_part_id == part.id)
            .order_by(col(InventoryTransaction.created_at).desc(), col(InventoryTransaction.id).desc())
            .offset(max(0, offset))
            .limit(max(1, min(limit, 500)))
        ).all()
    )


def spare_part_ledger_count(session: Session, part_id: uuid.UUID) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(InventoryTransaction).where(InventoryTransaction.spare_part_id == part_id)
        ).one()
    )


def _signed():
    return case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )


def spare_part_ledger_sum(session: Session, part_id: uuid.UUID) -> int:
    """Σ IN - Σ OUT of the part's entries: always its units on the shelf."""
    return int(
        session.exec(
            select(func.coalesce(func.sum(_signed()), 0)).where(InventoryTransaction.spare_part_id == part_id)
        ).one()
    )


@dataclass
class IssuedPart:
    """A spare part a worksheet holds: issued, returned, and what it costs
    (the part's unit cost now)."""

    part: SparePart
    issued: int
    returned: int
    unit_cost: Decimal

    @property
    def used(self) -> int:
        """Issued and not returned: the units the repair keeps."""
        return self.issued - self.returned

    @property
    def cost(self) -> Decimal:
        return self.unit_cost * self.used


def _worksheet_sums(session: Session, worksheet_id: uuid.UUID, part_id: uuid.UUID | None = None):
    issued = func.coalesce(
        func.sum(case((col(InventoryTransaction.transaction_type) == "ISSUED", InventoryTransaction.quantity))), 0
    )
    returned = func.coalesce(
        func.sum(case((col(InventoryTransaction.transaction_type) == "RETURNED", InventoryTransaction.quantity))), 0
    )
    q = (
        select(InventoryTransaction.spare_part_id, issued, returned)
        .where(
            InventoryTransaction.reference_type == WORKSHEET,
            InventoryTransaction.reference_id == str(worksheet_id),
            col(InventoryTransaction.spare_part_id).is_not(None),
        )
        .group_by(col(InventoryTransaction.spare_part_id))
    )
    if part_id is not None:
        q = q.where(InventoryTransaction.spare_part_id == part_id)
    return session.exec(q).all()


def issued_to_worksheet(session: Session, worksheet_id: uuid.UUID | str) -> list[IssuedPart]:
    """The spare parts issued to a worksheet, each with the units issued and
    returned and its unit cost, by name."""
    ws = _worksheet(worksheet_id)
    sums = {pid: (int(i), int(r)) for pid, i, r in _worksheet_sums(session, ws) if pid is not None}
    if not sums:
        return []
    parts = session.exec(select(SparePart).where(col(SparePart.id).in_(list(sums)))).all()
    out = [IssuedPart(p, sums[p.id][0], sums[p.id][1], p.unit_cost) for p in parts]
    return sorted(out, key=lambda x: (x.part.name.lower(), x.part.sku))


def outstanding(session: Session, part_id: uuid.UUID, worksheet_id: uuid.UUID) -> int:
    """Units of the part issued to the worksheet and not yet returned."""
    rows = _worksheet_sums(session, worksheet_id, part_id)
    return sum(int(i) - int(r) for _, i, r in rows)


# --- creating and editing -------------------------------------------------------------------------


def _sku_taken(session: Session, sku: str, but: uuid.UUID | None = None) -> None:
    other = get_spare_part_by_sku(session, sku)
    if other is not None and other.id != but:
        raise Conflict(
            f"the SKU {sku} is already used by {other.name}",
            code="sku_taken",
            details={"fields": {"sku": f"Already used by {other.name}."}},
        )


def _entry(
    session: Session,
    part: SparePart,
    kind: str,
    quantity: int,
    *,
    reference_type: str = "MANUAL",
    reference_id: uuid.UUID | str | None = None,
    reason: str = "",
    actor: Principal | None,
    idempotency_key: str | None = None,
) -> InventoryTransaction:
    entry = InventoryTransaction(
        tenant_id=session_tenant_id(session),
        spare_part_id=part.id,
        sku=part.sku[:100],
        transaction_type=kind,
        quantity=quantity,
        direction=SPARE_DIRECTION[kind],
        reference_type=reference_type,
        reference_id=str(reference_id or "")[:64],
        reason=reason[:500],
        stock_after=part.current_stock,
        actor_user_id=actor.user_id if actor else None,
        idempotency_key=idempotency_key,
    )
    session.add(entry)
    changed(session)
    return entry


def create_spare_part(session: Session, data: SparePartData, *, actor: Principal) -> SparePart:
    """A new spare part; units given as `stock` open its ledger (RECEIVED).
    A SKU the shop already uses is refused (Conflict)."""
    actor.require("inventory.write")
    c = _valid(data)
    _sku_taken(session, c.sku)
    now = utcnow()
    part = SparePart(
        tenant_id=session_tenant_id(session),
        sku=c.sku,
        name=c.name,
        manufacturer=c.manufacturer,
        category=c.category,
        compatible_models=c.compatible_models,
        unit_cost=c.unit_cost,
        current_stock=c.stock or 0,
        minimum_stock=c.minimum_stock,
        location=c.location,
        active=c.active,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(part)
            session.flush()
    except IntegrityError as exc:  # another request created the same SKU meanwhile
        raise Conflict(
            f"the SKU {c.sku} is already used by another part",
            code="sku_taken",
            details={"fields": {"sku": "Already used by another part."}},
        ) from exc
    if part.current_stock:
        _entry(session, part, "RECEIVED", part.current_stock, reason="opening stock", actor=actor)
    orders.log_event(
        session,
        None,
        "inventory.spare-part-created",
        f"Spare part {c.sku} ({c.name}) added with {part.current_stock} on the shelf",
        actor=actor,
    )
    changed(session)
    return part


def _apply(part: SparePart, c: _Clean) -> list[str]:
    """Set the fields; the words for what changed."""
    said: list[str] = []
    for attr, words in (
        ("sku", "SKU"),
        ("name", "name"),
        ("manufacturer", "manufacturer"),
        ("category", "category"),
        ("compatible_models", "compatible models"),
        ("unit_cost", "unit cost"),
        ("minimum_stock", "minimum"),
        ("location", "location"),
        ("active", "in use"),
    ):
        new = getattr(c, attr)
        if getattr(part, attr) != new:
            setattr(part, attr, new)
            said.append(words)
    return said


def update_spare_part(
    session: Session,
    part_id: uuid.UUID | str,
    data: SparePartData,
    *,
    actor: Principal,
    version: int | None = None,
) -> SparePart:
    """Edit a spare part's fields (not its stock: that moves through the
    ledger). With `version`, an edit made on a copy someone changed meanwhile
    is refused (Conflict), so nobody overwrites another's change unseen."""
    actor.require("inventory.write")
    c = _valid(data)
    part = _part(session, part_id, lock=True)
    if version is not None and version != part.version:
        raise Conflict(
            f"{part.name} was changed by someone else meanwhile; reload it and edit again",
            code="stale_version",
            details={"version": part.version},
        )
    _sku_taken(session, c.sku, but=part.id)
    was_low = part.current_stock < part.minimum_stock
    said = _apply(part, c)
    if not said:
        return part
    part.version += 1
    part.updated_at = utcnow()
    session.add(part)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"the SKU {c.sku} is already used by another part",
            code="sku_taken",
            details={"fields": {"sku": "Already used by another part."}},
        ) from exc
    orders.log_event(
        session,
        None,
        "inventory.spare-part-edited",
        f"Spare part {part.sku} edited: {', '.join(said)}",
        actor=actor,
    )
    if not was_low:
        _watch_low(session, part, before=None)
    changed(session)
    return part


def upsert_spare_part_by_sku(session: Session, data: SparePartData, *, actor: Principal) -> tuple[SparePart, bool]:
    """Create the part, or update the one with the same SKU (an import's
    row): returns it and whether it was created. An existing part's `stock`,
    when given, is the counted figure: the difference is an adjustment."""
    actor.require("inventory.write")
    c = _valid(data)
    now = utcnow()
    new_id = session.execute(
        insert(SparePart)
        .values(
            id=uuid.uuid4(),
            tenant_id=session_tenant_id(session),
            sku=c.sku,
            name=c.name,
            manufacturer=c.manufacturer,
            category=c.category,
            compatible_models=c.compatible_models,
            unit_cost=c.unit_cost,
            current_stock=c.stock or 0,
            minimum_stock=c.minimum_stock,
            location=c.location,
            active=c.active,
            version=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "sku"])
        .returning(col(SparePart.id))
    ).scalar()
    if new_id is not None:
        part = _part(session, new_id)
        if part.current_stock:
            _entry(session, part, "RECEIVED", part.current_stock, reason="opening stock (import)", actor=actor)
        changed(session)
        return part, True
    part = session.exec(
        select(SparePart).where(SparePart.sku == c.sku).with_for_update().execution_options(populate_existing=True)
    ).one()
    was_low = part.current_stock < part.minimum_stock
    said = _apply(part, c)
    if said:
        part.version += 1
        part.updated_at = now
        session.add(part)
        session.flush()
    if c.stock is not None and c.stock != part.current_stock:
        _move(session, part, c.stock - part.current_stock, "counted in an import", actor, None)
    elif said and not was_low:
        _watch_low(session, part, before=None)
    changed(session)
    return part, False


# --- moving stock ---------------------------------------------------------------------------------


def _shift(session: Session, part: SparePart, delta: int) -> int | None:
    """Add `delta` (negative: take) unless the figure would go below zero or
    past the ceiling; the new figure, or None."""
    row = session.execute(
        text(
            "UPDATE spare_parts SET current_stock = current_stock + :d, version = version + 1, updated_at = now() "
            "WHERE id = :id AND current_stock + :d >= 0 AND current_stock + :d <= :max "
            "RETURNING current_stock, version"
        ),
        {"d": delta, "id": part.id, "max": MAX_UNITS * 10},
    ).first()
    if row is None:
        return None
    part.current_stock, part.version = int(row[0]), int(row[1])
    return part.current_stock


def _not_enough(part: SparePart, quantity: int, verb: str) -> Conflict:
    return Conflict(
        f"only {part.current_stock} of {part.name} in stock; {quantity} cannot be {verb}",
        code="not_enough_stock",
        details={"currentStock": part.current_stock, "fields": {"quantity": f"Only {part.current_stock} in stock."}},
    )


def _move(
    session: Session,
    part: SparePart,
    delta: int,
    reason: str,
    actor: Principal,
    kind: str | None,
) -> InventoryTransaction:
    """A change by hand of a locked part: RECEIVED (kind given) or an adjustment."""
    before = part.current_stock
    after = _shift(session, part, delta)
    if after is None:
        if delta < 0:
            raise _not_enough(part, -delta, "taken off")
        raise ValidationFailed(
            f"at most {MAX_UNITS * 10:,} units of a spare part are kept",
            details={"fields": {"quantity": "Too many units."}},
        )
    kind = kind or ("ADJUSTMENT_IN" if delta > 0 else "ADJUSTMENT_OUT")
    entry = _entry(session, part, kind, abs(delta), reason=reason, actor=actor)
    verb = {"RECEIVED": "received", "ADJUSTMENT_IN": "added by hand", "ADJUSTMENT_OUT": "taken off by hand"}[kind]
    orders.log_event(
        session,
        None,
        f"inventory.spare-part-{kind.lower().replace('_', '-')}",
        f"{abs(delta)} × {part.sku} ({part.name}) {verb}" + (f" ({reason})" if reason else "") + f"; {after} left",
        actor=actor,
    )
    _watch_low(session, part, before=before)
    return entry


def receive_spare_part(
    session: Session, part_id: uuid.UUID | str, qty: int, *, actor: Principal, reason: str = ""
) -> InventoryTransaction:
    """Units delivered onto the shelf (RECEIVED, the reason optional: a supplier, a delivery note)."""
    actor.require("inventory.write")
    qty, reason = _units(qty), _reason(reason, required=False)
    part = _part(session, part_id, lock=True)
    return _move(session, part, qty, reason or "delivery", actor, "RECEIVED")


def adjust_spare_part(
    session: Session, part_id: uuid.UUID | str, delta: int, *, actor: Principal, reason: str
) -> InventoryTransaction:
    """A correction by hand: `delta` units in (positive) or out (negative),
    with a reason. Taking off more than are on the shelf is refused (Conflict)."""
    actor.require("inventory.write")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_UNITS:
        raise ValidationFailed(
            f"the change is a whole number of units, not 0, from -{MAX_UNITS:,} to {MAX_UNITS:,}",
            details={"fields": {"delta": "Write a whole number of units other than 0."}},
        )
    reason = _reason(reason, required=True)
    part = _part(session, part_id, lock=True)
    return _move(session, part, delta, reason, actor, None)


def _replayed(
    session: Session, key: str, kind: str, part_id: uuid.UUID, worksheet_id: uuid.UUID, qty: int
) -> InventoryTransaction | None:
    """The entry an earlier request with this key wrote (the same request
    sent again), or None. The key sent with a different request: Conflict."""
    entry = session.exec(
        select(InventoryTransaction)
        .where(InventoryTransaction.idempotency_key == key)
        .execution_options(populate_existing=True)
    ).first()
    if entry is None:
        return None
    same = (
        entry.transaction_type == kind
        and entry.spare_part_id == part_id
        and entry.reference_type == WORKSHEET
        and entry.reference_id == str(worksheet_id)
        and entry.quantity == qty
    )
    if not same:
        raise Conflict(
            "that idempotency key was already used for another request; send a new key for a new request",
            code="idempotency_key_reused",
        )
    return entry


def _worksheet_move(
    session: Session,
    kind: str,
    part_id: uuid.UUID | str,
    qty: int,
    worksheet_id: uuid.UUID | str,
    idempotency_key: str,
    actor: Principal,
) -> InventoryTransaction:
    actor.require("inventory.write")
    qty, key, ws = _units(qty), _key(idempotency_key), _worksheet(worksheet_id)
    part = _part(session, part_id)
    found = _replayed(session, key, kind, part.id, ws, qty)
    if found is not None:
        return found
    part = _part(session, part.id, lock=True)
    # a request with the same key may have committed while this one waited for the lock
    found = _replayed(session, key, kind, part.id, ws, qty)
    if found is not None:
        return found
    before = part.current_stock
    try:
        with session.begin_nested():
            if kind == "ISSUED":
                if _shift(session, part, -qty) is None:
                    raise _not_enough(part, qty, "issued")
                reason = f"issued to worksheet {ws}"
            else:
                out = outstanding(session, part.id, ws)
                if qty > out:
                    raise Conflict(
                        f"only {out} of {part.name} issued to this worksheet are not yet returned; "
                        f"{qty} cannot be returned",
                        code="more_than_issued",
                        details={"outstanding": out, "fields": {"quantity": f"At most {out}."}},
                    )
                if _shift(session, part, qty) is None:
                    raise ValidationFailed(f"at most {MAX_UNITS * 10:,} units of a spare part are kept")
                reason = f"returned from worksheet {ws}"
            entry = _entry(
                session,
                part,
                kind,
                qty,
                reference_type=WORKSHEET,
                reference_id=ws,
                reason=reason,
                actor=actor,
                idempotency_key=key,
            )
            session.flush()
    except IntegrityError:
        # the same key won elsewhere meanwhile (the unique index decides): answer with its entry
        session.expire(part)
        found = _replayed(session, key, kind, part.id, ws, qty)
        if found is None:
            raise
        return found
    verb = "issued to" if kind == "ISSUED" else "returned from"
    orders.log_event(
        session,
        None,
        f"inventory.spare-part-{kind.lower()}",
        f"{qty} × {part.sku} ({part.name}) {verb} a worksheet; {part.current_stock} left",
        actor=actor,
        meta={"worksheetId": str(ws), "sparePartId": str(part.id)},
    )
    _watch_low(session, part, before=before)
    return entry


def issue_spare_part(
    session: Session,
    part_id: uuid.UUID | str,
    qty: int,
    *,
    worksheet_id: uuid.UUID,
    idempotency_key: str,
    actor: Principal,
) -> InventoryTransaction:
    """Take `qty` units off the shelf for a repair worksheet (ISSUED).
    Refused when fewer are in stock ("only 2 of Screen X in stock"). Sent
    again with the same idempotency key, it returns the first entry and
    changes nothing."""
    return _worksheet_move(session, "ISSUED", part_id, qty, worksheet_id, idempotency_key, actor)


def return_spare_part(
    session: Session,
    part_id: uuid.UUID | str,
    qty: int,
    *,
    worksheet_id: uuid.UUID,
    idempotency_key: str,
    actor: Principal,
) -> InventoryTransaction:
    """Put units a worksheet did not use back on the shelf (RETURNED): at
    most what was issued to that worksheet and not yet returned. Idempotent
    by key, like issuing."""
    return _worksheet_move(session, "RETURNED", part_id, qty, worksheet_id, idempotency_key, actor)


# --- low stock ------------------------------------------------------------------------------------


def _watch_low(session: Session, part: SparePart, *, before: int | None) -> None:
    """Staff hear once when a part drops below its minimum: when this change
    took it from at or above the minimum to below it (`before`: the figure
    before the change; None: its minimum was raised past the figure, by an
    edit or an import, from a part that was not low)."""
    if part.minimum_stock <= 0 or part.current_stock >= part.minimum_stock:
        return
    if before is not None and before < part.minimum_stock:
        return  # it was low already: staff heard then
    out = part.current_stock <= 0
    notify_staff(
        session,
        kind="inventory.spare-parts-low",
        severity="WARNING",
        permission="inventory.read",
        title=f"{part.name} is {'out of stock' if out else 'running low'}",
        body=f"{part.current_stock} on the shelf ({part.sku}), minimum {part.minimum_stock}.",
        link=f"{SPARE_PARTS_LINK}?search={quote(part.sku[:60])}",
    )
