"""What every inventory operation shares: the ledger entry written with each
stock change, the words for its values, and the live update after commit."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.inventory.models import InventoryTransaction
from app.platform import live
from app.platform.auth import Principal
from app.platform.db import session_tenant_id

SOURCE = "inventory"
LIVE_KIND = "inventory"

# transaction type → direction (seed: Transaction Type, Stock Direction).
# RESERVED / RELEASED move a PC part's reserved quantity (its availability),
# not its units on hand.
DIRECTION: dict[str, str] = {
    "PRODUCED": "IN",
    "CONSUMED": "OUT",
    "ADJUSTMENT_IN": "IN",
    "ADJUSTMENT_OUT": "OUT",
    "SCRAPPED": "OUT",
    "RESERVED": "OUT",
    "RELEASED": "IN",
}
ON_HAND_TYPES = ("PRODUCED", "CONSUMED", "ADJUSTMENT_IN", "ADJUSTMENT_OUT", "SCRAPPED")
TYPE_WORDS = {
    "PRODUCED": "Produced",
    "CONSUMED": "Consumed by an order",
    "ADJUSTMENT_IN": "Adjusted in",
    "ADJUSTMENT_OUT": "Adjusted out",
    "SCRAPPED": "Scrapped",
    "RESERVED": "Reserved for a build",
    "RELEASED": "Reservation released",
}
REFERENCE_WORDS = {"STOCK_BATCH": "Stock batch", "ORDER": "Order", "LINE_ITEM": "Order line", "MANUAL": "By hand"}


def changed(session: Session, **data) -> None:
    """Open inventory pages reload once this transaction commits."""
    live.notify_after_commit(session, LIVE_KIND, **data)


def record(
    session: Session,
    transaction_type: str,
    quantity: int,
    *,
    stock_after: int,
    reference_type: str,
    reference_id: uuid.UUID | str | None = None,
    product_mapping_id: uuid.UUID | None = None,
    part_offer_id: uuid.UUID | None = None,
    sku: str = "",
    order_id: uuid.UUID | None = None,
    line_item_id: uuid.UUID | None = None,
    reason: str = "",
    actor: Principal | None = None,
) -> InventoryTransaction:
    """One ledger entry, in the caller's transaction (the one that changes the figure)."""
    entry = InventoryTransaction(
        tenant_id=session_tenant_id(session),
        product_mapping_id=product_mapping_id,
        part_offer_id=part_offer_id,
        sku=sku[:100],
        transaction_type=transaction_type,
        quantity=quantity,
        direction=DIRECTION[transaction_type],
        reference_type=reference_type,
        reference_id=str(reference_id or "")[:64],
        order_id=order_id,
        line_item_id=line_item_id,
        reason=reason[:500],
        stock_after=stock_after,
        actor_user_id=actor.user_id if actor else None,
    )
    session.add(entry)
    changed(session)
    return entry
