"""/builds (the board) and /builds/[id] (the workbench)."""

from __future__ import annotations

import reflex as rx

from app.builds import machine
from app.platform.machine import Status, StatusTable
from components.layout import staff_page
from components.ui import confirm_button, detail_page, empty_state, field, loading_table, status_badge, status_color
from state.builds import PHOTO_SLOT_OPTIONS, BuildRow, BuildsState, BuildState, PhotoTile, TestRunRow


def build_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.STATUS, variant="soft", data_testid="build-status")


def _age(b: rx.Var[BuildRow]) -> rx.Component:
    return rx.text(b.age, size="1", color_scheme="gray", data_testid="build-age")


def _build_card(b: rx.Var[BuildRow]) -> rx.Component:
    """One build on the board: order, customer, assignee, time in its status."""
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(b.order, weight="bold", size="2"),
                    rx.spacer(),
                    rx.hstack(
                        rx.icon("camera", size=12, color=rx.color("gray", 9)),
                        rx.text(b.photos, "/10", size="1", color_scheme="gray"),
                        align="center",
                        spacing="1",
                        title="Photos taken",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.text(b.customer, size="2", trim="both"),
                rx.hstack(
                    rx.icon("user", size=12, color=rx.color("gray", 9)),
                    rx.text(rx.cond(b.assignee != "", b.assignee, "Nobody yet"), size="1", color_scheme="gray"),
                    align="center",
                    spacing="1",
                ),
                _age(b),
                spacing="1",
                width="100%",
            ),
            size="1",
            width="100%",
        ),
        href="/builds/" + b.id,
        underline="none",
        color="inherit",
        width="100%",
        data_testid="build-card",
    )


def _column(status: Status) -> rx.Component:
    cards = BuildsState.by_status[status.value]
    column = rx.vstack(
        rx.hstack(
            rx.badge(status.label, color_scheme=status.color, variant="soft", size="2"),
            rx.spacer(),
            rx.text(BuildsState.counts[status.value], size="1", color_scheme="gray"),
            width="100%",
            align="center",
        ),
        rx.cond(
            cards.length() > 0,
            rx.vstack(rx.foreach(cards, _build_card), spacing="2", width="100%"),
            rx.text("No builds", size="1", color_scheme="gray", padding_y="8px"),
        ),
        spacing="2",
        flex="1 0 220px",  # share the width; below 220 px each, the board scrolls
        max_width="320px",
        padding="8px",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 4)}",
        border_radius="8px",
        align="start",
        data_testid=f"column-{status.value}",
    )
    return rx.cond(BuildsState.show_closed, column) if status.value in machine.CLOSED else column


def _board() -> rx.Component:
    # The columns scroll sideways inside the board; `contain` keeps their width
    # from stretching the page on a phone.
    return rx.box(
        rx.flex(*[_column(s) for s in machine.STATUS], spacing="3", align="start", width="100%"),
        width="100%",
        overflow_x="auto",
        padding_bottom="8px",
        style={"contain": "inline-size"},
        data_testid="builds-board",
    )


def _row(b: rx.Var[BuildRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(b.order, href="/builds/" + b.id, weight="medium")),
        rx.table.cell(b.customer),
        rx.table.cell(build_badge(b.status)),
        rx.table.cell(rx.cond(b.assignee != "", b.assignee, "Nobody yet")),
        rx.table.cell(b.age),
        rx.table.cell(b.photos, "/10"),
        rx.table.cell(status_badge(b.booklets, machine.BOOKLET_STATUS, variant="outline")),
        align="center",
    )


def _list() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Order", "Customer", "Status", "Assignee", "Time in status", "Photos", "Booklets")
                    ]
                )
            ),
            rx.table.body(rx.foreach(BuildsState.rows, _row)),
            variant="surface",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
        style={"contain": "inline-size"},
        data_testid="builds-list",
    )


