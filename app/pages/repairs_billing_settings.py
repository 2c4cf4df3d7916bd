"""The invoice settings on /repairs/invoices: how the shop charges, in words for
everyone, and (for admins) the dialog that changes it and what an invoice says
about the shop. Its state loads with `RepairBillingSettingsState.load_billing`."""

from __future__ import annotations

import reflex as rx

from components.ui import field
from state.repairs_billing_settings import RepairBillingSettingsState as B


def _error(name: str) -> rx.Component:
    return rx.cond(
        B.billing_errors.contains(name),
        rx.text(B.billing_errors[name], size="1", color_scheme="red", data_testid=f"billing-error-{name}"),
    )


def _input(label: str, name: str, value: rx.Var, unit: str | None = None, **props) -> rx.Component:
    slot = [rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right")] if unit else []
    control = rx.input(*slot, name=name, default_value=value, aria_label=label, data_testid=f"billing-{name}", **props)
    return rx.vstack(field(label, control), _error(name), spacing="1", width="100%")


def _dialog() -> rx.Component:
    b = B.billing_view
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("settings-2", size=14),
                "Invoice settings",
                variant="soft",
                size="2",
                on_click=B.open_billing,
                data_testid="billing-settings-open",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Invoice settings"),
            rx.dialog.description(
                "What repair invoices say about the shop and how they charge. Invoices already written keep "
                "their figures; the rate, markup and fee apply from the next finalized dispatch.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        B.billing_errors.contains("_"),
                        rx.callout(B.billing_errors["_"], icon="triangle-alert", color_scheme="red", width="100%"),
                    ),
                    rx.heading("The shop on the invoice", size="2", padding_top="8px"),
                    rx.vstack(
                        field(
                            "Address",
                            rx.text_area(
                                name="shop_address",
                                default_value=b.shop_address,
                                rows="4",
                                placeholder="Street and number\nPostcode and city\nCountry",
                                aria_label="Address",
                                data_testid="billing-shop_address",
                            ),
                        ),
                        _error("shop_address"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.grid(
                        _input("VAT number", "shop_vat_number", b.shop_vat_number, placeholder="NL123456789B01"),
                        _input("Support e-mail", "support_email", b.support_email, type="email"),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.heading("Charging", size="2", padding_top="8px"),
                    rx.grid(
                        _input("VAT rate", "vat_percent", b.vat_percent, "%", input_mode="decimal"),
                        _input(
                            "Markup on spare parts",
                            "parts_markup_percent",
                            b.parts_markup_percent,
                            "%",
                            input_mode="decimal",
                        ),
                        _input("Assessment fee", "assessment_fee", b.assessment_fee, input_mode="decimal"),
                        columns=rx.breakpoints(initial="1", sm="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.text(
                        "The assessment fee is charged for a device returned unrepaired.", size="1", color_scheme="gray"
                    ),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", loading=B.billing_saving, data_testid="billing-save"),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=B.save_billing,
                reset_on_submit=False,
                key=B.billing_version.to_string(),
                width="100%",
            ),
            max_width="620px",
        ),
        open=B.billing_open,
        on_open_change=B.set_billing_open,
    )


def billing_settings_bar() -> rx.Component:
    """The charging rules in a line, with the dialog for those who may change them."""
    return rx.flex(
        rx.icon("receipt-text", size=16, color=rx.color("gray", 10)),
        rx.text(B.billing_view.words, size="2", color_scheme="gray", data_testid="billing-words"),
        rx.spacer(),
        rx.cond(B.billing_can_edit, _dialog()),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )
