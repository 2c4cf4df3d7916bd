"""RQ entry point of the booklets domain."""

from __future__ import annotations

from app.booklets import service
from app.platform.db import tenant_session


def render(tenant_id: str, build_id: str) -> str:
    return service.generate(tenant_id, build_id)


def sweep(tenant_id: str) -> int:
    """Cron, per shop: renders that died with their worker are queued again."""
    with tenant_session(tenant_id) as s:
        n = service.requeue_stuck(s)
        s.commit()
    return n
