"""/repairs/unmapped: upload diagnostic-tool logs and follow them being read,
map the codes no mapping covers yet (the unmapped-codes queue), and keep the
shop's code mappings. Not in the navigation: the repairs tabs lead here."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from app.repairs.machine import DIAGNOSTIC_LOG_STATUS
from components.layout import staff_page
from components.ui import (
    confirm_button,
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
from state.repairs_diagnostics import UPLOAD_ID, CodeChoice, CodeLine, LogView, MappingView, UploadLine, WaitingView
from state.repairs_diagnostics import RepairsDiagnosticsState as S

# --- figures -------------------------------------------------------------------------------------


def _figure(label: str, value: rx.Var, tone: str, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value, size="6", color_scheme=tone, data_testid=testid),
            spacing="1",
        ),
        flex="1",
        min_width="140px",
    )


def _figures() -> rx.Component:
    f = S.figures
    return rx.flex(
        _figure("Rows waiting for a mapping", f.waiting_rows, "amber", "count-waiting"),
        _figure("Codes waiting", f.waiting_codes, "amber", "count-codes"),
        _figure("Logs being read", f.queued, "blue", "count-queued"),
        _figure("Logs read", f.parsed, "green", "count-parsed"),
        _figure("Logs refused", f.failed, "red", "count-failed"),
        _figure("Mappings", f.mappings, "gray", "count-mappings"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


# --- upload --------------------------------------------------------------------------------------


def _upload_line(line: rx.Var[UploadLine]) -> rx.Component:
    return rx.hstack(
        rx.icon(
            rx.match(line.tone, ("green", "circle-check"), ("amber", "copy"), "circle-x"),
            size=14,
            color=rx.match(
                line.tone, ("green", rx.color("green", 9)), ("amber", rx.color("amber", 9)), rx.color("red", 9)
            ),
        ),
        rx.text(line.filename, size="2", weight="medium"),
        rx.text(line.outcome, size="2", color_scheme="gray"),
        align="center",
        spacing="2",
        data_testid="upload-line",
    )


def _upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("file-up", size=18), rx.heading("Upload diagnostic logs", size="3"), align="center"),
            rx.text(
                "Text exports of the diagnostic tool (Dr.Fone's report: a header with the device's IMEI or serial, "
                "then ",
                rx.code("code,component,result,message"),
                " rows), at most 1 MB each. Every FAIL becomes a repair code on the device's asset, or waits "
                "below until its code is mapped. The same file twice is one log.",
                size="2",
                color_scheme="gray",
            ),
            rx.flex(
                rx.upload.root(
                    rx.button(rx.icon("paperclip", size=14), "Choose logs", variant="soft", size="2", type="button"),
                    id=UPLOAD_ID,
                    multiple=True,
                    max_files=50,
                    accept={"text/plain": [".txt", ".log"], "text/csv": [".csv"]},
                    data_testid="log-upload",
                ),
                rx.text(
                    rx.selected_files(UPLOAD_ID).join(", "),
                    size="1",
                    color_scheme="gray",
                    data_testid="log-upload-selected",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("upload", size=14),
                    "Upload",
                    size="2",
                    loading=S.upload_busy,
                    on_click=S.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                    data_testid="log-upload-submit",
                ),
                align="center",
                spacing="3",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.upload_lines.length() > 0,
                rx.vstack(rx.foreach(S.upload_lines, _upload_line), spacing="1", width="100%"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# --- the unmapped-codes queue --------------------------------------------------------------------


def _queue_row(w: rx.Var[WaitingView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.code(w.code, size="2", weight="bold", data_testid="queue-code"),
                rx.cond(w.area != "", rx.text(w.area, size="1", color_scheme="gray")),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(w.message, size="2", data_testid="queue-message")),
        rx.table.cell(
            rx.badge(w.count, color_scheme="amber", variant="soft", size="2", data_testid="queue-count"),
            text_align="right",
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(w.examples, size="2", data_testid="queue-examples"),
                rx.text(w.devices, " device(s)", size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(w.first_seen, size="1", white_space="nowrap"),
                rx.text("last ", w.last_seen, size="1", color_scheme="gray", white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                S.can_write,
                rx.button(
                    rx.icon("link", size=14),
                    "Map to…",
                    size="1",
                    on_click=S.open_map(w.code),
                    data_testid="queue-map",
                ),
            )
        ),
        align="center",
        data_testid="queue-row",
    )


def _queue() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.hstack(
                rx.icon("circle-help", size=18),
                rx.heading("Unmapped codes", size="4"),
                rx.badge(S.total, " code(s)", color_scheme="amber", variant="soft"),
                align="center",
                spacing="2",
            ),
            rx.spacer(),
            rx.box(
                search_box(S.search, S.set_search, "Search code or message", width="100%", data_testid="queue-search"),
                width=rx.breakpoints(initial="100%", sm="280px"),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.queue.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            sortable_header(S, "Tool code", "code", width="150px"),
                            rx.table.column_header_cell("What the tool says"),
                            sortable_header(S, "Rows", "count", width="90px", text_align="right", justify="end"),
                            rx.table.column_header_cell("Example devices", width="200px"),
                            sortable_header(S, "Seen", "first_seen", width="150px"),
                            rx.table.column_header_cell("", width="110px"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.queue, _queue_row)),
                    variant="surface",
                    width="100%",
                    min_width="860px",
                    table_layout="fixed",
                    data_testid="queue-table",
                )
            ),
            rx.cond(
                S.search != "",
                empty_state("list-filter", "No waiting code matches", "Change or clear the search."),
                empty_state(
                    "circle-check",
                    "No code is waiting",
                    "Every failed test in the logs read so far has a repair code.",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
        data_testid="queue-section",
    )


def _choice_item(c: rx.Var[CodeChoice]) -> rx.Component:
    return rx.select.item(c.label, value=c.id, data_testid="code-option-" + c.code)


def _code_select(value: rx.Var, on_change, testid: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Choose a repair code", aria_label="Repair code", data_testid=testid),
        rx.select.content(rx.foreach(S.choices, _choice_item)),
        value=value,
        on_change=on_change,
    )


def _map_dialog() -> rx.Component:
    t = S.map_target
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Map ", t.code),
            rx.dialog.description(
                t.count,
                " row(s) on ",
                t.devices,
                " device(s) wait for this code. The mapping applies to all of them at once, and to every log "
                "read from now on.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.callout(t.message, icon="message-square-warning", color_scheme="gray", width="100%"),
                rx.cond(t.examples != "", rx.text("On ", t.examples, size="1", color_scheme="gray")),
                field("Repair code", _code_select(S.map_choice, S.set_map_choice, "map-choice")),
                rx.cond(
                    t.suggestion != "",
                    rx.text(
                        "Suggested for this kind of failure: ", rx.code(t.suggestion), size="1", color_scheme="gray"
                    ),
                ),
                rx.cond(
                    S.map_error != "",
                    rx.callout(
                        S.map_error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="map-error"
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Map", loading=S.map_busy, on_click=S.submit_map, data_testid="map-submit"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="8px",
            ),
            max_width="520px",
            data_testid="map-dialog",
        ),
        open=S.map_open,
        on_open_change=S.set_map_open,
    )


# --- the logs ------------------------------------------------------------------------------------


def _log_row(lg: rx.Var[LogView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(
                    lg.filename,
                    on_click=S.open_log(lg.id),
                    cursor="pointer",
                    size="2",
                    weight="medium",
                    data_testid="log-name",
                ),
                rx.text(lg.uploaded, size="1", color_scheme="gray"),
                rx.cond(lg.error != "", rx.text(lg.error, size="1", color_scheme="red", data_testid="log-error")),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                lg.device != "",
                rx.hstack(
                    rx.text(lg.device, size="2", data_testid="log-device"),
                    rx.cond(
                        ~lg.matched,
                        rx.tooltip(
                            rx.badge("no asset", color_scheme="gray", variant="outline", size="1"),
                            content="No asset in the shop has this IMEI or serial yet",
                        ),
                    ),
                    spacing="2",
                    align="center",
                ),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(status_badge(lg.status, DIAGNOSTIC_LOG_STATUS, variant="soft", data_testid="log-status")),
        rx.table.cell(rx.text(lg.found, size="2"), text_align="right"),
        rx.table.cell(rx.text(lg.mapped, size="2", color_scheme="green"), text_align="right"),
        rx.table.cell(
            rx.text(
                lg.waiting,
                size="2",
                weight=rx.cond(lg.waiting > 0, "bold", "regular"),
                color_scheme=rx.cond(lg.waiting > 0, "amber", "gray"),
                data_testid="log-waiting",
            ),
            text_align="right",
        ),
        rx.table.cell(rx.text(lg.tested, size="1", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                S.can_write & lg.retryable,
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    "Read again",
                    size="1",
                    variant="soft",
                    on_click=S.retry(lg.id),
                    data_testid="log-retry",
                ),
            )
        ),
        align="center",
        data_testid="log-row",
    )


def _chip(value: str, label: str) -> rx.Component:
    return filter_chip(S.log_status, value, label, S.set_log_status, testid="log-status")


def _logs() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.hstack(rx.icon("file-text", size=18), rx.heading("Diagnostic logs", size="4"), align="center"),
            rx.spacer(),
            rx.flex(
                _chip("", "All"),
                *[_chip(s.value, s.label) for s in DIAGNOSTIC_LOG_STATUS],
                spacing="2",
                wrap="wrap",
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.logs.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("File", min_width="260px"),
                            rx.table.column_header_cell("Device", width="190px"),
                            rx.table.column_header_cell("Status", width="110px"),
                            rx.table.column_header_cell("Faults", width="70px", text_align="right"),
                            rx.table.column_header_cell("Mapped", width="80px", text_align="right"),
                            rx.table.column_header_cell("Waiting", width="80px", text_align="right"),
                            rx.table.column_header_cell("Tested", width="140px"),
                            rx.table.column_header_cell("", width="120px"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.logs, _log_row)),
                    variant="surface",
                    width="100%",
                    min_width="960px",
                    table_layout="fixed",
                    data_testid="logs-table",
                )
            ),
            rx.cond(
                S.log_status != "",
                empty_state("list-filter", "No log with this status", "Choose another status."),
                empty_state("file-text", "No logs yet", "Upload the diagnostic tool's exports above."),
            ),
        ),
        pager(S.log_page, S.log_pages, S.logs_prev, S.logs_next),
        spacing="3",
        width="100%",
    )


def _code_line(c: rx.Var[CodeLine]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(c.code, size="1")),
        rx.table.cell(rx.text(c.message, size="2")),
        rx.table.cell(
            rx.cond(
                c.repair_code != "",
                rx.vstack(
                    rx.badge(c.repair_code, color_scheme="green", variant="soft", data_testid="log-code-repair"),
                    rx.text(c.repair_code_name, size="1", color_scheme="gray"),
                    spacing="1",
                ),
                rx.badge("waiting for a mapping", color_scheme="amber", variant="soft", data_testid="log-code-waiting"),
            )
        ),
        align="center",
        data_testid="log-code-row",
    )


def _log_dialog() -> rx.Component:
    d = S.log_detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(d.filename),
            rx.dialog.description(
                rx.cond(d.device != "", d.device, "No device"),
                rx.cond(d.tool != "", rx.fragment(" · ", d.tool)),
                rx.cond(d.tested != "", rx.fragment(" · tested ", d.tested)),
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.hstack(
                    status_badge(d.status, DIAGNOSTIC_LOG_STATUS, variant="soft", size="2"),
                    rx.badge(d.found, " fault(s)", color_scheme="gray", size="2"),
                    rx.badge(d.mapped, " mapped", color_scheme="green", size="2"),
                    rx.badge(d.waiting, " waiting", color_scheme="amber", size="2"),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.cond(d.error != "", rx.callout(d.error, icon="triangle-alert", color_scheme="red", width="100%")),
                rx.cond(
                    S.log_codes.length() > 0,
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Tool code", width="130px"),
                                    rx.table.column_header_cell("What the tool says"),
                                    rx.table.column_header_cell("Repair code", width="200px"),
                                )
                            ),
                            rx.table.body(rx.foreach(S.log_codes, _code_line)),
                            variant="surface",
                            size="1",
                            width="100%",
                            min_width="560px",
                            table_layout="fixed",
                            data_testid="log-codes",
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    rx.cond(
                        d.status == "parsed",
                        empty_state("circle-check", "No faults", "Every test in this log passed."),
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
            max_width="760px",
            data_testid="log-dialog",
        ),
        open=S.log_open,
        on_open_change=S.set_log_open,
    )


# --- mappings ------------------------------------------------------------------------------------


def _mapping_row(m: rx.Var[MappingView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(m.code, size="2", weight="bold", data_testid="mapping-code")),
        rx.table.cell(
            rx.vstack(
                rx.badge(m.repair_code, color_scheme="green", variant="soft", data_testid="mapping-repair-code"),
                rx.text(m.repair_code_name, size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(m.description, size="2")),
        rx.table.cell(rx.text(m.applied, size="2"), text_align="right"),
        rx.table.cell(rx.text(m.created, size="1", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                S.can_write,
                rx.hstack(
                    rx.button(
                        rx.icon("pencil", size=14),
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=S.open_edit(m.id),
                        data_testid="mapping-edit",
                    ),
                    confirm_button(
                        "Delete",
                        rx.fragment("Delete the mapping of ", m.code, "?"),
                        rx.fragment(
                            "Rows it mapped keep their repair code; logs read from now on put ",
                            m.code,
                            " in the unmapped queue again.",
                        ),
                        S.delete_mapping(m.id),
                        testid="mapping-delete",
                        confirm_testid="mapping-delete-confirm",
                    ),
                    spacing="2",
                ),
            )
        ),
        align="center",
        data_testid="mapping-row",
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.edit_id != "", rx.fragment("Mapping of ", S.edit_code), "New mapping")),
            rx.dialog.description(
                rx.cond(
                    S.edit_id != "",
                    "A change applies to logs read from now on; rows already mapped keep their repair code.",
                    "Rows waiting for the code get the repair code at once.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.cond(
                    S.edit_id == "",
                    field(
                        "Tool code",
                        rx.input(
                            value=S.edit_code,
                            on_change=S.set_edit_code,
                            placeholder="DF-BAT-012",
                            data_testid="edit-code",
                        ),
                    ),
                ),
                field("Repair code", _code_select(S.edit_choice, S.set_edit_choice, "edit-choice")),
                field(
                    "Description",
                    rx.input(
                        value=S.edit_description,
                        on_change=S.set_edit_description,
                        placeholder="The tool's words for the code",
                        data_testid="edit-description",
                    ),
                ),
                rx.cond(
                    S.edit_error != "",
                    rx.callout(
                        S.edit_error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="edit-error"
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Save", on_click=S.save_mapping, data_testid="edit-save"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="8px",
            ),
            max_width="520px",
            data_testid="edit-dialog",
        ),
        open=S.edit_open,
        on_open_change=S.set_edit_open,
    )


def _mappings() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.hstack(rx.icon("link", size=18), rx.heading("Code mappings", size="4"), align="center"),
            rx.spacer(),
            rx.box(
                search_box(S.mapping_search, S.set_mapping_search, "Search mappings", width="100%"),
                width=rx.breakpoints(initial="100%", sm="240px"),
            ),
            rx.cond(
                S.can_write,
                rx.button(
                    rx.icon("plus", size=14),
                    "New mapping",
                    size="2",
                    on_click=S.open_new_mapping,
                    data_testid="mapping-new",
                ),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.mappings.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Tool code", width="150px"),
                            rx.table.column_header_cell("Repair code", width="220px"),
                            rx.table.column_header_cell("Description"),
                            rx.table.column_header_cell("Rows", width="70px", text_align="right"),
                            rx.table.column_header_cell("Since", width="110px"),
                            rx.table.column_header_cell("", width="180px"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.mappings, _mapping_row)),
                    variant="surface",
                    width="100%",
                    min_width="820px",
                    table_layout="fixed",
                    data_testid="mappings-table",
                )
            ),
            empty_state(
                "link",
                "No mappings yet",
                "Map a code from the queue above, or add one: logs then give the repair code at once.",
            ),
        ),
        pager(S.mapping_page, S.mapping_pages, S.mappings_prev, S.mappings_next),
        spacing="3",
        width="100%",
    )


# --- the page ------------------------------------------------------------------------------------


@staff_page(
    "/repairs/unmapped", "Unmapped codes", permission="repairs.read", icon="circle-help", nav=False, on_load=S.load
)
def repairs_diagnostics_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            repairs_tabs("unmapped"),
            rx.spacer(),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="diagnostics-updated"),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.error != "",
            rx.callout(
                S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="diagnostics-error"
            ),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _figures(),
                rx.cond(S.can_write, _upload_card()),
                _queue(),
                _logs(),
                _mappings(),
                spacing="5",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
        _map_dialog(),
        _edit_dialog(),
        _log_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )
