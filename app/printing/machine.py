"""Print job lifecycle (seed: Print Job Status, pure).

QUEUED → ASSIGNED → PRINTING → COMPLETED, with FAILED and CANCELLED. An
operator requeues a FAILED or CANCELLED job (terminal → QUEUED), which revives
its order. SimplyPrint may report a newer attempt of a failed job's queue item
(FAILED → PRINTING / COMPLETED); COMPLETED is final.

Also here: how SimplyPrint's vocabularies (webhook events, job states,
job-history statuses, printer states) map to ours.
"""

from __future__ import annotations

from app.platform.machine import Machine, Status, StatusTable

STATUS = StatusTable(
    Status("QUEUED", "Queued", "gray"),
    Status("ASSIGNED", "Assigned", "iris"),
    Status("PRINTING", "Printing", "blue"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
    Status("CANCELLED", "Cancelled", "gray"),
)
STATUSES = STATUS.values
ACTIVE = frozenset({"QUEUED", "ASSIGNED", "PRINTING"})
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
PURPOSES = ("ORDER", "STOCK")

JOB = Machine(
    "print job",
    {
        "QUEUED": {"ASSIGNED", "PRINTING", "COMPLETED", "FAILED", "CANCELLED"},
        "ASSIGNED": {"QUEUED", "PRINTING", "COMPLETED", "FAILED", "CANCELLED"},
        "PRINTING": {"COMPLETED", "FAILED", "CANCELLED"},
        "FAILED": {"QUEUED", "ASSIGNED", "PRINTING", "COMPLETED"},
        "CANCELLED": {"QUEUED"},
        "COMPLETED": set(),
    },
    order=STATUSES,
    message="a {current} job cannot go to {target}; allowed: {allowed}",
    details=True,
)
TRANSITIONS = JOB.transitions

# What operators may do by hand in manual mode (no SimplyPrint connection).
MANUAL = Machine(
    "print job (by hand)",
    {
        "QUEUED": {"ASSIGNED", "PRINTING", "COMPLETED", "CANCELLED"},
        "ASSIGNED": {"QUEUED", "PRINTING", "CANCELLED"},
        "PRINTING": {"COMPLETED", "FAILED", "CANCELLED"},
        "FAILED": {"QUEUED"},
        "CANCELLED": {"QUEUED"},
        "COMPLETED": set(),
    },
    order=STATUSES,
    message="a {current} job cannot be moved to {target}; allowed: {allowed}",
    details=True,
)
MANUAL_TRANSITIONS = MANUAL.transitions

REQUEUEABLE = frozenset({"FAILED", "CANCELLED"})
CANCELLABLE = ACTIVE

# SimplyPrint webhook event → our status (None: no status change).
WEBHOOK_EVENTS: dict[str, str | None] = {
    "job.started": "PRINTING",
    "job.resumed": "PRINTING",
    "job.paused": "PRINTING",
    "job.done": "COMPLETED",
    "job.failed": "FAILED",
    "job.cancelled": "CANCELLED",
    "job.bed_cleared": None,
    "job.objects_skipped": None,
}

# jobs/GetPaginatedPrintJobs `status`.
HISTORY_STATUS: dict[str, str] = {
    "ongoing": "PRINTING",
    "done": "COMPLETED",
    "finished": "COMPLETED",
    "completed": "COMPLETED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}

# `job.state` on printers/Get and webhooks (and the seed's SimplyPrint job statuses).
JOB_STATE: dict[str, str] = {
    "queued": "QUEUED",
    "assigned": "ASSIGNED",
    "preparing": "ASSIGNED",
    "downloading": "ASSIGNED",
    "printing": "PRINTING",
    "paused": "PRINTING",
    "pausing": "PRINTING",
    "resuming": "PRINTING",
    "cancelling": "CANCELLED",
    "cancelled": "CANCELLED",
    "completed": "COMPLETED",
    "done": "COMPLETED",
    "finished": "COMPLETED",
    "failed": "FAILED",
    "error": "FAILED",
}

PRINTER_STATE = StatusTable(
    Status("operational", "Operational", "green"),
    Status("printing", "Printing", "blue"),
    Status("paused", "Paused", "amber"),
    Status("pausing", "Pausing", "amber"),
    Status("resuming", "Resuming", "blue"),
    Status("cancelling", "Cancelling", "amber"),
    Status("downloading", "Downloading", "blue"),
    Status("error", "Error", "red"),
    Status("offline", "Offline", "gray"),
    Status("not_ready", "Not ready", "gray"),
)
PRINTER_STATES = PRINTER_STATE.values


def can_move(current: str, target: str) -> bool:
    return JOB.can(current, target)


def can_move_manually(current: str, target: str) -> bool:
    return MANUAL.can(current, target)


def allowed_manual(current: str) -> list[str]:
    return MANUAL.allowed(current)


def check_manual(current: str, target: str) -> None:
    """Raise InvalidTransition unless an operator may move a job from `current` to `target` by hand."""
    MANUAL.check(current, target)


def is_revival(previous: str, new: str) -> bool:
    """A terminal → active move: the order comes back to life."""
    return previous in ("FAILED", "CANCELLED") and new in ACTIVE


def from_webhook(event: str) -> str | None:
    return WEBHOOK_EVENTS.get((event or "").strip().lower())


def from_history(status: str) -> str | None:
    return HISTORY_STATUS.get((status or "").strip().lower())


def from_job_state(state: str) -> str | None:
    return JOB_STATE.get((state or "").strip().lower())


def queue_key(purpose: str, sequence: int) -> tuple[int, int]:
    """Sort key of the print queue (seed ADR-063): ORDER before STOCK, FIFO within each."""
    return (0 if purpose == "ORDER" else 1, sequence)
