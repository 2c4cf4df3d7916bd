"""Events the repairs domain publishes (constants), and its handlers.

Published:
- repair-asset.status-changed {assetId, number, previousStatus, newStatus, reason}
- repair-batch.received {batchId, number, receivedCount, flaggedCount}
- diagnostic-log.parsed {diagnosticLogId, assetId, mapped, unmapped}
- drfone-code.mapped {drfoneCode, repairCodeId, applied}
- repair-dispatch.finalized {dispatchId, number, invoiceId, assets}
- repair-invoice.sent {invoiceId, number, total}
"""

from __future__ import annotations

ASSET_STATUS_CHANGED = "repair-asset.status-changed"
BATCH_RECEIVED = "repair-batch.received"
LOG_PARSED = "diagnostic-log.parsed"
CODE_MAPPED = "drfone-code.mapped"
DISPATCH_FINALIZED = "repair-dispatch.finalized"
INVOICE_SENT = "repair-invoice.sent"
