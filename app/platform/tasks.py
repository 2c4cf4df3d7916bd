"""Background work: the one way to put work on the RQ queues.

- Work is named by the dotted path of its entry point (`"jobs.printing.submit"`),
  so a domain never imports the entry-point package `jobs/`; the worker
  imports it when it runs the job. With JOBS_SYNC=1 (scripts, some tests) the
  entry point runs inline instead, like InvenTree's `offload_task`.
- **Per-shop fairness** (seed 001, B-001). Work done for one shop is enqueued
  with `shop=`. A shop has at most `SHOP_JOB_CAP` jobs in each RQ queue at a
  time; the rest wait in that shop's own line in Redis, in order, and each job
  that ends (success, failure or stop: RQ callbacks) lets the next one of its
  shop in, at the back of the queue. So one shop's burst (a thousand booklet
  renders, a bulk import, a webhook storm) fills the queue with at most a few
  of its jobs, and another shop's job is never behind more than a few of
  them: shops take turns. A slot held by a job whose worker was killed
  (no callback ran) is given back when the job is found dead (`heal_shop`,
  also run by cron for every line that has jobs waiting).
- `enqueue_once(key, …)` coalesces a burst of triggers into one run;
  `enqueue_later` runs work after a delay (RQ's scheduler moves it).
- `advisory_lock` / `single_flight` keep one run of a kind per key at a time
  (PostgreSQL advisory locks on a dedicated connection, so a killed worker
  never leaves one held); a run that finds it busy comes back a moment later
  (`come_back_later`) instead of holding a worker.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast

from redis import Redis
from rq import Callback, Queue, Retry, SimpleWorker
from rq import Worker as ForkWorker
from rq.job import Job, JobStatus
from sqlalchemy import text

from app.platform import logs
from app.settings import get_settings

log = logging.getLogger(__name__)

QUEUES = ("events", "slicing", "booklets", "integrations", "default")
RETRY_INTERVALS = [1, 2, 4]
Target = str | Callable[..., Any]


_T = TypeVar("_T")


@lru_cache
def redis_conn() -> Redis:
    return Redis.from_url(
        get_settings().redis_url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def reply(value: Awaitable[_T] | _T) -> _T:
    """A reply of `redis_conn()`'s client. redis-py types every command as
    `T | Awaitable[T]` (one class serves its sync and asyncio clients); ours is
    synchronous, so the reply is the value itself."""
    return cast(_T, value)


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_conn())


def default_retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))


def resolve(target: Target) -> Callable[..., Any]:
    """The function a dotted name (`"jobs.printing.submit"`) names."""
    if callable(target):
        return target
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _name(target: Target) -> str:
    return target if isinstance(target, str) else f"{target.__module__}.{target.__qualname__}"


def _meta(shop: uuid.UUID | str | None) -> dict[str, str]:
    meta = {"correlation_id": logs.correlation_id() or logs.new_correlation_id()}
    if shop:
        meta["shop"] = str(shop)
    return meta


def run_inline(target: Target, *args: Any, shop: uuid.UUID | str | None = None, **kwargs: Any) -> Any:
    with logs.context(shop=str(shop) if shop else None):
        return resolve(target)(*args, **kwargs)


def enqueue(
    target: Target,
    *args: Any,
    queue_name: str = "default",
    shop: uuid.UUID | str | None = None,
    job_id: str | None = None,
    retry: Retry | bool | None = True,
    job_timeout: int = 600,
    description: str | None = None,
    **kwargs: Any,
) -> Any:
    """Run `target(*args, **kwargs)` on a worker. With `shop` the job takes its
    turn among that shop's work (see the module's docstring). The job carries
    the current correlation id, so its logs and what it causes can be followed."""
    if get_settings().jobs_sync:
        return run_inline(target, *args, shop=shop, **kwargs)
    q = queue(queue_name)
    options = {
        "job_id": job_id,
        "retry": default_retry() if retry is True else (retry or None),
        "timeout": job_timeout,
        "description": description or _name(target),
        "meta": _meta(shop),
    }
    if not shop:
        return q.enqueue_call(_name(target), args=args, kwargs=kwargs, **options)
    job = q.create_job(
        _name(target),
        args=args,
        kwargs=kwargs,
        on_success=Callback(_RELEASE),
        on_failure=Callback(_RELEASE_FAILED),
        on_stopped=Callback(_RELEASE_STOPPED),
        **options,
    )
    if _admit(queue_name, str(shop), job.id):
        return q.enqueue_job(job)
    job.save()  # waits in the shop's line; let in when one of its jobs ends
    return job


ONCE_TTL = 120  # s: a coalescing mark outlives a lost job at most this long


def enqueue_once(
    key: str,
    target: Target,
    *args: Any,
    queue_name: str = "default",
    shop: uuid.UUID | str | None = None,
    description: str | None = None,
    delay: float | None = None,
) -> bool:
    """Enqueue `target` unless a run for `key` is already waiting. The job calls
    `release_once(key)` first thing, so anything that arrives after it started
    queues the next run: a burst of triggers costs one job, and none is missed.
    With `delay` the run waits that many seconds first. Returns True when it
    enqueued (or, with JOBS_SYNC, ran) the job."""
    if get_settings().jobs_sync:
        if delay is None:
            run_inline(target, *args, shop=shop)
        return True
    if not redis_conn().set(f"shopfloor:once:{key}", "1", nx=True, ex=ONCE_TTL):
        return False
    try:
        if delay is None:
            enqueue(target, *args, queue_name=queue_name, shop=shop, description=description)
        else:
            enqueue_later(delay, target, *args, queue_name=queue_name, shop=shop, description=description)
    except Exception:
        release_once(key)
        raise
    return True


def release_once(key: str) -> None:
    if not get_settings().jobs_sync:
        redis_conn().delete(f"shopfloor:once:{key}")


def enqueue_later(
    seconds: float,
    target: Target,
    *args: Any,
    queue_name: str = "default",
    shop: uuid.UUID | str | None = None,
    description: str | None = None,
) -> Any:
    """Run `target` in `seconds` (the workers' scheduler moves it into its
    queue); with JOBS_SYNC it runs now. A continuation: it does not wait in
    its shop's line again."""
    if get_settings().jobs_sync:
        return run_inline(target, *args, shop=shop)
    return queue(queue_name).enqueue_in(
        timedelta(seconds=seconds),
        _name(target),
        *args,
        retry=default_retry(),
        description=description or _name(target),
        meta=_meta(shop),
    )


