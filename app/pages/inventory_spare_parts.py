"""/inventory/spare-parts: the spare parts the shop keeps for repairs
(screens, batteries, charge ports…): units on the shelf against each part's
minimum, a status per part, parts added and edited in a dialog, deliveries
received and corrections by hand, and each part's ledger (issued to
worksheets, returned, received, adjusted) in a dialog. Not in the
navigation: the inventory pages lead here."""

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
from state.inventory_spare_parts import CATEGORIES, CATEGORY_OPTIONS, SPARE_STATUS, SpareLedgerLine, SparePartView
from state.inventory_spare_parts import InventorySparePartsState as S

CATEGORY_LIST = "spare-part-categories"


def spare_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, SPARE_STATUS, variant="soft", white_space="nowrap", **props)


# --- the summary and filters -----------------------------------------------------------------------


def _figure(label: str, value: rx.Var, tone: str, testid: str, on_click) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value, size="6", color_scheme=tone, data_testid=testid),
            spacing="1",
        ),
        on_click=on_click,
        cursor="pointer",
        flex="1",
        min_width="140px",
    )


def _summary() -> rx.Component:
    c = S.counts
    return rx.flex(
        _figure("Spare parts", c.all, "gray", "count-all", S.set_status("")),
        _figure("Below their minimum", c.low, "amber", "count-low", S.set_status("low")),
        _figure("Out of stock", c.out, "red", "count-out", S.set_status("out")),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _chip(value: str, label: str, count: rx.Var) -> rx.Component:
    return filter_chip(S.status, value, label, S.set_status, count)


def _filters() -> rx.Component:
    return rx.flex(
        rx.flex(
            _chip("", "All", S.counts.all),
            _chip("low", "Low stock", S.counts.low),
            _chip("out", "Out of stock", S.counts.out),
            spacing="2",
            wrap="wrap",
        ),
        rx.box(
            search_box(S.search, S.set_search, "Search SKU, name or model", width="100%", data_testid="spare-search"),
            width=rx.breakpoints(initial="100%", sm="280px"),
        ),
        rx.box(select(S.category, S.set_category, CATEGORY_OPTIONS, "Category"), data_testid="spare-category"),
        rx.cond(
            S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


# --- the table -----------------------------------------------------------------------------------


def _row(r: rx.Var[SparePartView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(r.sku, variant="ghost", size="2", data_testid="spare-sku")),
        rx.table.cell(
            rx.vstack(
                rx.link(
                    r.name,
                    on_click=S.open_part(r.id),
                    weight="medium",
                    cursor="pointer",
                    size="2",
                    data_testid="spare-name",
                ),
                rx.text(
                    r.manufacturer,
                    rx.cond(r.models != "", rx.text.span(" · fits ", r.models)),
                    rx.cond(r.location != "", rx.text.span(" · ", r.location)),
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(~r.active, rx.badge("Retired", color_scheme="gray", variant="outline", size="1")),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(rx.text(r.category_title, size="2")),
        rx.table.cell(rx.text(r.unit_cost, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(
            rx.text(
                r.stock,
                weight="bold",
                color_scheme=rx.match(r.status, ("out", "red"), ("low", "amber"), "gray"),
                data_testid="spare-stock",
            ),
            text_align="right",
        ),
        rx.table.cell(rx.text(r.minimum, data_testid="spare-minimum"), text_align="right"),
        rx.table.cell(spare_badge(r.status, data_testid="spare-status")),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    rx.icon("scroll-text", size=14),
                    "Ledger",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.open_part(r.id),
                    data_testid="spare-ledger",
                ),
                rx.cond(
                    S.can_write,
                    rx.hstack(
                        rx.button(
                            rx.icon("package-plus", size=14),
                            "Receive",
                            size="1",
                            variant="soft",
                            on_click=S.open_receive(r.id),
                            data_testid="spare-receive",
                        ),
                        rx.tooltip(
                            rx.icon_button(
                                rx.icon("diff", size=14),
                                size="1",
                                variant="soft",
                                color_scheme="gray",
                                aria_label="Adjust",
                                on_click=S.open_adjust(r.id),
                                data_testid="spare-adjust",
                            ),
                            content="Adjust by hand (a count, damage)",
                        ),
                        rx.tooltip(
                            rx.icon_button(
                                rx.icon("pencil", size=14),
                                size="1",
                                variant="soft",
                                color_scheme="gray",
                                aria_label="Edit",
                                on_click=S.open_edit(r.id),
                                data_testid="spare-edit",
                            ),
                            content="Edit the part",
                        ),
                        spacing="2",
                        align="center",
                    ),
                ),
                spacing="2",
                align="center",
            )
        ),
        align="center",
        data_testid="spare-row",
    )


def _table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(S, "SKU", "sku", width="135px"),
                    sortable_header(S, "Part", "name"),
                    sortable_header(S, "Category", "category", width="105px"),
                    sortable_header(S, "Unit cost", "cost", width="95px", text_align="right", justify="end"),
                    sortable_header(S, "On shelf", "stock", width="90px", text_align="right", justify="end"),
                    sortable_header(S, "Minimum", "minimum", width="90px", text_align="right", justify="end"),
                    rx.table.column_header_cell("Status", width="110px"),
                    rx.table.column_header_cell("", width="225px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface",
            width="100%",
            min_width="1000px",
            table_layout="fixed",
            data_testid="spare-table",
        )
    )


# --- the add / edit dialog -------------------------------------------------------------------------


def _err(errors: rx.Var, key: str) -> rx.Component:
    return rx.cond(
        errors.contains(key),
        rx.text(errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _input(label: str, name: str, default, errors: rx.Var, **props) -> rx.Component:
    return rx.vstack(
        field(
            label, rx.input(name=name, default_value=default, aria_label=label, data_testid=f"field-{name}", **props)
        ),
        _err(errors, name),
        spacing="1",
        width="100%",
    )


def _form_error(errors: rx.Var, testid: str) -> rx.Component:
    return rx.cond(
        errors.contains("form"),
        rx.callout(errors["form"], icon="triangle-alert", color_scheme="red", width="100%", data_testid=testid),
    )


def _edit_dialog() -> rx.Component:
    e, errors = S.edit, S.edit_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing, rx.text("Edit · ", e.name), rx.text("New spare part"))),
            rx.dialog.description(
                rx.cond(
                    S.editing,
                    rx.text("Its stock moves only by receiving, adjusting, issuing and returning."),
                    rx.text("Units on the shelf now open its ledger as received."),
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _form_error(errors, "edit-error"),
                    rx.grid(
                        _input("SKU", "sku", e.sku, errors, placeholder="SCR-IP12-OLED"),
                        _input("Name", "name", e.name, errors, placeholder="iPhone 12 screen, OLED"),
                        _input("Manufacturer", "manufacturer", e.manufacturer, errors, placeholder="Apple"),
                        rx.vstack(
                            field(
                                "Category",
                                rx.input(
                                    name="category",
                                    default_value=e.category,
                                    list=CATEGORY_LIST,
                                    aria_label="Category",
                                    data_testid="field-category",
                                ),
                            ),
                            rx.el.datalist(
                                *[rx.el.option(value=c) for c in CATEGORIES],
                                id=CATEGORY_LIST,
                            ),
                            _err(errors, "category"),
                            spacing="1",
                            width="100%",
                        ),
                        _input("Unit cost", "cost", e.cost_plain, errors, input_mode="decimal"),
                        _input("Minimum on the shelf", "minimum", e.minimum.to(str), errors, type="number", min=0),
                        _input("Location", "location", e.location, errors, placeholder="Shelf A1"),
                        rx.cond(
                            S.editing,
                            rx.box(),
                            _input("On the shelf now", "stock", "0", errors, type="number", min=0),
                        ),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    _input(
                        "Compatible models (comma separated)",
                        "models",
                        e.models,
                        errors,
                        placeholder="iPhone 12, iPhone 12 Pro",
                    ),
                    rx.text(
                        rx.el.label(
                            rx.checkbox(name="active", default_checked=e.active, data_testid="field-active"),
                            " In use (a retired part stays in the ledger)",
                            style={"display": "flex", "gap": "8px", "alignItems": "center"},
                        ),
                        size="2",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            rx.cond(S.editing, "Save", "Add part"),
                            type="submit",
                            loading=S.edit_busy,
                            data_testid="edit-submit",
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_edit,
                reset_on_submit=False,
                key=S.edit_key,
                width="100%",
            ),
            max_width="600px",
            data_testid="edit-dialog",
        ),
        open=S.edit_open,
        on_open_change=S.set_edit_open,
    )


# --- the receive / adjust dialog ----------------------------------------------------------------


def _move_dialog() -> rx.Component:
    m, errors = S.move, S.move_errors
    receiving = S.move_kind == "receive"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(receiving, "Receive · ", "Adjust · "), m.name),
            rx.dialog.description(
                m.sku, " · ", m.stock, " on the shelf · minimum ", m.minimum, size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    _form_error(errors, "move-error"),
                    rx.grid(
                        rx.cond(
                            receiving,
                            rx.box(),
                            rx.vstack(
                                field(
                                    "Direction",
                                    rx.select.root(
                                        rx.select.trigger(aria_label="Direction", data_testid="field-direction"),
                                        rx.select.content(
                                            rx.select.item("Add to the shelf", value="IN"),
                                            rx.select.item("Take off the shelf", value="OUT"),
                                        ),
                                        name="direction",
                                        default_value="IN",
                                    ),
                                ),
                                _err(errors, "direction"),
                                spacing="1",
                                width="100%",
                            ),
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
                            _err(errors, "quantity"),
                            spacing="1",
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text(
                            rx.cond(receiving, "Note (supplier, delivery note)", "Reason"), size="2", weight="medium"
                        ),
                        rx.text_area(
                            name="reason",
                            rows="2",
                            placeholder=rx.cond(receiving, "Delivery 2291 from the supplier", "A count, damage…"),
                            width="100%",
                            data_testid="field-reason",
                        ),
                        _err(errors, "reason"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            rx.cond(receiving, "Receive", "Adjust"),
                            type="submit",
                            loading=S.move_busy,
                            data_testid="move-submit",
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_move,
                reset_on_submit=False,
                key=S.move_key,
                width="100%",
            ),
            max_width="520px",
            data_testid="move-dialog",
        ),
        open=S.move_open,
        on_open_change=S.set_move_open,
    )


# --- the ledger dialog --------------------------------------------------------------------------


def _ledger_row(e: rx.Var[SpareLedgerLine]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.at, size="1", white_space="nowrap")),
        rx.table.cell(rx.text(e.kind, size="2"), data_testid="ledger-type"),
        rx.table.cell(
            rx.text(e.change, weight="bold", color_scheme=rx.cond(e.inward, "green", "red")),
            text_align="right",
            data_testid="ledger-change",
        ),
        rx.table.cell(rx.text(e.after, size="2"), text_align="right", data_testid="ledger-after"),
        rx.table.cell(
            rx.vstack(
                rx.text(
                    e.reference,
                    rx.cond(e.worksheet != "", rx.text.span(" ", e.worksheet, "…")),
                    size="2",
                ),
                rx.text(e.reason, size="1", color_scheme="gray", data_testid="ledger-reason"),
                rx.cond(e.who != "", rx.text("by ", e.who, size="1", color_scheme="gray")),
                spacing="0",
            )
        ),
        align="center",
        data_testid="ledger-row",
    )


def _ledger_dialog() -> rx.Component:
    d = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(d.name),
            rx.dialog.description(
                d.sku, " · ", d.category_title, " · ", d.unit_cost, " each", size="2", color_scheme="gray"
            ),
            rx.vstack(
                rx.flex(
                    rx.badge(d.stock, " on the shelf", color_scheme="gray", size="2", data_testid="detail-stock"),
                    rx.badge("minimum ", d.minimum, color_scheme="gray", size="2"),
                    spare_badge(d.status, size="2", data_testid="detail-status"),
                    rx.cond(d.location != "", rx.badge(rx.icon("map-pin", size=12), d.location, size="2")),
                    rx.spacer(),
                    rx.cond(
                        S.can_write,
                        rx.hstack(
                            rx.button(
                                rx.icon("package-plus", size=14),
                                "Receive",
                                size="1",
                                variant="soft",
                                on_click=S.receive_detail,
                                data_testid="detail-receive",
                            ),
                            rx.button(
                                rx.icon("pencil", size=14),
                                "Edit",
                                size="1",
                                variant="soft",
                                color_scheme="gray",
                                on_click=S.edit_detail,
                                data_testid="detail-edit",
                            ),
                            spacing="2",
                        ),
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.cond(d.models != "", rx.text("Fits ", d.models, size="2", color_scheme="gray")),
                rx.heading("Ledger", size="3"),
                rx.cond(
                    S.ledger.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("When", width="150px"),
                                    rx.table.column_header_cell("What", width="190px"),
                                    rx.table.column_header_cell("Change", width="70px", text_align="right"),
                                    rx.table.column_header_cell("After", width="60px", text_align="right"),
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
            data_testid="spare-dialog",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


# --- the page ------------------------------------------------------------------------------------


@staff_page(
    "/inventory/spare-parts", "Spare parts", permission="inventory.read", icon="wrench", nav=False, on_load=S.load
)
def inventory_spare_parts_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            inventory_tabs("spare-parts"),
            rx.spacer(),
            rx.cond(
                S.can_write,
                rx.button(
                    rx.icon("plus", size=14), "New spare part", size="2", on_click=S.open_new, data_testid="spare-new"
                ),
            ),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="spare-updated"),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.heading("Spare parts for repairs", size="5"),
        rx.text(
            "Screens, batteries, charge ports and the rest the repair bench uses. Parts leave the shelf when they are "
            "issued to a worksheet and come back when a repair did not use them; a part is low below its minimum.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="spare-error"),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _summary(),
                _filters(),
                rx.cond(
                    S.rows.length() > 0,
                    _table(),
                    rx.cond(
                        S.filtered,
                        empty_state("list-filter", "No spare parts match", "Change or clear the filters."),
                        empty_state(
                            "wrench",
                            "No spare parts yet",
                            "Add the parts your repairs use: “New spare part” above.",
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
        _edit_dialog(),
        _move_dialog(),
        _ledger_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )
