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
ORDER_STATUSES = ORDER_STATUS.values
LINE_ITEM_STATUSES = ("PENDING", "PRINTING", "PARTIALLY_COMPLETED", "COMPLETED", "FAILED", "CANCELLED")
FULFILLMENT_STATUSES = FULFILLMENT_STATUS.values
SOURCES = ("shopify", "builder", "manual")

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
