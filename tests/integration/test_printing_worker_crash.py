"""A worker SIGKILLed in the middle of adding print jobs to SimplyPrint: the
queue items SimplyPrint created but we never recorded are adopted on the retry,
so no job is lost and none is queued twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlmodel import select

from app.api import create_api
from app.platform import tasks
from app.platform.db import tenant_session
from app.platform.models import RetryEntry
from app.platform.tasks import queue, redis_conn
from app.printing.service import submission
from app.settings import ROOT
from standins.simplyprint import SimplyPrintStandin
from tests.integration import slow_worker
from tests.integration.printing_helpers import make_farm
from tests.integration.processes import children, wait_gone


def test_sigkill_while_adding_to_simplyprint_loses_nothing_and_duplicates_nothing(worker):
    with SimplyPrintStandin() as standin:
        farm = make_farm(create_api(), standin)
        farm.mapping("PLANTER-S", [("Pot", 1), ("Saucer", 1)])
        added, release = threading.Event(), threading.Event()
        add_item = standin._queue_add

        def slow_add(query: dict, body: dict):
            """The second AddItem takes effect on SimplyPrint, then hangs before answering."""
            answer = add_item(query, body)
            if sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem") == 2:
                added.set()
                release.wait(60)
            return answer

        standin._queue_add = slow_add
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "events", "integrations"],
            cwd=ROOT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            order_id = farm.order([("PLANTER-S", 2)])  # four jobs
            assert added.wait(60), "the worker never reached SimplyPrint"
            horses = children(proc.pid)
            for pid in horses:
                os.kill(pid, signal.SIGKILL)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            for pid in horses:
                wait_gone(pid)
        finally:
            release.set()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        standin._queue_add = add_item

        recorded = [j.simplyprint_queue_item_id for j in farm.jobs(order_id) if j.simplyprint_queue_item_id]
        # a batch records its items when it ends: SimplyPrint has two items we do not know
        assert not recorded and len(standin.queue_snapshot()) == 2

        registry = StartedJobRegistry(queue=queue("integrations"))
        registry.cleanup(timestamp=time.time() + 3600)  # what a surviving worker's maintenance does
        worker(timeout=30)

        jobs = farm.jobs(order_id)
        items = [i["id"] for i in standin.queue_snapshot()]
        assert len(jobs) == 4 and all(j.simplyprint_queue_item_id for j in jobs)
        assert sorted(j.simplyprint_queue_item_id for j in jobs) == sorted(items)  # 4 items, no duplicate
        adds = sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem")
        assert adds == 4  # the orphans were adopted, not added again
        worker(timeout=5)
        assert len(standin.queue_snapshot()) == 4


def _killed_mid_submission(standin: SimplyPrintStandin):
    """A farm whose worker died between SimplyPrint's second AddItem and its
    answer: two items there, none recorded, the run still in the registry."""
    farm = make_farm(create_api(), standin)
    farm.mapping("PLANTER-S", [("Pot", 1), ("Saucer", 1)])
    added, release = threading.Event(), threading.Event()
    add_item = standin._queue_add

    def slow_add(query: dict, body: dict):
        answer = add_item(query, body)
        if sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem") == 2:
            added.set()
            release.wait(60)
        return answer

    standin._queue_add = slow_add
    proc = slow_worker.start(["events", "integrations"])
    try:
        order_id = farm.order([("PLANTER-S", 2)])  # four jobs
        assert added.wait(60), "the worker never reached SimplyPrint"
    finally:
        slow_worker.kill(proc)
        release.set()
        standin._queue_add = add_item
    assert not any(j.simplyprint_queue_item_id for j in farm.jobs(order_id))
    return farm, order_id


def _all_on_simplyprint_once(farm, order_id, standin: SimplyPrintStandin) -> None:
    jobs = farm.jobs(order_id)
    items = [i["id"] for i in standin.queue_snapshot()]
    assert len(jobs) == 4 and all(j.simplyprint_queue_item_id for j in jobs)
    assert sorted(j.simplyprint_queue_item_id for j in jobs) == sorted(items)  # 4 items, no duplicate
    assert sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem") == 4


def _submit_run_started() -> bool:
    return bool(queue("integrations").started_job_registry.get_job_ids())


def test_a_submission_killed_mid_job_is_taken_back_within_seconds_and_retried(worker):
    """No waiting out the job's ten-minute timeout: the dead worker's run is
    retried a few heartbeats later, and the retry adopts the orphans."""
    with SimplyPrintStandin() as standin:
        farm, order_id = _killed_mid_submission(standin)
        assert _submit_run_started()
        took = slow_worker.until(lambda: not _submit_run_started(), tasks.reclaim_abandoned, timeout=15)
        assert took < 15
        worker(timeout=30)
        _all_on_simplyprint_once(farm, order_id, standin)


def test_a_submission_killed_with_no_retry_left_says_why_and_the_retry_queue_sends_it(worker):
    with SimplyPrintStandin() as standin:
        farm, order_id = _killed_mid_submission(standin)
        (job_id,) = queue("integrations").started_job_registry.get_job_ids()
        redis_conn().hset(Job.key_for(job_id), "retries_left", "0")  # its retries were used up by earlier deaths
        slow_worker.until(lambda: any(j.error for j in farm.jobs(order_id)), tasks.reclaim_abandoned, timeout=15)
        waiting = [j for j in farm.jobs(order_id) if j.error]
        assert waiting and all(j.error == submission.ABANDONED for j in waiting)
        with tenant_session(farm.tenant.id) as s:
            entry = s.exec(select(RetryEntry).where(RetryEntry.job_type == "PRINT_JOB_CREATION")).one()
        assert entry.status in ("PENDING", "PROCESSING")
        worker(timeout=30)  # the retry queue's entry submits what is still pending
        _all_on_simplyprint_once(farm, order_id, standin)
        assert not any(j.error for j in farm.jobs(order_id))
