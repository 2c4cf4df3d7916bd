"""/repairs/imports: bulk upload of expected batches, assets and spare parts (seed S14)."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from components.layout import staff_page
from components.ui import download_link, empty_state, loading_table, status_badge, table_card
from state.repairs_imports import IMPORT_STATUS, KIND_OPTIONS, RowProblem, UploadRow
from state.repairs_imports import RepairsImportsState as S

UPLOAD_ID = "repairs_import_upload"
ACCEPT = {
    "text/csv": [".csv"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
}


def _chooser() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.segmented_control.root(
                    *[rx.segmented_control.item(label, value=value) for value, label in KIND_OPTIONS],
                    value=S.kind,
                    on_change=S.set_kind,
                    data_testid="import-kind",
                ),
                rx.spacer(),
                rx.button(
                    download_link(rx.icon("file-down", size=14), "Template", href=S.template_href),
                    variant="soft",
                    color_scheme="gray",
                    as_child=True,
                    data_testid="import-template",
                ),
                width="100%",
                wrap="wrap",
                spacing="3",
            ),
            rx.upload.root(
                rx.vstack(
                    rx.icon("file-spreadsheet", size=28, color=rx.color("accent", 9)),
                    rx.text("Drop a CSV or XLSX file here, or click to choose it", size="2"),
                    rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="1", color_scheme="gray"),
                    align="center",
                    spacing="1",
                ),
                id=UPLOAD_ID,
                accept=ACCEPT,
                max_files=1,
                multiple=False,
                border=f"2px dashed {rx.color('gray', 6)}",
                border_radius="8px",
                padding="20px",
                width="100%",
                data_testid="import-drop",
            ),
            rx.hstack(
                rx.text(
                    "Rows are matched by their natural key: a batch by client and reference, an asset by its IMEI "
                    "(or serial) in its batch, a spare part by its SKU. Known rows are updated, new ones added.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("scan-search", size=14),
                    "Check the file",
                    loading=S.busy,
                    on_click=S.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                    data_testid="import-check",
                ),
                width="100%",
                align="center",
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _problem_row(p: rx.Var[RowProblem]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(p.row),
        rx.table.cell(p.field),
        rx.table.cell(rx.text(p.message, color_scheme="red")),
        data_testid="import-problem",
    )


def _progress(u: rx.Var[UploadRow]) -> rx.Component:
    return rx.vstack(
        rx.progress(value=u.percent, width="100%", data_testid="import-progress"),
        rx.text(u.processed, " of ", u.total, " rows", size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
        min_width="140px",
    )


def _preview() -> rx.Component:
    u = S.preview
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("file-check", size=18),
                rx.heading(u.filename, size="4"),
                status_badge(u.status, IMPORT_STATUS, data_testid="preview-status"),
                rx.spacer(),
                rx.cond(
                    S.can_write & u.can_start,
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(
                            rx.button(
                                rx.icon("play", size=14),
                                "Apply ",
                                u.total - u.errors,
                                rx.cond(u.total - u.errors == 1, " row", " rows"),
                                data_testid="import-apply",
                            )
                        ),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Apply this upload?"),
                            rx.alert_dialog.description(
                                u.total - u.errors,
                                " rows are added or update what is there. ",
                                rx.cond(u.errors > 0, rx.text.span(u.errors, " rows with problems are skipped.")),
                            ),
                            rx.flex(
                                rx.alert_dialog.cancel(rx.button("Not yet", variant="soft", color_scheme="gray")),
                                rx.alert_dialog.action(
                                    rx.button("Apply", on_click=S.start(u.id), data_testid="import-apply-confirm")
                                ),
                                spacing="3",
                                justify="end",
                                margin_top="12px",
                            ),
                        ),
                    ),
                ),
                width="100%",
                align="center",
                wrap="wrap",
                spacing="3",
            ),
            rx.cond(
                S.duplicate,
                rx.callout("This file was uploaded before; this is that upload.", icon="info", color_scheme="blue"),
            ),
            rx.hstack(
                rx.badge(u.total, " rows", color_scheme="gray"),
                rx.badge(u.total - u.errors, " fine", color_scheme="green", data_testid="preview-good"),
                rx.badge(
                    u.errors,
                    " with problems",
                    color_scheme=rx.cond(u.errors > 0, "red", "gray"),
                    data_testid="preview-bad",
                ),
                rx.cond(
                    S.preview_ignored.length() > 0,
                    rx.text("Columns not read: ", S.preview_ignored.join(", "), size="1", color_scheme="gray"),
                ),
                wrap="wrap",
                spacing="2",
            ),
            rx.cond((u.status == "running") | (u.status == "queued") | (u.status == "done"), _progress(u)),
            rx.text("First rows", size="2", weight="medium"),
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(rx.foreach(S.preview_columns, lambda c: rx.table.column_header_cell(c)))
                    ),
                    rx.table.body(
                        rx.foreach(
                            S.preview_rows,
                            lambda r: rx.table.row(rx.foreach(r, lambda c: rx.table.cell(c))),
                        )
                    ),
                    size="1",
                    width="100%",
                    data_testid="preview-rows",
                )
            ),
            rx.cond(
                S.problems.length() > 0,
                rx.vstack(
                    rx.text("Rows with problems (skipped when applied)", size="2", weight="medium"),
                    table_card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Row"),
                                    rx.table.column_header_cell("Column"),
                                    rx.table.column_header_cell("Problem"),
                                )
                            ),
                            rx.table.body(rx.foreach(S.problems, _problem_row)),
                            size="1",
                            width="100%",
                        )
                    ),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="import-preview",
    )


def _upload_row(u: rx.Var[UploadRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(u.filename, weight="medium"), rx.text(u.when, size="1", color_scheme="gray")),
        rx.table.cell(u.kind),
        rx.table.cell(
            status_badge(u.status, IMPORT_STATUS),
            rx.cond(u.error != "", rx.text(u.error, size="1", color_scheme="red")),
        ),
        rx.table.cell(_progress(u)),
        rx.table.cell(u.created, " added · ", u.updated, " updated · ", u.errors, " skipped"),
        rx.table.cell(
            rx.cond(
                S.can_write & u.can_start,
                rx.button("Apply", size="1", variant="soft", on_click=S.start(u.id), data_testid="upload-start"),
            )
        ),
        data_testid="upload-row",
    )


def _uploads() -> rx.Component:
    return rx.vstack(
        rx.heading("Recent uploads", size="4"),
        rx.cond(
            S.uploads.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("File"),
                            rx.table.column_header_cell("Holds"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Progress"),
                            rx.table.column_header_cell("Result"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(S.uploads, _upload_row)),
                    width="100%",
                    data_testid="uploads-table",
                )
            ),
            empty_state("upload", "No uploads yet", "Upload a sheet of batches, assets or spare parts above."),
        ),
        width="100%",
        spacing="3",
    )


@staff_page("/repairs/imports", "Bulk upload", permission="repairs.read", icon="upload", nav=False, on_load=S.load)
def repairs_imports_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs("imports"),
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.cond(S.can_write, _chooser()),
                rx.cond(S.has_preview, _preview()),
                _uploads(),
                spacing="4",
                width="100%",
            ),
            loading_table(4),
        ),
        spacing="4",
        width="100%",
    )
