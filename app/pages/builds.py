"""/builds (the board) and /builds/[id] (the workbench)."""

from __future__ import annotations

import reflex as rx

from app.builds import machine
from components.layout import staff_page
from components.ui import detail_page, empty_state, field, loading_table, status_badge, status_color
from state.builds import PHOTO_SLOT_OPTIONS, BuildRow, BuildsState, BuildState, PhotoTile


def build_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.STATUS, variant="soft", data_testid="build-status")


def _row(b: rx.Var[BuildRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(b.order, href="/builds/" + b.id, weight="medium")),
        rx.table.cell(b.customer),
        rx.table.cell(build_badge(b.status)),
        rx.table.cell(b.assignee),
        rx.table.cell(b.age),
        rx.table.cell(b.photos, "/10"),
        rx.table.cell(rx.badge(b.booklets, variant="outline")),
        align="center",
    )


@staff_page("/builds", "Builds", permission="builds.read", icon="wrench", on_load=BuildsState.load)
def builds_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.button(
                "All",
                size="1",
                variant=rx.cond(BuildsState.status_filter == "all", "solid", "soft"),
                on_click=BuildsState.set_status_filter("all"),
            ),
            *[
                rx.button(
                    s.label,
                    rx.badge(BuildsState.counts[s.value], variant="solid", color_scheme=s.color),
                    size="1",
                    variant=rx.cond(BuildsState.status_filter == s.value, "solid", "soft"),
                    color_scheme="gray",
                    on_click=BuildsState.set_status_filter(s.value),
                )
                for s in machine.STATUS
            ],
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            BuildsState.loaded,
            rx.cond(
                BuildsState.rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Order", "Customer", "Status", "Assignee", "Age", "Photos", "Booklets")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(BuildsState.rows, _row)),
                    variant="surface",
                    width="100%",
                ),
                empty_state("wrench", "No builds here", "Create a build from an order's page."),
            ),
            loading_table(),
        ),
        spacing="4",
        width="100%",
    )


# --- the workbench ---------------------------------------------------------------------------


def _photo_tile(p: rx.Var[PhotoTile]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                p.thumb != "",
                rx.image(src=p.thumb, width="100%", height="110px", object_fit="cover", border_radius="6px"),
                rx.center(
                    rx.icon("camera-off", size=24, color=rx.color("gray", 8)),
                    height="110px",
                    width="100%",
                    background=rx.color("gray", 3),
                    border_radius="6px",
                ),
            ),
            rx.hstack(
                rx.text(p.label, size="1", weight="medium"),
                rx.cond(
                    p.thumb != "",
                    rx.icon("circle-check", size=14, color=rx.color("green", 9)),
                    rx.cond(
                        p.required,
                        rx.badge("missing", color_scheme="amber", size="1"),
                        rx.badge("optional", size="1"),
                    ),
                ),
                justify="between",
                width="100%",
            ),
            spacing="1",
        ),
        size="1",
        data_testid="photo-" + p.slot,
    )


