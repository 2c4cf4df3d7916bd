"""Reports and the owner dashboard (seed S9): one `daily_metrics_snapshots`
row per shop and day, upserted by the nightly job (idempotent: running it
twice for a day writes the same row), the live work-in-progress counts, and
the SLA ages: assets waiting in one status longer than the shop's limit for
it stand out.

A day is the shop's calendar day (its time zone). The figures of a day come
from the assets' status history (`asset_status_changes`), so a day can be
snapshotted again later and gives the same row:
- received: assets that arrived; triaged: assets that left triage;
- ber: assets sent to a beyond-economic-repair review;
- repaired: assets that passed final QC (to ready for dispatch);
- dispatched: assets dispatched; invoiced_total: invoices sent that day less
  credit notes sent that day;
- wip_by_status: assets in the shop at the end of the day, by status;
- turnaround_hours: the mean time from received to dispatched of the assets
  dispatched that day.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, func, select

from app.platform import config
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import ValidationFailed
from app.platform.formatting import of_tenant
from app.platform.models import utcnow
from app.repairs import machine
from app.repairs.models import DailyMetricsSnapshot, RepairAsset
from app.repairs.service._common import WRITE, changed

SLA_KEY = "repairs.sla_hours"
config.describe(SLA_KEY, "Repairs: hours an asset may wait in each status")

# Hours an asset may stay in a status before it stands out (a shop changes them).
DEFAULT_SLA_HOURS: dict[str, int] = {
    "received": 24,
    "in_triage": 24,
    "ber_review": 48,
    "awaiting_parts": 120,
    "in_repair": 72,
    "final_qc": 24,
    "ready_for_dispatch": 48,
    "return_unrepaired": 48,
    "on_hold": 168,
}
SLA_RANGE = (1, 24 * 90)
HISTORY_DAYS = 30


def _zone(session: Session) -> ZoneInfo:
    return ZoneInfo(of_tenant(session_tenant_id(session)).timezone)


def _bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today(session: Session) -> date:
    return datetime.now(_zone(session)).date()


# --- the snapshot -------------------------------------------------------------------------------

_DAY_COUNTS = text(
    """
    SELECT
      count(*) FILTER (WHERE to_status = 'received') AS received,
      count(*) FILTER (WHERE from_status = 'in_triage' AND to_status <> 'on_hold') AS triaged,
      count(*) FILTER (WHERE to_status = 'ber_review') AS ber,
      count(*) FILTER (WHERE to_status = 'ready_for_dispatch') AS repaired,
      count(*) FILTER (WHERE to_status = 'dispatched') AS dispatched
    FROM asset_status_changes
    WHERE changed_at >= :start AND changed_at < :end
    """
)

# The status of every asset at the end of the day: its last change before then.
_WIP_AT = text(
    """
    SELECT status, count(*) FROM (
      SELECT DISTINCT ON (asset_id) asset_id, to_status AS status
      FROM asset_status_changes
      WHERE changed_at < :end
      ORDER BY asset_id, changed_at DESC, id DESC
    ) last
    WHERE status = ANY(:in_shop)
    GROUP BY status
    """
)

_TURNAROUND = text(
    """
    SELECT avg(extract(epoch FROM (d.changed_at - a.received_at)) / 3600.0)
    FROM asset_status_changes d JOIN repair_assets a ON a.id = d.asset_id AND a.tenant_id = d.tenant_id
    WHERE d.to_status = 'dispatched' AND d.changed_at >= :start AND d.changed_at < :end
    """
)

_INVOICED = text(
    """
    SELECT coalesce(sum(CASE WHEN kind = 'credit_note' THEN -abs(total) ELSE total END), 0)
    FROM repair_invoices
    WHERE status IN ('sent', 'paid', 'void') AND issued_at >= :start AND issued_at < :end
    """
)


@dataclasses.dataclass
class DayFigures:
    day: date
    received: int = 0
    triaged: int = 0
    ber: int = 0
    repaired: int = 0
    dispatched: int = 0
    invoiced_total: Decimal = Decimal("0")
    wip_by_status: dict[str, int] = dataclasses.field(default_factory=dict)
    turnaround_hours: Decimal | None = None


def figures_for(session: Session, day: date) -> DayFigures:
    """What happened in the shop on `day` (its calendar day), from the history."""
    start, end = _bounds(day, _zone(session))
    span = {"start": start, "end": end}
    counts = session.execute(_DAY_COUNTS, span).one()
    wip = {
        status: int(n) for status, n in session.execute(_WIP_AT, {"end": end, "in_shop": sorted(machine.IN_SHOP)}).all()
    }
    turnaround = session.execute(_TURNAROUND, span).scalar()
    invoiced = session.execute(_INVOICED, span).scalar() or Decimal("0")
    return DayFigures(
        day=day,
        received=counts.received,
        triaged=counts.triaged,
        ber=counts.ber,
        repaired=counts.repaired,
        dispatched=counts.dispatched,
        invoiced_total=Decimal(invoiced).quantize(Decimal("0.01")),
        wip_by_status=wip,
        turnaround_hours=Decimal(str(round(float(turnaround), 2))) if turnaround is not None else None,
    )


def snapshot_day(session: Session, day: date) -> DailyMetricsSnapshot:
    """Upsert the shop's row for `day` (one statement; running it again gives the same row)."""
    f = figures_for(session, day)
    values: dict[str, Any] = {
        "received": f.received,
        "triaged": f.triaged,
        "ber": f.ber,
        "repaired": f.repaired,
        "dispatched": f.dispatched,
        "invoiced_total": f.invoiced_total,
        "wip_by_status": f.wip_by_status,
        "turnaround_hours": f.turnaround_hours,
        "updated_at": utcnow(),
    }
    stmt = insert(DailyMetricsSnapshot).values(tenant_id=session_tenant_id(session), day=day, **values)
    session.execute(stmt.on_conflict_do_update(constraint="uq_daily_metrics_snapshots_day", set_=values))
    changed(session, snapshot=day.isoformat())
    row = session.exec(select(DailyMetricsSnapshot).where(DailyMetricsSnapshot.day == day)).one()
    session.refresh(row)
    return row


