"""Print farm: jobs per mapping, the SimplyPrint queue (ORDER before STOCK),
webhooks (secret, duplicates, out of order), reconciliation, orchestration to
ready-for-fulfillment, failure, revival, cancellation, manual mode, isolation."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.api import create_api
from app.inventory import service as inventory
from app.inventory.models import StockBatchJob
from app.orders import service as orders
from app.orders.models import LineItem
from app.platform import tasks
from app.platform.db import tenant_session
from app.platform.errors import InvalidTransition
from app.platform.models import EventLog, Outbox, RetryEntry
from app.printing import service
from app.printing.models import AssemblyPart, Printer, PrintJob, ProcessedSimplyPrintWebhook, ProductMapping
from standins.simplyprint import SimplyPrintStandin
from tests.factories import PASSWORD, make_user
from tests.integration.printing_helpers import SECRET, ApiServer, make_farm, run_farm


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture(scope="module")
def server(api):
    srv = ApiServer(api)
    yield srv
    srv.stop()


@pytest.fixture
def standin():
    with SimplyPrintStandin(speed=50.0) as sp:
        yield sp


def _outbox(tenant, event_type: str) -> list[Outbox]:
    with tenant_session(tenant.id) as s:
        return list(s.exec(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.created_at)))


def _lines(farm, order_id) -> dict[str, LineItem]:
    with tenant_session(farm.tenant.id) as s:
        return {li.sku: li for li in s.exec(select(LineItem).where(LineItem.order_id == order_id))}


# --- jobs per mapping ------------------------------------------------------------------------------


def test_jobs_per_part_copy_and_quantity_with_a_visible_problem_for_unmapped_skus(api, worker):
    farm = make_farm(api)
    farm.mapping("PLANTER-S", [("Pot", 1), ("Saucer", 1), ("Clip", 2)], upload=False)
    order_id = farm.order([("PLANTER-S", 2), ("MYSTERY-1", 1)])
    worker()
    jobs = farm.jobs(order_id)
    assert len(jobs) == (1 + 1 + 2) * 2
    copies = {}
    for j in jobs:
        copies.setdefault(j.part_name, []).append(j.copy_number)
        assert j.purpose == "ORDER" and j.status == "QUEUED" and j.sku == "PLANTER-S"
    assert {k: sorted(v) for k, v in copies.items()} == {"Pot": [1, 2], "Saucer": [1, 2], "Clip": [1, 2, 3, 4]}
    lines = _lines(farm, order_id)
    assert lines["PLANTER-S"].total_parts == 8 and lines["PLANTER-S"].status == "PRINTING"
    assert lines["MYSTERY-1"].total_parts == 0 and "no print mapping" in lines["MYSTERY-1"].problem
    order = farm.get_order(order_id)
    assert order.total_parts == 8 and order.completed_parts == 0 and order.status == "PROCESSING"
    assert any("MYSTERY-1" in p and "no print mapping" in p for p in order.problems)
    # FIFO sequence follows the order's lines and parts
    assert [j.sequence for j in jobs] == sorted(j.sequence for j in jobs)

    # a replay creates nothing and repeats no problem
    with tenant_session(farm.tenant.id) as s:
        again = service.create_jobs_for_order(s, order_id)
        s.commit()
    assert again.jobs == [] and len(farm.jobs(order_id)) == 8
    assert len(farm.get_order(order_id).problems) == len(order.problems)


def test_builder_orders_and_pc_manual_orders_print_nothing(api, worker):
    farm = make_farm(api)
    farm.mapping("CLIP-10", [("Clip", 1)], upload=False)
    pc = farm.order([("CPU-RYZEN-7", 1)], source="manual")
    mixed = farm.order([("CLIP-10", 1), ("CASE-X", 1)], source="manual")
    worker()
    assert farm.jobs(pc) == [] and farm.get_order(pc).problems == []
    assert len(farm.jobs(mixed)) == 1
    assert any("CASE-X" in p for p in farm.get_order(mixed).problems)


# --- manual mode ------------------------------------------------------------------------------------


def test_manual_mode_operators_move_jobs_and_orchestration_follows(api, worker):
    farm = make_farm(api)
    farm.mapping("HOOK-6", [("Hook", 2)], upload=False)
    order_id = farm.order([("HOOK-6", 1)])
    worker()
    a, b = farm.jobs(order_id)
    with tenant_session(farm.tenant.id) as s:
        assert service.manual_mode(s)
        with pytest.raises(InvalidTransition):
            service.move_job(s, a.id, "FAILED", actor=farm.operator)  # QUEUED cannot fail
        for status in ("ASSIGNED", "PRINTING", "COMPLETED"):
            service.move_job(s, a.id, status, actor=farm.operator)
        service.move_job(s, b.id, "PRINTING", actor=farm.operator)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert (order.completed_parts, order.total_parts, order.fulfillment_status) == (1, 2, "unfulfilled")
    r = farm.client.post(f"/api/v1/printing/jobs/{b.id}/status", json={"status": "COMPLETED"})
    assert r.status_code == 200 and r.json()["status"] == "COMPLETED"
    worker()
    order = farm.get_order(order_id)
    assert order.completed_parts == 2 and order.fulfillment_status == "ready" and order.status == "PROCESSING"
    assert len(_outbox(farm.tenant, "order.ready-for-fulfillment")) == 1
    r = farm.client.post(f"/api/v1/printing/jobs/{b.id}/status", json={"status": "QUEUED"})
    assert r.status_code == 409  # COMPLETED is final


def _batch_jobs(s, batch) -> list[PrintJob]:
    return list(
        s.exec(
            select(PrintJob)
            .join(StockBatchJob, StockBatchJob.print_job_id == PrintJob.id)
            .where(StockBatchJob.stock_batch_id == batch.id)
            .order_by(PrintJob.sequence)
        )
    )


# --- the SimplyPrint queue ---------------------------------------------------------------------------


def test_order_jobs_queue_before_stock_jobs_fifo_and_adding_is_idempotent(api, worker, standin):
    farm = make_farm(api, standin)
    stock_map = farm.mapping("BENCHY", [("Boat", 1)])
    farm.mapping("GRID-2x3", [("Base", 1)])
    with tenant_session(farm.tenant.id) as s:
        stock = [j for b in inventory.create_batches(s, stock_map, 2, actor=farm.operator) for j in _batch_jobs(s, b)]
        s.commit()
    worker()
    first = farm.order([("GRID-2x3", 1)])
    worker()
    second = farm.order([("GRID-2x3", 2)])
    worker()

    queued = [i["id"] for i in standin.queue_snapshot()]
    by_item = {j.simplyprint_queue_item_id: j for j in farm.jobs()}
    assert None not in by_item and len(queued) == len(by_item) == 5
    purposes = [(by_item[i].purpose, by_item[i].order_id) for i in queued]
    assert purposes == [("ORDER", first), ("ORDER", second), ("ORDER", second), ("STOCK", None), ("STOCK", None)]
    assert [by_item[i].id for i in queued[3:]] == [j.id for j in stock]  # FIFO within STOCK
    second_jobs = [by_item[i] for i in queued[1:3]]
    assert second_jobs[0].sequence < second_jobs[1].sequence  # FIFO within ORDER
    with tenant_session(farm.tenant.id) as s:
        assert [j.simplyprint_queue_item_id for j in service.queue(s)] == queued

    # adding again (a redelivered job, the poll) adds nothing: a job with a queue item id is skipped
    adds = sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem")
    assert service.submit_pending(farm.tenant.id) == 0
    assert sum(1 for r in standin.requests if r["endpoint"] == "queue/AddItem") == adds == 5
    assert len(standin.queue_snapshot()) == 5


def test_jobs_wait_for_a_file_and_parts_uploaded_in_manual_mode_go_up_on_connect(api, worker, standin):
    farm = make_farm(api)
    farm.mapping("LITHO-A5", [("Frame", 1)])  # stored locally: manual mode
    order_id = farm.order([("LITHO-A5", 1)])
    worker()
    with tenant_session(farm.tenant.id) as s:
        part = s.exec(select(AssemblyPart)).one()
        assert part.file_key and not part.simplyprint_file_id
        assert part.estimated_minutes == 62 and part.estimated_filament_g == 12.34
        service.connect(
            s,
            company_id=standin.company_id,
            api_key=standin.api_key,
            webhook_secret=SECRET,
            api_base_url=standin.base_url,
            files_base_url=standin.files_url,
            actor=farm.admin,
        )
        s.commit()
    worker()
    (job,) = farm.jobs(order_id)
    assert job.simplyprint_queue_item_id and standin.find_item(job.simplyprint_queue_item_id)
    with tenant_session(farm.tenant.id) as s:
        assert s.exec(select(AssemblyPart)).one().simplyprint_file_id in standin.files


# --- webhooks -------------------------------------------------------------------------------------------


def _job_payload(standin, printer_id: int) -> dict:
    return standin.printer(printer_id)["job"] | {"printer_id": printer_id}


def test_webhook_secret_in_either_header_wrong_secret_401_and_malformed_400(api, worker, standin):
    farm = make_farm(api, standin)
    ok = {"id": 1, "uid": "u-1", "printer_id": 9, "state": "printing"}
    assert farm.post_webhook("job.started", ok, timestamp=100).json() == {"status": "accepted"}
    assert farm.post_webhook("job.started", ok, timestamp=101, header="X-SP-Token").json()["status"] == "accepted"
    r = farm.post_webhook("job.started", ok, timestamp=102, secret="nope")
    assert r.status_code == 401
    r = farm.client.post(
        f"/api/v1/webhooks/simplyprint/{farm.tenant.slug}",
        content=b'{"event": "job.done"',
        headers={"X-SP-Secret": SECRET},
    )
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == "malformed_json"
    r = farm.client.post(
        f"/api/v1/webhooks/simplyprint/{farm.tenant.slug}", content=b'{"hello": 1}', headers={"X-SP-Secret": SECRET}
    )
    assert r.status_code in (400, 422)
    r = farm.client.post(
        "/api/v1/webhooks/simplyprint/no-such-shop", content=b'{"event": "job.done"}', headers={"X-SP-Secret": SECRET}
    )
    assert r.status_code == 401
    r = farm.client.post(f"/api/v1/webhooks/simplyprint/{farm.tenant.slug}", content=b'{"event": "job.done"}')
    assert r.status_code == 401
    with tenant_session(farm.tenant.id) as s:
        assert s.exec(select(func.count()).select_from(ProcessedSimplyPrintWebhook)).one() == 2
    worker()
    with tenant_session(farm.tenant.id) as s:
        outcomes = {w.outcome for w in s.exec(select(ProcessedSimplyPrintWebhook))}
    assert outcomes == {"unmatched"}  # no such job here: nothing changes


def test_duplicate_and_out_of_order_webhooks_change_nothing_twice(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("CABLE-CLIP", [("Clip", 1)])
    pid = standin.add_printer("MK4 #1")
    order_id = farm.order([("CABLE-CLIP", 1)])
    worker()
    standin.step()  # the printer takes the item: job.started (no webhook URL: we post by hand)
    started = _job_payload(standin, pid)
    standin.complete_current(pid)
    done = dict(started, state="completed", percentage=100)
    t = int(time.time())
    # job.done arrives first, then its duplicate, then the late job.started (twice)
    assert farm.post_webhook("job.done", done, timestamp=t + 5).json()["status"] == "accepted"
    assert farm.post_webhook("job.done", done, timestamp=t + 5).json()["status"] == "duplicate"
    worker()
    assert farm.post_webhook("job.started", started, timestamp=t).json()["status"] == "accepted"
    assert farm.post_webhook("job.started", started, timestamp=t).json()["status"] == "duplicate"
    assert farm.post_webhook("job.started", started, timestamp=t, header="X-SP-Token").json()["status"] == "duplicate"
    worker()
    (job,) = farm.jobs(order_id)
    assert job.status == "COMPLETED" and job.simplyprint_job_uid == started["uid"]
    changes = _outbox(farm.tenant, "print-job.status-changed")
    assert [(e.payload["previousStatus"], e.payload["newStatus"]) for e in changes] == [("QUEUED", "COMPLETED")]
    assert len(_outbox(farm.tenant, "print-job.completed")) == 1
    assert len(_outbox(farm.tenant, "order.ready-for-fulfillment")) == 1
    order = farm.get_order(order_id)
    assert order.completed_parts == 1 and order.fulfillment_status == "ready"
    with tenant_session(farm.tenant.id) as s:
        outcomes = sorted(w.outcome for w in s.exec(select(ProcessedSimplyPrintWebhook)))
    assert outcomes == ["applied", "stale"]


def test_simulated_printers_drive_an_order_to_ready_with_no_human_step(api, server, worker):
    with SimplyPrintStandin(
        speed=50.0, duplicate_webhooks=True, shuffle_webhooks=True, secret_header="X-SP-Token"
    ) as standin:
        farm = make_farm(api, standin)
        standin.webhook_url, standin.webhook_secret = farm.webhook_url(server), SECRET
        standin.add_printer("MK4 #1")
        standin.add_printer("MK4 #2")
        farm.mapping("PLANTER-S", [("Pot", 1), ("Saucer", 1)])
        order_id = farm.order([("PLANTER-S", 2)])
        worker()
        assert len(standin.queue_snapshot()) == 4

        run_farm(standin, worker, lambda: farm.get_order(order_id).fulfillment_status == "ready")
        standin.stop_auto()
        for _ in range(3):  # let every late duplicate arrive
            standin.step()
            standin.flush_webhooks()
            worker()
        assert all(r["status_code"] == 200 for r in standin.sent_webhooks)
        order = farm.get_order(order_id)
        assert (order.completed_parts, order.total_parts, order.status) == (4, 4, "PROCESSING")
        assert all(li.status == "COMPLETED" and li.completed_parts == 4 for li in _lines(farm, order_id).values())
        jobs = farm.jobs(order_id)
        assert {j.status for j in jobs} == {"COMPLETED"} and len({j.simplyprint_job_uid for j in jobs}) == 4
        assert len(_outbox(farm.tenant, "order.ready-for-fulfillment")) == 1
        assert len(_outbox(farm.tenant, "print-job.completed")) == 4
        with tenant_session(farm.tenant.id) as s:
            printers = s.exec(select(Printer)).all()
        assert {p.name for p in printers} == {"MK4 #1", "MK4 #2"}


# --- reconciliation --------------------------------------------------------------------------------------


def test_reconciliation_corrects_missed_webhooks_and_refreshes_printers(api, worker, standin):
    farm = make_farm(api, standin)  # the stand-in has no webhook URL: every webhook is "missed"
    farm.mapping("HOOK-6", [("Hook", 1)])
    p1, p2 = standin.add_printer("MK4 #1"), standin.add_printer("X1C #1", model="X1C")
    order_id = farm.order([("HOOK-6", 3)])
    worker()
    standin.step()  # two start printing
    with tenant_session(farm.tenant.id) as s:
        result = service.reconcile(s)
        s.commit()
    worker()
    assert result.printers == 2 and result.corrected == 2
    statuses = sorted(j.status for j in farm.jobs(order_id))
    assert statuses == ["PRINTING", "PRINTING", "QUEUED"]
    with tenant_session(farm.tenant.id) as s:
        cache = {p.simplyprint_id: p for p in s.exec(select(Printer))}
    assert cache[p1].state == "printing" and cache[p2].model == "X1 Carbon" and cache[p1].current_job_uid
    standin.fail_current(p2)
    standin.run_until_idle()
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    jobs = farm.jobs(order_id)
    assert sorted(j.status for j in jobs) == ["COMPLETED", "COMPLETED", "FAILED"]
    order = farm.get_order(order_id)
    assert order.status == "PARTIALLY_COMPLETED" and order.completed_parts == 2
    # a second poll finds nothing to correct and publishes nothing
    before = len(_outbox(farm.tenant, "print-job.status-changed"))
    with tenant_session(farm.tenant.id) as s:
        assert service.reconcile(s).corrected == 0
        s.commit()
    assert len(_outbox(farm.tenant, "print-job.status-changed")) == before


def test_the_poll_is_due_per_tenant_interval_and_off_in_manual_mode(api, worker, standin):
    from jobs.printing import reconcile_due

    farm = make_farm(api, standin)
    manual = make_farm(api)
    with tenant_session(farm.tenant.id) as s:
        assert service.reconcile_due(s)
    assert reconcile_due() >= 1
    worker()
    with tenant_session(farm.tenant.id) as s:
        assert service.connection(s).last_poll_at is not None and not service.reconcile_due(s)
        service.update_connection_settings(s, actor=farm.admin, reconcile_enabled=False)
        s.commit()
    with tenant_session(manual.tenant.id) as s:
        assert not service.reconcile_due(s) and service.reconcile(s).skipped == "manual mode"


# --- failure, revival, cancellation ------------------------------------------------------------------------


def test_failures_mark_the_order_partially_completed_then_failed_and_notify(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("GRID-2x3", [("Base", 1)])
    p1, p2 = standin.add_printer("MK4 #1"), standin.add_printer("MK4 #2")
    order_id = farm.order([("GRID-2x3", 2)])
    worker()
    standin.step()
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    standin.fail_current(p1)
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert order.status == "PARTIALLY_COMPLETED"
    assert _lines(farm, order_id)["GRID-2x3"].status == "PARTIALLY_COMPLETED"
    standin.fail_current(p2)
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert order.status == "FAILED" and order.completed_parts == 0
    assert _lines(farm, order_id)["GRID-2x3"].status == "FAILED"
    assert len(_outbox(farm.tenant, "print-job.failed")) == 2
    with tenant_session(farm.tenant.id) as s:
        entries = s.exec(select(RetryEntry).where(RetryEntry.order_id == order_id)).all()
        from app.platform.models import Notification

        notes = s.exec(select(Notification).where(Notification.kind == "print-job.failed")).all()
    assert [e.job_type for e in entries] == ["NOTIFICATION", "NOTIFICATION"]
    assert all(e.status == "COMPLETED" for e in entries) and notes


def test_requeue_revives_the_order_and_it_reaches_ready(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("CABLE-CLIP", [("Clip", 1)])
    pid = standin.add_printer("MK4 #1")
    order_id = farm.order([("CABLE-CLIP", 2)])
    worker()
    standin.step()
    standin.fail_current(pid)  # first copy fails
    standin.run_until_idle()  # second copy prints
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert order.status == "PARTIALLY_COMPLETED" and order.completed_parts == 1
    failed = next(j for j in farm.jobs(order_id) if j.status == "FAILED")
    old_item = failed.simplyprint_queue_item_id
    r = farm.client.post(f"/api/v1/printing/jobs/{failed.id}/requeue")
    assert r.status_code == 200 and r.json()["status"] == "QUEUED"
    worker()
    order = farm.get_order(order_id)
    assert order.status == "PROCESSING"
    with tenant_session(farm.tenant.id) as s:
        revived = s.exec(
            select(EventLog).where(EventLog.event_type == "order.revived", EventLog.order_id == order_id)
        ).all()
    assert len(revived) == 1 and len(_outbox(farm.tenant, "order.revived")) == 1
    requeued = next(j for j in farm.jobs(order_id) if j.id == failed.id)
    assert requeued.simplyprint_queue_item_id not in (None, old_item)
    assert [i["id"] for i in standin.queue_snapshot()] == [requeued.simplyprint_queue_item_id]
    standin.run_until_idle()
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert order.completed_parts == 2 and order.fulfillment_status == "ready" and order.status == "PROCESSING"
    # requeueing again is refused: the job is COMPLETED
    assert farm.client.post(f"/api/v1/printing/jobs/{failed.id}/requeue").status_code == 409


def test_a_cancelled_order_revives_when_an_operator_requeues_one_of_its_jobs(api, worker):
    farm = make_farm(api)
    farm.mapping("HOOK-6", [("Hook", 1)])
    order_id = farm.order([("HOOK-6", 1)])
    worker()
    with tenant_session(farm.tenant.id) as s:
        orders.cancel(s, order_id, actor=farm.admin, reason="customer")
        s.commit()
    worker()
    (job,) = farm.jobs(order_id)
    assert job.status == "CANCELLED" and _lines(farm, order_id)["HOOK-6"].status == "CANCELLED"
    with tenant_session(farm.tenant.id) as s:
        service.requeue_job(s, job.id, actor=farm.operator)
        s.commit()
    worker()
    order = farm.get_order(order_id)
    assert order.status == "PROCESSING" and order.cancelled_at is None
    assert _lines(farm, order_id)["HOOK-6"].status == "PRINTING"


def test_cancellation_cascade_cancels_queued_flags_printing_and_scraps_completed(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("PLANTER-S", [("Pot", 1)])
    standin.speed = 100.0
    pid = standin.add_printer("MK4 #1")
    order_id = farm.order([("PLANTER-S", 4)])
    worker()
    standin.step()  # copy 1 starts
    standin.step()  # copy 1 done, copy 2 starts
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    by_status = {}
    for j in farm.jobs(order_id):
        by_status.setdefault(j.status, []).append(j)
    assert {k: len(v) for k, v in by_status.items()} == {"COMPLETED": 1, "PRINTING": 1, "QUEUED": 2}
    queued_items = {j.simplyprint_queue_item_id for j in by_status["QUEUED"]}

    r = farm.client.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "customer"})
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    worker()
    jobs = {j.id: j for j in farm.jobs(order_id)}
    assert all(jobs[j.id].status == "CANCELLED" for j in by_status["QUEUED"])
    printing = jobs[by_status["PRINTING"][0].id]
    assert printing.status == "PRINTING" and printing.needs_review
    assert jobs[by_status["COMPLETED"][0].id].scrap
    remaining = {i["id"] for i in standin.queue_snapshot()}
    assert not (queued_items & remaining)  # gone from SimplyPrint's queue
    assert standin.printer(pid)["job"] is not None  # the printing one was left for an operator
    assert len(_outbox(farm.tenant, "print-job.cancelled")) == 2
    order = farm.get_order(order_id)
    assert order.status == "CANCELLED"
    assert _lines(farm, order_id)["PLANTER-S"].status == "CANCELLED"  # not left PRINTING

    # the cascade again (a redelivered order.cancelled) changes nothing
    with tenant_session(farm.tenant.id) as s:
        again = service.cancel_jobs_for_order(s, order_id)
        s.commit()
    assert (again.cancelled, again.flagged, again.scrapped) == ([], [], [])
    assert len(_outbox(farm.tenant, "print-job.cancelled")) == 2

    # the flagged print finishes: recorded, and it is scrap
    standin.step()
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    worker()
    finished = next(j for j in farm.jobs(order_id) if j.id == printing.id)
    assert finished.status == "COMPLETED" and finished.scrap
    assert farm.get_order(order_id).status == "CANCELLED"


def test_operator_cancel_of_a_printing_job_stops_the_printer(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("BENCHY", [("Boat", 1)])
    pid = standin.add_printer("MK4 #1")
    order_id = farm.order([("BENCHY", 1)])
    worker()
    standin.step()
    with tenant_session(farm.tenant.id) as s:
        service.reconcile(s)
        s.commit()
    (job,) = farm.jobs(order_id)
    r = farm.client.post(f"/api/v1/printing/jobs/{job.id}/cancel", json={"reason": "spaghetti"})
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    assert standin.printer(pid)["job"] is None
    worker()
    assert farm.get_order(order_id).status == "FAILED"  # its only job was cancelled
    assert farm.client.post(f"/api/v1/printing/jobs/{job.id}/cancel").status_code == 200  # idempotent


# --- connection, re-initialisation, isolation, API access ------------------------------------------------


def test_connecting_re_initialises_every_process_client_without_a_restart(api, worker, standin):
    farm = make_farm(api)
    with tenant_session(farm.tenant.id) as s:
        assert service.client(s) is None
        conn = service.connect(
            s,
            company_id=standin.company_id,
            api_key=standin.api_key,
            webhook_secret="",
            api_base_url=standin.base_url,
            files_base_url=standin.files_url,
            actor=farm.admin,
        )
        secret = conn.webhook_secret
        s.commit()
    assert len(secret) >= 24  # generated when left empty
    version = service._version(farm.tenant.id)
    with tenant_session(farm.tenant.id) as s:
        first = service.client(s)
        assert first is not None and service.client(s) is first  # cached
        assert service.test_connection(s).startswith("Connected to SimplyPrint company 4242")
    worker()  # integration.simplyprint-changed: every process sees a new version stamp
    assert service._version(farm.tenant.id) != version
    assert len(_outbox(farm.tenant, "integration.simplyprint-changed")) == 1
    with tenant_session(farm.tenant.id) as s:
        second = service.client(s)
        assert second is not first
        service.disconnect(s, actor=farm.admin)
        s.commit()
    worker()
    with tenant_session(farm.tenant.id) as s:
        assert service.client(s) is None and service.manual_mode(s)
    actions = [e.payload["action"] for e in _outbox(farm.tenant, "integration.simplyprint-changed")]
    assert actions == ["connected", "disconnected"]
    # wrong credentials are refused at connect time
    with tenant_session(farm.tenant.id) as s, pytest.raises(Exception, match="refused"):
        service.connect(
            s,
            company_id=standin.company_id,
            api_key="wrong",
            api_base_url=standin.base_url,
            files_base_url=standin.files_url,
            actor=farm.admin,
        )


def test_connection_api_and_secrets_encrypted_at_rest(api, standin):
    from sqlalchemy import text

    from app.platform.db import get_engine

    farm = make_farm(api)
    admin = TestClient(api)
    admin.post(
        "/api/v1/auth/login", json={"username": farm.admin.username, "password": PASSWORD, "shop": farm.tenant.slug}
    )
    assert (
        farm.client.put(
            "/api/v1/integrations/simplyprint", json={"companyId": "4242", "apiKey": standin.api_key}
        ).status_code
        == 403
    )  # operators cannot
    r = admin.put(
        "/api/v1/integrations/simplyprint",
        json={
            "companyId": str(standin.company_id),
            "apiKey": standin.api_key,
            "webhookSecret": SECRET,
            "apiBaseUrl": standin.base_url,
            "filesBaseUrl": standin.files_url,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["connected"] and body["webhookUrl"].endswith(f"/api/v1/webhooks/simplyprint/{farm.tenant.slug}")
    assert admin.post("/api/v1/integrations/simplyprint/test").json()["ok"]
    r = admin.patch("/api/v1/integrations/simplyprint", json={"pollMinutes": 2})
    assert r.json()["pollMinutes"] == 2 and r.json()["reconcileEnabled"]
    with get_engine().connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(farm.tenant.id)})
        raw = conn.execute(text("SELECT api_key, webhook_secret FROM simplyprint_connections")).one()
        conn.execute(text("SELECT set_config('app.tenant_id', '', false)"))
    assert raw[0].startswith("gAAAA") and standin.api_key not in raw[0] and SECRET not in raw[1]
    assert admin.delete("/api/v1/integrations/simplyprint").status_code == 204
    assert admin.get("/api/v1/integrations/simplyprint").json()["manualMode"]


def test_tenants_see_only_their_own_print_farm(api, worker):
    a, b = make_farm(api), make_farm(api)
    a.mapping("SECRET-SKU", [("Part", 1)], upload=False)
    order_id = a.order([("SECRET-SKU", 1)])
    worker()
    (job,) = a.jobs(order_id)
    with tenant_session(b.tenant.id) as s:
        assert s.exec(select(PrintJob)).all() == [] and s.exec(select(ProductMapping)).all() == []
        assert service.mapping_for_sku(s, "SECRET-SKU") is None
        with pytest.raises(Exception, match="no such print job"):
            service.move_job(s, job.id, "PRINTING", actor=b.operator)
    assert b.client.get(f"/api/v1/printing/jobs/{job.id}").status_code == 404
    assert b.client.get("/api/v1/printing/jobs").json()["total"] == 0
    assert a.client.get("/api/v1/printing/jobs").json()["total"] == 1
    # b's order with the same SKU gets no jobs from a's mapping
    other = b.order([("SECRET-SKU", 1)])
    worker()
    assert b.jobs(other) == [] and "no print mapping" in b.get_order(other).problems[0]


def test_webhooks_reach_only_the_tenant_whose_secret_matches(api, worker, standin):
    a = make_farm(api, standin)
    with SimplyPrintStandin() as other_sp:
        b = make_farm(api, other_sp)
        with tenant_session(b.tenant.id) as s:
            service.connect(
                s,
                company_id=other_sp.company_id,
                api_key=other_sp.api_key,
                webhook_secret="b-secret",
                api_base_url=other_sp.base_url,
                files_base_url=other_sp.files_url,
                actor=b.admin,
            )
            s.commit()
        job = {"id": 5, "uid": "u-5", "printer_id": 1}
        assert b.post_webhook("job.done", job, timestamp=1, secret=SECRET).status_code == 401
        assert a.post_webhook("job.done", job, timestamp=1, secret="b-secret").status_code == 401
        assert b.post_webhook("job.done", job, timestamp=1, secret="b-secret").status_code == 200


def test_printing_api_needs_sign_in_and_permissions(api, worker):
    farm = make_farm(api)
    anon = TestClient(api)
    for method, path in (
        ("get", "/api/v1/printing/jobs"),
        ("get", "/api/v1/printing/mappings"),
        ("post", "/api/v1/printing/mappings"),
        ("get", "/api/v1/printing/printers"),
        ("get", "/api/v1/integrations/simplyprint"),
    ):
        assert getattr(anon, method)(path).status_code == 401, path
    viewer = make_user(farm.tenant, "viewer")
    vc = TestClient(api)
    vc.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": farm.tenant.slug})
    assert vc.get("/api/v1/printing/jobs").status_code == 200
    assert vc.get("/api/v1/printing/queue").status_code == 200
    assert vc.post("/api/v1/printing/mappings", json={"sku": "X", "name": "X"}).status_code == 403
    assert vc.get("/api/v1/integrations/simplyprint").status_code == 403  # viewers lack settings.read
    assert (
        farm.client.put("/api/v1/integrations/simplyprint", json={"companyId": "1", "apiKey": "k"}).status_code == 403
    )

    # operators manage mappings, parts and files through the API
    r = farm.client.post(
        "/api/v1/printing/mappings",
        json={
            "sku": "LITHO-A5",
            "name": "Lithophane frame",
            "defaultPrintProfile": {"layer_height": 0.12, "infill": 20},
        },
    )
    assert r.status_code == 201, r.text
    mapping_id = r.json()["id"]
    assert farm.client.post("/api/v1/printing/mappings", json={"sku": "litho-a5", "name": "Again"}).status_code == 409
    r = farm.client.post(
        f"/api/v1/printing/mappings/{mapping_id}/parts",
        json={"partName": "Frame", "partNumber": "F-1", "quantityPerProduct": 2, "printProfile": {"infill": 40}},
    )
    assert r.status_code == 201
    part_id = r.json()["id"]
    r = farm.client.post(
        f"/api/v1/printing/parts/{part_id}/file", files={"file": ("frame.exe", b"MZ", "application/octet-stream")}
    )
    assert r.status_code == 422
    r = farm.client.post(
        f"/api/v1/printing/parts/{part_id}/file",
        files={"file": ("frame.gcode", b";TIME:5400\n;Filament used: 2.0m\nG28\n", "text/plain")},
    )
    assert r.status_code == 200 and r.json()["estimatedMinutes"] == 90 and r.json()["hasFile"]
    r = farm.client.get(f"/api/v1/printing/mappings/{mapping_id}")
    assert r.json()["parts"][0]["printProfile"] == {"infill": 40}
    r = farm.client.patch(f"/api/v1/printing/mappings/{mapping_id}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert farm.client.get("/api/v1/printing/mappings?search=litho").json()["mappings"][0]["partCount"] == 1
    assert farm.client.delete(f"/api/v1/printing/parts/{part_id}").status_code == 204
    assert farm.client.delete(f"/api/v1/printing/mappings/{mapping_id}").status_code == 204


def test_a_webhook_for_an_item_still_being_recorded_is_retried_not_lost(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("BENCHY", [("Boat", 1)])
    order_id = farm.order([("BENCHY", 1)])
    worker()
    (job,) = farm.jobs(order_id)
    item_id = job.simplyprint_queue_item_id
    pid = standin.add_printer("MK4 #1")
    standin.step()
    with tenant_session(farm.tenant.id) as s:  # as if AddItem answered but its commit has not happened yet
        row = s.get(PrintJob, job.id)
        row.simplyprint_queue_item_id, row.submitting_at = None, service.utcnow()
        s.commit()
    r = farm.post_webhook("job.started", _job_payload(standin, pid), timestamp=int(time.time()))
    with tenant_session(farm.tenant.id) as s:
        record = s.exec(select(ProcessedSimplyPrintWebhook)).one()
        with pytest.raises(service.SubmissionInFlight):
            service.process_webhook(s, record.id)
        s.rollback()
        row = s.get(PrintJob, job.id)
        row.simplyprint_queue_item_id = item_id  # the submitter commits
        s.commit()
    assert r.json()["status"] == "accepted"
    worker(timeout=30)  # the handler's retry now finds the job
    (job,) = farm.jobs(order_id)
    assert job.status == "PRINTING" and job.printer_id == pid


def test_a_drain_that_finds_another_one_busy_comes_back_instead_of_waiting(api, worker, standin):
    """While one run holds the shop's inbox, another run returns at once and
    is scheduled again (one chain, however many deliveries arrive); once the
    busy run is done the comeback applies what is waiting."""
    from rq.registry import ScheduledJobRegistry

    import jobs.printing as entry
    from app.platform.tasks import queue as rq_queue

    farm = make_farm(api, standin)
    farm.mapping("BENCHY", [("Boat", 1)])
    order_id = farm.order([("BENCHY", 1)])
    worker()
    pid = standin.add_printer("MK4 #1")
    standin.step()
    scheduled = ScheduledJobRegistry(queue=rq_queue("integrations"))
    before = scheduled.count
    now = int(time.time())
    with tasks.advisory_lock(f"simplyprint-inbox:{farm.tenant.id}"):  # another run is busy
        r = farm.post_webhook("job.started", _job_payload(standin, pid), timestamp=now)
        assert r.json()["status"] == "accepted"
        waiting = rq_queue("integrations").count
        assert entry.drain_webhooks(str(farm.tenant.id)) == {}  # the queued run returns at once
        assert scheduled.count == before + 1  # and comes back later
        for n in range(1, 4):  # more deliveries meanwhile: the comeback covers them, no new runs
            farm.post_webhook("job.started", _job_payload(standin, pid), timestamp=now + n)
        assert scheduled.count == before + 1 and rq_queue("integrations").count == waiting
        (job,) = farm.jobs(order_id)
        assert job.status == "QUEUED"
    worker(timeout=30)
    (job,) = farm.jobs(order_id)
    assert job.status == "PRINTING" and job.printer_id == pid


def test_a_print_simplyprint_started_just_before_the_cancellation_is_flagged(api, worker, standin):
    farm = make_farm(api, standin)
    farm.mapping("HOOK-6", [("Hook", 1)])
    pid = standin.add_printer("MK4 #1")
    order_id = farm.order([("HOOK-6", 1)])
    worker()
    standin.step()  # SimplyPrint starts it; our webhook has not arrived yet
    started = _job_payload(standin, pid)
    farm.client.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "customer"})
    worker()
    (job,) = farm.jobs(order_id)
    assert job.status == "CANCELLED" and not job.needs_review
    farm.post_webhook("job.started", started, timestamp=int(time.time()))
    worker()
    (job,) = farm.jobs(order_id)
    assert job.status == "CANCELLED" and job.needs_review and job.printer_id == pid
