"""Repairs pages: receiving. The batches a client announced (/repairs/batches)
and one batch (/repairs/batches/[id]: received against expected, the manifest,
the sessions, the devices that were not on it); the phone page that receives a
batch (/repairs/receive/[batch_id]: a big scan box a barcode scanner types
into, model, condition, accessories, a photo from the camera); the assets
(/repairs/assets) and one asset (/repairs/assets/[id]: status, the moves made
here, hold and resume, history, photos, and what the workbenches recorded)."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from app.repairs import machine
from components.layout import PHONE_META, forbidden_panel, loading_panel, staff_page
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
    status_shade,
    table_card,
)
from state.base import AppState
from state.repairs_receiving import (
    ACCESSORIES,
    CONDITION_WORDS,
    CONDITIONS,
    NO_MODEL,
    AssetView,
    BatchView,
    HistoryView,
    LineView,
    ManifestView,
    MoveView,
    PhotoView,
    ReceiveState,
    RepairAssetsState,
    RepairAssetState,
    RepairBatchesState,
    RepairBatchState,
    SessionView,
)

CAPTURE_SCRIPT = (
    "document.querySelectorAll('#intake_photo input[type=file]').forEach(i => i.setAttribute('capture', 'environment'))"
)
FOCUS_SCAN = "setTimeout(() => { const i = document.getElementById('scan-code'); if (i) i.focus(); }, 50)"
PHOTO_UPLOAD = "intake_photo"
ASSET_PHOTO_UPLOAD = "asset_photo"
MANIFEST_EXAMPLE = "356938035643809,,Apple iPhone 12,Cracked screen,120\n,C02XK1ABJGH5,,No power,"
IMAGE_TYPES = {"image/*": [".jpg", ".jpeg", ".png", ".webp", ".heic"]}


def batch_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, machine.BATCH_STATUS, variant="soft", white_space="nowrap", **props)


def asset_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, machine.ASSET_STATUS, variant="soft", white_space="nowrap", **props)


def not_on_batch_badge() -> rx.Component:
    return rx.badge(
        rx.icon("flag", size=12), "Not on the batch", color_scheme="amber", variant="soft", data_testid="not-on-batch"
    )


def _progress(received: rx.Var, expected: rx.Var, percent: rx.Var, testid: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(received, " of ", expected, size="2", white_space="nowrap", data_testid=testid or None),
        rx.progress(
            value=percent, max=100, size="1", width="100%", color_scheme=rx.cond(percent >= 100, "green", "blue")
        ),
        spacing="1",
        width="100%",
    )


# --- /repairs/batches -----------------------------------------------------------------------------


def _batch_row(b: rx.Var[BatchView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(b.number, href="/repairs/batches/" + b.id, weight="medium", data_testid="batch-number"),
        ),
        rx.table.cell(rx.text(b.client, size="2")),
        rx.table.cell(rx.text(b.reference, size="2", data_testid="batch-reference")),
        rx.table.cell(rx.text(rx.cond(b.expected_on != "", b.expected_on, "—"), size="2")),
        rx.table.cell(_progress(b.received, b.expected, b.percent, "batch-progress")),
        rx.table.cell(
            rx.cond(b.flagged > 0, rx.badge(b.flagged, " flagged", color_scheme="amber"), rx.text("—", size="2"))
        ),
        rx.table.cell(batch_badge(b.status, data_testid="batch-status")),
        align="center",
        data_testid="batch-row",
    )


def _status_chip(state, value: str, label: str) -> rx.Component:
    return filter_chip(state.status, value, label, state.set_status)


def _err(errors: rx.Var, key: str) -> rx.Component:
    return rx.cond(errors.contains(key), rx.text(errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"))


def _new_batch_dialog() -> rx.Component:
    S = RepairBatchesState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New batch"),
            rx.dialog.description(
                "Devices a client announced. Paste their manifest to match each device as it is scanned in.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        S.new_errors.contains("form"),
                        rx.callout(S.new_errors["form"], icon="triangle-alert", color_scheme="red", width="100%"),
                    ),
                    rx.vstack(
                        field(
                            "Client",
                            rx.select.root(
                                rx.select.trigger(
                                    placeholder="Choose a client", width="100%", data_testid="field-client"
                                ),
                                rx.select.content(
                                    rx.foreach(
                                        S.clients,
                                        lambda c: rx.select.item(c[1], value=c[0], data_testid="client-option"),
                                    )
                                ),
                                name="client_id",
                            ),
                        ),
                        rx.cond(
                            S.clients.length() == 0,
                            rx.text("Add the client first, on the Clients tab.", size="1", color_scheme="gray"),
                        ),
                        _err(S.new_errors, "client_id"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.grid(
                        rx.vstack(
                            field(
                                "Client's reference",
                                rx.input(name="reference", placeholder="RMA-2291", data_testid="field-reference"),
                            ),
                            _err(S.new_errors, "reference"),
                            spacing="1",
                            width="100%",
                        ),
                        rx.vstack(
                            field(
                                "Devices expected",
                                rx.input(
                                    name="expected_count",
                                    type="number",
                                    min=0,
                                    placeholder="the manifest's lines",
                                    data_testid="field-expected",
                                ),
                            ),
                            _err(S.new_errors, "expected_count"),
                            spacing="1",
                            width="100%",
                        ),
                        rx.vstack(
                            field("Expected on", rx.input(name="expected_on", type="date", data_testid="field-date")),
                            _err(S.new_errors, "expected_on"),
                            spacing="1",
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", sm="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        field(
                            "Manifest (CSV: imei, serial, model, fault, value)",
                            rx.text_area(
                                name="manifest",
                                rows="5",
                                placeholder=MANIFEST_EXAMPLE,
                                font_family="monospace",
                                data_testid="field-manifest",
                            ),
                        ),
                        _err(S.new_errors, "manifest"),
                        spacing="1",
                        width="100%",
                    ),
                    field("Notes", rx.text_area(name="notes", rows="2", data_testid="field-notes")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create batch", type="submit", loading=S.new_busy, data_testid="create-batch"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.create,
                reset_on_submit=False,
                key=S.new_key,
                width="100%",
            ),
            max_width="640px",
            data_testid="new-batch-dialog",
        ),
        open=S.new_open,
        on_open_change=S.set_new_open,
    )


@staff_page(
    "/repairs/batches", "Batches", permission="repairs.read", icon="inbox", nav=False, on_load=RepairBatchesState.load
)
def repairs_batches_page() -> rx.Component:
    S = RepairBatchesState
    return rx.vstack(
        repairs_tabs("batches"),
        rx.flex(
            rx.flex(
                _status_chip(S, "", "All"),
                *[_status_chip(S, s.value, s.label) for s in machine.BATCH_STATUS],
                spacing="2",
                wrap="wrap",
            ),
            rx.box(
                search_box(S.search, S.set_search, "Search batch, reference or client", width="100%"),
                width=rx.breakpoints(initial="100%", sm="300px"),
            ),
            rx.cond(
                S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
            ),
            rx.spacer(),
            rx.cond(
                S.can_write,
                rx.button(rx.icon("plus", size=14), "New batch", on_click=S.open_new, data_testid="new-batch"),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%")),
        rx.cond(
            S.loaded,
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(
                    table_card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    sortable_header(S, "Batch", "number", width="130px"),
                                    sortable_header(S, "Client", "client"),
                                    rx.table.column_header_cell("Reference", width="140px"),
                                    sortable_header(S, "Expected on", "expected_on", width="130px"),
                                    sortable_header(S, "Received", "progress", width="150px"),
                                    rx.table.column_header_cell("Flagged", width="100px"),
                                    sortable_header(S, "Status", "status", width="110px"),
                                )
                            ),
                            rx.table.body(rx.foreach(S.rows, _batch_row)),
                            variant="surface",
                            width="100%",
                            min_width="860px",
                            data_testid="batches-table",
                        )
                    ),
                    pager(S.page, S.page_count, S.prev_page, S.next_page),
                    width="100%",
                    spacing="3",
                ),
                rx.cond(
                    S.filtered,
                    empty_state("list-filter", "No batches match", "Change or clear the filters."),
                    empty_state(
                        "inbox", "No batches yet", "When a client announces devices, add their batch with New batch."
                    ),
                ),
            ),
            loading_table(6),
        ),
        _new_batch_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/batches/[id] ------------------------------------------------------------------------


def _figure(label: str, value, tone: str, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value, size="6", color_scheme=tone, data_testid=testid),
            spacing="1",
        ),
        flex="1",
        min_width="120px",
    )


def _manifest_row(m: rx.Var[ManifestView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(m.ident, size="2")),
        rx.table.cell(rx.text(m.model, size="2")),
        rx.table.cell(rx.text(m.fault, size="2")),
        rx.table.cell(rx.text(m.value, size="2")),
        rx.table.cell(
            rx.cond(
                m.asset_id != "",
                rx.link(
                    rx.icon("circle-check", size=14), m.asset_number, href="/repairs/assets/" + m.asset_id, size="2"
                ),
                rx.badge("Waiting", color_scheme="gray", variant="outline"),
            ),
            data_testid="manifest-state",
        ),
        data_testid="manifest-row",
    )


def _session_row(x: rx.Var[SessionView]) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.cond(x.open, "scan-line", "circle-check"), size=16, color=rx.color("gray", 10)),
        rx.text(
            x.started,
            rx.cond(x.who != "", " · " + x.who, ""),
            " · ",
            x.scanned,
            " scanned",
            rx.cond(x.flagged > 0, ", " + x.flagged.to(str) + " not on the batch", ""),
            size="2",
        ),
        rx.spacer(),
        rx.cond(
            x.open, rx.badge("Open", color_scheme="blue"), rx.text("closed ", x.closed, size="1", color_scheme="gray")
        ),
        width="100%",
        align="center",
        data_testid="session-row",
    )


def _flagged_row(a: rx.Var[AssetView]) -> rx.Component:
    return rx.hstack(
        rx.link(a.number, href="/repairs/assets/" + a.id, weight="medium"),
        rx.code(a.ident, size="1"),
        rx.spacer(),
        asset_badge(a.status),
        width="100%",
        align="center",
        data_testid="flagged-row",
    )


def _batch_body() -> rx.Component:
    S = RepairBatchState
    b = S.batch
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading("Batch ", b.number, size="6", data_testid="batch-title"),
                    batch_badge(b.status, data_testid="batch-status"),
                    align="center",
                    spacing="3",
                ),
                rx.text(
                    b.client,
                    " · reference ",
                    b.reference,
                    rx.cond(b.expected_on != "", " · expected on " + b.expected_on, ""),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                S.can_write & (b.status != "closed"),
                rx.flex(
                    rx.button(
                        rx.icon("scan-line", size=14),
                        rx.cond(S.open_session != "", "Carry on receiving", "Receive devices"),
                        on_click=S.receive,
                        data_testid="receive",
                    ),
                    rx.cond(
                        b.status == "receiving",
                        confirm_button(
                            "Mark received",
                            "Mark the batch received?",
                            rx.text(
                                b.received,
                                " of ",
                                b.expected,
                                " devices are in. The batch is received as it is and its open session ends.",
                            ),
                            S.mark_received,
                            icon="package-check",
                            testid="mark-received",
                        ),
                    ),
                    confirm_button(
                        "Close batch",
                        "Close the batch?",
                        "No more devices can be received into it. Its assets carry on through the repair line.",
                        S.close_batch,
                        icon="archive",
                        testid="close-batch",
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            width="100%",
            wrap="wrap",
            spacing="3",
            align="start",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("Received", weight="medium"),
                    rx.spacer(),
                    rx.text(b.received, " of ", b.expected, " expected", size="2", data_testid="batch-progress-text"),
                    width="100%",
                ),
                rx.progress(
                    value=b.percent,
                    max=100,
                    width="100%",
                    color_scheme=rx.cond((b.status == "received") | (b.status == "closed"), "green", "blue"),
                    data_testid="batch-progress",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
        rx.flex(
            _figure("Expected", b.expected, "gray", "figure-expected"),
            _figure("Received", b.received, "blue", "figure-received"),
            _figure("Still to come", S.waiting, "gray", "figure-waiting"),
            _figure("Not on the batch", b.flagged, "amber", "figure-flagged"),
            _figure("Sessions", b.sessions, "gray", "figure-sessions"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(b.notes != "", rx.callout(b.notes, icon="notebook-pen", color_scheme="gray", width="100%")),
        rx.heading("Manifest", size="4"),
        rx.cond(
            S.manifest.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("IMEI or serial", width="190px"),
                            rx.table.column_header_cell("Model"),
                            rx.table.column_header_cell("Fault"),
                            rx.table.column_header_cell("Value", width="100px"),
                            rx.table.column_header_cell("Received as", width="150px"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.manifest, _manifest_row)),
                    variant="surface",
                    width="100%",
                    min_width="700px",
                    data_testid="manifest-table",
                )
            ),
            rx.text("The client sent no manifest: every device scanned counts in.", size="2", color_scheme="gray"),
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Not on the batch", size="3"),
                    rx.cond(
                        S.flagged.length() > 0,
                        rx.foreach(S.flagged, _flagged_row),
                        rx.text("Every device received was on the manifest.", size="2", color_scheme="gray"),
                    ),
                    spacing="2",
                    width="100%",
                ),
                data_testid="flagged-card",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Receiving sessions", size="3"),
                    rx.cond(
                        S.sessions.length() > 0,
                        rx.foreach(S.sessions, _session_row),
                        rx.text("Nothing received yet.", size="2", color_scheme="gray"),
                    ),
                    spacing="2",
                    width="100%",
                ),
                data_testid="sessions-card",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
        min_width="0",
    )


@staff_page(
    "/repairs/batches/[id]", "Batch", permission="repairs.read", icon="inbox", nav=False, on_load=RepairBatchState.load
)
def repairs_batch_page() -> rx.Component:
    S = RepairBatchState
    return rx.vstack(
        repairs_tabs("batches"),
        detail_page(S.error, S.loaded, "Batch not found", _batch_body()),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/receive/[batch_id]: the phone page --------------------------------------------------


def _condition_button(grade: str) -> rx.Component:
    S = ReceiveState
    return rx.button(
        grade,
        type="button",
        size="3",
        flex="1",
        variant=rx.cond(S.condition == grade, "solid", "outline"),
        on_click=S.set_condition(grade),
        title=CONDITION_WORDS[grade],
        data_testid=f"condition-{grade}",
    )


def _accessory(name: str) -> rx.Component:
    S = ReceiveState
    return rx.checkbox(
        name,
        checked=S.accessories.contains(name),
        on_change=lambda on: S.toggle_accessory(name, on),
        size="3",
        data_testid=f"accessory-{name.lower().replace(' ', '-')}",
    )


def _scanned_row(a: rx.Var[AssetView]) -> rx.Component:
    S = ReceiveState
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(a.number, weight="bold", size="2"),
                rx.cond(a.not_on_batch, not_on_batch_badge()),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.code(a.ident, size="1"),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        rx.icon_button(
            rx.icon("camera", size=16),
            variant=rx.cond(S.target.id == a.id, "solid", "soft"),
            size="2",
            on_click=S.photo_for(a.id),
            aria_label="Photos of this device",
        ),
        width="100%",
        align="center",
        padding="8px 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="scanned-row",
    )


def _receive_body() -> rx.Component:
    S = ReceiveState
    b = S.batch
    return rx.vstack(
        rx.hstack(
            rx.link(rx.icon("arrow-left", size=18), href="/repairs/batches/" + b.id, aria_label="Back to the batch"),
            rx.vstack(
                rx.heading("Receive ", b.number, size="5", data_testid="receive-title"),
                rx.text(b.client, " · ", b.reference, size="2", color_scheme="gray"),
                spacing="0",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            rx.hstack(
                rx.text(b.received, " of ", b.expected, " in", size="2", weight="medium", data_testid="receive-count"),
                rx.spacer(),
                rx.cond(b.flagged > 0, rx.badge(b.flagged, " not on the batch", color_scheme="amber")),
                width="100%",
            ),
            rx.progress(value=b.percent, max=100, width="100%"),
            spacing="1",
            width="100%",
        ),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="receive-error"),
        ),
        rx.cond(
            S.error == "",
            rx.vstack(
                rx.form(
                    rx.vstack(
                        rx.input(
                            name="code",
                            id="scan-code",
                            placeholder="Scan or type IMEI / serial",
                            size="3",
                            auto_focus=True,
                            auto_complete="off",
                            auto_capitalize="characters",
                            enter_key_hint="go",
                            font_size="20px",
                            height="56px",
                            width="100%",
                            data_testid="scan-code",
                        ),
                        rx.select.root(
                            rx.select.trigger(placeholder="Model (or from the manifest)", width="100%"),
                            rx.select.content(
                                rx.select.item("Model from the manifest", value=NO_MODEL),
                                rx.foreach(S.models, lambda m: rx.select.item(m[1], value=m[0])),
                            ),
                            value=S.model_id,
                            on_change=S.set_model,
                            size="3",
                            data_testid="scan-model",
                        ),
                        rx.text("Condition", size="2", weight="medium"),
                        rx.hstack(*[_condition_button(g) for g in CONDITIONS], width="100%", spacing="2"),
                        rx.text("Accessories", size="2", weight="medium"),
                        rx.grid(*[_accessory(a) for a in ACCESSORIES], columns="2", spacing="2", width="100%"),
                        rx.text_area(
                            placeholder="Notes (scratches, missing screws…)",
                            value=S.notes,
                            on_change=S.set_notes.debounce(300),
                            rows="2",
                            width="100%",
                            data_testid="scan-notes",
                        ),
                        rx.button(
                            rx.icon("scan-line", size=18),
                            "Receive device",
                            type="submit",
                            size="4",
                            width="100%",
                            loading=S.busy,
                            data_testid="scan-submit",
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=[S.scan, rx.call_script(FOCUS_SCAN)],
                    reset_on_submit=True,
                    key=S.form_key,
                    width="100%",
                ),
                rx.cond(
                    S.result != "",
                    rx.callout(
                        S.result,
                        icon=rx.match(
                            S.result_tone, ("green", "circle-check"), ("amber", "flag"), ("blue", "info"), "circle-x"
                        ),
                        color_scheme=S.result_tone,
                        width="100%",
                        data_testid="scan-result",
                    ),
                ),
                rx.cond(
                    S.target.id != "",
                    rx.card(
                        rx.vstack(
                            rx.text("Photo of ", rx.text.strong(S.target.number), size="2"),
                            rx.upload.root(
                                rx.button(
                                    rx.icon("camera", size=18),
                                    "Take a photo",
                                    type="button",
                                    size="3",
                                    variant="soft",
                                    width="100%",
                                    loading=S.photo_busy,
                                ),
                                id=PHOTO_UPLOAD,
                                multiple=False,
                                max_files=1,
                                accept=IMAGE_TYPES,
                                on_drop=S.upload_photo(rx.upload_files(upload_id=PHOTO_UPLOAD), S.target.id),
                                width="100%",
                                data_testid="photo-upload",
                            ),
                            spacing="2",
                            width="100%",
                        ),
                        width="100%",
                        on_mount=rx.call_script(CAPTURE_SCRIPT),
                    ),
                ),
                rx.hstack(
                    rx.heading("This session", size="3"),
                    rx.badge(S.scanned.length(), radius="full"),
                    align="center",
                    padding_top="6px",
                ),
                rx.cond(
                    S.scanned.length() > 0,
                    rx.vstack(rx.foreach(S.scanned, _scanned_row), spacing="0", width="100%"),
                    rx.text("Nothing scanned yet.", size="2", color_scheme="gray"),
                ),
                rx.button(
                    rx.icon("circle-stop", size=18),
                    "Close session",
                    size="3",
                    variant="outline",
                    color_scheme="gray",
                    width="100%",
                    on_click=S.close_session,
                    data_testid="close-session",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
        padding="14px",
        max_width="560px",
        margin="0 auto",
    )


@staff_page(
    "/repairs/receive/[batch_id]",
    "Receive a batch",
    permission="repairs.write",
    icon="scan-line",
    nav=False,
    layout=False,
    meta=PHONE_META,
    on_load=ReceiveState.load,
)
def repairs_receive_page() -> rx.Component:
    return rx.box(
        rx.cond(
            AppState.signed_in,
            rx.cond(
                AppState.page_allowed, rx.cond(ReceiveState.loaded, _receive_body(), loading_panel()), forbidden_panel()
            ),
            loading_panel(),
        ),
        background=rx.color("gray", 2),
        min_height="100vh",
    )


# --- /repairs/assets ------------------------------------------------------------------------------


ASSET_STATUS_OPTIONS = [("all", "Every status"), *[(s.value, s.label) for s in machine.ASSET_STATUS]]


def _asset_row(a: rx.Var[AssetView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.link(a.number, href="/repairs/assets/" + a.id, weight="medium", data_testid="asset-number"),
                rx.cond(
                    a.not_on_batch,
                    rx.tooltip(rx.icon("flag", size=14, color=rx.color("amber", 9)), content="Not on the batch"),
                ),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(rx.code(a.ident, size="1")),
        rx.table.cell(rx.text(a.model, size="2")),
        rx.table.cell(rx.text(a.client, size="2")),
        rx.table.cell(rx.link(a.batch_number, href="/repairs/batches/" + a.batch_id, size="2")),
        rx.table.cell(asset_badge(a.status, data_testid="asset-status")),
        rx.table.cell(rx.text(a.received, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(a.changed, size="2", white_space="nowrap")),
        align="center",
        data_testid="asset-row",
    )


@staff_page(
    "/repairs/assets", "Assets", permission="repairs.read", icon="smartphone", nav=False, on_load=RepairAssetsState.load
)
def repairs_assets_page() -> rx.Component:
    S = RepairAssetsState
    return rx.vstack(
        repairs_tabs("assets"),
        rx.flex(
            rx.box(
                search_box(S.search, S.set_search, "Search number, IMEI or serial", width="100%"),
                width=rx.breakpoints(initial="100%", sm="300px"),
            ),
            rx.box(
                select(rx.cond(S.status == "", "all", S.status), S.set_status, ASSET_STATUS_OPTIONS, "Status"),
                data_testid="assets-status",
            ),
            rx.cond(
                S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
            ),
            rx.spacer(),
            rx.text(S.all_count, " assets in all", size="2", color_scheme="gray"),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%")),
        rx.cond(
            S.loaded,
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(
                    table_card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    sortable_header(S, "Asset", "number", width="140px"),
                                    rx.table.column_header_cell("IMEI or serial", width="170px"),
                                    sortable_header(S, "Model", "model"),
                                    sortable_header(S, "Client", "client"),
                                    rx.table.column_header_cell("Batch", width="120px"),
                                    sortable_header(S, "Status", "status", width="150px"),
                                    sortable_header(S, "Received", "received", width="160px"),
                                    sortable_header(S, "Last move", "changed", width="160px"),
                                )
                            ),
                            rx.table.body(rx.foreach(S.rows, _asset_row)),
                            variant="surface",
                            width="100%",
                            min_width="1080px",
                            data_testid="assets-table",
                        )
                    ),
                    pager(S.page, S.page_count, S.prev_page, S.next_page),
                    width="100%",
                    spacing="3",
                ),
                rx.cond(
                    S.filtered,
                    empty_state("list-filter", "No assets match", "Change or clear the filters."),
                    empty_state("smartphone", "No assets yet", "Devices show here once a batch is received."),
                ),
            ),
            loading_table(8),
        ),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/assets/[id] -------------------------------------------------------------------------


def _fact(label: str, value, testid: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(rx.cond(value != "", value, "—"), size="2", data_testid=testid or None),
        spacing="0",
        min_width="0",
    )


def _move_button(m: rx.Var[MoveView]) -> rx.Component:
    return rx.button(
        m.label,
        on_click=RepairAssetState.move(m.status),
        variant=rx.cond(m.status == "on_hold", "soft", "solid"),
        color_scheme=rx.cond(m.status == "on_hold", "gray", "accent"),
        data_testid="move-" + m.status,
    )


def _history_row(h: rx.Var[HistoryView]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="10px",
            height="10px",
            border_radius="50%",
            margin_top="6px",
            flex_shrink="0",
            background=status_shade(h.status, machine.ASSET_STATUS),
        ),
        rx.vstack(
            rx.text(h.text, weight="medium", size="2"),
            rx.text(h.at, rx.cond(h.who != "", " · " + h.who, ""), size="1", color_scheme="gray"),
            rx.cond(h.reason != "", rx.text(h.reason, size="2")),
            spacing="0",
        ),
        align="start",
        spacing="3",
        data_testid="history-row",
    )


def _photo(p: rx.Var[PhotoView]) -> rx.Component:
    return rx.link(
        rx.image(
            src=p.thumb,
            alt="Intake photo",
            width="100%",
            height="120px",
            object_fit="cover",
            border_radius="8px",
            data_testid="asset-photo",
        ),
        href=p.url,
        is_external=True,
    )


def _lines(title: str, items: rx.Var, empty: str, testid: str) -> rx.Component:
    def line(x: rx.Var[LineView]) -> rx.Component:
        return rx.hstack(
            rx.text(x.title, weight="medium", size="2"),
            rx.badge(x.text, color_scheme=x.tone, variant="soft"),
            spacing="2",
            align="center",
            wrap="wrap",
        )

    return rx.card(
        rx.vstack(
            rx.heading(title, size="3"),
            rx.cond(items.length() > 0, rx.foreach(items, line), rx.text(empty, size="2", color_scheme="gray")),
            spacing="2",
            width="100%",
        ),
        data_testid=testid,
    )


def _hold_dialog() -> rx.Component:
    S = RepairAssetState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Put ", S.asset.number, " on hold"),
            rx.dialog.description(
                "It waits where it is and goes back there when resumed.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Why",
                        rx.text_area(
                            name="reason",
                            rows="2",
                            placeholder="Waiting for the client's passcode…",
                            data_testid="hold-reason",
                        ),
                    ),
                    rx.cond(S.hold_error != "", rx.text(S.hold_error, size="1", color_scheme="red")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Put on hold", type="submit", data_testid="hold-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.hold,
                width="100%",
            ),
            max_width="480px",
        ),
        open=S.hold_open,
        on_open_change=S.set_hold_open,
    )


def _asset_body() -> rx.Component:
    S = RepairAssetState
    a = S.asset
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(a.number, size="6", data_testid="asset-title"),
                    asset_badge(a.status, size="2", data_testid="asset-status"),
                    rx.cond(a.not_on_batch, not_on_batch_badge()),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                rx.text(
                    rx.cond(a.model != "", a.model, "Model not known"),
                    " · ",
                    a.client,
                    " · batch ",
                    rx.link(a.batch_number, href="/repairs/batches/" + a.batch_id),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                S.can_write,
                rx.flex(
                    rx.cond(
                        S.workbench_href != "",
                        rx.link(
                            rx.button(rx.icon("arrow-right", size=14), S.workbench_label, variant="soft"),
                            href=S.workbench_href,
                            underline="none",
                            data_testid="asset-workbench",
                        ),
                    ),
                    rx.foreach(S.moves, _move_button),
                    spacing="2",
                    wrap="wrap",
                    data_testid="asset-moves",
                ),
            ),
            width="100%",
            wrap="wrap",
            spacing="3",
            align="start",
        ),
        rx.cond(
            a.status == "on_hold",
            rx.callout(
                rx.text("On hold: ", a.hold_reason, " (it goes back to ", a.held_from.replace("_", " "), ")."),
                icon="circle-pause",
                color_scheme="amber",
                width="100%",
                data_testid="hold-callout",
            ),
        ),
        rx.cond(
            S.elsewhere.length() > 0,
            rx.flex(
                rx.text("Next, elsewhere:", size="2", color_scheme="gray"),
                rx.foreach(
                    S.elsewhere,
                    lambda m: rx.tooltip(
                        rx.badge(m.label, color_scheme="gray", variant="outline"), content="From " + m.where
                    ),
                ),
                spacing="2",
                wrap="wrap",
                align="center",
                data_testid="asset-elsewhere",
            ),
        ),
        rx.card(
            rx.grid(
                _fact("IMEI", a.imei, "asset-imei"),
                _fact("Serial", a.serial),
                _fact("Condition", a.condition, "asset-condition"),
                _fact("Accessories", a.accessories, "asset-accessories"),
                _fact("Fault reported", a.fault, "asset-fault"),
                _fact("Declared value", a.value),
                _fact("Received", a.received),
                _fact("Last move", a.changed),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("History", size="3"),
                    rx.foreach(S.history, _history_row),
                    spacing="3",
                    width="100%",
                ),
                data_testid="asset-history",
            ),
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Photos", size="3"),
                        rx.spacer(),
                        rx.cond(
                            S.can_write,
                            rx.upload.root(
                                rx.button(
                                    rx.icon("image-plus", size=14),
                                    "Add photo",
                                    size="1",
                                    variant="soft",
                                    type="button",
                                    loading=S.photo_busy,
                                ),
                                id=ASSET_PHOTO_UPLOAD,
                                multiple=False,
                                max_files=1,
                                accept=IMAGE_TYPES,
                                on_drop=S.upload_photo(rx.upload_files(upload_id=ASSET_PHOTO_UPLOAD)),
                                data_testid="asset-photo-upload",
                            ),
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.cond(
                        S.photos.length() > 0,
                        rx.grid(rx.foreach(S.photos, _photo), columns="3", spacing="2", width="100%"),
                        rx.text("No photos yet.", size="2", color_scheme="gray"),
                    ),
                    spacing="3",
                    width="100%",
                ),
                data_testid="asset-photos",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.grid(
            _lines("Repair codes", S.codes, "None yet: triage and diagnostic logs add them.", "asset-codes"),
            _lines("Worksheets", S.worksheets, "No worksheet yet.", "asset-worksheets"),
            _lines("BER reviews", S.reviews, "No review.", "asset-reviews"),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="3",
            width="100%",
        ),
        _hold_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


@staff_page(
    "/repairs/assets/[id]",
    "Asset",
    permission="repairs.read",
    icon="smartphone",
    nav=False,
    on_load=RepairAssetState.load,
)
def repairs_asset_page() -> rx.Component:
    S = RepairAssetState
    return rx.vstack(
        repairs_tabs("assets"),
        detail_page(S.error, S.loaded, "Asset not found", _asset_body()),
        spacing="4",
        width="100%",
        min_width="0",
    )
