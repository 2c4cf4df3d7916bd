"""Inventory (issue 15), part by part; choose with `--parts` (default: all).

(a) One replenishment evaluation (`service.evaluate`) in a shop managing the
    stock of 5,000 printed products (each a product mapping with one assembly
    part and a stock level with a minimum, bulk-inserted with a ledger entry
    for what is on its shelf), 500 of them below their minimum. The stock job
    limit is 50, so the run plans 50 one-unit batches (by priority) and stops:
    a night's work for a small farm. Timed three times, each rolled back after
    its flush, then once for real (committed). Baseline: the bare SQL query
    that selects the same 500 deficits (no planning, no batches): the ratio is
    what the evaluation costs over finding its work. Also timed: an evaluation
    that plans nothing (the limit reached after the committed run).

(b) 200 orders for one SKU race for its 50 units on the shelf: 200 threads,
    each calling `app.printing.service.create_jobs_for_order` (what the
    `order.created` handler does) in its own tenant session, released
    together (those beyond the process's pool wait for a connection).
    Exactly 50 must be served from the shelf (consumed), 150 printed, none
    oversold or lost, and the ledger's sum must equal the stock,
    also after the worker handled every `order.created` event again: the
    bench FAILS (exit 1) when any of these does not hold.

(c) Orders per second through stock-aware fulfillment (stock management on,
    every order served from the shelf: no print jobs, straight to ready for
    fulfillment) against the print-only path (stock management off: every
    order's two parts become print jobs): `create_jobs_for_order`, each
    order in its own transaction, one after the other, the two shops taking
    turns in rounds; their events are handled after the clock stops.

It runs in a database (`shopfloor_bench`) and Redis db (2) of its own, like
bench/shipping.py (TEST_DATABASE_URL, TEST_MIGRATIONS_DATABASE_URL and
TEST_REDIS_URL override them); each run adds shops of its own.

The last line carries every chosen part's headline figures and ratio.

    python -m bench.inventory [--parts abc] [--products 5000] [--short 500]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 3
STOCK_JOB_LIMIT = 50  # (a) the scheduler's concurrency limit: 50 one-part batches per run
RACE_ORDERS, RACE_UNITS = 200, 50  # (b)
THROUGHPUT_ORDERS, ROUNDS = 300, 3  # (c) per path
PROFILE = {"layer_height": 0.2, "infill": 15, "supports": False, "material": "PLA", "nozzle": 0.4}

_ready = False


def _bench_database() -> None:
    """A database and Redis db of the bench's own (like bench/shipping.py)."""
    global _ready
    if _ready:
        return
    os.environ.setdefault(
        "TEST_DATABASE_URL", "postgresql+psycopg://shopfloor_app:shopfloor_app@127.0.0.1:5432/shopfloor_bench"
    )
    os.environ.setdefault(
        "TEST_MIGRATIONS_DATABASE_URL",
        "postgresql+psycopg://shopfloor_owner:shopfloor_owner@127.0.0.1:5432/shopfloor_bench",
    )
    os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    from app.settings import get_settings
    from tests import testenv

    testenv.apply()
    get_settings.cache_clear()  # read again, with the bench's database
    testenv.prepare_database()
    from app import domains

    domains.load()
    _ready = True


def _shop(name: str, *, stock: bool):
    """A shop of its own with stock management on or off, and someone acting in it."""
    from app.platform import config
    from app.platform.db import tenant_session
    from tests import factories

    tenant = factories.make_tenant(f"Bench inventory {name} {uuid.uuid4().hex[:6]}")
    with tenant_session(tenant.id) as s:
        config.set_value(s, "feature.stock-management.enabled", stock)
        s.commit()
    return tenant, factories.staff_principal(tenant)


def _mapping(tenant, actor, sku: str, parts: list[str]) -> uuid.UUID:
    from app.platform.db import tenant_session
    from app.printing import service as printing

    with tenant_session(tenant.id) as s:
        m = printing.create_mapping(s, sku=sku, name=f"Bench {sku}", default_print_profile=PROFILE, actor=actor)
        for part in parts:
            printing.add_part(s, m.id, part_name=part, quantity_per_product=1, actor=actor)
        s.commit()
        return m.id


def _orders(tenant, sku: str, n: int) -> list[uuid.UUID]:
    """`n` Shopify orders of one unit of `sku` each (one transaction apiece,
    as webhooks arrive)."""
    from app.orders import service as orders
    from app.orders.inputs import LineInput, OrderInput
    from app.platform.db import tenant_session

    ids = []
    for _ in range(n):
        number = uuid.uuid4().int % 10**12
        data = OrderInput(
            source="shopify",
            shopify_order_id=str(number),
            name=f"#{number}",
            customer_name="Ada Lovelace",
            lines=[
                LineInput(
                    sku=sku,
                    title=f"Bench {sku}",
                    quantity=1,
                    unit_price=Decimal("9.95"),
                    shopify_line_item_id=str(number),
                )
            ],
        )
        with tenant_session(tenant.id) as s:
            order, _ = orders.create_order(s, data)
            s.commit()
            ids.append(order.id)
    return ids


def _drain(timeout: float = 600) -> None:
    """Run every job the relay queued (the event handlers) in this process,
    until none waits: the bench leaves its Redis db empty."""
    from rq.registry import ScheduledJobRegistry
    from rq.scheduler import RQScheduler

    from app.platform.tasks import QUEUES, ShopWorker, queue, redis_conn

    qs = [queue(n) for n in QUEUES]
    scheduler = RQScheduler(qs, connection=redis_conn())
    scheduler.prepare_registries([q.name for q in qs])
    deadline = time.time() + timeout
    while time.time() < deadline:
        scheduler.enqueue_scheduled_jobs()
        ShopWorker(qs, connection=redis_conn()).work(burst=True, logging_level="WARNING")
        if all(q.count == 0 for q in qs) and not sum(ScheduledJobRegistry(queue=q).count for q in qs):
            return
        time.sleep(0.25)
    raise RuntimeError("event handlers still pending")


# --- (a) one evaluation over 5,000 managed products --------------------------------------------------


def _managed_products(tenant, n: int, short: int) -> None:
    """`n` product mappings with one assembly part and a stock level each (a
    minimum, sometimes a maximum, a priority and a batch size), `short` of
    them below their minimum; what is on a shelf came in by an adjustment in
    the ledger, so the ledger still sums to the stock. Bulk inserts."""
    from sqlalchemy import insert

    from app.inventory.models import InventoryTransaction, StockLevel
    from app.platform.db import tenant_session
    from app.printing.models import AssemblyPart, ProductMapping

    rnd = random.Random(15)
    below = set(rnd.sample(range(n), short))
    mappings, parts, levels, entries = [], [], [], []
    for i in range(n):
        mapping = ProductMapping(
            tenant_id=tenant.id, sku=f"BENCH-{i:05d}", name=f"Bench product {i}", default_print_profile=PROFILE
        )
        minimum = rnd.randint(2, 20)
        current = rnd.randint(0, minimum - 1) if i in below else rnd.randint(minimum, minimum * 3)
        maximum = rnd.choice((None, minimum * 2, minimum * 4))
        mappings.append(mapping.model_dump())
        parts.append(
            AssemblyPart(
                tenant_id=tenant.id,
                product_mapping_id=mapping.id,
                part_name="Body",
                estimated_minutes=rnd.randint(20, 240),
                estimated_filament_g=round(rnd.uniform(5, 120), 1),
            ).model_dump()
        )
        levels.append(
            StockLevel(
                tenant_id=tenant.id,
                product_mapping_id=mapping.id,
                current_stock=current,
                minimum_stock=minimum,
                maximum_stock=maximum,
                replenishment_priority=rnd.randint(0, 100),
                replenishment_batch_size=rnd.randint(1, 3),
            ).model_dump()
        )
        if current:
            entries.append(
                InventoryTransaction(
                    tenant_id=tenant.id,
                    product_mapping_id=mapping.id,
                    sku=mapping.sku,
                    transaction_type="ADJUSTMENT_IN",
                    quantity=current,
                    direction="IN",
                    reference_type="MANUAL",
                    reason="stock take",
                    stock_after=current,
                ).model_dump()
            )
    with tenant_session(tenant.id) as s:
        for model, rows in (
            (ProductMapping, mappings),
            (AssemblyPart, parts),
            (StockLevel, levels),
            (InventoryTransaction, entries),
        ):
            s.execute(insert(model), rows)
        s.commit()
    _analyze("product_mappings", "assembly_parts", "stock_levels", "inventory_transactions")


