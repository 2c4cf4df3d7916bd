"""Shipment lifecycle (pure): statuses, what each Sendcloud parcel status
means for a shipment, and which reported changes may be applied.

Seed 003 (Shipment Status): PENDING (awaiting its label) → LABEL_CREATED →
ANNOUNCED (registered with the carrier) → IN_TRANSIT (picked up, moving) →
DELIVERED, with FAILED (the label could not be made, or the carrier could not
deliver) and CANCELLED (voided). Sendcloud reports numeric parcel status ids
(contract §5); they are not ordered by lifecycle, so each is mapped here and
an id we do not know changes nothing (it is kept in the history).
"""

from __future__ import annotations

from app.platform.machine import Machine, Status, StatusTable

SHIPMENT_STATUS = StatusTable(
    Status("PENDING", "Waiting for its label", "gray"),
    Status("LABEL_CREATED", "Label made", "blue"),
    Status("ANNOUNCED", "Announced to the carrier", "blue"),
    Status("IN_TRANSIT", "In transit", "amber"),
    Status("DELIVERED", "Delivered", "green"),
    Status("FAILED", "Problem", "red"),
    Status("CANCELLED", "Cancelled", "gray"),
)
SHIPMENT_STATUSES = SHIPMENT_STATUS.values
TERMINAL = frozenset({"DELIVERED", "CANCELLED"})
# With the carrier: the label can no longer be voided and the order has shipped.
WITH_CARRIER = frozenset({"IN_TRANSIT", "DELIVERED"})
# A label exists at Sendcloud that cancelling the order must void.
VOIDABLE = frozenset({"PENDING", "LABEL_CREATED", "ANNOUNCED", "FAILED"})

LABEL_FORMAT = StatusTable(
    Status("a6", "A6 label printer"),
    Status("a4", "A4 sheet"),
)

# Sendcloud parcel status id → shipment status (contract §5). None: no change
# of status (the step is still recorded in the tracking history).
SENDCLOUD_STATUS: dict[int, str | None] = {
    999: "PENDING",  # No label
    1001: "PENDING",  # Being announced
    0: "LABEL_CREATED",  # some sample parcels say 0 for ready to send
    1000: "LABEL_CREATED",  # Ready to send
    1002: "FAILED",  # Announcement failed
    1: "ANNOUNCED",
    13: "ANNOUNCED",  # Announced: not collected
    22: "IN_TRANSIT",  # Shipment picked up by driver
    3: "IN_TRANSIT",
    7: "IN_TRANSIT",
    5: "IN_TRANSIT",
    6: "IN_TRANSIT",  # Not sorted (a warning, still moving)
    91: "IN_TRANSIT",
    92: "IN_TRANSIT",  # Driver en route
    4: "IN_TRANSIT",  # Delivery delayed
    8: "IN_TRANSIT",  # Delivery attempt failed (the carrier tries again)
    12: "IN_TRANSIT",  # Awaiting customer pickup
    11: "DELIVERED",
    93: "DELIVERED",  # Collected by customer
    15: "FAILED",  # Error collecting
    80: "FAILED",  # Unable to deliver
    1337: None,  # Unknown status
    1998: "CANCELLED",  # Cancelled upstream
    1999: None,  # Cancellation requested
    2001: None,  # Submitting cancellation request
    2000: "CANCELLED",
}
# Steps worth a second look on the tracking board, though still moving.
WARNING_STATUS_IDS = frozenset({4, 6, 8, 15, 80, 1002})


def status_for(sendcloud_status_id: int | None) -> str | None:
    """The shipment status a Sendcloud parcel status means; None: no change."""
    if sendcloud_status_id is None:
        return None
    return SENDCLOUD_STATUS.get(int(sendcloud_status_id))


# What a reported status may move a shipment to. Delivered and cancelled are
# final: a late "in transit" never moves a delivered parcel back. A carrier
# problem (FAILED) may clear when the parcel moves again.
SHIPMENT = Machine(
    "shipment",
    {
        "PENDING": {"LABEL_CREATED", "ANNOUNCED", "IN_TRANSIT", "DELIVERED", "FAILED", "CANCELLED"},
        "LABEL_CREATED": {"PENDING", "ANNOUNCED", "IN_TRANSIT", "DELIVERED", "FAILED", "CANCELLED"},
        "ANNOUNCED": {"LABEL_CREATED", "IN_TRANSIT", "DELIVERED", "FAILED", "CANCELLED"},
        "IN_TRANSIT": {"DELIVERED", "FAILED", "CANCELLED"},
        "FAILED": {"PENDING", "LABEL_CREATED", "ANNOUNCED", "IN_TRANSIT", "DELIVERED", "CANCELLED"},
        "DELIVERED": set(),
        "CANCELLED": set(),
    },
    order=SHIPMENT_STATUSES,
    message="a shipment cannot go from {current} to {target}; allowed: {allowed}",
)


def may_apply(current: str, target: str) -> bool:
    """A reported status that may be applied (the same status is a no-op)."""
    return current == target or SHIPMENT.can(current, target)
