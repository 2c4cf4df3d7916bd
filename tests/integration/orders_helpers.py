"""Shared set-up for the orders tests: a tenant connected to a Shopify stand-in."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from app.orders import shopify as shopify_domain
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.models import Tenant, User
from standins import shopify as standin
from tests.factories import PASSWORD, make_tenant, make_user

SECRET = "shpss_test_secret_123"


@dataclass
class ShopCtx:
    tenant: Tenant
    admin: User
    domain: str
    client: TestClient

    def webhook(
        self,
        topic: str,
        payload: dict,
        *,
        webhook_id: str | None = None,
        secret: str = SECRET,
        headers: dict | None = None,
        raw: bytes | None = None,
    ):
        import json

        body = raw if raw is not None else json.dumps(payload, separators=(",", ":")).encode()
        h = standin.webhook_headers(body, topic=topic, secret=secret, shop_domain=self.domain, webhook_id=webhook_id)
        h.update(headers or {})
        return self.client.post("/api/v1/webhooks/shopify", content=body, headers=h)


def connect_tenant(api, base_url: str = "http://127.0.0.1:1", token: str = standin.DEFAULT_TOKEN) -> ShopCtx:
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    domain = f"{tenant.slug}.myshopify.com"
    principal = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:
        shopify_domain.connect(
            s, shop_domain=domain, access_token=token, webhook_secret=SECRET, api_base_url=base_url, actor=principal
        )
        s.commit()
    client = TestClient(api)
    client.post("/api/v1/auth/login", json={"username": admin.username, "password": PASSWORD, "shop": tenant.slug})
    return ShopCtx(tenant, admin, domain, client)