def _analyze(*tables: str) -> None:
    """Fresh planner statistics after a bulk insert (autovacuum would catch up
    a little later in a real shop)."""
    from psycopg import sql

    from tests import testenv

    with testenv.superuser() as conn:
        for table in tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


DEFICITS_SQL = """
SELECT l.product_mapping_id, m.sku, l.current_stock, l.minimum_stock
FROM stock_levels l
JOIN product_mappings m ON m.tenant_id = l.tenant_id AND m.id = l.product_mapping_id
WHERE l.minimum_stock > 0 AND l.current_stock < l.minimum_stock AND m.active
ORDER BY l.replenishment_priority DESC, m.sku
"""


def part_a(args: argparse.Namespace) -> str:
    from sqlalchemy import text

    from app.inventory import service
    from app.platform.db import tenant_session

    _bench_database()
    tenant, actor = _shop("scheduler", stock=True)
    with tenant_session(tenant.id) as s:
        settings = service.ReplenishmentSettings(
            enabled=True,
            start_hour=0,
            end_hour=0,  # all day: the window is not what is measured
            days=list(range(7)),
            order_queue_threshold=10,
            max_concurrent_stock_jobs=STOCK_JOB_LIMIT,
        )
        service.save_settings(s, settings, actor=actor)
        s.commit()
    t0 = time.perf_counter()
    _managed_products(tenant, args.products, args.short)
    print(
        f"(a) {args.products:,} managed products, {args.short} below their minimum: "
        f"bulk-inserted in {time.perf_counter() - t0:.1f} s"
    )

    base = []
    for _ in range(5):
        with tenant_session(tenant.id) as s:
            t0 = time.perf_counter()
            found = s.execute(text(DEFICITS_SQL)).all()
            base.append(time.perf_counter() - t0)
    if len(found) != args.short:
        raise SystemExit(f"(a) the bare query found {len(found)} deficits, expected {args.short}")

    rolled_back = []
    for _ in range(RUNS):
        with tenant_session(tenant.id) as s:
            t0 = time.perf_counter()
            run = service.evaluate(s, trigger="manual")
            s.flush()
            rolled_back.append(time.perf_counter() - t0)
            assert run is not None
            s.rollback()
    with tenant_session(tenant.id) as s:
        t0 = time.perf_counter()
        run = service.evaluate(s, trigger="manual")
        s.commit()
        committed = time.perf_counter() - t0
        assert run is not None
        planned, summary, run_ms = run.batches_created, run.summary, run.duration_ms
    with tenant_session(tenant.id) as s:
        t0 = time.perf_counter()
        idle = service.evaluate(s, trigger="manual")
        s.commit()
        idle_seconds = time.perf_counter() - t0
        assert idle is not None
        idle_summary = idle.summary
    _drain()

    seconds, base_s = statistics.median(rolled_back), statistics.median(base)
    print(
        f"(a) bare SQL selecting the {len(found)} deficits: median {base_s * 1000:.1f} ms "
        f"(runs {', '.join(f'{b * 1000:.1f}' for b in base)} ms)"
    )
    print(
        f"(a) evaluation (rolled back after its flush): runs {', '.join(f'{r:.2f}' for r in rolled_back)} s; "
        f"committed {committed:.2f} s (its own clock {run_ms} ms): {summary}"
    )
    print(f"(a) an evaluation that plans nothing: {idle_seconds * 1000:.0f} ms ({idle_summary})")
    if planned != STOCK_JOB_LIMIT:
        raise SystemExit(f"(a) the evaluation planned {planned} batches, expected {STOCK_JOB_LIMIT} (the limit)")
    return (
        f"(a) evaluation over {args.products:,} products ({args.short} short) planning {planned} batches "
        f"{seconds:.2f} s vs bare deficit query {base_s * 1000:.1f} ms = ratio {seconds / base_s:.0f}"
    )


