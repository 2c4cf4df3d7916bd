"""Health endpoints, per-tenant config and feature flags, secrets at rest."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import Column, MetaData, String, Table, create_engine, text

from app.api import create_api
from app.platform import config, crypto, tasks
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.platform.models import EventLog
from app.settings import get_settings
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def client():
    return TestClient(create_api())


def test_live_and_ready(client):
    assert client.get("/health/live").json() == {"status": "ok"}
    r = client.get("/health/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_ready_names_the_failing_part(client, monkeypatch):
    monkeypatch.setattr(tasks, "redis_conn", lambda: Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.3))
    import app.platform.health as health

    monkeypatch.setattr(health, "redis_conn", tasks.redis_conn)
    r = client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert "ConnectionError" in body["checks"]["redis"]


def test_feature_flags_are_per_tenant(worker):
    a, b = make_tenant(), make_tenant()
    with tenant_session(a.id) as s:
        assert config.feature_enabled(s, "grid") is False
        config.set_value(s, "feature.grid.enabled", True)
        s.commit()
    with tenant_session(b.id) as s:
        assert config.feature_enabled(s, "grid") is False
    with tenant_session(a.id) as s:
        assert config.feature_enabled(s, "grid") is True
        with pytest.raises(ValidationFailed, match="true or false"):
            config.set_value(s, "feature.grid.enabled", "yes")
    worker()  # config.changed reaches the business event log
    with tenant_session(a.id) as s:
        logs = s.exec(text("SELECT message FROM event_log WHERE event_type = 'config.changed'")).all()
    assert [m for (m,) in logs] == ["Setting “Gridfinity grids” changed"]  # its words, not its key
    assert EventLog.__tablename__ == "event_log"


def test_config_api_for_admins(client):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    c = TestClient(client.app)
    c.post("/api/v1/auth/login", json={"username": admin.username, "password": PASSWORD, "shop": tenant.slug})
    r = c.put("/api/v1/config/grid.basePrice", json={"value": 12.5})
    assert r.status_code == 200 and r.json() == {"key": "grid.basePrice", "value": 12.5}
    assert c.get("/api/v1/config").json()["grid.basePrice"] == 12.5
    r = c.put("/api/v1/config/feature.grid.enabled", json={"value": "on"})
    assert r.status_code == 422 and "true or false" in r.json()["error"]["message"]


def test_secrets_are_encrypted_at_rest():
    token = crypto.encrypt("shpat_secret")
    assert "shpat_secret" not in token and crypto.decrypt(token) == "shpat_secret"
    with pytest.raises(ValueError):
        crypto.decrypt("not-a-token")

    engine = create_engine(get_settings().migrations_database_url)
    md = MetaData()
    table = Table(
        "tmp_secret_test", md, Column("id", String, primary_key=True), Column("secret", crypto.EncryptedString())
    )
    with engine.begin() as conn:
        table.create(conn)
        try:
            conn.execute(table.insert().values(id="1", secret="whsec_123"))
            raw = conn.execute(text("SELECT secret FROM tmp_secret_test")).scalar()
            assert raw != "whsec_123" and raw.startswith("gAAAA")
            assert conn.execute(table.select()).one().secret == "whsec_123"
        finally:
            table.drop(conn)
    engine.dispose()
