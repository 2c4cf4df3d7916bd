"""Storefront customers and saved builds (seed 002: SavedAnon → SavedAccount →
Shared; ADR-0003 claim at sign-in), and ordering a build.

The storefront serves the default tenant, which other tests use too: every
test here signs up with its own email address. Service-level tests that need
isolation (tenancy, exact order numbers and prices) use their own tenant.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select

from app.api import create_api
from app.builder import cookie as build_cookie
from app.builder import service as builder
from app.builder.models import SavedBuild
from app.customers import service as customers
from app.customers.models import Customer, CustomerSession
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import auth, config
from app.platform.db import platform_session, tenant_session
from app.platform.errors import Conflict, Gone, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat
from app.platform.models import AuditLog
from app.settings import get_settings
from state.account import expected_total, order_offer
from state.builder import OrderAddress, OrderTotals
from tests.factories import PASSWORD, default_tenant, make_tenant, make_user

SHOP = "/api/v1/shop"
CUSTOMER_PASSWORD = "a-long-customer-password"

# Real BuildCores OpenDB parts that fit together, and a GPU too long for the case.
CPU = "60a8ba0d-d6a5-4e84-89df-a5ca2a8915c9"  # AMD Ryzen 7 7700X (AM5, 105 W)
BOARD = "e8a66e2e-c53b-49d3-a31c-49a9ee8fe389"  # MSI MAG B650 TOMAHAWK WIFI (AM5, ATX, DDR5, 4 slots)
RAM = "01aa1aa3-c1c7-4d4f-9872-ce0c94739ca8"  # Corsair Vengeance DDR5-6200 32GB (2x16GB)
GPU = "0d8afe46-5bd1-49ce-b335-5a70921c9cd2"  # RTX 4060 Ti Founders Edition (244 mm)
LONG_GPU = "14277324-f4d4-4a71-b034-91df4ffd643e"  # Asus ROG STRIX RTX 4090 (358 mm)
DRIVE = "18e3b4f5-7f63-4cf9-a266-141344d2cd82"  # Samsung 990 Pro 2TB (M.2 NVMe)
PSU = "1904d6f1-b154-4eb3-bae7-79b50ca97770"  # Corsair RM850x (ATX, 850 W)
CASE = "396af85d-f126-4894-92a5-4cb49946d05e"  # Gigabyte C200 (ATX, GPU ≤ 330 mm, cooler ≤ 165 mm)
COOLER = "0f209c92-bf00-4a8d-a345-2c76731aea28"  # Noctua NH-U12S redux (158 mm, AM5)
PARTS = {
    CPU: "cpu",
    BOARD: "motherboard",
    RAM: "ram",
    GPU: "gpu",
    LONG_GPU: "gpu",
    DRIVE: "storage",
    PSU: "psu",
    CASE: "case",
    COOLER: "cooler",
}
PRICES = {
    CPU: "329.00",
    BOARD: "219.90",
    RAM: "109.95",
    GPU: "399.00",
    LONG_GPU: "1999.00",
    DRIVE: "169.99",
    PSU: "139.90",
    CASE: "69.95",
    COOLER: "49.90",
}
GOOD_BUILD = {
    "cpu": [CPU],
    "motherboard": [BOARD],
    "ram": [RAM, RAM],
    "gpu": [GPU],
    "storage": [DRIVE],
    "psu": [PSU],
    "case": [CASE],
    "cooler": [COOLER],
}
ADDRESS = {
    "name": "Ada Lovelace",
    "street": "Damrak",
    "house_number": "1",
    "postal_code": "1012 LG",
    "city": "Amsterdam",
    "country_code": "nl",
}


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture(scope="module")
def shop():
    default_tenant()  # make sure the test database has a default shop
    return customers.storefront_tenant()


@pytest.fixture
def client(api, shop):
    return TestClient(api)


def new_email(prefix: str = "ada") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@Example.com"


def signup(client, email=None, name="Ada Lovelace", password=CUSTOMER_PASSWORD):
    return client.post(
        f"{SHOP}/customers/signup", json={"email": email or new_email(), "name": name, "password": password}
    )


def signed_up_client(api) -> tuple[TestClient, str]:
    c = TestClient(api)
    email = new_email()
    r = signup(c, email)
    assert r.status_code == 201, r.text
    return c, email.lower()


def make_customer(tenant, email=None) -> customers.CustomerPrincipal:
    with tenant_session(tenant.id) as s:
        customer = customers.sign_up(s, email=email or new_email(), name="Grace Hopper", password=CUSTOMER_PASSWORD)
        principal = customers.open_session(s, customer).principal
        s.commit()
    return principal


def rand_slots(**extra) -> dict:
    """A slot map of made-up ids: saving and claiming do not look parts up."""
    return {"cpu": [str(uuid.uuid4())], "ram": [str(uuid.uuid4())], **extra}


def _records(ids: set[str]) -> list[tuple[str, dict]]:
    from app.catalog import normalize

    path = get_settings().catalog_data_path
    out = []
    for slot in set(PARTS.values()):
        for raw in normalize.iter_records(path, slot):
            if raw.get("opendb_id") in ids:
                out.append((slot, raw))
    return out


@pytest.fixture(scope="module")
def catalog_parts():
    """The parts above in the global catalog: the catalog import when it can
    run, else just these records, normalised like the import does."""
    pytest.importorskip("app.catalog.normalize")
    from app.catalog.models import CatalogPart

    def missing() -> set[str]:
        with platform_session() as s:
            have = {str(i) for i in s.exec(select(CatalogPart.id).where(CatalogPart.id.in_(list(PARTS))))}
        return set(PARTS) - have

    if missing():
        try:
            from app.catalog.importer import import_catalog

            import_catalog(started_by="tests")
        except ImportError:
            pass
    todo = missing()
    if todo:
        from app.catalog import normalize, versions

        with platform_session() as s:
            for slot, raw in _records(todo):
                name, manufacturer, specs = normalize.normalize(slot, raw)
                s.execute(
                    insert(CatalogPart)
                    .values(
                        id=uuid.UUID(raw["opendb_id"]),
                        slot=slot,
                        name=name,
                        manufacturer=manufacturer,
                        specs=specs,
                        raw=raw,
                        source_hash=uuid.uuid4().hex,
                    )
                    .on_conflict_do_nothing(index_elements=["id"])
                )
            s.commit()
        versions.bump_catalog_version()
    assert not missing()
    return PARTS


def set_offers(tenant, prices: dict[str, str] | None = None, *, inactive: tuple[str, ...] = ()) -> None:
    """This shop sells the parts above at these prices (upserted, then the offers cache is told)."""
    from app.catalog.models import PartOffer
    from app.catalog.versions import bump_offers_version

    with tenant_session(tenant.id) as s:
        for part_id, price in (prices or PRICES).items():
            stmt = insert(PartOffer).values(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                part_id=uuid.UUID(part_id),
                slot=PARTS[part_id],
                price=Decimal(price),
                currency="EUR",
                stock=5,
                active=part_id not in inactive,
                is_demo=False,
            )
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "part_id"],
                    set_={"price": stmt.excluded.price, "active": stmt.excluded.active, "stock": stmt.excluded.stock},
                )
            )
        s.commit()
    bump_offers_version(tenant.id)


@pytest.fixture
def selling_shop(catalog_parts):
    """A tenant of its own that sells every part above."""
    pytest.importorskip("app.builder.evaluation")
    tenant = make_tenant()
    set_offers(tenant)
    return tenant


def cookie_deleted(response, name: str) -> bool:
    return any(h.startswith(f"{name}=") and "Max-Age=0" in h for h in response.headers.get_list("set-cookie"))


# --- sign-up, sign-in, sign-out ---------------------------------------------------------------


def test_signup_signs_in_with_an_httponly_cookie(client):
    email = new_email()
    r = signup(client, email, name="  Ada Lovelace ")
    assert r.status_code == 201, r.text
    assert r.json()["customer"]["email"] == email.lower() and r.json()["customer"]["name"] == "Ada Lovelace"
    assert r.json()["claimedBuild"] is None
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(f"{customers.CUSTOMER_COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=2592000" in cookie
    me = client.get(f"{SHOP}/customers/me")
    assert me.status_code == 200 and me.json()["email"] == email.lower()
    tenant_id, token = client.cookies[customers.CUSTOMER_COOKIE].split(".", 1)
    with tenant_session(tenant_id) as s:  # only the token's hash is stored
        row = s.exec(select(CustomerSession).join(Customer).where(Customer.email == email.lower())).one()
        assert row.token_hash != token and len(row.token_hash) == 64
        assert 29 <= (row.expires_at - row.created_at).days <= 30
        assert auth.verify_password(
            s.exec(select(Customer.password_hash).where(Customer.email == email.lower())).one(), CUSTOMER_PASSWORD
        )


def test_login_logout_and_wrong_password(api, client):
    c, email = signed_up_client(api)
    assert c.post(f"{SHOP}/customers/logout").status_code == 204
    assert c.get(f"{SHOP}/customers/me").status_code == 401
    assert c.post(f"{SHOP}/customers/logout").status_code == 204  # signing out twice is fine

    r = client.post(f"{SHOP}/customers/login", json={"email": email, "password": "not-the-password"})
    assert r.status_code == 401
    assert r.json() == {"error": {"code": "unauthorized", "message": "wrong email address or password"}}
    assert customers.CUSTOMER_COOKIE not in client.cookies
    r = client.post(f"{SHOP}/customers/login", json={"email": "nobody-" + email, "password": CUSTOMER_PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["message"] == "wrong email address or password"
    r = client.post(f"{SHOP}/customers/login", json={"email": email.upper(), "password": CUSTOMER_PASSWORD})
    assert r.status_code == 200, r.text
    assert client.get(f"{SHOP}/customers/me").json()["email"] == email


def test_logout_ends_the_session_on_the_server(api):
    c, _ = signed_up_client(api)
    value = c.cookies[customers.CUSTOMER_COOKIE]
    assert customers.authenticate_customer(value) is not None
    c.post(f"{SHOP}/customers/logout")
    assert customers.authenticate_customer(value) is None


def test_duplicate_email_short_password_and_bad_email_are_refused(api, client):
    _, email = signed_up_client(api)
    r = signup(client, email.upper())
    assert r.status_code == 409 and "already exists" in r.json()["error"]["message"]
    r = signup(client, password="short")
    assert r.status_code == 422 and "password" in r.json()["error"]["message"]
    r = signup(client, email="not-an-email")
    assert r.status_code == 422 and "email" in r.json()["error"]["message"]
    tenant = make_tenant()
    with tenant_session(tenant.id) as s, pytest.raises(ValidationFailed, match="10 characters"):
        customers.sign_up(s, email=new_email(), name="X", password="123456789")


def test_failed_sign_ins_are_throttled_per_email(api, client, shop):
    _, email = signed_up_client(api)
    _, other = signed_up_client(api)
    for _ in range(get_settings().login_max_failures):
        r = client.post(f"{SHOP}/customers/login", json={"email": email, "password": "wrong-password-1"})
        assert r.status_code == 401
    r = client.post(f"{SHOP}/customers/login", json={"email": email, "password": CUSTOMER_PASSWORD})
    assert r.status_code == 429 and "too many failed sign-ins" in r.json()["error"]["message"]
    assert int(r.headers["retry-after"]) > 0
    assert (
        client.post(f"{SHOP}/customers/login", json={"email": other, "password": CUSTOMER_PASSWORD}).status_code == 200
    )
    with tenant_session(shop.id) as s:
        actions = {a.action for a in s.exec(select(AuditLog).where(AuditLog.target_id == email))}
    assert {"customer.login.failed", "customer.login.throttled", "customer.login.success"} <= actions


def test_foreign_origin_is_refused(client):
    r = client.post(
        f"{SHOP}/customers/signup",
        headers={"Origin": "https://evil.example"},
        json={"email": new_email(), "name": "Eve", "password": CUSTOMER_PASSWORD},
    )
    assert r.status_code == 403 and "not Shopfloor" in r.json()["error"]["message"]
    r = signup(client)
    assert r.status_code == 201
    r = client.post(f"{SHOP}/builds", json={"slots": rand_slots()}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    ok = client.post(f"{SHOP}/builds", json={"slots": rand_slots()}, headers={"Origin": get_settings().app_url})
    assert ok.status_code == 201


def test_staff_and_customer_cookies_do_not_cross(api, shop):
    staff_user = make_user(shop, "admin")
    staff = TestClient(api)
    assert (
        staff.post(
            "/api/v1/auth/login", json={"username": staff_user.username, "password": PASSWORD, "shop": shop.slug}
        ).status_code
        == 200
    )
    staff_cookie = staff.cookies[get_settings().session_cookie_name]
    assert staff.get(f"{SHOP}/customers/me").status_code == 401
    assert customers.authenticate_customer(staff_cookie) is None
    posing = TestClient(api, cookies={customers.CUSTOMER_COOKIE: staff_cookie})
    assert posing.get(f"{SHOP}/customers/me").status_code == 401
    assert posing.get(f"{SHOP}/builds").status_code == 401

    customer, _ = signed_up_client(api)
    customer_cookie = customer.cookies[customers.CUSTOMER_COOKIE]
    assert auth.authenticate_session(customer_cookie) is None
    assert customer.get("/api/v1/auth/me").status_code == 401
    assert customer.get("/api/v1/orders").status_code == 401
    posing = TestClient(api, cookies={get_settings().session_cookie_name: customer_cookie})
    assert posing.get("/api/v1/auth/me").status_code == 401 and posing.get("/api/v1/orders").status_code == 401


def test_forged_customer_cookies_are_refused(shop):
    for value in (None, "", "garbage", f"{shop.id}.not-a-token", f"{uuid.uuid4()}.x", "nope.x"):
        assert customers.authenticate_customer(value) is None


def test_expired_customer_session_is_refused_and_removed():
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        customer = customers.sign_up(s, email=new_email(), name="A", password=CUSTOMER_PASSWORD)
        result = customers.open_session(s, customer)
        s.commit()
    assert customers.authenticate_customer(result.cookie_value) == result.principal
    with tenant_session(tenant.id) as s:
        row = s.get(CustomerSession, result.principal.session_id)
        row.expires_at = row.created_at - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert customers.authenticate_customer(result.cookie_value) is None
    with tenant_session(tenant.id) as s:
        assert s.get(CustomerSession, result.principal.session_id) is None


def test_storefront_shop_setting_picks_the_tenant(api, monkeypatch):
    other = make_tenant("Other Storefront")
    monkeypatch.setattr(get_settings(), "storefront_shop", other.slug)
    assert customers.storefront_tenant().id == other.id
    c = TestClient(api)
    assert signup(c).status_code == 201
    with tenant_session(other.id) as s:
        assert len(s.exec(select(Customer)).all()) == 1
    monkeypatch.setattr(get_settings(), "storefront_shop", None)
    assert c.get(f"{SHOP}/customers/me").status_code == 401  # a cookie of another shop is not this storefront's


def test_customer_cookie_of_tenant_a_does_not_open_tenant_b():
    a, b = make_tenant(), make_tenant()
    with tenant_session(a.id) as s:
        customer = customers.sign_up(s, email=new_email(), name="A", password=CUSTOMER_PASSWORD)
        result = customers.open_session(s, customer)
        s.commit()
    assert customers.authenticate_customer(result.cookie_value) is not None
    token = result.cookie_value.split(".", 1)[1]
    assert customers.authenticate_customer(f"{b.id}.{token}") is None


# --- the anonymous cookie and claiming it -------------------------------------------------------


def test_login_response_claims_the_cookie_build_and_clears_the_cookie(api):
    _, email = signed_up_client(api)
    browser = TestClient(api)
    slots = rand_slots(storage=[str(uuid.uuid4()), str(uuid.uuid4())])
    r = browser.put(f"{SHOP}/cookie-build", json={"slots": slots})
    assert r.status_code == 200 and r.json()["slots"] == slots and r.json()["savedBuildId"] is None
    assert browser.get(f"{SHOP}/cookie-build").json()["slots"] == slots

    r = browser.post(f"{SHOP}/customers/login", json={"email": email, "password": CUSTOMER_PASSWORD})
    assert r.status_code == 200, r.text
    claimed = r.json()["claimedBuild"]
    assert claimed["slots"] == slots and claimed["claimedAt"] and claimed["name"] == "My build"
    assert cookie_deleted(r, build_cookie.COOKIE_NAME)
    assert build_cookie.COOKIE_NAME not in browser.cookies
    builds = browser.get(f"{SHOP}/builds").json()
    assert [b["id"] for b in builds] == [claimed["id"]]
    assert builds[0]["builderUrl"].startswith("/build?cpu=")


def test_signup_response_claims_too(api):
    browser = TestClient(api)
    slots = rand_slots()
    browser.put(f"{SHOP}/cookie-build", json={"slots": slots})
    r = signup(browser)
    assert r.status_code == 201 and r.json()["claimedBuild"]["slots"] == slots
    assert cookie_deleted(r, build_cookie.COOKIE_NAME)
    assert len(browser.get(f"{SHOP}/builds").json()) == 1


def test_tampered_cookie_is_ignored(api, shop):
    with tenant_session(shop.id) as s:
        value = build_cookie.encode_anonymous(s, rand_slots())
        assert build_cookie.decode_anonymous(s, value)[0]
        head, sig = value.rsplit(".", 1)
        forged = build_cookie._serializer().dumps({"s": rand_slots()})[:-4] + "AAAA"
        for bad in (
            head + "." + sig[::-1],
            head[:-2] + "." + sig,
            "garbage",
            "",
            None,
            "a.b.c",
            forged,
            "x" * 9000,
            URLSafeTimedSerializer("another-secret", salt=build_cookie._SALT).dumps({"s": rand_slots()}),
        ):
            assert build_cookie.decode_anonymous(s, bad) == ({}, None)
    browser = TestClient(api, cookies={build_cookie.COOKIE_NAME: head + "." + sig[::-1]})
    assert browser.get(f"{SHOP}/cookie-build").json()["slots"] == {}
    r = signup(browser)
    assert r.status_code == 201 and r.json()["claimedBuild"] is None
    assert cookie_deleted(r, build_cookie.COOKIE_NAME)
    assert browser.get(f"{SHOP}/builds").json() == []


def test_expired_cookie_is_ignored(shop, monkeypatch):
    with tenant_session(shop.id) as s:
        value = build_cookie.encode_anonymous(s, rand_slots())
        monkeypatch.setattr(build_cookie, "MAX_AGE_SECONDS", -1)
        assert build_cookie.decode_anonymous(s, value) == ({}, None)


def test_large_cookie_holds_a_server_side_id(api, shop, monkeypatch):
    slots = rand_slots(storage=[str(uuid.uuid4()) for _ in range(4)])
    with tenant_session(shop.id) as s:
        small = build_cookie.encode_anonymous(s, slots)
        assert build_cookie.decode_anonymous(s, small) == (slots, None)
        big = build_cookie.encode_anonymous(s, slots, max_bytes=64)
        s.commit()
        decoded, saved_id = build_cookie.decode_anonymous(s, big)
        assert decoded == slots and saved_id is not None and len(big) < 200
        row = s.get(SavedBuild, saved_id)
        assert row.customer_id is None and row.slots == slots
        # saving the same parts again keeps pointing at the same server-side build
        assert build_cookie.encode_anonymous(s, slots, previous=big, max_bytes=64) == big

    monkeypatch.setattr(build_cookie, "MAX_COOKIE_BYTES", 64)
    browser = TestClient(api)
    r = browser.put(f"{SHOP}/cookie-build", json={"slots": slots})
    saved_id = r.json()["savedBuildId"]
    assert saved_id and r.json()["slots"] == slots
    r = signup(browser)
    assert r.json()["claimedBuild"]["id"] == saved_id  # the same row moves into the account


def test_claim_is_idempotent_and_never_steals():
    tenant = make_tenant()
    ada, grace = make_customer(tenant), make_customer(tenant)
    slots = rand_slots()
    with tenant_session(tenant.id) as s:
        inline = build_cookie.encode_anonymous(s, slots)
        first = builder.claim_anonymous(s, ada, inline)
        again = builder.claim_anonymous(s, ada, inline)
        assert first is not None and again.id == first.id and first.claimed_at is not None
        assert len(builder.list_builds(s, ada)) == 1

        server = build_cookie.encode_anonymous(s, rand_slots(), max_bytes=10)
        claimed = builder.claim_anonymous(s, ada, server)
        assert builder.claim_anonymous(s, ada, server).id == claimed.id
        assert builder.claim_anonymous(s, grace, server) is None  # Ada's now
        assert builder.claim_anonymous(s, grace, "garbage") is None
        assert builder.claim_anonymous(s, grace, build_cookie.encode_anonymous(s, {})) is None
        assert [b.name for b in builder.list_builds(s, ada)] == ["My build 2", "My build"]
        assert builder.list_builds(s, grace) == []
        s.commit()


# --- an account's builds -------------------------------------------------------------------------


def test_save_rename_duplicate_delete(api):
    c, _ = signed_up_client(api)
    slots = rand_slots()
    r = c.post(f"{SHOP}/builds", json={"name": "Gaming rig", "slots": {**slots, "bogus": ["x"], "gpu": "nope"}})
    assert r.status_code == 201 and r.json()["slots"] == slots and r.json()["state"] == "Partial"
    bid = r.json()["id"]
    r = c.patch(f"{SHOP}/builds/{bid}", json={"name": "  Quiet   rig "})
    assert r.status_code == 200 and r.json()["name"] == "Quiet rig"
    assert c.patch(f"{SHOP}/builds/{bid}", json={"name": " "}).status_code == 422
    new_slots = rand_slots()
    assert c.patch(f"{SHOP}/builds/{bid}", json={"slots": new_slots}).json()["slots"] == new_slots
    r = c.post(f"{SHOP}/builds/{bid}/duplicate")
    assert r.status_code == 201 and r.json()["name"] == "Quiet rig (copy)" and r.json()["slots"] == new_slots
    copy_id = r.json()["id"]
    assert {b["id"] for b in c.get(f"{SHOP}/builds").json()} == {bid, copy_id}
    assert c.delete(f"{SHOP}/builds/{bid}").status_code == 204
    assert c.delete(f"{SHOP}/builds/{bid}").status_code == 204  # deleting twice changes nothing
    assert [b["id"] for b in c.get(f"{SHOP}/builds").json()] == [copy_id]
    assert c.patch(f"{SHOP}/builds/{bid}", json={"name": "back"}).status_code == 404
    assert c.post(f"{SHOP}/builds/{bid}/share").status_code == 404
    assert c.get(f"{SHOP}/builds/not-a-uuid").status_code == 404


def test_share_is_stable_and_deleting_makes_the_link_gone(api, shop):
    c, _ = signed_up_client(api)
    bid = c.post(f"{SHOP}/builds", json={"slots": rand_slots()}).json()["id"]
    r = c.post(f"{SHOP}/builds/{bid}/share")
    assert r.status_code == 200
    slug = r.json()["slug"]
    assert r.json()["url"] == f"/b/{slug}" and len(slug) >= 12
    assert c.post(f"{SHOP}/builds/{bid}/share").json()["slug"] == slug
    assert c.get(f"{SHOP}/builds").json()[0]["shareUrl"] == f"/b/{slug}"
    with tenant_session(shop.id) as s:
        assert str(builder.get_shared(s, slug).id) == bid
    copy = c.post(f"{SHOP}/builds/{bid}/duplicate").json()
    assert copy["shareSlug"] is None

    c.delete(f"{SHOP}/builds/{bid}")
    anyone = TestClient(api)
    r = anyone.get(f"{SHOP}/shared/{slug}")
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "gone" and "deleted by its owner" in r.json()["error"]["message"]
    assert anyone.get(f"{SHOP}/shared/no-such-slug").status_code == 404
    with tenant_session(shop.id) as s, pytest.raises(Gone):
        builder.get_shared(s, slug)


def test_anonymous_share_keeps_the_build_server_side_for_the_cookie(api, shop):
    browser = TestClient(api)
    slots = rand_slots()
    browser.put(f"{SHOP}/cookie-build", json={"slots": slots})
    r = browser.post(f"{SHOP}/cookie-build/share")
    assert r.status_code == 200
    slug, saved_id = r.json()["slug"], r.json()["savedBuildId"]
    held = browser.get(f"{SHOP}/cookie-build").json()
    assert held["slots"] == slots and held["savedBuildId"] == saved_id
    assert browser.post(f"{SHOP}/cookie-build/share").json()["slug"] == slug  # same slug again
    with tenant_session(shop.id) as s:
        result = builder.share_slots(s, slots, None, cookie_value=browser.cookies[build_cookie.COOKIE_NAME])
        assert result.slug == slug
        assert builder.share(s, rand_slots(), None) != slug
        s.commit()
    r = signup(browser)  # the shared anonymous build moves into the account, link and all
    assert r.json()["claimedBuild"]["id"] == saved_id and r.json()["claimedBuild"]["shareSlug"] == slug
    with tenant_session(shop.id) as s:
        assert builder.get_shared(s, slug).customer_id is not None
    assert browser.post(f"{SHOP}/cookie-build/share", json={"slots": {}}).status_code == 422


def test_signed_in_share_from_the_builder_reuses_the_account_build():
    tenant = make_tenant()
    ada = make_customer(tenant)
    slots = rand_slots()
    with tenant_session(tenant.id) as s:
        saved = builder.save_build(s, ada, slots, "Mine")
        first = builder.share_slots(s, slots, ada)
        assert first.build.id == saved.id and first.cookie_value is None
        assert builder.share_slots(s, slots, ada).slug == first.slug
        assert builder.share(s, ada, saved.id) == first.slug
        assert builder.share(s, saved, ada) == first.slug  # either argument order
        s.commit()


def test_other_customers_builds_are_not_found(api):
    owner, _ = signed_up_client(api)
    other, _ = signed_up_client(api)
    bid = owner.post(f"{SHOP}/builds", json={"slots": rand_slots()}).json()["id"]
    assert other.get(f"{SHOP}/builds/{bid}").status_code == 404
    assert other.patch(f"{SHOP}/builds/{bid}", json={"name": "mine now"}).status_code == 404
    assert other.delete(f"{SHOP}/builds/{bid}").status_code == 404
    assert other.post(f"{SHOP}/builds/{bid}/duplicate").status_code == 404
    assert other.post(f"{SHOP}/builds/{bid}/share").status_code == 404
    assert other.post(f"{SHOP}/builds/{bid}/order", json={"address": {}}).status_code == 404
    assert other.get(f"{SHOP}/builds").json() == []
    assert TestClient(other.app).get(f"{SHOP}/builds").status_code == 401  # and nobody signed in: 401
    assert owner.get(f"{SHOP}/builds").json()[0]["id"] == bid


def test_saved_builds_are_isolated_between_tenants():
    a, b = make_tenant(), make_tenant()
    ada = make_customer(a)
    with tenant_session(a.id) as s:
        build = builder.save_build(s, ada, rand_slots(), "A's build")
        slug = builder.share(s, ada, build.id)
        anon = build_cookie.encode_anonymous(s, rand_slots(), max_bytes=10)
        s.commit()
    with tenant_session(b.id) as s:
        assert s.exec(select(SavedBuild)).all() == []  # RLS: tenant B sees no row of A
        assert s.get(SavedBuild, build.id) is None
        with pytest.raises(NotFound):
            builder.get_shared(s, slug)
        assert build_cookie.decode_anonymous(s, anon) == ({}, None)
        with pytest.raises(NotFound):
            builder.get_build(s, ada, build.id)
        assert builder.list_builds(s, ada) == []
        assert builder.claim_anonymous(s, ada, anon) is None
    with tenant_session(a.id) as s:
        assert builder.get_shared(s, slug).id == build.id


# --- ordering a build ----------------------------------------------------------------------------


def _expected_lines() -> dict[str, tuple[str, int, Decimal]]:
    return {
        f"PC-{slot.upper()}-{pid[:8]}": (slot, 2 if pid == RAM else 1, Decimal(PRICES[pid]))
        for slot, ids in GOOD_BUILD.items()
        for pid in ids
    }


def test_order_build_creates_a_builder_order_at_current_prices(selling_shop):
    ada = make_customer(selling_shop, email=new_email("buyer"))
    with tenant_session(selling_shop.id) as s:
        build = builder.save_build(s, ada, GOOD_BUILD, "Living room PC")
        order = builder.order_build(s, ada, build.id, ADDRESS, acknowledge_blocks=False)
        s.commit()
    with tenant_session(selling_shop.id) as s:
        order = s.get(Order, order.id)
        lines = list(s.exec(select(LineItem).where(LineItem.order_id == order.id).order_by(LineItem.position)))
        assert order.source == "builder" and order.number == "B-00001"
        assert order.customer_id == ada.customer_id and order.saved_build_id == build.id
        assert order.customer_name == "Grace Hopper" and order.customer_email == ada.email
        assert (
            order.ship_name,
            order.ship_street,
            order.ship_house_number,
            order.ship_postal_code,
            order.ship_city,
            order.ship_country_code,
        ) == ("Ada Lovelace", "Damrak", "1", "1012 LG", "Amsterdam", "NL")
        expected = _expected_lines()
        parts, assembly = lines[:-1], lines[-1]
        assert {li.sku: (li.properties["_slot"], li.quantity, li.unit_price) for li in parts} == expected
        assert [li.properties["_slot"] for li in parts] == list(GOOD_BUILD)  # slot order
        ram = next(li for li in parts if li.properties["_slot"] == "ram")
        assert ram.properties == {"_opendbId": RAM, "_slot": "ram"} and ram.quantity == 2
        assert ram.title.startswith("Corsair Vengeance")
        # the shop's default assembly fee is a line; shipping is the order's shipping
        assert (assembly.sku, assembly.title, assembly.unit_price) == (
            builder.ASSEMBLY_SKU,
            "Assembly and testing",
            builder.DEFAULT_ASSEMBLY_FEE,
        )
        parts_total = sum(q * p for _, q, p in expected.values())
        assert order.subtotal == parts_total + builder.DEFAULT_ASSEMBLY_FEE
        assert order.shipping_total == builder.DEFAULT_SHIPPING_COST
        assert order.total == order.subtotal + order.shipping_total and order.currency == "EUR"
        assert order.subtotal == sum(li.unit_price * li.quantity for li in lines)
        assert "Living room PC" in order.note and "no compatibility blocks" in order.note
        # staff see it on the orders page like any order
        rows, count = orders.list_orders(s, orders.OrderFilter(source="builder"))
        assert count == 1 and rows[0].id == order.id

    set_offers(selling_shop, {CPU: "349.00"})  # prices are today's: a new order picks the new one
    with tenant_session(selling_shop.id) as s:
        second = builder.order_build(s, ada, build.id, ADDRESS)
        cpu_line = next(li for li in orders.line_items(s, second.id) if li.properties["_slot"] == "cpu")
        assert second.number == "B-00002" and cpu_line.unit_price == Decimal("349.00")
        s.commit()


def test_order_refusals_and_block_acknowledgement(selling_shop):
    ada = make_customer(selling_shop)
    with tenant_session(selling_shop.id) as s:
        empty = builder.save_build(s, ada, {}, "Nothing yet")
        with pytest.raises(ValidationFailed, match="no parts"):
            builder.order_build(s, ada, empty.id, ADDRESS)

        blocked = builder.save_build(s, ada, {**GOOD_BUILD, "gpu": [LONG_GPU]}, "Too long")
        with pytest.raises(Conflict) as exc:
            builder.order_build(s, ada, blocked.id, ADDRESS)
        assert exc.value.code == "blocks_not_acknowledged" and exc.value.details["blocks"]
        assert "358" in exc.value.message and "330" in exc.value.message

        good = builder.save_build(s, ada, GOOD_BUILD)
        for bad, field in (
            ({**ADDRESS, "street": ""}, "street"),
            ({**ADDRESS, "country_code": "NLD"}, "country_code"),
            ({**ADDRESS, "country_code": "1x"}, "country_code"),
            ({}, "name"),
        ):
            with pytest.raises(ValidationFailed) as exc:
                builder.order_build(s, ada, good.id, bad)
            assert field in exc.value.details["fields"]
        assert s.exec(select(Order)).all() == []

        order = builder.order_build(
            s, ada, blocked.id, {**ADDRESS, "houseNumber": "2", "house_number": None}, acknowledge_blocks=True
        )
        assert order.source == "builder" and order.ship_house_number == "2"
        assert "acknowledged" in order.note and "358" in order.note
        gpu = next(li for li in orders.line_items(s, order.id) if li.properties["_slot"] == "gpu")
        assert gpu.unit_price == Decimal(PRICES[LONG_GPU])
        s.commit()

    set_offers(selling_shop, {COOLER: PRICES[COOLER]}, inactive=(COOLER,))
    with tenant_session(selling_shop.id) as s:
        with pytest.raises(Conflict) as exc:
            builder.order_build(s, ada, good.id, ADDRESS)
        assert exc.value.code == "parts_unavailable" and "Noctua NH-U12S" in exc.value.message


def test_order_a_build_through_the_api(api, shop, catalog_parts):
    pytest.importorskip("app.builder.evaluation")
    set_offers(shop)
    c, email = signed_up_client(api)
    bid = c.post(f"{SHOP}/builds", json={"name": "API build", "slots": {**GOOD_BUILD, "gpu": [LONG_GPU]}}).json()["id"]
    address = {
        "name": "Ada Lovelace",
        "street": "Damrak",
        "houseNumber": "1",
        "postalCode": "1012 LG",
        "city": "Amsterdam",
        "countryCode": "NL",
    }
    r = c.post(f"{SHOP}/builds/{bid}/order", json={"address": address})
    assert r.status_code == 409 and r.json()["error"]["code"] == "blocks_not_acknowledged"
    assert r.json()["error"]["details"]["blocks"]
    r = c.post(f"{SHOP}/builds/{bid}/order", json={"address": {**address, "city": ""}, "acknowledgeBlocks": True})
    assert r.status_code == 422 and "city" in r.json()["error"]["details"]["fields"]
    r = c.post(f"{SHOP}/builds/{bid}/order", json={"address": address, "acknowledgeBlocks": True})
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["number"].startswith("B-") and placed["source"] == "builder" and placed["savedBuildId"] == bid
    assert {li["sku"]: li["quantity"] for li in placed["lineItems"]}[f"PC-RAM-{RAM[:8]}"] == 2
    parts = sum(Decimal(PRICES[p]) for ids in {**GOOD_BUILD, "gpu": [LONG_GPU]}.values() for p in ids)
    with tenant_session(shop.id) as s:
        assembly, shipping = builder.shop_fees(s)
    assert Decimal(placed["pricing"]["total"]) == parts + assembly + shipping

    staff_user = make_user(shop, "operator")
    staff = TestClient(api)
    staff.post("/api/v1/auth/login", json={"username": staff_user.username, "password": PASSWORD, "shop": shop.slug})
    listed = staff.get("/api/v1/orders", params={"source": "builder", "search": placed["number"]}).json()
    assert [o["id"] for o in listed["orders"]] == [placed["id"]]
    assert listed["orders"][0]["customer"]["email"] == email


def test_shared_build_shows_verdicts_and_prices(api, shop, catalog_parts):
    pytest.importorskip("app.builder.evaluation")
    set_offers(shop)
    c, _ = signed_up_client(api)
    bid = c.post(f"{SHOP}/builds", json={"slots": {**GOOD_BUILD, "gpu": [LONG_GPU]}}).json()["id"]
    slug = c.post(f"{SHOP}/builds/{bid}/share").json()["slug"]
    r = TestClient(api).get(f"{SHOP}/shared/{slug}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["slots"]["gpu"] == [LONG_GPU] and body["builderUrl"].startswith("/build?")
    ev = body["evaluation"]
    assert ev["overall"] == "block" and ev["state"] == "Complete" and ev["currency"] == "EUR"
    assert Decimal(ev["total"]) == sum(
        Decimal(PRICES[p]) for ids in {**GOOD_BUILD, "gpu": [LONG_GPU]}.values() for p in ids
    )
    assert any(v["severity"] == "block" and "358" in v["message"] for v in ev["verdicts"])
    assert ev["parts"]["ram"][0]["price"] == PRICES[RAM]


# --- /b/<slug> answers 410 Gone where the backend serves the pages ------------------------------


def test_deleted_share_link_answers_410_with_a_friendly_page(shop):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from app.builder.web import SharedBuildGone

    pages = Starlette(routes=[Route("/b/{slug}", lambda request: PlainTextResponse("the page"))])
    client = TestClient(SharedBuildGone(pages))
    with tenant_session(shop.id) as s:
        account = customers.sign_up(s, email=new_email("gone"), name="Gwen Gone", password=CUSTOMER_PASSWORD)
        kept = builder.save_build(s, account, {"cpu": [CPU]}, "Kept")
        doomed = builder.save_build(s, account, {"cpu": [CPU]}, "Doomed")
        kept_slug, doomed_slug = builder.share(s, account, kept.id), builder.share(s, account, doomed.id)
        builder.delete(s, account, doomed.id)
        s.commit()

    gone = client.get(f"/b/{doomed_slug}")
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("text/html")
    assert "This build is gone" in gone.text and 'href="/build"' in gone.text
    assert client.head(f"/b/{doomed_slug}").status_code == 410
    assert client.get(f"/b/{kept_slug}").text == "the page"  # a live share: the page as usual
    assert client.get("/b/no-such-slug").text == "the page"  # unknown: the page says so (no 410)


# --- My builds: the order dialog charges what it shows ----------------------------------------

GERMAN = ShopFormat(locale="de_DE", currency="EUR", timezone="Europe/Berlin")


def test_my_builds_order_dialog_shows_the_quote_and_the_order_costs_exactly_that(selling_shop):
    ada = make_customer(selling_shop)
    with tenant_session(selling_shop.id) as s:
        config.set_value(s, builder.ASSEMBLY_FEE_KEY, "59.00")  # the shop's own fee, not the default
        build = builder.save_build(s, ada, GOOD_BUILD, "Desk PC")
        s.commit()
    with tenant_session(selling_shop.id) as s:
        offer = order_offer(s, ada, str(build.id), GERMAN)
        shown = builder.quote_slots(s, GOOD_BUILD)
    parts = sum(Decimal(PRICES[p]) for ids in GOOD_BUILD.values() for p in ids)
    assert (shown.parts, shown.assembly, shown.shipping) == (parts, Decimal("59.00"), builder.DEFAULT_SHIPPING_COST)
    assert offer.totals == OrderTotals(
        parts=GERMAN.money(shown.parts, "EUR"),
        assembly="59,00\xa0€",
        shipping=GERMAN.money(builder.DEFAULT_SHIPPING_COST, "EUR"),
        total=GERMAN.money(shown.total, "EUR"),
        total_value=str(shown.total),
    )
    assert (offer.name, offer.parts, offer.blocks, offer.unavailable) == ("Desk PC", 9, False, [])
    # no order yet: the address starts with the customer's own name
    assert offer.address == OrderAddress(name="Grace Hopper", country_code="NL")

    with tenant_session(selling_shop.id) as s:
        order = builder.order_build(s, ada, build.id, ADDRESS, expected_total=expected_total(offer.totals))
        s.commit()
    assert (order.subtotal, order.shipping_total, order.total) == (shown.subtotal, shown.shipping, shown.total)
    assert expected_total(offer.totals) == order.total

    # the next order starts from the address of this one
    with tenant_session(selling_shop.id) as s:
        again = order_offer(s, ada, str(build.id), GERMAN)
    a = again.address
    assert (a.name, a.street, a.house_number, a.postal_code, a.city, a.country_code) == (
        "Ada Lovelace",
        "Damrak",
        "1",
        "1012 LG",
        "Amsterdam",
        "NL",
    )


def test_my_builds_refuses_an_order_whose_price_changed_and_quotes_the_new_total(selling_shop):
    ada = make_customer(selling_shop)
    with tenant_session(selling_shop.id) as s:
        build = builder.save_build(s, ada, GOOD_BUILD, "Desk PC")
        s.commit()
    with tenant_session(selling_shop.id) as s:
        offer = order_offer(s, ada, str(build.id), GERMAN)
    set_offers(selling_shop, {CPU: "349.00"})  # 20.00 more while the dialog was open
    with tenant_session(selling_shop.id) as s:
        with pytest.raises(Conflict) as exc:
            builder.order_build(s, ada, build.id, ADDRESS, expected_total=expected_total(offer.totals))
        assert exc.value.code == "price_changed"
        assert s.exec(select(Order)).all() == []
        now = order_offer(s, ada, str(build.id), GERMAN)
    assert expected_total(now.totals) == (expected_total(offer.totals) or 0) + Decimal("20.00")
    assert now.totals.total != offer.totals.total
    with tenant_session(selling_shop.id) as s:
        order = builder.order_build(s, ada, build.id, ADDRESS, expected_total=expected_total(now.totals))
        s.commit()
    assert order.total == expected_total(now.totals)


def test_my_builds_order_dialog_says_what_cannot_be_ordered_as_it_is(selling_shop):
    ada, other = make_customer(selling_shop), make_customer(selling_shop)
    with tenant_session(selling_shop.id) as s:
        empty = builder.save_build(s, ada, {}, "Nothing yet")
        blocked = builder.save_build(s, ada, {**GOOD_BUILD, "gpu": [LONG_GPU]}, "Too long")
        good = builder.save_build(s, ada, GOOD_BUILD)
        s.commit()
    with tenant_session(selling_shop.id) as s:
        assert order_offer(s, ada, str(empty.id), GERMAN).parts == 0
        assert order_offer(s, ada, str(blocked.id), GERMAN).blocks
        with pytest.raises(NotFound):  # another customer's build is no build at all
            order_offer(s, other, str(good.id), GERMAN)
    set_offers(selling_shop, {COOLER: PRICES[COOLER]}, inactive=(COOLER,))
    with tenant_session(selling_shop.id) as s:
        unavailable = order_offer(s, ada, str(good.id), GERMAN).unavailable
    assert len(unavailable) == 1 and "Noctua NH-U12S" in unavailable[0]
    assert expected_total(OrderTotals(total_value="")) is None
    assert expected_total(OrderTotals(total_value="lots")) is None
