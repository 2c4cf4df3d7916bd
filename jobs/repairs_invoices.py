"""RQ entry point of repair invoices: render an invoice's or credit note's PDF."""

from __future__ import annotations

from app.platform import tasks
from app.repairs.service import billing


@tasks.on_abandoned(billing.render_abandoned)
def render(tenant_id: str, invoice_id: str) -> str:
    return billing.generate(tenant_id, invoice_id)


def sweep(tenant_id: str) -> dict:
    """Cron, per shop, every few minutes: PDFs whose render job was lost are queued again."""
    from app.platform.db import tenant_session

    with tenant_session(tenant_id) as s:
        requeued = billing.requeue_stale_pdfs(s)
        s.commit()
    return {"requeued": requeued}
