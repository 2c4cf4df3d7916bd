"""Builds: lifecycle and its coupling to the order, the packaging gate, one
build per order under concurrency, and photo uploads (including hostile ones)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from app.api import create_api
from app.builds.models import PHOTO_SLOT_LABELS, PHOTO_SLOTS, REQUIRED_SLOTS
from app.platform import storage
from app.platform.db import tenant_session
from app.platform.models import Attachment
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def shop(api):
    tenant = make_tenant()
    user = make_user(tenant, "operator")
    client = TestClient(api)
    client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    return tenant, client


def _order(client) -> str:
    r = client.post(
        "/api/v1/orders",
        json={
            "customerName": "Ada",
            "customerEmail": "ada@example.com",
            "street": "Damrak",
            "houseNumber": "1",
            "postalCode": "1012 LG",
            "city": "Amsterdam",
            "countryCode": "NL",
            "lineItems": [{"sku": "PC-1", "title": "Gaming PC", "quantity": 1, "unitPrice": "1500.00"}],
        },
    )
    return r.json()["id"]


def _build(client) -> tuple[str, str]:
    oid = _order(client)
    r = client.post("/api/v1/builds", json={"orderId": oid})
    assert r.status_code == 201, r.text
    return oid, r.json()["id"]


def jpeg(width=1200, height=800, *, orientation: int | None = None, gps: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (30, 90, 160))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 5.0, 0.0), 3: "E", 4: (5.0, 7.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _upload(client, bid, slot, data, name="photo.jpg", ctype="image/jpeg"):
    return client.post(f"/api/v1/builds/{bid}/photos/{slot}", files={"file": (name, data, ctype)})


def test_one_build_per_order_even_when_two_requests_race(shop, api):
    _tenant, client = shop
    oid = _order(client)
    cookies = dict(client.cookies)

    def create(_):
        c = TestClient(api, cookies=cookies)
        return c.post("/api/v1/builds", json={"orderId": oid}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(create, range(4)))
    assert codes == [201, 409, 409, 409]
    r = client.post("/api/v1/builds", json={"orderId": oid})
    assert r.status_code == 409 and "already has a build" in r.json()["error"]["message"]
    assert client.post("/api/v1/builds", json={"orderId": "00000000-0000-0000-0000-000000000000"}).status_code == 404


def test_lifecycle_timestamps_and_order_fulfillment(shop):
    _, client = shop
    oid, bid = _build(client)
    r = client.patch(f"/api/v1/builds/{bid}", json={"status": "testing"})
    assert r.status_code == 409 and "allowed: in progress" in r.json()["error"]["message"]

    started = client.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"}).json()["startedAt"]
    order = client.get(f"/api/v1/orders/{oid}").json()
    assert started and order["fulfillmentStatus"] == "building" and order["status"] == "PROCESSING"
    client.patch(f"/api/v1/builds/{bid}", json={"status": "paused"})
    again = client.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"}).json()
    assert again["startedAt"] == started  # never overwritten
    client.patch(f"/api/v1/builds/{bid}", json={"status": "testing"})
    assert client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "testing"
    failed = client.patch(f"/api/v1/builds/{bid}", json={"status": "failed"}).json()
    assert failed["finishedAt"] and client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "testing"
    client.patch(f"/api/v1/builds/{bid}", json={"status": "testing"})
    assert client.get(f"/api/v1/builds/{bid}").json()["finishedAt"] is None  # resumed: not finished any more
    _pass_qa(client, bid)
    done = client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"}).json()
    assert done["status"] == "completed" and done["booklets"]["status"] == "queued"
    assert client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "ready"
    feed = [i["message"] for i in done["feed"]]
    assert "Status Pending → In progress" in feed and "Build started" in feed


def _pass_qa(client, bid, items=("Cables tied",)):
    client.put(f"/api/v1/builds/{bid}/qa", json={"checklist": [{"item": i, "done": True} for i in items]})
    assert client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True}).status_code == 200


def test_a_build_is_completed_only_after_qa_passed(shop):
    _, client = shop
    oid, bid = _build(client)
    for status in ("in_progress", "testing"):
        client.patch(f"/api/v1/builds/{bid}", json={"status": status})
    r = client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    assert r.status_code == 409 and r.json()["error"]["details"]["missing"] == ["QA checklist"]
    client.put(f"/api/v1/builds/{bid}/qa", json={"checklist": [{"item": "Fans spin", "done": False}]})
    r = client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    assert r.json()["error"]["details"]["missing"] == ["QA checklist items not done: Fans spin"]
    client.put(f"/api/v1/builds/{bid}/qa", json={"checklist": [{"item": "Fans spin", "done": True}]})
    r = client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    assert r.json()["error"]["details"]["missing"] == ["QA sign-off"]  # ticked is not signed off
    assert client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": False}).status_code == 200
    assert client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"}).status_code == 409  # failed QA
    assert client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True}).status_code == 200
    assert client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"}).json()["status"] == "completed"
    assert client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "ready"


def test_packaging_gate_lists_what_is_missing_until_done(shop):
    _, client = shop
    oid, bid = _build(client)
    for status in ("in_progress", "testing"):
        client.patch(f"/api/v1/builds/{bid}", json={"status": status})
    r = client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"})
    assert r.status_code == 409  # not even ready: the build is still in testing
    _pass_qa(client, bid)
    client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    r = client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["missing"] == [f"{PHOTO_SLOT_LABELS[s]} photo" for s in REQUIRED_SLOTS]
    for slot in REQUIRED_SLOTS:
        assert _upload(client, bid, slot, jpeg()).status_code == 201
    # an open item added after the sign-off withdraws it: the build is back in
    # testing (its order with it) and the gate holds again
    client.put(
        f"/api/v1/builds/{bid}/qa",
        json={"checklist": [{"item": "Cables tied", "done": True}, {"item": "BIOS updated", "done": False}]},
    )
    build = client.get(f"/api/v1/builds/{bid}").json()
    assert build["status"] == "testing" and any("QA sign-off withdrawn" in i["message"] for i in build["feed"])
    assert client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "testing"
    assert client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"}).status_code == 409
    r = client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    assert r.json()["error"]["details"]["missing"] == ["QA checklist items not done: BIOS updated"]
    _pass_qa(client, bid, ("Cables tied", "BIOS updated"))
    client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    r = client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"})
    assert r.status_code == 200 and r.json()["fulfillmentStatus"] == "packaging"  # thermalPhoto is optional


def _builder_order(tenant) -> str:
    """A PC ordered through the storefront builder (source builder)."""
    from decimal import Decimal

    from app.orders import service as orders
    from app.orders.inputs import LineInput, OrderInput

    with tenant_session(tenant.id) as s:
        order, _ = orders.create_order(
            s,
            OrderInput(
                source="builder",
                customer_name="Sam",
                ship_country_code="NL",
                lines=[LineInput(sku="PC-CPU-1", title="Ryzen 5", quantity=1, unit_price=Decimal("150"))],
            ),
        )
        s.commit()
        return str(order.id)


def test_a_builder_order_is_never_ready_or_shipped_without_its_build(shop):
    tenant, client = shop
    oid = _builder_order(tenant)
    detail = client.get(f"/api/v1/orders/{oid}").json()
    assert "ready" not in detail["allowedActions"]
    assert detail["nextStep"] == {"step": "ready", "missing": ["the PC's build (none started yet)"]}
    r = client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"})
    assert r.status_code == 409 and "the PC's build" in r.json()["error"]["message"]
    bid = client.post("/api/v1/builds", json={"orderId": oid}).json()["id"]
    r = client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["missing"] == ["the build is pending (it must be completed)"]
    for status in ("in_progress", "testing"):
        client.patch(f"/api/v1/builds/{bid}", json={"status": status})
    _pass_qa(client, bid)
    for slot in REQUIRED_SLOTS:
        _upload(client, bid, slot, jpeg(400, 300))
    client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})  # the build makes the order ready
    assert client.get(f"/api/v1/orders/{oid}").json()["fulfillmentStatus"] == "ready"
    for step in ("packaging", "shipped"):
        assert client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step}).status_code == 200


def test_cancelling_the_order_stops_its_build(shop):
    _, client = shop
    oid, bid = _build(client)
    client.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"})
    assert client.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "customer"}).status_code == 200
    order = client.get(f"/api/v1/orders/{oid}").json()
    assert order["status"] == "CANCELLED" and order["fulfillmentStatus"] == "cancelled"
    assert [li["status"] for li in order["lineItems"]] == ["CANCELLED"]
    assert order["allowedActions"] == [] and order["nextStep"] == {"step": "", "missing": []}
    build = client.get(f"/api/v1/builds/{bid}").json()
    assert build["status"] == "cancelled" and build["allowedStatuses"] == []
    assert any("was cancelled: the build is stopped" in i["message"] for i in build["feed"])
    assert client.patch(f"/api/v1/builds/{bid}", json={"status": "testing"}).status_code == 409


def test_photo_is_oriented_stripped_thumbnailed_and_replaced(shop):
    tenant, client = shop
    _, bid = _build(client)
    r = _upload(client, bid, "coverPhoto", jpeg(1200, 800, orientation=6, gps=True))
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["width"], first["height"]) == (800, 1200)  # EXIF rotation applied
    stored = client.get(first["url"])
    img = Image.open(io.BytesIO(stored.content))
    assert img.size == (800, 1200) and not img.getexif()  # no orientation, no GPS left
    thumb = Image.open(io.BytesIO(client.get(first["thumbnailUrl"]).content))
    assert max(thumb.size) <= 480
    second = _upload(client, bid, "coverPhoto", jpeg()).json()
    assert client.get(first["url"]).status_code == 404  # the replaced file is gone
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).select_from(Attachment)).one() == 1
    assert client.get(second["url"]).status_code == 200
    assert client.get(f"/api/v1/builds/{bid}").json()["photos"]["coverPhoto"]["attachmentId"] == second["attachmentId"]


def test_hostile_uploads_are_refused_and_store_nothing(shop):
    tenant, client = shop
    _, bid = _build(client)
    good = jpeg()
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 Mpx in a few kB
    cases = {
        "text": (b"#!/bin/sh\nrm -rf /\n", 422, "not_an_image"),
        "truncated": (good[: len(good) // 2], 422, "damaged_image"),
        "bomb": (bomb.getvalue(), 422, "decompression_bomb"),
        "empty": (b"", 422, "empty_file"),
        "huge": (b"\xff\xd8" + b"0" * (21 * 1024 * 1024), 413, "payload_too_large"),
    }
    for name, (data, status, code) in cases.items():
        r = _upload(client, bid, "psuPhoto", data, name=f"{name}.jpg")
        assert r.status_code == status, (name, r.text)
        assert r.json()["error"]["code"] == code, name
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    r = _upload(client, bid, "psuPhoto", gif.getvalue(), name="x.gif", ctype="image/gif")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsupported_image"
    assert _upload(client, bid, "selfie", good).status_code == 404
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).select_from(Attachment)).one() == 0
    root = getattr(storage.backend(), "root", None)  # the local-folder backend
    if root is not None:
        assert not list((root / "tenants" / str(tenant.id)).rglob("*.jpg"))
    assert client.get(f"/api/v1/builds/{bid}").json()["photos"]["psuPhoto"] is None


def test_qa_sign_off_and_test_runs(shop):
    _, client = shop
    _, bid = _build(client)
    r = client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True})
    assert r.status_code == 422 and "checklist" in r.json()["error"]["message"]
    client.put(
        f"/api/v1/builds/{bid}/qa",
        json={
            "checklist": [{"item": "BIOS updated", "done": True}, {"item": "XMP enabled", "done": False}],
            "temperatures": {"cpuIdle": 34.5, "cpuLoad": 78, "gpuIdle": 31, "gpuLoad": 71, "ambient": 22},
            "systemConfig": {"os": "Windows 11 Pro", "bios": "F12"},
        },
    )
    r = client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True})
    assert r.status_code == 422 and "XMP enabled" in r.json()["error"]["message"]
    bad = client.put(f"/api/v1/builds/{bid}/qa", json={"temperatures": {"cpuIdle": 900}})
    assert bad.status_code == 422
    client.put(
        f"/api/v1/builds/{bid}/qa",
        json={"checklist": [{"item": "BIOS updated", "done": True}, {"item": "XMP enabled", "done": True}]},
    )
    signed = client.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True}).json()
    assert signed["qa"]["result"] is True and signed["qa"]["passedAt"] and signed["qa"]["signedOffById"]
    assert signed["temperatures"]["cpuLoad"] == 78
    r = client.post(
        f"/api/v1/builds/{bid}/test-runs",
        json={"type": "benchmark", "status": "passed", "score": 14210, "notes": "3DMark Time Spy"},
    )
    assert r.status_code == 201
    assert client.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "vibes"}).status_code == 422
    r = client.post(
        f"/api/v1/builds/{bid}/events",
        json={"eventType": "incident", "severity": "error", "message": "Scratched side panel"},
    )
    assert r.status_code == 201
    detail = client.get(f"/api/v1/builds/{bid}").json()
    assert detail["testRuns"][0]["score"] == 14210
    assert any(i["message"] == "Scratched side panel" and i["severity"] == "error" for i in detail["feed"])
    assert set(detail["photos"]) == set(PHOTO_SLOTS)


def test_viewer_cannot_touch_builds(api, shop):
    tenant, client = shop
    _, bid = _build(client)
    viewer = make_user(tenant, "viewer")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": tenant.slug})
    assert c.get(f"/api/v1/builds/{bid}").status_code == 200
    assert c.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"}).status_code == 403
    assert _upload(c, bid, "coverPhoto", jpeg()).status_code == 403


def test_truncated_photos_fail_even_after_weasyprint_relaxed_pillow(shop):
    import weasyprint  # noqa: F401  (importing it sets Pillow's global LOAD_TRUNCATED_IMAGES)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    _, client = shop
    _, bid = _build(client)
    good = jpeg()
    r = _upload(client, bid, "psuPhoto", good[: len(good) // 2])
    assert r.status_code == 422 and r.json()["error"]["code"] == "damaged_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored for the renderer


def test_test_runs_are_edited_and_benchmarks_point_at_a_photo(shop):
    _, client = shop
    _, bid = _build(client)
    run = client.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "stress_test", "status": "running"}).json()
    r = client.patch(f"/api/v1/builds/{bid}/test-runs/{run['id']}", json={"status": "passed", "score": 98.5})
    assert r.status_code == 200 and r.json()["status"] == "passed" and r.json()["score"] == 98.5
    assert client.patch(f"/api/v1/builds/{bid}/test-runs/{run['id']}", json={"status": "great"}).status_code == 422
    from app.builds import service as builds_service
    from app.platform.auth import Principal
    from app.platform.permissions import PERMISSIONS

    tenant = shop[0]
    actor = Principal(
        tenant_id=tenant.id,
        tenant_name="",
        tenant_slug="",
        user_id=None,
        username="t",
        display_name="t",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )
    with tenant_session(tenant.id) as s, pytest.raises(Exception, match="no photo yet"):
        builds_service.add_benchmark(s, bid, name="Time Spy", score=17000, photo_slot="gpuIoPhoto", actor=actor)
    _upload(client, bid, "gpuIoPhoto", jpeg())
    with tenant_session(tenant.id) as s:
        b = builds_service.add_benchmark(s, bid, name="Time Spy", score=17000, photo_slot="gpuIoPhoto", actor=actor)
        s.commit()
        photo = b.benchmarks[0]["photoAttachmentId"]
    assert client.get(f"/api/v1/builds/{bid}").json()["photos"]["gpuIoPhoto"]["attachmentId"] == photo


def test_the_timeline_records_the_flow_and_takes_any_step_from_staff(shop, worker):
    _, client = shop
    oid, bid = _build(client)
    for status in ("in_progress", "testing"):
        client.patch(f"/api/v1/builds/{bid}", json={"status": status})
    r = client.post(f"/api/v1/builds/{bid}/timeline", json={"step": "parts_received", "note": "RAM arrived late"})
    assert r.status_code == 201 and r.json()["step"] == "parts_received"
    assert client.post(f"/api/v1/builds/{bid}/timeline", json={"step": "lunch"}).status_code == 422
    _pass_qa(client, bid)
    for slot in REQUIRED_SLOTS:
        _upload(client, bid, slot, jpeg(400, 300))
    client.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    for step in ("packaging", "shipped"):
        assert client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step}).status_code == 200
    worker()  # the order's fulfillment steps reach the build's timeline through events
    steps = [
        (i["type"], i["message"]) for i in client.get(f"/api/v1/builds/{bid}").json()["feed"] if i["kind"] == "step"
    ]
    assert steps == [
        ("start", "Build started"),
        ("testing", "Testing started"),
        ("parts_received", "RAM arrived late"),
        ("milestone", "Build completed, QA passed"),
        ("packaging", "Packaging started"),
        ("shipped", "Shipped"),
    ]
