"""RQ entry point of the booklets domain."""

from __future__ import annotations

from app.booklets import service
from app.platform import tasks
from app.platform.db import tenant_session


@tasks.on_abandoned(service.render_abandoned)
def render(tenant_id: str, build_id: str) -> str:
    return service.generate(tenant_id, build_id)


def sweep(tenant_id: str) -> int:
    """Cron, per shop, the last resort: renders whose job was lost outright
    (a render whose worker died is handed back by the platform at once)."""
    with tenant_session(tenant_id) as s:
        n = service.requeue_stuck(s)
        s.commit()
    return n
