"""/grid (staff): the Gridfinity generator (a drawer in millimetres → the
plate set in 3D, its plates, grams, print time and price as it is typed,
and "Generate") and the generation jobs (orders', staff's and the
storefront's) with their progress, failed step, Retry, and each job's
plates with their downloads, picture and 3D view."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.layout import staff_page
from components.ui import (
    confirm_button,
    download_link,
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
from components.viewer3d import viewer3d
from state.grid import JOB_STATUS, Choice, JobView, PresetView, SegmentView
from state.grid import GridState as S

CONNECTORS = [
    ("intersection-puzzle", "Intersection puzzle"),
    ("edge-puzzle", "Edge puzzle"),
    ("none", "None (loose plates)"),
]


# --- small pieces ---------------------------------------------------------------------------------


def _error(key: str) -> rx.Component:
    return rx.cond(
        S.gen_errors.contains(key),
        rx.text(S.gen_errors[key], size="1", color_scheme="red", data_testid=f"gen-error-{key}"),
    )


def _mm_input(label: str, value: rx.Var, on_change: Any, key: str, placeholder: str) -> rx.Component:
    control = rx.debounce_input(
        rx.input(
            rx.input.slot(rx.text("mm", size="1", color_scheme="gray"), side="right"),
            value=value,
            on_change=on_change,
            placeholder=placeholder,
            input_mode="decimal",
            aria_label=label,
            color_scheme=rx.cond(S.gen_errors.contains(key), "red", "gray"),
            data_testid=f"gen-{key}",
        ),
        debounce_timeout=300,
    )
    return rx.vstack(field(label, control), _error(key), spacing="1", width="100%")


def _figure(label: str, value: Any, testid: str, strong: bool = False) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="4" if strong else "3", weight="bold", data_testid=testid),
        spacing="0",
        min_width="90px",
    )


def _choice_item(c: rx.Var[Choice]) -> rx.Component:
    return rx.select.item(c.label, value=c.value)


# --- the generator -----------------------------------------------------------------------------------


def _quote() -> rx.Component:
    q = S.quote
    return rx.cond(
        S.quoted,
        rx.vstack(
            rx.grid(
                _figure("Price", q.price, "quote-price", strong=True),
                _figure("Plates", q.plates, "quote-plates"),
                _figure("Unique shapes", q.unique_shapes, "quote-unique"),
                _figure("Filament", q.grams, "quote-grams"),
                _figure("Print time", q.print_time, "quote-time"),
                columns=rx.breakpoints(initial="3", sm="5", md="3", lg="5"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                q.cells,
                " · plate ",
                q.plate,
                rx.cond(q.measured, " · grams and time from sliced plates", " · grams and time estimated"),
                size="1",
                color_scheme="gray",
                data_testid="quote-cells",
            ),
            rx.foreach(
                q.problems,
                lambda p: rx.callout(p, icon="triangle-alert", color_scheme="red", size="1", width="100%"),
            ),
            spacing="2",
            width="100%",
            data_testid="quote",
        ),
        rx.text(
            "Type the drawer's inside width and depth: the plates, price and print time show as you type.",
            size="2",
            color_scheme="gray",
            data_testid="quote-empty",
        ),
    )


def _preset_row(r: rx.Var[PresetView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium", size="2"),
                rx.cond(r.description != "", rx.text(r.description, size="1", color_scheme="gray")),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(r.words, size="2")),
        rx.table.cell(rx.badge(r.kind, color_scheme=rx.cond(r.mine, "blue", "gray"), variant="soft")),
        rx.table.cell(
            rx.cond(
                r.mine & S.can_write,
                confirm_button(
                    "Delete",
                    rx.text("Delete the preset “", r.name, "”?"),
                    "Jobs generated from it keep their drawer; the preset leaves the list to start from.",
                    S.delete_preset(r.id),
                    confirm="Delete preset",
                    testid="preset-delete",
                    confirm_testid="preset-delete-confirm",
                ),
            )
        ),
        data_testid="preset-row",
    )


def _presets_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("bookmark", size=14),
                "Presets",
                variant="soft",
                size="2",
                on_click=S.open_presets,
                data_testid="presets-open",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Presets"),
            rx.dialog.description(
                "Saved drawers to start the generator from: the system's, your shop's own, and those other "
                "shops share. Your shop changes and deletes only its own.",
                size="2",
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Preset"),
                            rx.table.column_header_cell("Sets"),
                            rx.table.column_header_cell("Whose"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(S.preset_rows, _preset_row)),
                    size="1",
                    width="100%",
                ),
                max_height="320px",
                overflow_y="auto",
                width="100%",
                padding_y="8px",
                data_testid="presets-table",
            ),
            rx.cond(
                S.can_write,
                rx.form(
                    rx.vstack(
                        rx.heading("Save the generator's drawer as a preset", size="2"),
                        rx.text(
                            "It keeps the size, magnets and connectors now in the generator.",
                            size="1",
                            color_scheme="gray",
                        ),
                        rx.cond(
                            S.preset_errors.contains("_"),
                            rx.callout(S.preset_errors["_"], icon="triangle-alert", color_scheme="red", width="100%"),
                        ),
                        rx.grid(
                            rx.vstack(
                                field(
                                    "Name",
                                    rx.input(name="name", max_length=100, aria_label="Name", data_testid="preset-name"),
                                ),
                                rx.cond(
                                    S.preset_errors.contains("name"),
                                    rx.text(
                                        S.preset_errors["name"],
                                        size="1",
                                        color_scheme="red",
                                        data_testid="preset-error",
                                    ),
                                ),
                                spacing="1",
                                width="100%",
                            ),
                            field(
                                "Description",
                                rx.input(name="description", max_length=500, aria_label="Description"),
                            ),
                            columns=rx.breakpoints(initial="1", sm="2"),
                            spacing="3",
                            width="100%",
                        ),
                        rx.flex(
                            rx.switch(name="public", data_testid="preset-public"),
                            rx.text("Share with the other shops", size="2"),
                            spacing="2",
                            align="center",
                        ),
                        rx.flex(
                            rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                            rx.button(
                                rx.icon("save", size=14), "Save preset", type="submit", data_testid="preset-save"
                            ),
                            spacing="3",
                            justify="end",
                            width="100%",
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=S.save_preset,
                    reset_on_submit=False,
                    key=S.preset_key.to_string(),
                    width="100%",
                ),
                rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end"),
            ),
            max_width="760px",
        ),
        open=S.presets_open,
        on_open_change=S.set_presets_open,
    )


def _form() -> rx.Component:
    g = S.gen
    return rx.vstack(
        rx.flex(
            rx.cond(
                S.presets.length() > 0,
                rx.box(
                    field(
                        "Start from a preset",
                        rx.select.root(
                            rx.select.trigger(placeholder="Choose a preset…", data_testid="gen-preset"),
                            rx.select.content(rx.foreach(S.presets, _choice_item)),
                            on_change=S.use_preset,
                        ),
                    ),
                    flex_grow="1",
                ),
            ),
            _presets_dialog(),
            align="end",
            spacing="3",
            width="100%",
        ),
        rx.grid(
            _mm_input("Drawer width", g.width, S.set_width, "width", "e.g. 371"),
            _mm_input("Drawer depth", g.depth, S.set_depth, "depth", "e.g. 254"),
            columns="2",
            spacing="3",
            width="100%",
        ),
        rx.grid(
            field(
                "Magnets",
                rx.segmented_control.root(
                    rx.segmented_control.item("No magnets", value="none"),
                    rx.segmented_control.item("Press-fit", value="press-fit"),
                    value=g.magnets,
                    on_change=S.set_magnets,
                    data_testid="gen-magnets",
                ),
            ),
            field(
                "Connectors",
                rx.select.root(
                    rx.select.trigger(data_testid="gen-connector"),
                    rx.select.content(*[rx.select.item(text, value=v) for v, text in CONNECTORS]),
                    value=g.connector,
                    on_change=S.set_connector,
                ),
            ),
            columns=rx.breakpoints(initial="1", xs="2"),
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            field(
                "Printer",
                rx.select.root(
                    rx.select.trigger(data_testid="gen-printer"),
                    rx.select.content(rx.foreach(S.printers, _choice_item)),
                    value=g.printer,
                    on_change=S.set_printer,
                ),
            ),
            _error("printer"),
            spacing="1",
            width="100%",
        ),
        rx.cond(
            S.custom_bed,
            rx.grid(
                _mm_input("Bed width", g.bed_width, S.set_bed_width, "bed_width", "e.g. 300"),
                _mm_input("Bed depth", g.bed_depth, S.set_bed_depth, "bed_depth", "e.g. 300"),
                columns="2",
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            S.gen_errors.contains("form"),
            rx.callout(S.gen_errors["form"], icon="triangle-alert", color_scheme="red", size="1", width="100%"),
        ),
        rx.separator(size="4"),
        _quote(),
        rx.cond(
            S.can_write,
            rx.flex(
                rx.button(
                    rx.icon("play", size=16),
                    "Generate",
                    on_click=S.generate,
                    loading=S.generating,
                    disabled=~S.can_generate,
                    data_testid="generate",
                ),
                rx.text(
                    "Generates and slices the plates in the background; the job shows below with its files.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
        ),
        rx.cond(S.last_job.id != "", _last_job()),
        spacing="3",
        width="100%",
        min_width="0",
        key=S.form_key.to_string(),
    )


def _last_job() -> rx.Component:
    """The job generated last from this page: how it goes, and its files once it is done."""
    j = S.last_job
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text("Generated here: ", rx.text.strong(j.drawer), size="2"),
                rx.text(j.options, size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.box(job_status(j), min_width="160px", flex="1"),
            rx.button(
                rx.icon("folder-open", size=14),
                "Plates and files",
                size="1",
                variant="soft",
                on_click=S.open_job(j.id),
                data_testid="last-job-files",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        variant="surface",
        width="100%",
        data_testid="last-job",
    )


def _generator() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.icon("grid-3x3", size=18),
                rx.heading("Generator", size="4"),
                rx.spacer(),
                rx.text(
                    "Shop printer: ",
                    S.facts.printer,
                    " (",
                    S.facts.bed,
                    ") · drawers up to ",
                    S.facts.max_words,
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            rx.grid(
                _form(),
                rx.vstack(
                    viewer3d(
                        S.preview,
                        "The plate set in 3D",
                        credentials=True,
                        height=rx.breakpoints(initial="280px", md="380px"),
                    ),
                    rx.cond(
                        S.preview_note != "",
                        rx.text(S.preview_note, size="1", color_scheme="gray", data_testid="preview-note"),
                        rx.text(
                            "Drag to turn, scroll or pinch to zoom. Plates are drawn as they fit together.",
                            size="1",
                            color_scheme="gray",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="5",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        data_testid="generator",
    )


# --- the jobs table ---------------------------------------------------------------------------------------


def job_status(j: rx.Var[JobView]) -> rx.Component:
    """Status, the progress bar while it runs, and the failed step with its reason."""
    return rx.vstack(
        status_badge(j.status, JOB_STATUS, variant="soft", white_space="nowrap", data_testid="job-status"),
        rx.cond(
            j.running,
            rx.vstack(
                rx.progress(value=j.progress, max=100, width="100%", data_testid="job-progress"),
                rx.text(j.step, " ", j.progress, "%", size="1", color_scheme="gray"),
                spacing="1",
                width="100%",
            ),
        ),
        rx.cond(
            j.failed_step != "",
            rx.text(
                rx.text.strong("Failed at ", j.failed_step, ": "),
                j.error,
                size="1",
                color_scheme="red",
                data_testid="job-error",
            ),
        ),
        rx.cond(j.attention, rx.badge("Needs a person", color_scheme="red", variant="outline", size="1")),
        rx.cond(j.note != "", rx.text(j.note, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
        align="start",
    )


def _retry_button(j: rx.Var[JobView]) -> rx.Component:
    return rx.cond(
        S.can_write & j.can_retry,
        rx.button(
            rx.icon("rotate-ccw", size=14),
            "Retry",
            size="1",
            variant="soft",
            color_scheme="orange",
            on_click=S.retry(j.id),
            data_testid="job-retry",
        ),
    )


def _job_row(j: rx.Var[JobView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(
                    j.drawer,
                    on_click=S.open_job(j.id),
                    weight="medium",
                    cursor="pointer",
                    data_testid="job-open",
                ),
                rx.text(j.options, size="1", color_scheme="gray"),
                rx.text(j.printer, size="1", color_scheme="gray"),
                spacing="0",
                align="start",
            )
        ),
        rx.table.cell(job_status(j)),
        rx.table.cell(
            rx.vstack(
                rx.text(j.origin, size="2"),
                rx.cond(
                    j.order_id != "",
                    rx.link(j.order_number, href="/orders/" + j.order_id, size="1", data_testid="job-order"),
                ),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(j.segments, data_testid="job-plates"),
                rx.cond(j.unique_shapes > 0, rx.text(j.unique_shapes, " shape(s)", size="1", color_scheme="gray")),
                spacing="0",
            ),
        ),
        rx.table.cell(rx.text(j.grams, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(rx.text(j.print_time, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(rx.text(j.price, size="2", white_space="nowrap"), text_align="right", data_testid="job-price"),
        rx.table.cell(rx.tooltip(rx.text(j.ago, size="2", white_space="nowrap"), content=j.created)),
        rx.table.cell(
            rx.hstack(
                rx.icon_button(
                    rx.icon("folder-open", size=14),
                    size="1",
                    variant="soft",
                    aria_label="Plates and files",
                    on_click=S.open_job(j.id),
                    data_testid="job-files",
                ),
                _retry_button(j),
                spacing="2",
            )
        ),
        align="center",
        data_testid="job-row",
        data_status=j.status,
    )


def _jobs_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Drawer"),
                    sortable_header(S, "Status", "status", width="210px"),
                    rx.table.column_header_cell("Origin", width="90px"),
                    sortable_header(S, "Plates", "segments", width="90px"),
                    rx.table.column_header_cell("Filament", width="80px", text_align="right"),
                    rx.table.column_header_cell("Print time", width="95px", text_align="right"),
                    rx.table.column_header_cell("Price", width="80px", text_align="right"),
                    sortable_header(S, "Made", "created", width="100px"),
                    rx.table.column_header_cell("", width="120px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _job_row)),
            variant="surface",
            width="100%",
            min_width="980px",
            table_layout="fixed",
            data_testid="jobs-table",
        )
    )


def _chip(value: str, label: str, count: rx.Var) -> rx.Component:
    return filter_chip(S.status, value, label, S.set_status, count)


def _jobs() -> rx.Component:
    c = S.counts
    return rx.vstack(
        rx.flex(
            rx.heading("Generation jobs", size="4"),
            rx.spacer(),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="grid-updated"),
            align="center",
            width="100%",
        ),
        rx.flex(
            rx.flex(
                _chip("", "All", c.all),
                _chip("queued", "Queued", c.queued),
                _chip("processing", "Processing", c.processing),
                _chip("completed", "Completed", c.completed),
                _chip("failed", "Failed", c.failed),
                _chip("expired", "Expired", c.expired),
                spacing="2",
                wrap="wrap",
            ),
            rx.box(
                search_box(
                    S.search, S.set_search, "Search SKU, order or printer", width="100%", data_testid="job-search"
                ),
                width=rx.breakpoints(initial="100%", sm="300px"),
            ),
            rx.cond(
                S.filtered,
                rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters),
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            _jobs_table(),
            rx.cond(
                S.filtered,
                empty_state("list-filter", "No jobs match", "Change or clear the filters."),
                empty_state(
                    "grid-3x3",
                    "No generation jobs yet",
                    "Orders with a GRID-CUSTOM line, the storefront and the generator above make them.",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
        min_width="0",
    )


# --- a job's dialog ------------------------------------------------------------------------------------------


def _file_button(label: str, href: Any, icon: str, testid: str) -> rx.Component:
    return rx.button(
        download_link(rx.icon(icon, size=14), label, href=href, data_testid=testid),
        size="1",
        variant="soft",
        as_child=True,
    )


def _segment_row(seg: rx.Var[SegmentView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(seg.number, weight="bold")),
        rx.table.cell(rx.badge(seg.label, variant="surface")),
        rx.table.cell(rx.text(seg.cells, size="2")),
        rx.table.cell(rx.text(seg.size, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(seg.grams, size="2"), text_align="right"),
        rx.table.cell(rx.text(seg.print_time, size="2", white_space="nowrap"), text_align="right"),
        rx.table.cell(
            rx.hstack(
                rx.cond(seg.stl_href != "", _file_button("STL", seg.stl_href, "download", "segment-stl")),
                rx.cond(seg.gcode_href != "", _file_button("G-code", seg.gcode_href, "download", "segment-gcode")),
                rx.cond(
                    (seg.stl_href == "") & (seg.gcode_href == ""),
                    status_badge(seg.status, JOB_STATUS, variant="soft", size="1"),
                ),
                spacing="2",
            )
        ),
        align="center",
        data_testid="segment-row",
    )


def _detail_body() -> rx.Component:
    d = S.detail
    j = d.job
    return rx.vstack(
        rx.flex(
            job_status(j),
            rx.vstack(
                rx.text(j.options, size="2"),
                rx.text(j.printer, size="1", color_scheme="gray"),
                rx.text(j.origin, rx.cond(j.order_number != "", rx.text.span(" · ", j.order_number), ""), size="1"),
                spacing="0",
            ),
            rx.vstack(
                rx.text(j.segments, " plate(s), ", j.unique_shapes, " shape(s)", size="2"),
                rx.text(j.grams, " · ", j.print_time, " · ", j.price, size="1", color_scheme="gray"),
                spacing="0",
            ),
            spacing="5",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            d.files,
            rx.vstack(
                rx.flex(
                    _file_button("All as zip (STL + G-code)", d.zip_href, "file-archive", "files-zip"),
                    _file_button("Plate set as 3MF", d.threemf_href, "box", "files-3mf"),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.tabs.root(
                    rx.tabs.list(rx.tabs.trigger("3D", value="3d"), rx.tabs.trigger("Picture", value="png")),
                    rx.tabs.content(
                        rx.box(
                            viewer3d(d.glb_src, "The generated plate set in 3D", credentials=True), padding_top="8px"
                        ),
                        value="3d",
                    ),
                    rx.tabs.content(
                        rx.box(
                            rx.image(
                                src=d.png_src,
                                alt="The generated plate set",
                                width="100%",
                                max_height="360px",
                                object_fit="contain",
                                data_testid="job-png",
                            ),
                            padding_top="8px",
                        ),
                        value="png",
                    ),
                    default_value="3d",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            rx.callout(
                rx.cond(
                    j.status == "EXPIRED",
                    "This job expired and its files were cleaned up: generate the plates again.",
                    "The plates' files show here once they are generated.",
                ),
                icon="info",
                size="1",
                width="100%",
            ),
        ),
        rx.cond(
            d.segments.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("#", width="44px"),
                            rx.table.column_header_cell("Shape", width="64px"),
                            rx.table.column_header_cell("Cells", width="80px"),
                            rx.table.column_header_cell("Size", width="150px"),
                            rx.table.column_header_cell("Filament", width="80px", text_align="right"),
                            rx.table.column_header_cell("Time", width="95px", text_align="right"),
                            rx.table.column_header_cell("Files", width="170px"),
                        )
                    ),
                    rx.table.body(rx.foreach(d.segments, _segment_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                    min_width="680px",
                    table_layout="fixed",
                    data_testid="segments-table",
                )
            ),
        ),
        spacing="4",
        width="100%",
    )


def _detail_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.flex(
                rx.dialog.title("Plate set · ", S.detail.job.drawer, margin="0"),
                rx.spacer(),
                rx.cond(S.detail.job.can_retry, _retry_button(S.detail.job)),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            rx.dialog.description(
                rx.text.span(
                    "Made ", S.detail.job.created, " · last change ", S.detail.updated, size="1", color_scheme="gray"
                )
            ),
            rx.box(
                rx.cond(
                    S.detail_error != "",
                    rx.callout(S.detail_error, icon="triangle-alert", color_scheme="red", width="100%"),
                    _detail_body(),
                ),
                padding_top="12px",
            ),
            max_width=["100%", "820px"],
            padding=["14px", "24px"],
            data_testid="job-dialog",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


def _off() -> rx.Component:
    return rx.callout(
        rx.text(
            "Gridfinity is off for this shop: GRID-CUSTOM order lines are treated as regular products and the "
            "storefront does not sell baseplates. The generator still works here. ",
            rx.cond(
                S.can_settle,
                rx.fragment("Turn it on in ", rx.link("Settings", href="/settings"), "."),
                rx.fragment("An admin turns it on in ", rx.link("Settings", href="/settings"), "."),
            ),
        ),
        icon="info",
        color_scheme="amber",
        width="100%",
        data_testid="grid-off",
    )


@staff_page("/grid", "Gridfinity", permission="grid.read", icon="grid-3x3", on_load=S.load)
def grid_page() -> rx.Component:
    return rx.cond(
        S.error != "",
        rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%"),
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.cond(~S.facts.enabled, _off()),
                _generator(),
                _jobs(),
                _detail_dialog(),
                spacing="5",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
    )
