"""A worker killed mid-job (SIGKILL) loses nothing and applies nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from rq.registry import StartedJobRegistry
from sqlmodel import func, select

from app.platform import events
from app.platform.db import tenant_session
from app.platform.models import EventLog, ProcessedEvent
from app.platform.tasks import queue, redis_conn
from app.settings import ROOT
from tests.factories import make_tenant
from tests.integration import handlers
from tests.integration.processes import wait_gone


def _applied(tenant, event_id) -> tuple[int, int]:
    with tenant_session(tenant.id) as s:
        logs = s.exec(select(func.count()).select_from(EventLog).where(EventLog.event_type == "test.slow")).one()
        done = s.exec(select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == event_id)).one()
    return logs, done


def test_sigkill_mid_job_is_retried_and_applied_once(worker):
    tenant = make_tenant()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "events"],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with tenant_session(tenant.id) as s:
            event_id = events.publish(s, "test.slow", {})
            s.commit()
        started_key = f"test:slow:{event_id}:started"
        deadline = time.time() + 60
        while not (horse := redis_conn().get(started_key)):
            assert proc.poll() is None, "worker died on its own"
            assert time.time() < deadline, "the worker never started the job"
            time.sleep(0.1)
        # The work-horse running the handler (RQ gives it its own process
        # group) and the worker itself, mid-transaction.
        os.kill(int(horse), signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_gone(int(horse))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    time.sleep(0.5)
    assert _applied(tenant, event_id) == (0, 0)  # the open transaction died with the worker

    registry = StartedJobRegistry(queue=queue("events"))
    job_id = next(j for j in registry.get_job_ids() if str(event_id) in j)
    # What a surviving worker's maintenance does once the dead one's heartbeat
    # has expired; the timestamp stands in for that wait.
    registry.cleanup(timestamp=time.time() + 3600)
    job = queue("events").fetch_job(job_id)
    assert job.retries_left == 2  # one of the three retries used

    worker(timeout=30)
    assert _applied(tenant, event_id) == (1, 1)
    worker(timeout=5)  # nothing left to run, and a re-run is a no-op
    assert events.run_handler(tenant.id, event_id, events.handler_name(handlers.slow)) == "duplicate"
    assert _applied(tenant, event_id) == (1, 1)
