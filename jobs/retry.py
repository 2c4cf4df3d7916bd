"""RQ entry points of the retry queue."""

from __future__ import annotations

from app.platform import retry, tasks


@tasks.on_abandoned(retry.run_abandoned)
def run_entry(tenant_id: str, entry_id: str) -> str:
    return retry.run(tenant_id, entry_id)


def sweep(tenant_id: str | None = None) -> int:
    return retry.sweep(tenant_id)
