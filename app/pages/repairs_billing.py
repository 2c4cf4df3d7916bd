"""Repairs pages: dispatches and invoices.

/repairs/dispatches (the table, a new dispatch for a client),
/repairs/dispatches/[id] (add the client's ready devices, take one out,
carrier and tracking, Finalize), /repairs/invoices (the table with a status
filter and totals) and /repairs/invoices/[id] (lines and totals, editing
while a draft, Send, the PDF, Mark paid, Void with a reason)."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_billing_settings import billing_settings_bar
from app.pages.repairs_nav import repairs_tabs
from app.repairs import machine
from components.layout import staff_page
from components.ui import (
    confirm_button,
    detail_page,
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
from state.repairs_billing import (
    AssetView,
    DispatchRowView,
    InvoiceRowView,
    LineView,
    StatusTotal,
)
from state.repairs_billing import RepairDispatchesState as DS
from state.repairs_billing import RepairDispatchState as D
from state.repairs_billing import RepairInvoicesState as IS
from state.repairs_billing import RepairInvoiceState as I
from state.repairs_billing_settings import RepairBillingSettingsState as BS

LINE_KIND_WORDS = {"repair": "Repair", "part": "Part", "labour": "Labour", "other": "Other"}


def _header(tab: str, state) -> rx.Component:
    return rx.flex(
        repairs_tabs(tab),
        rx.spacer(),
        rx.text("Live · updated ", state.updated_at, size="1", color_scheme="gray"),
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _error(message: rx.Var, testid: str) -> rx.Component:
    return rx.cond(
        message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", width="100%", data_testid=testid)
    )


# --- /repairs/dispatches -------------------------------------------------------------------------


def _new_dispatch_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=14), "New dispatch", data_testid="dispatch-new")),
        rx.dialog.content(
            rx.dialog.title("New dispatch"),
            rx.dialog.description(
                "Choose the client the devices go back to; you add the devices next.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    _error(DS.create_error, "dispatch-create-error"),
                    field(
                        "Client",
                        rx.select.root(
                            rx.select.trigger(placeholder="Choose a client", data_testid="dispatch-client"),
                            rx.select.content(
                                rx.foreach(DS.clients, lambda c: rx.select.item(c.label, value=c.id)),
                            ),
                            value=DS.create_client,
                            on_change=DS.set_create_client,
                        ),
                    ),
                    field("Carrier (optional)", rx.input(name="carrier", placeholder="PostNL, DHL, courier…")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            "Open dispatch", type="submit", loading=DS.create_busy, data_testid="dispatch-create"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=DS.create,
                reset_on_submit=False,
                width="100%",
            ),
            max_width="480px",
            data_testid="dispatch-dialog",
        ),
        open=DS.create_open,
        on_open_change=DS.set_create_open,
    )


def _dispatch_row(r: rx.Var[DispatchRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r.number, href="/repairs/dispatches/" + r.id, weight="medium", data_testid="dispatch-number")
        ),
        rx.table.cell(rx.text(r.client, size="2")),
        rx.table.cell(rx.text(r.assets), text_align="right", data_testid="dispatch-assets"),
        rx.table.cell(status_badge(r.status, machine.DISPATCH_STATUS, data_testid="dispatch-status")),
        rx.table.cell(
            rx.vstack(
                rx.text(r.carrier, size="2"),
                rx.text(r.tracking, size="1", color_scheme="gray", font_family="monospace"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                r.invoice_id != "",
                rx.hstack(
                    rx.link(r.invoice_number, href="/repairs/invoices/" + r.invoice_id, size="2"),
                    status_badge(r.invoice_status, machine.INVOICE_STATUS, variant="outline", size="1"),
                    spacing="2",
                    align="center",
                ),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(r.created, size="1", white_space="nowrap")),
        align="center",
        data_testid="dispatch-row",
    )


def _dispatch_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(DS, "Dispatch", "number", width="130px"),
                    sortable_header(DS, "Client", "client"),
                    sortable_header(DS, "Devices", "assets", width="95px", text_align="right", justify="end"),
                    sortable_header(DS, "Status", "status", width="110px"),
                    rx.table.column_header_cell("Carrier · tracking", width="170px"),
                    rx.table.column_header_cell("Invoice", width="200px"),
                    sortable_header(DS, "Opened", "created", width="150px"),
                )
            ),
            rx.table.body(rx.foreach(DS.rows, _dispatch_row)),
            variant="surface",
            width="100%",
            min_width="920px",
            table_layout="fixed",
            data_testid="dispatches-table",
        )
    )


def _chip(state, value: str, label: str, count: rx.Var | None = None) -> rx.Component:
    return filter_chip(state.status, value, label, state.set_status, count)


@staff_page("/repairs/dispatches", "Dispatches", permission="repairs.read", icon="truck", nav=False, on_load=DS.load)
def repairs_dispatches_page() -> rx.Component:
    return rx.vstack(
        _header("dispatches", DS),
        rx.flex(
            rx.text(
                "A dispatch takes a client's devices that are ready to leave (repaired and checked, or going back "
                "unrepaired). Finalizing it writes the invoice draft, once.",
                size="2",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.cond(DS.can_write, _new_dispatch_dialog()),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        _error(DS.error, "dispatches-error"),
        rx.cond(
            DS.loaded,
            rx.vstack(
                rx.flex(
                    rx.flex(
                        _chip(DS, "", "All", DS.counts[""]),
                        *[_chip(DS, s.value, s.label, DS.counts[s.value]) for s in machine.DISPATCH_STATUS],
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.box(
                        search_box(DS.search, DS.set_search, "Search dispatch, client, tracking", width="100%"),
                        width=rx.breakpoints(initial="100%", sm="300px"),
                    ),
                    rx.cond(
                        DS.filtered,
                        rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=DS.clear_filters),
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    DS.rows.length() > 0,
                    _dispatch_table(),
                    rx.cond(
                        DS.filtered,
                        empty_state("list-filter", "No dispatches match", "Change or clear the filters."),
                        empty_state(
                            "truck",
                            "No dispatches yet",
                            "When devices are ready to go back, open a dispatch for their client.",
                        ),
                    ),
                ),
                pager(DS.page, DS.page_count, DS.prev_page, DS.next_page),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/dispatches/[id] --------------------------------------------------------------------


def _asset_line(a: rx.Var[AssetView], action: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(a.number, weight="medium", size="2"),
            rx.text(a.device, " · ", a.identifier, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        status_badge(a.status, machine.ASSET_STATUS, variant="soft"),
        action,
        align="center",
        spacing="2",
        width="100%",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _in_dispatch(a: rx.Var[AssetView]) -> rx.Component:
    return rx.box(
        _asset_line(
            a,
            rx.cond(
                D.editable,
                rx.icon_button(
                    rx.icon("x", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="gray",
                    aria_label="Take out of the dispatch",
                    on_click=D.remove_asset(a.id),
                    data_testid="asset-remove",
                ),
            ),
        ),
        width="100%",
        data_testid="dispatch-asset",
    )


def _ready(a: rx.Var[AssetView]) -> rx.Component:
    return rx.box(
        _asset_line(
            a,
            rx.button(
                rx.icon("plus", size=14),
                "Add",
                size="1",
                variant="soft",
                on_click=D.add_asset(a.id),
                disabled=D.busy,
                data_testid="asset-add",
            ),
        ),
        width="100%",
        data_testid="ready-asset",
    )


def _finalize_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("package-check", size=14),
                "Finalize",
                disabled=D.assets.length() == 0,
                loading=D.busy,
                data_testid="dispatch-finalize",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Finalize dispatch ", D.dispatch.number, "?"),
            rx.alert_dialog.description(
                D.assets.length(),
                " device(s) are marked dispatched and the invoice draft for ",
                D.dispatch.client,
                " is written from their repairs and the price rules. Finalizing happens once; the devices "
                "cannot be changed afterwards.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Not yet", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Finalize", on_click=D.finalize, data_testid="dispatch-finalize-confirm")
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
    )


def _shipping_card() -> rx.Component:
    d = D.dispatch
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Carrier and tracking", size="3"),
                _error(D.shipping_error, "shipping-error"),
                rx.grid(
                    field(
                        "Carrier",
                        rx.input(name="carrier", default_value=d.carrier, read_only=~D.can_write, max_length=60),
                    ),
                    field(
                        "Tracking number",
                        rx.input(
                            name="tracking",
                            default_value=d.tracking,
                            read_only=~D.can_write,
                            max_length=100,
                            data_testid="field-tracking",
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                field("Notes", rx.text_area(name="notes", default_value=d.notes, rows="2", read_only=~D.can_write)),
                rx.text(
                    "Parcels for repair dispatches are not made through Shipping: write the carrier and tracking "
                    "number here (also after finalizing).",
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    D.can_write & (d.status != "cancelled"),
                    rx.hstack(
                        rx.button("Save", type="submit", variant="soft", data_testid="shipping-save"),
                        justify="end",
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=D.save_shipping,
            reset_on_submit=False,
            key=d.version,
            width="100%",
        ),
        width="100%",
    )


def _dispatch_body() -> rx.Component:
    d = D.dispatch
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading("Dispatch ", d.number, size="6", data_testid="dispatch-title"),
                    status_badge(d.status, machine.DISPATCH_STATUS, size="2", data_testid="dispatch-status"),
                    align="center",
                    spacing="3",
                ),
                rx.text(
                    "To ",
                    d.client,
                    " · opened ",
                    d.created,
                    rx.cond(d.finalized != "", rx.fragment(" · finalized ", d.finalized)),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                d.invoice_id != "",
                rx.link(
                    rx.button(
                        rx.icon("receipt", size=14),
                        "Invoice ",
                        d.invoice_number,
                        " · ",
                        d.invoice_total,
                        variant="soft",
                        data_testid="dispatch-invoice",
                    ),
                    href="/repairs/invoices/" + d.invoice_id,
                ),
            ),
            rx.cond(
                D.can_write & (d.status == "open"),
                rx.hstack(
                    confirm_button(
                        "Cancel dispatch",
                        "Cancel this dispatch?",
                        "Its devices wait for another dispatch. A cancelled dispatch cannot be opened again.",
                        D.cancel,
                        icon="ban",
                        keep="Keep it",
                        testid="dispatch-cancel",
                    ),
                    _finalize_button(),
                    spacing="2",
                    align="center",
                ),
            ),
            rx.cond(
                D.can_write & (d.status == "finalized"),
                rx.button(
                    rx.icon("package-check", size=14),
                    "Finalize",
                    variant="outline",
                    on_click=D.finalize,
                    loading=D.busy,
                    data_testid="dispatch-finalize-again",
                ),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("In this dispatch", size="3"),
                        rx.badge(D.assets.length(), radius="full"),
                        align="center",
                        spacing="2",
                    ),
                    rx.cond(
                        D.assets.length() > 0,
                        rx.vstack(rx.foreach(D.assets, _in_dispatch), spacing="0", width="100%"),
                        empty_state("package-open", "No devices yet", "Add the client's ready devices."),
                    ),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            rx.cond(
                D.editable,
                rx.card(
                    rx.vstack(
                        rx.hstack(
                            rx.heading("Ready to leave", size="3"),
                            rx.badge(D.ready.length(), radius="full", color_scheme="teal"),
                            rx.spacer(),
                            rx.cond(
                                D.ready.length() > 1,
                                rx.button(
                                    "Add all", size="1", variant="soft", on_click=D.add_all, data_testid="asset-add-all"
                                ),
                            ),
                            align="center",
                            spacing="2",
                            width="100%",
                        ),
                        rx.cond(
                            D.ready.length() > 0,
                            rx.vstack(rx.foreach(D.ready, _ready), spacing="0", width="100%"),
                            empty_state(
                                "circle-check",
                                "Nothing else is waiting",
                                "Devices of this client show here once they pass final QC or are to be returned "
                                "unrepaired.",
                            ),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                ),
                _shipping_card(),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(D.editable, _shipping_card()),
        spacing="4",
        width="100%",
        min_width="0",
    )


@staff_page("/repairs/dispatches/[id]", "Dispatch", permission="repairs.read", icon="truck", nav=False, on_load=D.load)
def repairs_dispatch_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs("dispatches"),
        detail_page(D.error, D.loaded, "Dispatch not found", _dispatch_body()),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/invoices ---------------------------------------------------------------------------


def _total_card(t: rx.Var[StatusTotal]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                status_badge(t.status, machine.INVOICE_STATUS, variant="soft"),
                rx.text(t.count, size="2", color_scheme="gray"),
                align="center",
                spacing="2",
            ),
            rx.heading(t.total, size="4", data_testid="total-" + t.status),
            spacing="1",
        ),
        on_click=IS.set_status(t.status),
        cursor="pointer",
        flex="1",
        min_width="150px",
    )


def _invoice_row(r: rx.Var[InvoiceRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(r.number, href="/repairs/invoices/" + r.id, weight="medium", data_testid="invoice-number"),
                rx.cond(r.kind == "credit_note", rx.badge("Credit note", color_scheme="red", variant="outline")),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(r.client, size="2")),
        rx.table.cell(rx.text(r.dispatch, size="2", font_family="monospace")),
        rx.table.cell(status_badge(r.status, machine.INVOICE_STATUS, data_testid="invoice-status")),
        rx.table.cell(rx.text(r.issued, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.text(
                r.due,
                size="2",
                white_space="nowrap",
                color_scheme=rx.cond(r.overdue, "red", "gray"),
                weight=rx.cond(r.overdue, "bold", "regular"),
            )
        ),
        rx.table.cell(rx.text(r.total, weight="medium", white_space="nowrap"), text_align="right"),
        align="center",
        data_testid="invoice-row",
    )


def _invoice_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(IS, "Number", "number", width="170px"),
                    sortable_header(IS, "Client", "client"),
                    rx.table.column_header_cell("Dispatch", width="110px"),
                    sortable_header(IS, "Status", "status", width="100px"),
                    sortable_header(IS, "Issued", "issued", width="120px"),
                    sortable_header(IS, "Due", "due", width="120px"),
                    sortable_header(IS, "Total", "total", width="130px", text_align="right", justify="end"),
                )
            ),
            rx.table.body(rx.foreach(IS.rows, _invoice_row)),
            variant="surface",
            width="100%",
            min_width="900px",
            table_layout="fixed",
            data_testid="invoices-table",
        )
    )


@staff_page(
    "/repairs/invoices",
    "Invoices",
    permission="repairs.read",
    icon="receipt",
    nav=False,
    on_load=[IS.load, BS.load_billing],
)
def repairs_invoices_page() -> rx.Component:
    return rx.vstack(
        _header("invoices", IS),
        rx.text(
            "Invoices are written when a dispatch is finalized; sending one gives it the next invoice number. "
            "Voiding a sent invoice issues a credit note.",
            size="2",
            color_scheme="gray",
        ),
        billing_settings_bar(),
        _error(IS.error, "invoices-error"),
        rx.cond(
            IS.loaded,
            rx.vstack(
                rx.flex(rx.foreach(IS.totals, _total_card), spacing="3", wrap="wrap", width="100%"),
                rx.flex(
                    rx.flex(
                        _chip(IS, "", "All"),
                        *[_chip(IS, s.value, s.label) for s in machine.INVOICE_STATUS],
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.box(
                        search_box(IS.search, IS.set_search, "Search number, client, dispatch", width="100%"),
                        width=rx.breakpoints(initial="100%", sm="280px"),
                    ),
                    rx.box(
                        select(
                            rx.cond(IS.kind == "", "all", IS.kind),
                            IS.set_kind,
                            [
                                ("all", "Invoices and credit notes"),
                                ("invoice", "Invoices"),
                                ("credit_note", "Credit notes"),
                            ],
                            "Kind",
                        ),
                        data_testid="invoice-kind",
                    ),
                    rx.cond(
                        IS.filtered,
                        rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=IS.clear_filters),
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    IS.rows.length() > 0,
                    _invoice_table(),
                    rx.cond(
                        IS.filtered,
                        empty_state("list-filter", "No invoices match", "Change or clear the filters."),
                        empty_state("receipt", "No invoices yet", "Finalize a dispatch: its invoice draft shows here."),
                    ),
                ),
                pager(IS.page, IS.page_count, IS.prev_page, IS.next_page),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/invoices/[id] ----------------------------------------------------------------------


def _line_row(ln: rx.Var[LineView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(ln.description, size="2", data_testid="line-description"),
                rx.cond(
                    ln.warning != "",
                    rx.hstack(
                        rx.icon("triangle-alert", size=12, color=rx.color("amber", 10)),
                        rx.text(ln.warning, size="1", color_scheme="amber"),
                        spacing="1",
                        align="center",
                        data_testid="line-warning",
                    ),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.badge(rx.match(ln.kind, *LINE_KIND_WORDS.items(), ln.kind), variant="soft", color_scheme="gray")
        ),
        rx.table.cell(rx.text(ln.quantity), text_align="right"),
        rx.table.cell(rx.text(ln.unit, white_space="nowrap"), text_align="right", data_testid="line-unit"),
        rx.table.cell(rx.text(ln.amount, weight="medium", white_space="nowrap"), text_align="right"),
        rx.cond(
            I.editable,
            rx.table.cell(
                rx.hstack(
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="soft",
                        aria_label="Edit line",
                        on_click=I.open_line(ln.id),
                        data_testid="line-edit",
                    ),
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label="Remove line",
                        on_click=I.remove_line(ln.id),
                        data_testid="line-remove",
                    ),
                    spacing="2",
                )
            ),
        ),
        align="center",
        data_testid="line-row",
    )


def _line_dialog() -> rx.Component:
    ln = I.line
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(ln.id == "", "Add a line", "Edit line")),
            rx.form(
                rx.vstack(
                    _error(I.line_error, "line-error"),
                    field(
                        "Description",
                        rx.input(
                            name="description",
                            default_value=ln.description,
                            max_length=300,
                            data_testid="field-description",
                        ),
                    ),
                    rx.grid(
                        field(
                            "Quantity",
                            rx.input(name="quantity", default_value=ln.quantity_value, data_testid="field-quantity"),
                        ),
                        field(
                            "Unit price",
                            rx.input(
                                name="unit_price",
                                default_value=ln.unit_value,
                                placeholder="0.00",
                                inputmode="decimal",
                                data_testid="field-unit-price",
                            ),
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save line", type="submit", data_testid="line-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=I.save_line,
                reset_on_submit=False,
                key=I.line_key,
                width="100%",
            ),
            max_width="520px",
            data_testid="line-dialog",
        ),
        open=I.line_open,
        on_open_change=I.set_line_open,
    )


def _void_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("ban", size=14), "Void", color_scheme="red", variant="soft", data_testid="invoice-void")
        ),
        rx.dialog.content(
            rx.dialog.title("Void ", I.invoice.title, " ", I.invoice.number),
            rx.dialog.description(
                rx.cond(
                    I.invoice.status == "draft",
                    "The draft is voided; no credit note is needed because it was never sent.",
                    "A credit note with its own number cancels the invoice in full; its PDF is made at once.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _error(I.void_error, "void-error"),
                    field(
                        "Reason",
                        rx.text_area(
                            name="reason", rows="2", placeholder="Billed the wrong client…", data_testid="field-reason"
                        ),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Keep it", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Void", type="submit", color_scheme="red", data_testid="void-confirm"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=I.void,
                reset_on_submit=True,
                width="100%",
            ),
            max_width="480px",
        ),
        open=I.void_open,
        on_open_change=I.set_void_open,
    )


def _confirm(label: str, icon: str, title, text, on_confirm, testid: str, **props) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon(icon, size=14), label, loading=I.busy, data_testid=testid, **props)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Not yet", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(label, on_click=on_confirm, data_testid=testid + "-confirm")),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
    )


def _pdf_block() -> rx.Component:
    i = I.invoice
    return rx.cond(
        i.number != "",
        rx.hstack(
            rx.cond(
                i.pdf_url != "",
                rx.link(
                    rx.button(rx.icon("file-down", size=14), "Download PDF", variant="soft"),
                    href=i.pdf_url,
                    is_external=True,
                    data_testid="invoice-pdf",
                ),
            ),
            rx.cond(
                I.rendering,
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text("Rendering the PDF…", size="2", color_scheme="gray"),
                    align="center",
                    spacing="2",
                    data_testid="pdf-rendering",
                ),
            ),
            rx.cond(
                i.pdf_status == "failed",
                rx.callout(
                    rx.hstack(
                        rx.text("The PDF could not be rendered: ", i.pdf_error, size="2"),
                        rx.cond(
                            I.can_write,
                            rx.button(
                                "Try again", size="1", variant="soft", on_click=I.retry_pdf, data_testid="pdf-retry"
                            ),
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    data_testid="pdf-failed",
                ),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
    )


def _facts() -> rx.Component:
    i = I.invoice

    def fact(name: str, value, testid: str = "") -> rx.Component:
        return rx.hstack(
            rx.text(name, size="2", color_scheme="gray", width="110px", flex_shrink="0"),
            rx.text(value, size="2", data_testid=testid or None),
            spacing="2",
            align="start",
        )

    return rx.grid(
        rx.card(
            rx.vstack(
                rx.text("Bill to", size="1", weight="bold", color_scheme="gray"),
                rx.text(i.client, weight="medium"),
                rx.foreach(i.client_lines, lambda line: rx.text(line, size="2")),
                rx.cond(i.vat_number != "", rx.text("VAT ", i.vat_number, size="2", color_scheme="gray")),
                spacing="1",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.cond(i.issued != "", fact("Issued", i.issued)),
                rx.cond((i.due != "") & (i.kind == "invoice"), fact("Due", i.due, "invoice-due")),
                rx.cond(i.paid != "", fact("Paid", i.paid, "invoice-paid-at")),
                rx.cond(i.voided != "", fact("Voided", i.voided)),
                rx.cond(i.void_reason != "", fact("Reason", i.void_reason)),
                rx.cond(
                    i.dispatch_id != "",
                    fact("Dispatch", rx.link(i.dispatch_number, href="/repairs/dispatches/" + i.dispatch_id)),
                ),
                rx.cond(
                    i.credit_id != "",
                    fact(
                        "Credit note",
                        rx.link(i.credit_number, href="/repairs/invoices/" + i.credit_id, data_testid="credit-link"),
                    ),
                ),
                rx.cond(
                    i.voids_id != "",
                    fact("Cancels", rx.link(i.voids_number, href="/repairs/invoices/" + i.voids_id)),
                ),
                fact("Currency", i.currency),
                spacing="2",
            ),
            width="100%",
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="4",
        width="100%",
    )


def _totals() -> rx.Component:
    i = I.invoice
    return rx.vstack(
        rx.hstack(rx.text("Subtotal", size="2"), rx.spacer(), rx.text(i.subtotal, size="2"), width="100%"),
        rx.hstack(
            rx.text("VAT ", i.vat_rate, " %", size="2"),
            rx.spacer(),
            rx.text(i.vat, size="2"),
            width="100%",
        ),
        rx.divider(),
        rx.hstack(
            rx.text("Total", weight="bold"),
            rx.spacer(),
            rx.heading(i.total, size="5", data_testid="invoice-total"),
            width="100%",
            align="center",
        ),
        rx.cond(
            I.editable,
            rx.form(
                rx.hstack(
                    rx.input(
                        name="vat_rate",
                        default_value=i.vat_rate,
                        width="80px",
                        size="1",
                        aria_label="VAT rate",
                        data_testid="field-vat",
                    ),
                    rx.text("% VAT", size="1", color_scheme="gray"),
                    rx.button("Set", size="1", variant="soft", type="submit"),
                    align="center",
                    spacing="2",
                ),
                rx.cond(I.vat_error != "", rx.text(I.vat_error, size="1", color_scheme="red")),
                on_submit=I.save_vat,
                reset_on_submit=False,
                key=i.vat_rate,
            ),
        ),
        spacing="2",
        width=rx.breakpoints(initial="100%", sm="320px"),
        margin_left="auto",
    )


def _invoice_body() -> rx.Component:
    i = I.invoice
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(
                        i.title, " ", rx.cond(i.number != "", i.number, "draft"), size="6", data_testid="invoice-title"
                    ),
                    status_badge(i.status, machine.INVOICE_STATUS, size="2", data_testid="invoice-status"),
                    align="center",
                    spacing="3",
                ),
                _pdf_block(),
                spacing="2",
            ),
            rx.spacer(),
            rx.cond(
                I.can_write & (i.kind == "invoice"),
                rx.hstack(
                    rx.cond(
                        i.status == "draft",
                        _confirm(
                            "Send",
                            "send",
                            rx.fragment("Send the invoice to ", i.client, "?"),
                            rx.fragment(
                                "It takes the next invoice number, is dated today and can no longer be edited; "
                                "its devices are marked invoiced. Total ",
                                i.total,
                                ".",
                            ),
                            I.send,
                            "invoice-send",
                        ),
                    ),
                    rx.cond(
                        i.status == "sent",
                        _confirm(
                            "Mark paid",
                            "badge-check",
                            rx.fragment("Mark ", i.number, " paid?"),
                            rx.fragment("The client paid ", i.total, "."),
                            I.mark_paid,
                            "invoice-paid",
                            color_scheme="green",
                        ),
                    ),
                    rx.cond((i.status == "draft") | (i.status == "sent"), _void_dialog()),
                    spacing="2",
                    align="center",
                ),
            ),
            align="start",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            (i.warnings > 0) & (i.status == "draft"),
            rx.callout(
                rx.fragment(
                    i.warnings,
                    " line(s) have no price yet: set a price (0 is a price) or remove them before sending.",
                ),
                icon="triangle-alert",
                color_scheme="amber",
                width="100%",
                data_testid="invoice-warnings",
            ),
        ),
        _facts(),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Lines", size="3"),
                    rx.spacer(),
                    rx.cond(
                        I.editable,
                        rx.button(
                            rx.icon("plus", size=14),
                            "Add line",
                            size="1",
                            variant="soft",
                            on_click=I.open_line(""),
                            data_testid="line-add",
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    I.lines.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Description"),
                                    rx.table.column_header_cell("Kind", width="90px"),
                                    rx.table.column_header_cell("Qty", width="60px", text_align="right"),
                                    rx.table.column_header_cell("Unit price", width="120px", text_align="right"),
                                    rx.table.column_header_cell("Amount", width="120px", text_align="right"),
                                    rx.cond(I.editable, rx.table.column_header_cell("", width="90px")),
                                )
                            ),
                            rx.table.body(rx.foreach(I.lines, _line_row)),
                            variant="ghost",
                            width="100%",
                            min_width="680px",
                            table_layout="fixed",
                            data_testid="lines-table",
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    empty_state("receipt", "No lines", "Add what is billed."),
                ),
                _totals(),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        _line_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


@staff_page("/repairs/invoices/[id]", "Invoice", permission="repairs.read", icon="receipt", nav=False, on_load=I.load)
def repairs_invoice_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs("invoices"),
        detail_page(I.error, I.loaded, "Invoice not found", _invoice_body()),
        spacing="4",
        width="100%",
        min_width="0",
    )
