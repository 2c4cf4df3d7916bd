"""Repairs pages: /repairs/worksheets (every worksheet, filtered by status,
technician and team, searched by worksheet or asset), /repairs/worksheets/new
?asset=<id> (opens one for an asset: the asset page's "Open worksheet") and
/repairs/worksheets/[id] (one repair: the asset, who works on it, labour,
codes done, spare parts issued and returned, final QC)."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from app.repairs.machine import ASSET_STATUS, WORKSHEET_STATUS
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
    sortable_header,
    status_badge,
    table_card,
)
from state.repairs_worksheets import (
    NOBODY,
    CodeView,
    LogLine,
    NewWorksheetState,
    Option,
    PartView,
    SpareOption,
    WorksheetRowView,
)
from state.repairs_worksheets import RepairsWorksheetsState as S
from state.repairs_worksheets import RepairWorksheetState as W

TAB = "worksheets"


def sheet_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, WORKSHEET_STATUS, variant="soft", white_space="nowrap", **props)


def asset_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, ASSET_STATUS, variant="soft", white_space="nowrap", **props)


def _option(o: rx.Var[Option]) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


# --- /repairs/worksheets ---------------------------------------------------------------------------


def _people_select(value: rx.Var, on_change, options: rx.Var, everyone: str, label: str, testid: str):
    return rx.select.root(
        rx.select.trigger(aria_label=label, data_testid=testid),
        rx.select.content(
            rx.select.item(everyone, value="all"),
            rx.foreach(options, _option),
        ),
        value=value,
        on_change=on_change,
    )


def _chip(value: str, label: str, count: rx.Var) -> rx.Component:
    return filter_chip(S.status, value, label, S.set_status, count)


def _filters() -> rx.Component:
    return rx.flex(
        rx.flex(
            _chip("active", "Active", S.counts.active),
            _chip("open", "Open", S.counts.open),
            _chip("in_qc", "In final QC", S.counts.in_qc),
            _chip("passed", "Passed QC", S.counts.passed),
            _chip("cancelled", "Cancelled", S.counts.cancelled),
            _chip("", "All", S.counts.all),
            spacing="2",
            wrap="wrap",
        ),
        rx.box(
            search_box(
                S.search, S.set_search, "Search worksheet, asset, IMEI", width="100%", data_testid="worksheets-search"
            ),
            width=rx.breakpoints(initial="100%", sm="260px"),
        ),
        _people_select(
            S.technician, S.set_technician, S.technicians, "All technicians", "Technician", "filter-technician"
        ),
        _people_select(S.team, S.set_team, S.teams, "All teams", "Team", "filter-team"),
        rx.cond(
            S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _row(r: rx.Var[WorksheetRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r.number, href="/repairs/worksheets/" + r.id, weight="medium", data_testid="worksheet-number")
        ),
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(r.asset_number, size="2", weight="medium", data_testid="worksheet-asset"),
                    asset_badge(r.asset_status, size="1"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(r.device, " ", r.identity, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(rx.text(r.client, size="2")),
        rx.table.cell(rx.text(r.assignee, size="2", data_testid="worksheet-assignee")),
        rx.table.cell(rx.text(r.labour, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(
            rx.hstack(
                sheet_badge(r.status, data_testid="worksheet-status"),
                rx.cond(
                    r.qc_failures > 0,
                    rx.tooltip(
                        rx.badge(r.qc_failures, "× failed", color_scheme="red", variant="outline", size="1"),
                        content="Times this repair failed final QC",
                    ),
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(rx.text(r.opened, size="1", color_scheme="gray", white_space="nowrap")),
        align="center",
        data_testid="worksheet-row",
    )


def _table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(S, "Worksheet", "number", width="120px"),
                    sortable_header(S, "Asset", "asset"),
                    rx.table.column_header_cell("Client", width="150px"),
                    sortable_header(S, "Assigned to", "technician", width="170px"),
                    sortable_header(S, "Labour", "labour", width="100px", text_align="right"),
                    sortable_header(S, "Status", "status", width="170px"),
                    sortable_header(S, "Opened", "created", width="150px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface",
            width="100%",
            min_width="960px",
            table_layout="fixed",
            data_testid="worksheets-table",
        )
    )


def _eligible_row(o: rx.Var[Option]) -> rx.Component:
    return rx.hstack(
        rx.text(o.label, size="2", flex="1", min_width="0"),
        rx.button(
            "Open worksheet",
            size="1",
            loading=S.open_busy,
            on_click=S.open_for(o.value),
            data_testid="open-for-asset",
        ),
        align="center",
        width="100%",
        padding_y="4px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="eligible-asset",
    )


def _open_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("plus", size=14), "Open worksheet", size="2", data_testid="open-worksheet")
        ),
        rx.dialog.content(
            rx.dialog.title("Open a worksheet"),
            rx.dialog.description(
                "Assets in repair or awaiting parts that have no open worksheet, the longest waiting first.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.cond(
                    S.open_error != "",
                    rx.callout(
                        S.open_error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="open-error"
                    ),
                ),
                rx.debounce_input(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=14)),
                        placeholder="Asset number, IMEI or serial",
                        value=S.asset_search,
                        on_change=S.search_assets,
                        width="100%",
                        data_testid="asset-search",
                    ),
                    debounce_timeout=300,
                ),
                rx.cond(
                    S.eligible.length() > 0,
                    rx.vstack(rx.foreach(S.eligible, _eligible_row), spacing="0", width="100%"),
                    rx.text(
                        "No asset in repair or awaiting parts is without a worksheet.",
                        size="2",
                        color_scheme="gray",
                        data_testid="no-eligible",
                    ),
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
            max_width="560px",
            data_testid="open-dialog",
        ),
        open=S.open_dialog,
        on_open_change=S.set_open_dialog,
    )


@staff_page("/repairs/worksheets", "Worksheets", permission="repairs.read", icon="wrench", nav=False, on_load=S.load)
def worksheets_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            repairs_tabs(TAB),
            rx.spacer(),
            rx.cond(S.can_write, _open_dialog()),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray"),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "A worksheet is the repair of one asset: who works on it, the labour, the repair codes done and the "
            "spare parts it took. It ends in final QC: passed, the asset is ready for dispatch; failed, it goes "
            "back to repair.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.error != "",
            rx.callout(
                S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="worksheets-error"
            ),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _filters(),
                rx.cond(
                    S.rows.length() > 0,
                    _table(),
                    rx.cond(
                        S.filtered,
                        empty_state("list-filter", "No worksheets match", "Change or clear the filters."),
                        empty_state(
                            "wrench",
                            "No worksheets yet",
                            "Open one for an asset in repair: the button above, or “Open worksheet” on the asset.",
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
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/worksheets/new?asset=<id> -------------------------------------------------------------


@staff_page(
    "/repairs/worksheets/new",
    "Open worksheet",
    permission="repairs.write",
    icon="wrench",
    nav=False,
    on_load=NewWorksheetState.load,
)
def new_worksheet_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs(TAB),
        rx.cond(
            NewWorksheetState.error != "",
            rx.vstack(
                rx.callout(
                    NewWorksheetState.error,
                    icon="triangle-alert",
                    color_scheme="red",
                    width="100%",
                    data_testid="new-worksheet-error",
                ),
                rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Worksheets")), href="/repairs/worksheets"),
                spacing="3",
                width="100%",
            ),
            rx.hstack(rx.spinner(), rx.text("Opening the worksheet…", size="2"), align="center", spacing="2"),
        ),
        spacing="4",
        width="100%",
    )


# --- /repairs/worksheets/[id] -------------------------------------------------------------------------


def _kv(label: str, value, testid: str | None = None) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="90px"),
        rx.text(value, size="2", data_testid=testid),
        spacing="2",
        align="start",
        width="100%",
    )


def _card(title: str, icon: str, *children, testid: str, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=16), rx.heading(title, size="3"), align="center", spacing="2"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
        data_testid=testid,
        **props,
    )


def _asset_card() -> rx.Component:
    a = W.asset
    return _card(
        "Asset",
        "smartphone",
        rx.hstack(
            rx.link(a.number, href="/repairs/assets/" + a.id, weight="bold", data_testid="asset-number"),
            asset_badge(a.status, data_testid="asset-status"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        _kv("Device", a.device),
        rx.cond(a.imei != "", _kv("IMEI", a.imei)),
        rx.cond(a.serial != "", _kv("Serial", a.serial)),
        _kv("Client", a.client),
        rx.cond(a.fault != "", _kv("Fault", a.fault)),
        rx.cond(a.condition != "", _kv("Condition", a.condition)),
        rx.cond(
            W.editable & (a.status == "awaiting_parts"),
            rx.callout(
                rx.vstack(
                    rx.text("The asset is awaiting parts. Once they are issued, put it back in repair."),
                    rx.button(
                        rx.icon("play", size=14),
                        "Parts are here: back in repair",
                        size="1",
                        on_click=W.resume_repair,
                        loading=W.busy,
                        data_testid="resume-repair",
                    ),
                    spacing="2",
                ),
                icon="package-search",
                color_scheme="amber",
                width="100%",
            ),
        ),
        rx.cond(
            W.editable & (a.status == "in_repair"),
            rx.button(
                rx.icon("pause", size=14),
                "Waiting for parts",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=W.wait_for_parts,
                data_testid="wait-for-parts",
            ),
        ),
        testid="asset-card",
    )


def _assign_select(value: rx.Var, on_change, options: rx.Var, nobody: str, label: str, testid: str, item: str):
    return rx.select.root(
        rx.select.trigger(aria_label=label, data_testid=testid, width="100%"),
        rx.select.content(
            rx.select.item(nobody, value=NOBODY),
            rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value, data_testid=item + "-" + o.label)),
        ),
        value=value,
        on_change=on_change,
        disabled=~W.can_write | (W.sheet.status == "passed") | (W.sheet.status == "cancelled"),
    )


def _assign_card() -> rx.Component:
    return _card(
        "Assigned to",
        "user-cog",
        field(
            "Technician",
            _assign_select(
                W.sheet.technician_id,
                W.assign_technician,
                W.technicians,
                "Nobody",
                "Technician",
                "assign-technician",
                "technician",
            ),
        ),
        field(
            "Team",
            _assign_select(W.sheet.team_id, W.assign_team, W.teams, "No team", "Team", "assign-team", "team"),
        ),
        testid="assign-card",
    )


def _labour_line(line: rx.Var[LogLine]) -> rx.Component:
    return rx.hstack(
        rx.text(line.text, size="2", flex="1", min_width="0"),
        rx.text(line.who, " · ", line.at, size="1", color_scheme="gray", white_space="nowrap"),
        width="100%",
        align="center",
        data_testid="labour-line",
    )


def _labour_card() -> rx.Component:
    return _card(
        "Labour",
        "timer",
        rx.hstack(
            rx.heading(W.sheet.labour, size="6", data_testid="labour-total"),
            rx.text("in all", size="2", color_scheme="gray"),
            align="baseline",
            spacing="2",
        ),
        rx.cond(
            W.editable,
            rx.form(
                rx.vstack(
                    rx.flex(
                        rx.input(
                            name="minutes",
                            type="number",
                            placeholder="Minutes",
                            aria_label="Minutes",
                            width="110px",
                            data_testid="labour-minutes",
                        ),
                        rx.input(
                            name="note",
                            placeholder="What was done (optional)",
                            aria_label="Note",
                            flex="1",
                            min_width="160px",
                            max_length=300,
                            data_testid="labour-note",
                        ),
                        rx.button(rx.icon("plus", size=14), "Log", type="submit", data_testid="labour-submit"),
                        spacing="2",
                        wrap="wrap",
                        width="100%",
                    ),
                    rx.cond(
                        W.labour_error != "",
                        rx.text(W.labour_error, size="1", color_scheme="red", data_testid="labour-error"),
                    ),
                    spacing="1",
                    width="100%",
                ),
                on_submit=W.log_labour,
                reset_on_submit=False,
                key=W.labour_key,
                width="100%",
            ),
        ),
        rx.cond(
            W.labour.length() > 0,
            rx.vstack(rx.foreach(W.labour, _labour_line), spacing="1", width="100%"),
            rx.text("No labour logged yet.", size="2", color_scheme="gray"),
        ),
        testid="labour-card",
    )


def _notes_card() -> rx.Component:
    return _card(
        "Notes",
        "notebook-pen",
        rx.cond(
            W.editable,
            rx.form(
                rx.vstack(
                    rx.text_area(
                        name="notes",
                        default_value=W.sheet.notes,
                        rows="4",
                        placeholder="What you found and did, for QC and the invoice.",
                        width="100%",
                        max_length=4000,
                        data_testid="notes-input",
                    ),
                    rx.cond(
                        W.notes_error != "",
                        rx.text(W.notes_error, size="1", color_scheme="red", data_testid="notes-error"),
                    ),
                    rx.button("Save notes", type="submit", size="1", variant="soft", data_testid="notes-save"),
                    spacing="2",
                    width="100%",
                    align="end",
                ),
                on_submit=W.save_notes,
                reset_on_submit=False,
                key=W.sheet.notes,
                width="100%",
            ),
            rx.text(
                rx.cond(W.sheet.notes != "", W.sheet.notes, "No notes."),
                size="2",
                white_space="pre-wrap",
                data_testid="notes-text",
            ),
        ),
        testid="notes-card",
    )


def _code_row(c: rx.Var[CodeView]) -> rx.Component:
    return rx.hstack(
        rx.checkbox(
            checked=c.done,
            on_change=lambda on: W.toggle_code(c.id, on),
            disabled=~W.editable | ~c.mapped | (c.done & ~c.done_here),
            aria_label="Done",
            data_testid="code-done",
        ),
        rx.vstack(
            rx.hstack(
                rx.code(c.code, size="2", data_testid="code-code"),
                rx.text(c.name, size="2"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.hstack(
                rx.badge(c.source, variant="outline", color_scheme="gray", size="1"),
                rx.cond(~c.mapped, rx.badge("Not mapped", color_scheme="amber", size="1")),
                rx.cond(c.done_here, rx.badge("Done here", color_scheme="green", size="1")),
                rx.cond(c.done_on != "", rx.badge("Done on ", c.done_on, color_scheme="gray", size="1")),
                spacing="1",
                wrap="wrap",
            ),
            spacing="1",
            min_width="0",
        ),
        align="start",
        spacing="3",
        width="100%",
        padding_y="4px",
        data_testid="code-row",
    )


def _codes_card() -> rx.Component:
    return _card(
        "Repair codes",
        "tags",
        rx.text("Tick a code when it is repaired on this worksheet.", size="1", color_scheme="gray"),
        rx.cond(
            W.codes.length() > 0,
            rx.vstack(rx.foreach(W.codes, _code_row), spacing="1", width="100%"),
            rx.text("No codes found on this asset yet.", size="2", color_scheme="gray", data_testid="no-codes"),
        ),
        rx.cond(
            W.editable,
            rx.select.root(
                rx.select.trigger(placeholder="Add a code done here…", width="100%", data_testid="add-code"),
                rx.select.content(rx.foreach(W.code_choices, _option)),
                value="",
                on_change=W.add_code,
            ),
        ),
        testid="codes-card",
    )


def _held_row(p: rx.Var[PartView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(p.name, size="2", weight="medium"),
                rx.text(p.sku, " · issued ", p.issued, " · returned ", p.returned, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(rx.text(p.used, weight="bold", data_testid="part-used"), text_align="right"),
        rx.table.cell(rx.text(p.cost, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(
            rx.cond(
                W.editable & W.can_issue & (p.used > 0),
                rx.button(
                    rx.icon("undo-2", size=14),
                    "Return",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=W.open_return(p.id),
                    data_testid="part-return",
                ),
            ),
            text_align="right",
        ),
        align="center",
        data_testid="held-part",
    )


def _spare_row(o: rx.Var[SpareOption]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(o.name, size="2", weight="medium"),
            rx.text(o.sku, " · ", o.cost, size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.badge(o.stock, " in stock", color_scheme=rx.cond(o.stock > 0, "green", "red"), variant="soft"),
        rx.button(
            rx.icon("package-minus", size=14),
            "Issue",
            size="1",
            disabled=o.stock <= 0,
            on_click=W.open_issue(o.id),
            data_testid="spare-issue",
        ),
        align="center",
        spacing="2",
        width="100%",
        padding_y="4px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="spare-row",
    )


def _parts_card() -> rx.Component:
    return _card(
        "Spare parts",
        "package",
        rx.cond(
            W.parts.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Part"),
                            rx.table.column_header_cell("Used", width="56px", text_align="right"),
                            rx.table.column_header_cell("Cost", width="90px", text_align="right"),
                            rx.table.column_header_cell("", width="96px"),
                        )
                    ),
                    rx.table.body(rx.foreach(W.parts, _held_row)),
                    variant="ghost",
                    size="1",
                    width="100%",
                    min_width="400px",
                    data_testid="held-parts",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.text("No parts issued to this worksheet.", size="2", color_scheme="gray", data_testid="no-parts"),
        ),
        rx.cond(
            W.parts.length() > 0,
            rx.text("Parts used: ", W.parts_total, size="2", weight="medium", data_testid="parts-total"),
        ),
        rx.cond(
            W.editable & W.can_issue,
            rx.vstack(
                rx.debounce_input(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=14)),
                        placeholder="Find a spare part: SKU, name or model",
                        value=W.part_search,
                        on_change=W.search_parts,
                        width="100%",
                        data_testid="spare-search",
                    ),
                    debounce_timeout=300,
                ),
                rx.foreach(W.spares, _spare_row),
                rx.cond(
                    (W.part_search != "") & (W.spares.length() == 0),
                    rx.text("No spare part matches.", size="2", color_scheme="gray"),
                ),
                spacing="1",
                width="100%",
            ),
        ),
        testid="parts-card",
    )


def _qc_card() -> rx.Component:
    s = W.sheet
    return _card(
        "Final QC",
        "shield-check",
        rx.cond(
            s.qc_result != "",
            rx.vstack(
                rx.hstack(
                    rx.badge(
                        rx.cond(s.qc_result == "pass", "Last check passed", "Last check failed"),
                        color_scheme=rx.cond(s.qc_result == "pass", "green", "red"),
                        data_testid="qc-result",
                    ),
                    rx.text(s.qc_at, size="1", color_scheme="gray"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    s.qc_notes != "",
                    rx.text(s.qc_notes, size="2", white_space="pre-wrap", data_testid="qc-notes"),
                ),
                spacing="1",
                width="100%",
            ),
            rx.text("Not checked yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(s.qc_failures > 0, _kv("Failed", rx.fragment(s.qc_failures, " time(s)"), "qc-failures")),
        rx.cond(s.submitted != "", _kv("Sent to QC", s.submitted)),
        rx.cond(s.completed != "", _kv("Completed", s.completed)),
        rx.cond(
            (s.status == "open") & W.can_write,
            rx.text(
                "Send it to final QC when the repair is done: a code ticked done or a note is needed.",
                size="1",
                color_scheme="gray",
            ),
        ),
        testid="qc-card",
    )


def _history_line(line: rx.Var[LogLine]) -> rx.Component:
    return rx.hstack(
        rx.box(width="8px", height="8px", border_radius="50%", background=rx.color("accent", 9), margin_top="6px"),
        rx.vstack(
            rx.text(line.what, size="2", weight="medium"),
            rx.text(line.text, size="2"),
            rx.text(line.who, " · ", line.at, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="2",
        width="100%",
        data_testid="history-line",
    )


def _history_card() -> rx.Component:
    return _card(
        "History",
        "history",
        rx.vstack(
            rx.foreach(W.history, _history_line), spacing="2", width="100%", max_height="360px", overflow_y="auto"
        ),
        testid="history-card",
    )


def _actions() -> rx.Component:
    s = W.sheet
    return rx.cond(
        W.can_write,
        rx.hstack(
            rx.cond(
                s.status == "open",
                rx.hstack(
                    confirm_button(
                        "Cancel worksheet",
                        rx.fragment("Cancel ", s.number, "?"),
                        "Codes ticked done on it are open again. A worksheet still holding spare parts cannot be "
                        "cancelled: return them first.",
                        W.cancel,
                        icon="ban",
                        keep="Keep it",
                        size="2",
                        testid="cancel-worksheet",
                        confirm_testid="cancel-confirm",
                    ),
                    rx.button(
                        rx.icon("send", size=14),
                        "Submit to QC",
                        size="2",
                        loading=W.busy,
                        on_click=W.submit_qc,
                        data_testid="submit-qc",
                    ),
                    spacing="2",
                ),
            ),
            rx.cond(
                s.status == "in_qc",
                rx.hstack(
                    rx.button(
                        rx.icon("x", size=14),
                        "QC Fail",
                        size="2",
                        color_scheme="red",
                        variant="soft",
                        on_click=W.set_fail_open(True),
                        data_testid="qc-fail",
                    ),
                    rx.button(
                        rx.icon("check", size=14),
                        "QC Pass",
                        size="2",
                        color_scheme="green",
                        loading=W.busy,
                        on_click=W.qc_pass,
                        data_testid="qc-pass",
                    ),
                    spacing="2",
                ),
            ),
            spacing="2",
        ),
    )


def _move_dialog() -> rx.Component:
    issue = W.move_kind == "issue"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(issue, "Issue ", "Return "), W.move_part.name),
            rx.dialog.description(
                rx.cond(
                    issue,
                    rx.fragment(W.move_part.stock, " in stock · taken off the shelf for ", W.sheet.number),
                    rx.fragment(W.move_max, " held by ", W.sheet.number, " · back on the shelf"),
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Units",
                        rx.input(
                            name="quantity",
                            type="number",
                            min=1,
                            max=W.move_max,
                            default_value="1",
                            aria_label="Units",
                            data_testid="move-quantity",
                        ),
                    ),
                    rx.cond(
                        W.move_error != "",
                        rx.callout(
                            W.move_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="move-error",
                        ),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            rx.cond(issue, "Issue", "Return"),
                            type="submit",
                            loading=W.move_busy,
                            data_testid="move-submit",
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=W.submit_move,
                reset_on_submit=False,
                width="100%",
            ),
            max_width="420px",
            data_testid="move-dialog",
        ),
        open=W.move_open,
        on_open_change=W.set_move_open,
    )


def _fail_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Final QC failed"),
            rx.dialog.description(
                "The worksheet opens again and the asset goes back to repair. Say what failed: the technician "
                "reads it.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.text_area(
                        name="notes",
                        rows="3",
                        placeholder="What failed (say, “touch dead in the top corner”)",
                        width="100%",
                        max_length=2000,
                        data_testid="fail-notes",
                    ),
                    rx.cond(
                        W.fail_error != "",
                        rx.text(W.fail_error, size="1", color_scheme="red", data_testid="fail-error"),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Fail QC", type="submit", color_scheme="red", data_testid="fail-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=W.qc_fail,
                reset_on_submit=False,
                width="100%",
            ),
            max_width="480px",
            data_testid="fail-dialog",
        ),
        open=W.fail_open,
        on_open_change=W.set_fail_open,
    )


@staff_page(
    "/repairs/worksheets/[id]", "Worksheet", permission="repairs.read", icon="wrench", nav=False, on_load=W.load
)
def worksheet_page() -> rx.Component:
    s = W.sheet
    return rx.vstack(
        repairs_tabs(TAB),
        detail_page(
            W.error,
            W.loaded,
            "Worksheet not found",
            rx.vstack(
                rx.flex(
                    rx.link(
                        rx.hstack(rx.icon("arrow-left", size=14), rx.text("Worksheets")),
                        href="/repairs/worksheets",
                        size="2",
                    ),
                    rx.heading("Worksheet ", s.number, size="6", data_testid="worksheet-title"),
                    sheet_badge(s.status, size="2", data_testid="sheet-status"),
                    rx.text("opened ", s.opened, size="1", color_scheme="gray"),
                    rx.spacer(),
                    _actions(),
                    align="center",
                    gap="8px",
                    width="100%",
                    wrap="wrap",
                ),
                rx.cond(
                    (s.status == "open") & (s.qc_result == "fail"),
                    rx.callout(
                        rx.fragment("Final QC failed: ", s.qc_notes),
                        icon="shield-alert",
                        color_scheme="red",
                        width="100%",
                        data_testid="qc-failed-banner",
                    ),
                ),
                rx.grid(
                    rx.vstack(
                        _asset_card(),
                        _assign_card(),
                        _labour_card(),
                        _notes_card(),
                        spacing="4",
                        width="100%",
                        min_width="0",
                    ),
                    rx.vstack(
                        _codes_card(),
                        _parts_card(),
                        _qc_card(),
                        _history_card(),
                        spacing="4",
                        width="100%",
                        min_width="0",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                min_width="0",
            ),
            rows=8,
        ),
        _move_dialog(),
        _fail_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )
