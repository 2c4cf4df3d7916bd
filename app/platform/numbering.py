"""Document numbers: orders, assets, batches, worksheets, dispatches,
invoices and credit notes.

`sequence_definitions` (global, seeded by the migration) says how each kind
of number looks: its default prefix, how many digits it is padded to, whether
it starts again at 1 every year, and whether it must be gapless. A shop's
counters live in `numbering_sequences` (row security: one shop never sees
another's), one row per shop, kind and period (the year for a yearly
sequence, 0 for one that never starts again).

Taking a number is one statement in the caller's transaction: an INSERT that
turns into an UPDATE of the same row when the row is there. The database
settles the race of two first calls itself (the second waits for the first
and then counts on from it), so concurrent callers always get 1, 2, 3, …
The row stays locked until the caller's transaction ends: a rollback hands
the number back, so gapless sequences (invoices, credit notes) never skip
one, and a committed number is never given again. Sequences that need not be
gapless are taken the same way: the lock only makes callers of one shop and
one kind wait for each other, and one way of doing it is simpler to trust
than two.

A shop may change a prefix and the next number (to continue numbering it
used before), never to a number already given in the current period.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CheckConstraint, text
from sqlmodel import Field, Session, SQLModel, col, select

from app.platform import audit
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import Tenant, TenantScoped, Timestamp

PERMISSION = "settings.write"  # the shop's own settings
RESETS = ("yearly", "never")
YEAR = "{year}"
PREFIX_MAX = 20  # characters, with {year} counted as the four digits it becomes
NEXT_MAX = 999_999_999
_PREFIX_CHARS = re.compile(r"^[A-Za-z0-9\-_/.#]*$")

audit.ACTIONS.setdefault("numbering.changed", "Numbering changed")
audit.TARGETS.setdefault("numbering_sequence", "numbering of")


class SequenceDefinition(SQLModel, table=True):
    """How one kind of number looks (global: the same for every shop)."""

    __tablename__: ClassVar[str] = "sequence_definitions"
    __table_args__ = (CheckConstraint("reset IN ('yearly', 'never')", name="ck_sequence_definitions_reset"),)

    key: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=100)
    default_prefix: str = Field(max_length=40)
    padding: int = Field(default=5)
    reset: str = Field(default="never", max_length=10)  # 'yearly' or 'never'
    gapless: bool = Field(default=False)


class NumberingSequence(TenantScoped, table=True):
    """A shop's counter for one kind of number in one period (a year, or 0
    for a sequence that never starts again)."""

    __tablename__: ClassVar[str] = "numbering_sequences"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True)
    key: str = Field(foreign_key="sequence_definitions.key", primary_key=True, max_length=40)
    period: int = Field(primary_key=True)
    prefix: str | None = Field(default=None, max_length=40)  # None: the definition's default
    next_value: int = Field(default=1)
    last_value: int | None = Field(default=None)  # the last number given in this period
    updated_at: datetime = Timestamp()


# --- pure formatting ---------------------------------------------------------------------------


def format_number(prefix: str, value: int, padding: int, year: int) -> str:
    """`INV-{year}-` + 7, padded to 5, in 2026 → "INV-2026-00007"."""
    return f"{prefix.replace(YEAR, str(year))}{value:0{max(padding, 0)}d}"


def prefix_problem(prefix: str) -> str | None:
    """Why a prefix cannot be used (None: it can). Letters, digits and
    - _ / . # are allowed, plus {year} for the year the number is taken in."""
    rest = prefix.replace(YEAR, "")
    if "{" in rest or "}" in rest:
        return "Braces are only allowed as {year}."
    if not _PREFIX_CHARS.match(rest):
        return "A prefix may hold letters, digits, {year} and - _ / . # only (no spaces)."
    if len(prefix.replace(YEAR, "2026")) > PREFIX_MAX:
        return f"A prefix is at most {PREFIX_MAX} characters long."
    return None


def period_of(reset: str, year: int) -> int:
    return year if reset == "yearly" else 0


# --- taking a number ---------------------------------------------------------------------------

# One statement: the definition (and the year in the shop's time zone), then
# an INSERT of the period's first number that becomes an UPDATE adding one
# when the row exists. A new period takes the prefix the shop last chose.
_RESERVE = text(
    """
WITH def AS (
    SELECT d.key, d.default_prefix, d.padding, y.year,
           CASE WHEN d.reset = 'yearly' THEN y.year ELSE 0 END AS period
    FROM sequence_definitions d,
         LATERAL (
             SELECT extract(year FROM CAST(:at AS timestamptz) AT TIME ZONE coalesce(
                 (SELECT t.timezone FROM tenants t WHERE t.id = :tenant), 'UTC'))::int AS year
         ) y
    WHERE d.key = :key
), taken AS (
    INSERT INTO numbering_sequences AS n (tenant_id, key, period, prefix, next_value, last_value, updated_at)
    SELECT :tenant, def.key, def.period,
           (SELECT p.prefix FROM numbering_sequences p
            WHERE p.tenant_id = :tenant AND p.key = def.key AND p.period < def.period
            ORDER BY p.period DESC LIMIT 1),
           1 + :count, :count, now()
    FROM def
    ON CONFLICT (tenant_id, key, period) DO UPDATE
        SET next_value = n.next_value + :count, last_value = n.next_value + :count - 1, updated_at = now()
    RETURNING n.last_value AS value, n.prefix
)
SELECT taken.value, coalesce(taken.prefix, def.default_prefix) AS prefix, def.padding, def.year
FROM taken, def
"""
)


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def reserve_value(session: Session, key: str, *, at: datetime | None = None) -> tuple[int, str]:
    """Take the next number of `key` for the session's shop: (value, formatted).
    `at` (default now) picks the year of a yearly sequence, in the shop's time
    zone. Runs in the caller's transaction: a rollback gives the number back."""
    row = session.execute(
        _RESERVE, {"tenant": session_tenant_id(session), "key": key, "at": _moment(at), "count": 1}
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no numbering called '{key}'")
    value, prefix, padding, year = row
    return int(value), format_number(prefix, int(value), int(padding), int(year))


def reserve(session: Session, key: str, *, at: datetime | None = None) -> str:
    """The next number of `key` for the session's shop, formatted ("INV-2026-00001")."""
    return reserve_value(session, key, at=at)[1]


def reserve_block(session: Session, key: str, count: int, *, at: datetime | None = None) -> list[str]:
    """The next `count` numbers of `key` at once, formatted, in order (a bulk
    upload numbering thousands of rows): the same one statement, moving the
    counter by `count`, in the caller's transaction."""
    if count < 1:
        return []
    row = session.execute(
        _RESERVE, {"tenant": session_tenant_id(session), "key": key, "at": _moment(at), "count": count}
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no numbering called '{key}'")
    last, prefix, padding, year = row
    first = int(last) - count + 1
    return [format_number(prefix, v, int(padding), int(year)) for v in range(first, int(last) + 1)]


# --- the settings page -------------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceRow:
    """One kind of number as the shop's settings show it."""

    key: str
    title: str
    prefix: str  # what the shop uses now (may hold {year})
    default_prefix: str
    custom_prefix: bool  # the shop chose its own
    padding: int
    reset: str  # 'yearly' or 'never'
    gapless: bool
    year: int  # the current period's year
    next_value: int  # the number the next call gives
    last_value: int | None  # the last number given in the current period
    preview: str  # the next number as it will read
    last_issued: str  # the last number given in this period, as it read ("" for none)


def _shop_year(session: Session, at: datetime | None) -> int:
    tenant = session.get(Tenant, session_tenant_id(session))
    try:
        zone = ZoneInfo(tenant.timezone if tenant else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return _moment(at).astimezone(zone).year


def _definitions(session: Session) -> list[SequenceDefinition]:
    return list(session.exec(select(SequenceDefinition).order_by(col(SequenceDefinition.title))))


def _rows(session: Session) -> dict[tuple[str, int], NumberingSequence]:
    return {(r.key, r.period): r for r in session.exec(select(NumberingSequence))}


def _prefix_now(rows: dict[tuple[str, int], NumberingSequence], d: SequenceDefinition, period: int) -> str | None:
    """The shop's own prefix for this period: the period's row, or the latest
    earlier one (a new year keeps the prefix chosen before it)."""
    mine = [r for (k, p), r in rows.items() if k == d.key and p <= period]
    mine.sort(key=lambda r: r.period, reverse=True)
    return mine[0].prefix if mine else None


def _row_of(d: SequenceDefinition, rows: dict[tuple[str, int], NumberingSequence], year: int) -> SequenceRow:
    period = period_of(d.reset, year)
    current = rows.get((d.key, period))
    own = _prefix_now(rows, d, period)
    prefix = own if own is not None else d.default_prefix
    next_value = current.next_value if current else 1
    last_value = current.last_value if current else None
    return SequenceRow(
        key=d.key,
        title=d.title,
        prefix=prefix,
        default_prefix=d.default_prefix,
        custom_prefix=own is not None,
        padding=d.padding,
        reset=d.reset,
        gapless=d.gapless,
        year=year,
        next_value=next_value,
        last_value=last_value,
        preview=format_number(prefix, next_value, d.padding, year),
        last_issued=format_number(prefix, last_value, d.padding, year) if last_value is not None else "",
    )


def sequence_settings(session: Session, *, at: datetime | None = None) -> list[SequenceRow]:
    """Every kind of number for the session's shop: its prefix, the next
    number and how that number will read."""
    year = _shop_year(session, at)
    rows = _rows(session)
    return [_row_of(d, rows, year) for d in _definitions(session)]


_ENSURE = text(
    """
INSERT INTO numbering_sequences AS n (tenant_id, key, period, prefix, next_value, last_value, updated_at)
SELECT w.tenant, w.key, w.period,
       (SELECT p.prefix FROM numbering_sequences p
        WHERE p.tenant_id = w.tenant AND p.key = w.key AND p.period < w.period
        ORDER BY p.period DESC LIMIT 1),
       1, NULL, now()
FROM (SELECT CAST(:tenant AS uuid) AS tenant, CAST(:key AS varchar) AS key, CAST(:period AS integer) AS period) w
ON CONFLICT (tenant_id, key, period) DO NOTHING
"""
)


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: message}})


