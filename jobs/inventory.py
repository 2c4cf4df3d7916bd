"""Inventory jobs: the replenishment scheduler's cron entry (per shop)."""

from __future__ import annotations

from app.inventory import service
from app.platform.db import tenant_session


def replenish_if_due(tenant_id: str) -> dict | None:
    """Cron, per shop, every minute: evaluate when the shop's interval has
    passed (one evaluation at a time per shop: the service's lock). A shop
    with stock management or replenishment switched off costs two reads and
    records nothing: its status card says it is off."""
    with tenant_session(tenant_id) as s:
        if not (service.stock_enabled(s) and service.read_settings(s).enabled) or not service.due(s):
            return None
        run = service.evaluate(s)
        if run is None:
            return {"busy": True}
        service.prune_runs(s)
        s.commit()
        return {"planned": run.batches_created, "summary": run.summary}