def _switch(label: rx.Component | str, checked: rx.Var, on_change, testid: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change, data_testid=testid),
            rx.text(label, size="2"),
            align="center",
        ),
        cursor="pointer",
    )


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.segmented_control.root(
            rx.segmented_control.item(rx.hstack(rx.icon("kanban", size=14), "Board", align="center"), value="board"),
            rx.segmented_control.item(rx.hstack(rx.icon("list", size=14), "List", align="center"), value="list"),
            value=BuildsState.view,
            on_change=BuildsState.set_view,
            data_testid="builds-view",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Assignee", min_width="160px"),
            rx.select.content(rx.foreach(BuildsState.assignees, lambda o: rx.select.item(o.label, value=o.value))),
            value=BuildsState.assignee,
            on_change=BuildsState.set_assignee,
            disabled=BuildsState.mine,
        ),
        _switch("My builds", BuildsState.mine, BuildsState.set_mine, "my-builds"),
        _switch(
            rx.fragment("Show completed and cancelled (", BuildsState.closed_count, ")"),
            BuildsState.show_closed,
            BuildsState.set_show_closed,
            "show-closed",
        ),
        spacing="4",
        wrap="wrap",
        align="center",
        width="100%",
    )


@staff_page("/builds", "Builds", permission="builds.read", icon="wrench", on_load=BuildsState.load)
def builds_page() -> rx.Component:
    return rx.vstack(
        _toolbar(),
        rx.cond(
            BuildsState.loaded,
            rx.cond(
                BuildsState.rows.length() > 0,
                rx.cond(BuildsState.view == "list", _list(), _board()),
                rx.cond(
                    BuildsState.mine,
                    empty_state(
                        "wrench", "No builds of yours", 'Open a build and choose "Assign to me" to see it here.'
                    ),
                    empty_state(
                        "wrench", "No builds here", "Create a build from an order's page, or change the filters."
                    ),
                ),
            ),
            loading_table(),
        ),
        spacing="4",
        width="100%",
    )


# --- the workbench ---------------------------------------------------------------------------

IMAGE_TYPES = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}
EDITABLE = BuildState.editable  # staff who may build, on a build that is not cancelled


def _viewer(trigger: rx.Component, src: rx.Var, title: rx.Var | str) -> rx.Component:
    """A thumbnail that opens the image larger."""
    return rx.dialog.root(
        rx.dialog.trigger(trigger),
        rx.dialog.content(
            rx.dialog.title(title),
            rx.image(src=src, width="100%", max_height="75vh", object_fit="contain", alt=title),
            rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end"),
            max_width="min(1000px, 95vw)",
        ),
    )


