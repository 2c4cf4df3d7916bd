from __future__ import annotations

import time

import pytest
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from app.platform.db import reset_engine
from app.platform.tasks import QUEUES, ShopWorker, queue, redis_conn
from tests import testenv


@pytest.fixture(scope="session", autouse=True)
def database():
    testenv.prepare_database()
    reset_engine()
    redis_conn().flushdb()
    yield
    reset_engine()


@pytest.fixture(autouse=True)
def _sign_in_counters_start_empty():
    """Every test signs in from the same address ("testclient"): the failed
    sign-ins of an earlier test (the API fuzz run tries hundreds) must not
    throttle a later one."""
    r = redis_conn()
    keys = list(r.scan_iter("shopfloor:signin:*", count=1000))
    if keys:
        r.delete(*keys)


def drain(timeout: float = 20.0, queues: tuple[str, ...] = QUEUES) -> None:
    """Run an in-process SimpleWorker until no job is waiting or scheduled
    (scheduled = retries waiting for their interval)."""
    deadline = time.time() + timeout
    qs = [queue(n) for n in queues]
    scheduler = RQScheduler(qs, connection=redis_conn())
    scheduler.prepare_registries([q.name for q in qs])
    while time.time() < deadline:
        # Move due retries into their queues. Done here without the scheduler
        # lock: a SIGKILLed worker's lock outlives it until its TTL runs out.
        scheduler.enqueue_scheduled_jobs()
        ShopWorker(qs, connection=redis_conn()).work(burst=True)
        scheduled = sum(ScheduledJobRegistry(queue=q).count for q in qs)
        if not scheduled and all(q.count == 0 for q in qs):
            return
        time.sleep(0.25)
    raise AssertionError("jobs still pending after drain timeout")


@pytest.fixture
def worker():
    return drain


@pytest.fixture(scope="session")
def catalog():
    """The parts catalog (global): imported once per test session when empty.
    Returns the parts per slot."""
    from app.catalog import importer, service

    if service.catalog_empty():
        service.import_catalog(started_by="tests")
    deadline = time.time() + 300
    while importer.import_running() and time.time() < deadline:  # another test process is importing
        time.sleep(0.5)
    return service.slot_counts()
