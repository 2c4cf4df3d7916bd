"""What the queue dashboard shows, from RQ's own registries.

RQ queues are shared by every tenant, so depths are totals, while failed jobs
are listed only for the tenant whose id the job carries as its first argument
(jobs of the installation itself, with no tenant, show to the default tenant).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.platform.auth import Principal
from app.platform.errors import NotFound
from app.platform.machine import Status, StatusTable
from app.platform.tasks import QUEUES, queue, redis_conn, silent_after, waiting_counts


@dataclass
class QueueStats:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int
    finished: int
    waiting: int = 0  # jobs waiting for their shop's turn (per-shop fairness)


# What an RQ worker is doing, in words.
WORKER_STATE = StatusTable(
    Status("busy", "Busy", "amber"),
    Status("idle", "Idle", "green"),
    Status("started", "Starting", "blue"),
    Status("suspended", "Suspended", "gray"),
    Status("not_responding", "Not responding", "red"),
)
NOT_RESPONDING = "not_responding"


@dataclass
class WorkerInfo:
    name: str
    state: str
    queues: str
    current_job: str
    successful: int
    failed: int
    current_job_func: str = ""  # the running job's entry point (its words: job_title)
    last_seen: datetime | None = None  # its last heartbeat
    # its job was left behind: the worker stopped mid-job (it is retried or failed by the sweep)
    abandoned: bool = False


@dataclass
class FailedJob:
    id: str
    queue: str
    description: str
    error: str
    failed_at: datetime | None
    title: str = ""  # what the job does, in words


def job_title(func_name: str | None) -> str:
    """An entry point as words: "jobs.printing.reconcile_if_due" → "Printing: reconcile if due"."""
    parts = [p for p in (func_name or "").split(".") if p and p != "jobs"]
    if not parts:
        return "A background job"
    what = parts[-1].replace("_", " ")
    return f"{parts[-2].replace('_', ' ').capitalize()}: {what}" if len(parts) > 1 else what.capitalize()


_EXCEPTION_NAME = re.compile(
    r"^(?:(?:[a-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception|Timeout|Exit|Interrupt|Warning)):\s*"
)


def plain_error(line: str) -> str:
    """An exception's last line without the exception's class name
    ("RuntimeError: printer bridge timed out" → "printer bridge timed out")."""
    return _EXCEPTION_NAME.sub("", line, count=1)


def queue_stats() -> list[QueueStats]:
    out = []
    waiting = waiting_counts()
    for name in QUEUES:
        q = queue(name)
        out.append(
            QueueStats(
                name=name,
                queued=q.count,
                started=q.started_job_registry.count,
                scheduled=q.scheduled_job_registry.count,
                failed=q.failed_job_registry.count,
                finished=q.finished_job_registry.count,
                waiting=waiting[name],
            )
        )
    return out


def responding(last_heartbeat: datetime | None, silent_after: float | None, at: datetime | None = None) -> bool:
    """Whether a worker still answers: its last heartbeat is younger than the
    silence it is allowed. RQ keeps a dead worker listed until its key
    expires (minutes), showing whatever it was doing; this tells them apart."""
    if last_heartbeat is None or silent_after is None:
        return True
    return ((at or datetime.now(UTC)) - (_utc(last_heartbeat) or last_heartbeat)).total_seconds() <= silent_after


def workers() -> list[WorkerInfo]:
    out = []
    for w in Worker.all(connection=redis_conn()):
        job = w.get_current_job_id() or ""
        current = w.get_current_job() if job else None
        alive = responding(w.last_heartbeat, silent_after(w.key))
        out.append(
            WorkerInfo(
                name=w.name,
                state=str(w.get_state()) if alive else NOT_RESPONDING,
                queues=", ".join(w.queue_names()),
                current_job=job,
                successful=w.successful_job_count,
                failed=w.failed_job_count,
                current_job_func=(current.func_name if current else "") or "",
                last_seen=_utc(w.last_heartbeat),
                abandoned=bool(job) and not alive,
            )
        )
    return sorted(out, key=lambda w: w.name)


def _described(job: Job) -> str:
    """What the job does: the description its enqueuer gave, else its entry
    point in words (RQ's default description is the call itself, ids and all)."""
    given = job.description or ""
    if given and not given.startswith(job.func_name or "\0"):
        return given[:200]
    return job_title(job.func_name)


def _utc(dt: datetime | None) -> datetime | None:
    """RQ keeps its times as naive UTC."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _job_tenant(job: Job) -> str | None:
    first = job.args[0] if job.args else None
    try:
        return str(uuid.UUID(str(first)))
    except (ValueError, TypeError):
        return None


def _visible(job: Job, principal: Principal, default_tenant: bool) -> bool:
    owner = _job_tenant(job)
    return owner == str(principal.tenant_id) or (owner is None and default_tenant)


def _last_line(exc_info: str | None) -> str:
    lines = [ln for ln in (exc_info or "").strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else ""


def failed_jobs(principal: Principal, *, default_tenant: bool, limit: int = 100) -> list[FailedJob]:
    out: list[FailedJob] = []
    for name in QUEUES:
        registry = FailedJobRegistry(queue=queue(name))
        for job_id in registry.get_job_ids(0, 500):
            try:
                job = Job.fetch(job_id, connection=redis_conn())
            except NoSuchJobError:
                continue
            if not _visible(job, principal, default_tenant):
                continue
            result = job.latest_result()
            out.append(
                FailedJob(
                    id=job.id,
                    queue=name,
                    description=(job.description or job.func_name or "")[:200],
                    error=plain_error(_last_line(result.exc_string if result else job.exc_info)),
                    failed_at=_utc(job.ended_at),
                    title=_described(job),
                )
            )
    out.sort(key=lambda j: j.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return out[:limit]


def requeue_failed(job_id: str, principal: Principal, *, default_tenant: bool) -> None:
    principal.require("admin.operations")
    try:
        job = Job.fetch(job_id, connection=redis_conn())
    except NoSuchJobError as exc:
        raise NotFound("no such job") from exc
    if not _visible(job, principal, default_tenant) or not job.is_failed:
        raise NotFound("no such failed job")
    job.requeue()
