"""Sign-in throttling: parallel guesses get at most the limit checked, waits grow,
a stranger cannot keep the owner out, and the owner is told about the guessing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.api import create_api
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import TooManyRequests, Unauthorized
from app.platform.models import AuditLog
from app.settings import get_settings
from tests.factories import PASSWORD, make_tenant, make_user

STRANGER = "203.0.113.9"
OWNER_HOME = "198.51.100.7"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def checks(monkeypatch):
    """How many passwords were actually checked (argon2 verifications)."""
    count = {"n": 0}
    real = auth._verify

    def counting(password_hash: str, password: str) -> bool:
        count["n"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(auth, "_verify", counting)
    return count


def _try(tenant, username: str, password: str, ip: str) -> str:
    try:
        auth.login(username, password, shop=tenant.slug, ip=ip)
    except TooManyRequests:
        return "throttled"
    except Unauthorized:
        return "wrong"
    return "ok"


def _burst(tenant, username: str, n: int, ip: str) -> list[str]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda i: _try(tenant, username, f"guess-number-{i}", ip), range(n)))


def _audit(tenant, username: str, action: str) -> list[AuditLog]:
    with tenant_session(tenant.id) as s:
        return list(
            s.exec(
                select(AuditLog)
                .where(AuditLog.action == action, AuditLog.target_id == username)
                .order_by(col(AuditLog.created_at))
            )
        )


@pytest.mark.parametrize("parallel", [30, 60])
def test_parallel_wrong_passwords_check_at_most_the_limit(checks, parallel):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    limit = get_settings().login_max_failures
    outcomes = _burst(tenant, admin.username, parallel, STRANGER)
    assert checks["n"] <= limit  # the counter no longer races: no extra guess is checked
    assert outcomes.count("wrong") == checks["n"] and outcomes.count("throttled") == parallel - checks["n"]
    assert len(_audit(tenant, admin.username, "auth.login.failed")) == checks["n"]
    assert _audit(tenant, admin.username, "auth.login.throttled")


def test_waits_grow_and_are_answered_with_retry_after(api):
    tenant = make_tenant()
    user = make_user(tenant)
    stranger = TestClient(api, client=(STRANGER, 40000))
    body = {"username": user.username, "password": "not-the-password", "shop": tenant.slug}
    for _ in range(get_settings().login_max_failures):
        assert stranger.post("/api/v1/auth/login", json=body).status_code == 401
    r = stranger.post("/api/v1/auth/login", json=body)
    assert r.status_code == 429
    first = int(r.headers["retry-after"])
    assert 1 <= first <= 2
    assert r.json()["error"]["message"] == f"too many failed sign-ins; try again in {first} second{'s' * (first > 1)}"
    time.sleep(first + 0.2)
    assert stranger.post("/api/v1/auth/login", json=body).status_code == 401  # one more guess is checked…
    r = stranger.post("/api/v1/auth/login", json=body)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > first  # …and the next wait is longer


def test_a_stranger_cannot_keep_the_owner_out(checks):
    tenant = make_tenant()
    admin = make_user(tenant, "admin", username=f"admin-{tenant.slug}")
    auth.login(admin.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)  # the owner's usual address
    # One stranger hammers the account, others guess a few times each from many addresses.
    _burst(tenant, admin.username, 60, STRANGER)
    for i in range(30):
        _try(tenant, admin.username, "still-guessing", f"192.0.2.{i + 1}")
    assert checks["n"] <= get_settings().login_max_failures * (1 + 4)  # the whole account's limit holds too
    # The owner, from their usual address, gets in at once with the right password.
    result = auth.login(admin.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)
    assert result.principal.username == admin.username
    # A wrong password from the owner's address is still counted like any other.
    assert _try(tenant, admin.username, "typo-password", OWNER_HOME) == "wrong"


def test_the_owner_is_told_about_the_guessing():
    tenant = make_tenant()
    user = make_user(tenant)
    auth.login(user.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)
    outcomes = _burst(tenant, user.username, 12, STRANGER)
    guessed = len(outcomes)
    result = auth.login(user.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)
    assert result.notice is not None
    assert result.notice.count == guessed and result.notice.last_ip == STRANGER
    text = auth.take_sign_in_notice(result.principal)
    assert text is not None
    assert text.startswith(f"{guessed} failed sign-in attempts since your last visit, the last from {STRANGER}")
    assert auth.take_sign_in_notice(result.principal) is None  # shown once
    entry = _audit(tenant, user.username, "auth.login.success")[-1]
    assert entry.meta == {"failedAttempts": guessed, "lastFailedFrom": STRANGER}
    # The next sign-in without guessing in between has nothing to tell.
    again = auth.login(user.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)
    assert again.notice is None and auth.take_sign_in_notice(again.principal) is None


def test_successful_sign_ins_do_not_add_up_to_a_wait():
    tenant = make_tenant()
    user = make_user(tenant)
    for _ in range(get_settings().login_max_failures * 3):
        auth.login(user.username, PASSWORD, shop=tenant.slug, ip=OWNER_HOME)
