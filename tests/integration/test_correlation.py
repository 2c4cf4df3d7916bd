"""One correlation id follows a chain: from Shopify's webhook to the order's
timeline, its events, the jobs they cause and the calls those make."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlmodel import select

from app.api import create_api
from app.orders.models import Order
from app.platform import logs, tasks
from app.platform.db import tenant_session
from app.platform.models import EventLog, Outbox
from standins import shopify as standin
from tests.integration.orders_helpers import connect_tenant


@pytest.fixture(scope="module")
def api():
    return create_api()


def test_a_webhooks_id_follows_the_order_through_events_and_its_timeline(api, worker):
    shop = connect_tenant(api)
    r = shop.webhook("orders/create", standin.make_order(1042), webhook_id="wh-1042-corr")
    assert r.status_code == 200
    worker()
    with tenant_session(shop.tenant.id) as s:
        order = s.exec(select(Order)).one()
        timeline = list(s.exec(select(EventLog).where(EventLog.order_id == order.id)))
        events = [e for e in s.exec(select(Outbox)) if e.payload.get("orderId") == str(order.id)]
    assert timeline and all(e.meta.get("correlationId") == "wh-1042-corr" for e in timeline)
    assert events and all(e.payload["correlationId"] == "wh-1042-corr" for e in events)


def test_a_request_without_one_gets_a_correlation_id_back(api):
    shop = connect_tenant(api)
    r = shop.client.get("/api/v1/orders")
    assert len(r.headers["X-Correlation-Id"]) >= 16
    r = shop.client.get("/api/v1/orders", headers={"X-Correlation-Id": "abc-123"})
    assert r.headers["X-Correlation-Id"] == "abc-123"


def test_jobs_carry_the_shop_and_correlation_id_into_their_logs(caplog):
    shop = uuid.uuid4()
    with logs.context(correlation_id="cid-for-a-job"):
        job = tasks.enqueue("tests.integration.test_correlation.log_something", queue_name="default", shop=shop)
    assert job.meta == {"correlation_id": "cid-for-a-job", "shop": str(shop)}
    worker = tasks.make_worker(["default"])
    handler = logging.Handler()
    records: list[logging.LogRecord] = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(logs.ContextFilter())
    logging.getLogger("shopfloor.test").addHandler(handler)
    worker.work(burst=True)
    mine = [r for r in records if r.getMessage() == "a job says hello"]
    assert mine and mine[0].shop == str(shop) and mine[0].correlation_id == "cid-for-a-job"


def log_something() -> None:
    logging.getLogger("shopfloor.test").warning("a job says hello")
