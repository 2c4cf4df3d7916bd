"""Order state machines (pure): which status and fulfillment moves are allowed.

Order status (seed: Order Status): PENDING → PROCESSING → COMPLETED, with
PARTIALLY_COMPLETED / FAILED when print work fails, revival back to PROCESSING,
and CANCELLED from any state that has not shipped.

Fulfillment (seed 000): unfulfilled → building → testing → ready (driven by
the build or by print orchestration), then staff advance ready → packaging →
shipped → completed. An order with nothing left to produce may be marked
ready by staff directly.
"""

from __future__ import annotations

ORDER_STATUSES = ("PENDING", "PROCESSING", "PARTIALLY_COMPLETED", "COMPLETED", "FAILED", "CANCELLED")
LINE_ITEM_STATUSES = ("PENDING", "PRINTING", "PARTIALLY_COMPLETED", "COMPLETED", "FAILED")
FULFILLMENT_STATUSES = ("unfulfilled", "building", "testing", "ready", "packaging", "shipped", "completed")
SOURCES = ("shopify", "builder", "manual")

ORDER_TRANSITIONS: dict[str, set[str]] = {
    "PENDING": {"PROCESSING", "COMPLETED", "FAILED", "CANCELLED"},
    "PROCESSING": {"PARTIALLY_COMPLETED", "COMPLETED", "FAILED", "CANCELLED"},
    "PARTIALLY_COMPLETED": {"PROCESSING", "COMPLETED", "FAILED", "CANCELLED"},
    "FAILED": {"PROCESSING", "CANCELLED"},
    "COMPLETED": set(),
    "CANCELLED": set(),
}

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
}

FULFILLED = {"shipped", "completed"}
TERMINAL = {"COMPLETED", "CANCELLED"}
# Order revival (seed): a requeued print job brings these back to PROCESSING.
REVIVABLE = {"FAILED", "PARTIALLY_COMPLETED", "CANCELLED"}


def can_change_status(current: str, target: str) -> bool:
    return target in ORDER_TRANSITIONS.get(current, set())


def allowed_statuses(current: str) -> list[str]:
    return sorted(ORDER_TRANSITIONS.get(current, set()))


def next_staff_step(fulfillment_status: str) -> str | None:
    return STAFF_FULFILLMENT_STEPS.get(fulfillment_status)


def can_cancel(status: str, fulfillment_status: str) -> bool:
    return status != "COMPLETED" and fulfillment_status not in FULFILLED
