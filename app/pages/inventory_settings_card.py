"""The Inventory card on /settings: stock management on or off, and the
replenishment scheduler's allowed hours and days, thresholds and limits."""

from __future__ import annotations

import reflex as rx

from components.ui import field
from state.inventory_settings import DayChoice
from state.inventory_settings import InventorySettingsState as I

HOURS = [(str(h), f"{h:02d}:00") for h in range(24)]


def _error(key: str) -> rx.Component:
    return rx.cond(
        I.inv_errors.contains(key),
        rx.text(I.inv_errors[key], size="1", color_scheme="red", data_testid=f"inv-error-{key}"),
    )


def _with_error(label: str, control: rx.Component, key: str) -> rx.Component:
    return rx.vstack(field(label, control), _error(key), spacing="1", width="100%")


def _hour(name: str, value: rx.Var, label: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, data_testid=f"inv-{name}"),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in HOURS]),
        name=name,
        default_value=value,
    )


def _whole(name: str, value: rx.Var, unit: str, label: str) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right"),
        name=name,
        default_value=value,
        type="number",
        aria_label=label,
        data_testid=f"inv-{name}",
    )


def _day(d: rx.Var[DayChoice]) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(name="day_" + d.index.to_string(), default_checked=d.on, aria_label=d.name),
            rx.text(d.short, size="2"),
            align="center",
            spacing="1",
        ),
        data_testid="inv-day",
    )


def _form() -> rx.Component:
    s = I.inv
    return rx.form(
        rx.vstack(
            rx.cond(
                I.inv_errors.contains("form"),
                rx.callout(I.inv_errors["form"], icon="triangle-alert", color_scheme="red", width="100%"),
            ),
            rx.el.label(
                rx.hstack(
                    rx.switch(name="enabled", default_checked=s.enabled, data_testid="inv-replenishment"),
                    rx.text(
                        "Replenishment: print products below their minimum for the shelf, in quiet hours", size="2"
                    ),
                    align="center",
                    spacing="2",
                ),
            ),
            rx.grid(
                _with_error("Allowed from", _hour("start_hour", s.start_hour, "Allowed from"), "startHour"),
                _with_error("Allowed until", _hour("end_hour", s.end_hour, "Allowed until"), "endHour"),
                _with_error(
                    "Order queue below",
                    _whole("order_queue_threshold", s.order_queue_threshold, "jobs", "Order queue threshold"),
                    "orderQueueThreshold",
                ),
                _with_error(
                    "Stock jobs at once, at most",
                    _whole("max_concurrent_stock_jobs", s.max_concurrent_stock_jobs, "jobs", "Stock jobs at once"),
                    "maxConcurrentStockJobs",
                ),
                _with_error(
                    "Evaluate every",
                    _whole("interval_minutes", s.interval_minutes, "min", "Evaluate every so many minutes"),
                    "intervalMinutes",
                ),
                columns=rx.breakpoints(initial="1", xs="2", md="5"),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                rx.text("Allowed days", size="2", weight="medium"),
                rx.flex(rx.foreach(s.days, _day), spacing="4", wrap="wrap"),
                _error("days"),
                spacing="1",
            ),
            rx.text(
                "The same hour for both means all day; a window such as 22:00–06:00 runs across midnight, in the "
                "shop's time zone.",
                size="1",
                color_scheme="gray",
            ),
            rx.button(
                rx.icon("save", size=16),
                "Save replenishment",
                type="submit",
                loading=I.inv_saving,
                data_testid="inv-save",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=I.save,
        reset_on_submit=False,
        key=I.inv_version,
        width="100%",
    )


def _values() -> rx.Component:
    s = I.inv
    return rx.vstack(
        rx.text(
            "Replenishment is ",
            rx.text.strong(rx.cond(s.enabled, "on", "off")),
            ". ",
            s.words,
            size="2",
            data_testid="inv-words",
        ),
        rx.text("Only an admin changes these.", size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def inventory_settings_card() -> rx.Component:
    s = I.inv
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("warehouse", size=20), rx.heading("Inventory", size="4"), align="center"),
            rx.flex(
                rx.cond(
                    I.inv_can_edit,
                    rx.switch(
                        checked=s.stock_enabled,
                        on_change=I.set_stock_management,
                        data_testid="inv-stock-management",
                        aria_label="Stock management",
                    ),
                    rx.badge(
                        rx.cond(s.stock_enabled, "On", "Off"),
                        color_scheme=rx.cond(s.stock_enabled, "green", "gray"),
                        data_testid="inv-stock-management-value",
                    ),
                ),
                rx.vstack(
                    rx.text("Stock management", size="2", weight="medium"),
                    rx.text(
                        "On: an order takes what the shelf has before anything is printed, and replenishment may "
                        "plan. Off: every order is printed.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="0",
                ),
                align="center",
                spacing="3",
            ),
            rx.separator(size="4"),
            rx.cond(I.inv_can_edit, _form(), _values()),
            rx.link("Stock, batches and the scheduler's last run", href="/inventory", size="2"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="inventory-settings",
    )
