"""/inventory/parts: the PC parts the shop sells for builds: units on hand,
reserved for builder orders and available, with a status per part, the parts
builds hold most of in a chart, adjustments by hand and each part's ledger
and reservations in a dialog. Not in the navigation: the inventory pages'
header (`inventory_tabs`) leads here."""

from __future__ import annotations

import reflex as rx

from app.pages.inventory import inventory_tabs
from components.layout import staff_page
from components.ui import (
    empty_state,
    field,
    filter_chip,
    loading_table,
    pager,
    search_box,
    select,
    sortable_header,
    status_badge,
    table_card,
)
from state.inventory_parts import (
    PART_STATUS,
    SLOT_OPTIONS,
    PartLedgerLine,
    PartRowView,
    ReservationLine,
)
from state.inventory_parts import InventoryPartsState as S


def part_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, PART_STATUS, variant="soft", white_space="nowrap", **props)


# --- the summary ---------------------------------------------------------------------------------


def _figure(label: str, value: rx.Var, tone: str, testid: str, on_click=None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value, size="6", color_scheme=tone, data_testid=testid),
            spacing="1",
        ),
        on_click=on_click,
        cursor="pointer" if on_click is not None else "default",
        flex="1",
        min_width="140px",
    )


def _summary() -> rx.Component:
    c = S.counts
    return rx.flex(
        _figure("Parts the shop lists", c.all, "gray", "count-all", S.set_status("")),
        _figure("In stock", c.in_stock, "green", "count-in-stock", S.set_status("in_stock")),
        _figure("Low", c.low, "amber", "count-low", S.set_status("low")),
        _figure("Back-order", c.backorder, "red", "count-backorder", S.set_status("backorder")),
        _figure("Units reserved for builds", c.reserved, "blue", "count-reserved"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _chart() -> rx.Component:
    return rx.cond(
        S.chart.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("chart-column", size=16),
                    rx.heading("Held for builds", size="3"),
                    rx.text("on hand against reserved, the parts builds hold most of", size="1", color_scheme="gray"),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                rx.recharts.bar_chart(
                    rx.recharts.bar(data_key="on_hand", name="On hand", fill=rx.color("gray", 8), radius=[0, 3, 3, 0]),
                    rx.recharts.bar(
                        data_key="reserved", name="Reserved", fill=rx.color("blue", 9), radius=[0, 3, 3, 0]
                    ),
                    rx.recharts.x_axis(type_="number", allow_decimals=False, font_size=11),
                    rx.recharts.y_axis(
                        data_key="name", type_="category", width=150, tick_line=False, interval=0, font_size=10
                    ),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(icon_size=10, wrapper_style={"fontSize": "12px"}),
                    data=S.chart.to(list[dict]),
                    layout="vertical",
                    bar_gap=2,
                    height=S.chart_height,
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            data_testid="parts-chart",
        ),
    )


# --- the table -----------------------------------------------------------------------------------


def _chip(value: str, label: str, count: rx.Var) -> rx.Component:
    return filter_chip(S.status, value, label, S.set_status, count)


def _filters() -> rx.Component:
    return rx.flex(
        rx.flex(
            _chip("", "All", S.counts.all),
            _chip("in_stock", "In stock", S.counts.in_stock),
            _chip("low", "Low", S.counts.low),
            _chip("backorder", "Back-order", S.counts.backorder),
            spacing="2",
            wrap="wrap",
        ),
        rx.box(
            search_box(S.search, S.set_search, "Search part or maker", width="100%", data_testid="parts-search"),
            width=rx.breakpoints(initial="100%", sm="260px"),
        ),
        rx.box(select(S.slot, S.set_slot, SLOT_OPTIONS, "Slot"), data_testid="parts-slot"),
        rx.cond(
            S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _reserved_cell(r: rx.Var[PartRowView]) -> rx.Component:
    return rx.tooltip(
        rx.vstack(
            rx.text(r.reserved, weight=rx.cond(r.reserved > 0, "bold", "regular"), data_testid="part-reserved"),
            rx.cond(
                r.reserved > 0,
                rx.progress(value=r.held_percent, max=100, size="1", color_scheme="blue", width="70px"),
            ),
            spacing="1",
            align="end",
        ),
        content=r.held_percent.to(str) + "% of the units on hand are held for builds",
    )


def _part_row(r: rx.Var[PartRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(
                    r.name,
                    on_click=S.open_part(r.id),
                    weight="medium",
                    cursor="pointer",
                    size="2",
                    data_testid="part-name",
                ),
                rx.hstack(
                    rx.text(r.manufacturer, size="1", color_scheme="gray"),
                    rx.cond(~r.for_sale, rx.badge("Not for sale", color_scheme="gray", variant="outline", size="1")),
                    spacing="2",
                    align="center",
                ),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(rx.text(r.slot_title, size="2")),
        rx.table.cell(rx.text(r.price, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(rx.text(r.on_hand, data_testid="part-on-hand"), text_align="right"),
        rx.table.cell(_reserved_cell(r), text_align="right"),
        rx.table.cell(
            rx.text(
                r.available,
                weight="bold",
                color_scheme=rx.match(r.status, ("backorder", "red"), ("low", "amber"), "gray"),
                data_testid="part-available",
            ),
            text_align="right",
        ),
        rx.table.cell(part_badge(r.status, data_testid="part-status")),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    rx.icon("scroll-text", size=14),
                    "Ledger",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.open_part(r.id),
                    data_testid="part-ledger",
                ),
                rx.cond(
                    S.can_write,
                    rx.button(
                        rx.icon("diff", size=14),
                        "Adjust",
                        size="1",
                        variant="soft",
                        on_click=S.open_adjust(r.id),
                        data_testid="part-adjust",
                    ),
                ),
                spacing="2",
            )
        ),
        align="center",
        data_testid="part-row",
    )


def _table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(S, "Part", "name"),
                    sortable_header(S, "Slot", "slot", width="110px"),
                    sortable_header(S, "Price", "price", width="100px", text_align="right", justify="end"),
                    sortable_header(S, "On hand", "on_hand", width="95px", text_align="right", justify="end"),
                    sortable_header(S, "Reserved", "reserved", width="100px", text_align="right", justify="end"),
                    sortable_header(S, "Available", "available", width="100px", text_align="right", justify="end"),
                    rx.table.column_header_cell("Status", width="105px"),
                    rx.table.column_header_cell("", width="175px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _part_row)),
            variant="surface",
            width="100%",
            min_width="960px",
            table_layout="fixed",
            data_testid="parts-table",
        )
    )


# --- the dialogs ---------------------------------------------------------------------------------


def _err(key: str) -> rx.Component:
    return rx.cond(
        S.adjust_errors.contains(key),
        rx.text(S.adjust_errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _adjust_dialog() -> rx.Component:
    a = S.adjust
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Adjust · ", a.name),
            rx.dialog.description(
                a.on_hand,
                " on hand · ",
                a.reserved,
                " reserved · ",
                a.available,
                " available",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        S.adjust_errors.contains("form"),
                        rx.callout(
                            S.adjust_errors["form"],
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="adjust-error",
                        ),
                    ),
                    rx.grid(
                        rx.vstack(
                            field(
                                "Direction",
                                rx.select.root(
                                    rx.select.trigger(aria_label="Direction", data_testid="field-direction"),
                                    rx.select.content(
                                        rx.select.item("Receive (add on hand)", value="IN"),
                                        rx.select.item("Remove (take off hand)", value="OUT"),
                                    ),
                                    name="direction",
                                    default_value="IN",
                                ),
                            ),
                            _err("direction"),
                            spacing="1",
                            width="100%",
                        ),
                        rx.vstack(
                            field(
                                "Units",
                                rx.input(
                                    name="quantity",
                                    type="number",
                                    min=1,
                                    aria_label="Units",
                                    data_testid="field-quantity",
                                ),
                            ),
                            _err("quantity"),
                            spacing="1",
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        field(
                            "Reason",
                            rx.text_area(
                                name="reason",
                                rows="2",
                                placeholder="A delivery, a count, a damaged part…",
                                data_testid="field-reason",
                            ),
                        ),
                        _err("reason"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.text(
                        "Reserved units stay reserved: removing more than are free puts the part on back-order.",
                        size="1",
                        color_scheme="gray",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Adjust", type="submit", loading=S.adjust_busy, data_testid="adjust-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_adjust,
                reset_on_submit=False,
                key=S.adjust_key,
                width="100%",
            ),
            max_width="520px",
            data_testid="adjust-dialog",
        ),
        open=S.adjust_open,
        on_open_change=S.set_adjust_open,
    )


def _reservation(r: rx.Var[ReservationLine]) -> rx.Component:
    return rx.hstack(
        rx.link("Order ", r.order_number, href="/orders/" + r.order_id, size="2", data_testid="reservation-order"),
        rx.text(r.quantity, " unit(s)", size="2"),
        rx.badge(r.status, color_scheme=r.tone, variant="soft", data_testid="reservation-status"),
        rx.spacer(),
        rx.text(r.at, size="1", color_scheme="gray"),
        align="center",
        spacing="2",
        width="100%",
        data_testid="reservation-row",
    )


def _ledger_row(e: rx.Var[PartLedgerLine]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.at, size="1", white_space="nowrap")),
        rx.table.cell(rx.text(e.kind, size="2"), data_testid="ledger-type"),
        rx.table.cell(
            rx.text(e.change, weight="bold", color_scheme=rx.cond(e.inward, "green", "red")),
            text_align="right",
            data_testid="ledger-change",
        ),
        rx.table.cell(rx.text(e.after, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.cond(
                    e.order_id != "",
                    rx.link(
                        "Order ", e.order_number, href="/orders/" + e.order_id, size="2", data_testid="ledger-order"
                    ),
                    rx.text(e.reference, size="2"),
                ),
                rx.text(e.reason, size="1", color_scheme="gray", data_testid="ledger-reason"),
                rx.cond(e.who != "", rx.text("by ", e.who, size="1", color_scheme="gray")),
                spacing="0",
            )
        ),
        align="center",
        data_testid="ledger-row",
    )


def _part_dialog() -> rx.Component:
    d = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(d.name),
            rx.dialog.description(d.manufacturer, " · ", d.slot_title, " · ", d.price, size="2", color_scheme="gray"),
            rx.vstack(
                rx.flex(
                    rx.badge(d.on_hand, " on hand", color_scheme="gray", size="2"),
                    rx.badge(d.reserved, " reserved", color_scheme="blue", size="2", data_testid="detail-reserved"),
                    rx.badge(d.available, " available", color_scheme="gray", size="2", data_testid="detail-available"),
                    part_badge(d.status, size="2", data_testid="detail-status"),
                    rx.spacer(),
                    rx.cond(
                        S.can_write,
                        rx.button(
                            rx.icon("diff", size=14),
                            "Adjust",
                            size="1",
                            variant="soft",
                            on_click=S.adjust_detail,
                            data_testid="detail-adjust",
                        ),
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.heading("Reserved for builds", size="3"),
                rx.cond(
                    S.reserved_by.length() > 0,
                    rx.vstack(rx.foreach(S.reserved_by, _reservation), spacing="2", width="100%"),
                    rx.text(
                        "No builder order has reserved this part yet.",
                        size="2",
                        color_scheme="gray",
                        data_testid="no-reservations",
                    ),
                ),
                rx.heading("Ledger", size="3"),
                rx.cond(
                    S.ledger.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("When", width="150px"),
                                    rx.table.column_header_cell("What", width="160px"),
                                    rx.table.column_header_cell("Change", width="70px", text_align="right"),
                                    rx.table.column_header_cell("After", width="110px"),
                                    rx.table.column_header_cell("Reference and reason"),
                                )
                            ),
                            rx.table.body(rx.foreach(S.ledger, _ledger_row)),
                            variant="surface",
                            size="1",
                            width="100%",
                            min_width="640px",
                            table_layout="fixed",
                            data_testid="ledger-table",
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    empty_state("scroll-text", "No movements yet", "Every change of this part is written here."),
                ),
                pager(S.ledger_page, S.ledger_pages, S.ledger_prev, S.ledger_next),
                rx.text(
                    "Reserved and released entries move what is available (on hand less reserved), not the units "
                    "on hand.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="8px",
            ),
            max_width="820px",
            data_testid="part-dialog",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


def _threshold_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("bell-ring", size=14),
                "Low at ",
                S.threshold,
                " or fewer",
                size="1",
                variant="soft",
                color_scheme="gray",
                data_testid="threshold-open",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Low-stock threshold"),
            rx.dialog.description(
                "A part with this many or fewer available is low: the builder shows how many are left, and staff "
                "hear once when a part drops to it.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Low at (units available)",
                        rx.input(
                            name="threshold",
                            type="number",
                            min=0,
                            default_value=S.threshold.to(str),
                            data_testid="field-threshold",
                        ),
                    ),
                    rx.cond(
                        S.threshold_error != "",
                        rx.text(S.threshold_error, size="1", color_scheme="red", data_testid="threshold-error"),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", data_testid="threshold-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.save_threshold,
                reset_on_submit=False,
                width="100%",
            ),
            max_width="440px",
        ),
        open=S.threshold_open,
        on_open_change=S.set_threshold_open,
    )


# --- the page ------------------------------------------------------------------------------------


@staff_page("/inventory/parts", "PC parts", permission="inventory.read", icon="cpu", nav=False, on_load=S.load)
def inventory_parts_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            inventory_tabs("parts"),
            rx.spacer(),
            rx.cond(
                S.can_write,
                _threshold_dialog(),
                rx.badge("Low at ", S.threshold, " or fewer", color_scheme="gray", variant="soft"),
            ),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="parts-updated"),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "Each builder order reserves its parts until its build is completed (the parts are used) or it is "
            "cancelled (they are free again). Available is on hand less reserved; below zero the part is on "
            "back-order.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="parts-error"),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _summary(),
                _chart(),
                _filters(),
                rx.cond(
                    S.rows.length() > 0,
                    _table(),
                    rx.cond(
                        S.filtered,
                        empty_state("list-filter", "No parts match", "Change or clear the filters."),
                        empty_state(
                            "cpu",
                            "The shop sells no PC parts yet",
                            "Upload a price list in Catalog; the parts it offers show here with their stock.",
                        ),
                    ),
                ),
                pager(S.page, S.page_count, S.prev_page, S.next_page),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
        _adjust_dialog(),
        _part_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )
