"""Small shared pieces: form fields, empty and loading states, confirmations."""

from __future__ import annotations

from typing import Any

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


# The hidden frame file downloads open in (the staff layout has one). The API
# serves them from another origin, where a link's `download` attribute does
# not hold: followed in the page itself, the link starts a navigation that
# closes the page's live connection before the browser sees the attachment.
DOWNLOAD_FRAME = "shopfloor-downloads"


def download_frame() -> rx.Component:
    return rx.el.iframe(name=DOWNLOAD_FRAME, title="Downloads", style={"display": "none"}, tab_index=-1)


def download_link(*children: Any, href: Any, **props: Any) -> rx.Component:
    """A link to a file the API serves as an attachment (CSV, PDF to save),
    followed in the download frame: the page stays as it is."""
    return rx.el.a(*children, href=href, target=DOWNLOAD_FRAME, **props)


def confirm_button(
    label: str,
    title: Any,
    text: Any,
    on_confirm,
    icon: str = "trash-2",
    *,
    keep: str = "Cancel",
    confirm: str = "",
    size: str = "1",
    testid: str | None = None,
    confirm_testid: str | None = None,
) -> rx.Component:
    """A destructive action behind an alert dialog. `title` and `text` may be
    components (words with values in them); `keep` names the way out,
    `confirm` the action's button (default: `label`)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon(icon, size=14), label, size=size, color_scheme="red", variant="soft", data_testid=testid)
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(keep, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(confirm or label, color_scheme="red", on_click=on_confirm, data_testid=confirm_testid)
                ),
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


def status_label(status: rx.Var, table: StatusTable) -> rx.Var:
    """The words for `status` from its status table ("Ready to ship", never
    READY_TO_SHIP); an unknown value reads with its underscores as spaces."""
    return rx.match(status, *[(s.value, s.label) for s in table], status.to(str).replace("_", " "))


def status_badge(status: rx.Var, table: StatusTable, **props) -> rx.Component:
    """A badge with the words for `status`, coloured from its lifecycle's status table."""
    return rx.badge(status_label(status, table), color_scheme=status_color(status, table), **props)


def select_all_cell(state: Any) -> rx.Component:
    """The header cell of a table's checkbox column: all rows of this page on or off.
    `state` mixes in PagedState (state/paging.py)."""
    return rx.table.column_header_cell(
        rx.checkbox(
            checked=state.all_selected,
            on_change=state.toggle_page,
            aria_label="Select all rows on this page",
            data_testid="select-all",
        ),
        width="36px",
    )


def select_cell(state: Any, row_id: rx.Var) -> rx.Component:
    """A row's checkbox cell: ticks the row for a bulk action."""
    return rx.table.cell(
        rx.checkbox(
            checked=state.selected.contains(row_id),
            on_change=lambda on: state.toggle_row(row_id, on),
            aria_label="Select row",
            data_testid="select-row",
        ),
        width="36px",
    )


def bulk_bar(state: Any, *actions: rx.Component) -> rx.Component:
    """Shown while rows are ticked: how many, the bulk actions, and "Clear". Its place is kept
    (with a hint) while nothing is ticked, so the first tick does not push the table down under
    the pointer: a quick second click would land on the wrong row."""
    return rx.cond(
        state.selected.length() > 0,
        rx.hstack(
            rx.text(state.selected.length(), " selected", size="2", weight="medium", data_testid="selected-count"),
            *actions,
            rx.spacer(),
            rx.button("Clear selection", size="1", variant="ghost", on_click=state.clear_selection),
            align="center",
            spacing="2",
            flex_wrap="wrap",
            width="100%",
            padding="8px 12px",
            border_radius="8px",
            background=rx.color("accent", 3),
            min_height="40px",
            data_testid="bulk-bar",
        ),
        rx.hstack(
            rx.icon("square-check", size=14, color=rx.color("gray", 9)),
            rx.text("Tick rows to act on several at once.", size="1", color_scheme="gray"),
            align="center",
            spacing="2",
            width="100%",
            padding="8px 12px",
            min_height="40px",
            data_testid="bulk-hint",
        ),
    )


def sortable_header(state: Any, label: str, column: str, **props) -> rx.Component:
    """A column header that sorts the table by `column` (`state.sort_by`); a second click turns
    the order round. The arrow shows the column and order in use. `justify` aligns the words."""
    return rx.table.column_header_cell(
        rx.hstack(
            rx.text(label),
            rx.cond(
                state.sort == column,
                rx.cond(state.descending, rx.icon("arrow-down", size=12), rx.icon("arrow-up", size=12)),
                rx.icon("arrow-up-down", size=12, opacity=0.35),
            ),
            align="center",
            spacing="1",
            cursor="pointer",
            white_space="nowrap",
            justify=props.pop("justify", "start"),
        ),
        on_click=state.sort_by(column),
        data_testid="sort-" + column,
        **props,
    )


def filter_chip(
    current: rx.Var, value: str, label: str, on_click, count: rx.Var | None = None, testid: str = "status"
) -> rx.Component:
    """A filter chip, with how many rows it shows when `count` is given; solid while `current`
    is `value`. The empty value is "all"."""
    active = current == value
    badge = rx.badge(count, variant=rx.cond(active, "solid", "soft"), color_scheme="gray", radius="full")
    return rx.button(
        label,
        *([badge] if count is not None else []),
        size="1",
        radius="full",
        variant=rx.cond(active, "solid", "soft"),
        color_scheme=rx.cond(active, "accent", "gray"),
        on_click=on_click(value),
        data_testid=f"{testid}-{value or 'all'}",
    )


def search_box(value: rx.Var, on_change, placeholder: str, **props) -> rx.Component:
    """A table's search field. It is the one the "/" key focuses (layout)."""
    return rx.debounce_input(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder=placeholder + "  ( / )",
            value=value,
            on_change=on_change,
            data_search="1",
            aria_label=placeholder,
            **props,
        ),
        debounce_timeout=350,
    )


def table_card(table: rx.Component, **props) -> rx.Component:
    """A table in a card that scrolls sideways inside itself on a narrow screen."""
    return rx.card(rx.box(table, overflow_x="auto", width="100%"), width="100%", padding="0", **props)


def webhook_address(intro: str, url: rx.Var, testid: str) -> rx.Component:
    """An integration's webhook address to paste into the service, with a copy button."""
    return rx.box(
        rx.text(intro, size="2", color_scheme="gray"),
        rx.hstack(
            rx.code(url, word_break="break-all", data_testid=testid),
            rx.icon_button(
                rx.icon("copy", size=12),
                size="1",
                variant="ghost",
                aria_label="Copy address",
                on_click=[rx.set_clipboard(url), rx.toast.info("Webhook address copied.")],
            ),
            align="center",
            spacing="1",
        ),
        width="100%",
    )
