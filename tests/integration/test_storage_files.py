"""Object storage (local folder and S3 via moto's server) and the authorised
file route."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from app.api import create_api
from app.platform import storage
from app.platform.errors import NotFound, ValidationFailed
from app.settings import get_settings
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _roundtrip(store: storage.TenantStorage) -> None:
    key = store.put("builds/photos/cover.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")
    assert store.exists(key)
    f = store.get(key)
    assert f.data == b"\xff\xd8jpeg-bytes" and f.content_type == "image/jpeg"
    store.put(key, b"replaced", "image/jpeg")
    assert store.get(key).data == b"replaced"
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_local_backend_roundtrip(tmp_path):
    tenant = make_tenant()
    _roundtrip(storage.TenantStorage(tenant.id, storage.LocalBackend(tmp_path)))
    assert not list(tmp_path.rglob("*.part"))


def test_s3_backend_roundtrip_against_moto(s3_server):
    backend = storage.S3Backend(
        "shopfloor-test", endpoint_url=s3_server, region="us-east-1", access_key_id="test", secret_access_key="test"
    )
    backend.ensure_bucket()
    tenant = make_tenant()
    _roundtrip(storage.TenantStorage(tenant.id, backend))
    store = storage.TenantStorage(tenant.id, backend)
    store.put("a/b.txt", b"hi", "text/plain")
    keys = [o["Key"] for o in backend.client.list_objects_v2(Bucket="shopfloor-test")["Contents"]]
    assert keys == [f"tenants/{tenant.id}/a/b.txt"]
    url = backend.presigned_url(keys[0])
    assert "X-Amz-Signature" in url
    assert httpx.get(url).content == b"hi"


def test_s3_backend_chosen_by_settings(s3_server, monkeypatch):
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("S3_BUCKET", "from-settings")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "test")
    get_settings.cache_clear()
    try:
        backend = storage.make_backend()
        assert isinstance(backend, storage.S3Backend) and backend.bucket == "from-settings"
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("key", ["../other/secret", "a/../../b", "/", "", "a\\b", "a/./b"])
def test_path_tricks_are_refused(key):
    with pytest.raises(ValidationFailed):
        storage.object_key(make_tenant().id, key)


def test_files_are_served_only_to_their_own_tenant():
    a, b = make_tenant(), make_tenant()
    storage.for_tenant(a.id).put("docs/a.pdf", b"%PDF-a", "application/pdf")
    storage.for_tenant(b.id).put("docs/b.pdf", b"%PDF-b", "application/pdf")
    api = create_api()
    anon = TestClient(api)
    assert anon.get("/api/v1/files/docs/a.pdf").status_code == 401

    staff_a = TestClient(api)
    user = make_user(a, "viewer")
    staff_a.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": a.slug})
    r = staff_a.get("/api/v1/files/docs/a.pdf")
    assert r.status_code == 200 and r.content == b"%PDF-a"
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-content-type-options"] == "nosniff"
    assert staff_a.get("/api/v1/files/docs/b.pdf").status_code == 404  # b's key, read as a's: not there
    assert staff_a.get(f"/api/v1/files/../tenants/{b.id}/docs/b.pdf").status_code in (404, 422)
