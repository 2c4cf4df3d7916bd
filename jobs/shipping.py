"""RQ entry points of the shipping domain (thin: ids in, service call)."""

from __future__ import annotations

from app.platform.db import tenant_session
from app.shipping import service


def reconcile_if_due(tenant_id: str) -> dict | None:
    """Cron, per shop: check open parcels with Sendcloud when the shop is
    connected and its interval (reconcile_minutes) has passed."""
    with tenant_session(tenant_id) as s:
        counts = service.reconcile(s)
        s.commit()
    return counts or None
