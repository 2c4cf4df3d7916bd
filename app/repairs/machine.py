"""Repair lifecycles (pure): the asset's statuses and allowed moves, worksheets,
dispatches, invoices, expected batches.

An asset: received → in triage → (BER review → in repair | returned unrepaired
| scrapped) | awaiting parts → in repair → final QC → ready for dispatch →
dispatched → invoiced. Any working status may go on hold; a held asset goes
back to the status it was held from (`repair_assets.held_from`). A failed final
QC sends the asset back to repair.
"""

from __future__ import annotations

from app.platform.errors import InvalidTransition
from app.platform.machine import Machine, Status, StatusTable

ASSET_STATUS = StatusTable(
    Status("received", "Received", "gray"),
    Status("in_triage", "In triage", "blue"),
    Status("ber_review", "BER review", "orange"),
    Status("awaiting_parts", "Awaiting parts", "amber"),
    Status("in_repair", "In repair", "blue"),
    Status("final_qc", "Final QC", "violet"),
    Status("ready_for_dispatch", "Ready for dispatch", "teal"),
    Status("return_unrepaired", "Return unrepaired", "orange"),
    Status("scrapped", "Scrapped", "red"),
    Status("dispatched", "Dispatched", "green"),
    Status("invoiced", "Invoiced", "green"),
    Status("on_hold", "On hold", "gray"),
)
ASSET_STATUSES = ASSET_STATUS.values

# Where work happens: an asset in one of these may be put on hold.
WORKING = frozenset({"received", "in_triage", "ber_review", "awaiting_parts", "in_repair", "final_qc"})
# Waiting to leave the shop: a dispatch takes assets in these.
DISPATCHABLE = frozenset({"ready_for_dispatch", "return_unrepaired"})
# Still in the shop (work in progress, the dashboard counts them).
IN_SHOP = WORKING | DISPATCHABLE | {"on_hold"}

ASSET = Machine(
    "asset",
    {
        "received": {"in_triage", "on_hold"},
        "in_triage": {"ber_review", "awaiting_parts", "in_repair", "return_unrepaired", "on_hold"},
        "ber_review": {"in_repair", "awaiting_parts", "return_unrepaired", "scrapped", "on_hold"},
        "awaiting_parts": {"in_repair", "on_hold"},
        "in_repair": {"awaiting_parts", "final_qc", "ber_review", "on_hold"},
        "final_qc": {"ready_for_dispatch", "in_repair", "on_hold"},
        "ready_for_dispatch": {"dispatched"},
        "return_unrepaired": {"dispatched"},
        "dispatched": {"invoiced"},
        "scrapped": {"invoiced"},
        "invoiced": set(),
        "on_hold": set(WORKING),  # back to where it was held (the service checks held_from)
    },
    order=ASSET_STATUSES,
    details=True,
)

TRIAGE_RESULT = StatusTable(
    Status("repairable", "Repairable", "green"),
    Status("ber_suspected", "Beyond economic repair?", "orange"),
    Status("no_fault", "No fault found", "gray"),
    Status("unrepairable", "Cannot be repaired", "red"),
)

BER_DECISION = StatusTable(
    Status("repair", "Repair", "green"),
    Status("return_unrepaired", "Return unrepaired", "orange"),
    Status("scrap", "Scrap", "red"),
)
# decision → the asset's next status
BER_NEXT = {"repair": "in_repair", "return_unrepaired": "return_unrepaired", "scrap": "scrapped"}

WORKSHEET_STATUS = StatusTable(
    Status("open", "Open", "blue"),
    Status("in_qc", "In final QC", "violet"),
    Status("passed", "Passed QC", "green"),
    Status("cancelled", "Cancelled", "gray"),
)
WORKSHEET = Machine(
    "worksheet",
    {"open": {"in_qc", "cancelled"}, "in_qc": {"passed", "open"}, "passed": set(), "cancelled": set()},
    order=WORKSHEET_STATUS.values,
    message="a worksheet that is {current} cannot go to {target}; allowed: {allowed}",
)

BATCH_STATUS = StatusTable(
    Status("expected", "Expected", "gray"),
    Status("receiving", "Receiving", "blue"),
    Status("received", "Received", "green"),
    Status("closed", "Closed", "gray"),
)
BATCH = Machine(
    "batch",
    {"expected": {"receiving", "closed"}, "receiving": {"received", "closed"}, "received": {"receiving", "closed"}},
    order=BATCH_STATUS.values,
    message="a batch that is {current} cannot go to {target}; allowed: {allowed}",
)

DISPATCH_STATUS = StatusTable(
    Status("open", "Open", "blue"),
    Status("finalized", "Finalized", "green"),
    Status("cancelled", "Cancelled", "gray"),
)
DISPATCH = Machine(
    "dispatch",
    {"open": {"finalized", "cancelled"}, "finalized": set(), "cancelled": set()},
    order=DISPATCH_STATUS.values,
    message="a dispatch that is {current} cannot go to {target}; allowed: {allowed}",
)

INVOICE_STATUS = StatusTable(
    Status("draft", "Draft", "gray"),
    Status("sent", "Sent", "blue"),
    Status("paid", "Paid", "green"),
    Status("void", "Void", "red"),
)
INVOICE = Machine(
    "invoice",
    {"draft": {"sent", "void"}, "sent": {"paid", "void"}, "paid": set(), "void": set()},
    order=INVOICE_STATUS.values,
    message="an invoice that is {current} cannot go to {target}; allowed: {allowed}",
)

DIAGNOSTIC_LOG_STATUS = StatusTable(
    Status("queued", "Queued", "gray"),
    Status("parsing", "Parsing", "blue"),
    Status("parsed", "Parsed", "green"),
    Status("failed", "Failed", "red"),
)

CODE_SOURCES = ("triage", "drfone", "drfone_auto", "migrated", "worksheet")


def asset_words(status: str) -> str:
    return ASSET_STATUS.label(status).lower() if status in ASSET_STATUS else status


def check_asset_move(current: str, target: str, *, held_from: str = "") -> None:
    """Refuse an asset move the lifecycle does not allow (the message lists the
    allowed ones). A held asset goes back only to the status it was held from."""
    if current == "on_hold" and target in WORKING:
        if held_from and target != held_from:
            raise InvalidTransition(
                f"an asset on hold goes back to {asset_words(held_from)}, where it was held; "
                f"it cannot go to {asset_words(target)}",
                details={"allowed": [held_from]},
            )
        return
    if not ASSET.can(current, target):
        allowed = ASSET.allowed(current)
        raise InvalidTransition(
            f"an asset that is {asset_words(current)} cannot go to {asset_words(target)}; allowed: "
            + (", ".join(asset_words(s) for s in allowed) or "none (final)"),
            details={"allowed": allowed},
        )


def asset_moves(current: str, *, held_from: str = "") -> list[str]:
    """The statuses an asset may be moved to by hand from `current`."""
    if current == "on_hold":
        return [held_from] if held_from else sorted(WORKING)
    return ASSET.allowed(current)
