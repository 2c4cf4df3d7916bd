"""/settings/integrations: connect Shopify, import orders; connect SimplyPrint."""

from __future__ import annotations

import reflex as rx

from app.pages.simplyprint_card import simplyprint_card
from app.platform.machine import RUN_STATUS
from components.layout import staff_page
from components.ui import confirm_button, field, loading_table, status_badge
from state.settings import IntegrationsState as S
from state.simplyprint_settings import SimplyPrintSettingsState


def _connection() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("shopping-bag", size=20),
                rx.heading("Shopify", size="4"),
                rx.cond(
                    S.connected,
                    rx.badge("connected", color_scheme="green"),
                    rx.badge("not connected", color_scheme="gray"),
                ),
                rx.spacer(),
                rx.cond(
                    S.connected,
                    confirm_button(
                        "Disconnect",
                        "Disconnect Shopify?",
                        "New orders stop arriving and webhooks are refused until you connect again. "
                        "Orders already here stay.",
                        S.disconnect,
                        icon="unplug",
                    ),
                ),
                align="center",
                width="100%",
            ),
            rx.cond(
                S.connected,
                rx.text(
                    "Connected to ",
                    rx.code(S.shop_domain),
                    " since ",
                    S.installed,
                    ".",
                    size="2",
                    data_testid="shopify-connected",
                ),
            ),
            rx.text(
                "Webhook address for Shopify: ",
                rx.code("/api/v1/webhooks/shopify"),
                " (topics orders/create, orders/updated, orders/cancelled). Token and secret are stored "
                "encrypted and never shown again.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                S.form_error != "", rx.callout(S.form_error, icon="triangle-alert", color_scheme="red", width="100%")
            ),
            rx.form(
                rx.grid(
                    field(
                        "Shop domain",
                        rx.input(
                            name="shop_domain",
                            placeholder="your-shop.myshopify.com",
                            default_value=S.shop_domain,
                            required=True,
                        ),
                    ),
                    field(
                        "Admin API access token",
                        rx.input(name="access_token", type="password", placeholder="shpat_…", required=True),
                    ),
                    field(
                        "Webhook secret (app client secret)",
                        rx.input(name="webhook_secret", type="password", required=True),
                    ),
                    field(
                        "API address (only for a test shop)",
                        rx.input(name="api_base_url", default_value=S.api_base_url, placeholder="leave empty"),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.button(rx.cond(S.connected, "Update connection", "Connect"), type="submit", margin_top="12px"),
                on_submit=S.connect,
                reset_on_submit=False,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _backfill() -> rx.Component:
    b = S.backfill
    return rx.card(
        rx.vstack(
            rx.heading("Import orders", size="4"),
            rx.text(
                "Fetch orders placed since a date from Shopify. Orders already here are skipped; an "
                "interrupted import resumes where it stopped.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.input(
                    type="date",
                    value=S.since,
                    on_change=S.set_since,
                    aria_label="Import orders since",
                    data_testid="backfill-since",
                ),
                rx.button(
                    rx.icon("download", size=16),
                    "Import orders since this date",
                    on_click=S.start_backfill,
                    disabled=~S.connected | S.running,
                    data_testid="backfill-start",
                ),
                align="center",
            ),
            rx.cond(S.backfill_error != "", rx.callout(S.backfill_error, icon="triangle-alert", color_scheme="red")),
            rx.cond(
                b.id != "",
                rx.vstack(
                    rx.hstack(
                        rx.text("Import since ", b.since, ": ", size="2"),
                        status_badge(b.status, RUN_STATUS, data_testid="backfill-status"),
                        rx.cond(
                            (b.status == "FAILED") | b.stale,
                            rx.button("Resume", size="1", on_click=S.resume_backfill),
                        ),
                        align="center",
                    ),
                    rx.progress(value=S.progress, max=100, width="100%", data_testid="backfill-progress"),
                    rx.text(
                        b.seen,
                        " orders read in ",
                        b.pages,
                        " page(s): ",
                        b.imported,
                        " imported, ",
                        b.skipped,
                        " already here.",
                        size="2",
                        data_testid="backfill-counts",
                    ),
                    rx.cond(b.error != "", rx.text(b.error, color_scheme="red", size="2")),
                    width="100%",
                    spacing="2",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@staff_page(
    "/settings/integrations",
    "Integrations",
    permission="settings.write",
    icon="plug",
    section="Admin",
    on_load=[S.load, SimplyPrintSettingsState.load],
)
def integrations_page() -> rx.Component:
    return rx.cond(
        S.loaded, rx.vstack(_connection(), _backfill(), simplyprint_card(), spacing="4", width="100%"), loading_table()
    )
