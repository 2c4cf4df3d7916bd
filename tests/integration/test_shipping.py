"""Shipping end to end on real PostgreSQL, Redis and workers, against the
Sendcloud stand-in (its webhooks reach our API over real HTTP): labels made
once, webhooks applied once and never backwards, missed ones reconciled,
cancellation voiding labels and refusing parcels with the carrier."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from rq.registry import ScheduledJobRegistry
from sqlmodel import select

from app.api import create_api
from app.integrations import sendcloud as sc
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import auth, storage
from app.platform.db import tenant_session
from app.platform.errors import Conflict
from app.platform.formatting import of_tenant
from app.platform.models import Attachment, EventLog, Notification, RetryEntry
from app.platform.tasks import queue
from app.printing import service as printing
from app.shipping import service
from app.shipping.events import create_shipment
from app.shipping.models import Shipment, TrackingEvent
from standins.sendcloud import SendcloudStandin
from tests.factories import PASSWORD, make_tenant, make_user
from tests.integration.printing_helpers import ApiServer

GCODE = b"; filament used [g] = 40.0\n; estimated printing time (normal mode) = 1h 2m 3s\n"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture(scope="module")
def server(api):
    srv = ApiServer(api)
    yield srv
    srv.stop()


class Shop:
    def __init__(self, server: ApiServer, api, *, drop: bool = False):
        self.tenant = make_tenant()
        admin = make_user(self.tenant, "admin")
        operator = make_user(self.tenant, "operator")
        self.admin = auth.login(admin.username, PASSWORD, shop=self.tenant.slug).principal
        self.operator = auth.login(operator.username, PASSWORD, shop=self.tenant.slug).principal
        self.standin = SendcloudStandin(
            webhook_url=f"{server.url}/api/v1/webhooks/sendcloud/{self.tenant.slug}",
            retry_delays=(0.2, 0.4),
            drop_webhooks=drop,
        )
        self.standin.start()
        with tenant_session(self.tenant.id) as s:
            service.connect(
                s,
                public_key=self.standin.public_key,
                secret_key=self.standin.secret_key,
                api_base_url=self.standin.base_url,
                actor=self.admin,
            )
            s.commit()
        self.client = TestClient(api)
        self.client.post(
            "/api/v1/auth/login", json={"username": operator.username, "password": PASSWORD, "shop": self.tenant.slug}
        )

    def close(self) -> None:
        self.standin.stop()

    def order(self, *, sku: str = "", street: str = "Stationsstraat", weight: int | None = None) -> uuid.UUID:
        """A manual order with nothing to print, marked ready (produced)."""
        data = OrderInput(
            source="manual",
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            ship_name="Ada Lovelace",
            ship_street=street,
            ship_house_number="12",
            ship_city="Utrecht",
            ship_postal_code="3511 AB",
            ship_country_code="NL",
            lines=[LineInput(sku=sku or "GIFT-CARD", title="Benchy", quantity=2, unit_price=Decimal("9.95"))],
        )
        with tenant_session(self.tenant.id) as s:
            order = orders.create_manual_order(s, data, actor=self.operator)
            s.commit()
            oid = order.id
        with tenant_session(self.tenant.id) as s:
            orders.advance_fulfillment(s, oid, "ready", actor=self.operator)
            s.commit()
        return oid

    def label(self, order_id: uuid.UUID, worker: Callable) -> Shipment:
        with tenant_session(self.tenant.id) as s:
            service.request_label(s, orders.get_order(s, order_id))
            s.commit()
        worker()
        return self.shipment(order_id)

    def shipment(self, order_id: uuid.UUID) -> Shipment:
        with tenant_session(self.tenant.id) as s:
            found = service.shipment_for_order(s, order_id)
            assert found is not None
            return found

    def get_order(self, order_id: uuid.UUID) -> Order:
        with tenant_session(self.tenant.id) as s:
            return orders.get_order(s, order_id)

    def wait(self, until: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.standin.flush_webhooks(timeout=5)
            if until():
                return
            time.sleep(0.1)
        raise AssertionError("the shipment did not get there")

    def signed(self, body: dict, secret: str | None = None) -> httpx.Response:
        raw = json.dumps(body).encode()
        return self.client.post(
            f"/api/v1/webhooks/sendcloud/{self.tenant.slug}",
            content=raw,
            headers={"Sendcloud-Signature": sc.signature(raw, secret or self.standin.secret_key)},
        )


@pytest.fixture
def shop(server, api):
    s = Shop(server, api)
    yield s
    s.close()


def test_a_printed_order_gets_its_label_once_whatever_is_redelivered(shop, worker):
    """order.ready-for-fulfillment from the print farm → one parcel at Sendcloud,
    the label PDF stored, the order's tracking filled, shipment.created."""
    with tenant_session(shop.tenant.id) as s:
        mapping = printing.create_mapping(s, sku="BENCHY", name="Benchy", actor=shop.operator)
        part = printing.add_part(s, mapping.id, part_name="Hull", actor=shop.operator)
        printing.upload_part_file(s, part.id, "hull.gcode", GCODE, actor=shop.operator)
        s.commit()
    oid = uuid.uuid4()
    data = OrderInput(
        source="manual",
        customer_name="Grace Hopper",
        ship_name="Grace Hopper",
        ship_street="Damrak",
        ship_house_number="1",
        ship_city="Amsterdam",
        ship_postal_code="1012 LG",
        ship_country_code="NL",
        lines=[LineInput(sku="BENCHY", title="Benchy", quantity=1, unit_price=Decimal("12.50"))],
    )
    with tenant_session(shop.tenant.id) as s:
        oid = orders.create_manual_order(s, data, actor=shop.operator).id
        s.commit()
    worker()  # order.created → print jobs (manual mode: no SimplyPrint)
    with tenant_session(shop.tenant.id) as s:
        for job in printing.jobs_for_order(s, oid):
            printing.move_job(s, job.id, "COMPLETED", actor=shop.operator)
        s.commit()
    worker()  # the last print → ready → order.ready-for-fulfillment → label
    shipment = shop.shipment(oid)
    assert shipment.status == "LABEL_CREATED"
    assert shipment.tracking_number.startswith("3S") and shipment.sendcloud_parcel_id
    assert shipment.weight_grams == 40  # the printed part's filament, no weight set on the product
    order = shop.get_order(oid)
    assert order.tracking_number == shipment.tracking_number and order.tracking_carrier == "PostNL"
    with tenant_session(shop.tenant.id) as s:
        attachment = s.get(Attachment, shipment.label_attachment_id)
        assert attachment is not None
        pdf = storage.for_tenant(shop.tenant.id).get(attachment.key).data
        assert pdf.startswith(b"%PDF-")
        kinds = [e.event_type for e in orders.timeline(s, oid)]
        assert "shipment.created" in kinds
    # the event again, a second request, a double click: nothing new at Sendcloud
    with tenant_session(shop.tenant.id) as s:
        create_shipment(s, {"orderId": str(oid)})
        service.request_label(s, orders.get_order(s, oid))
        s.commit()
    worker()
    assert len(shop.standin.parcels) == 1
    assert shop.shipment(oid).id == shipment.id


