"""The SimplyPrint card on Settings › Integrations."""

from __future__ import annotations

import reflex as rx

from app.printing import machine
from components.ui import confirm_button, field, status_badge, webhook_address
from state.simplyprint_settings import SimplyPrintSettingsState as SP


def _status() -> rx.Component:
    return rx.vstack(
        rx.cond(
            SP.sp_connected,
            rx.text(
                "Connected to company ",
                rx.code(SP.sp_company_id),
                " since ",
                SP.sp_connected_at,
                ". The reconciliation poll runs every ",
                SP.sp_poll_minutes,
                " minutes.",
                size="2",
                data_testid="simplyprint-connected",
            ),
            rx.callout(
                "Not connected: the print farm runs in manual mode. Operators move print jobs through "
                "their statuses by hand on the print farm page.",
                icon="hand",
                color_scheme="amber",
                width="100%",
                data_testid="simplyprint-manual",
            ),
        ),
        rx.cond(
            SP.sp_connected,
            rx.hstack(
                rx.text(
                    "Last poll: ",
                    rx.cond(SP.sp_last_poll != "", SP.sp_last_poll, "not yet"),
                    size="2",
                    data_testid="simplyprint-last-poll",
                ),
                rx.cond(
                    SP.sp_last_error != "",
                    rx.vstack(
                        rx.text(
                            "Last error: ",
                            SP.sp_last_error,
                            size="2",
                            color_scheme="red",
                            data_testid="simplyprint-last-error",
                        ),
                        rx.cond(
                            SP.sp_last_error_detail != "",
                            rx.el.details(
                                rx.el.summary(
                                    rx.text("Show details", as_="span", size="1", color_scheme="gray"),
                                    cursor="pointer",
                                ),
                                rx.code(
                                    SP.sp_last_error_detail,
                                    size="1",
                                    variant="ghost",
                                    color_scheme="gray",
                                    white_space="pre-wrap",
                                ),
                            ),
                        ),
                        spacing="1",
                    ),
                ),
                spacing="4",
                wrap="wrap",
            ),
        ),
        webhook_address(
            "Webhook address to enter in SimplyPrint (Settings › Webhooks, events job.*), with the webhook "
            "secret below as its secret:",
            SP.sp_webhook_url,
            "simplyprint-webhook-url",
        ),
        spacing="2",
        width="100%",
    )


def simplyprint_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("printer", size=20),
                rx.heading("SimplyPrint", size="4"),
                status_badge(SP.sp_sync, machine.SYNC, white_space="nowrap", data_testid="simplyprint-sync"),
                rx.spacer(),
                rx.cond(
                    SP.sp_connected,
                    rx.button(
                        rx.icon("activity", size=14),
                        "Test connection",
                        size="1",
                        variant="soft",
                        loading=SP.sp_testing,
                        on_click=SP.test,
                        data_testid="simplyprint-test",
                    ),
                ),
                rx.cond(
                    SP.sp_connected,
                    confirm_button(
                        "Disconnect",
                        "Disconnect SimplyPrint?",
                        "No more jobs go to SimplyPrint and its webhooks are refused; the print farm switches to "
                        "manual mode. Print jobs already here stay.",
                        SP.disconnect,
                        icon="unplug",
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(SP.sp_loaded, _status()),
            rx.cond(
                SP.sp_test_result != "",
                rx.callout(
                    SP.sp_test_result,
                    icon=rx.cond(SP.sp_test_ok, "circle-check", "circle-x"),
                    color_scheme=rx.cond(SP.sp_test_ok, "green", "red"),
                    width="100%",
                    data_testid="simplyprint-test-result",
                ),
            ),
            rx.cond(
                SP.sp_form_error != "",
                rx.callout(
                    SP.sp_form_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    width="100%",
                    data_testid="simplyprint-error",
                ),
            ),
            rx.form(
                rx.grid(
                    field(
                        "Company id",
                        rx.input(
                            name="sp_company_id",
                            default_value=SP.sp_company_id,
                            required=True,
                            placeholder="the number in simplyprint.io/panel/…",
                            input_mode="numeric",
                        ),
                    ),
                    field(
                        "API key",
                        rx.input(
                            name="sp_api_key",
                            type="password",
                            required=True,
                            placeholder=rx.cond(SP.sp_connected, "enter it again to change", ""),
                        ),
                    ),
                    field("Webhook secret", rx.input(name="sp_webhook_secret", type="password", required=True)),
                    rx.box(display=rx.breakpoints(initial="none", sm="block")),
                    field(
                        "API address (self-hosted or test server only)",
                        rx.input(
                            name="sp_api_base_url",
                            default_value=SP.sp_api_base_url,
                            placeholder="https://api.simplyprint.io",
                        ),
                    ),
                    field(
                        "Files address (self-hosted or test server only)",
                        rx.input(
                            name="sp_files_base_url",
                            default_value=SP.sp_files_base_url,
                            placeholder="https://files.simplyprint.io",
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.flex(
                    rx.button(
                        rx.cond(SP.sp_connected, "Update SimplyPrint", "Connect SimplyPrint"),
                        type="submit",
                        data_testid="simplyprint-connect",
                    ),
                    rx.text(
                        "The key is checked before it is saved. Key and secret are stored encrypted and never "
                        "shown again.",
                        size="1",
                        color_scheme="gray",
                    ),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                    margin_top="12px",
                ),
                on_submit=SP.connect,
                reset_on_submit=False,
                key=SP.sp_connected_at,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="simplyprint-card",
    )
