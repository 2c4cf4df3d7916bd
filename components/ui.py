"""Small shared pieces: form fields, empty and loading states, confirmations."""

from __future__ import annotations

import reflex as rx

from app.platform.machine import StatusTable


def field(label: str, control: rx.Component) -> rx.Component:
    """A labelled form control that fills its column."""
    control.style.setdefault("width", "100%")
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def empty_state(icon: str, title: str, text: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=28, color=rx.color("gray", 9)),
            rx.text(title, weight="medium"),
            rx.text(text, size="2", color_scheme="gray"),
            align="center",
            spacing="1",
        ),
        padding="32px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="8px",
    )


def loading_table(rows: int = 4) -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(rx.box(height="28px", width="100%")) for _ in range(rows)], spacing="2", width="100%"
    )


def confirm_button(label: str, title: str, text: str, on_confirm, icon: str = "trash-2") -> rx.Component:
    """A destructive action behind an alert dialog."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon(icon, size=14), label, size="1", color_scheme="red", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(label, color_scheme="red", on_click=on_confirm)),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
    )


def detail_page(error: rx.Var, loaded: rx.Var, not_found: str, body: rx.Component, rows: int = 8) -> rx.Component:
    """One record's page: not-found state, loading skeleton, then the body."""
    return rx.cond(error != "", empty_state("search-x", not_found, error), rx.cond(loaded, body, loading_table(rows)))


def pager(page: rx.Var, page_count: rx.Var, prev, nxt) -> rx.Component:
    """Previous / "Page n of m" / Next under a table."""
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=14), "Previous", variant="soft", size="1", disabled=page == 0, on_click=prev
        ),
        rx.text("Page ", page + 1, " of ", page_count, size="2"),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=14),
            variant="soft",
            size="1",
            disabled=page + 1 >= page_count,
            on_click=nxt,
        ),
        align="center",
        justify="end",
        width="100%",
    )


def select(value, on_change, options: list[tuple[str, str]], label: str) -> rx.Component:
    """A filter drop-down: `options` are (value, text) pairs; `label` names it for screen readers."""
    return rx.select.root(
        rx.select.trigger(aria_label=label),
        rx.select.content(*[rx.select.item(text, value=v) for v, text in options]),
        value=value,
        on_change=on_change,
    )


def status_color(status: rx.Var, table: StatusTable) -> rx.Var:
    """The Radix colour scheme of `status`, from its status table."""
    return rx.match(status, *[(s.value, s.color) for s in table], table.default_color)


def status_shade(status: rx.Var, table: StatusTable, shade: int = 9) -> rx.Var:
    """A CSS colour (one shade of the status's scheme): for dots and icons."""
    return rx.match(status, *[(s.value, rx.color(s.color, shade)) for s in table], rx.color(table.default_color, shade))


def status_badge(status: rx.Var, table: StatusTable, **props) -> rx.Component:
    """A badge showing `status`, coloured from its lifecycle's status table."""
    return rx.badge(status, color_scheme=status_color(status, table), **props)