def test_a_lost_answer_does_not_make_a_second_parcel(shop, worker):
    """Sendcloud made the parcel but its answer never came: the next attempt
    finds it by its external reference instead of creating another."""
    oid = shop.order()
    with tenant_session(shop.tenant.id) as s:
        service.request_label(s, orders.get_order(s, oid))
        s.commit()
    reference = shop.shipment(oid).external_reference
    with sc.SendcloudClient(shop.standin.public_key, shop.standin.secret_key, api_base=shop.standin.base_url) as c:
        made = c.create_parcel(
            sc.ParcelRequest(
                name="Ada Lovelace",
                address="Stationsstraat",
                house_number="12",
                city="Utrecht",
                postal_code="3511 AB",
                country="NL",
                external_reference=reference,
                shipping_method_id=8,
            )
        )
    worker()
    assert shop.shipment(oid).sendcloud_parcel_id == made.id
    assert len(shop.standin.parcels) == 1


def test_webhooks_ship_and_deliver_the_order(shop, worker):
    oid = shop.order()
    shipment = shop.label(oid, worker)
    assert shop.get_order(oid).fulfillment_status == "ready"
    shop.standin.advance(shipment.sendcloud_parcel_id, 22)  # picked up by the driver
    shop.wait(lambda: shop.get_order(oid).fulfillment_status == "shipped")
    assert shop.shipment(oid).status == "IN_TRANSIT"
    assert shop.get_order(oid).shipped_at is not None
    shop.standin.advance(shipment.sendcloud_parcel_id, 11)
    shop.wait(lambda: shop.shipment(oid).status == "DELIVERED")
    order = shop.get_order(oid)
    assert order.fulfillment_status == "completed" and order.status == "COMPLETED"
    with tenant_session(shop.tenant.id) as s:
        steps = [e.sendcloud_status_id for e in service.tracking_history(s, shipment.id)]
    assert steps[:2] == [11, 22]


