"""Outbound calls to integrations reach only the services' own servers.

A shop admin types the Shopify or SimplyPrint address. Pointed at an address inside our
network, the server must not call it (not with the connect form, not with the connection
test, not from the Shopify import in a worker), must not follow a redirect there, and must
never show what such an address answered. A tiny HTTP server on 127.0.0.1 stands for the
internal service: it records every call and answers a secret.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlmodel import select

from app.api import create_api
from app.integrations.shopify import ShopifyClient, ShopifyError
from app.integrations.simplyprint import SimplyPrintClient, SimplyPrintError
from app.orders.models import ShopifyBackfill
from app.platform import auth, outbound
from app.platform.db import tenant_session
from app.printing import service as printing
from app.settings import Settings, get_settings
from tests.factories import PASSWORD, make_tenant, make_user
from tests.integration.orders_helpers import connect_tenant

SECRET = "internal-secret-4f1c9e: db password hunter2"


class Listener:
    """An internal HTTP service: records calls, answers `status` with `body` (the secret)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.status = 200
        self.body = SECRET.encode()
        self.headers: dict[str, str] = {"Content-Type": "text/plain"}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                listener.calls.append(self.path)
                self.send_response(listener.status)
                for name, value in listener.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(listener.body)))
                self.end_headers()
                self.wfile.write(listener.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in production: no allowance for the local stand-ins."""
    monkeypatch.setattr(get_settings(), "outbound_allow_private", False)


@pytest.fixture(scope="module")
def api():
    return create_api()


def signed_in(api, tenant, admin) -> TestClient:
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": admin.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return client


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Every host name resolves to `addresses`; returns the names looked up."""
    looked_up: list[str] = []

    def fake(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return list(addresses)

    monkeypatch.setattr(outbound, "resolve", fake)
    return looked_up


# --- pointing an integration at an internal address --------------------------------------------


def test_shopify_at_an_internal_address_is_refused_and_nothing_is_echoed(api, worker, listener, monkeypatch):
    # Connected while the allowance was on (an older row, or a changed setting), then run as production.
    shop = connect_tenant(api, listener.url)
    monkeypatch.setattr(get_settings(), "outbound_allow_private", False)

    # the import runs in a worker and fails with a sentence, without calling the listener
    since = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    assert shop.client.post("/api/v1/orders/backfill", json={"since": since}).status_code == 202
    worker(timeout=30)
    with tenant_session(shop.tenant.id) as s:
        run = s.exec(select(ShopifyBackfill)).one()
    assert run.status == "FAILED"
    assert run.error == f"Shopify was not called: {outbound.PRIVATE_NETWORK}"

    # the connect form refuses the address itself
    r = shop.client.put(
        "/api/v1/integrations/shopify",
        json={
            "shopDomain": shop.domain,
            "accessToken": "shpat_x",
            "webhookSecret": "whsec",
            "apiBaseUrl": f"{listener.url}/",
        },
    )
    assert r.status_code == 422
    assert "inside a private network" in r.json()["error"]["message"]
    r = shop.client.put(
        "/api/v1/integrations/shopify",
        json={"shopDomain": "shop.internal.example", "accessToken": "shpat_x", "webhookSecret": "whsec"},
    )
    assert r.status_code == 422
    assert "shop.internal.example is not one of Shopify's servers" in r.json()["error"]["message"]

    assert listener.calls == []
    assert SECRET not in run.error and SECRET not in r.text


def test_simplyprint_at_an_internal_address_is_refused_and_nothing_is_echoed(api, listener, monkeypatch):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    client = signed_in(api, tenant, admin)
    principal = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:  # saved while the allowance was on
        printing.connect(s, company_id=7, api_key="k", api_base_url=listener.url, actor=principal, test=False)
        s.commit()
    monkeypatch.setattr(get_settings(), "outbound_allow_private", False)
    printing.forget_client()

    tested = client.post("/api/v1/integrations/simplyprint/test")
    assert tested.status_code == 422
    assert tested.json()["error"]["message"] == f"SimplyPrint was not called: {outbound.PRIVATE_NETWORK}"

    for base in (listener.url, "http://api.simplyprint.io", "https://169.254.169.254/latest/meta-data"):
        r = client.put("/api/v1/integrations/simplyprint", json={"companyId": "7", "apiKey": "k", "apiBaseUrl": base})
        assert r.status_code == 422, base
        assert "SimplyPrint was not called" in r.json()["error"]["message"]
        assert SECRET not in r.text
    r = client.put(
        "/api/v1/integrations/simplyprint", json={"companyId": "7", "apiKey": "k", "filesBaseUrl": listener.url}
    )
    assert r.status_code == 422 and "inside a private network" in r.json()["error"]["message"]

    assert listener.calls == []
    assert SECRET not in tested.text


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.20.30.40",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "fd00::1",
        "fe80::1",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_an_allowed_host_name_that_resolves_inside_is_refused(strict, monkeypatch, address):
    looked_up = resolving_to(monkeypatch, address)
    shopify = ShopifyClient("acme.myshopify.com", "shpat_x", transport_retries=0, sleep=lambda s: None)
    with pytest.raises(ShopifyError, match="inside a private network"):
        shopify.orders_page(cursor=None, query=None)
    shopify.close()
    with SimplyPrintClient(7, "k", retries=0) as sp, pytest.raises(SimplyPrintError) as err:
        sp.test()
    assert err.value.message == f"SimplyPrint was not called: {outbound.PRIVATE_NETWORK}"
    assert err.value.status_code is None
    assert looked_up == ["acme.myshopify.com", "api.simplyprint.io"]


def test_one_inside_address_among_public_ones_is_enough_to_refuse(strict, monkeypatch):
    resolving_to(monkeypatch, "93.184.215.14", "10.0.0.5")
    with SimplyPrintClient(7, "k", retries=0) as sp, pytest.raises(SimplyPrintError, match="private network"):
        sp.test()


def test_plain_http_other_hosts_and_other_ports_are_refused(strict, listener):
    cases = {
        "http://acme.myshopify.com": "only https:// addresses are allowed",
        "https://example.com": "example.com is not one of Shopify's servers (*.myshopify.com)",
        "https://myshopify.com.attacker.example": "is not one of Shopify's servers",
        "https://acme.myshopify.com:8443": "only the standard https port is allowed",
        listener.url: outbound.PRIVATE_NETWORK,
        "https://[::1]": outbound.PRIVATE_NETWORK,
    }
    for base, message in cases.items():
        client = ShopifyClient(base, "shpat_x", transport_retries=0)
        with pytest.raises(ShopifyError) as err:
            client.orders_page(cursor=None, query=None)
        client.close()
        assert message in str(err.value), base
    with (
        SimplyPrintClient(7, "k", api_base="http://api.simplyprint.io", retries=0) as sp,
        pytest.raises(SimplyPrintError, match="only https:// addresses are allowed"),
    ):
        sp.test()
    assert listener.calls == []


def test_the_connection_goes_to_the_address_that_was_checked(strict, monkeypatch):
    """DNS rebinding: the name is resolved once; a second, different answer is never used."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    looked_up: list[str] = []

    def fake(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return next(answers)

    monkeypatch.setattr(outbound, "resolve", fake)
    connected: list[tuple[str, int]] = []

    class Network(httpcore.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            connected.append((host, port))
            raise httpcore.ConnectError("no internet in tests")

    transport = outbound.network_transport(outbound.SHOPIFY, Network())
    with outbound.client(outbound.SHOPIFY, transport=transport) as http, pytest.raises(httpx.ConnectError):
        http.get("https://acme.myshopify.com/admin/api/2026-07/graphql.json")
    assert looked_up == ["acme.myshopify.com"]
    assert connected == [("93.184.215.14", 443)]


# --- redirects ---------------------------------------------------------------------------------------


def test_a_redirect_is_not_followed(listener):
    """With the stand-in allowance (tests) the first hop is allowed; the redirect is not followed."""
    inside = Listener()
    try:
        listener.status, listener.headers = 302, {"Location": f"{inside.url}/admin"}
        shopify = ShopifyClient(listener.url, "shpat_x", transport_retries=0)
        with pytest.raises(ShopifyError, match=r"answered with a redirect \(HTTP 302\), which is not followed"):
            shopify.orders_page(cursor=None, query=None)
        shopify.close()
        with (
            SimplyPrintClient(7, "k", api_base=listener.url, retries=0) as sp,
            pytest.raises(SimplyPrintError, match="redirect"),
        ):
            sp.test()
        assert len(listener.calls) == 2
        assert inside.calls == []
    finally:
        inside.close()


def test_each_hop_is_checked_even_where_redirects_are_followed(strict):
    """A client that did follow redirects still could not be led inside: every request passes the guard."""
    seen: list[str] = []

    def shopify(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    guarded = outbound.GuardedTransport(outbound.SHOPIFY, httpx.MockTransport(shopify))
    with (
        httpx.Client(transport=guarded, follow_redirects=True) as http,
        pytest.raises(outbound.OutboundRefused, match="inside a private network"),
    ):
        http.get("https://acme.myshopify.com/admin/api/2026-07/graphql.json")
    assert seen == ["https://acme.myshopify.com/admin/api/2026-07/graphql.json"]
    with outbound.client(outbound.SHOPIFY) as real:
        assert real.follow_redirects is False


# --- what an answer may show ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 401, 500, 200])
def test_an_error_never_carries_the_answers_body(listener, status):
    listener.status = status
    shopify = ShopifyClient(listener.url, "shpat_x", transport_retries=0, sleep=lambda s: None)
    with pytest.raises(ShopifyError) as shopify_err:
        shopify.orders_page(cursor=None, query=None)
    shopify.close()
    with SimplyPrintClient(7, "k", api_base=listener.url, retries=0) as sp, pytest.raises(SimplyPrintError) as sp_err:
        sp.test()
    for message in (str(shopify_err.value), sp_err.value.message):
        assert SECRET not in message and "hunter2" not in message
    if status == 401:
        assert str(shopify_err.value) == "Shopify refused the request (HTTP 401): check the access token"
        assert sp_err.value.message == "SimplyPrint account/Test answered HTTP 401: check the API key"
    if status == 404:
        assert str(shopify_err.value) == "Shopify refused the request (HTTP 404): check the address"


def test_the_stand_ins_still_work_with_the_allowance(api, listener):
    """Tests and `make dev` reach local stand-ins: the allowance lets plain http to 127.0.0.1 through."""
    assert get_settings().outbound_allow_private
    listener.headers = {"Content-Type": "application/json"}
    listener.body = b'{"status": true, "message": "Your API key is valid!"}'
    with SimplyPrintClient(7, "k", api_base=listener.url, retries=0) as sp:
        sp.test()
    assert listener.calls == ["/7/account/Test"]


# --- the rules themselves ------------------------------------------------------------------------------


def test_allowed_hosts_per_service():
    assert outbound.SHOPIFY.allows("acme.myshopify.com") and outbound.SHOPIFY.allows("ACME.myshopify.com.")
    for host in ("myshopify.com", "acme.myshopify.com.evil.example", "evilmyshopify.com", "a..myshopify.com"):
        assert not outbound.SHOPIFY.allows(host), host
    for host in ("api.simplyprint.io", "files.simplyprint.io", "simplyprint.io"):
        assert outbound.SIMPLYPRINT.allows(host)
    assert not outbound.SIMPLYPRINT.allows("evil.simplyprint.io.example")
    assert outbound.SENDCLOUD.allows("panel.sendcloud.sc") and not outbound.SENDCLOUD.allows("sendcloud.sc")


def test_public_and_inside_addresses():
    for address in ("93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2002:0808:0808::1"):
        assert outbound.is_public(address), address
    for address in ("127.0.0.2", "10.0.0.1", "169.254.0.1", "198.18.0.1", "240.0.0.1", "255.255.255.255"):
        assert not outbound.is_public(address), address
    for address in ("::", "ff02::1", "2002:0a00:0001::1", "2001:db8::1", "not an address"):
        assert not outbound.is_public(address), address


def test_production_refuses_the_allowance(monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-" + "x" * 40)
    monkeypatch.setenv("INTEGRATION_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("OUTBOUND_ALLOW_PRIVATE", "1")
    with pytest.raises(RuntimeError, match="OUTBOUND_ALLOW_PRIVATE"):
        Settings().check_production()
    monkeypatch.delenv("OUTBOUND_ALLOW_PRIVATE")
    assert Settings().outbound_allow_private is False  # off unless asked for
