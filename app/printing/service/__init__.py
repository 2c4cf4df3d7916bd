"""Printing operations: the one place print-farm rules live. Pages, the REST
API, SimplyPrint webhooks and jobs call these with a tenant session, as
`from app.printing import service; service.X(...)`. One module per concern,
each importing only those above it in this list:

- _common: the print-job event log, live updates, readers of SimplyPrint data.
- triggers: work handed to a worker (submit, drain the inbox, reconcile).
- connection: the SimplyPrint connection and a per-process client cache that
  follows a version stamp in Redis, so connecting or disconnecting
  re-initialises every web and worker process without a restart.
- mappings: product mappings (SKU → assembly parts with files and profiles).
- jobs: print jobs, created per order line (part × quantity per product × line
  quantity), moved by SimplyPrint webhooks and the reconciliation poll, or by
  hand in manual mode (no connection); an order's cancellation cascade.
- submission: jobs queued on SimplyPrint (ORDER before STOCK, FIFO within
  each: seed ADR-063).
- webhooks: the SimplyPrint webhook inbox (verify, store, drain).
- reconciliation: the poll that corrects what webhooks missed.

Importing this package registers the retry operations CANCELLATION (jobs) and
PRINT_JOB_CREATION (submission); app.printing.domain lists it as a handler
module for that.
"""

from app.platform.models import utcnow as utcnow  # callers (tests) read the clock through the service
from app.printing.service._common import LIVE_KIND, SOURCE
from app.printing.service.connection import (
    VERSION_KEY,
    bump_version,
    client,
    connect,
    connection,
    disconnect,
    forget_client,
    forget_routes,
    make_client,
    test_connection,
    update_connection_settings,
    webhook_url,
)
from app.printing.service.connection import _version as _version  # tests read the client version stamp
from app.printing.service.jobs import (
    BULK_ACTIONS,
    NO_PRINTER,
    SORTS,
    BulkResult,
    CascadeResult,
    CreatedJobs,
    Refusal,
    apply_remote,
    bulk_jobs,
    cancel_job,
    cancel_jobs,
    cancel_jobs_for_order,
    create_jobs_for_order,
    describe_job,
    estimated_minutes,
    get_job,
    job_counts,
    jobs_for_order,
    line_claim,
    list_jobs,
    make_stock_jobs,
    manual_mode,
    manual_moves,
    mapping_source,
    movable_by_hand,
    move_job,
    needs_review,
    order_numbers,
    printer_choices,
    printer_names,
    printers,
    queue,
    requeue_job,
    resolve_review,
    stock_source,
)
from app.printing.service.mappings import (
    PROFILE_KEYS,
    add_part,
    attach_stored_file,
    create_mapping,
    delete_mapping,
    delete_part,
    effective_profile,
    get_mapping,
    get_part,
    list_mappings,
    mapping_for_sku,
    part_counts,
    parts,
    update_mapping,
    update_part,
    upload_part_file,
)
from app.printing.service.reconciliation import ReconcileResult, reconcile, reconcile_due, reconcile_now
from app.printing.service.submission import SUBMIT_BATCH, pending_submissions, submit_pending
from app.printing.service.triggers import request_drain, request_reconcile, request_submission, submit_after_commit
from app.printing.service.webhooks import (
    DRAIN_BATCH,
    KnownJobs,
    SubmissionInFlight,
    WebhookResult,
    drain_webhooks,
    find_job,
    handle_webhook,
    pending_webhooks,
    process_webhook,
)

__all__ = [
    "BULK_ACTIONS",
    "DRAIN_BATCH",
    "LIVE_KIND",
    "NO_PRINTER",
    "PROFILE_KEYS",
    "SORTS",
    "SOURCE",
    "SUBMIT_BATCH",
    "VERSION_KEY",
    "BulkResult",
    "CascadeResult",
    "CreatedJobs",
    "KnownJobs",
    "ReconcileResult",
    "Refusal",
    "SubmissionInFlight",
    "WebhookResult",
    "add_part",
    "apply_remote",
    "attach_stored_file",
    "bulk_jobs",
    "bump_version",
    "cancel_job",
    "cancel_jobs",
    "cancel_jobs_for_order",
    "client",
    "connect",
    "connection",
    "create_jobs_for_order",
    "create_mapping",
    "delete_mapping",
    "delete_part",
    "describe_job",
    "disconnect",
    "drain_webhooks",
    "effective_profile",
    "estimated_minutes",
    "find_job",
    "forget_client",
    "forget_routes",
    "get_job",
    "get_mapping",
    "get_part",
    "handle_webhook",
    "job_counts",
    "jobs_for_order",
    "line_claim",
    "list_jobs",
    "list_mappings",
    "make_client",
    "make_stock_jobs",
    "manual_mode",
    "manual_moves",
    "mapping_for_sku",
    "mapping_source",
    "movable_by_hand",
    "move_job",
    "needs_review",
    "order_numbers",
    "part_counts",
    "parts",
    "pending_submissions",
    "pending_webhooks",
    "printer_choices",
    "printer_names",
    "printers",
    "process_webhook",
    "queue",
    "reconcile",
    "reconcile_due",
    "reconcile_now",
    "request_drain",
    "request_reconcile",
    "request_submission",
    "requeue_job",
    "resolve_review",
    "stock_source",
    "submit_after_commit",
    "submit_pending",
    "test_connection",
    "update_connection_settings",
    "update_mapping",
    "update_part",
    "upload_part_file",
    "webhook_url",
]
