"""The repairs domain's operations, one module a part of the work:

- `master`       repair clients, device models, technicians and teams, repair codes, price rules
- `receiving`    expected batches and manifests, receiving sessions and scans, assets, photos, holds
- `qc`           triage and beyond-economic-repair reviews
- `diagnostics`  diagnostic-log uploads and parsing, code mappings, the unmapped-codes queue
- `worksheets`   repairs on worksheets, spare parts issued and returned, final QC
- `billing`      dispatches (finalized once), invoices, credit notes and their PDFs
- `reports`      daily metrics snapshots, the owner dashboard, SLA ages
- `imports`      bulk upload of batches, assets and spare parts (CSV or XLSX)

Pages, API routes and jobs call them the same way: `service.receiving.scan(session, …)`.
"""

from app.repairs.service import billing, diagnostics, imports, master, qc, receiving, reports, worksheets
from app.repairs.service._common import LIVE_KIND

__all__ = ["LIVE_KIND", "billing", "diagnostics", "imports", "master", "qc", "receiving", "reports", "worksheets"]
