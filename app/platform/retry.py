"""The retry queue: table-backed retries of outbound operations.

An entry is tried at once, then after 1, 2, 4, 8 s (exponential) up to
`max_attempts` (5); then it is FAILED with `needs_attention`, which the order
page and the queue dashboard show. Each job type registers one operation with
`@operation("FULFILLMENT")`. Runs on RQ (`enqueue_in`) with a cron sweep for
entries whose RQ job was lost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, col, select

from app.platform import tasks
from app.platform.db import collect_on_commit, session_tenant_id, tenant_ids, tenant_session
from app.platform.models import RetryEntry, utcnow

log = logging.getLogger(__name__)

JOB_TYPES = ("FULFILLMENT", "PRINT_JOB_CREATION", "CANCELLATION", "NOTIFICATION", "SHIPMENT", "GRIDFLOCK_PIPELINE")
Operation = Callable[[Session, RetryEntry], None]
_OPERATIONS: dict[str, Operation] = {}
# What an operation's domain does when the last attempt failed (beside the
# staff notification every give-up gets), in the give-up's transaction.
_GIVE_UP: dict[str, Operation] = {}


def operation(job_type: str, *, on_give_up: Operation | None = None) -> Callable[[Operation], Operation]:
    if job_type not in JOB_TYPES:
        raise ValueError(f"unknown retry job type {job_type}")

    def register(fn: Operation) -> Operation:
        _OPERATIONS[job_type] = fn
        if on_give_up is not None:
            _GIVE_UP[job_type] = on_give_up
        return fn

    return register


class GiveUp(Exception):
    """Raised by an operation when trying again cannot help (the service
    refused what we sent): the entry gives up at once, with this message."""


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Delay before the next attempt after `attempts` failures: 1, 2, 4, 8 s,
    or longer when the service asked us to wait (`Retry-After`)."""
    delay = 2 ** max(0, attempts - 1)
    return timedelta(seconds=max(delay, min(retry_after or 0, 3600)))


def schedule(
    session: Session,
    job_type: str,
    *,
    order_id: uuid.UUID | None = None,
    payload: dict | None = None,
    max_attempts: int = 5,
) -> RetryEntry:
    """Add an entry in the caller's transaction; it runs after commit."""
    if job_type not in JOB_TYPES:
        raise ValueError(f"unknown retry job type {job_type}")
    entry = RetryEntry(
        tenant_id=session_tenant_id(session),
        job_type=job_type,
        order_id=order_id,
        payload=payload or {},
        max_attempts=max_attempts,
    )
    session.add(entry)
    _run_after_commit(session, entry.id)
    return entry


def _run_after_commit(session: Session, entry_id: uuid.UUID) -> None:
    tenant_id = session_tenant_id(session)

    def enqueue_all(entry_ids: list[uuid.UUID]) -> None:
        for eid in entry_ids:
            try:
                _enqueue(tenant_id, eid)
            except Exception as exc:  # Redis down: the cron sweep runs it later
                log.warning("could not enqueue retry entry %s (%s); the sweep will", eid, exc)

    collect_on_commit(session, "retry.run", enqueue_all).append(entry_id)


def _enqueue(tenant_id: uuid.UUID, entry_id: uuid.UUID, delay: timedelta | None = None) -> None:
    if not delay:
        tasks.enqueue(
            "jobs.retry.run_entry",
            str(tenant_id),
            str(entry_id),
            queue_name="integrations",
            shop=tenant_id,
            retry=False,
            description=f"retry entry {entry_id}",
        )
    else:
        tasks.enqueue_later(
            delay.total_seconds(),
            "jobs.retry.run_entry",
            str(tenant_id),
            str(entry_id),
            queue_name="integrations",
            shop=tenant_id,
            description=f"retry entry {entry_id}",
        )


def run(tenant_id: uuid.UUID | str, entry_id: uuid.UUID | str) -> str:
    """One attempt. Claims the entry (PENDING → PROCESSING) so two workers never run it together."""
    with tenant_session(tenant_id) as s:
        entry = s.exec(
            select(RetryEntry).where(RetryEntry.id == uuid.UUID(str(entry_id))).with_for_update(skip_locked=True)
        ).first()
        if entry is None or entry.status != "PENDING":
            return "skipped"
        early = entry.next_run_at - utcnow()
        if early > timedelta(seconds=1.5):  # RQ's scheduler may fire up to a second early
            s.rollback()
            _enqueue(uuid.UUID(str(tenant_id)), entry.id, early)
            return "not-due"
        entry.status = "PROCESSING"
        entry.attempts += 1
        entry.updated_at = utcnow()
        s.add(entry)
        s.commit()
    fn = _OPERATIONS.get(entry.job_type)
    error = None
    retry_after: float | None = None
    hopeless = False
    with tenant_session(tenant_id) as s:
        try:
            if fn is None:
                raise RuntimeError(f"no operation registered for {entry.job_type}")
            fn(s, entry)
            s.commit()
        except Exception as exc:  # any failure counts as one attempt
            s.rollback()
            error = (str(exc) if isinstance(exc, GiveUp) else f"{type(exc).__name__}: {exc}")[:2000]
            wait = getattr(exc, "retry_after", None)  # a rate limit says how long to wait
            retry_after = float(wait) if isinstance(wait, int | float) else None
            hopeless = isinstance(exc, GiveUp)
    with tenant_session(tenant_id) as s:
        entry = s.get(RetryEntry, entry.id)
        assert entry is not None  # claimed above; retry entries are never deleted
        entry.updated_at = utcnow()
        if error is None:
            entry.status, entry.last_error = "COMPLETED", ""
            s.add(entry)
            s.commit()
            return "completed"
        entry.last_error = error
        if entry.attempts >= entry.max_attempts or hopeless:
            entry.status, entry.needs_attention = "FAILED", True
            s.add(entry)
            _on_give_up(s, entry)
            s.commit()
            return "failed"
        entry.status = "PENDING"
        delay = backoff(entry.attempts, retry_after)
        entry.next_run_at = utcnow() + delay
        s.add(entry)
        s.commit()
    _enqueue(uuid.UUID(str(tenant_id)), entry.id, delay)
    return "retrying"


