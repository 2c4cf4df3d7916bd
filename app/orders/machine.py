"""Order state machines (pure): which status and fulfillment moves are allowed.

Order status (seed: Order Status): PENDING → PROCESSING → COMPLETED, with
PARTIALLY_COMPLETED / FAILED when print work fails, revival back to PROCESSING,
and CANCELLED from any state that has not shipped.

Fulfillment (seed 000): unfulfilled → building → testing → ready (driven by
the build or by print orchestration), then staff advance ready → packaging →
shipped → completed. An order with nothing left to produce may be marked
ready by staff directly; gates (orders.service.FULFILLMENT_GATES) refuse ready,
packaging and shipped while production is outstanding (printed parts, the PC's
build). Cancelling sets fulfillment `cancelled`; a revival sets it back.
"""

from __future__ import annotations

import re

from app.platform.machine import Machine, Status, StatusTable

ORDER_STATUS = StatusTable(
    Status("PENDING", "Pending", "gray"),
    Status("PROCESSING", "Processing", "blue"),
    Status("PARTIALLY_COMPLETED", "Partially completed", "amber"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
    Status("CANCELLED", "Cancelled", "gray"),
)
FULFILLMENT_STATUS = StatusTable(
    Status("unfulfilled", "Unfulfilled", "gray"),
    Status("building", "Building", "gray"),
    Status("testing", "Testing", "gray"),
    Status("ready", "Ready", "green"),
    Status("packaging", "Packaging", "amber"),
    Status("shipped", "Shipped", "blue"),
    Status("completed", "Completed", "green"),
    Status("cancelled", "Cancelled", "gray"),
)
LINE_ITEM_STATUS = StatusTable(
    Status("PENDING", "Pending", "gray"),
    Status("PRINTING", "Printing", "blue"),
    Status("PARTIALLY_COMPLETED", "Partly printed", "amber"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
    Status("CANCELLED", "Cancelled", "gray"),
)
SOURCE = StatusTable(
    Status("shopify", "Shopify", "green"),
    Status("builder", "PC builder", "iris"),
    Status("manual", "Manual", "gray"),
)
DELIVERY_TYPE = StatusTable(
    Status("home", "Home delivery", "gray"),
    Status("service_point", "Service point", "gray"),
)
ORDER_STATUSES = ORDER_STATUS.values
LINE_ITEM_STATUSES = LINE_ITEM_STATUS.values
FULFILLMENT_STATUSES = FULFILLMENT_STATUS.values
SOURCES = SOURCE.values

# What the timeline calls each event an order's story holds (its own, and what
# builds and print orchestration write about it); colour: the usual tone.
TIMELINE_EVENT = StatusTable(
    Status("order.created", "Order received", "blue"),
    Status("order.builder-build", "Ordered from the PC builder", "blue"),
    Status("order.updated", "Updated from Shopify", "gray"),
    Status("order.problem", "Problem", "amber"),
    Status("order.status-changed", "Status changed", "gray"),
    Status("order.revived", "Back in production", "blue"),
    Status("order.fulfillment-changed", "Fulfillment changed", "gray"),
    Status("order.shopify-fulfilled", "Fulfilled in Shopify", "green"),
    Status("order.shopify-tracking-updated", "Tracking updated in Shopify", "green"),
    Status("order.imported-as-shipped", "Already shipped in Shopify", "gray"),
    Status("order.cancelled-after-shipping", "Cancelled in Shopify after shipping", "amber"),
    Status("order.tracking-changed", "Tracking changed", "gray"),
    Status("shipment.created", "Label made", "blue"),
    Status("shipment.status-changed", "Parcel moved", "gray"),
    Status("shipment.problem", "Shipping problem", "amber"),
    Status("shipment.cancelled", "Label voided", "gray"),
    Status("order.print-jobs-cancelled", "Print jobs cancelled", "gray"),
    Status("build.created", "Build created", "gray"),
    Status("build.status-changed", "Build moved", "gray"),
    Status("print-jobs.created", "Print jobs created", "gray"),
    Status("print-job.submitted", "Sent to the printer", "blue"),
    Status("print-job.not-submitted", "Not sent to the printer", "amber"),
    Status("print-job.status-changed", "Print job moved", "gray"),
    Status("print-job.needs-review", "Print needs a review", "amber"),
    Status("print-job.reviewed", "Print reviewed", "gray"),
    Status("print-job.scrapped", "Print scrapped", "red"),
    Status("simplyprint.reconciled", "Checked with SimplyPrint", "gray"),
)

# The outbound operations the retry queue runs for an order, and their states.
RETRY_OPERATION = StatusTable(
    Status("FULFILLMENT", "Shopify fulfillment", "gray"),
    Status("CANCELLATION", "Shopify cancellation", "gray"),
    Status("PRINT_JOB_CREATION", "Print job creation", "gray"),
    Status("NOTIFICATION", "Customer notification", "gray"),
    Status("SHIPMENT", "Shipment", "gray"),
    Status("GRIDFLOCK_PIPELINE", "Gridfinity pipeline", "gray"),
)
RETRY_STATE = StatusTable(
    Status("PENDING", "Waiting to try again", "amber"),
    Status("PROCESSING", "Trying now", "blue"),
    Status("COMPLETED", "Done", "green"),
    Status("FAILED", "Gave up", "red"),
)

ORDER = Machine(
    "order",
    {
        "PENDING": {"PROCESSING", "COMPLETED", "FAILED", "CANCELLED"},
        "PROCESSING": {"PARTIALLY_COMPLETED", "COMPLETED", "FAILED", "CANCELLED"},
        "PARTIALLY_COMPLETED": {"PROCESSING", "COMPLETED", "FAILED", "CANCELLED"},
        "FAILED": {"PROCESSING", "CANCELLED"},
        "COMPLETED": set(),
        "CANCELLED": set(),
    },
    message="order {number} cannot go from {current} to {target}; allowed: {allowed}",
)
ORDER_TRANSITIONS = ORDER.transitions

# Moves staff make by hand (the page's buttons and PATCH /orders/{id}).
STAFF_FULFILLMENT_STEPS: dict[str, str] = {
    "ready": "packaging",
    "packaging": "shipped",
    "shipped": "completed",
}
# Moves driven by production (builds, print orchestration).
PRODUCTION_FULFILLMENT = {
    "unfulfilled": {"building", "ready"},
    "building": {"testing", "ready", "building"},
    "testing": {"building", "ready", "testing"},
    "ready": {"building", "testing"},
    "packaging": {"building", "testing"},  # a build reopened at packaging (a problem found while packing)
}

FULFILLED = {"shipped", "completed"}
TERMINAL = {"COMPLETED", "CANCELLED"}
# Order revival (seed): a requeued print job brings these back to PROCESSING.
REVIVABLE = {"FAILED", "PARTIALLY_COMPLETED", "CANCELLED"}


def can_change_status(current: str, target: str) -> bool:
    return ORDER.can(current, target)


def allowed_statuses(current: str) -> list[str]:
    return ORDER.allowed(current)


def check_status(number: str, current: str, target: str) -> None:
    """Raise InvalidTransition unless order `number` may go from `current` to `target`."""
    ORDER.check(current, target, number=number)


def next_staff_step(fulfillment_status: str) -> str | None:
    return STAFF_FULFILLMENT_STEPS.get(fulfillment_status)


def can_cancel(status: str, fulfillment_status: str) -> bool:
    return status != "COMPLETED" and fulfillment_status not in FULFILLED


def words(table: StatusTable, value: str) -> str:
    """A value's label, or for a value the table does not know yet, its words
    ("print-job.paused" reads "Print job paused", PARTLY_DONE "Partly done")."""
    if value in table:
        return table.label(value)
    text = value.replace(".", " ").replace("-", " ").replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


_REFUSED = re.compile(r"Shopify refused the (\w+): (.+)", re.S)


def retry_error(job_type: str, error: str) -> str:
    """What went wrong with an outbound operation, as a sentence for staff;
    the technical text (the stored `last_error`) stays behind "Show details"."""
    text = re.sub(r"^[A-Za-z_.]*(Error|Exception): ", "", (error or "").strip())
    if not text:
        return ""
    operation = words(RETRY_OPERATION, job_type).lower().removeprefix("shopify ")
    refused = _REFUSED.search(text)
    if refused:
        return f"Shopify refused the {refused.group(1)}: {refused.group(2).strip().rstrip('.')}."
    lowered = text.lower()
    if "unreachable" in lowered or "timed out" in lowered or ("connect" in lowered and "not connected" not in lowered):
        return "Shopify could not be reached."
    if "not connected" in lowered:
        return f"Shopify is not connected, so the {operation} could not be sent. Connect it in Settings › Integrations."
    if "access token" in lowered or "401" in lowered:
        return "Shopify refused our access token. Reconnect Shopify in Settings › Integrations."
    if "throttl" in lowered:
        return "Shopify was busy and asked us to slow down."
    if re.search(r"answered 5\d\d", lowered):
        return "Shopify had a problem on its side."
    if "shopify" in lowered:
        return f"Shopify did not accept the {operation}."
    return f"The {operation} did not go through."