# --- (b) 200 orders race for 50 units --------------------------------------------------------------------


def part_b(args: argparse.Namespace) -> str:
    from sqlalchemy import func
    from sqlmodel import col, select

    from app.inventory import service
    from app.inventory.models import InventoryTransaction
    from app.orders.models import Order
    from app.platform.db import tenant_session
    from app.printing import service as printing
    from app.printing.models import PrintJob

    _bench_database()
    tenant, actor = _shop("race", stock=True)
    mapping_id = _mapping(tenant, actor, "BENCH-DICE", ["Die"])
    with tenant_session(tenant.id) as s:
        service.adjust(s, mapping_id, RACE_UNITS, "IN", "stock take", actor=actor)
        s.commit()
    order_ids = _orders(tenant, "BENCH-DICE", RACE_ORDERS)
    # Every thread is released at once; those beyond the process's pool wait for a connection.
    barrier = threading.Barrier(RACE_ORDERS)
    errors: list[Exception] = []

    def take(order_id: uuid.UUID) -> None:
        try:
            barrier.wait()
            with tenant_session(tenant.id) as s:
                printing.create_jobs_for_order(s, order_id)
                s.commit()
        except Exception as exc:  # counted and reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(oid,)) for oid in order_ids]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0

    def figures() -> tuple[int, int, int, int, int, int, int, int]:
        with tenant_session(tenant.id) as s:
            consumed = s.exec(
                select(func.coalesce(func.sum(InventoryTransaction.quantity), 0)).where(
                    InventoryTransaction.product_mapping_id == mapping_id,
                    InventoryTransaction.transaction_type == "CONSUMED",
                )
            ).one()
            served = set(
                s.exec(
                    select(InventoryTransaction.order_id).where(
                        InventoryTransaction.product_mapping_id == mapping_id,
                        InventoryTransaction.transaction_type == "CONSUMED",
                    )
                )
            )
            printed = set(s.exec(select(PrintJob.order_id).where(col(PrintJob.order_id).in_(order_ids))))
            jobs = s.exec(select(func.count()).select_from(PrintJob).where(col(PrintJob.order_id).in_(order_ids))).one()
            ready = s.exec(
                select(func.count())
                .select_from(Order)
                .where(col(Order.id).in_(order_ids), Order.fulfillment_status == "ready")
            ).one()
            stock = service.level_for(s, mapping_id).current_stock
            ledger = service.ledger_sum(s, mapping_id)
        lost = len(set(order_ids) - served - printed) + len(served & printed)  # neither, or both
        oversold = max(0, int(consumed) - RACE_UNITS)
        return int(consumed), len(printed), jobs, oversold, lost, stock, ledger, ready

    before = figures()
    consumed, printed, jobs, oversold, lost, stock, ledger, ready = before
    _drain()  # the worker handles the 200 order.created events: a replay takes nothing more
    after = figures()
    print(
        f"(b) {RACE_ORDERS} concurrent orders for 1 SKU with {RACE_UNITS} on the shelf "
        f"(released together), in {seconds:.2f} s "
        f"({RACE_ORDERS / seconds:.0f} orders/s): {consumed} consumed ({ready} orders ready at once), "
        f"{printed} printed ({jobs} print jobs), {oversold} oversold, {lost} lost; stock {stock}, ledger sum {ledger}"
        + ("" if not errors else f"; {len(errors)} error(s), first: {errors[0]!r}")
    )
    print(f"(b) after the worker handled every order.created again: {'unchanged' if after == before else after}")
    ok = (
        not errors
        and consumed == RACE_UNITS
        and ready == RACE_UNITS
        and printed == jobs == RACE_ORDERS - RACE_UNITS
        and oversold == 0
        and lost == 0
        and stock == ledger == 0
        and after == before
    )
    headline = (
        f"(b) race: {consumed} consumed, {printed} printed, {oversold} oversold, ledger sum {ledger} = stock {stock}"
    )
    if not ok:
        print(headline + ": FAILED")
        raise SystemExit(1)
    return headline