def _photo_tile(p: rx.Var[PhotoTile]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                p.thumb != "",
                _viewer(
                    rx.image(
                        src=p.thumb,
                        alt=p.label,
                        width="100%",
                        height="110px",
                        object_fit="cover",
                        border_radius="6px",
                        cursor="zoom-in",
                    ),
                    p.full,
                    p.label,
                ),
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
                        rx.badge("Missing", color_scheme="amber", size="1"),
                        rx.badge("Optional", size="1"),
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


def _card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3"), *children, spacing="3", width="100%"), width="100%", **props)


def _phone_link() -> rx.Component:
    """The phone page: a QR code to scan and, beside it, the link to tap."""
    b = BuildState.build
    return rx.flex(
        rx.image(
            src=b.phone_qr, width="120px", height="120px", alt="QR code of the phone page", data_testid="phone-qr"
        ),
        rx.vstack(
            rx.text("Take the photos on a phone", weight="medium", size="2"),
            rx.text("Scan the code with the phone's camera, or open the link on it.", size="1", color_scheme="gray"),
            rx.link(
                rx.button(rx.icon("smartphone", size=14), "Open phone page", variant="soft", size="2"),
                href=b.phone_url,
                data_testid="phone-link",
            ),
            rx.text(b.phone_url, size="1", color_scheme="gray", word_break="break-all", data_testid="phone-url"),
            spacing="2",
            min_width="0",
            flex="1",
        ),
        spacing="3",
        align="center",
        width="100%",
        padding="10px",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="8px",
        data_testid="phone-panel",
    )


def _photos() -> rx.Component:
    return _card(
        "Photos",
        rx.grid(
            rx.foreach(BuildState.photos, _photo_tile),
            columns=rx.breakpoints(initial="2", sm="3", md="5"),
            spacing="2",
            width="100%",
        ),
        rx.cond(
            EDITABLE,
            rx.flex(
                rx.flex(
                    rx.select.root(
                        rx.select.trigger(aria_label="Photo slot"),
                        rx.select.content(*[rx.select.item(label, value=slot) for slot, label in PHOTO_SLOT_OPTIONS]),
                        value=BuildState.upload_slot,
                        on_change=BuildState.set_upload_slot,
                    ),
                    rx.upload.root(
                        rx.button(rx.icon("upload", size=14), "Choose photo", variant="soft", size="2"),
                        id="photo_upload",
                        accept=IMAGE_TYPES,
                        max_files=1,
                        multiple=False,
                    ),
                    rx.button(
                        "Upload",
                        on_click=BuildState.upload(rx.upload_files(upload_id="photo_upload"), BuildState.upload_slot),
                        data_testid="upload-photo",
                    ),
                    rx.text(rx.selected_files("photo_upload").join(", "), size="1", color_scheme="gray"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                _phone_link(),
                direction="column",
                spacing="3",
                width="100%",
            ),
        ),
    )


def _check_mark(done: rx.Var) -> rx.Component:
    return rx.cond(
        done,
        rx.icon("circle-check", size=16, color=rx.color("green", 9), aria_label="Done"),
        rx.icon("circle", size=16, color=rx.color("gray", 8), aria_label="Not done"),
    )


def _qa() -> rx.Component:
    return _card(
        "QA",
        rx.cond(
            BuildState.checklist.length() > 0,
            rx.vstack(
                rx.foreach(
                    BuildState.checklist,
                    lambda c: rx.hstack(
                        rx.cond(
                            EDITABLE,
                            rx.checkbox(checked=c.done, on_change=lambda _: BuildState.toggle_check(c.index)),
                            _check_mark(c.done),
                        ),
                        rx.text(c.item, size="2"),
                        align="center",
                    ),
                ),
                spacing="2",
            ),
            rx.text("No checks yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            EDITABLE,
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
        rx.cond(
            EDITABLE,
            rx.form(
                rx.text_area(
                    name="qa_notes",
                    placeholder="QA notes",
                    default_value=BuildState.build.qa_notes,
                    key=BuildState.build.qa_notes,
                    width="100%",
                    rows="2",
                ),
                rx.button("Save notes", type="submit", size="1", variant="soft", margin_top="4px"),
                on_submit=BuildState.save_qa_notes,
                reset_on_submit=False,
                width="100%",
            ),
            rx.cond(
                BuildState.build.qa_notes != "",
                rx.text(BuildState.build.qa_notes, size="2", white_space="pre-wrap", data_testid="qa-notes"),
            ),
        ),
        rx.flex(
            rx.hstack(
                rx.text("Result:", size="2"),
                status_badge(BuildState.build.qa_result, machine.QA_RESULT, data_testid="qa-result"),
                align="center",
            ),
            rx.spacer(),
            rx.cond(
                EDITABLE,
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
            wrap="wrap",
            spacing="2",
        ),
    )


TEMPERATURES = [
    ("cpuIdle", "CPU idle"),
    ("cpuLoad", "CPU load"),
    ("gpuIdle", "GPU idle"),
    ("gpuLoad", "GPU load"),
    ("ambient", "Room"),
]


def _temps() -> rx.Component:
    columns = rx.breakpoints(initial="2", sm="3", md="5")
    return _card(
        "Temperatures (°C)",
        rx.cond(
            EDITABLE,
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
                        for key, label in TEMPERATURES
                    ],
                    columns=columns,
                    spacing="2",
                    width="100%",
                ),
                rx.button("Save temperatures", type="submit", variant="soft", margin_top="8px"),
                on_submit=BuildState.save_temps,
                reset_on_submit=False,
            ),
            rx.grid(
                *[
                    rx.vstack(
                        rx.text(label, size="1", color_scheme="gray"),
                        rx.text(
                            rx.cond(BuildState.temps[key] != "", BuildState.temps[key] + " °C", "—"),
                            size="3",
                            weight="medium",
                        ),
                        spacing="0",
                    )
                    for key, label in TEMPERATURES
                ],
                columns=columns,
                spacing="2",
                width="100%",
                data_testid="temps-read-only",
            ),
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
            EDITABLE,
            rx.form(
                rx.flex(
                    rx.input(name="key", placeholder="Setting (e.g. BIOS)", width="200px"),
                    rx.input(name="value", placeholder="Value (e.g. F12, XMP on)", flex="1", min_width="180px"),
                    rx.button("Save", type="submit", variant="soft"),
                    width="100%",
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=BuildState.add_config,
                reset_on_submit=True,
            ),
        ),
    )


def _scroll(table: rx.Component) -> rx.Component:
    """A wide table scrolls inside its card instead of widening the page."""
    return rx.box(table, width="100%", overflow_x="auto", style={"contain": "inline-size"})


def _label_select(table: StatusTable, name: str, default: str, label: str) -> rx.Component:
    """A form's drop-down whose choices read as the table's words."""
    return rx.select.root(
        rx.select.trigger(aria_label=label),
        rx.select.content(*[rx.select.item(st.label, value=st.value) for st in table]),
        name=name,
        default_value=default,
    )


def _stress_tests() -> rx.Component:
    return _card(
        "Stress tests",
        rx.cond(
            BuildState.stress_tests.length() > 0,
            _scroll(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Tool", "Duration", "Result", "Hottest", "Notes")
                            ]
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            BuildState.stress_tests,
                            lambda t: rx.table.row(
                                rx.table.cell(t.tool),
                                rx.table.cell(t.minutes),
                                rx.table.cell(status_badge(t.result, machine.STRESS_RESULT)),
                                rx.table.cell(t.max_temp),
                                rx.table.cell(t.notes),
                            ),
                        )
                    ),
                    size="1",
                    width="100%",
                    data_testid="stress-tests",
                )
            ),
            rx.text("No stress tests yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            EDITABLE,
            rx.form(
                rx.flex(
                    rx.input(name="tool", placeholder="Tool (e.g. OCCT)", width="160px", required=True),
                    rx.input(name="minutes", placeholder="Minutes", type="number", step="any", width="100px"),
                    _label_select(machine.STRESS_RESULT, "result", "passed", "Stress test result"),
                    rx.input(name="max_temp", placeholder="Hottest °C", type="number", step="any", width="110px"),
                    rx.input(name="stress_notes", placeholder="Notes", flex="1", min_width="160px"),
                    rx.button("Add", type="submit", variant="soft", data_testid="add-stress-test"),
                    width="100%",
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=BuildState.add_stress_test,
                reset_on_submit=True,
            ),
        ),
    )


def _run_shot(r: rx.Var[TestRunRow]) -> rx.Component:
    """A test run's screenshot: its thumbnail (opens larger), and for staff
    who may build a button to add or replace it and one to remove it."""
    return rx.hstack(
        rx.cond(
            r.thumb != "",
            _viewer(
                rx.image(
                    src=r.thumb,
                    alt="Screenshot: " + r.type_label,
                    width="64px",
                    height="44px",
                    object_fit="cover",
                    border_radius="4px",
                    cursor="zoom-in",
                    data_testid="run-shot",
                ),
                r.full,
                "Screenshot: " + r.type_label,
            ),
            rx.cond(~EDITABLE, rx.text("—", size="2", color_scheme="gray")),
        ),
        rx.cond(
            EDITABLE,
            rx.hstack(
                rx.button(
                    rx.icon("image-up", size=14),
                    rx.cond(r.thumb != "", "Replace", "Add screenshot"),
                    size="1",
                    variant="soft",
                    on_click=BuildState.choose_shot(r.id, r.type_label),
                    data_testid="run-shot-upload",
                ),
                rx.cond(
                    r.thumb != "",
                    confirm_button(
                        "Remove",
                        "Remove the screenshot?",
                        "The screenshot of this test run is deleted. The test run itself stays.",
                        BuildState.remove_run_photo(r.id),
                    ),
                ),
                spacing="1",
            ),
        ),
        align="center",
        spacing="2",
    )


def _shot_dialog() -> rx.Component:
    """Where a test run's screenshot is chosen and uploaded."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Screenshot for the ", BuildState.shot_run_label.lower(), " test run"),
            rx.dialog.description("A JPEG, PNG or WebP image of the result (at most 20 MB).", size="2"),
            rx.upload.root(
                rx.vstack(
                    rx.icon("image-up", size=28, color=rx.color("accent", 9)),
                    rx.text("Drop the screenshot here, or click to choose it", size="2"),
                    rx.text(rx.selected_files("run_shot_upload").join(", "), size="1", color_scheme="gray"),
                    align="center",
                    spacing="1",
                ),
                id="run_shot_upload",
                accept=IMAGE_TYPES,
                max_files=1,
                multiple=False,
                border=f"2px dashed {rx.color('gray', 6)}",
                border_radius="8px",
                padding="20px",
                margin_y="12px",
                width="100%",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Upload",
                    on_click=BuildState.upload_run_photo(
                        rx.upload_files(upload_id="run_shot_upload"), BuildState.shot_run_id
                    ),
                    data_testid="run-shot-save",
                ),
                justify="end",
                spacing="3",
            ),
        ),
        open=BuildState.shot_open,
        on_open_change=BuildState.set_shot_open,
    )


def _tests() -> rx.Component:
    return _card(
        "Test runs",
        rx.cond(
            BuildState.test_runs.length() > 0,
            _scroll(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Test", "Result", "Score", "Notes", "Screenshot")
                            ]
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            BuildState.test_runs,
                            lambda r: rx.table.row(
                                rx.table.cell(r.type_label),
                                rx.table.cell(
                                    rx.cond(
                                        EDITABLE,
                                        rx.select.root(
                                            rx.select.trigger(aria_label="Test result"),
                                            rx.select.content(
                                                *[
                                                    rx.select.item(st.label, value=st.value)
                                                    for st in machine.TEST_RUN_STATUS
                                                ]
                                            ),
                                            value=r.status,
                                            size="1",
                                            on_change=lambda v: BuildState.set_run_status(r.id, v),
                                        ),
                                        status_badge(r.status, machine.TEST_RUN_STATUS),
                                    )
                                ),
                                rx.table.cell(r.score),
                                rx.table.cell(r.notes),
                                rx.table.cell(_run_shot(r)),
                                align="center",
                                data_testid="test-run",
                            ),
                        )
                    ),
                    size="1",
                    width="100%",
                )
            ),
            rx.text("No test runs yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            EDITABLE,
            rx.form(
                rx.flex(
                    _label_select(machine.TEST_RUN_TYPE, "type", "benchmark", "Test type"),
                    _label_select(machine.TEST_RUN_STATUS, "status", "passed", "New test result"),
                    rx.input(name="score", placeholder="Score", type="number", step="any", width="100px"),
                    rx.input(name="notes", placeholder="Notes (e.g. 3DMark Time Spy)", flex="1", min_width="180px"),
                    rx.button("Add", type="submit", variant="soft"),
                    width="100%",
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=BuildState.add_test_run,
                reset_on_submit=True,
            ),
        ),
        _shot_dialog(),
    )


def _benchmarks() -> rx.Component:
    return _card(
        "Benchmarks",
        rx.cond(
            BuildState.benchmarks.length() > 0,
            rx.vstack(
                rx.foreach(
                    BuildState.benchmarks,
                    lambda bm: rx.flex(
                        rx.text(bm.name, weight="medium", size="2"),
                        rx.text(bm.score, " ", bm.unit, size="2"),
                        rx.cond(bm.photo != "", rx.badge(rx.icon("image", size=12), bm.photo, variant="soft")),
                        spacing="3",
                        align="center",
                        wrap="wrap",
                    ),
                ),
                spacing="1",
            ),
            rx.text("No benchmarks yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            EDITABLE,
            rx.form(
                rx.flex(
                    rx.input(
                        name="name",
                        placeholder="Benchmark (e.g. Cinebench R23 multi)",
                        flex="1",
                        min_width="200px",
                        required=True,
                    ),
                    rx.input(
                        name="score", placeholder="Score", type="number", step="any", width="110px", required=True
                    ),
                    rx.input(name="unit", placeholder="Unit", width="80px"),
                    rx.select.root(
                        rx.select.trigger(placeholder="Screenshot photo", aria_label="Screenshot photo"),
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
                    spacing="2",
                    wrap="wrap",
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
            EDITABLE,
            rx.form(
                rx.flex(
                    _label_select(machine.EVENT_TYPE, "event_type", "note", "Kind of entry"),
                    _label_select(machine.EVENT_SEVERITY, "severity", "info", "Severity"),
                    rx.input(name="message", placeholder="What happened?", flex="1", min_width="180px", required=True),
                    rx.button("Log", type="submit", variant="soft"),
                    width="100%",
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=BuildState.add_event,
                reset_on_submit=True,
            ),
        ),
        rx.cond(
            EDITABLE,
            rx.form(
                rx.flex(
                    _label_select(machine.TIMELINE_STEP, "step", "parts_received", "Timeline step"),
                    rx.input(name="note", placeholder="Note (optional)", flex="1", min_width="180px"),
                    rx.button("Add step", type="submit", variant="soft", data_testid="add-step"),
                    width="100%",
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=BuildState.add_step,
                reset_on_submit=True,
            ),
        ),
        rx.vstack(
            rx.foreach(
                BuildState.feed,
                lambda e: rx.flex(
                    rx.badge(e.type, color_scheme=status_color(e.severity, machine.EVENT_SEVERITY), variant="soft"),
                    rx.text(e.message, size="2", flex="1", min_width="160px"),
                    rx.text(e.at, size="1", color_scheme="gray"),
                    width="100%",
                    align="center",
                    spacing="2",
                    wrap="wrap",
                    data_testid="feed-entry",
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
        rx.flex(
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
                EDITABLE,
                rx.button(
                    rx.icon("refresh-cw", size=14), "Regenerate", variant="ghost", on_click=BuildState.regenerate
                ),
            ),
            spacing="2",
            wrap="wrap",
        ),
    )


def _banner() -> rx.Component:
    """Why the page is read-only (a cancelled order), or what packaging still needs."""
    b = BuildState.build
    return rx.cond(
        b.status == "cancelled",
        rx.callout(
            "Order "
            + b.order
            + " was cancelled, so this build is stopped: it stays here to look at, and nothing on it can change.",
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
    )


@staff_page("/builds/[id]", "Workbench", permission="builds.read", icon="wrench", nav=False, on_load=BuildState.load)
def build_page() -> rx.Component:
    b = BuildState.build
    return detail_page(
        BuildState.error,
        BuildState.loaded,
        "Build not found",
        rx.vstack(
            rx.flex(
                rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Builds")), href="/builds", size="2"),
                rx.heading("Build for ", rx.link(b.order, href="/orders/" + b.order_id), size="6"),
                build_badge(b.status),
                rx.text(b.customer, color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    EDITABLE,
                    rx.flex(
                        rx.foreach(
                            BuildState.actions,
                            lambda a: rx.button(
                                a.label,
                                on_click=BuildState.move(a.target),
                                color_scheme=rx.cond(a.target == "failed", "red", "indigo"),
                                variant=rx.cond((a.target == "failed") | (a.target == "paused"), "soft", "solid"),
                                data_testid="move-" + a.target,
                            ),
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
                width="100%",
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.flex(
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
                    EDITABLE,
                    rx.button("Assign to me", size="1", variant="ghost", on_click=BuildState.assign_to_me),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            _banner(),
            rx.cond(
                ~BuildState.can_write,
                rx.callout(
                    "You can look at this build; changing it needs permission to work on builds.",
                    icon="eye",
                    color_scheme="gray",
                    size="1",
                    width="100%",
                    data_testid="read-only",
                ),
            ),
            _photos(),
            rx.grid(_qa(), _booklets(), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
            _temps(),
            _system_config(),
            _tests(),
            _stress_tests(),
            _benchmarks(),
            _feed(),
            spacing="4",
            width="100%",
            data_testid="workbench",
        ),
        rows=8,
    )
