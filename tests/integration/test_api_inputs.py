"""Inputs that used to crash or exhaust the server, each now answered with a
4xx and a message: NUL characters, unbounded page numbers, NaN, amounts beyond
the price column, odd queue job ids, non-ASCII webhook signatures, oversized
free-form fields and photos with more pixels than a phone camera takes (which
are decoded away from the web process). Searches take `%` and `_` literally."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api import create_api
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import photos
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.platform.models import Tenant
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def shop(api) -> tuple[Tenant, TestClient]:
    tenant = make_tenant()
    user = make_user(tenant, "admin")
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return tenant, client


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["message"]
    return error


def _manual_order(**overrides) -> dict:
    line = {"sku": "VASE-1", "title": "Spiral vase", "quantity": 1, "unitPrice": "12.50"}
    line.update(overrides.pop("line", {}))
    return {
        "customerName": "Ada",
        "customerEmail": "ada@example.com",
        "street": "Damrak",
        "houseNumber": "1",
        "postalCode": "1012 LG",
        "city": "Amsterdam",
        "countryCode": "NL",
        "lineItems": [line],
        **overrides,
    }


# --- NUL characters --------------------------------------------------------------------------------


def test_a_nul_character_anywhere_is_refused_with_a_message(shop):
    _, client = shop
    assert "NUL" in _error(client.get("/api/v1/orders?search=%00"), 400)["message"]
    assert _error(client.get("/api/v1/printing/jobs?status=a%00b"), 400)["code"] == "nul_character"
    error = _error(client.post("/api/v1/orders", json=_manual_order(customerName="Ada\x00")), 400)
    assert error["message"].startswith("customerName:")
    error = _error(client.post("/api/v1/orders", json=_manual_order(line={"title": "x\x00"})), 400)
    assert error["message"].startswith("lineItems[0].title:")


def test_nul_on_the_unauthenticated_webhooks_is_refused_too(api):
    anonymous = TestClient(api)
    r = anonymous.post("/api/v1/webhooks/simplyprint/shop%00", content=b'{"event": "job.started"}')
    assert _error(r, 400)["code"] == "nul_character"
    r = anonymous.post(
        "/api/v1/webhooks/shopify",
        content=b'{"id": 1, "note": "\\u0000"}',
        headers={"content-type": "application/json", "x-shopify-hmac-sha256": "abc"},
    )
    assert _error(r, 400)["code"] == "nul_character"


# --- numbers ----------------------------------------------------------------------------------------


def test_page_numbers_have_an_upper_bound(shop):
    _, client = shop
    for path in (
        "/api/v1/orders?page=330226628737933",
        "/api/v1/printing/jobs?page=99999999999999999999",
        "/api/v1/catalog/parts?page=100000",
        "/api/v1/audit-log?offset=10000000000",
    ):
        error = _error(client.get(path), 422)
        assert "less than or equal" in error["message"], path
    assert client.get("/api/v1/orders?page=3").status_code == 200  # an ordinary page still works


def test_nan_and_infinity_are_not_numbers(shop):
    _, client = shop
    body = b'{"customerName": "Ada", "lineItems": [{"title": "Vase", "unitPrice": NaN}]}'
    r = client.post("/api/v1/orders", content=body, headers={"content-type": "application/json"})
    assert "NaN is not a number" in _error(r, 422)["message"]
    r = client.patch(
        "/api/v1/integrations/simplyprint",
        content=b'{"pollMinutes": Infinity}',
        headers={"content-type": "application/json"},
    )
    assert "Infinity" in _error(r, 422)["message"]


def test_amounts_beyond_the_price_column_name_the_field_and_the_maximum(shop):
    _, client = shop
    error = _error(client.post("/api/v1/orders", json=_manual_order(line={"unitPrice": "10000000000"})), 422)
    assert "unitPrice" in error["message"] and "9999999999.99" in error["message"]
    error = _error(client.post("/api/v1/orders", json=_manual_order(shipping="1e30")), 422)
    assert "shipping" in error["message"]


# --- odd identifiers and signatures -----------------------------------------------------------------


def test_an_odd_job_id_on_the_queue_dashboard_is_a_4xx(shop):
    _, client = shop
    r = client.post("/api/v1/queues/failed/%C2%B8D%C3%B7H/requeue")
    assert _error(r, 422)["code"] == "validation_failed"
    r = client.post("/api/v1/queues/failed/no-such-job/requeue")
    assert r.status_code == 404, r.text


def test_a_non_ascii_signature_header_is_unauthorized_not_a_crash(api):
    tenant = make_tenant()
    anonymous = TestClient(api)
    r = anonymous.post(
        "/api/v1/webhooks/shopify",
        content=b'{"id": 1}',
        headers={
            "content-type": "application/json",
            "x-shopify-hmac-sha256": "é-signé".encode(),
            "x-shopify-shop-domain": b"example.myshopify.com",
            "x-shopify-topic": b"orders/create",
            "x-shopify-webhook-id": b"w-1",
        },
    )
    _error(r, 401)
    r = anonymous.post(
        f"/api/v1/webhooks/simplyprint/{tenant.slug}",
        content=b'{"event": "job.started"}',
        headers={"content-type": "application/json", "x-sp-secret": "clé".encode()},
    )
    _error(r, 401)


# --- sizes -------------------------------------------------------------------------------------------


def test_free_form_fields_are_bounded(shop):
    _, client = shop
    error = _error(
        client.post("/api/v1/orders", json=_manual_order(line={"properties": {"engraving": "x" * 4000}})), 422
    )
    assert "properties" in error["message"] and "500" in error["message"]
    many = {f"k{i}": "v" for i in range(51)}
    error = _error(client.post("/api/v1/orders", json=_manual_order(line={"properties": many})), 422)
    assert "properties" in error["message"]
    error = _error(client.post("/api/v1/orders", json=_manual_order(note="n" * 2001)), 422)
    assert "note" in error["message"]
    big_profile = {"printProfile": {"layer": "x" * 30_000}, "partName": "Lid"}
    mapping = client.post("/api/v1/printing/mappings", json={"sku": "LAMP-1", "name": "Lamp"}).json()["id"]
    error = _error(client.post(f"/api/v1/printing/mappings/{mapping}/parts", json=big_profile), 422)
    assert "printProfile" in error["message"]
    ok = client.post("/api/v1/orders", json=_manual_order(line={"properties": {"engraving": "For Ada"}}))
    assert ok.status_code == 201, ok.text
    assert ok.json()["lineItems"][0]["properties"] == {"engraving": "For Ada"}


# --- searches ------------------------------------------------------------------------------------------


def test_a_search_takes_percent_and_underscore_literally(shop):
    tenant, client = shop
    with tenant_session(tenant.id) as s:
        for name in ("100% Cotton Co", "Plain Shop", "snake_case Ltd", "snakeXcase Ltd"):
            orders.create_order(
                s,
                OrderInput(
                    source="manual",
                    customer_name=name,
                    lines=[LineInput(sku="VASE-1", title="Vase", quantity=1, unit_price=Decimal("5"))],
                ),
            )
        s.commit()

    def names(search: str) -> set[str]:
        r = client.get("/api/v1/orders", params={"search": search})
        assert r.status_code == 200, r.text
        return {o["customer"]["name"] for o in r.json()["orders"]}

    assert names("100%") == {"100% Cotton Co"}
    assert names("%") == {"100% Cotton Co"}
    assert names("snake_case") == {"snake_case Ltd"}
    assert names("_") == {"snake_case Ltd"}


# --- photos ---------------------------------------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    """A plain PNG of this size, drawn in a separate interpreter so drawing it
    costs this process nothing (a few hundred kB compressed)."""
    script = (
        "import io, sys; from PIL import Image; b = io.BytesIO(); "
        f"Image.new('RGB', ({width}, {height}), (200, 120, 40)).save(b, 'PNG', compress_level=1); "
        "sys.stdout.buffer.write(b.getvalue())"
    )
    return subprocess.run([sys.executable, "-c", script], check=True, capture_output=True).stdout


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        status = f.read()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match
    return int(match.group(1)) / 1024


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def test_more_pixels_than_a_phone_camera_takes_are_refused():
    with pytest.raises(ValidationFailed, match="at most 50 megapixels") as refused:
        photos.process(_png(7700, 7700))  # 59 MP, under the old limit
    assert refused.value.code == "decompression_bomb"


def test_a_big_photo_is_decoded_in_another_process_and_its_memory_is_not_kept_here():
    data = _png(8000, 6000)  # 48 MP, as a 48 MP phone camera takes
    photos.process(_small_jpeg())  # the decoders are started
    _reset_peak_rss()
    before = _peak_rss_mb()
    result = photos.process(data)
    grew = _peak_rss_mb() - before
    assert (result.width, result.height) == (8000, 6000)
    assert result.decoded_by not in (0, os.getpid())
    # Decoded, this photo is 144 MB of pixels per copy (several copies while it
    # is turned upright and resized); here only the files come and go.
    assert grew < 80, f"the web process grew by {grew:.0f} MB while a photo was decoded"
    Image.open(io.BytesIO(result.thumbnail)).verify()


def test_concurrent_photos_decode_a_few_at_a_time_and_leave_no_process_behind(monkeypatch):
    data = _small_jpeg()
    running, most = 0, 0
    count = threading.Lock()
    real_run = subprocess.run

    def counted_run(*args, **kwargs):
        nonlocal running, most
        with count:
            running += 1
            most = max(most, running)
        try:
            return real_run(*args, **kwargs)
        finally:
            with count:
                running -= 1

    monkeypatch.setattr(photos.subprocess, "run", counted_run)
    results: list[int] = []
    errors: list[Exception] = []

    def upload() -> None:
        try:
            results.append(photos.process(data).decoded_by)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 8
    assert most <= photos.DECODERS  # the others waited their turn
    assert os.getpid() not in results
    assert not [pid for pid in results if os.path.exists(f"/proc/{pid}")]  # every decoder has exited


def test_when_every_decoder_slot_is_taken_an_upload_is_told_to_try_again(monkeypatch):
    monkeypatch.setattr(photos, "_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(photos, "WAIT_SECONDS", 0.1)
    photos._slots.acquire()
    try:
        with pytest.raises(photos.DecodersBusy, match="try again"):
            photos.process(_small_jpeg())
    finally:
        photos._slots.release()


def _small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()
