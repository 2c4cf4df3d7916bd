"""RQ entry points and the one way to enqueue work.

`enqueue()` runs the function inline when JOBS_SYNC=1 (unit tests, scripts),
like InvenTree's offload_task; otherwise it goes to an RQ queue.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache
from typing import Any, Callable

from redis import Redis
from rq import Queue, Retry

from app.settings import get_settings

QUEUES = ("events", "slicing", "booklets", "integrations", "default")
RETRY_INTERVALS = [1, 2, 4]


@lru_cache
def redis_conn() -> Redis:
    return Redis.from_url(get_settings().redis_url, socket_connect_timeout=2, socket_timeout=5,
                          health_check_interval=30)


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_conn())


def default_retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))


def enqueue(func: Callable[..., Any], *args: Any, queue_name: str = "default", job_id: str | None = None,
            retry: Retry | None | bool = True, job_timeout: int = 600, description: str | None = None,
            **kwargs: Any) -> Any:
    if get_settings().jobs_sync:
        return func(*args, **kwargs)
    return queue(queue_name).enqueue(
        func, *args, job_id=job_id, retry=default_retry() if retry is True else (retry or None),
        job_timeout=job_timeout, description=description, **kwargs,
    )


def enqueue_event_handlers(tenant_id: uuid.UUID, event_ids: list[uuid.UUID], handlers: str | list[str]) -> Any:
    """One job applying the handler(s) to a batch of events (in this order)."""
    from jobs.events import handle_events

    ids = [str(e) for e in event_ids]
    names = [handlers] if isinstance(handlers, str) else list(handlers)
    digest = hashlib.sha1("|".join([*names, *ids]).encode()).hexdigest()[:16]
    what = f"event {ids[0]}" if len(ids) == 1 else f"{len(ids)} events from {ids[0]}"
    return enqueue(handle_events, str(tenant_id), ids, names, queue_name="events",
                   job_id=f"evt-{ids[0]}-{digest}", description=f"{', '.join(names)} ← {what}")


ONCE_TTL = 120  # s: a coalescing mark outlives a lost job at most this long


def enqueue_once(key: str, func: Callable[..., Any], *args: Any, queue_name: str = "default",
                 description: str | None = None, delay: float | None = None) -> bool:
    """Enqueue `func` unless a run for `key` is already waiting. The job calls
    `release_once(key)` first thing, so anything that arrives after it started
    queues the next run: a burst of triggers costs one job, and none is missed.
    With `delay` the run waits that many seconds first. Returns True when it
    enqueued (or, with JOBS_SYNC, ran) the job."""
    if get_settings().jobs_sync:
        if delay is None:
            func(*args)
        return True
    if not redis_conn().set(f"shopfloor:once:{key}", "1", nx=True, ex=ONCE_TTL):
        return False
    try:
        if delay is None:
            enqueue(func, *args, queue_name=queue_name, description=description)
        else:
            enqueue_later(delay, func, *args, queue_name=queue_name, description=description)
    except Exception:
        release_once(key)
        raise
    return True


def release_once(key: str) -> None:
    if not get_settings().jobs_sync:
        redis_conn().delete(f"shopfloor:once:{key}")


def enqueue_later(seconds: float, func: Callable[..., Any], *args: Any, queue_name: str = "default",
                  description: str | None = None) -> Any:
    """Run `func` again in `seconds` (the workers' scheduler moves it into its
    queue); with JOBS_SYNC it runs now."""
    from datetime import timedelta

    if get_settings().jobs_sync:
        return func(*args)
    return queue(queue_name).enqueue_in(timedelta(seconds=seconds), func, *args, retry=default_retry(),
                                        description=description)
