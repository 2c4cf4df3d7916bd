"""The queue dashboard tells a dead worker from a busy one: a worker that
stopped beating reads "Not responding", with the job it left behind marked
abandoned, at every width."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.sync_api import expect
from rq.executions import prepare_execution
from rq.job import Job
from rq.utils import now, utcformat

from app.platform.tasks import ShopWorker, queue, redis_conn
from tests import factories
from tests.e2e.conftest import shot, sign_in


def _dead_worker_mid_render() -> str:
    """A worker registered as running a render whose last heartbeat is a
    minute old: what a SIGKILLed worker leaves in Redis."""
    worker = ShopWorker([queue("booklets")], connection=redis_conn(), name=f"e2e-dead-{uuid.uuid4().hex[:6]}")
    worker.register_birth()
    job = Job.create(
        "jobs.booklets.render",
        args=(str(uuid.uuid4()), str(uuid.uuid4())),
        connection=redis_conn(),
        origin="booklets",
        timeout=600,
    )
    job.save()
    prepare_execution(worker, job)
    redis_conn().hset(worker.key, "last_heartbeat", utcformat(now() - timedelta(minutes=1)))
    return worker.name


def test_a_dead_worker_reads_not_responding_with_its_job_abandoned(page):
    name = _dead_worker_mid_render()
    admin = factories.make_user(factories.default_tenant(), "admin")
    sign_in(page, admin.username, next_path="/admin/queues")
    page.wait_for_url("**/admin/queues")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Not responding")
    expect(row).to_contain_text("Booklets: render (abandoned)")
    expect(row).to_contain_text("Silent since")
    expect(row).not_to_contain_text("Busy")
    shot(page, "worker-death-1440")
    for width, height in ((768, 1024), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        expect(row).to_contain_text("Not responding")
        shot(page, f"worker-death-{width}")
