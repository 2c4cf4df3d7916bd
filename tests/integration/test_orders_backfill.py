"""Backfill from Shopify's GraphQL API: cursor paging, throttling, skipping
existing orders, live progress, resuming after a worker crash, and orders
Shopify had already fulfilled arriving as shipped history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import StartedJobRegistry
from sqlmodel import func, select

from app.api import create_api
from app.orders import shopify as shopify_domain
from app.orders.models import LineItem, Order, ShopifyBackfill
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.models import Notification, RetryEntry
from app.platform.tasks import queue, redis_conn
from app.printing import service as printing
from app.printing.models import PrintJob
from app.settings import ROOT
from standins import shopify as standin
from tests.factories import PASSWORD
from tests.integration.orders_helpers import connect_tenant

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def api():
    return create_api()


def _fill(shopify: standin.ShopifyStandin, n: int, *, days: int = 20) -> None:
    for i in range(n):
        shopify.add_order(standin.make_order(i, created_at=NOW - timedelta(days=days) + timedelta(minutes=7 * i)))


def _orders(tenant) -> int:
    with tenant_session(tenant.id) as s:
        return s.exec(select(func.count()).select_from(Order)).one()


def test_backfill_pages_waits_out_throttling_and_skips_existing(api, worker):
    with standin.ShopifyStandin() as shopify:
        _fill(shopify, 120)
        old = shopify.add_order(standin.make_order(500, created_at=NOW - timedelta(days=90)))
        shop = connect_tenant(api, shopify.base_url or "")
        shop.webhook("orders/create", shopify.orders[0])  # already here through a webhook
        shopify.throttle_next = 2
        pubsub = redis_conn().pubsub()
        pubsub.subscribe(shopify_domain.PROGRESS_CHANNEL.format(tenant_id=shop.tenant.id))

        since = (NOW - timedelta(days=30)).date().isoformat()
        r = shop.client.post("/api/v1/orders/backfill", json={"since": since})
        assert r.status_code == 202, r.text
        again = shop.client.post("/api/v1/orders/backfill", json={"since": since})
        assert again.status_code == 409 and "already running" in again.json()["error"]["message"]
        worker(timeout=60)

        with tenant_session(shop.tenant.id) as s:
            run = s.exec(select(ShopifyBackfill)).one()
            numbers = s.exec(select(Order.shopify_order_id)).all()
        assert run.status == "COMPLETED" and run.pages == 3 and run.seen == 120
        assert run.imported == 119 and run.skipped == 1
        assert len(numbers) == len(set(numbers)) == 120
        assert str(old["id"]) not in numbers  # older than the start date
        assert shopify.throttled == 2
        messages = []
        while (m := pubsub.get_message(timeout=0.2)) is not None:
            if m["type"] == "message" and json.loads(m["data"])["kind"] == "backfill":
                messages.append(json.loads(m["data"]))
        assert [m["seen"] for m in messages] == [50, 100, 120] and messages[-1]["status"] == "COMPLETED"

        # a second import finds everything present
        assert shop.client.post("/api/v1/orders/backfill", json={"since": since}).status_code == 202
        worker(timeout=30)
        with tenant_session(shop.tenant.id) as s:
            latest = shopify_domain.latest_backfill(s)
        assert latest is not None and latest.imported == 0 and latest.skipped == 120 and _orders(shop.tenant) == 120


def test_backfill_refuses_bad_input(api):
    shop = connect_tenant(api)
    future = (NOW + timedelta(days=3)).date().isoformat()
    r = shop.client.post("/api/v1/orders/backfill", json={"since": future})
    assert r.status_code == 422 and "future" in r.json()["error"]["message"]
    assert shop.client.post("/api/v1/orders/backfill", json={"since": "last tuesday"}).status_code == 422


def test_backfill_resumes_after_a_worker_crash_without_duplicates(api, worker):
    with standin.ShopifyStandin(page_delay=0.8) as shopify:
        _fill(shopify, 130)
        shop = connect_tenant(api, shopify.base_url or "")
        principal = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
        with tenant_session(shop.tenant.id) as s:
            run = shopify_domain.start_backfill(s, NOW - timedelta(days=30), actor=principal)
            s.commit()

        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "integrations"],
            cwd=ROOT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            shopify_domain.queue_backfill(shop.tenant.id, run.id)
            deadline = time.time() + 60
            while True:
                with tenant_session(shop.tenant.id) as s:
                    progress = s.get(ShopifyBackfill, run.id)
                if progress is not None and progress.pages >= 1:
                    break
                assert time.time() < deadline, "the backfill never committed a page"
                time.sleep(0.1)
            for pid in _children(proc.pid):
                os.kill(pid, signal.SIGKILL)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

        with tenant_session(shop.tenant.id) as s:
            crashed = s.get(ShopifyBackfill, run.id)
        assert crashed is not None and crashed.status == "RUNNING" and 1 <= crashed.pages < 3
        StartedJobRegistry(queue=queue("integrations")).cleanup(timestamp=time.time() + 7200)
        shopify.page_delay = 0
        worker(timeout=60)
        with tenant_session(shop.tenant.id) as s:
            done = s.get(ShopifyBackfill, run.id)
            ids = s.exec(select(Order.shopify_order_id)).all()
        assert done is not None and done.status == "COMPLETED" and done.seen == 130
        assert len(ids) == len(set(ids)) == 130


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out] + [g for c in out for g in _children(int(c))]


def test_a_stalled_import_can_be_replaced(api):
    shop = connect_tenant(api)
    principal = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
    with tenant_session(shop.tenant.id) as s:
        stuck = shopify_domain.start_backfill(s, NOW - timedelta(days=3), actor=principal)
        stuck.status, stuck.updated_at = "RUNNING", NOW - timedelta(hours=1)
        s.add(stuck)
        s.commit()
    with tenant_session(shop.tenant.id) as s:
        fresh = shopify_domain.start_backfill(s, NOW - timedelta(days=2), actor=principal)
        s.commit()
        old = s.get(ShopifyBackfill, stuck.id)
    assert old is not None and old.status == "FAILED" and "interrupted" in old.error and fresh.status == "QUEUED"


def test_backfill_imports_what_shopify_already_fulfilled_as_shipped_history(api, worker):
    """An "import orders since" over a shop with history: only what Shopify has
    not shipped becomes print work; the rest arrives shipped, with its tracking."""
    benchy, clips = ("BENCHY-PLA-RED", 1, "Benchy"), ("CABLE-CLIP-10", 2, "Cable clips")
    with standin.ShopifyStandin() as shopify:
        day = NOW - timedelta(days=10)
        open_order = shopify.add_order(standin.make_order(1, created_at=day, skus=[benchy]))
        shipped = shopify.add_order(standin.make_order(2, created_at=day, skus=[benchy, clips]))
        shopify.fulfil(
            shipped["id"], tracking={"company": "PostNL", "number": "3SHIST01", "url": "https://track.example/3SHIST01"}
        )
        partly = shopify.add_order(standin.make_order(3, created_at=day, skus=[benchy, clips]))
        shopify.fulfil(partly["id"], skus={"BENCHY-PLA-RED": 1})
        restocked = shopify.add_order(standin.make_order(4, created_at=day, skus=[clips]))
        shopify.fulfil(restocked["id"])
        restocked["fulfillment_status"] = "restocked"  # shipped long ago, then returned
        shop = connect_tenant(api, shopify.base_url or "")
        admin = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
        with tenant_session(shop.tenant.id) as s:
            for sku in ("BENCHY-PLA-RED", "CABLE-CLIP-10"):
                mapping = printing.create_mapping(s, sku=sku, name=f"Product {sku}", actor=admin)
                printing.add_part(s, mapping.id, part_name="Body", actor=admin)
            s.commit()

        since = (NOW - timedelta(days=30)).date().isoformat()
        assert shop.client.post("/api/v1/orders/backfill", json={"since": since}).status_code == 202
        worker(timeout=60)

        with tenant_session(shop.tenant.id) as s:
            run = shopify_domain.latest_backfill(s)
            orders = {o.shopify_order_id: o for o in s.exec(select(Order))}
            jobs = {
                number: s.exec(select(func.count()).select_from(PrintJob).where(PrintJob.order_id == o.id)).one()
                for number, o in orders.items()
            }
            lines = {
                number: sorted(li.status for li in s.exec(select(LineItem).where(LineItem.order_id == o.id)))
                for number, o in orders.items()
            }
            fulfillment_entries = s.exec(select(RetryEntry).where(RetryEntry.job_type == "FULFILLMENT")).all()
            told = s.exec(select(Notification.order_id).where(Notification.kind == "order.created")).all()
        assert run is not None and run.status == "COMPLETED" and run.imported == 4

        history = orders[str(shipped["id"])]
        assert (history.status, history.fulfillment_status) == ("COMPLETED", "shipped")
        assert (history.tracking_carrier, history.tracking_number) == ("PostNL", "3SHIST01")
        assert history.tracking_url == "https://track.example/3SHIST01"
        assert history.shopify_fulfillment_id == shopify.fulfillments_of(shipped["id"])[0]["id"]
        assert history.shipped_at is not None and not history.problems
        assert lines[str(shipped["id"])] == ["COMPLETED", "COMPLETED"] and jobs[str(shipped["id"])] == 0

        returned = orders[str(restocked["id"])]
        assert (returned.status, returned.fulfillment_status) == ("COMPLETED", "shipped")
        assert returned.tracking_number == "" and jobs[str(restocked["id"])] == 0

        fresh = orders[str(open_order["id"])]
        assert (fresh.status, fresh.fulfillment_status) == ("PROCESSING", "unfulfilled") and not fresh.problems
        assert jobs[str(open_order["id"])] == 1

        part = orders[str(partly["id"])]
        assert (part.status, part.fulfillment_status) == ("PROCESSING", "unfulfilled") and jobs[str(partly["id"])] == 3
        assert part.problems == [shopify_domain.PARTLY_FULFILLED]

        # nothing went back to Shopify, and staff hear only of the orders that need making
        assert fulfillment_entries == [] and all(f["via"] == "admin" for f in shopify.fulfillments)
        assert set(told) == {fresh.id, part.id}