def _card(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3"), *children, spacing="3", width="100%"), width="100%")


def _photos() -> rx.Component:
    return _card(
        "Photos",
        rx.grid(rx.foreach(BuildState.photos, _photo_tile), columns="5", spacing="2", width="100%"),
        rx.cond(
            BuildState.can_write,
            rx.hstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Photo slot"),
                    rx.select.content(*[rx.select.item(label, value=slot) for slot, label in PHOTO_SLOT_OPTIONS]),
                    value=BuildState.upload_slot,
                    on_change=BuildState.set_upload_slot,
                ),
                rx.upload.root(
                    rx.button(rx.icon("upload", size=14), "Choose photo", variant="soft", size="2"),
                    id="photo_upload",
                    accept={"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]},
                    max_files=1,
                    multiple=False,
                ),
                rx.button(
                    "Upload",
                    on_click=BuildState.upload(rx.upload_files(upload_id="photo_upload")),
                    data_testid="upload-photo",
                ),
                rx.text(rx.selected_files("photo_upload").join(", "), size="1", color_scheme="gray"),
                rx.spacer(),
                rx.hover_card.root(
                    rx.hover_card.trigger(
                        rx.link(
                            rx.hstack(rx.icon("qr-code", size=14), rx.text("Phone page")),
                            href=BuildState.build.phone_url,
                            size="2",
                        )
                    ),
                    rx.hover_card.content(
                        rx.vstack(
                            rx.image(
                                src=BuildState.build.phone_qr,
                                width="180px",
                                height="180px",
                                data_testid="phone-qr",
                            ),
                            rx.text("Scan with your phone to take the photos", size="1"),
                            align="center",
                        )
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
        ),
    )


def _qa() -> rx.Component:
    return _card(
        "QA",
        rx.foreach(
            BuildState.checklist,
            lambda c: rx.hstack(
                rx.checkbox(
                    checked=c.done,
                    on_change=lambda _: BuildState.toggle_check(c.index),
                    disabled=~BuildState.can_write,
                ),
                rx.text(c.item, size="2"),
                align="center",
            ),
        ),
        rx.cond(
            BuildState.can_write,
            rx.form(
                rx.hstack(
                    rx.input(name="item", placeholder="Add a check (e.g. All fans spin)", width="100%"),
                    rx.button("Add", type="submit", variant="soft"),
                    width="100%",
                ),
                on_submit=BuildState.add_check,
                reset_on_submit=True,
            ),
        ),
        rx.form(
            rx.text_area(
                name="qa_notes",
                placeholder="QA notes",
                default_value=BuildState.build.qa_notes,
                key=BuildState.build.qa_notes,
                width="100%",
                rows="2",
                disabled=~BuildState.can_write,
            ),
            rx.cond(
                BuildState.can_write, rx.button("Save notes", type="submit", size="1", variant="soft", margin_top="4px")
            ),
            on_submit=BuildState.save_qa_notes,
            reset_on_submit=False,
            width="100%",
        ),
        rx.hstack(
            rx.text("Result: ", rx.text.strong(BuildState.build.qa_result), size="2"),
            rx.spacer(),
            rx.cond(
                BuildState.can_write,
                rx.hstack(
                    rx.button(
                        "Sign off: passed",
                        size="1",
                        color_scheme="green",
                        on_click=BuildState.sign_off(True),
                        data_testid="qa-pass",
                    ),
                    rx.button(
                        "Failed", size="1", color_scheme="red", variant="soft", on_click=BuildState.sign_off(False)
                    ),
                ),
            ),
            width="100%",
            align="center",
        ),
    )


def _temps() -> rx.Component:
    names = [
        ("cpuIdle", "CPU idle"),
        ("cpuLoad", "CPU load"),
        ("gpuIdle", "GPU idle"),
        ("gpuLoad", "GPU load"),
        ("ambient", "Room"),
    ]
    return _card(
        "Temperatures (°C)",
        rx.form(
            rx.grid(
                *[
                    field(
                        label,
                        rx.input(
                            name=key,
                            type="number",
                            step="0.1",
                            default_value=BuildState.temps[key],
                            key=BuildState.temps[key],
                        ),
                    )
                    for key, label in names
                ],
                columns="5",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                BuildState.can_write, rx.button("Save temperatures", type="submit", variant="soft", margin_top="8px")
            ),
            on_submit=BuildState.save_temps,
            reset_on_submit=False,
        ),
    )


def _system_config() -> rx.Component:
    return _card(
        "System configuration",
        rx.cond(
            BuildState.system_config.length() > 0,
            rx.table.root(
                rx.table.body(
                    rx.foreach(
                        BuildState.system_config,
                        lambda c: rx.table.row(rx.table.cell(rx.text(c.key, weight="medium")), rx.table.cell(c.value)),
                    )
                ),
                size="1",
                width="100%",
            ),
            rx.text("Nothing recorded yet (OS, BIOS version, drivers…).", size="2", color_scheme="gray"),
        ),
        rx.cond(
            BuildState.can_write,
            rx.form(
                rx.hstack(
                    rx.input(name="key", placeholder="Setting (e.g. BIOS)", width="200px"),
                    rx.input(name="value", placeholder="Value (e.g. F12, XMP on)", width="100%"),
                    rx.button("Save", type="submit", variant="soft"),
                    width="100%",
                ),
                on_submit=BuildState.add_config,
                reset_on_submit=True,
            ),
        ),
    )


def _stress_tests() -> rx.Component:
    return _card(
        "Stress tests",
        rx.cond(
            BuildState.stress_tests.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Tool", "Duration", "Result", "Hottest", "Notes")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        BuildState.stress_tests,
                        lambda t: rx.table.row(
                            rx.table.cell(t.tool),
                            rx.table.cell(t.minutes),
                            rx.table.cell(
                                rx.badge(t.result, color_scheme=rx.cond(t.result == "passed", "green", "red"))
                            ),
                            rx.table.cell(t.max_temp),
                            rx.table.cell(t.notes),
                        ),
                    )
                ),
                size="1",
                width="100%",
                data_testid="stress-tests",
            ),
            rx.text("No stress tests yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            BuildState.can_write & (BuildState.build.status != "cancelled"),
            rx.form(
                rx.hstack(
                    rx.input(name="tool", placeholder="Tool (e.g. OCCT)", width="160px", required=True),
                    rx.input(name="minutes", placeholder="Minutes", type="number", step="any", width="100px"),
                    rx.select.root(
                        rx.select.trigger(aria_label="Stress test result"),
                        rx.select.content(
                            rx.select.item("Passed", value="passed"), rx.select.item("Failed", value="failed")
                        ),
                        name="result",
                        default_value="passed",
                    ),
                    rx.input(name="max_temp", placeholder="Hottest °C", type="number", step="any", width="110px"),
                    rx.input(name="stress_notes", placeholder="Notes", width="100%"),
                    rx.button("Add", type="submit", variant="soft", data_testid="add-stress-test"),
                    width="100%",
                    align="center",
                ),
                on_submit=BuildState.add_stress_test,
                reset_on_submit=True,
            ),
        ),
    )


def _tests() -> rx.Component:
    return _card(
        "Test runs",
        rx.cond(
            BuildState.test_runs.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Test", "Result", "Score", "Notes")])
                ),
                rx.table.body(
                    rx.foreach(
                        BuildState.test_runs,
                        lambda r: rx.table.row(
                            rx.table.cell(r.type),
                            rx.table.cell(
                                rx.cond(
                                    BuildState.can_write,
                                    rx.select(
                                        list(machine.TEST_RUN_STATUSES),
                                        value=r.status,
                                        size="1",
                                        on_change=lambda v: BuildState.set_run_status(r.id, v),
                                    ),
                                    rx.badge(r.status),
                                )
                            ),
                            rx.table.cell(r.score),
                            rx.table.cell(r.notes),
                        ),
                    )
                ),
                size="1",
                width="100%",
            ),
            rx.text("No test runs yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            BuildState.can_write,
            rx.form(
                rx.hstack(
                    rx.select(list(machine.TEST_RUN_TYPES), name="type", default_value="benchmark"),
                    rx.select(list(machine.TEST_RUN_STATUSES), name="status", default_value="passed"),
                    rx.input(name="score", placeholder="Score", type="number", width="100px"),
                    rx.input(name="notes", placeholder="Notes (e.g. 3DMark Time Spy)", width="100%"),
                    rx.button("Add", type="submit", variant="soft"),
                    width="100%",
                    align="center",
                ),
                on_submit=BuildState.add_test_run,
                reset_on_submit=True,
            ),
        ),
    )


def _benchmarks() -> rx.Component:
    return _card(
        "Benchmarks",
        rx.cond(
            BuildState.benchmarks.length() > 0,
            rx.vstack(
                rx.foreach(
                    BuildState.benchmarks,
                    lambda bm: rx.hstack(
                        rx.text(bm.name, weight="medium", size="2"),
                        rx.text(bm.score, " ", bm.unit, size="2"),
                        rx.cond(bm.photo != "", rx.badge(rx.icon("image", size=12), bm.photo, variant="soft")),
                        spacing="3",
                        align="center",
                    ),
                ),
                spacing="1",
            ),
            rx.text("No benchmarks yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            BuildState.can_write,
            rx.form(
                rx.hstack(
                    rx.input(
                        name="name", placeholder="Benchmark (e.g. Cinebench R23 multi)", width="100%", required=True
                    ),
                    rx.input(
                        name="score", placeholder="Score", type="number", step="any", width="110px", required=True
                    ),
                    rx.input(name="unit", placeholder="Unit", width="80px"),
                    rx.select.root(
                        rx.select.trigger(placeholder="Screenshot photo"),
                        rx.select.content(
                            rx.select.item("No photo", value="none"),
                            *[rx.select.item(label, value=slot) for slot, label in PHOTO_SLOT_OPTIONS],
                        ),
                        name="photo_slot",
                        default_value="none",
                    ),
                    rx.button("Add", type="submit", variant="soft"),
                    width="100%",
                    align="center",
                ),
                on_submit=BuildState.add_benchmark,
                reset_on_submit=True,
            ),
        ),
    )


def _feed() -> rx.Component:
    return _card(
        "Timeline and log",
        rx.cond(
            BuildState.can_write,
            rx.form(
                rx.hstack(
                    rx.select(list(machine.EVENT_TYPES), name="event_type", default_value="note"),
                    rx.select(list(machine.SEVERITIES), name="severity", default_value="info"),
                    rx.input(name="message", placeholder="What happened?", width="100%", required=True),
                    rx.button("Log", type="submit", variant="soft"),
                    width="100%",
                ),
                on_submit=BuildState.add_event,
                reset_on_submit=True,
            ),
        ),
        rx.cond(
            BuildState.can_write & (BuildState.build.status != "cancelled"),
            rx.form(
                rx.hstack(
                    rx.select.root(
                        rx.select.trigger(aria_label="Timeline step"),
                        rx.select.content(*[rx.select.item(st.label, value=st.value) for st in machine.TIMELINE_STEP]),
                        name="step",
                        default_value="parts_received",
                    ),
                    rx.input(name="note", placeholder="Note (optional)", width="100%"),
                    rx.button("Add step", type="submit", variant="soft", data_testid="add-step"),
                    width="100%",
                ),
                on_submit=BuildState.add_step,
                reset_on_submit=True,
            ),
        ),
        rx.vstack(
            rx.foreach(
                BuildState.feed,
                lambda e: rx.hstack(
                    rx.badge(e.type, color_scheme=status_color(e.severity, machine.EVENT_SEVERITY), variant="soft"),
                    rx.text(e.message, size="2"),
                    rx.spacer(),
                    rx.text(e.at, size="1", color_scheme="gray"),
                    width="100%",
                    align="center",
                ),
            ),
            spacing="2",
            width="100%",
            max_height="360px",
            overflow_y="auto",
        ),
    )


def _booklets() -> rx.Component:
    b = BuildState.build
    return _card(
        "Booklets",
        rx.hstack(
            rx.text("Status:", size="2"),
            status_badge(b.booklet_status, machine.BOOKLET_STATUS, data_testid="booklet-status"),
            rx.cond((b.booklet_status == "queued") | (b.booklet_status == "rendering"), rx.spinner(size="1")),
            align="center",
        ),
        rx.cond(b.booklet_error != "", rx.callout(b.booklet_error, icon="triangle-alert", color_scheme="red")),
        rx.hstack(
            rx.cond(
                b.quick_url != "",
                rx.link(
                    rx.button(rx.icon("file-text", size=14), "Quick Start Guide", variant="soft"),
                    href=b.quick_url,
                    is_external=True,
                    data_testid="open-quick-start",
                ),
            ),
            rx.cond(
                b.dossier_url != "",
                rx.link(
                    rx.button(rx.icon("file-text", size=14), "Technical Dossier", variant="soft"),
                    href=b.dossier_url,
                    is_external=True,
                    data_testid="open-dossier",
                ),
            ),
            rx.cond(
                BuildState.can_write,
                rx.button(
                    rx.icon("refresh-cw", size=14), "Regenerate", variant="ghost", on_click=BuildState.regenerate
                ),
            ),
            wrap="wrap",
        ),
    )


@staff_page("/builds/[id]", "Workbench", permission="builds.read", icon="wrench", nav=False, on_load=BuildState.load)
def build_page() -> rx.Component:
    b = BuildState.build
    return detail_page(
        BuildState.error,
        BuildState.loaded,
        "Build not found",
        rx.vstack(
            rx.hstack(
                rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Builds")), href="/builds", size="2"),
                rx.heading("Build for ", rx.link(b.order, href="/orders/" + b.order_id), size="6"),
                build_badge(b.status),
                rx.text(b.customer, color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    BuildState.can_write,
                    rx.hstack(
                        rx.foreach(
                            BuildState.actions,
                            lambda a: rx.button(
                                a.label,
                                on_click=BuildState.move(a.target),
                                color_scheme=rx.cond(a.target == "failed", "red", "indigo"),
                                variant=rx.cond((a.target == "failed") | (a.target == "paused"), "soft", "solid"),
                                data_testid="move-" + a.target,
                            ),
                        )
                    ),
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.hstack(
                rx.text(
                    "Started ",
                    b.started,
                    " · finished ",
                    b.finished,
                    " · assigned to ",
                    rx.text.strong(b.assignee),
                    size="2",
                    color_scheme="gray",
                    data_testid="assignee",
                ),
                rx.cond(
                    BuildState.can_write,
                    rx.button("Assign to me", size="1", variant="ghost", on_click=BuildState.assign_to_me),
                ),
                align="center",
            ),
            rx.cond(
                b.status == "cancelled",
                rx.callout(
                    "Order " + b.order + " was cancelled: this build is stopped and leaves the workbench.",
                    icon="ban",
                    color_scheme="gray",
                    width="100%",
                    data_testid="build-cancelled",
                ),
                rx.cond(
                    BuildState.missing.length() > 0,
                    rx.callout(
                        "Before packaging: " + BuildState.missing.join("; "),
                        icon="list-checks",
                        color_scheme="amber",
                        width="100%",
                        data_testid="packaging-missing",
                    ),
                    rx.callout(
                        "Ready for packaging: the build is completed, all required photos are there and QA passed.",
                        icon="package-check",
                        color_scheme="green",
                        width="100%",
                    ),
                ),
            ),
            _photos(),
            rx.grid(_qa(), _booklets(), columns="2", spacing="4", width="100%"),
            _temps(),
            _system_config(),
            _tests(),
            _stress_tests(),
            _benchmarks(),
            _feed(),
            spacing="4",
            width="100%",
        ),
        rows=8,
    )
