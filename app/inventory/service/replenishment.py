"""The replenishment scheduler (seed: StockReplenishmentScheduled, Trigger
Conditions, the StockReplenishment flow): cron asks every shop each minute;
a shop's evaluation runs when its interval has passed, one at a time per shop
(a transaction-level advisory lock: the seed's mutex), and plans only when
all six conditions hold:

1. replenishment is enabled (and stock management with it),
2. the hour is within the allowed hours and
3. the day within the allowed days (in the shop's time zone),
4. the active ORDER print queue is below its threshold,
5. the active STOCK jobs are below the concurrency limit,
6. some product has minimumStock > 0 and currentStock below it.

Products are served by priority (higher first). For each it plans up to
replenishmentBatchSize batches, re-checking the deficit counting the batches
still printing after each one, never past the concurrency limit. A product
below its minimum is refilled up to its maximum when it has one (the usual
min/max policy: otherwise a maximum at or above the minimum could never
bind), else up to its minimum; never past maximumStock. Every evaluation is recorded with why it did or did not
plan, in words (the status card and GET /inventory/replenishment/status).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.inventory.models import ReplenishmentRun, StockBatch, StockLevel
from app.inventory.service._common import changed
from app.inventory.service.batches import create_batches
from app.inventory.service.stock import stock_enabled
from app.platform import config
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import ValidationFailed
from app.platform.formatting import of_tenant
from app.platform.models import utcnow
from app.printing import machine as print_machine
from app.printing.models import PrintJob, ProductMapping

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
KEYS = {
    "enabled": "stock.replenishment.enabled",
    "start_hour": "stock.replenishment.allowed_hours_start",
    "end_hour": "stock.replenishment.allowed_hours_end",
    "days": "stock.replenishment.allowed_days",
    "order_queue_threshold": "stock.replenishment.order_queue_threshold",
    "max_concurrent_stock_jobs": "stock.replenishment.max_concurrent_stock_jobs",
    "interval_minutes": "stock.replenishment.interval_minutes",
}
DEFAULTS = {
    "enabled": False,
    "start_hour": 22,  # the quiet hours: 22:00 to 06:00
    "end_hour": 6,
    "days": [0, 1, 2, 3, 4, 5, 6],
    "order_queue_threshold": 10,
    "max_concurrent_stock_jobs": 5,
    "interval_minutes": 15,
}
ACTIVE_JOBS = tuple(print_machine.ACTIVE)
for _name, _words in (
    ("start_hour", "replenishment: allowed hours from"),
    ("end_hour", "replenishment: allowed hours until"),
    ("days", "replenishment: allowed days"),
    ("order_queue_threshold", "replenishment: order queue threshold"),
    ("max_concurrent_stock_jobs", "replenishment: stock print jobs at once"),
    ("interval_minutes", "replenishment: minutes between runs"),
):
    config.describe(KEYS[_name], _words)


@dataclass
class ReplenishmentSettings:
    enabled: bool = False
    start_hour: int = 22
    end_hour: int = 6
    days: list[int] = field(default_factory=lambda: list(range(7)))
    order_queue_threshold: int = 10
    max_concurrent_stock_jobs: int = 5
    interval_minutes: int = 15

    def hours_words(self) -> str:
        if self.start_hour == self.end_hour:
            return "all day"
        return f"{self.start_hour:02d}:00–{self.end_hour:02d}:00"

    def days_words(self) -> str:
        days = sorted(set(self.days))
        if days == list(range(7)):
            return "every day"
        if days == list(range(5)):
            return "Mon–Fri"
        return ", ".join(DAYS[d] for d in days) or "no day"


def read_settings(session: Session) -> ReplenishmentSettings:
    values = {name: config.get(session, key, DEFAULTS[name]) for name, key in KEYS.items()}
    try:
        return ReplenishmentSettings(
            enabled=bool(values["enabled"]),
            start_hour=int(values["start_hour"]),
            end_hour=int(values["end_hour"]),
            days=[int(d) for d in values["days"]],
            order_queue_threshold=int(values["order_queue_threshold"]),
            max_concurrent_stock_jobs=int(values["max_concurrent_stock_jobs"]),
            interval_minutes=int(values["interval_minutes"]),
        )
    except (TypeError, ValueError):
        return ReplenishmentSettings()  # a hand-edited value that does not read: the defaults


def settings_errors(s: ReplenishmentSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 0 <= s.start_hour <= 23:
        errors["startHour"] = "The window starts at an hour from 0 to 23."
    if not 0 <= s.end_hour <= 23:
        errors["endHour"] = "The window ends at an hour from 0 to 23."
    if not s.days or any(not 0 <= d <= 6 for d in s.days):
        errors["days"] = "Choose at least one day."
    if not 1 <= s.order_queue_threshold <= 10_000:
        errors["orderQueueThreshold"] = "The order queue threshold is from 1 to 10,000 print jobs."
    if not 1 <= s.max_concurrent_stock_jobs <= 1_000:
        errors["maxConcurrentStockJobs"] = "The stock job limit is from 1 to 1,000 print jobs."
    if not 1 <= s.interval_minutes <= 1440:
        errors["intervalMinutes"] = "The interval is from 1 to 1,440 minutes."
    return errors


def save_settings(session: Session, new: ReplenishmentSettings, *, actor: Principal) -> ReplenishmentSettings:
    """Admins (settings.write) change the scheduler's window, thresholds and limits."""
    actor.require("settings.write")
    errors = settings_errors(new)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), details={"fields": errors})
    old = read_settings(session)
    for name, key in KEYS.items():
        value = getattr(new, name)
        if name == "days":
            value = sorted(set(value))
        if getattr(old, name) != value:
            config.set_value(session, key, value, actor_user_id=actor.user_id)
    changed(session)
    return read_settings(session)


