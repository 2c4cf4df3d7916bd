"""The Sendcloud card on Settings › Integrations."""

from __future__ import annotations

import reflex as rx

from components.ui import confirm_button, field, webhook_address
from state.sendcloud_settings import LABEL_FORMATS, Option
from state.sendcloud_settings import SendcloudSettingsState as SC


def _number(name: str, value: rx.Var, unit: str, **props) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right"),
        name=name,
        default_value=value,
        input_mode="numeric",
        pattern="[0-9]*",
        **props,
    )


def _size(prefix: str, length: rx.Var, width: rx.Var, height: rx.Var) -> rx.Component:
    return rx.grid(
        _number(f"{prefix}_length", length, "cm", aria_label="Length in cm", placeholder="length"),
        _number(f"{prefix}_width", width, "cm", aria_label="Width in cm", placeholder="width"),
        _number(f"{prefix}_height", height, "cm", aria_label="Height in cm", placeholder="height"),
        columns="3",
        spacing="2",
        width="100%",
    )


def _choice(name: str, value: rx.Var, options: rx.Var[list[Option]], label: str, testid: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, placeholder="Choose…", width="100%", data_testid=testid),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
        name=name,
        default_value=value,
    )


def _status() -> rx.Component:
    return rx.cond(
        SC.sc_connected,
        rx.vstack(
            rx.text(
                "Connected since ",
                SC.sc_connected_at,
                ". Labels are made for orders ready to ship; parcels are checked every ",
                SC.sc_minutes,
                " minutes besides Sendcloud's own news.",
                size="2",
                data_testid="sendcloud-connected",
            ),
            rx.flex(
                rx.text(
                    "Last tracking check: ",
                    rx.cond(SC.sc_last_poll != "", SC.sc_last_poll, "not yet"),
                    size="2",
                ),
                rx.cond(
                    SC.sc_last_error != "",
                    rx.text(SC.sc_last_error, size="2", color_scheme="red", data_testid="sendcloud-last-error"),
                ),
                spacing="4",
                wrap="wrap",
            ),
            webhook_address(
                "Webhook address to enter in Sendcloud (Settings › Integrations › your API integration, "
                "“Webhook feedback enabled”), so parcels move here the moment the carrier reports them:",
                SC.sc_webhook_url,
                "sendcloud-webhook-url",
            ),
            spacing="2",
            width="100%",
        ),
        rx.callout(
            "Not connected: no labels are made. Staff write the carrier and tracking number on each order when "
            "they ship it, and the packing bench prints packing slips only.",
            icon="hand",
            color_scheme="amber",
            width="100%",
            data_testid="sendcloud-manual",
        ),
    )


