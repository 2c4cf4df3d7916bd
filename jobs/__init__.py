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


def enqueue_event_handler(tenant_id: uuid.UUID, event_id: uuid.UUID, handler: str) -> Any:
    from jobs.events import handle_event

    return enqueue(handle_event, str(tenant_id), str(event_id), handler, queue_name="events",
                   job_id=f"evt-{event_id}-{hashlib.sha1(handler.encode()).hexdigest()[:10]}",
                   description=f"{handler} ← event {event_id}")
