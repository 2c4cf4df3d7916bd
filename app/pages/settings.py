"""/settings: the shop's own settings (money and time); /settings/integrations:
connect Shopify, import orders; connect SimplyPrint."""

from __future__ import annotations

import reflex as rx

from app.pages.grid_settings_card import grid_settings_card
from app.pages.inventory_settings_card import inventory_settings_card
from app.pages.sendcloud_card import sendcloud_card
from app.pages.simplyprint_card import simplyprint_card
from app.platform.formatting import CURRENCIES, LOCALES
from app.platform.machine import RUN_STATUS
from components.layout import staff_page
from components.ui import confirm_button, field, loading_table, status_badge
from state.grid_settings import GridSettingsState
from state.inventory_settings import InventorySettingsState
from state.sendcloud_settings import SendcloudSettingsState
from state.settings import IntegrationsState as S
from state.settings import ShopSettingsState as Shop
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
                    columns=rx.breakpoints(initial="1", sm="2"),
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
                flex_wrap="wrap",
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


# --- Settings › Shop ---------------------------------------------------------------------------


def _error(name: str) -> rx.Component:
    return rx.cond(
        Shop.errors.contains(name),
        rx.text(Shop.errors[name], size="1", color_scheme="red", data_testid=f"error-{name}"),
    )


def _value(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.text(value, size="2", data_testid=testid),
        spacing="1",
        width="100%",
    )


def _shop_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                Shop.errors.contains("form"),
                rx.callout(Shop.errors["form"], icon="triangle-alert", color_scheme="red", width="100%"),
            ),
            rx.grid(
                rx.vstack(
                    field(
                        "Language and formats",
                        rx.select.root(
                            rx.select.trigger(aria_label="Language and formats", data_testid="shop-locale"),
                            rx.select.content(*[rx.select.item(text, value=v) for v, text in LOCALES.items()]),
                            name="locale",
                            default_value=Shop.locale,
                        ),
                    ),
                    _error("locale"),
                    spacing="1",
                    width="100%",
                ),
                rx.vstack(
                    field(
                        "Currency",
                        rx.select.root(
                            rx.select.trigger(aria_label="Currency", data_testid="shop-currency"),
                            rx.select.content(*[rx.select.item(c, value=c) for c in CURRENCIES]),
                            name="currency",
                            default_value=Shop.currency,
                        ),
                    ),
                    _error("currency"),
                    spacing="1",
                    width="100%",
                ),
                rx.vstack(
                    field(
                        "Time zone",
                        rx.input(
                            name="timezone",
                            default_value=Shop.timezone,
                            placeholder="Region/City, e.g. Europe/Amsterdam",
                            data_testid="shop-timezone",
                        ),
                    ),
                    _error("timezone"),
                    spacing="1",
                    width="100%",
                ),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="3",
                width="100%",
            ),
            rx.button(rx.icon("save", size=16), "Save", type="submit", data_testid="shop-save"),
            spacing="3",
            width="100%",
        ),
        on_submit=Shop.save,
        reset_on_submit=False,
        width="100%",
    )


def _shop_values() -> rx.Component:
    return rx.grid(
        _value("Language and formats", Shop.locale_label, "shop-locale-value"),
        _value("Currency", Shop.currency, "shop-currency-value"),
        _value("Time zone", Shop.timezone, "shop-timezone-value"),
        columns=rx.breakpoints(initial="1", sm="3"),
        spacing="3",
        width="100%",
    )


def _shop_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("store", size=20), rx.heading("Shop", size="4"), align="center"),
            rx.text(
                "How ",
                rx.text.strong(Shop.name),
                " writes money, dates and times on every page, list and export.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(Shop.can_edit, _shop_form(), _shop_values()),
            rx.hstack(
                rx.badge(rx.icon("banknote", size=12), Shop.sample_money, variant="soft", data_testid="sample-money"),
                rx.badge(rx.icon("clock", size=12), Shop.sample_when, variant="soft", data_testid="sample-when"),
                rx.text("as the shop writes them now", size="1", color_scheme="gray"),
                align="center",
                spacing="2",
                flex_wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="shop-card",
    )


@staff_page(
    "/settings",
    "Settings",
    permission="settings.read",
    icon="settings",
    section="Admin",
    on_load=[Shop.load, InventorySettingsState.load, GridSettingsState.load],
)
def settings_page() -> rx.Component:
    return rx.cond(
        Shop.loaded,
        rx.vstack(
            _shop_card(),
            inventory_settings_card(),
            grid_settings_card(),
            rx.cond(
                Shop.can_edit,
                rx.card(
                    rx.hstack(
                        rx.icon("plug", size=18),
                        rx.text("Shopify, SimplyPrint and Sendcloud connections, and order imports:", size="2"),
                        rx.link("Integrations", href="/settings/integrations", size="2"),
                        align="center",
                        spacing="2",
                        flex_wrap="wrap",
                    ),
                    width="100%",
                ),
            ),
            spacing="4",
            width="100%",
        ),
        loading_table(),
    )


@staff_page(
    "/settings/integrations",
    "Integrations",
    permission="settings.write",
    icon="plug",
    section="Admin",
    on_load=[S.load, SimplyPrintSettingsState.load, SendcloudSettingsState.load],
)
def integrations_page() -> rx.Component:
    return rx.cond(
        S.loaded,
        rx.vstack(_connection(), _backfill(), simplyprint_card(), sendcloud_card(), spacing="4", width="100%"),
        loading_table(),
    )
