"""Cron's fan-out: one job per shop for each periodic task a domain declares."""

from __future__ import annotations

from app.platform import tasks
from app.platform.db import all_tenant_ids


def for_each_shop(target: str, queue_name: str) -> int:
    """Enqueue `target(tenant_id)` once per shop, each in its shop's line."""
    shops = all_tenant_ids()
    for tid in shops:
        tasks.enqueue(target, str(tid), queue_name=queue_name, shop=tid, description=f"{target} ({tid})")
    return len(shops)
