"""Booklets: completing a build renders both PDFs on the booklets queue."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient

from app.api import create_api
from app.booklets import service as booklets
from app.builds.models import PHOTO_SLOTS
from app.platform.db import tenant_session
from app.platform.models import Attachment
from app.settings import ROOT
from tests.factories import PASSWORD, make_tenant, make_user

ARTIFACTS = ROOT / "test-artifacts" / "booklets"


@pytest.fixture(scope="module")
def api():
    return create_api()


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def test_completing_a_build_renders_both_booklets(api, worker):
    tenant = make_tenant("Pixel & Bolt PCs")
    user = make_user(tenant, "operator")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    oid = c.post(
        "/api/v1/orders",
        json={
            "customerName": "Ada Lovelace",
            "customerEmail": "ada@example.com",
            "street": "Damrak",
            "houseNumber": "1",
            "postalCode": "1012 LG",
            "city": "Amsterdam",
            "countryCode": "NL",
            "lineItems": [
                {"sku": "CPU-7800X3D", "title": "AMD Ryzen 7 7800X3D", "quantity": 1, "unitPrice": "389.00"},
                {"sku": "GPU-4070S", "title": "GeForce RTX 4070 Super", "quantity": 1, "unitPrice": "619.00"},
            ],
        },
    ).json()["id"]
    bid = c.post("/api/v1/builds", json={"orderId": oid}).json()["id"]
    colours = [(40, 40, 60), (200, 60, 60), (60, 160, 90), (230, 180, 40), (70, 90, 200)]
    for i, slot in enumerate(PHOTO_SLOTS):
        import io

        from PIL import Image

        img = Image.new("RGB", (1600, 1200), colours[i % len(colours)])
        buf = io.BytesIO()
        img.save(buf, "JPEG")
        assert (
            c.post(
                f"/api/v1/builds/{bid}/photos/{slot}", files={"file": ("p.jpg", buf.getvalue(), "image/jpeg")}
            ).status_code
            == 201
        )
    c.put(
        f"/api/v1/builds/{bid}/qa",
        json={
            "checklist": [{"item": "All fans spin", "done": True}, {"item": "BIOS updated, XMP on", "done": True}],
            "temperatures": {"cpuIdle": 36, "cpuLoad": 81, "gpuIdle": 33, "gpuLoad": 72, "ambient": 21},
            "systemConfig": {"OS": "Windows 11 Pro 24H2", "BIOS": "1.40"},
            "stressTests": [{"tool": "OCCT", "durationMinutes": 30, "result": "passed", "maxTemp": 84}],
        },
    )
    c.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True})
    c.post(
        f"/api/v1/builds/{bid}/test-runs",
        json={"type": "benchmark", "status": "passed", "score": 18250, "notes": "3DMark Time Spy"},
    )
    for status in ("in_progress", "testing", "completed"):
        r = c.patch(f"/api/v1/builds/{bid}", json={"status": status})
    assert r.json()["booklets"]["status"] == "queued"  # the answer does not wait
    worker(timeout=120)
    build = c.get(f"/api/v1/builds/{bid}").json()
    assert build["booklets"]["status"] == "ready", build["booklets"]
    with tenant_session(tenant.id) as s:
        qs = s.get(Attachment, build["booklets"]["quickStartBookletId"])
        td = s.get(Attachment, build["booklets"]["technicalDossierBookletId"])
    assert qs is not None and td is not None
    quick, dossier = c.get(f"/api/v1/files/{qs.key}").content, c.get(f"/api/v1/files/{td.key}").content
    assert quick.startswith(b"%PDF") and dossier.startswith(b"%PDF")
    qt, dt = _pdf_text(quick), _pdf_text(dossier)
    number = c.get(f"/api/v1/orders/{oid}").json()["number"]
    assert "Quick Start Guide" in qt and number in qt and "transport foam" in qt
    assert "Technical Dossier" in dt and "RTX 4070 Super" in dt and "18250" in dt and "All fans spin" in dt
    assert "Stress tests" in dt and "OCCT" in dt and "84 °C" in dt
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "quick-start.pdf").write_bytes(quick)
    (ARTIFACTS / "technical-dossier.pdf").write_bytes(dossier)

    # regenerating replaces the files
    assert c.post(f"/api/v1/builds/{bid}/booklets/regenerate").status_code == 202
    worker(timeout=120)
    again = c.get(f"/api/v1/builds/{bid}").json()["booklets"]
    assert again["status"] == "ready" and again["quickStartBookletId"] != build["booklets"]["quickStartBookletId"]
    assert c.get(f"/api/v1/files/{qs.key}").status_code == 404


def test_the_renderer_fetches_nothing_but_inlined_images():
    f = booklets.fetcher()
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data", "https://example.com/x.png"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            f.fetch(url)
    pdf = booklets.render_pdf('<img src="file:///etc/passwd"><p>hello</p>')
    assert pdf.startswith(b"%PDF") and "root:" not in _pdf_text(pdf)


def _bare_build(api, customer: str):
    """A signed-in operator's client and a build with nothing recorded yet."""
    tenant = make_tenant()
    user = make_user(tenant, "operator")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    oid = c.post(
        "/api/v1/orders",
        json={
            "customerName": customer,
            "customerEmail": "ada@example.com",
            "street": "Damrak",
            "houseNumber": "1",
            "postalCode": "1012 LG",
            "city": "Amsterdam",
            "countryCode": "NL",
            "lineItems": [{"sku": "PC", "title": "PC", "unitPrice": "1"}],
        },
    ).json()["id"]
    return tenant, c, c.post("/api/v1/builds", json={"orderId": oid}).json()["id"]