# --- per-shop fairness ---------------------------------------------------------------------------

_RELEASE = "app.platform.tasks.job_ended"
_RELEASE_FAILED = "app.platform.tasks.job_failed"
_RELEASE_STOPPED = "app.platform.tasks.job_stopped"
_LINES = "shopfloor:fair:lines"  # every (queue, shop) line that has had jobs waiting


def _keys(queue_name: str, shop: str) -> tuple[str, str]:
    return f"shopfloor:fair:{queue_name}:{shop}:running", f"shopfloor:fair:{queue_name}:{shop}:waiting"


# A job goes in now when its shop has a free slot and nobody of its shop is waiting (FIFO per shop).
_ADMIT = """
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
return 0
"""
# A job ended (ARGV[1], may be ''): free its slot and let in the shop's next jobs while slots are free.
_NEXT = """
if ARGV[1] ~= '' then redis.call('SREM', KEYS[1], ARGV[1]) end
local out = {}
while redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) do
  local id = redis.call('LPOP', KEYS[2])
  if not id then break end
  redis.call('SADD', KEYS[1], id)
  table.insert(out, id)
end
return out
"""


def _cap() -> int:
    return max(1, get_settings().shop_job_cap)


def _admit(queue_name: str, shop: str, job_id: str) -> bool:
    running, waiting = _keys(queue_name, shop)
    return bool(redis_conn().eval(_ADMIT, 3, running, waiting, _LINES, job_id, _cap(), f"{queue_name}|{shop}"))


def _let_in(queue_name: str, shop: str, ended_job_id: str = "") -> int:
    """Free `ended_job_id`'s slot and enqueue the shop's next waiting jobs."""
    conn = redis_conn()
    running, waiting = _keys(queue_name, shop)
    q = queue(queue_name)
    let_in = 0
    for raw in reply(conn.eval(_NEXT, 2, running, waiting, ended_job_id, _cap())):
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            q.enqueue_job(Job.fetch(job_id, connection=conn))
            let_in += 1
        except Exception:
            conn.srem(running, job_id)
            log.warning("a waiting job %s of shop %s is gone; skipped", job_id, shop)
    return let_in


