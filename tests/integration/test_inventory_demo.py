"""The demo inventory (`make dev`): made through the real services, loaded
twice it changes nothing, and it shows every state the inventory pages have
(low, ok and over; batches completed, printing, failed and cancelled; a
planned run and one outside the allowed hours) with a ledger that sums to
the stock."""

from __future__ import annotations

from sqlmodel import col, func, select

from app import domains
from app.inventory import demo, service
from app.inventory.models import InventoryTransaction, StockBatch, StockLevel
from app.platform.db import tenant_session
from app.printing.models import ProductMapping
from tests import factories, testenv


def _snapshot(tenant) -> tuple[dict[str, int], int, int, int]:
    with tenant_session(tenant.id) as s:
        stock = dict(
            s.exec(
                select(ProductMapping.sku, StockLevel.current_stock).join(
                    StockLevel, col(StockLevel.product_mapping_id) == ProductMapping.id
                )
            ).all()
        )
        entries = s.exec(select(func.count()).select_from(InventoryTransaction)).one()
        batches = s.exec(select(func.count()).select_from(StockBatch)).one()
        runs = len(service.recent_runs(s, 50))
    return stock, entries, batches, runs


def test_the_demo_inventory_loads_once_through_the_services_and_its_ledger_sums_to_its_stock(worker):
    testenv.free_demo_shopify_domain()
    tenant = factories.make_tenant("Demo Inventory Shop")
    assert demo.load in [loader for _, loader in domains.demo_loaders()]
    loaders = dict(domains.demo_loaders())
    with tenant_session(tenant.id) as s:
        loaders["orders"](s)  # the orders the print farm demo prints, its product mappings
        loaders["printing"](s)
        demo.load(s)
    first = _snapshot(tenant)
    with tenant_session(tenant.id) as s:
        demo.load(s)  # again: nothing changes
    assert _snapshot(tenant) == first
    worker(timeout=120)  # the handlers answer the demo's print moves again: still nothing changes
    assert _snapshot(tenant) == first

    with tenant_session(tenant.id) as s:
        assert service.stock_enabled(s) and service.read_settings(s).enabled
        assert service.stock_counts(s) == {"low": 2, "ok": 3, "over": 1}
        stock = {r.sku: r for r in service.list_stock(s, service.StockFilter(page_size=50))[0]}
        benchy = stock["BENCHY-PLA-RED"]
        entries, _ = service.ledger(s, benchy.mapping_id)
        batches = {b.status: b for b in service.list_batches(s, status="")[0] if b.origin == "MANUAL"}
        planned = [b for b in service.list_batches(s, status="")[0] if b.origin == "SCHEDULER"]
        outside, inside = service.recent_runs(s, 2)
        findings = [str(f) for _, check in domains.checks() for f in check(s)]

    # counted 14, one scrapped, one printed for the shelf
    assert benchy.current == 14 and benchy.status == "ok"
    assert [e.transaction_type for e in entries] == ["PRODUCED", "SCRAPPED", "ADJUSTMENT_IN"]
    assert stock["GRID-2x3-MAG-NONE"].status == "over"
    assert {sku for sku, r in stock.items() if r.status == "low"} == {"CABLE-CLIP-10", "HOOK-PEGBOARD-6"}
    assert set(batches) == {"COMPLETED", "IN_PROGRESS", "FAILED", "CANCELLED"}
    assert (batches["IN_PROGRESS"].completed_jobs, batches["IN_PROGRESS"].total_jobs) == (1, 2)
    assert "warped" in batches["FAILED"].error
    # the night's run planned for the two short products, by priority, within the stock job limit
    assert inside.planned and inside.batches_created == len(planned) == 6
    assert [p["sku"] for p in inside.products if p["batches"]] == ["CABLE-CLIP-10", "HOOK-PEGBOARD-6"]
    assert not outside.planned and outside.ran_at > inside.ran_at
    assert outside.summary == "nothing planned: outside allowed hours (22:00–06:00)"  # the status card
    assert findings == []  # every product's ledger sums to its stock; no batch contradicts its prints
