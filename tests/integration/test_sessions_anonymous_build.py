"""The anonymous build cookie is bound to the browser that made the build: a
validly signed cookie naming someone else's server-side build opens nothing."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from app.api import create_api
from app.builder import cookie as build_cookie
from app.builder.models import SavedBuild
from app.customers import service as customers
from app.platform.db import tenant_session
from tests.factories import default_tenant

SHOP = "/api/v1/shop"
PASSWORD = "a-customer-password"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture(scope="module")
def shop():
    default_tenant()
    return customers.storefront_tenant()


def _slots() -> dict:
    return {"cpu": [str(uuid.uuid4())], "ram": [str(uuid.uuid4())]}


def _signup(browser: TestClient):
    email = f"eve-{uuid.uuid4().hex[:10]}@example.com"
    return browser.post(f"{SHOP}/customers/signup", json={"email": email, "name": "Eve", "password": PASSWORD})


def test_a_signed_cookie_with_only_the_build_id_opens_nothing(api, shop):
    owner = TestClient(api)
    slots = _slots()
    owner.put(f"{SHOP}/cookie-build", json={"slots": slots})
    saved_id = owner.post(f"{SHOP}/cookie-build/share").json()["savedBuildId"]  # now kept server-side
    held = owner.get(f"{SHOP}/cookie-build").json()
    assert held["slots"] == slots and held["savedBuildId"] == saved_id

    # Someone who knows the signing key (and the build's id) signs cookies of their own.
    sign = build_cookie._serializer().dumps
    for forged in (
        sign({"id": saved_id}),
        sign({"id": saved_id, "t": "a-guessed-token"}),
        sign({"id": saved_id, "t": 7}),
    ):
        thief = TestClient(api, cookies={build_cookie.COOKIE_NAME: forged})
        seen = thief.get(f"{SHOP}/cookie-build").json()
        assert seen["slots"] == {} and seen["savedBuildId"] is None
        r = _signup(thief)
        assert r.status_code == 201 and r.json()["claimedBuild"] is None
    with tenant_session(shop.id) as s:
        build = s.get(SavedBuild, uuid.UUID(saved_id))
        assert build is not None and build.customer_id is None  # nobody took it
        assert build.anon_token_hash and len(build.anon_token_hash) == 64  # only a hash is stored

    # The browser that made it still has it, and takes it into its account.
    assert owner.get(f"{SHOP}/cookie-build").json()["savedBuildId"] == saved_id
    r = _signup(owner)
    assert r.json()["claimedBuild"]["id"] == saved_id


def test_a_large_build_kept_server_side_is_bound_too(shop):
    with tenant_session(shop.id) as s:
        value = build_cookie.encode_anonymous(s, _slots(), max_bytes=10)
        slots, saved_id = build_cookie.decode_anonymous(s, value)
        assert slots and saved_id is not None
        assert build_cookie.decode_anonymous(s, build_cookie._serializer().dumps({"id": str(saved_id)})) == ({}, None)
        s.commit()
