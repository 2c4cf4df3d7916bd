"""The Gridfinity card on /settings: the feature flag, pricing (base price,
price per grid unit, the unit's size, currency), the largest drawer side,
the printer plates are sliced for, and when unused generated jobs expire.
Admins edit; everyone else reads the settings as sentences."""

from __future__ import annotations

import reflex as rx

from components.ui import field
from state.grid import Choice
from state.grid_settings import GridSettingsState as G


def _error(key: str) -> rx.Component:
    return rx.cond(
        G.grid_errors.contains(key),
        rx.text(G.grid_errors[key], size="1", color_scheme="red", data_testid=f"grid-error-{key}"),
    )


def _input(label: str, name: str, value: rx.Var, key: str, unit: str | rx.Var | None = None, **props) -> rx.Component:
    slot = [rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right")] if unit is not None else []
    control = rx.input(
        *slot,
        name=name,
        default_value=value,
        aria_label=label,
        data_testid=f"grid-{name}",
        **props,
    )
    return rx.vstack(field(label, control), _error(key), spacing="1", width="100%")


def _printer_item(c: rx.Var[Choice]) -> rx.Component:
    return rx.select.item(c.label, value=c.value)


def _form() -> rx.Component:
    s = G.grid
    return rx.form(
        rx.vstack(
            rx.cond(
                G.grid_errors.contains("form"),
                rx.callout(G.grid_errors["form"], icon="triangle-alert", color_scheme="red", width="100%"),
            ),
            rx.grid(
                _input("Base price", "base_price", s.base_price, "basePrice", s.currency, input_mode="decimal"),
                _input(
                    "Price per grid unit", "unit_price", s.unit_price, "unitPrice", s.currency, input_mode="decimal"
                ),
                _input(
                    "Grid unit for pricing", "unit_size_mm", s.unit_size_mm, "unitSizeMm", "mm", input_mode="decimal"
                ),
                _input("Currency", "currency", s.currency, "currency", max_length=3),
                columns=rx.breakpoints(initial="1", xs="2", md="4"),
                spacing="3",
                width="100%",
            ),
            rx.grid(
                _input(
                    "Largest drawer side",
                    "max_dimension_mm",
                    s.max_dimension_mm,
                    "maxDimensionMm",
                    "mm",
                    input_mode="decimal",
                ),
                rx.vstack(
                    field(
                        "Printer the plates are sliced for",
                        rx.select.root(
                            rx.select.trigger(aria_label="Printer", data_testid="grid-printer"),
                            rx.select.content(rx.foreach(G.grid_printers, _printer_item)),
                            name="printer",
                            default_value=s.printer,
                        ),
                    ),
                    _error("printSettings"),
                    spacing="1",
                    width="100%",
                ),
                _input(
                    "Unused jobs expire after", "expiry_hours", s.expiry_hours, "expiryHours", "hours", type="number"
                ),
                columns=rx.breakpoints(initial="1", xs="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "A baseplate costs the base price plus the unit price for each grid unit of its area (a unit of "
                "42 mm is one Gridfinity cell). Longer drawer sides are refused on the order line.",
                size="1",
                color_scheme="gray",
            ),
            rx.button(
                rx.icon("save", size=16),
                "Save Gridfinity settings",
                type="submit",
                loading=G.grid_saving,
                data_testid="grid-save",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=G.save,
        reset_on_submit=False,
        key=G.grid_version,
        width="100%",
    )


def grid_settings_card() -> rx.Component:
    s = G.grid
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("grid-3x3", size=20), rx.heading("Gridfinity", size="4"), align="center"),
            rx.flex(
                rx.cond(
                    G.grid_can_edit,
                    rx.switch(
                        checked=s.enabled,
                        on_change=G.set_enabled,
                        data_testid="grid-enabled",
                        aria_label="Gridfinity baseplates",
                    ),
                    rx.badge(
                        rx.cond(s.enabled, "On", "Off"),
                        color_scheme=rx.cond(s.enabled, "green", "gray"),
                        data_testid="grid-enabled-value",
                    ),
                ),
                rx.vstack(
                    rx.text("Custom baseplates", size="2", weight="medium"),
                    rx.text(
                        "On: GRID-CUSTOM order lines are generated, sliced and printed with no one modelling them, "
                        "and the storefront sells baseplates. Off: those lines are regular products.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="0",
                ),
                align="center",
                spacing="3",
            ),
            rx.separator(size="4"),
            rx.cond(
                G.grid_can_edit,
                _form(),
                rx.vstack(
                    rx.text(s.words, size="2", data_testid="grid-words"),
                    rx.text("Only an admin changes these.", size="1", color_scheme="gray"),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.link("Generator and generation jobs", href="/grid", size="2"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="grid-settings",
    )