def test_the_dossier_leaves_out_what_was_not_recorded_and_stress_tests_are_checked(api):
    """No lone headings: a build without photos, test runs, temperatures or
    benchmarks has none of those sections. A nonsensical stress test is refused."""
    from app.builds import service as builds

    tenant, c, bid = _bare_build(api, "Bare")
    bad = c.put(f"/api/v1/builds/{bid}/qa", json={"stressTests": [{"tool": "OCCT", "durationMinutes": -5}]})
    assert bad.status_code == 422 and "not a plausible duration" in bad.json()["error"]["message"]
    bad = c.put(f"/api/v1/builds/{bid}/qa", json={"stressTests": [{"durationMinutes": 30}]})
    assert bad.status_code == 422 and "needs the tool" in bad.json()["error"]["message"]
    with tenant_session(tenant.id) as s:
        html = booklets.render_html("technical_dossier.html", booklets.context(s, builds.get_build(s, bid)))
    for heading in ("Build photos", "Test runs", "Stress tests", "Temperatures", "Benchmarks"):
        assert f"<h2>{heading}</h2>" not in html, heading
    assert "<h2>Quality assurance</h2>" in html and "<h2>Parts list</h2>" in html


def test_regenerate_clicks_coalesce_and_a_render_that_died_is_queued_again(api, worker):
    from datetime import timedelta

    from app.builds import service as builds
    from app.platform.models import utcnow
    from app.platform.tasks import queue

    tenant, c, bid = _bare_build(api, "Clicky")
    worker(queues=("events", "booklets"))  # nothing left over
    for _ in range(5):
        assert c.post(f"/api/v1/builds/{bid}/booklets/regenerate").status_code == 202
    worker(queues=("events",))  # the handler asks for renders: one waits
    assert queue("booklets").count == 1
    worker(queues=("booklets",))
    assert c.get(f"/api/v1/builds/{bid}").json()["booklets"]["status"] == "ready"

    # a render whose worker died: still "rendering" long after any render ends
    with tenant_session(tenant.id) as s:
        build = builds.get_build(s, bid, lock=True)
        build.booklet_status, build.updated_at = "rendering", utcnow() - timedelta(minutes=30)
        s.add(build)
        s.commit()
        assert booklets.requeue_stuck(s) == 1
        s.commit()
        assert booklets.requeue_stuck(s) == 0  # once
    worker(queues=("events", "booklets"))
    build = c.get(f"/api/v1/builds/{bid}").json()
    assert build["booklets"]["status"] == "ready"
    assert any("did not finish (still rendering): queued again" in i["message"] for i in build["feed"])