def _connect_form() -> rx.Component:
    return rx.form(
        rx.grid(
            field("Public key", rx.input(name="sc_public_key", required=True, auto_complete="off")),
            field("Secret key", rx.input(name="sc_secret_key", type="password", required=True, auto_complete="off")),
            field(
                "Webhook signature key (optional)",
                rx.input(
                    name="sc_webhook_secret",
                    type="password",
                    placeholder="leave empty: the secret key signs the webhooks",
                    auto_complete="off",
                ),
            ),
            rx.box(display=rx.breakpoints(initial="none", sm="block")),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.el.details(
            rx.el.summary(rx.text("Advanced", as_="span", size="2", color_scheme="gray"), cursor="pointer"),
            rx.box(
                field(
                    "API address (a test server only)",
                    rx.input(
                        name="sc_api_base_url",
                        default_value=SC.sc_api_base_url,
                        placeholder="https://panel.sendcloud.sc",
                    ),
                ),
                max_width="420px",
                padding_top="8px",
            ),
            margin_top="12px",
        ),
        rx.flex(
            rx.button("Connect Sendcloud", type="submit", loading=SC.sc_saving, data_testid="sendcloud-connect"),
            rx.text(
                "The keys are checked with Sendcloud before they are saved; they are stored encrypted and never "
                "shown again.",
                size="1",
                color_scheme="gray",
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            margin_top="12px",
        ),
        on_submit=SC.connect,
        reset_on_submit=False,
        width="100%",
        data_testid="sendcloud-connect-form",
    )


def _settings_form() -> rx.Component:
    return rx.form(
        rx.cond(
            SC.sc_choices_loading,
            rx.text(
                "Asking Sendcloud for your sender addresses and shipping methods…",
                size="1",
                color_scheme="gray",
                margin_bottom="8px",
            ),
        ),
        rx.cond(
            SC.sc_choices_error != "",
            rx.callout(
                SC.sc_choices_error,
                icon="cloud-alert",
                color_scheme="amber",
                width="100%",
                margin_bottom="12px",
            ),
        ),
        rx.grid(
            field(
                "Sender address",
                _choice("sc_sender", SC.sc_sender, SC.sc_senders, "Sender address", "sendcloud-sender"),
            ),
            field(
                "Default shipping method",
                _choice("sc_method", SC.sc_method, SC.sc_methods, "Default shipping method", "sendcloud-method"),
            ),
            field(
                "Method for service point orders",
                _choice(
                    "sc_point_method",
                    SC.sc_point_method,
                    SC.sc_point_methods,
                    "Shipping method to service points",
                    "sendcloud-point-method",
                ),
            ),
            field(
                "Label format",
                rx.select.root(
                    rx.select.trigger(aria_label="Label format", width="100%", data_testid="sendcloud-format"),
                    rx.select.content(*[rx.select.item(text, value=v) for v, text in LABEL_FORMATS]),
                    name="sc_label_format",
                    default_value=SC.sc_label_format,
                ),
            ),
            field(
                "Check parcels with Sendcloud every",
                _number("sc_minutes", SC.sc_minutes, "minutes", aria_label="Minutes between tracking checks"),
            ),
            field(
                "Parcel weight when its products do not say",
                _number("sc_weight", SC.sc_weight, "g", aria_label="Default weight in grams"),
            ),
            field("Parcel size", _size("sc", SC.sc_length, SC.sc_width, SC.sc_height)),
            field(
                "A PC packed in its box weighs",
                _number("sc_pc_weight", SC.sc_pc_weight, "g", aria_label="PC weight in grams"),
            ),
            field("PC box size", _size("sc_pc", SC.sc_pc_length, SC.sc_pc_width, SC.sc_pc_height)),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.flex(
            rx.button("Save", type="submit", loading=SC.sc_saving, data_testid="sendcloud-save"),
            rx.text("New labels use these; labels already made stay as they are.", size="1", color_scheme="gray"),
            align="center",
            spacing="3",
            wrap="wrap",
            margin_top="12px",
        ),
        on_submit=SC.save,
        reset_on_submit=False,
        key=SC.sc_connected_at,
        width="100%",
        data_testid="sendcloud-settings-form",
    )


def sendcloud_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.icon("truck", size=20),
                rx.heading("Sendcloud", size="4"),
                rx.badge(
                    rx.cond(SC.sc_connected, "Connected", "Manual mode"),
                    color_scheme=rx.cond(SC.sc_connected, "green", "amber"),
                    white_space="nowrap",
                    data_testid="sendcloud-state",
                ),
                rx.spacer(),
                rx.cond(
                    SC.sc_connected,
                    rx.flex(
                        rx.button(
                            rx.icon("activity", size=14),
                            "Test connection",
                            size="1",
                            variant="soft",
                            loading=SC.sc_testing,
                            on_click=SC.test,
                            data_testid="sendcloud-test",
                        ),
                        confirm_button(
                            "Disconnect",
                            "Disconnect Sendcloud?",
                            "Labels will no longer be made; staff record carrier and tracking by hand. Labels "
                            "and parcels already made stay as they are.",
                            SC.disconnect,
                            icon="unplug",
                            testid="sendcloud-disconnect",
                            confirm_testid="sendcloud-disconnect-confirm",
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
                align="center",
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                SC.sc_loaded,
                rx.vstack(
                    _status(),
                    rx.cond(
                        SC.sc_test_result != "",
                        rx.callout(
                            SC.sc_test_result,
                            icon=rx.cond(SC.sc_test_ok, "circle-check", "circle-x"),
                            color_scheme=rx.cond(SC.sc_test_ok, "green", "red"),
                            width="100%",
                            data_testid="sendcloud-test-result",
                        ),
                    ),
                    rx.cond(
                        SC.sc_form_error != "",
                        rx.callout(
                            SC.sc_form_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="sendcloud-error",
                        ),
                    ),
                    rx.cond(SC.sc_connected, _settings_form(), _connect_form()),
                    spacing="3",
                    width="100%",
                ),
                rx.skeleton(rx.box(height="120px", width="100%")),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="sendcloud-card",
    )