# --- one evaluation --------------------------------------------------------------------------


def _in_hours(s: ReplenishmentSettings, hour: int) -> bool:
    if s.start_hour == s.end_hour:
        return True
    if s.start_hour < s.end_hour:
        return s.start_hour <= hour < s.end_hour
    return hour >= s.start_hour or hour < s.end_hour  # across midnight


def _active_jobs(session: Session, purpose: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(PrintJob)
        .where(PrintJob.purpose == purpose, col(PrintJob.status).in_(ACTIVE_JOBS))
    ).one()


def _deficits(session: Session) -> list[tuple[StockLevel, str, int]]:
    """Managed products below their minimum, by priority (higher first): (level, sku, units printing)."""
    pending = (
        select(StockBatch.product_mapping_id, func.count().label("n"))
        .where(StockBatch.status == "IN_PROGRESS")
        .group_by(col(StockBatch.product_mapping_id))
        .subquery()
    )
    rows = session.exec(
        select(StockLevel, ProductMapping.sku, func.coalesce(pending.c.n, 0))
        .join(ProductMapping, col(ProductMapping.id) == StockLevel.product_mapping_id)
        .outerjoin(pending, pending.c.product_mapping_id == StockLevel.product_mapping_id)
        .where(
            StockLevel.minimum_stock > 0,
            StockLevel.current_stock < StockLevel.minimum_stock,
            col(ProductMapping.active).is_(True),
        )
        .order_by(col(StockLevel.replenishment_priority).desc(), col(ProductMapping.sku))
    ).all()
    return [(level, sku, int(n)) for level, sku, n in rows]


def _lock(session: Session) -> bool:
    """The shop's evaluation mutex, held until this transaction ends."""
    return bool(
        session.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtext('replenishment:' || :t))"),
            {"t": str(session_tenant_id(session))},
        ).scalar()
    )


@dataclass
class Check:
    condition: str
    ok: bool
    text: str


