"""Demo spare parts for repairs: fifteen parts a phone, tablet and laptop
repair counter keeps (screens, batteries, charge ports, cameras, housings,
boards), counted onto the shelf through the real services, with one delivery
received and one breakage written off, so the ledger has a history. Three
are below their minimum (one of them out of stock), so the low filter shows
something.

Idempotent: a shop with any spare part has its demo (or its own parts) and
is left alone.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.inventory import service
from app.inventory.models import SparePart
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.models import User
from app.platform.permissions import PERMISSIONS

# sku, name, manufacturer, category, compatible models, unit cost, on the shelf, minimum, location
PARTS: tuple[tuple[str, str, str, str, tuple[str, ...], str, int, int, str], ...] = (
    ("SCR-IP12-OLED", "iPhone 12 screen, OLED", "Apple", "screen", ("iPhone 12", "iPhone 12 Pro"), "89.90", 6, 3, "A1"),
    ("SCR-IP13-OLED", "iPhone 13 screen, OLED", "Apple", "screen", ("iPhone 13",), "104.50", 2, 3, "A1"),
    ("SCR-S21-AMOLED", "Galaxy S21 screen, AMOLED", "Samsung", "screen", ("Galaxy S21",), "119.00", 3, 2, "A2"),
    ("SCR-IPAD9-DIG", "iPad 9th gen digitizer", "Apple", "screen", ("iPad 9", "iPad 8"), "39.90", 4, 2, "A3"),
    ("BAT-IP11", "iPhone 11 battery, 3110 mAh", "Apple", "battery", ("iPhone 11",), "18.50", 12, 5, "B1"),
    (
        "BAT-IP12",
        "iPhone 12 battery, 2815 mAh",
        "Apple",
        "battery",
        ("iPhone 12", "iPhone 12 Pro"),
        "21.00",
        9,
        5,
        "B1",
    ),
    ("BAT-PX7", "Pixel 7 battery", "Google", "battery", ("Pixel 7",), "24.00", 1, 2, "B2"),
    ("BAT-MBA-A2337", "MacBook Air M1 battery (A2389)", "Apple", "battery", ("MacBook Air M1",), "79.00", 2, 1, "B3"),
    ("PORT-IP12-LTN", "iPhone 12 Lightning charge port flex", "Apple", "port", ("iPhone 12",), "9.80", 8, 4, "C1"),
    (
        "PORT-S21-USBC",
        "Galaxy S21 USB-C charge port board",
        "Samsung",
        "port",
        ("Galaxy S21", "Galaxy S21+"),
        "12.40",
        5,
        3,
        "C1",
    ),
    ("PORT-PX6-USBC", "Pixel 6 USB-C charge port", "Google", "port", ("Pixel 6", "Pixel 6 Pro"), "11.00", 0, 2, "C2"),
    ("CAM-IP13-REAR", "iPhone 13 rear camera module", "Apple", "camera", ("iPhone 13",), "45.00", 3, 1, "D1"),
    ("CAM-S22-FRONT", "Galaxy S22 front camera", "Samsung", "camera", ("Galaxy S22",), "14.90", 4, 1, "D1"),
    ("HSG-IP12-BLK", "iPhone 12 back housing, black", "Apple", "housing", ("iPhone 12",), "29.00", 2, 1, "E1"),
    (
        "BRD-TP-E14-DC",
        "ThinkPad E14 DC-in board",
        "Lenovo",
        "board",
        ("ThinkPad E14 Gen 2", "ThinkPad E15 Gen 2"),
        "17.50",
        3,
        1,
        "E2",
    ),
)


def _actor(session: Session) -> Principal:
    """The demo's operator (named in the ledger), or an anonymous demo actor."""
    user = session.exec(select(User).where(User.username == "operator")).first()
    return Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=user.id if user else None,
        username=user.username if user else "demo",
        display_name=(user.display_name or user.username) if user else "Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )


def load(session: Session) -> None:
    if session.exec(select(SparePart)).first() is not None:
        return
    actor = _actor(session)
    made: dict[str, SparePart] = {}
    for sku, name, maker, category, models, cost, units, minimum, location in PARTS:
        made[sku] = service.create_spare_part(
            session,
            service.SparePartData(
                sku=sku,
                name=name,
                manufacturer=maker,
                category=category,
                compatible_models=list(models),
                unit_cost=cost,
                minimum_stock=minimum,
                location=f"Shelf {location}",
                stock=units,
            ),
            actor=actor,
        )
    service.receive_spare_part(session, made["BAT-IP11"].id, 6, actor=actor, reason="supplier delivery 2291")
    service.adjust_spare_part(
        session, made["SCR-IP12-OLED"].id, -1, actor=actor, reason="cracked in the box, sent back to the supplier"
    )