# --- (c) orders/s: from the shelf vs printed -------------------------------------------------------------


def part_c(args: argparse.Namespace) -> str:
    from app.inventory import service
    from app.platform.db import tenant_session
    from app.printing import service as printing

    _bench_database()
    shelf, shelf_actor = _shop("from stock", stock=True)
    farm, farm_actor = _shop("print only", stock=False)
    shelf_mapping = _mapping(shelf, shelf_actor, "BENCH-VASE", ["Body", "Base"])
    _mapping(farm, farm_actor, "BENCH-VASE", ["Body", "Base"])
    with tenant_session(shelf.id) as s:
        service.adjust(s, shelf_mapping, THROUGHPUT_ORDERS, "IN", "stock take", actor=shelf_actor)
        s.commit()
    shelf_orders = _orders(shelf, "BENCH-VASE", THROUGHPUT_ORDERS)
    farm_orders = _orders(farm, "BENCH-VASE", THROUGHPUT_ORDERS)
    # their order.created events wait in the queue: the worker handles them once the clock stopped

    def fulfil(tenant, ids: list[uuid.UUID]) -> tuple[float, int, int]:
        jobs = served = 0
        t0 = time.perf_counter()
        for oid in ids:
            with tenant_session(tenant.id) as s:
                result = printing.create_jobs_for_order(s, oid)
                s.commit()
            jobs += len(result.jobs)
            served += sum(result.from_stock.values())
        return time.perf_counter() - t0, jobs, served

    per_round = THROUGHPUT_ORDERS // ROUNDS
    shelf_s = farm_s = 0.0
    shelf_jobs = shelf_served = farm_jobs = farm_served = 0
    for r in range(ROUNDS):
        chunk = slice(r * per_round, (r + 1) * per_round)
        s_sec, s_jobs, s_served = fulfil(shelf, shelf_orders[chunk])
        f_sec, f_jobs, f_served = fulfil(farm, farm_orders[chunk])
        shelf_s, shelf_jobs, shelf_served = shelf_s + s_sec, shelf_jobs + s_jobs, shelf_served + s_served
        farm_s, farm_jobs, farm_served = farm_s + f_sec, farm_jobs + f_jobs, farm_served + f_served
    n = per_round * ROUNDS
    _drain()  # every order.created again, and what the fulfilled orders published
    shelf_rate, farm_rate = n / shelf_s, n / farm_s
    print(
        f"(c) stock-aware fulfillment: {n} orders in {shelf_s:.2f} s = {shelf_rate:.0f} orders/s "
        f"({shelf_served} units from the shelf, {shelf_jobs} print jobs; each order straight to ready)"
    )
    print(
        f"(c) print-only path (stock management off): {n} orders in {farm_s:.2f} s = {farm_rate:.0f} orders/s "
        f"({farm_jobs} print jobs, {farm_served} from the shelf)"
    )
    if shelf_served != n or shelf_jobs or farm_served or farm_jobs != 2 * n:
        raise SystemExit("(c) the two paths did not do what they should")
    return (
        f"(c) {shelf_rate:.0f} orders/s from stock vs {farm_rate:.0f} orders/s print-only = ratio "
        f"{shelf_rate / farm_rate:.2f}"
    )


PARTS: dict[str, Callable[[argparse.Namespace], str]] = {"a": part_a, "b": part_b, "c": part_c}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000, help="managed products (a)")
    parser.add_argument("--short", type=int, default=500, help="of them below their minimum (a)")
    parser.add_argument(
        "--parts", default="".join(PARTS), help=f"which parts to run, e.g. 'b' (available: {', '.join(PARTS)})"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: available are {', '.join(PARTS)}")
    if not 0 < args.short <= args.products:
        parser.error("--short is from 1 to --products")
    if (load := os.getloadavg()[0]) > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other work is slowing these timings")
    headlines = [PARTS[part](args) for part in PARTS if part in args.parts]
    print("; ".join(headlines))


if __name__ == "__main__":
    main()
