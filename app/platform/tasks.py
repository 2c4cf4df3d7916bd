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
- **Jobs that die with their worker.** Workers beat every
  WORKER_HEARTBEAT_SECONDS, also while they run a job; a run whose worker
  stayed silent for three beats is abandoned. RQ's own started-job cleanup
  (every worker's maintenance, and `reclaim_abandoned` from cron) retries it
  under the job's retry policy or fails it, and calls the platform's failure
  callback, which hands the run to its entry point's `@on_abandoned` hook: the
  domain puts the visible state right ("the worker stopped while rendering;
  trying again" / "…; try again"). So nothing a person watches stays "in
  progress" after its worker died.
- `advisory_lock` / `single_flight` keep one run of a kind per key at a time
  (PostgreSQL advisory locks on a dedicated connection, so a killed worker
  never leaves one held); a run that finds it busy comes back a moment later
  (`come_back_later`) instead of holding a worker.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast

from redis import Redis
from rq import Callback, Queue, Retry, SimpleWorker
from rq import Worker as ForkWorker
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.utils import current_timestamp, now
from rq.worker import BaseWorker
from rq.worker_registration import clean_worker_registry
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
        return q.enqueue_call(_name(target), args=args, kwargs=kwargs, on_failure=Callback(_RELEASE_FAILED), **options)
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
        on_failure=Callback(_RELEASE_FAILED),
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
    if exc_info and isinstance(exc_info[0], type) and issubclass(exc_info[0], AbandonedJobError):
        abandoned(job)


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


# --- jobs that die with their worker ------------------------------------------------------------

_F = TypeVar("_F", bound=Callable[..., Any])


def on_abandoned(hook: Callable[..., None]) -> Callable[[_F], _F]:
    """Declare, on an entry point, what puts its visible state right when a
    run of it is found abandoned (its worker died mid-job). The hook gets the
    job's arguments and `retrying`: True when the job's retry policy runs it
    again, False when it has failed for good. It must be idempotent and quick.

        @tasks.on_abandoned(service.render_abandoned)
        def render(tenant_id: str, build_id: str) -> str: ...
    """

    def mark(fn: _F) -> _F:
        fn.on_abandoned = hook  # type: ignore[attr-defined]
        return fn

    return mark


def will_retry(job: Job) -> bool:
    """What RQ's abandoned-job cleanup will do with the job: run it again."""
    return bool(job.retries_left and job.retries_left > 0)


def abandoned(job: Job, *, retrying: bool | None = None) -> bool:
    """A run of `job` died with its worker: call its entry point's
    `on_abandoned` hook. Returns whether a hook ran. Never raises (the caller
    is RQ's cleanup, which must get through every job)."""
    if not job.func_name:
        return False
    try:
        hook = getattr(resolve(job.func_name), "on_abandoned", None)
    except Exception:
        log.warning("abandoned job %s: its entry point %s is unknown", job.id, job.func_name)
        return False
    if hook is None:
        return False
    again = will_retry(job) if retrying is None else retrying
    log.warning("job %s (%s) died with its worker; %s", job.id, job.func_name, "retrying" if again else "failed")
    try:
        with _job_context(job):
            hook(*job.args, retrying=again, **job.kwargs)
    except Exception:
        log.exception("the abandoned-job hook of %s failed", job.func_name)
        return False
    return True


def reclaim_abandoned() -> int:
    """Cron and every worker's maintenance: hand back the runs whose worker
    died. RQ's started-job cleanup retries each (its retry policy) or fails it
    and runs the job's failure callback, which calls the domain's
    `on_abandoned` hook. Also forgets workers whose key has expired. Returns
    how many runs were taken back."""
    total = 0
    for name in QUEUES:
        q = queue(name)
        registry = StartedJobRegistry(queue=q, death_penalty_class=TimerDeathPenalty)
        total += len(registry.get_expired_job_ids(current_timestamp()))
        registry.cleanup()
        clean_worker_registry(q)
    if total:
        log.info("took back %d job(s) whose worker died", total)
    return total


def heartbeat_seconds() -> int:
    return max(1, get_settings().worker_heartbeat_seconds)


SILENT_BEATS = 3  # a worker silent this many heartbeats is dead
_BEAT_FIELD = "shopfloor_heartbeat"  # in the worker's Redis hash: how often it beats


def silent_after(worker_key: str) -> float | None:
    """How long a worker may stay silent before it counts as dead (None: a
    worker that does not say how often it beats; its key's expiry decides)."""
    raw = redis_conn().hget(worker_key, _BEAT_FIELD)
    try:
        return float(raw) * SILENT_BEATS if raw is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


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


def _tune(worker: BaseWorker) -> None:
    """Beat every WORKER_HEARTBEAT_SECONDS: idle (the wait for a job ends
    that often), and run RQ's maintenance, which takes back abandoned jobs,
    every three beats."""
    beat = heartbeat_seconds()
    worker.worker_ttl = beat + 15  # RQ waits `worker_ttl - 15` s for a job between beats
    worker.maintenance_interval = beat * SILENT_BEATS


def _register_beat(worker: BaseWorker) -> None:
    worker.connection.hset(worker.key, _BEAT_FIELD, str(heartbeat_seconds()))


def _keep_execution(pipe: Any, worker: BaseWorker, execution: Any) -> None:
    """The run's record outlives its short registry entry as long as the
    worker's own key does, so the dashboard can still name the job a dead
    worker left behind."""
    pipe.expire(execution.key, worker.worker_ttl + 60)


class _Beating:
    """While a job runs in the worker's own process nothing else says the
    worker is alive; this thread does, every beat: the worker's key, its
    last heartbeat, and the run's entry in the started-job registry, which
    expires three beats after the last one. So a SIGKILLed worker's run is
    abandoned within seconds, not after the job's whole timeout. It stops
    beating once the job has overrun its timeout by a minute (RQ's own limit)."""

    def __init__(self, worker: BaseWorker, job: Job, execution: Any) -> None:
        self.worker, self.job, self.execution = worker, job, execution
        self.beat = heartbeat_seconds()
        self.limit = (job.timeout or 600) + 60 if (job.timeout or 0) >= 0 else None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def once(self) -> None:
        ttl = self.beat * SILENT_BEATS
        with self.worker.connection.pipeline() as pipe:
            self.worker.heartbeat(self.worker.worker_ttl + 60, pipeline=pipe)
            if self.execution is not None:
                self.execution.heartbeat(self.job.started_job_registry, ttl, pipeline=pipe)
                _keep_execution(pipe, self.worker, self.execution)
            pipe.execute()

    def _run(self) -> None:
        started = now()
        while not self.stop.wait(self.beat):
            if self.limit is not None and (now() - started).total_seconds() > self.limit:
                return
            try:
                self.once()
            except Exception:
                log.warning("heartbeat failed", exc_info=True)

    def __enter__(self) -> _Beating:
        try:
            self.once()
        except Exception:
            log.warning("heartbeat failed", exc_info=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


class ShopWorker(SimpleWorker):
    """Runs jobs in its own process (no fork per job), each with its shop and
    correlation id on every log record and everything it causes; beats while
    it works (see `_Beating`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tune(self)

    def register_birth(self) -> None:
        super().register_birth()
        _register_beat(self)

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        with _job_context(job), _Beating(self, job, execution):
            return super().perform_job(job, queue, execution)


class ForkingShopWorker(ForkWorker):
    """The same, forking a work-horse per job (WORKER_FORK=1). RQ's monitor
    beats while the horse works; a horse that dies while the worker lives
    is handed to the job's `on_abandoned` hook right away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tune(self)
        self.job_monitoring_interval = heartbeat_seconds()

    def register_birth(self) -> None:
        super().register_birth()
        _register_beat(self)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        beat = heartbeat_seconds()
        if job.timeout and job.timeout > 0:
            return int(max(0.0, min(job.timeout - working_time, beat))) + beat * (SILENT_BEATS - 1)
        return beat * SILENT_BEATS

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        with _job_context(job):
            return super().perform_job(job, queue, execution)

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        super().maintain_heartbeats(job, execution)
        with self.connection.pipeline() as pipe:
            _keep_execution(pipe, self, execution)
            pipe.execute()

    def handle_work_horse_killed(self, job: Job, retpid: Any, ret_val: Any, rusage: Any) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        # RQ fails or retries it without the job's failure callback: free its shop's slot here
        _ended(job)
        abandoned(job, retrying=job.should_retry)


def make_worker(queue_names: list[str] | tuple[str, ...] = QUEUES, *, fork: bool = False) -> SimpleWorker | ForkWorker:
    cls = ForkingShopWorker if fork else ShopWorker
    return cls([queue(n) for n in queue_names], connection=redis_conn())
