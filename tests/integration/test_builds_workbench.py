"""The workbench's polish: a test run's screenshot (stored, replaced, removed,
in the Technical Dossier), the builds board (filters, time in status), a
cancelled build that nothing can change, and words instead of identifiers."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from app.api import create_api
from app.booklets import service as booklets
from app.builds import machine
from app.builds import service as builds
from app.builds.models import Build
from app.platform.db import tenant_session
from app.platform.formatting import ShopFormat
from app.platform.models import Attachment, User, utcnow
from tests import factories
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role="operator") -> tuple[TestClient, User]:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c, user


def _build(c, customer="Ada") -> tuple[str, str]:
    r = c.post(
        "/api/v1/orders",
        json={
            "customerName": customer,
            "customerEmail": "ada@example.com",
            "street": "Damrak",
            "houseNumber": "1",
            "postalCode": "1012 LG",
            "city": "Amsterdam",
            "countryCode": "NL",
            "lineItems": [{"sku": "PC-1", "title": "Gaming PC", "quantity": 1, "unitPrice": "1500.00"}],
        },
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    r = c.post("/api/v1/builds", json={"orderId": oid})
    assert r.status_code == 201, r.text
    return oid, r.json()["id"]


def _png(colour=(10, 200, 90), size=(1920, 1080)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _shot(c, bid, rid, data, name="result.png", ctype="image/png"):
    return c.post(f"/api/v1/builds/{bid}/test-runs/{rid}/photo", files={"file": (name, data, ctype)})


def _attachments(tenant) -> int:
    with tenant_session(tenant.id) as s:
        return s.exec(select(func.count()).select_from(Attachment)).one()


def test_a_test_run_screenshot_is_stored_replaced_and_removed(api):
    tenant = make_tenant()
    c, _ = _client(api, tenant)
    _, bid = _build(c)
    run = c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "benchmark", "status": "passed", "score": 17650})
    rid = run.json()["id"]
    assert run.json()["photo"] is None

    first = _shot(c, bid, rid, _png())
    assert first.status_code == 201, first.text
    shot = first.json()
    assert (shot["width"], shot["height"]) == (1920, 1080)
    assert c.get(shot["url"]).status_code == 200
    thumb = Image.open(io.BytesIO(c.get(shot["thumbnailUrl"]).content))
    assert max(thumb.size) <= 480
    detail = c.get(f"/api/v1/builds/{bid}").json()["testRuns"][0]
    assert detail["photoAttachmentId"] == shot["attachmentId"] and detail["photo"]["thumbnailUrl"]

    # replacing deletes the old file and row
    second = _shot(c, bid, rid, _png((200, 30, 30))).json()
    assert c.get(shot["url"]).status_code == 404 and c.get(second["url"]).status_code == 200
    assert _attachments(tenant) == 1

    # removing deletes it; removing again says there is nothing
    assert c.delete(f"/api/v1/builds/{bid}/test-runs/{rid}/photo").status_code == 204
    assert c.get(second["url"]).status_code == 404 and _attachments(tenant) == 0
    assert c.get(f"/api/v1/builds/{bid}").json()["testRuns"][0]["photo"] is None
    assert c.delete(f"/api/v1/builds/{bid}/test-runs/{rid}/photo").status_code == 404
    feed = [i["message"] for i in c.get(f"/api/v1/builds/{bid}").json()["feed"]]
    assert "Screenshot added: Benchmark test run" in feed and "Screenshot removed: Benchmark test run" in feed


def test_a_test_run_screenshot_is_validated_like_the_build_photos(api):
    tenant = make_tenant()
    c, _ = _client(api, tenant)
    _, bid = _build(c)
    rid = c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "stress_test"}).json()["id"]
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    good = _png()
    cases = {
        "text": (b"#!/bin/sh\n", 422, "not_an_image"),
        "truncated": (good[: len(good) // 2], 422, "damaged_image"),
        "gif": (gif.getvalue(), 422, "unsupported_image"),
        "empty": (b"", 422, "empty_file"),
        "huge": (b"\x89PNG" + b"0" * (21 * 1024 * 1024), 413, "payload_too_large"),
    }
    for name, (data, status, code) in cases.items():
        r = _shot(c, bid, rid, data, name=f"{name}.png")
        assert r.status_code == status, (name, r.text)
        assert r.json()["error"]["code"] == code, name
    assert _attachments(tenant) == 0

    # another build's test run is not reachable through this build
    _, other = _build(c, "Bob")
    assert _shot(c, other, rid, good).status_code == 404
    # a viewer may look but not upload
    viewer, _ = _client(api, tenant, "viewer")
    assert _shot(viewer, bid, rid, good).status_code == 403
    assert viewer.delete(f"/api/v1/builds/{bid}/test-runs/{rid}/photo").status_code == 403


def test_the_dossier_shows_each_test_runs_screenshot_beside_it(api):
    tenant = make_tenant()
    c, _ = _client(api, tenant)
    _, bid = _build(c)
    with_shot = c.post(
        f"/api/v1/builds/{bid}/test-runs",
        json={"type": "stress_test", "status": "passed", "notes": "OCCT 30 min"},
    ).json()["id"]
    c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "memory_test", "status": "running", "notes": "MemTest86"})
    assert _shot(c, bid, with_shot, _png()).status_code == 201
    with tenant_session(tenant.id) as s:
        html = booklets.render_html("technical_dossier.html", booklets.context(s, builds.get_build(s, bid)))
        pdf = booklets.render_pdf(html)
    rows = re.findall(r"<tr><td>(.*?)</tr>", html.split("<h2>Test runs</h2>")[1].split("</table>")[0], re.S)
    stress = next(r for r in rows if "OCCT 30 min" in r)
    memory = next(r for r in rows if "MemTest86" in r)
    assert stress.startswith("Stress test") and 'class="shot" src="data:image/jpeg;base64,' in stress
    assert memory.startswith("Memory test") and "<img" not in memory and ">Running<" in memory
    assert "stress_test" not in html and "memory_test" not in html
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf


def test_the_dossier_writes_dates_in_the_shops_format(api):
    tenant = make_tenant()
    factories.set_shop_format(tenant, locale="de_DE")
    c, _ = _client(api, tenant)
    _, bid = _build(c)
    c.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"})
    with tenant_session(tenant.id) as s:
        build = builds.get_build(s, bid)
        ctx = booklets.context(s, build)
        started = build.started_at
    assert ctx["started"] == ShopFormat(locale="de_DE").day(started)  # "29.11.2026"
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", ctx["started"])
    assert all(re.match(r"\d{2}\.\d{2}\.\d{2,4}", e["at"]) for e in ctx["feed"])


def test_the_board_filters_by_assignee_and_folds_finished_builds(api):
    tenant = make_tenant()
    c, me = _client(api, tenant)
    _, mine = _build(c, "Mine")
    _, nobodys = _build(c, "Nobody's")
    oid_cancelled, cancelled = _build(c, "Cancelled")
    c.post(f"/api/v1/orders/{oid_cancelled}/cancel", json={"reason": "customer"})
    principal = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        builds.assign(s, mine, me.id, actor=principal)
        s.commit()
        everyone = {str(card.id) for card in builds.board(s)}
        assert everyone == {mine, nobodys}  # the cancelled one is folded away
        assert {str(x.id) for x in builds.board(s, builds.BoardFilter(include_closed=True))} == {
            mine,
            nobodys,
            cancelled,
        }
        only_mine = builds.board(s, builds.BoardFilter(assignee_id=me.id))
        assert [(str(x.id), x.assignee, x.customer) for x in only_mine] == [(mine, "Test Operator", "Mine")]
        assert [str(x.id) for x in builds.board(s, builds.BoardFilter(unassigned=True))] == [nobodys]
        assert builds.status_counts(s) == {"pending": 2, "cancelled": 1}
        assert (me.id, "Test Operator") in builds.staff(s)


def test_the_board_says_how_long_a_build_has_been_in_its_status(api):
    tenant = make_tenant()
    c, _ = _client(api, tenant)
    _, waiting = _build(c, "Waiting")
    _, testing = _build(c, "Testing")
    for status in ("in_progress", "testing"):
        c.patch(f"/api/v1/builds/{testing}", json={"status": status})
    now = utcnow()
    with tenant_session(tenant.id) as s:
        fresh = {str(x.id): x for x in builds.board(s)}
        assert abs((fresh[testing].since - now).total_seconds()) < 30  # the move just now set it
        for bid, ago in ((waiting, timedelta(days=3, hours=2)), (testing, timedelta(hours=5, minutes=10))):
            b = s.get_one(Build, bid)
            b.status_changed_at = now - ago
            s.add(b)
        s.commit()
        cards = builds.board(s)
    fmt = ShopFormat()
    words = {str(x.id): builds.time_in_status(x, fmt, now) for x in cards}
    assert words == {waiting: "waiting 3 days", testing: "in testing for 5 hours"}
    assert [str(x.id) for x in cards] == [waiting, testing]  # the longest waiting first
    assert list(machine.STATUS.values)[:4] == ["pending", "in_progress", "paused", "testing"]


def test_a_cancelled_build_refuses_every_change_through_every_door(api):
    tenant = make_tenant()
    c, me = _client(api, tenant)
    oid, bid = _build(c)
    rid = c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "benchmark"}).json()["id"]
    c.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "customer"})
    attempts = {
        "photo": lambda: c.post(
            f"/api/v1/builds/{bid}/photos/coverPhoto", files={"file": ("p.png", _png(), "image/png")}
        ),
        "screenshot": lambda: _shot(c, bid, rid, _png()),
        "qa": lambda: c.put(f"/api/v1/builds/{bid}/qa", json={"notes": "late"}),
        "sign-off": lambda: c.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True}),
        "test run": lambda: c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "benchmark"}),
        "edit run": lambda: c.patch(f"/api/v1/builds/{bid}/test-runs/{rid}", json={"status": "passed"}),
        "event": lambda: c.post(f"/api/v1/builds/{bid}/events", json={"eventType": "note", "message": "x"}),
        "step": lambda: c.post(f"/api/v1/builds/{bid}/timeline", json={"step": "assembly"}),
        "booklets": lambda: c.post(f"/api/v1/builds/{bid}/booklets/regenerate"),
        "status": lambda: c.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"}),
    }
    for name, attempt in attempts.items():
        r = attempt()
        assert r.status_code == 409, (name, r.text)
        assert "cancel" in r.json()["error"]["message"], name
    with tenant_session(tenant.id) as s, pytest.raises(Exception, match="cancelled"):
        builds.assign(s, bid, me.id, actor=staff_principal(tenant))
    assert _attachments(tenant) == 0


def test_the_log_speaks_in_words_not_identifiers(api):
    tenant = make_tenant()
    c, _ = _client(api, tenant)
    oid, bid = _build(c)
    c.patch(f"/api/v1/builds/{bid}", json={"status": "in_progress"})
    c.post(f"/api/v1/builds/{bid}/photos/mboIoPhoto", files={"file": ("p.png", _png(), "image/png")})
    rid = c.post(f"/api/v1/builds/{bid}/test-runs", json={"type": "stress_test", "status": "running"}).json()["id"]
    c.patch(f"/api/v1/builds/{bid}/test-runs/{rid}", json={"status": "passed", "score": 98.5})
    c.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "customer"})
    feed = [i["message"] for i in c.get(f"/api/v1/builds/{bid}").json()["feed"]]
    assert "Status Pending → In progress" in feed
    assert "Photo added: Motherboard I/O" in feed
    assert "Test run Stress test: running" in feed
    assert "Test run Stress test updated: passed (score 98.5)" in feed
    assert any(m.endswith("the build is stopped (was in progress)") for m in feed)
    text = " ".join(feed)
    assert not re.search(r"\b(in_progress|stress_test|mboIoPhoto)\b", text), text
