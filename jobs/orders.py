"""RQ entry points of the orders domain."""

from __future__ import annotations

from app.orders import shopify


def backfill(tenant_id: str, run_id: str) -> str:
    return shopify.run_backfill(tenant_id, run_id).status