def test_duplicate_out_of_order_and_forged_webhooks(shop, worker):
    oid = shop.order()
    shipment = shop.label(oid, worker)
    parcel = shop.standin.parcel(shipment.sendcloud_parcel_id)

    def envelope(status_id: int, message: str, at: int) -> dict:
        return {
            "action": "parcel_status_changed",
            "timestamp": at + 50,
            "carrier_status_change_timestamp": at,
            "parcel": {**parcel, "status": {"id": status_id, "message": message}},
        }

    base = int(time.time() * 1000)
    assert shop.signed(envelope(22, "Shipment picked up by driver", base + 1000)).json()["status"] == "applied"
    assert shop.signed(envelope(11, "Delivered", base + 3000)).json()["status"] == "applied"
    # late: an older "en route" after delivery changes nothing
    assert shop.signed(envelope(91, "Parcel en route", base + 2000)).json()["status"] == "out-of-order"
    # the same delivery twice adds nothing
    assert shop.signed(envelope(11, "Delivered", base + 3000)).json()["status"] == "duplicate"
    # a newer but impossible step is refused too: delivered is final
    assert shop.signed(envelope(3, "En route to sorting center", base + 4000)).json()["status"] == "refused"
    assert shop.shipment(oid).status == "DELIVERED"
    # forged: another key, or a changed byte
    r = shop.signed(envelope(2000, "Cancelled", base + 5000), secret="not-the-key")
    assert r.status_code == 401 and "signature" in r.json()["error"]["message"]
    assert shop.client.post("/api/v1/webhooks/sendcloud/no-such-shop", content=b"{}").status_code == 404
    assert shop.shipment(oid).status == "DELIVERED"
    with tenant_session(shop.tenant.id) as s:
        history = service.tracking_history(s, shipment.id)
    assert [(e.sendcloud_status_id, e.applied) for e in history if e.source == "webhook"] == [
        (3, False),
        (11, True),
        (91, False),
        (22, True),
    ]


def test_reconciliation_catches_up_with_missed_webhooks(server, api, worker):
    shop = Shop(server, api, drop=True)
    try:
        oid = shop.order()
        shipment = shop.label(oid, worker)
        shop.standin.advance(shipment.sendcloud_parcel_id, 22)
        shop.standin.advance(shipment.sendcloud_parcel_id, 11)
        time.sleep(0.3)
        assert shop.shipment(oid).status == "LABEL_CREATED"  # nothing arrived
        with tenant_session(shop.tenant.id) as s:
            counts = service.reconcile(s, force=True)
            s.commit()
        assert counts.get("applied") == 1
        assert shop.shipment(oid).status == "DELIVERED"
        assert shop.get_order(oid).fulfillment_status == "completed"
    finally:
        shop.close()


def test_cancelling_voids_the_label_and_a_parcel_with_the_carrier_refuses(shop, worker):
    voided = shop.order()
    shipment = shop.label(voided, worker)
    r = shop.client.post(f"/api/v1/orders/{voided}/cancel", json={"reason": "customer"})
    assert r.status_code == 200, r.text
    assert shop.shipment(voided).status == "CANCELLED"
    assert shop.standin.parcel(shipment.sendcloud_parcel_id)["status"]["id"] in (2000, 1999)
    # cancelling again is a no-op
    assert shop.client.post(f"/api/v1/orders/{voided}/cancel", json={"reason": "customer"}).status_code == 200

    moving = shop.order()
    parcel_id = shop.label(moving, worker).sendcloud_parcel_id
    shop.standin.advance(parcel_id, 22)
    shop.wait(lambda: shop.shipment(moving).status == "IN_TRANSIT")
    r = shop.client.post(f"/api/v1/orders/{moving}/cancel", json={"reason": "customer"})
    assert r.status_code == 409
    order = shop.get_order(moving)
    assert order.status != "CANCELLED"


def test_a_parcel_sendcloud_already_took_refuses_cancellation_even_if_we_missed_it(server, api, worker):
    shop = Shop(server, api, drop=True)
    try:
        oid = shop.order()
        shipment = shop.label(oid, worker)
        shop.standin.advance(shipment.sendcloud_parcel_id, 22)  # we never heard
        with tenant_session(shop.tenant.id) as s, pytest.raises(Conflict, match="already with the carrier"):
            orders.cancel(s, oid, actor=shop.operator)
        assert shop.get_order(oid).status != "CANCELLED"
    finally:
        shop.close()


