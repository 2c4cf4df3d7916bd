"""Print job lifecycle (seed: Print Job Status, pure).

QUEUED → ASSIGNED → PRINTING → COMPLETED, with FAILED and CANCELLED. An
operator requeues a FAILED or CANCELLED job (terminal → QUEUED), which revives
its order. SimplyPrint may report a newer attempt of a failed job's queue item
(FAILED → PRINTING / COMPLETED); COMPLETED is final.

Also here: how SimplyPrint's vocabularies (webhook events, job states,
job-history statuses, printer states) map to ours.
"""

from __future__ import annotations

import re

from app.platform.errors import InvalidTransition
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
PURPOSE = StatusTable(
    Status("ORDER", "Order", "amber"),
    Status("STOCK", "Stock", "cyan"),
)
PURPOSES = PURPOSE.values

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
    """Raise InvalidTransition unless an operator may move a job from `current` to `target` by hand.
    The message names the statuses in words ("a completed job cannot be moved to printing"); the
    error's details keep the status values for API clients."""
    if MANUAL.can(current, target):
        return
    allowed = MANUAL.allowed(current)
    words = ", ".join(STATUS.label(s).lower() for s in allowed) or "none (it is final)"
    raise InvalidTransition(
        f"a {STATUS.label(current).lower()} job cannot be moved to {STATUS.label(target).lower()}; "
        f"it can go to: {words}",
        details={"allowed": allowed},
    )


def status_words(value: str) -> str:
    """A print-job status in a sentence: "completed", "printing"."""
    return STATUS.label(value).lower()


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


# --- words for the print farm's pages ---------------------------------------------------------

# A product mapping: does a new order for its SKU get print jobs?
MAPPING_STATE = StatusTable(
    Status("active", "Active", "green"),
    Status("inactive", "Inactive", "gray"),
)

# The fields of a print profile (a product's default, a part's overrides), in form order.
PROFILE_FIELD = StatusTable(
    Status("layer_height", "Layer height"),
    Status("infill", "Infill"),
    Status("supports", "Supports"),
    Status("material", "Material"),
    Status("nozzle", "Nozzle"),
)

# The SimplyPrint connection as the settings card and the print farm show it.
SYNC = StatusTable(
    Status("manual", "Manual mode", "amber"),
    Status("connected", "Connected", "green"),
    Status("waiting", "Waiting for the first poll", "blue"),
    Status("error", "Sync failing", "red"),
)


def sync_state(connected: bool, polled: bool, error: str) -> str:
    """The SimplyPrint connection's state: manual (not connected), error (the
    last call failed), waiting (connected, not polled yet) or connected."""
    if not connected:
        return "manual"
    if error:
        return "error"
    return "connected" if polled else "waiting"


_UNREACHABLE = ("unreachable", "could not be reached", "timed out", "timeout", "connection refused", "name resolution")


def _unreachable(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in _UNREACHABLE)


def _capital(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


_EXCEPTION_NAME = re.compile(r"\b(?:[a-z_]+\.)*[A-Z]\w*(?:Error|Exception)\b:?\s*")


def describe_error(error: str) -> tuple[str, str]:
    """What went wrong with a print job, as (a sentence for people, the
    technical detail or ""). The detail is what the outside system said (less
    any programming-language exception name); a page shows it only on request."""
    sentence, detail = _describe(error)
    return sentence, _EXCEPTION_NAME.sub("", detail).strip()


def _describe(error: str) -> tuple[str, str]:
    text = (error or "").strip()
    if not text:
        return "", ""
    low = text.lower()
    if low.startswith("no file for this part"):
        return "This part has no print file yet: upload its G-code on the product's page.", ""
    if low.startswith("simplyprint reported job.failed") or low == "simplyprint history says failed":
        printer = text.split(" on ", 1)[1] if " on " in text else ""
        where = f"the print on {printer} did not finish." if printer else "the print did not finish."
        return f"The printer reported a failure: {where}", text
    if low.startswith(("simplyprint reported job.cancelled", "simplyprint history says cancelled")):
        return "The print was cancelled on SimplyPrint.", text
    if low.startswith(("simplyprint reported", "simplyprint history says")):
        return "SimplyPrint reported a problem with this print.", text
    if "shopify" in low and _unreachable(low):
        return "Shopify could not be reached.", text
    if low.startswith("simplyprint"):
        detail = text.split(":", 1)[1].strip() if low.startswith("simplyprint:") else text
        if _unreachable(detail):
            return "SimplyPrint could not be reached.", detail
        if "http 5" in detail.lower():
            return "SimplyPrint had a problem on its side and did not take the job.", detail
        return "SimplyPrint did not take the job.", detail
    if _unreachable(low):
        return "An outside service could not be reached.", text
    if low == "order cancelled":
        return "Its order was cancelled.", ""
    # an operator's own words (a reason given when failing or cancelling by hand)
    return _capital(text), ""


def describe_sync_error(error: str) -> tuple[str, str]:
    """The SimplyPrint connection's last error as (a sentence, the detail)."""
    text = _EXCEPTION_NAME.sub("", (error or "")).strip()
    if not text:
        return "", ""
    low = text.lower()
    if "was not called" in low:  # the outbound guard refused the address: its sentence says why
        return text, ""
    if _unreachable(low):
        return "SimplyPrint could not be reached.", text
    if "http 401" in low or "http 403" in low or "api key" in low or "unauthori" in low:
        return "SimplyPrint refused the API key: enter a valid key in Settings › Integrations.", text
    if "http 5" in low:
        return "SimplyPrint had a problem on its side.", text
    return "SimplyPrint answered with an error.", text
