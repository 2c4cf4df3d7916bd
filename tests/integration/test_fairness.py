"""Per-shop fairness (seed 001, B-001): one shop's burst never starves
another shop's work on the same queue."""

from __future__ import annotations

import uuid

from app.platform import tasks
from app.platform.tasks import queue, redis_conn
from app.settings import get_settings
from jobs.periodic import for_each_shop
from tests.factories import make_tenant

DONE = "test:fairness:done"
TARGET = "tests.integration.test_fairness.record"


def record(shop: str, n: int) -> None:
    """A job: note that it ran."""
    redis_conn().rpush(DONE, f"{shop}:{n}")


def _done() -> list[str]:
    return [v.decode() for v in redis_conn().lrange(DONE, 0, -1)]


def test_shop_b_finishes_while_shop_a_has_a_200_job_backlog(worker):
    worker()  # nothing left over from other tests
    redis_conn().delete(DONE)
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    for i in range(200):
        tasks.enqueue(TARGET, "A", i, queue_name="default", shop=shop_a)
    tasks.enqueue(TARGET, "B", 0, queue_name="default", shop=shop_b)
    cap = get_settings().shop_job_cap
    # Shop A's burst holds at most `cap` places in the queue; the rest wait in its own line.
    assert queue("default").count == cap + 1
    assert tasks.waiting_counts()["default"] >= 200 - cap

    one_worker = tasks.make_worker(["default"])
    one_worker.work(burst=True, max_jobs=cap + 1)
    done = _done()
    assert "B:0" in done, f"shop B's job did not run among the first {cap + 1}: {done}"
    a_left = 200 - sum(1 for d in done if d.startswith("A:"))
    assert a_left >= 195  # B finished while A's backlog was still there

    one_worker.work(burst=True)  # the rest: every job of A, once, in order
    a_done = [int(d.split(":")[1]) for d in _done() if d.startswith("A:")]
    assert a_done == list(range(200))
    assert tasks.waiting_counts()["default"] == 0


def test_a_slot_held_by_a_job_that_died_is_given_back(worker):
    worker()
    redis_conn().delete(DONE)
    shop = uuid.uuid4()
    running, _ = tasks._keys("default", str(shop))
    cap = get_settings().shop_job_cap
    redis_conn().sadd(running, *[f"killed-worker-job-{i}" for i in range(cap)])  # no callback ever ran
    tasks.enqueue(TARGET, "S", 1, queue_name="default", shop=shop)
    assert queue("default").count == 0  # the shop's slots look full
    assert tasks.heal_shops() == 1  # cron finds the dead jobs and lets the waiting one in
    worker(queues=("default",))
    assert _done() == ["S:1"]


def test_cron_enqueues_one_job_per_shop(worker):
    worker()
    make_tenant()
    make_tenant()
    before = queue("default").count
    shops = for_each_shop("jobs.maintenance.purge_expired_sessions", "default")
    assert shops >= 2
    enqueued = queue("default").count + tasks.waiting_counts()["default"] - before
    assert enqueued == shops
    worker(queues=("default",))
