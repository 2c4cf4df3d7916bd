"""How a part stands in this shop: the words and colours the staff catalog shows."""

from __future__ import annotations

from app.platform.machine import Status, StatusTable

#: A catalog part in this shop: sold in the builder, offered but withdrawn, or never offered.
OFFER_STATUS = StatusTable(
    Status("active", "For sale", "green"),
    Status("inactive", "Not for sale", "gray"),
    Status("unsold", "Not offered", "gray"),
)


def offer_status(offered: bool, active: bool) -> str:
    """The OFFER_STATUS value of a part with (or without) an offer."""
    if not offered:
        return "unsold"
    return "active" if active else "inactive"
