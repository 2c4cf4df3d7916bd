"""What the print farm page reads and does: the job list filtered by status,
printer and search (order number or product) and sorted; rows that name the
printer, show progress and time left, and explain errors in words, in the
shop's format; a queue preview that stays short; operators starting a queued
job by hand; bulk move, cancel and requeue through the single-job rules."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.api import create_api
from app.platform.db import tenant_session
from app.platform.formatting import ShopFormat
from app.printing import service
from app.printing.models import AssemblyPart, Printer, PrintJob
from state.printfarm import QUEUE_PREVIEW, JobView, _snapshot, job_rows
from tests.factories import PASSWORD, make_user
from tests.integration.printing_helpers import make_farm


@pytest.fixture(scope="module")
def api():
    return create_api()


def _set(farm, job_id: uuid.UUID, **values) -> None:
    """Stand in for what SimplyPrint would have reported about a job."""
    with tenant_session(farm.tenant.id) as s:
        job = s.get(PrintJob, job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)
        s.add(job)
        s.commit()


def _number(farm, order_id) -> str:
    return farm.get_order(order_id).number


def test_the_job_list_filters_by_status_printer_and_search_and_sorts(api, worker):
    farm = make_farm(api)
    farm.mapping("HOOK-6", [("Hook", 1)], upload=False)
    farm.mapping("VASE-1", [("Body", 1)], upload=False)
    hooks = farm.order([("HOOK-6", 3)])
    vase = farm.order([("VASE-1", 1)])
    worker()
    h1, h2, h3 = farm.jobs(hooks)
    (v1,) = farm.jobs(vase)
    _set(farm, h1.id, status="PRINTING", printer_name="Prusa left", progress=70)
    _set(farm, h2.id, status="PRINTING", printer_name="Prusa right", progress=20)
    _set(farm, v1.id, status="COMPLETED", printer_name="Prusa left", progress=100)

    with tenant_session(farm.tenant.id) as s:

        def ids(**kw) -> list[uuid.UUID]:
            rows, total = service.list_jobs(s, **kw)
            assert total == len(rows)
            return [j.id for j in rows]

        assert service.printer_choices(s) == ["Prusa left", "Prusa right"]
        assert set(ids(printer="Prusa left")) == {h1.id, v1.id}
        assert ids(printer=service.NO_PRINTER) == [h3.id]
        assert set(ids(search=_number(farm, hooks))) == {h1.id, h2.id, h3.id}
        assert ids(search="Product VASE") == [v1.id]  # the product's name, not only its SKU
        assert ids(status="PRINTING", printer="Prusa right") == [h2.id]
        assert ids() == [v1.id, h3.id, h2.id, h1.id]  # newest first
        assert ids(descending=False) == [h1.id, h2.id, h3.id, v1.id]
        assert ids(sort="progress") == [v1.id, h1.id, h2.id, h3.id]
        assert ids(sort="printer", descending=False) == [v1.id, h1.id, h2.id, h3.id]  # no printer last
        assert ids(sort="status", descending=False)[:2] == [h3.id, h2.id]  # queued, then printing
        rows, total = service.list_jobs(s, page=1, page_size=3)
        assert total == 4 and [j.id for j in rows] == [h1.id]

    r = farm.client.get("/api/v1/printing/jobs", params={"printer": "Prusa left", "sort": "progress"})
    assert r.status_code == 200 and [j["id"] for j in r.json()["jobs"]] == [str(v1.id), str(h1.id)]
    assert farm.client.get("/api/v1/printing/jobs", params={"sort": "nonsense"}).status_code == 422


def test_rows_name_the_printer_show_progress_time_left_and_errors_in_words(api, worker):
    farm = make_farm(api)
    mapping_id = farm.mapping("VASE-2", [("Body", 1), ("Lid", 1)], upload=False)
    order_id = farm.order([("VASE-2", 2)])
    worker()
    body1, body2, lid1, lid2 = sorted(farm.jobs(order_id), key=lambda j: (j.part_name, j.copy_number))
    now = service.utcnow()
    with tenant_session(farm.tenant.id) as s:
        s.add(Printer(tenant_id=farm.tenant.id, simplyprint_id=7, name="Prusa MK4 right", state="printing"))
        for part in s.exec(select(AssemblyPart).where(AssemblyPart.product_mapping_id == mapping_id)):
            part.estimated_minutes = 60 if part.part_name == "Body" else None
            s.add(part)
        s.commit()
    # known only by its SimplyPrint printer id; half-way through a one-hour print
    _set(farm, body1.id, status="PRINTING", printer_id=7, progress=50, started_at=now - timedelta(minutes=30))
    # no estimate: the time left follows from the progress so far
    _set(
        farm,
        lid1.id,
        status="PRINTING",
        printer_name="Prusa MK4 left",
        progress=25,
        started_at=now - timedelta(hours=1),
    )
    _set(farm, lid2.id, status="FAILED", error="SimplyPrint reported job.failed on Prusa MK4 left")
    _set(farm, body2.id, error="SimplyPrint: SimplyPrint unreachable (queue/AddItem): [Errno 111] Connection refused")

    german = ShopFormat(locale="de_DE", currency="EUR", timezone="Europe/Berlin")
    with tenant_session(farm.tenant.id) as s:
        jobs = {j.id: j for j in s.exec(select(PrintJob).where(PrintJob.order_id == order_id))}
        rows = {r.id: r for r in job_rows(s, list(jobs.values()), german, manual=True)}

    printing = rows[str(body1.id)]
    assert (printing.printer, printing.printing, printing.progress) == ("Prusa MK4 right", True, 50)
    assert (printing.elapsed, printing.remaining) == ("30 Minuten", "30 Minuten")
    assert rows[str(lid1.id)].remaining == "3 Stunden"  # 1 h for 25 %: about 3 h more
    waiting = rows[str(body2.id)]
    assert (waiting.printer, waiting.on_printer, waiting.printing, waiting.elapsed) == ("", False, False, "")
    assert waiting.error == "SimplyPrint could not be reached."
    assert waiting.error_detail.endswith("Connection refused")
    failed = rows[str(lid2.id)]
    assert failed.error == "The printer reported a failure: the print on Prusa MK4 left did not finish."
    assert failed.can_requeue and failed.moves == ["QUEUED"]
    assert "PRINTING" in waiting.moves  # a queued job starts by hand in manual mode
    queued_at = jobs[body2.id].queued_at
    assert waiting.queued == german.when(queued_at) and "." in waiting.queued  # 29.11.2026, 14:05


def test_the_queue_preview_stays_short_and_the_list_pages(api, worker):
    farm = make_farm(api)
    farm.mapping("CLIP-1", [("Clip", 1)], upload=False)
    order_id = farm.order([("CLIP-1", QUEUE_PREVIEW + 4)])
    worker()
    fmt = ShopFormat()
    snap = _snapshot(farm.tenant.id, fmt, JobView(page_size=5))
    assert len(snap.order_queue) == QUEUE_PREVIEW and snap.order_waiting == QUEUE_PREVIEW + 4
    assert [r.position for r in snap.order_queue] == list(range(1, QUEUE_PREVIEW + 1))
    assert len(snap.rows) == 5 and snap.total == QUEUE_PREVIEW + 4
    # a page that no longer exists (a bookmark from a longer list) shows the last one
    snap = _snapshot(farm.tenant.id, fmt, JobView(page=40, page_size=5))
    assert snap.page == 2 and len(snap.rows) == 4
    snap = _snapshot(farm.tenant.id, fmt, JobView(search=_number(farm, order_id), status="PRINTING"))
    assert snap.total == 0 and snap.rows == []
    assert snap.sync == "manual" and snap.printer_choices[0].value == "all"


def test_a_queued_job_is_started_by_hand_through_the_service_and_the_api(api, worker):
    farm = make_farm(api)
    farm.mapping("HOOK-7", [("Hook", 2)], upload=False)
    order_id = farm.order([("HOOK-7", 1)])
    worker()
    a, b = farm.jobs(order_id)
    with tenant_session(farm.tenant.id) as s:
        job = service.move_job(s, a.id, "PRINTING", actor=farm.operator)
        assert job.status == "PRINTING" and job.started_at is not None
        s.commit()
    r = farm.client.post(f"/api/v1/printing/jobs/{b.id}/status", json={"status": "PRINTING"})
    assert r.status_code == 200 and r.json()["status"] == "PRINTING"
    r = farm.client.post(f"/api/v1/printing/jobs/{b.id}/status", json={"status": "QUEUED"})
    assert r.status_code == 409
    message = r.json()["error"]["message"]
    assert message.startswith("a printing job cannot be moved to queued") and "PRINTING" not in message
    worker()
    assert farm.get_order(order_id).status == "PROCESSING"


def test_bulk_actions_follow_the_single_job_rules_and_name_what_they_refuse(api, worker):
    farm = make_farm(api)
    farm.mapping("HOOK-8", [("Hook", 4)], upload=False)
    order_id = farm.order([("HOOK-8", 1)])
    worker()
    a, b, c, d = farm.jobs(order_id)
    number = _number(farm, order_id)
    with tenant_session(farm.tenant.id) as s:
        service.move_job(s, d.id, "COMPLETED", actor=farm.operator)
        s.commit()

    # move: the completed job is refused by name, the others start printing
    with tenant_session(farm.tenant.id) as s:
        result = service.bulk_jobs(s, [a.id, b.id, c.id, d.id], "move", status="PRINTING", actor=farm.operator)
        s.commit()
    assert result.done == [str(a.id), str(b.id), str(c.id)]
    (refusal,) = result.refused
    assert refusal.job_id == str(d.id) and refusal.job == f"Hook #4 (order {number})"
    assert refusal.reason.startswith("a completed job cannot be moved to printing")
    assert [j.status for j in farm.jobs(order_id)] == ["PRINTING", "PRINTING", "PRINTING", "COMPLETED"]

    # cancel through the API: a completed job cannot be cancelled, the rest can
    r = farm.client.post(
        "/api/v1/printing/jobs/bulk", json={"action": "cancel", "ids": [str(a.id), str(b.id), str(d.id)]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["done"] == [str(a.id), str(b.id)]
    assert r.json()["refused"] == [
        {"id": str(d.id), "job": f"Hook #4 (order {number})", "reason": "a completed job cannot be cancelled"}
    ]

    # requeue: only failed or cancelled jobs go back to the queue
    r = farm.client.post("/api/v1/printing/jobs/bulk", json={"action": "requeue", "ids": [str(a.id), str(c.id)]})
    assert r.json()["done"] == [str(a.id)]
    assert (
        r.json()["refused"][0]["reason"] == "only failed or cancelled jobs can be queued again (this one is printing)"
    )
    statuses = {j.id: j.status for j in farm.jobs(order_id)}
    assert statuses == {a.id: "QUEUED", b.id: "CANCELLED", c.id: "PRINTING", d.id: "COMPLETED"}
    worker()  # the events of every change went out: the order follows
    assert farm.get_order(order_id).status == "PROCESSING"

    # a move needs a target; a viewer may not act at all
    r = farm.client.post("/api/v1/printing/jobs/bulk", json={"action": "move", "ids": [str(b.id)]})
    assert r.status_code == 422
    viewer = make_user(farm.tenant, "viewer")
    other = TestClient(api)
    other.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": farm.tenant.slug})
    r = other.post("/api/v1/printing/jobs/bulk", json={"action": "requeue", "ids": [str(b.id)]})
    assert r.status_code == 403
    assert farm.jobs(order_id)[1].status == "CANCELLED"
