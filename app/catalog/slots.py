"""The eight slots of a PC build, the parts catalog is grouped by."""

from __future__ import annotations

SLOTS: tuple[str, ...] = ("cpu", "motherboard", "ram", "gpu", "storage", "psu", "case", "cooler")
SLOT_TITLES: dict[str, str] = {
    "cpu": "CPU",
    "motherboard": "Motherboard",
    "ram": "Memory",
    "gpu": "Graphics card",
    "storage": "Storage",
    "psu": "Power supply",
    "case": "Case",
    "cooler": "CPU cooler",
}
