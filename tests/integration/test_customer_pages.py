"""What customers see: the build page behind the booklet's QR code (signed
link, its photos and booklets behind the same link) and My orders (their
own orders only, with the PC's progress)."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api import create_api
from app.booklets import service as booklets
from app.builds import service as builds
from app.builds.models import PHOTO_SLOT_LABELS, Build
from app.customers import builds_view, links
from app.customers import service as customers
from app.customers.service import CustomerPrincipal
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import storage
from app.platform.db import tenant_session
from app.platform.formatting import ShopFormat
from app.platform.models import Attachment
from app.settings import get_settings
from state.account import order_rows
from state.customer_build import shown
from tests.factories import make_tenant, staff_principal

PASSWORD = "a-long-customer-password"


@pytest.fixture(scope="module")
def api():
    return create_api()


def _jpeg(colour=(200, 60, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), colour).save(buf, "JPEG")
    return buf.getvalue()


def _customer(tenant_id, email: str, name: str = "Ada Lovelace") -> CustomerPrincipal:
    with tenant_session(tenant_id) as s:
        c = customers.sign_up(s, email=email, name=name, password=PASSWORD)
        s.commit()
        return CustomerPrincipal(tenant_id=c.tenant_id, customer_id=c.id, email=c.email, name=c.name)


def _order(tenant_id, *, email: str, customer_id=None, source="manual", total="1234.50", **extra) -> Order:
    with tenant_session(tenant_id) as s:
        order, _ = orders.create_order(
            s,
            OrderInput(
                source=source,
                lines=[
                    LineInput(sku="CPU-7800X3D", title="AMD Ryzen 7 7800X3D", quantity=1, unit_price=Decimal("389")),
                    LineInput(
                        sku="RAM-32",
                        title="Corsair Vengeance DDR5",
                        variant_title="2 × 16 GB",
                        quantity=2,
                        unit_price=Decimal("110"),
                    ),
                ],
                customer_name="Ada Lovelace",
                customer_email=email,
                ship_country_code="NL",
                total=Decimal(total),
                subtotal=Decimal(total),
            ),
        )
        order.customer_id = customer_id
        for k, v in extra.items():
            setattr(order, k, v)
        s.add(order)
        s.commit()
        s.refresh(order)
        return order


def _tested_build(tenant) -> tuple[Build, Order, dict[str, uuid.UUID]]:
    """A PC order whose build is in testing: photos, temperatures, a
    benchmark, a stress test and a test run recorded."""
    actor = staff_principal(tenant)
    order = _order(tenant.id, email="pc@example.com", source="builder")
    with tenant_session(tenant.id) as s:
        build = builds.create_build(s, order.id, actor=actor)
        s.commit()
        bid = build.id
        cover = builds.store_photo(s, bid, "coverPhoto", _jpeg(), filename="cover.jpg", actor=actor)
        io_photo = builds.store_photo(s, bid, "mboIoPhoto", _jpeg((40, 90, 200)), filename="io.jpg", actor=actor)
        s.commit()
        builds.change_status(s, bid, "in_progress", actor=actor)
        builds.add_step(s, bid, "assembly", "Cables tied", actor=actor)
        builds.update_qa(
            s,
            bid,
            builds.QAUpdate(
                temperatures={"cpuIdle": 36, "cpuLoad": 81.5, "gpuIdle": 33, "gpuLoad": 72, "ambient": 21},
                stress_tests=[{"tool": "OCCT", "durationMinutes": 30, "result": "passed", "maxTemp": 84}],
            ),
            actor=actor,
        )
        builds.add_benchmark(s, bid, name="3DMark Time Spy", score=18250, unit="points", actor=actor)
        builds.add_test_run(s, bid, type="stress_test", status="passed", score=98.5, notes="No errors", actor=actor)
        builds.change_status(s, bid, "testing", actor=actor)
        s.commit()
        return s.get_one(Build, bid), order, {"coverPhoto": cover.id, "mboIoPhoto": io_photo.id}


def _attach_booklet(tenant_id, build_id) -> uuid.UUID:
    """A Quick Start Guide as the booklet job stores it."""
    with tenant_session(tenant_id) as s:
        key = f"builds/booklets/{build_id}/Quick-Start-Guide-test.pdf"
        storage.for_tenant(tenant_id).put(key, b"%PDF-1.7 test booklet", "application/pdf")
        att = Attachment(
            tenant_id=tenant_id,
            kind="booklet",
            key=key,
            filename="Quick-Start-Guide-B-00001.pdf",
            content_type="application/pdf",
            size=21,
        )
        s.add(att)
        build = s.get_one(Build, build_id)
        build.quick_start_booklet_id = att.id
        build.booklet_status = "ready"
        s.add(build)
        s.commit()
        return att.id


# --- the link ----------------------------------------------------------------------------------------


def test_the_link_is_signed_and_a_forged_or_garbled_one_opens_nothing():
    tenant_id, build_id = uuid.uuid4(), uuid.uuid4()
    token = links.build_token(tenant_id, build_id)
    assert links.read_build_token(token) == links.BuildLink(tenant_id, build_id)
    assert str(build_id) not in token and build_id.hex not in token  # not an id anyone can count up
    # another build's id with this token's signature, a flipped character, garbage: nothing
    value, _, signature = token.partition(".")
    other = links.build_token(tenant_id, uuid.uuid4())
    assert links.read_build_token(other.partition(".")[0] + "." + signature) is None
    # (the signature's first character: the last one of a base64 text carries unused bits, so
    # some changes to it decode to the same signature)
    flipped = f"{value}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for bad in (flipped, value, "", "not-a-token", "x" * 500, str(build_id)):
        assert links.read_build_token(bad) is None
    assert links.build_page_url(tenant_id, build_id) == f"{get_settings().app_url.rstrip('/')}/my-build/{token}"


def test_the_booklet_qr_code_leads_to_the_customer_build_page_not_the_staff_sign_in():
    tenant = make_tenant("Pixel & Bolt PCs")
    build, _, _ = _tested_build(tenant)
    with tenant_session(tenant.id) as s:
        ctx = booklets.context(s, s.get_one(Build, build.id))
    url = ctx["build_url"]
    assert url.startswith(get_settings().app_url.rstrip("/") + "/my-build/")
    assert f"/builds/{build.id}" not in url
    assert links.read_build_token(url.rsplit("/", 1)[-1]) == links.BuildLink(tenant.id, build.id)
    assert builds_view.open_build_page(url.rsplit("/", 1)[-1]) is not None


# --- the build page ----------------------------------------------------------------------------------


def test_the_build_page_shows_parts_photos_tests_timeline_and_booklets_in_words():
    tenant = make_tenant("Pixel & Bolt PCs")
    build, order, _ = _tested_build(tenant)
    token = links.build_token(tenant.id, build.id)
    assert builds_view.open_build_page(token) is not None
    page = builds_view.open_build_page(token)
    assert page is not None
    assert (page.order_number, page.shop_name, page.build_status) == (order.number, "Pixel & Bolt PCs", "testing")
    view = shown(page, ShopFormat(locale="de_DE", currency="EUR", timezone="Europe/Berlin"))
    assert [(p.title, p.detail, p.quantity) for p in view.parts] == [
        ("AMD Ryzen 7 7800X3D", "", 1),
        ("Corsair Vengeance DDR5", "2 × 16 GB", 2),
    ]
    assert [p.label for p in view.photos] == [PHOTO_SLOT_LABELS["coverPhoto"], "Motherboard I/O"]
    assert all(f"/api/v1/my-build/{token}/files/" in p.thumb and p.thumb.endswith("?size=thumb") for p in view.photos)
    assert [(t.type, t.status, t.score, t.notes) for t in view.tests] == [
        ("Stress test", "passed", "98,5", "No errors")
    ]
    assert [(b.name, b.score) for b in view.benchmarks] == [("3DMark Time Spy", "18.250 points")]  # German digits
    assert [(t.tool, t.minutes, t.result, t.max_temp) for t in view.stress] == [("OCCT", "30 min", "passed", "84 °C")]
    assert [(t.part, t.idle, t.load) for t in view.temps] == [
        ("Processor (CPU)", "36 °C", "81,5 °C"),
        ("Graphics card (GPU)", "33 °C", "72 °C"),
    ]
    assert view.summary.ambient == "21 °C"
    assert [m.label for m in view.timeline] == ["Testing", "Assembly", "Build started", "Order placed"]
    assert view.timeline[1].note == "Cables tied"
    assert [(s.label, s.state) for s in view.steps] == [
        ("Parts received", "done"),
        ("Assembly", "done"),
        ("Testing", "current"),
        ("Packaging", "todo"),
        ("Shipped", "todo"),
    ]
    assert view.booklets == []  # not rendered yet …
    assert view.summary.booklet_status == "none"
    _attach_booklet(tenant.id, build.id)
    page = builds_view.open_build_page(token)
    assert page is not None
    view = shown(page, ShopFormat())
    assert [(b.name, b.size) for b in view.booklets] == [("Quick Start Guide", "1 KB")]  # … now it is


def test_a_wrong_link_opens_no_build():
    tenant = make_tenant()
    build, _, _ = _tested_build(tenant)
    other_shop = make_tenant()
    assert builds_view.open_build_page("nonsense") is None
    assert builds_view.open_build_page(links.build_token(tenant.id, uuid.uuid4())) is None  # no such build
    # a link naming another shop for this build: that shop has no such build (RLS)
    assert builds_view.open_build_page(links.build_token(other_shop.id, build.id)) is None
    assert builds_view.open_build_page(links.build_token(uuid.uuid4(), build.id)) is None  # no such shop


def test_photos_and_booklets_come_only_through_their_own_build_link(api):
    tenant = make_tenant()
    build, _, photo_ids = _tested_build(tenant)
    other, _, other_photos = _tested_build(tenant)
    booklet_id = _attach_booklet(tenant.id, build.id)
    token = links.build_token(tenant.id, build.id)
    c = TestClient(api)
    base = f"/api/v1/my-build/{token}/files"

    full = c.get(f"{base}/{photo_ids['coverPhoto']}")
    assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.content[:3] == b"\xff\xd8\xff"
    assert full.headers["x-content-type-options"] == "nosniff"
    thumb = c.get(f"{base}/{photo_ids['coverPhoto']}?size=thumb")
    assert thumb.status_code == 200 and len(thumb.content) < len(full.content)
    pdf = c.get(f"{base}/{booklet_id}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert "Quick-Start-Guide-B-00001.pdf" in pdf.headers["content-disposition"]

    # another build's photo through this link, a forged link, an unknown file: 404 alike
    assert c.get(f"{base}/{other_photos['coverPhoto']}").status_code == 404
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert c.get(f"/api/v1/my-build/{forged}/files/{photo_ids['coverPhoto']}").status_code == 404
    assert c.get(f"/api/v1/my-build/nonsense/files/{photo_ids['coverPhoto']}").status_code == 404
    assert c.get(f"{base}/{uuid.uuid4()}").status_code == 404
    assert c.get(f"{base}/not-an-id").status_code == 404
    other_token = links.build_token(tenant.id, other.id)
    assert c.get(f"/api/v1/my-build/{other_token}/files/{booklet_id}").status_code == 404


# --- My orders ------------------------------------------------------------------------------------------


def test_a_customer_sees_their_own_orders_and_never_anyone_elses():
    tenant = make_tenant()
    elsewhere = make_tenant()
    ada = _customer(tenant.id, "ada@example.com")
    bob = _customer(tenant.id, "bob@example.com", "Bob")
    mine = _order(tenant.id, email="ada@example.com", customer_id=ada.customer_id, source="builder")
    # Her address on an order without an account is not enough: account addresses are not verified.
    _order(tenant.id, email="  ADA@Example.COM ", total="99.00")
    bob_linked = _order(tenant.id, email="ada@example.com", customer_id=bob.customer_id)  # Bob's: never hers
    bobs = _order(tenant.id, email="bob@example.com", customer_id=bob.customer_id)
    _order(elsewhere.id, email="ada@example.com")  # another shop's order

    with tenant_session(tenant.id) as s:
        ada_orders = builds_view.customer_orders(s, ada)
        bob_orders = builds_view.customer_orders(s, bob)
    assert {o.number for o in ada_orders} == {mine.number}
    assert {o.number for o in bob_orders} == {bob_linked.number, bobs.number}


def test_my_orders_in_the_shops_formats_with_tracking_and_the_builds_progress():
    tenant = make_tenant()
    build, order, _ = _tested_build(tenant)
    ada = _customer(tenant.id, "pc@example.com")
    with tenant_session(tenant.id) as s:  # the PC order was placed from her account
        s.get_one(Order, order.id).customer_id = ada.customer_id
        s.commit()
    shipped = _order(
        tenant.id,
        customer_id=ada.customer_id,
        email="pc@example.com",
        total="99.00",
        fulfillment_status="shipped",
        tracking_number="3SABCD123",
        tracking_url="https://tracking.example/3SABCD123",
        tracking_carrier="PostNL",
    )
    _order(
        tenant.id,
        customer_id=ada.customer_id,
        email="pc@example.com",
        tracking_number="X1",
        tracking_url="javascript:alert(1)",
    )
    with tenant_session(tenant.id) as s:
        found = builds_view.customer_orders(s, ada)
    rows = {r.number: r for r in order_rows(found, ShopFormat(locale="de_DE", currency="EUR"))}
    pc = rows[order.number]
    assert pc.total == "1.234,50\xa0€" and pc.status == "PROCESSING" and pc.is_pc
    assert pc.build_path == f"/my-build/{links.build_token(tenant.id, build.id)}"
    assert [(s.label, s.state) for s in pc.steps][:3] == [
        ("Parts received", "done"),
        ("Assembly", "done"),
        ("Testing", "current"),
    ]
    assert (pc.done, pc.percent) == (2, 40)
    sent = rows[shipped.number]
    assert (sent.tracking_number, sent.tracking_url, sent.tracking_carrier) == (
        "3SABCD123",
        "https://tracking.example/3SABCD123",
        "PostNL",
    )
    assert not sent.is_pc and sent.steps == [] and sent.build_path == ""
    odd = next(r for r in rows.values() if r.tracking_number == "X1")
    assert odd.tracking_url == ""  # only web addresses become links


@pytest.mark.parametrize(
    ("build_status", "timeline", "fulfillment", "order_status", "expected"),
    [
        (None, set(), "unfulfilled", "PENDING", "c...."),
        ("pending", set(), "unfulfilled", "PENDING", "c...."),
        ("in_progress", {"start"}, "building", "PROCESSING", "dc..."),
        ("paused", {"start", "testing"}, "testing", "PROCESSING", "ddc.."),
        ("testing", {"start", "testing"}, "testing", "PROCESSING", "ddc.."),
        ("completed", {"start", "testing", "milestone"}, "ready", "PROCESSING", "dddc."),
        ("completed", {"start", "testing", "packaging"}, "packaging", "PROCESSING", "dddc."),
        ("completed", {"start", "testing", "packaging", "shipped"}, "shipped", "COMPLETED", "ddddd"),
        ("cancelled", {"start"}, "cancelled", "CANCELLED", "....."),
    ],
)
def test_progress_steps(build_status, timeline, fulfillment, order_status, expected):
    steps = builds_view.progress(
        build_status=build_status, timeline=timeline, fulfillment=fulfillment, order_status=order_status
    )
    assert "".join({"done": "d", "current": "c", "todo": "."}[s.state] for s in steps) == expected
    assert [s.label for s in steps] == ["Parts received", "Assembly", "Testing", "Packaging", "Shipped"]
