"""What the queue dashboard shows, from RQ's own registries.

RQ queues are shared by every tenant, so depths are totals, while failed jobs
are listed only for the tenant whose id the job carries as its first argument
(jobs of the installation itself, with no tenant, show to the default tenant).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.platform.auth import Principal
from app.platform.errors import NotFound
from app.platform.tasks import QUEUES, queue, redis_conn, waiting_counts


@dataclass
class QueueStats:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int
    finished: int
    waiting: int = 0  # jobs waiting for their shop's turn (per-shop fairness)


@dataclass
class WorkerInfo:
    name: str
    state: str
    queues: str
    current_job: str
    successful: int
    failed: int


@dataclass
class FailedJob:
    id: str
    queue: str
    description: str
    error: str
    failed_at: str


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


def workers() -> list[WorkerInfo]:
    out = []
    for w in Worker.all(connection=redis_conn()):
        job = w.get_current_job_id() or ""
        out.append(
            WorkerInfo(
                name=w.name,
                state=str(w.get_state()),
                queues=", ".join(w.queue_names()),
                current_job=job,
                successful=w.successful_job_count,
                failed=w.failed_job_count,
            )
        )
    return sorted(out, key=lambda w: w.name)


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
                    error=_last_line(result.exc_string if result else job.exc_info),
                    failed_at=job.ended_at.strftime("%Y-%m-%d %H:%M:%S") if job.ended_at else "",
                )
            )
    out.sort(key=lambda j: j.failed_at, reverse=True)
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