def test_a_refused_label_shows_on_the_order_at_once(shop, worker):
    oid = shop.order()
    shop.standin.fail_next_create(
        400,
        {"error": {"code": 400, "message": "house_number: This field may not be blank.", "request": "api/v2/parcels"}},
    )
    shipment = shop.label(oid, worker)
    assert shipment.status == "FAILED"
    assert "house_number" in shipment.error
    with tenant_session(shop.tenant.id) as s:
        entry = s.exec(select(RetryEntry).where(RetryEntry.order_id == oid)).one()
        assert entry.status == "FAILED" and entry.attempts == 1  # a refusal is not retried
        assert s.exec(select(Notification).where(Notification.order_id == oid)).first() is not None
    # fixed and asked again: the label comes
    shipment = shop.label(oid, worker)
    assert shipment.status == "LABEL_CREATED"


def test_a_rate_limit_waits_as_long_as_sendcloud_asks(shop, worker):
    oid = shop.order()
    shop.standin.rate_limit(5, retry_after=30)
    with tenant_session(shop.tenant.id) as s:
        service.request_label(s, orders.get_order(s, oid))
        s.commit()
    with pytest.raises(AssertionError):
        worker(timeout=3)  # the retry waits ~30 s: not within this drain
    with tenant_session(shop.tenant.id) as s:
        entry = s.exec(select(RetryEntry).where(RetryEntry.order_id == oid)).one()
        assert entry.status == "PENDING" and "429" in entry.last_error
        assert (entry.next_run_at - entry.updated_at).total_seconds() >= 29
    assert shop.shipment(oid).status == "PENDING"
    # the later tests drain the queues: the attempt waiting its 30 s goes
    registry = ScheduledJobRegistry(queue=queue("integrations"))
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


def test_remake_voids_the_old_label_and_makes_a_new_parcel(shop, worker):
    oid = shop.order()
    first = shop.label(oid, worker)
    with tenant_session(shop.tenant.id) as s:
        service.remake_label(s, first.id, service.ParcelChange(weight_grams=2500), actor=shop.operator)
        s.commit()
    worker()
    second = shop.shipment(oid)
    assert second.status == "LABEL_CREATED" and second.weight_grams == 2500
    assert second.sendcloud_parcel_id != first.sendcloud_parcel_id and second.attempt == 2
    assert shop.standin.parcel(first.sendcloud_parcel_id)["status"]["id"] in (2000, 1999)
    # a late webhook for the old parcel changes nothing on the new one
    shop.standin.advance(first.sendcloud_parcel_id, 22)
    time.sleep(0.5)
    shop.standin.flush_webhooks(timeout=5)
    assert shop.shipment(oid).status == "LABEL_CREATED"


def test_manual_mode_records_the_parcel_staff_ship_by_hand(worker):
    tenant = make_tenant()
    operator = auth.login(make_user(tenant, "operator").username, PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:
        order = orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name="Ada",
                ship_name="Ada",
                ship_street="Kade",
                ship_house_number="1",
                ship_city="Gent",
                ship_postal_code="9000",
                ship_country_code="BE",
                lines=[LineInput(sku="X", title="Thing", quantity=1, unit_price=Decimal("5"))],
            ),
            actor=operator,
        )
        s.commit()
        oid = order.id
    with tenant_session(tenant.id) as s:
        assert service.request_label(s, orders.get_order(s, oid)) is None  # no Sendcloud: manual mode
        for step in ("ready", "packaging"):
            orders.advance_fulfillment(s, oid, step, actor=operator)
        orders.advance_fulfillment(
            s, oid, "shipped", actor=operator, tracking=orders.Tracking("JD0001", "https://dhl.example/JD0001", "DHL")
        )
        s.commit()
    worker()
    with tenant_session(tenant.id) as s:
        shipment = service.shipment_for_order(s, oid)
        assert shipment is not None and shipment.manual and shipment.status == "IN_TRANSIT"
        assert shipment.tracking_number == "JD0001"
        orders.advance_fulfillment(s, oid, "completed", actor=operator)
        s.commit()
    worker()
    with tenant_session(tenant.id) as s:
        assert service.shipment_for_order(s, oid).status == "DELIVERED"


