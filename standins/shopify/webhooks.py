"""The delivery side of Shopify webhooks (contract §2): ``sign``, ``webhook_headers`` and
``send_webhook`` (base64 HMAC-SHA256 of the exact body bytes; a fresh ``X-Shopify-Webhook-Id``
unless one is given, reusing it simulates a retry)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from standins.shopify.store import API_VERSION, DEFAULT_SHOP_DOMAIN


def sign(body: bytes, secret: str) -> str:
    """``base64(HMAC-SHA256(key=secret, msg=body))`` — the ``X-Shopify-Hmac-Sha256`` value."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_headers(
    body: bytes,
    *,
    topic: str,
    secret: str,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = API_VERSION,
    triggered_at: datetime | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """All headers Shopify sends with a webhook delivery (contract §2), signed over ``body``.

    ``webhook_id`` defaults to a fresh uuid (a new delivery); pass the previous one to simulate a
    retry of that delivery. ``name`` fills the optional ``X-Shopify-Name``.
    """
    fired = (triggered_at or datetime.now(UTC)).astimezone(UTC)
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": fired.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
    }
    if name is not None:
        headers["X-Shopify-Name"] = name
    return headers


def send_webhook(
    url: str,
    topic: str,
    payload: dict[str, Any],
    secret: str,
    *,
    webhook_id: str | None = None,
    event_id: str | None = None,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    api_version: str = API_VERSION,
    triggered_at: datetime | None = None,
    client: httpx.Client | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    """POST ``payload`` to ``url`` like Shopify does: serialised once, those exact bytes signed."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = webhook_headers(
        body,
        topic=topic,
        secret=secret,
        shop_domain=shop_domain,
        webhook_id=webhook_id,
        event_id=event_id,
        api_version=api_version,
        triggered_at=triggered_at,
    )
    if client is not None:
        return client.post(url, content=body, headers=headers)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)