def snapshot_recent(session: Session, *, days: int = 2) -> int:
    """The nightly job's body: today so far and the days before it (a missed night is
    caught up). Returns the number of rows written."""
    last = today(session)
    for i in range(days):
        snapshot_day(session, last - timedelta(days=i))
    return days


def backfill(session: Session, days: int = HISTORY_DAYS) -> int:
    """Snapshot the last `days` days (the demo; a shop that starts using reports)."""
    return snapshot_recent(session, days=days)


# --- the dashboard ------------------------------------------------------------------------------


@dataclasses.dataclass
class SlaLate:
    asset_id: str
    number: str
    status: str
    hours: int
    limit: int
    client: str = ""


@dataclasses.dataclass
class Dashboard:
    days: list[DailyMetricsSnapshot]
    wip: dict[str, int]
    in_shop: int
    late: list[SlaLate]
    late_total: int
    sla: dict[str, int]


def sla_hours(session: Session) -> dict[str, int]:
    stored = config.get(session, SLA_KEY) or {}
    out = dict(DEFAULT_SLA_HOURS)
    if isinstance(stored, dict):
        for status, hours in stored.items():
            if status in out and isinstance(hours, int):
                out[status] = hours
    return out


def set_sla_hours(session: Session, values: dict[str, Any], *, actor: Principal) -> dict[str, int]:
    """A shop's SLA limits, hours per status; each a whole number within range."""
    actor.require(WRITE)
    clean: dict[str, int] = {}
    for status, raw in values.items():
        if status not in DEFAULT_SLA_HOURS:
            raise ValidationFailed(f"'{status}' is not a status an asset waits in")
        if not re.fullmatch(r"\s*\d+\s*", str(raw)):
            raise ValidationFailed(f"the limit for {machine.asset_words(status)} must be a whole number of hours")
        hours = int(str(raw))
        if not SLA_RANGE[0] <= hours <= SLA_RANGE[1]:
            raise ValidationFailed(
                f"the limit for {machine.asset_words(status)} must be between {SLA_RANGE[0]} and {SLA_RANGE[1]} hours"
            )
        clean[status] = hours
    merged = {**sla_hours(session), **clean}
    config.set_value(session, SLA_KEY, merged, actor_user_id=actor.user_id)
    changed(session, sla=True)
    return merged


def wip_counts(session: Session) -> dict[str, int]:
    """Assets in the shop now, by status (live)."""
    rows = session.exec(
        select(RepairAsset.status, func.count())
        .where(col(RepairAsset.status).in_(sorted(machine.IN_SHOP)))
        .group_by(RepairAsset.status)
    ).all()
    return {status: int(n) for status, n in rows}


def late_assets(session: Session, *, limit: int = 20) -> tuple[list[SlaLate], int]:
    """Assets waiting in their status longer than the shop's limit for it, longest over first."""
    limits = sla_hours(session)
    now = utcnow()
    cases = " OR ".join(f"(a.status = '{s}' AND a.status_changed_at < :t_{s})" for s in limits)
    params: dict[str, Any] = {f"t_{s}": now - timedelta(hours=h) for s, h in limits.items()}
    # how far past its own status's limit each asset is: the most overdue first, in the query itself
    # (the oldest by status change is not the most overdue when the limits differ per status)
    overdue = "(CASE a.status " + " ".join(f"WHEN '{s}' THEN CAST(:t_{s} AS timestamptz)" for s in limits) + " END)"
    total = session.execute(text(f"SELECT count(*) FROM repair_assets a WHERE {cases}"), params).scalar() or 0
    rows = session.execute(
        text(
            "SELECT a.id, a.number, a.status, a.status_changed_at, c.name FROM repair_assets a "
            f"JOIN repair_clients c ON c.id = a.client_id AND c.tenant_id = a.tenant_id WHERE {cases} "
            f"ORDER BY {overdue} - a.status_changed_at DESC, a.number LIMIT :limit"
        ),
        {**params, "limit": limit},
    ).all()
    late = []
    for asset_id, number, status, since, client in rows:
        hours = int((now - since).total_seconds() // 3600)
        late.append(SlaLate(str(asset_id), number, status, hours, limits[status], client))
    return late, int(total)


def dashboard(session: Session, *, days: int = HISTORY_DAYS) -> Dashboard:
    """The owner dashboard's figures (the page and the API check `repairs.read`)."""
    first = today(session) - timedelta(days=days - 1)
    rows = list(
        session.exec(
            select(DailyMetricsSnapshot)
            .where(DailyMetricsSnapshot.day >= first)
            .order_by(col(DailyMetricsSnapshot.day))
        ).all()
    )
    wip = wip_counts(session)
    late, late_total = late_assets(session)
    return Dashboard(
        days=rows, wip=wip, in_shop=sum(wip.values()), late=late, late_total=late_total, sla=sla_hours(session)
    )
