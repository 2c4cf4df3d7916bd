"""Sign-in, sessions, throttling, API keys and roles, through the REST API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.api import create_api
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import Unauthorized
from app.platform.models import AuditLog, UserSession, utcnow
from app.settings import get_settings
from tests.factories import PASSWORD, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def client(api):
    return TestClient(api)


def _login(client, tenant, user, password=PASSWORD):
    return client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": password, "shop": tenant.slug}
    )


def _audit(tenant, action):
    with tenant_session(tenant.id) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.created_at))))


def test_login_sets_httponly_cookie_and_me_works(client):
    tenant = make_tenant("Corner Shop")
    user = make_user(tenant, "operator")
    r = _login(client, tenant, user)
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and get_settings().session_cookie_name in cookie
    me = client.get("/api/v1/auth/me").json()
    assert me["tenant"]["name"] == "Corner Shop"
    assert "orders.write" in me["permissions"] and "admin.operations" not in me["permissions"]
    assert _audit(tenant, "auth.login.success")


def test_wrong_password_is_401_and_audited(client):
    tenant = make_tenant()
    user = make_user(tenant)
    r = _login(client, tenant, user, "not-the-password")
    assert r.status_code == 401
    assert r.json() == {"error": {"code": "unauthorized", "message": "wrong username or password"}}
    assert "set-cookie" not in r.headers
    failed = _audit(tenant, "auth.login.failed")
    assert len(failed) == 1 and failed[0].target_id == user.username


def test_unknown_user_gets_the_same_answer(client):
    tenant = make_tenant()
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever123", "shop": tenant.slug})
    assert r.status_code == 401 and r.json()["error"]["message"] == "wrong username or password"


def test_repeated_failures_are_throttled_even_with_the_right_password(client):
    tenant = make_tenant()
    user = make_user(tenant)
    for _ in range(get_settings().login_max_failures):
        assert _login(client, tenant, user, "bad-password-1").status_code == 401
    r = _login(client, tenant, user)
    assert r.status_code == 429
    assert "too many failed sign-ins" in r.json()["error"]["message"]
    assert int(r.headers["retry-after"]) > 0
    assert _audit(tenant, "auth.login.throttled")
    other = make_user(tenant)  # another account of the same shop is not locked
    assert _login(client, tenant, other).status_code == 200


def test_logout_ends_the_session(client):
    tenant = make_tenant()
    user = make_user(tenant)
    _login(client, tenant, user)
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401
    with tenant_session(tenant.id) as s:
        assert s.exec(select(UserSession).where(UserSession.user_id == user.id)).all() == []
    assert _audit(tenant, "auth.logout")


def test_expired_session_is_refused():
    tenant = make_tenant()
    user = make_user(tenant)
    result = auth.login(user.username, PASSWORD, shop=tenant.slug)
    assert auth.authenticate_session(result.cookie_value) is not None
    with tenant_session(tenant.id) as s:
        row = s.get(UserSession, result.principal.session_id)
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert auth.authenticate_session(result.cookie_value) is None
    with tenant_session(tenant.id) as s:  # and it is gone
        assert s.get(UserSession, result.principal.session_id) is None


def test_forged_cookies_are_refused():
    tenant = make_tenant()
    make_user(tenant)
    for cookie in (None, "", "garbage", f"{tenant.id}.not-a-token", "00000000-0000-0000-0000-000000000000.x"):
        assert auth.authenticate_session(cookie) is None


def test_session_cookie_of_tenant_a_does_not_open_tenant_b():
    a, b = make_tenant(), make_tenant()
    user = make_user(a)
    result = auth.login(user.username, PASSWORD, shop=a.slug)
    token = result.cookie_value.split(".", 1)[1]
    assert auth.authenticate_session(f"{b.id}.{token}") is None


def test_unauthenticated_and_forbidden_api_calls_get_json_errors(client):
    assert client.get("/api/v1/queues").status_code == 401
    tenant = make_tenant()
    viewer = make_user(tenant, "viewer")
    _login(client, tenant, viewer)
    r = client.get("/api/v1/queues")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "admin.operations" in r.json()["error"]["message"]
    assert client.put("/api/v1/config/feature.grid.enabled", json={"value": True}).status_code == 403


def test_api_key_shown_once_authenticates_and_can_be_revoked(client):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    _login(client, tenant, admin)
    r = client.post("/api/v1/api-keys", json={"name": "Label printer", "role": "legacy-admin"})
    assert r.status_code == 201, r.text
    secret, key_id = r.json()["key"], r.json()["id"]
    assert secret.startswith("sfk_")
    listed = client.get("/api/v1/api-keys").json()
    assert "key" not in listed[0] and listed[0]["prefix"].startswith("sfk_")
    machine = TestClient(client.app)
    me = machine.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["roles"] == ["legacy-admin"]
    assert machine.get("/api/v1/users", headers={"X-API-Key": secret}).status_code == 403
    assert client.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    r = machine.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid or revoked API key"
    # a key made without naming a role gets the least privileged one
    plain = client.post("/api/v1/api-keys", json={"name": "Dashboard screen"}).json()["key"]
    me = machine.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.json()["roles"] == ["viewer"]
    assert _audit(tenant, "api_key.created") and _audit(tenant, "api_key.revoked")


def test_role_change_is_audited_and_takes_effect_at_once(client):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    viewer = make_user(tenant, "viewer")
    viewer_client = TestClient(client.app)
    _login(viewer_client, tenant, viewer)
    assert viewer_client.get("/api/v1/queues").status_code == 403

    _login(client, tenant, admin)
    r = client.put(f"/api/v1/users/{viewer.id}/roles", json={"roles": ["admin"]})
    assert r.status_code == 200 and r.json()["roles"] == ["admin"]
    assert viewer_client.get("/api/v1/queues").status_code == 200  # same session, new rights
    entry = _audit(tenant, "user.roles.changed")[-1]
    assert entry.meta == {"before": ["viewer"], "after": ["admin"]} and entry.actor_user_id == admin.id

    r = client.put(f"/api/v1/users/{viewer.id}/roles", json={"roles": ["wizard"]})
    assert r.status_code == 422 and "unknown role" in r.json()["error"]["message"]
    r = client.put(f"/api/v1/users/{admin.id}/roles", json={"roles": ["viewer"]})
    assert r.status_code == 403  # no locking yourself out


def test_short_password_and_duplicate_username_are_refused(client):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    _login(client, tenant, admin)
    r = client.post("/api/v1/users", json={"username": "newbie", "password": "short", "roles": ["viewer"]})
    assert r.status_code == 422
    r = client.post("/api/v1/users", json={"username": "newbie", "password": "long-enough-pw", "roles": ["viewer"]})
    assert r.status_code == 201
    r = client.post("/api/v1/users", json={"username": "NewBie", "password": "long-enough-pw", "roles": ["viewer"]})
    assert r.status_code == 409 and "taken" in r.json()["error"]["message"]


def test_unknown_shop_is_refused():
    with pytest.raises(Unauthorized):
        auth.login("x", "y" * 10, shop="no-such-shop")


def test_cookie_requests_from_a_foreign_origin_are_refused(client):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    _login(client, tenant, admin)
    r = client.post("/api/v1/api-keys", json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "not Shopfloor" in r.json()["error"]["message"]
    ok = client.post("/api/v1/api-keys", json={"name": "x"}, headers={"Origin": get_settings().app_url})
    assert ok.status_code == 201


def test_logout_from_a_foreign_origin_is_refused(client):
    tenant = make_tenant()
    user = make_user(tenant)
    _login(client, tenant, user)
    r = client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "not Shopfloor" in r.json()["error"]["message"]
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
    assert client.post("/api/v1/auth/logout", headers={"Origin": get_settings().app_url}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401
