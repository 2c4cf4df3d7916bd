"""Inventory (issue 15): the ledger and its invariant, adjustments and scrap,
orders served from the shelf first (full, partial, none; the race for the
last units), units a cancelled order gives back, stock batches (completion,
failure and revival, cancellation), and the replenishment scheduler's six
conditions, maximumStock, priority and batch size."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.api import create_api
from app.inventory import service
from app.inventory.models import InventoryTransaction, StockBatch, StockBatchJob, StockLevel
from app.orders import service as orders
from app.platform import config
from app.platform.db import tenant_session
from app.platform.errors import Conflict, InvalidTransition, ValidationFailed
from app.printing import service as printing
from app.printing.models import PrintJob
from tests.factories import PASSWORD, make_user
from tests.integration.printing_helpers import make_farm

NOON = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Amsterdam
NIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # Thursday 00:30 in Amsterdam


@pytest.fixture(scope="module")
def api():
    return create_api()


def _shop(api, *, stock: bool = True):
    farm = make_farm(api)
    with tenant_session(farm.tenant.id) as s:
        config.set_value(s, "feature.stock-management.enabled", stock)
        s.commit()
    return farm


def _configure(farm, mapping_id, **kw) -> None:
    with tenant_session(farm.tenant.id) as s:
        service.configure(s, mapping_id, service.StockConfig(**kw), actor=farm.operator)
        s.commit()


def _put(farm, mapping_id, units: int) -> None:
    with tenant_session(farm.tenant.id) as s:
        service.adjust(s, mapping_id, units, "IN", "counted on the shelf", actor=farm.operator)
        s.commit()


def _level(farm, mapping_id) -> StockLevel:
    with tenant_session(farm.tenant.id) as s:
        return service.level_for(s, mapping_id)


def _ledger_sum(farm, mapping_id) -> int:
    with tenant_session(farm.tenant.id) as s:
        return service.ledger_sum(s, mapping_id)


def _batches(farm, mapping_id=None) -> list[StockBatch]:
    with tenant_session(farm.tenant.id) as s:
        q = select(StockBatch).order_by(StockBatch.created_at)
        if mapping_id is not None:
            q = q.where(StockBatch.product_mapping_id == mapping_id)
        return list(s.exec(q))


def _batch_jobs(farm, batch_id) -> list[PrintJob]:
    with tenant_session(farm.tenant.id) as s:
        return list(
            s.exec(
                select(PrintJob)
                .join(StockBatchJob, StockBatchJob.print_job_id == PrintJob.id)
                .where(StockBatchJob.stock_batch_id == batch_id)
                .order_by(PrintJob.sequence)
            )
        )


def _move(farm, job_id, target: str, **kw) -> None:
    with tenant_session(farm.tenant.id) as s:
        printing.move_job(s, job_id, target, actor=farm.operator, **kw)
        s.commit()


def _replenishment(farm, **kw) -> None:
    settings = service.ReplenishmentSettings(
        enabled=True,
        start_hour=0,
        end_hour=0,
        days=list(range(7)),
        order_queue_threshold=10,
        max_concurrent_stock_jobs=50,
    )
    for k, v in kw.items():
        setattr(settings, k, v)
    with tenant_session(farm.tenant.id) as s:
        service.save_settings(s, settings, actor=farm.admin)
        s.commit()


def _evaluate(farm, now=NOON):
    with tenant_session(farm.tenant.id) as s:
        run = service.evaluate(s, now=now)
        s.commit()
        return run


# --- the ledger ------------------------------------------------------------------------------------


def test_adjustments_and_scrap_write_the_ledger_which_always_sums_to_the_stock(api):
    farm = _shop(api)
    m = farm.mapping("VASE", [("Body", 1)], upload=False)
    _put(farm, m, 5)
    with tenant_session(farm.tenant.id) as s:
        service.adjust(s, m, 2, "OUT", "two sold at the market", actor=farm.operator)
        service.scrap(s, m, 1, "cracked base", actor=farm.operator)
        s.commit()
    assert _level(farm, m).current_stock == 2
    assert _ledger_sum(farm, m) == 2
    with tenant_session(farm.tenant.id) as s:
        entries, total = service.ledger(s, m)
    assert total == 3
    assert [(e.transaction_type, e.direction, e.quantity, e.stock_after) for e in entries] == [
        ("SCRAPPED", "OUT", 1, 2),
        ("ADJUSTMENT_OUT", "OUT", 2, 3),
        ("ADJUSTMENT_IN", "IN", 5, 5),
    ]
    assert entries[0].reason == "cracked base" and entries[0].actor_user_id == farm.operator.user_id

    # more out than on the shelf, no reason, nothing: refused, nothing changes
    with tenant_session(farm.tenant.id) as s:
        with pytest.raises(Conflict, match="only 2 unit"):
            service.adjust(s, m, 3, "OUT", "too many", actor=farm.operator)
        with pytest.raises(ValidationFailed, match="reason"):
            service.scrap(s, m, 1, "  ", actor=farm.operator)
        with pytest.raises(ValidationFailed):
            service.adjust(s, m, 0, "IN", "nothing", actor=farm.operator)
    assert _level(farm, m).current_stock == 2 and _ledger_sum(farm, m) == 2


def test_the_database_refuses_negative_stock_and_edits_of_the_ledger(api):
    farm = _shop(api)
    m = farm.mapping("LAMP", [("Shade", 1)], upload=False)
    _put(farm, m, 1)
    with tenant_session(farm.tenant.id) as s, pytest.raises(DBAPIError, match="ck_stock_levels_current_not_negative"):
        s.execute(text("UPDATE stock_levels SET current_stock = -1 WHERE product_mapping_id = :m"), {"m": m})
    with tenant_session(farm.tenant.id) as s, pytest.raises(DBAPIError, match="immutable"):
        s.execute(text("UPDATE inventory_transactions SET quantity = 9 WHERE product_mapping_id = :m"), {"m": m})
    with tenant_session(farm.tenant.id) as s, pytest.raises(DBAPIError, match="immutable"):
        s.execute(text("DELETE FROM inventory_transactions WHERE product_mapping_id = :m"), {"m": m})


def test_concurrent_adjustments_keep_the_ledger_equal_to_the_stock(api):
    farm = _shop(api)
    m = farm.mapping("COASTER", [("Disc", 1)], upload=False)
    _put(farm, m, 20)
    errors: list[Exception] = []

    def worker(i: int) -> None:
        try:
            with tenant_session(farm.tenant.id) as s:
                if i % 2:
                    service.adjust(s, m, 1, "IN", f"found {i}", actor=farm.operator)
                else:
                    service.scrap(s, m, 2, f"broken {i}", actor=farm.operator)
                s.commit()
        except Conflict:
            pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    level = _level(farm, m)
    assert level.current_stock >= 0
    assert _ledger_sum(farm, m) == level.current_stock


# --- orders served from the shelf ---------------------------------------------------------------


def test_an_order_served_entirely_from_stock_skips_printing_and_goes_straight_to_ready(api, worker):
    farm = _shop(api)
    m = farm.mapping("BENCHY", [("Hull", 1), ("Mast", 2)], upload=False)
    _put(farm, m, 3)
    order_id = farm.order([("BENCHY", 2)])
    worker()
    order = farm.get_order(order_id)
    assert farm.jobs(order_id) == []
    assert order.fulfillment_status == "ready"
    assert order.status == "PROCESSING"
    assert _level(farm, m).current_stock == 1
    with tenant_session(farm.tenant.id) as s:
        (entry,) = s.exec(select(InventoryTransaction).where(InventoryTransaction.order_id == order_id)).all()
        li = orders.line_items(s, order_id)[0]
    assert (entry.transaction_type, entry.quantity, entry.reference_type) == ("CONSUMED", 2, "LINE_ITEM")
    assert entry.reference_id == str(li.id) and li.status == "COMPLETED"
    # a replayed order.created takes nothing more
    with tenant_session(farm.tenant.id) as s:
        printing.create_jobs_for_order(s, order_id)
        s.commit()
    assert _level(farm, m).current_stock == 1 and _ledger_sum(farm, m) == 1


def test_partial_stock_prints_only_the_rest_and_no_stock_prints_everything(api, worker):
    farm = _shop(api)
    m = farm.mapping("PLANTER", [("Pot", 1), ("Saucer", 1)], upload=False)
    farm.mapping("HOOK", [("Hook", 1)], upload=False)
    _put(farm, m, 1)
    order_id = farm.order([("PLANTER", 3), ("HOOK", 2)])
    worker()
    jobs = farm.jobs(order_id)
    by_sku = {sku: [j for j in jobs if j.sku == sku] for sku in ("PLANTER", "HOOK")}
    assert len(by_sku["PLANTER"]) == 4  # 2 units × 2 parts printed, 1 unit from the shelf
    assert len(by_sku["HOOK"]) == 2  # none on the shelf: all printed
    order = farm.get_order(order_id)
    assert order.fulfillment_status == "unfulfilled" and order.total_parts == 6
    assert _level(farm, m).current_stock == 0


def test_with_stock_management_off_every_order_prints(api, worker):
    farm = _shop(api, stock=False)
    m = farm.mapping("TOKEN", [("Coin", 1)], upload=False)
    _put(farm, m, 10)
    order_id = farm.order([("TOKEN", 2)])
    worker()
    assert len(farm.jobs(order_id)) == 2
    assert _level(farm, m).current_stock == 10


def test_orders_racing_for_the_last_units_never_both_get_them(api, worker):
    farm = _shop(api)
    m = farm.mapping("DICE", [("Die", 1)], upload=False)
    _put(farm, m, 5)
    ids = [farm.order([("DICE", 1)]) for _ in range(20)]
    barrier = threading.Barrier(20)
    errors: list[Exception] = []

    def take(order_id) -> None:
        try:
            with tenant_session(farm.tenant.id) as s:
                barrier.wait()
                printing.create_jobs_for_order(s, order_id)
                s.commit()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    worker()  # the order.created events find every line handled already
    served = [i for i in ids if farm.get_order(i).fulfillment_status == "ready"]
    printed = [i for i in ids if farm.jobs(i)]
    assert len(served) == 5 and len(printed) == 15
    assert _level(farm, m).current_stock == 0 and _ledger_sum(farm, m) == 0


def test_cancelling_an_order_puts_its_units_back_on_the_shelf(api, worker):
    farm = _shop(api)
    m = farm.mapping("FROG", [("Frog", 1)], upload=False)
    _put(farm, m, 2)
    order_id = farm.order([("FROG", 3)])
    worker()
    assert _level(farm, m).current_stock == 0 and len(farm.jobs(order_id)) == 1
    with tenant_session(farm.tenant.id) as s:
        orders.cancel(s, order_id, actor=farm.operator, reason="customer")
        s.commit()
    worker()
    assert _level(farm, m).current_stock == 2 and _ledger_sum(farm, m) == 2
    assert [j.status for j in farm.jobs(order_id)] == ["CANCELLED"]
    with tenant_session(farm.tenant.id) as s:
        back = s.exec(
            select(InventoryTransaction).where(
                InventoryTransaction.order_id == order_id, InventoryTransaction.transaction_type == "ADJUSTMENT_IN"
            )
        ).one()
        assert (back.quantity, back.reference_type, back.reference_id) == (2, "ORDER", str(order_id))
        orders.cancel(s, order_id, actor=farm.operator)  # again: nothing more comes back
        s.commit()
    assert _level(farm, m).current_stock == 2


# --- stock batches ----------------------------------------------------------------------------------


def test_a_batch_is_one_unit_its_last_print_puts_it_on_the_shelf(api, worker):
    farm = _shop(api)
    m = farm.mapping("ROBOT", [("Body", 1), ("Arm", 2)], upload=False)
    with tenant_session(farm.tenant.id) as s:
        (batch,) = service.create_batches(s, m, 1, actor=farm.operator)
        s.commit()
    jobs = _batch_jobs(farm, batch.id)
    assert len(jobs) == 3 and {j.purpose for j in jobs} == {"STOCK"}
    for job in jobs[:2]:
        _move(farm, job.id, "COMPLETED")
    worker()
    (b,) = _batches(farm, m)
    assert (b.status, b.completed_jobs, b.total_jobs) == ("IN_PROGRESS", 2, 3)
    assert _level(farm, m).current_stock == 0
    _move(farm, jobs[2].id, "COMPLETED")
    worker()
    (b,) = _batches(farm, m)
    assert b.status == "COMPLETED" and b.completed_at is not None
    assert _level(farm, m).current_stock == 1 and _ledger_sum(farm, m) == 1
    with tenant_session(farm.tenant.id) as s:
        (entry,), _ = service.ledger(s, m)
    assert (entry.transaction_type, entry.reference_type, entry.reference_id) == ("PRODUCED", "STOCK_BATCH", str(b.id))


def test_a_failed_print_fails_its_batch_and_requeueing_revives_it(api, worker):
    farm = _shop(api)
    m = farm.mapping("OWL", [("Owl", 1), ("Stand", 1)], upload=False)
    with tenant_session(farm.tenant.id) as s:
        (batch,) = service.create_batches(s, m, 1, actor=farm.operator)
        s.commit()
    first, second = _batch_jobs(farm, batch.id)
    _move(farm, first.id, "COMPLETED")
    _move(farm, second.id, "PRINTING")
    _move(farm, second.id, "FAILED", reason="spaghetti")
    worker()
    (b,) = _batches(farm, m)
    assert b.status == "FAILED" and "spaghetti" in b.error
    with tenant_session(farm.tenant.id) as s:
        printing.requeue_job(s, second.id, actor=farm.operator)
        s.commit()
    worker()
    (b,) = _batches(farm, m)
    assert b.status == "IN_PROGRESS" and b.error == ""
    _move(farm, second.id, "COMPLETED")
    worker()
    (b,) = _batches(farm, m)
    assert b.status == "COMPLETED" and _level(farm, m).current_stock == 1


def test_cancelling_a_batch_cancels_its_queued_prints_and_flags_a_printing_one(api, worker):
    farm = _shop(api)
    m = farm.mapping("CASTLE", [("Tower", 2), ("Gate", 1)], upload=False)
    with tenant_session(farm.tenant.id) as s:
        (batch,) = service.create_batches(s, m, 1, actor=farm.operator)
        s.commit()
    jobs = _batch_jobs(farm, batch.id)
    _move(farm, jobs[0].id, "PRINTING")
    with tenant_session(farm.tenant.id) as s:
        service.cancel_batch(s, batch.id, actor=farm.operator)
        s.commit()
    worker()
    jobs = {j.id: j for j in _batch_jobs(farm, batch.id)}
    assert jobs[_batch_jobs(farm, batch.id)[0].id].needs_review
    assert sorted(j.status for j in jobs.values()) == ["CANCELLED", "CANCELLED", "PRINTING"]
    (b,) = _batches(farm, m)
    assert b.status == "CANCELLED"  # its own cancelled prints do not fail it
    with tenant_session(farm.tenant.id) as s:
        assert service.cancel_batch(s, batch.id, actor=farm.operator).status == "CANCELLED"  # again: the same
        (done,) = service.create_batches(s, m, 1, actor=farm.operator)
        s.commit()
    for job in _batch_jobs(farm, done.id):
        _move(farm, job.id, "COMPLETED")
    worker()
    with tenant_session(farm.tenant.id) as s, pytest.raises(InvalidTransition, match="only a batch in progress"):
        service.cancel_batch(s, done.id, actor=farm.operator)
    assert _level(farm, m).current_stock == 1


# --- the scheduler ------------------------------------------------------------------------------


def _low_product(farm, sku: str, **kw):
    m = farm.mapping(sku, [("Part", 1)], upload=False)
    _configure(farm, m, **({"minimum_stock": 3} | kw))
    return m


def test_the_scheduler_plans_a_product_below_minimum_up_to_its_batch_size(api, worker):
    farm = _shop(api)
    m = _low_product(farm, "PEN-CUP", minimum_stock=5, replenishment_batch_size=2)
    _replenishment(farm)
    run = _evaluate(farm)
    assert run.planned and run.batches_created == 2
    assert all(r["ok"] for r in run.reasons)
    assert len(_batches(farm, m)) == 2
    # the next run counts the batches printing: 0 + 2 < 5 → two more; then 4 + 1 → one more
    assert _evaluate(farm).batches_created == 2
    assert _evaluate(farm).batches_created == 1
    run = _evaluate(farm)
    assert run.batches_created == 0
    with tenant_session(farm.tenant.id) as s:
        status = service.last_run(s)
    assert status.summary.startswith("nothing planned")


@pytest.mark.parametrize(
    ("condition", "setup", "words"),
    [
        ("enabled", lambda farm: _replenishment(farm, enabled=False), "replenishment is switched off"),
        ("hours", lambda farm: _replenishment(farm, start_hour=22, end_hour=6), "outside allowed hours (22:00–06:00)"),
        ("days", lambda farm: _replenishment(farm, days=[5, 6]), "Wed is not an allowed day (Sat, Sun)"),
        ("order_queue", lambda farm: _replenishment(farm, order_queue_threshold=2), "order queue 2 ≥ 2"),
        ("stock_jobs", lambda farm: _replenishment(farm, max_concurrent_stock_jobs=1), "stock jobs 1 ≥ 1 (the limit)"),
        ("deficit", lambda farm: _replenishment(farm), "no product is below its minimum"),
    ],
)
def test_each_of_the_six_conditions_stops_the_scheduler_and_says_why(api, worker, condition, setup, words):
    farm = _shop(api)
    if condition != "deficit":
        _low_product(farm, f"LOW-{condition}")
    else:
        _low_product(farm, "FULL", minimum_stock=1)
        _put(farm, _level_id(farm, "FULL"), 1)
    if condition == "order_queue":
        farm.mapping("ORDERED", [("Part", 1)], upload=False)
        farm.order([("ORDERED", 2)])
        worker()
    if condition == "stock_jobs":
        other = farm.mapping("ALREADY", [("Part", 1)], upload=False)
        with tenant_session(farm.tenant.id) as s:
            service.create_batches(s, other, 1, actor=farm.operator)
            s.commit()
    setup(farm)
    before = len(_batches(farm))
    run = _evaluate(farm)
    assert not run.planned and run.batches_created == 0
    assert len(_batches(farm)) == before
    failed = [r for r in run.reasons if not r["ok"]]
    assert [r["condition"] for r in failed] == [condition]
    assert failed[0]["text"] == words
    assert words in run.summary


def _level_id(farm, sku: str):
    with tenant_session(farm.tenant.id) as s:
        return printing.mapping_for_sku(s, sku).id


def test_stock_management_off_stops_the_scheduler_too(api):
    farm = _shop(api, stock=False)
    _low_product(farm, "SWITCHED-OFF")
    _replenishment(farm)
    run = _evaluate(farm)
    assert not run.planned and "stock management is switched off" in run.summary


def test_the_allowed_hours_wrap_midnight_in_the_shops_time_zone(api):
    farm = _shop(api)
    m = _low_product(farm, "NIGHT-OWL", minimum_stock=1)
    _replenishment(farm, start_hour=22, end_hour=6)
    assert not _evaluate(farm, NOON).planned
    assert _evaluate(farm, NIGHT).planned
    assert len(_batches(farm, m)) == 1


def test_maximum_stock_caps_what_is_planned_and_priority_goes_first(api):
    farm = _shop(api)
    capped = _low_product(
        farm, "CAPPED", minimum_stock=3, maximum_stock=4, replenishment_priority=5, replenishment_batch_size=10
    )
    _put(farm, capped, 1)
    first = _low_product(farm, "URGENT", minimum_stock=2, replenishment_priority=10, replenishment_batch_size=2)
    later = _low_product(farm, "LATER", minimum_stock=2, replenishment_priority=1, replenishment_batch_size=2)
    _replenishment(farm, max_concurrent_stock_jobs=3)
    run = _evaluate(farm)
    assert [p["sku"] for p in run.products] == ["URGENT", "CAPPED"]
    assert len(_batches(farm, first)) == 2  # priority 10 first: both its batches
    assert len(_batches(farm, capped)) == 1  # then one more job fits the limit of 3
    assert _batches(farm, later) == []
    # room again: CAPPED is refilled up to its maximum (1 on the shelf + 3 printing = 4), never past it
    _replenishment(farm, max_concurrent_stock_jobs=50)
    _evaluate(farm)
    assert len(_batches(farm, capped)) == 3
    assert len(_batches(farm, later)) == 2
    run = _evaluate(farm)
    assert len(_batches(farm, capped)) == 3 and run.batches_created == 0


def test_a_second_evaluation_of_the_same_shop_waits_its_turn(api):
    farm = _shop(api)
    _low_product(farm, "MUTEX")
    _replenishment(farm)
    with tenant_session(farm.tenant.id) as holder:
        assert service.evaluate(holder, now=NOON) is not None  # holds the shop's lock until it ends
        with tenant_session(farm.tenant.id) as other:
            assert service.evaluate(other, now=NOON) is None
        holder.rollback()


# --- the API ------------------------------------------------------------------------------------


def test_the_eight_endpoints_and_their_permissions(api, worker):
    farm = _shop(api)
    m = farm.mapping("API-VASE", [("Body", 1)], upload=False)
    c = farm.client  # the operator
    r = c.put(f"/api/v1/inventory/stock/{m}/config", json={"minimumStock": 2, "maximumStock": 5})
    assert r.status_code == 200 and r.json()["status"] == "low"
    r = c.post(f"/api/v1/inventory/stock/{m}/adjust", json={"quantity": 3, "direction": "IN", "reason": "count"})
    assert r.status_code == 201 and r.json()["stock"]["currentStock"] == 3
    r = c.post(f"/api/v1/inventory/stock/{m}/scrap", json={"quantity": 9, "reason": "dropped"})
    assert r.status_code == 409 and "only 3" in r.json()["error"]["message"]
    r = c.post(f"/api/v1/inventory/stock/{m}/scrap", json={"quantity": 1, "reason": "dropped"})
    assert r.status_code == 201 and r.json()["transaction"]["transactionType"] == "SCRAPPED"
    r = c.get(f"/api/v1/inventory/stock/{m}/transactions?pageSize=1")
    assert r.json()["total"] == 2 and len(r.json()["transactions"]) == 1
    r = c.get("/api/v1/inventory/stock?search=API-VASE")
    assert r.json()["stock"][0]["currentStock"] == 2
    r = c.post(f"/api/v1/inventory/stock/{m}/batches", json={"quantity": 2})
    assert r.status_code == 201 and len(r.json()["batches"]) == 2
    batches = c.get("/api/v1/inventory/batches").json()["batches"]
    assert len(batches) == 2 and batches[0]["status"] == "IN_PROGRESS"
    r = c.post(f"/api/v1/inventory/batches/{batches[0]['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    r = c.get("/api/v1/inventory/replenishment/status")
    assert r.status_code == 200 and r.json()["settings"]["allowedHours"]["words"] == "22:00–06:00"
    assert r.json()["lastRun"] is None and r.json()["nextRunAt"]
    r = c.post(f"/api/v1/inventory/stock/{m}/adjust", json={"quantity": 1, "direction": "SIDEWAYS", "reason": "x"})
    assert r.status_code == 422
    r = c.get(f"/api/v1/inventory/stock/{uuid.uuid4()}/transactions")
    assert r.status_code == 404

    viewer = make_user(farm.tenant, "viewer")
    from fastapi.testclient import TestClient

    v = TestClient(api)
    v.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": farm.tenant.slug})
    assert v.get("/api/v1/inventory/stock").status_code == 200
    for method, path, body in (
        ("put", f"/api/v1/inventory/stock/{m}/config", {"minimumStock": 1}),
        ("post", f"/api/v1/inventory/stock/{m}/adjust", {"quantity": 1, "direction": "IN", "reason": "x"}),
        ("post", f"/api/v1/inventory/stock/{m}/scrap", {"quantity": 1, "reason": "x"}),
        ("post", f"/api/v1/inventory/batches/{batches[1]['id']}/cancel", None),
    ):
        assert getattr(v, method)(path, json=body).status_code == 403
    # another shop sees none of it
    other = _shop(api)
    assert other.client.get(f"/api/v1/inventory/stock/{m}/transactions").status_code == 404


def test_the_cron_entry_evaluates_a_shop_only_when_switched_on_and_due(api):
    from jobs.inventory import replenish_if_due

    farm = _shop(api)
    _low_product(farm, "CRON-CUP", minimum_stock=1)
    assert replenish_if_due(str(farm.tenant.id)) is None  # replenishment off: nothing recorded
    with tenant_session(farm.tenant.id) as s:
        assert service.last_run(s) is None
    _replenishment(farm)
    result = replenish_if_due(str(farm.tenant.id))
    assert result is not None and result["planned"] == 1
    assert replenish_if_due(str(farm.tenant.id)) is None  # not due again before its interval
    with tenant_session(farm.tenant.id) as s:
        assert len(service.recent_runs(s)) == 1