ABANDONED = "the worker running it stopped mid-way (restarted, or out of memory)"
# An attempt still PROCESSING this long ran on a worker that is gone (the
# platform's abandoned-job handling normally notices within seconds).
STALE_ATTEMPT = timedelta(minutes=15)


def run_abandoned(tenant_id: uuid.UUID | str, entry_id: uuid.UUID | str, *, retrying: bool = False) -> None:
    """An attempt died with its worker (the entry point's `on_abandoned`
    hook): it counts as a failed attempt, tried again after its backoff or,
    with none left, given up with the reason, so no entry stays "trying now"."""
    tid = uuid.UUID(str(tenant_id))
    with tenant_session(tid) as s:
        entry = s.exec(select(RetryEntry).where(RetryEntry.id == uuid.UUID(str(entry_id))).with_for_update()).first()
        if entry is None or entry.status != "PROCESSING":
            return
        entry.last_error, entry.updated_at = ABANDONED, utcnow()
        if entry.attempts >= entry.max_attempts:
            entry.status, entry.needs_attention = "FAILED", True
            s.add(entry)
            _on_give_up(s, entry)
            s.commit()
            return
        delay = backoff(entry.attempts)
        entry.status, entry.next_run_at = "PENDING", utcnow() + delay
        s.add(entry)
        s.commit()
        entry_key = entry.id
    _enqueue(tid, entry_key, delay)


def _on_give_up(session: Session, entry: RetryEntry) -> None:
    from app.platform.notifications import notify_staff

    hook = _GIVE_UP.get(entry.job_type)
    if hook is not None:
        try:
            with session.begin_nested():
                hook(session, entry)
        except Exception:  # the entry still gives up, and staff still hear of it
            log.exception("give-up hook of %s entry %s failed", entry.job_type, entry.id)
    notify_staff(
        session,
        kind="failure",
        severity="ERROR",
        title=f"{entry.job_type.replace('_', ' ').title()} needs attention",
        body=f"Gave up after {entry.attempts} attempts: {entry.last_error}",
        link=f"/orders/{entry.order_id}" if entry.order_id else "/admin/queues",
        order_id=entry.order_id,
    )


def retry_now(session: Session, entry_id: uuid.UUID) -> RetryEntry:
    """Staff: try a FAILED entry again (fresh attempt budget)."""
    entry = session.get(RetryEntry, entry_id)
    if entry is None:
        from app.platform.errors import NotFound

        raise NotFound("no such retry entry")
    if entry.status in ("FAILED", "PENDING"):
        entry.status, entry.needs_attention, entry.attempts = "PENDING", False, 0
        entry.next_run_at = utcnow()
        session.add(entry)
        _run_after_commit(session, entry.id)
    return entry


def sweep(tenant_id: uuid.UUID | str | None = None) -> int:
    """Run a shop's due PENDING entries whose delayed job was lost, and take
    back attempts whose worker died unnoticed (cron runs one such job per
    shop; without a shop, every shop's)."""
    n = 0
    for tid in tenant_ids(tenant_id):
        with tenant_session(tid) as s:
            stale = s.exec(
                select(RetryEntry.id).where(
                    RetryEntry.status == "PROCESSING", RetryEntry.updated_at <= utcnow() - STALE_ATTEMPT
                )
            ).all()
        for entry_id in stale:  # its worker died unnoticed
            run_abandoned(tid, entry_id)
        with tenant_session(tid) as s:
            due = s.exec(
                select(RetryEntry.id).where(
                    RetryEntry.status == "PENDING", RetryEntry.next_run_at <= utcnow() - timedelta(seconds=30)
                )
            ).all()
        for entry_id in due:
            _enqueue(tid, entry_id)
            n += 1
    return n


def attention(session: Session, order_id: uuid.UUID | None = None) -> list[RetryEntry]:
    q = select(RetryEntry).where(RetryEntry.needs_attention).order_by(col(RetryEntry.updated_at).desc())
    if order_id is not None:
        q = q.where(RetryEntry.order_id == order_id)
    return list(session.exec(q))
