"""Settings › Shop: an admin sets how the shop writes money and time, through
the page's service or PATCH /api/v1/tenant; bad values are refused field by
field, the change is audited, and every page follows it at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.api import create_api
from app.platform import auth, shop
from app.platform.db import tenant_session
from app.platform.errors import Forbidden, ValidationFailed
from app.platform.models import AuditLog
from app.settings import get_settings
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


def _fmt(cookie: str):
    principal = auth.authenticate_session(cookie)
    assert principal is not None
    return principal.fmt


def _client(api, tenant, role: str) -> tuple[TestClient, str]:
    user = make_user(tenant, role)
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200
    return client, client.cookies[get_settings().session_cookie_name]


def test_admin_changes_the_shops_format_and_every_page_follows(api):
    tenant = make_tenant()
    client, cookie = _client(api, tenant, "admin")
    assert _fmt(cookie).money(1234.5) == "€1,234.50"

    r = client.patch("/api/v1/tenant", json={"locale": "de_DE", "currency": "chf", "timezone": "Europe/Zurich"})
    assert r.status_code == 200, r.text
    assert r.json()["format"] == {"locale": "de_DE", "currency": "CHF", "timezone": "Europe/Zurich"}
    assert client.get("/api/v1/tenant").json()["format"]["currency"] == "CHF"

    # the very next request (or page event) formats the new way: no sign-out needed
    fmt = _fmt(cookie)
    assert fmt.money(1234.5) == "1.234,50\xa0CHF"
    assert fmt.timezone == "Europe/Zurich"

    with tenant_session(tenant.id) as s:
        [entry] = s.exec(select(AuditLog).where(AuditLog.action == "tenant.format-changed")).all()
    assert entry.meta["before"] == {"locale": "en_IE", "currency": "EUR", "timezone": "Europe/Amsterdam"}
    assert entry.meta["after"] == {"locale": "de_DE", "currency": "CHF", "timezone": "Europe/Zurich"}


def test_bad_values_are_refused_field_by_field_and_change_nothing(api):
    tenant = make_tenant()
    client, _ = _client(api, tenant, "admin")
    r = client.patch("/api/v1/tenant", json={"locale": "xx_YY", "currency": "EUR", "timezone": "Mars/Olympus"})
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert set(details) == {"locale", "timezone"}
    assert "Region/City" in details["timezone"]
    assert client.get("/api/v1/tenant").json()["format"] == {
        "locale": "en_IE",
        "currency": "EUR",
        "timezone": "Europe/Amsterdam",
    }


def test_only_settings_writers_change_the_format(api):
    tenant = make_tenant()
    client, _ = _client(api, tenant, "operator")
    r = client.patch("/api/v1/tenant", json={"currency": "USD"})
    assert r.status_code == 403
    assert client.get("/api/v1/tenant").json()["format"]["currency"] == "EUR"  # reading is for everyone


def test_the_service_refuses_without_permission_and_an_empty_time_zone():
    tenant = make_tenant()
    operator = make_user(tenant, "operator")
    admin = make_user(tenant, "admin")
    op = auth.login(operator.username, PASSWORD, shop=tenant.slug).principal
    ad = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:
        with pytest.raises(Forbidden):
            shop.update_shop_format(s, actor=op, currency="USD")
        with pytest.raises(ValidationFailed) as caught:
            shop.update_shop_format(s, actor=ad, timezone="  ")
        assert caught.value.details == {"timezone": "Enter the shop's time zone, e.g. Europe/Amsterdam."}
        same = shop.update_shop_format(s, actor=ad, currency="EUR")  # no change: nothing audited
        assert same.currency == "EUR"
        assert s.exec(select(AuditLog).where(AuditLog.action == "tenant.format-changed")).first() is None