def test_the_labels_pdf_puts_each_label_before_its_slip_in_pack_order(shop, worker):
    first, second = shop.order(), shop.order()
    shop.label(first, worker)
    shop.label(second, worker)
    r = shop.client.get("/api/v1/shipping/labels.pdf", params={"orders": f"{second},{first}"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    assert len(reader.pages) == 4
    numbers = [shop.get_order(first).number, shop.get_order(second).number]
    texts = [page.extract_text() for page in reader.pages]
    assert numbers[0] in texts[1] and numbers[1] in texts[3]  # slips, oldest first
    # the slips were rendered when the labels were made; an order that changed since is rendered afresh
    with tenant_session(shop.tenant.id) as s:
        fmt = of_tenant(shop.tenant.id)
        assert service.labels_pdf(s, [first, second], fmt).reused_slips == 2
        order = orders.get_order(s, second)
        order.note = "Fragile: wrap twice"
        s.add(order)
        s.flush()
        batch = service.labels_pdf(s, [first, second], fmt)
        assert batch.reused_slips == 1
        assert "Fragile: wrap twice" in PdfReader(io.BytesIO(batch.pdf)).pages[3].extract_text()
    bad = shop.client.get("/api/v1/shipping/labels.pdf", params={"orders": "nope"})
    assert bad.status_code == 422 or bad.status_code == 400
    scan = shop.client.get("/api/v1/shipping/scan", params={"code": numbers[1]})
    assert scan.status_code == 200 and scan.json()["orderId"] == str(second)
    tracking = shop.shipment(second).tracking_number
    assert shop.client.get("/api/v1/shipping/scan", params={"code": tracking}).json()["orderId"] == str(second)
    assert shop.client.get("/api/v1/shipping/scan", params={"code": "#nothing"}).status_code == 404


def test_viewers_see_shipping_but_cannot_act(shop, api, worker):
    viewer = make_user(shop.tenant, "viewer")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": shop.tenant.slug})
    oid = shop.order()
    assert c.get(f"/api/v1/orders/{oid}/shipments").status_code == 200
    assert c.post(f"/api/v1/orders/{oid}/shipment").status_code == 403
    assert c.put("/api/v1/integrations/sendcloud", json={"publicKey": "a", "secretKey": "b"}).status_code == 403
    other = make_tenant()
    with tenant_session(other.id) as s:
        assert s.exec(select(Shipment)).all() == []  # row-level security
        assert s.exec(select(TrackingEvent)).all() == []
        assert s.exec(select(EventLog).where(EventLog.order_id == oid)).all() == []


def test_connecting_and_disconnecting_reinitialises_every_process(shop, worker):
    """integration.sendcloud-changed: a process that cached a client drops it
    at its next use once the version stamp moved (here: the same process,
    after the event's handler ran in the worker)."""
    with tenant_session(shop.tenant.id) as s:
        first = service.client(s)
        assert first is not None and service.client(s) is first  # cached
        service.disconnect(s, actor=shop.admin)
        s.commit()
    worker()
    with tenant_session(shop.tenant.id) as s:
        assert service.client(s) is None  # manual mode from now on
        assert service.request_label(s, orders.get_order(s, shop.order())) is None
        with pytest.raises(Exception, match="refused"):
            service.connect(
                s, public_key="wrong", secret_key="keys", api_base_url=shop.standin.base_url, actor=shop.admin
            )
    with tenant_session(shop.tenant.id) as s:
        service.connect(
            s,
            public_key=shop.standin.public_key,
            secret_key=shop.standin.secret_key,
            api_base_url=shop.standin.base_url,
            actor=shop.admin,
        )
        s.commit()
    with tenant_session(shop.tenant.id) as s:
        again = service.client(s)
        assert again is not None and again is not first
        assert "valid" in service.test_connection(s)


def test_a_service_point_order_ships_to_the_point(shop, worker):
    """The service point Shopify's checkout gave travels with the parcel."""
    data = OrderInput(
        source="manual",
        customer_name="Ada Lovelace",
        ship_name="Ada Lovelace",
        ship_street="Stationsstraat",
        ship_house_number="12",
        ship_city="Utrecht",
        ship_postal_code="3511 AB",
        ship_country_code="NL",
        delivery_type="service_point",
        service_point={"id": "10663437", "name": "Primera Utrecht", "street": "Stationsplein", "carrier": "postnl"},
        lines=[LineInput(sku="GIFT", title="Gift", quantity=1, unit_price=Decimal("5"))],
    )
    with tenant_session(shop.tenant.id) as s:
        oid = orders.create_manual_order(s, data, actor=shop.operator).id
        s.commit()
    with tenant_session(shop.tenant.id) as s:
        orders.advance_fulfillment(s, oid, "ready", actor=shop.operator)
        s.commit()
    shipment = shop.label(oid, worker)
    assert shipment.status == "LABEL_CREATED"
    assert str(shop.standin.parcel(shipment.sendcloud_parcel_id)["to_service_point"]) == "10663437"
