"""The repairs pages' shared header: one navigation entry ("Repairs", the
dashboard) and these tabs across every repairs page."""

from __future__ import annotations

import reflex as rx

# (key, label, icon, address)
TABS: tuple[tuple[str, str, str, str], ...] = (
    ("dashboard", "Dashboard", "layout-dashboard", "/repairs"),
    ("batches", "Batches", "inbox", "/repairs/batches"),
    ("assets", "Assets", "smartphone", "/repairs/assets"),
    ("qc", "QC workbench", "stethoscope", "/repairs/qc"),
    ("unmapped", "Unmapped codes", "circle-help", "/repairs/unmapped"),
    ("worksheets", "Worksheets", "wrench", "/repairs/worksheets"),
    ("dispatches", "Dispatches", "truck", "/repairs/dispatches"),
    ("invoices", "Invoices", "receipt", "/repairs/invoices"),
    ("clients", "Clients", "building-2", "/repairs/clients"),
    ("devices", "Device models", "tablet-smartphone", "/repairs/devices"),
    ("technicians", "Technicians", "users", "/repairs/technicians"),
    ("codes", "Codes & prices", "tags", "/repairs/codes"),
    ("imports", "Bulk upload", "upload", "/repairs/imports"),
)


def repairs_tabs(active: str) -> rx.Component:
    """The tab row; `active` is one of the TABS keys (the page's constant)."""
    return rx.flex(
        *[
            rx.link(
                rx.button(
                    rx.icon(icon, size=14),
                    label,
                    size="1",
                    radius="full",
                    **({"variant": "solid"} if key == active else {"variant": "soft", "color_scheme": "gray"}),
                ),
                href=href,
                underline="none",
                data_testid=f"repairs-tab-{key}",
            )
            for key, label, icon, href in TABS
        ],
        spacing="2",
        wrap="wrap",
        data_testid="repairs-tabs",
    )
