"""RQ entry points of the orders domain."""

from __future__ import annotations

from app.orders import shopify, shopify_orders
from app.platform import tasks


@tasks.on_abandoned(shopify_orders.backfill_abandoned)
def backfill(tenant_id: str, run_id: str) -> str:
    return shopify.run_backfill(tenant_id, run_id).status