def evaluate(session: Session, *, now: datetime | None = None, trigger: str = "schedule") -> ReplenishmentRun | None:
    """One evaluation (StockReplenishmentService.evaluateAndSchedule). None
    when another evaluation of this shop is running. The caller commits."""
    if not _lock(session):
        return None
    started = time.perf_counter()
    now = now or utcnow()
    s = read_settings(session)
    local = of_tenant(session_tenant_id(session)).local(now)
    checks: list[Check] = []
    enabled = s.enabled and stock_enabled(session)
    if not stock_enabled(session):
        checks.append(Check("enabled", False, "stock management is switched off"))
    elif not s.enabled:
        checks.append(Check("enabled", False, "replenishment is switched off"))
    else:
        checks.append(Check("enabled", True, "replenishment is on"))
    in_hours = _in_hours(s, local.hour)
    checks.append(
        Check(
            "hours",
            in_hours,
            f"within allowed hours ({s.hours_words()})" if in_hours else f"outside allowed hours ({s.hours_words()})",
        )
    )
    in_days = local.weekday() in s.days
    checks.append(
        Check(
            "days",
            in_days,
            f"{DAYS[local.weekday()]} is an allowed day"
            if in_days
            else f"{DAYS[local.weekday()]} is not an allowed day ({s.days_words()})",
        )
    )
    order_queue = _active_jobs(session, "ORDER")
    queue_ok = order_queue < s.order_queue_threshold
    checks.append(
        Check(
            "order_queue",
            queue_ok,
            f"order queue {order_queue} < {s.order_queue_threshold}"
            if queue_ok
            else f"order queue {order_queue} ≥ {s.order_queue_threshold}",
        )
    )
    stock_jobs = _active_jobs(session, "STOCK")
    jobs_ok = stock_jobs < s.max_concurrent_stock_jobs
    checks.append(
        Check(
            "stock_jobs",
            jobs_ok,
            f"stock jobs {stock_jobs} < {s.max_concurrent_stock_jobs}"
            if jobs_ok
            else f"stock jobs {stock_jobs} ≥ {s.max_concurrent_stock_jobs} (the limit)",
        )
    )
    deficits = _deficits(session)
    checks.append(
        Check(
            "deficit",
            bool(deficits),
            f"{len(deficits)} product(s) below their minimum" if deficits else "no product is below its minimum",
        )
    )
    run = ReplenishmentRun(tenant_id=session_tenant_id(session), ran_at=now, trigger=trigger)
    failed = [c for c in checks if not c.ok]
    products: list[dict] = []
    if enabled and not failed:
        products = _plan(session, deficits, s.max_concurrent_stock_jobs - stock_jobs)
        run.batches_created = sum(p["batches"] for p in products)
        run.planned = run.batches_created > 0
        run.summary = (
            f"planned {run.batches_created} batch(es) for {sum(1 for p in products if p['batches'])} product(s)"
            if run.planned
            else "nothing planned: " + "; ".join(p["note"] for p in products if p["note"])[:400]
        )
    else:
        run.summary = "nothing planned: " + "; ".join(c.text for c in failed)
    run.reasons = [{"condition": c.condition, "ok": c.ok, "text": c.text} for c in checks]
    run.products = products
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    session.add(run)
    changed(session)
    return run


def _plan(session: Session, deficits: list[tuple[StockLevel, str, int]], room: int) -> list[dict]:
    """The inner loop: per product (by priority) up to its batch size, re-checking
    the deficit with the batches printing; `room` is what the concurrency limit
    leaves for new STOCK jobs."""
    out: list[dict] = []
    for level, sku, printing_units in deficits:
        planned, note = 0, ""
        # below its minimum, a product is refilled up to its maximum when it has one (min/max
        # replenishment), else up to its minimum; never past the maximum
        target = level.maximum_stock if level.maximum_stock is not None else level.minimum_stock
        for _ in range(level.replenishment_batch_size):
            have = level.current_stock + printing_units + planned
            if have >= target:
                if level.maximum_stock is not None and not planned:
                    note = f"{sku}: {have} on the shelf or printing reaches its maximum ({level.maximum_stock})"
                break
            if room <= 0:
                note = f"{sku}: the stock job limit is reached"
                break
            try:
                (batch,) = create_batches(session, level.product_mapping_id, 1, actor=None, origin="SCHEDULER")
            except ValidationFailed as exc:
                note = f"{sku}: {exc.message}"
                break
            planned += 1
            room -= batch.total_jobs
        out.append({"sku": sku, "batches": planned, "note": note})
        if room <= 0:
            break
    return out


# --- status ----------------------------------------------------------------------------------


def last_run(session: Session) -> ReplenishmentRun | None:
    return session.exec(select(ReplenishmentRun).order_by(col(ReplenishmentRun.ran_at).desc()).limit(1)).first()


def recent_runs(session: Session, limit: int = 10) -> list[ReplenishmentRun]:
    return list(session.exec(select(ReplenishmentRun).order_by(col(ReplenishmentRun.ran_at).desc()).limit(limit)))


def next_run_at(session: Session, now: datetime | None = None) -> datetime:
    """When the next evaluation runs: its interval after the last one (cron
    asks every minute), or at the next minute when none ran yet."""
    now = now or utcnow()
    last = last_run(session)
    if last is None:
        return now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return max(last.ran_at + timedelta(minutes=read_settings(session).interval_minutes), now)


def due(session: Session, now: datetime | None = None) -> bool:
    now = now or utcnow()
    last = last_run(session)
    return last is None or last.ran_at + timedelta(minutes=read_settings(session).interval_minutes) <= now


def prune_runs(session: Session, keep: int = 500) -> None:
    """Keep the newest `keep` runs of the shop."""
    session.execute(
        text(
            "DELETE FROM replenishment_runs WHERE id IN (SELECT id FROM replenishment_runs "
            "ORDER BY ran_at DESC OFFSET :keep)"
        ),
        {"keep": keep},
    )