def set_sequence(
    session: Session,
    key: str,
    *,
    prefix: str | None,
    next_value: int | None,
    actor: Principal,
    at: datetime | None = None,
) -> SequenceRow:
    """Change a shop's prefix and/or next number for `key` (None: leave it;
    an empty prefix goes back to the default). The next number may not be a
    number already given in the current period, and a gapless sequence keeps
    its next number once it has given one this period (a jump would leave a
    gap). Another kind of number of the shop may not use the same prefix.
    Audited; does not commit."""
    actor.require(PERMISSION)
    definition = session.get(SequenceDefinition, key)
    if definition is None:
        raise NotFound(f"there is no numbering called '{key}'")
    year = _shop_year(session, at)
    period = period_of(definition.reset, year)
    tenant_id = session_tenant_id(session)
    session.execute(_ENSURE, {"tenant": tenant_id, "key": key, "period": period})
    row = session.exec(
        select(NumberingSequence)
        .where(NumberingSequence.key == key, NumberingSequence.period == period)
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked row as it is now
    ).one()
    before = _row_of(definition, _rows(session), year)

    new_prefix: str | None = row.prefix
    if prefix is not None:
        wanted = prefix.strip()
        if not wanted or wanted == definition.default_prefix:
            new_prefix = None
        else:
            problem = prefix_problem(wanted)
            if problem:
                raise _refuse("prefix", problem)
            new_prefix = wanted
        shown = new_prefix if new_prefix is not None else definition.default_prefix
        for other in sequence_settings(session, at=at):
            if other.key != key and other.prefix.replace(YEAR, str(year)) == shown.replace(YEAR, str(year)):
                raise _refuse("prefix", f"“{shown}” is already the prefix of {other.title.lower()}: pick another.")

    new_next = row.next_value
    if next_value is not None and next_value != row.next_value:
        if next_value < 1 or next_value > NEXT_MAX:
            raise _refuse("next_value", f"The next number is a whole number from 1 to {NEXT_MAX:,}.")
        if row.last_value is not None and next_value <= row.last_value:
            given = format_number(before.prefix, row.last_value, definition.padding, year)
            raise _refuse(
                "next_value",
                f"{given} has already been given: the next number must be higher than {row.last_value} "
                "(numbers are never used twice).",
            )
        if definition.gapless and row.last_value is not None:
            raise _refuse(
                "next_value",
                f"{definition.title} are numbered without gaps: the next number can only be changed before "
                f"the first one of {year if definition.reset == 'yearly' else 'the sequence'} is given.",
            )
        new_next = next_value

    if new_prefix == row.prefix and new_next == row.next_value:
        return before
    row.prefix = new_prefix
    row.next_value = new_next
    row.updated_at = datetime.now(UTC)
    session.add(row)
    session.flush()
    after = _row_of(definition, _rows(session), year)
    changes_before: dict[str, Any] = {}
    changes_after: dict[str, Any] = {}
    if before.prefix != after.prefix:
        changes_before["prefix"], changes_after["prefix"] = before.prefix, after.prefix
    if before.next_value != after.next_value:
        changes_before["next number"], changes_after["next number"] = before.preview, after.preview
    audit.record(
        session,
        "numbering.changed",
        actor_user_id=actor.user_id,
        target_type="numbering_sequence",
        target_id=definition.title.lower(),
        meta={"before": changes_before, "after": changes_after, "key": key},
    )
    return after
