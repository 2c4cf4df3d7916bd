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

from rq.registry import StartedJobRegistry

from app.api import create_api
from app.platform.tasks import queue
from app.settings import ROOT
from standins.simplyprint import SimplyPrintStandin
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