def _ended(job: Job) -> None:
    shop = (job.meta or {}).get("shop")
    if shop and job.origin in QUEUES:
        try:
            _let_in(job.origin, shop, job.id)
        except Exception:
            log.warning("could not let in the next job of shop %s", shop, exc_info=True)


def job_ended(job: Job, connection: Redis, result: Any, *args: Any, **kwargs: Any) -> None:
    _ended(job)


def job_failed(job: Job, connection: Redis, *exc_info: Any) -> None:
    _ended(job)


def job_stopped(job: Job, connection: Redis, *args: Any) -> None:
    _ended(job)


_ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def heal_shop(queue_name: str, shop: str) -> int:
    """Give back the slots of jobs that ended without a callback (their worker
    was killed) and let the shop's next jobs in. Returns how many went in."""
    conn = redis_conn()
    running, waiting = _keys(queue_name, shop)
    for raw in reply(conn.smembers(running)):
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            status = Job.fetch(job_id, connection=conn).get_status(refresh=False)
        except Exception:
            status = None
        if status not in _ALIVE:
            conn.srem(running, job_id)
    let_in = _let_in(queue_name, shop)
    if not conn.llen(waiting):
        conn.srem(_LINES, f"{queue_name}|{shop}")
    return let_in


def heal_shops() -> int:
    """Cron: heal every line that has had jobs waiting."""
    total = 0
    for raw in reply(redis_conn().smembers(_LINES)):
        queue_name, _, shop = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
        if queue_name in QUEUES and shop:
            total += heal_shop(queue_name, shop)
    return total


def waiting_counts() -> dict[str, int]:
    """Jobs waiting for their shop's turn, per queue (the queue dashboard)."""
    conn = redis_conn()
    counts: dict[str, int] = dict.fromkeys(QUEUES, 0)
    for raw in reply(conn.smembers(_LINES)):
        queue_name, _, shop = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
        if queue_name in counts:
            counts[queue_name] += reply(conn.llen(_keys(queue_name, shop)[1]))
    return counts


# --- one run at a time --------------------------------------------------------------------------


@contextlib.contextmanager
def advisory_lock(key: str, *, wait: bool = True) -> Iterator[bool]:
    """A transaction-level advisory lock on a dedicated connection: it ends
    with the connection, so a killed worker never leaves it held. With
    wait=False it yields False at once when another holder has it."""
    from app.platform.db import get_engine

    with get_engine().connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
            got = True
        else:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key}).scalar()
            )
        try:
            yield got
        finally:
            conn.rollback()


BUSY_RETRY_S = 1.0  # a run that finds another one busy comes back this much later instead of waiting


def come_back_later(
    key: str,
    target: str,
    *args: Any,
    queue_name: str,
    shop: uuid.UUID | str | None = None,
    description: str | None = None,
) -> None:
    """Another run holds the lock: rather than keep a worker waiting on it, run
    again shortly (it sees whatever the busy run leaves behind). Coalesced on
    the run's own key, so a long busy run costs one retry chain."""
    enqueue_once(key, target, *args, queue_name=queue_name, shop=shop, delay=BUSY_RETRY_S, description=description)


# --- the worker ---------------------------------------------------------------------------------


def _job_context(job: Job) -> contextlib.AbstractContextManager[None]:
    meta = job.meta or {}
    return logs.context(shop=meta.get("shop"), correlation_id=meta.get("correlation_id"))


class ShopWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job), each with its shop and
    correlation id on every log record and everything it causes."""

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        with _job_context(job):
            return super().perform_job(job, queue, execution)


class ForkingShopWorker(ForkWorker):
    """The same, forking a work-horse per job (WORKER_FORK=1)."""

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        with _job_context(job):
            return super().perform_job(job, queue, execution)


def make_worker(queue_names: list[str] | tuple[str, ...] = QUEUES, *, fork: bool = False) -> SimpleWorker | ForkWorker:
    cls = ForkingShopWorker if fork else ShopWorker
    return cls([queue(n) for n in queue_names], connection=redis_conn())
