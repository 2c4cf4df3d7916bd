"""A worker SIGKILLed mid-job: what a person watches (a build's booklets, the
catalog import, the Shopify order import) leaves "in progress" within
seconds, retried to success or failed with a reason they can act on; and the
queue dashboard shows the dead worker as not responding, its job abandoned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.api import create_api
from app.booklets import service as booklets
from app.catalog import importer
from app.orders import shopify as shopify_domain
from app.orders import shopify_orders
from app.orders.models import Order, ShopifyBackfill
from app.platform import auth, queues, tasks
from app.platform.db import tenant_session
from standins import shopify as standin
from tests.factories import PASSWORD, make_tenant, make_user
from tests.integration import slow_worker
from tests.integration.orders_helpers import connect_tenant


@pytest.fixture(scope="module")
def api():
    return create_api()


def _build(api):
    tenant = make_tenant()
    user = make_user(tenant, "operator")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    oid = c.post(
        "/api/v1/orders",
        json={
            "customerName": "Grace",
            "customerEmail": "grace@example.com",
            "street": "Damrak",
            "houseNumber": "1",
            "postalCode": "1012 LG",
            "city": "Amsterdam",
            "countryCode": "NL",
            "lineItems": [{"sku": "PC", "title": "PC", "unitPrice": "1"}],
        },
    ).json()["id"]
    return c, c.post("/api/v1/builds", json={"orderId": oid}).json()["id"]


def _dead_worker(name_of: str) -> queues.WorkerInfo:
    found = next((w for w in queues.workers() if w.name == name_of), None)
    assert found is not None, "the dead worker left the list before it was shown as not responding"
    return found


def _backfill(tenant_id, run_id) -> ShopifyBackfill:
    with tenant_session(tenant_id) as s:
        run = s.get(ShopifyBackfill, run_id)
    assert run is not None
    return run


def _render_job(bid: str):
    """The started render job of build `bid`."""
    q = tasks.queue("booklets")
    (job,) = [
        j for j in (q.fetch_job(i) for i in q.started_job_registry.get_job_ids()) if j is not None and j.args[1] == bid
    ]
    return job


def test_a_render_killed_mid_job_is_retried_to_ready_and_the_dead_worker_reads_not_responding(api, worker):
    c, bid = _build(api)
    worker(queues=("events", "booklets"))  # nothing left over
    proc = slow_worker.start(["events", "booklets"], "booklets")
    try:
        assert c.post(f"/api/v1/builds/{bid}/booklets/regenerate").status_code == 202
        slow_worker.wait_blocked(proc, "booklets")
        assert c.get(f"/api/v1/builds/{bid}").json()["booklets"]["status"] == "rendering"
        # the worker rendering this build (other tests' workers may still be registered)
        (dying,) = [w for w in queues.workers() if w.state == "busy" and w.current_job == _render_job(bid).id]
    finally:
        slow_worker.kill(proc)

    # The dashboard: within a few beats the dead worker reads "Not responding", its job abandoned.
    slow_worker.until(lambda: _dead_worker(dying.name).state == queues.NOT_RESPONDING, lambda: None, timeout=10)
    dead = _dead_worker(dying.name)
    assert dead.abandoned and dead.current_job_func == "jobs.booklets.render"
    assert queues.WORKER_STATE.label(dead.state) == "Not responding"

    # A surviving worker's maintenance takes the render back (RQ's abandoned-job
    # handling, the job's retry policy) and the retry renders it.
    def status() -> str:
        return c.get(f"/api/v1/builds/{bid}").json()["booklets"]["status"]

    took = slow_worker.until(lambda: status() == "ready", lambda: worker(queues=("booklets",)), timeout=30)
    assert took < 30
    feed = [i["message"] for i in c.get(f"/api/v1/builds/{bid}").json()["feed"]]
    assert any(booklets.ABANDONED_RETRYING in m for m in feed)


def test_a_render_killed_with_no_retry_left_fails_with_the_reason(api, worker):
    c, bid = _build(api)
    worker(queues=("events", "booklets"))
    proc = slow_worker.start(["events", "booklets"], "booklets")
    try:
        assert c.post(f"/api/v1/builds/{bid}/booklets/regenerate").status_code == 202
        slow_worker.wait_blocked(proc, "booklets")
    finally:
        slow_worker.kill(proc)
    (job,) = [
        j
        for j in (
            tasks.queue("booklets").fetch_job(i) for i in tasks.queue("booklets").started_job_registry.get_job_ids()
        )
        if j is not None and j.args[1] == bid
    ]
    tasks.redis_conn().hset(job.key, "retries_left", "0")  # its retries were used up by earlier deaths

    def booklet() -> dict:
        return c.get(f"/api/v1/builds/{bid}").json()["booklets"]

    slow_worker.until(lambda: booklet()["status"] != "rendering", tasks.reclaim_abandoned, timeout=15)
    assert booklet()["status"] == "failed"
    assert booklet()["error"] == booklets.ABANDONED_FAILED
    # the page's Regenerate button starts a new render
    assert c.post(f"/api/v1/builds/{bid}/booklets/regenerate").status_code == 202
    worker(queues=("events", "booklets"))
    assert booklet()["status"] == "ready"


def test_a_catalog_import_killed_mid_job_fails_with_the_reason_and_can_start_again(worker):
    worker(queues=("default",))
    run = importer.create_run(started_by="tests")
    proc = slow_worker.start(["default"], "catalog")
    try:
        tasks.enqueue(
            "jobs.catalog.run_import",
            str(run.id),
            queue_name="default",
            retry=False,
            job_timeout=1800,
            job_id=importer.job_id(run.id),
        )
        slow_worker.wait_blocked(proc, "catalog")
        assert importer.get_run(run.id).status == "RUNNING"
    finally:
        slow_worker.kill(proc)

    slow_worker.until(lambda: importer.get_run(run.id).status != "RUNNING", tasks.reclaim_abandoned, timeout=15)
    failed = importer.get_run(run.id)
    assert failed.status == "FAILED" and failed.error == importer.ABANDONED and failed.finished_at is not None
    again = importer.create_run(started_by="tests")  # "Import catalog" is not refused
    assert again.status == "QUEUED"
    importer.import_abandoned(again.id, retrying=False)  # closed, so later imports are not refused


def test_a_shopify_import_killed_mid_job_goes_on_from_where_it_stopped(api, worker):
    now = datetime.now(UTC)
    with standin.ShopifyStandin(page_delay=0.8) as shopify:
        for i in range(130):
            shopify.add_order(standin.make_order(i, created_at=now - timedelta(days=20) + timedelta(minutes=7 * i)))
        shop = connect_tenant(api, str(shopify.base_url))
        principal = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
        with tenant_session(shop.tenant.id) as s:
            run = shopify_domain.start_backfill(s, now - timedelta(days=30), actor=principal)
            s.commit()
        proc = slow_worker.start(["integrations"])
        try:
            shopify_domain.queue_backfill(shop.tenant.id, run.id)

            def pages() -> int:
                return _backfill(shop.tenant.id, run.id).pages

            slow_worker.until(lambda: pages() >= 1, lambda: None, timeout=60)
        finally:
            slow_worker.kill(proc)

        def status() -> str:
            return _backfill(shop.tenant.id, run.id).status

        assert status() == "RUNNING"
        slow_worker.until(lambda: status() != "RUNNING", tasks.reclaim_abandoned, timeout=15)
        assert status() == "QUEUED"  # its retry goes on from the last page it finished
        shopify.page_delay = 0
        worker(timeout=60)
        done = _backfill(shop.tenant.id, run.id)
        with tenant_session(shop.tenant.id) as s:
            ids = s.exec(select(Order.shopify_order_id)).all()
            orders = s.exec(select(func.count()).select_from(Order)).one()
        assert done.status == "COMPLETED" and done.seen == 130
        assert orders == len(set(ids)) == 130


def test_a_shopify_import_abandoned_for_good_shows_why_and_can_be_resumed(api):
    shop = connect_tenant(api)
    principal = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
    with tenant_session(shop.tenant.id) as s:
        run = shopify_domain.start_backfill(s, datetime.now(UTC) - timedelta(days=3), actor=principal)
        run.status = "RUNNING"
        s.add(run)
        s.commit()
    shopify_orders.backfill_abandoned(shop.tenant.id, run.id, retrying=False)
    failed = _backfill(shop.tenant.id, run.id)
    assert failed.status == "FAILED" and failed.error == shopify_orders.BACKFILL_FAILED


def test_a_label_killed_mid_job_is_tried_again_and_made_once(worker):
    """The retry queue's attempt at a Sendcloud label dies with its worker:
    the attempt is taken back (not left "trying now"), tried again, and the
    order ends with one label and one parcel."""
    from decimal import Decimal

    from app.orders import service as orders
    from app.orders.inputs import LineInput, OrderInput
    from app.platform import retry
    from app.platform.models import RetryEntry
    from app.shipping import service as shipping
    from standins.sendcloud import SendcloudStandin

    tenant = make_tenant()
    admin = auth.login(make_user(tenant, "admin").username, PASSWORD, shop=tenant.slug).principal
    with SendcloudStandin() as sendcloud:
        with tenant_session(tenant.id) as s:
            shipping.connect(
                s,
                public_key=sendcloud.public_key,
                secret_key=sendcloud.secret_key,
                api_base_url=sendcloud.base_url,
                actor=admin,
            )
            order = orders.create_manual_order(
                s,
                OrderInput(
                    source="manual",
                    customer_name="Ada",
                    ship_name="Ada",
                    ship_street="Stationsstraat",
                    ship_house_number="12",
                    ship_city="Utrecht",
                    ship_postal_code="3511 AB",
                    ship_country_code="NL",
                    lines=[LineInput(sku="GIFT", title="Gift", quantity=1, unit_price=Decimal("5"))],
                ),
                actor=admin,
            )
            s.commit()
            oid = order.id
        worker(queues=("events", "integrations"))  # nothing left over
        with tenant_session(tenant.id) as s:
            orders.advance_fulfillment(s, oid, "ready", actor=admin)
            s.commit()
        worker(queues=("events",))
        proc = slow_worker.start(["integrations"], "label")
        try:
            with tenant_session(tenant.id) as s:
                shipping.request_label(s, orders.get_order(s, oid))
                s.commit()
            slow_worker.wait_blocked(proc, "label")
        finally:
            slow_worker.kill(proc)

        def entry() -> RetryEntry:
            with tenant_session(tenant.id) as s:
                return s.exec(select(RetryEntry).where(RetryEntry.order_id == oid)).one()

        assert entry().status == "PROCESSING"
        slow_worker.until(lambda: entry().status != "PROCESSING", tasks.reclaim_abandoned, timeout=15)
        assert entry().status == "PENDING" and entry().last_error == retry.ABANDONED

        def labelled() -> bool:
            with tenant_session(tenant.id) as s:
                found = shipping.shipment_for_order(s, oid)
                return found is not None and found.status == "LABEL_CREATED"

        slow_worker.until(labelled, lambda: worker(queues=("integrations", "events")), timeout=30)
        assert entry().status == "COMPLETED"
        assert len(sendcloud.parcels) == 1
