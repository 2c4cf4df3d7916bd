"""Invariants of the repair line an operator can check (`python -m app.cli check`):
an asset's status is the last step of its history, its dispatch and invoice
agree with it, and a sent invoice has its number."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from app.platform.checks import Finding

# assets whose status is not the last step of their history
_HISTORY = text(
    """
    SELECT a.number, a.status, last.to_status
    FROM repair_assets a
    LEFT JOIN LATERAL (
      SELECT to_status FROM asset_status_changes c
      WHERE c.asset_id = a.id ORDER BY c.changed_at DESC, c.id DESC LIMIT 1
    ) last ON true
    WHERE last.to_status IS DISTINCT FROM a.status
    """
)
# dispatched or invoiced assets outside a finalized dispatch, and assets of a finalized dispatch not out yet
_DISPATCH = text(
    """
    SELECT a.number, a.status, d.number, d.status
    FROM repair_assets a LEFT JOIN repair_dispatches d ON d.id = a.dispatch_id
    WHERE (a.status IN ('dispatched', 'invoiced') AND (d.id IS NULL OR d.status <> 'finalized'))
       OR (d.status = 'finalized' AND a.status NOT IN ('dispatched', 'invoiced'))
    """
)
_INVOICES = text(
    """
    SELECT d.number, d.invoice_id, i.status, i.number
    FROM repair_dispatches d LEFT JOIN repair_invoices i ON i.id = d.invoice_id
    WHERE d.status = 'finalized' AND (i.id IS NULL OR (i.status <> 'draft' AND i.number = ''))
    """
)


def repairs(session: Session) -> list[Finding]:
    findings: list[Finding] = []
    for number, status, last in session.execute(_HISTORY).all():
        findings.append(
            Finding(f"asset {number}", f"its status is {status} but its history ends at {last or 'nothing'}")
        )
    for number, status, dispatch, dispatch_status in session.execute(_DISPATCH).all():
        where = f"asset {number}"
        if dispatch is None:
            findings.append(Finding(where, f"it is {status} but in no dispatch"))
        else:
            findings.append(Finding(where, f"it is {status} but its dispatch {dispatch} is {dispatch_status}"))
    for dispatch, invoice_id, invoice_status, invoice_number in session.execute(_INVOICES).all():
        where = f"dispatch {dispatch}"
        if invoice_id is None:
            findings.append(Finding(where, "it is finalized but has no invoice"))
        else:
            findings.append(Finding(where, f"its invoice is {invoice_status} but has no number ({invoice_number!r})"))
    return findings
