"""/my-build/<link>: the customer's page of their PC's build — progress,
parts, photos, test results, the timeline and the booklets to download.

The booklet's QR code leads here, so it is made for a phone first: one
column at 390 px, two from a tablet up; tables scroll inside their card.
"""

from __future__ import annotations

import reflex as rx

from app.builds.machine import QA_RESULT, STATUS, STRESS_RESULT, TEST_RUN_STATUS
from components.customer import progress_steps, quiet, section
from components.layout import PHONE_META, public_page
from components.storefront import storefront_page
from components.ui import loading_table, status_badge, table_card
from state.customer_build import (
    BenchmarkRow,
    BookletRow,
    CustomerBuildState,
    MomentRow,
    PartRow,
    PhotoRow,
    StressRow,
    TempRow,
    TestRow,
)

S = CustomerBuildState


def _invalid() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("link-2-off", size=32, color=rx.color("gray", 9)),
                rx.heading("This link is not valid", size="6"),
                rx.text(
                    "It may have been cut short or mistyped. Scan the QR code in your booklet again, "
                    "or sign in to follow your orders.",
                    size="2",
                    color_scheme="gray",
                    align="center",
                ),
                rx.link(rx.button(rx.icon("package", size=14), "My orders", size="3"), href="/account"),
                align="center",
                spacing="3",
            ),
            max_width="440px",
            width="100%",
            size="4",
            data_testid="build-link-invalid",
        ),
        padding_top=["24px", "60px"],
        width="100%",
    )


def _tracking() -> rx.Component:
    return rx.cond(
        S.build.tracking_number != "",
        rx.hstack(
            rx.icon("truck", size=16, color=rx.color("gray", 10), flex_shrink="0"),
            rx.text("Tracking number ", size="2"),
            rx.cond(
                S.build.tracking_url != "",
                rx.link(S.build.tracking_number, href=S.build.tracking_url, is_external=True, size="2"),
                rx.text.strong(S.build.tracking_number, size="2"),
            ),
            rx.cond(S.build.tracking_carrier != "", rx.text("(", S.build.tracking_carrier, ")", size="2")),
            align="center",
            spacing="1",
            wrap="wrap",
            data_testid="build-tracking",
        ),
    )


def _head() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text("Your PC from ", S.build.shop, size="2", color_scheme="gray"),
            rx.heading("Order ", S.build.order, size="7", data_testid="build-order"),
            rx.text("Ordered on ", S.build.placed, size="2", color_scheme="gray"),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        status_badge(S.build.build_status, STATUS, size="2", data_testid="build-status"),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _photo(p: rx.Var[PhotoRow]) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.image(
                src=p.thumb,
                alt=p.label,
                width="100%",
                aspect_ratio="4 / 3",
                object_fit="cover",
                border_radius="6px",
                loading="lazy",
                background=rx.color("gray", 4),
            ),
            rx.text(p.label, size="1", weight="medium", color_scheme="gray", high_contrast=True),
            spacing="1",
            width="100%",
        ),
        href=p.full,
        is_external=True,
        underline="none",
        display="block",
        min_width="0",
        data_testid="build-photo",
    )


def _photos() -> rx.Component:
    return section(
        "Photos",
        "camera",
        rx.cond(
            S.photos.length() > 0,
            rx.grid(
                rx.foreach(S.photos, _photo),
                columns=rx.breakpoints(initial="2", sm="3"),
                spacing="3",
                width="100%",
            ),
            quiet("Photos appear here while we build your PC."),
        ),
        testid="build-photos",
    )


def _table(headers: list[str], body: rx.Component, testid: str) -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, white_space="nowrap") for h in headers])),
            rx.table.body(body),
            size="1",
            width="100%",
        ),
        variant="surface",
        data_testid=testid,
    )


def _temp(t: rx.Var[TempRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(t.part),
        rx.table.cell(t.idle, white_space="nowrap"),
        rx.table.cell(t.load, white_space="nowrap"),
    )


def _benchmark(b: rx.Var[BenchmarkRow]) -> rx.Component:
    return rx.table.row(rx.table.cell(b.name), rx.table.cell(b.score, white_space="nowrap"))


def _stress(s: rx.Var[StressRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(s.tool),
        rx.table.cell(s.minutes, white_space="nowrap"),
        rx.table.cell(status_badge(s.result, STRESS_RESULT)),
        rx.table.cell(s.max_temp, white_space="nowrap"),
    )


def _test(r: rx.Var[TestRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.type, weight="medium"), data_testid="test-type"),
        rx.table.cell(status_badge(r.status, TEST_RUN_STATUS)),
        rx.table.cell(r.score, white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.cond(r.notes != "", rx.text(r.notes, size="1")),
                rx.cond(
                    r.screenshot != "",
                    rx.link("Screenshot", href=r.screenshot, is_external=True, size="1"),
                ),
                spacing="1",
            ),
            min_width="160px",
        ),
        rx.table.cell(rx.text(r.at, size="1", color_scheme="gray"), white_space="nowrap"),
    )


def _tests() -> rx.Component:
    nothing = (S.tests.length() == 0) & (S.temps.length() == 0) & (S.benchmarks.length() == 0)
    return section(
        "Test results",
        "gauge",
        rx.hstack(
            rx.text("Quality check", size="2", weight="medium"),
            status_badge(S.build.qa, QA_RESULT, data_testid="build-qa"),
            rx.cond(S.build.qa_passed_at != "", rx.text("on ", S.build.qa_passed_at, size="2", color_scheme="gray")),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            nothing & (S.stress.length() == 0),
            quiet("Test results appear here once your PC is tested."),
        ),
        rx.cond(
            S.temps.length() > 0,
            rx.vstack(
                rx.text("Temperatures", size="2", weight="medium"),
                _table(["Part", "Idle", "Under load"], rx.foreach(S.temps, _temp), "build-temperatures"),
                rx.cond(S.build.ambient != "", quiet(rx.Var.create("Room temperature: ") + S.build.ambient)),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            S.benchmarks.length() > 0,
            rx.vstack(
                rx.text("Benchmarks", size="2", weight="medium"),
                _table(["Benchmark", "Score"], rx.foreach(S.benchmarks, _benchmark), "build-benchmarks"),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            S.stress.length() > 0,
            rx.vstack(
                rx.text("Stress tests", size="2", weight="medium"),
                _table(["Tool", "Duration", "Result", "Hottest"], rx.foreach(S.stress, _stress), "build-stress"),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            S.tests.length() > 0,
            rx.vstack(
                rx.text("Test runs", size="2", weight="medium"),
                _table(["Test", "Result", "Score", "Notes", "When"], rx.foreach(S.tests, _test), "build-tests"),
                spacing="2",
                width="100%",
            ),
        ),
        testid="build-test-results",
    )


def _part(p: rx.Var[PartRow]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(p.title, size="2", weight="medium"),
            rx.cond(p.detail != "", rx.text(p.detail, size="1", color_scheme="gray")),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.text("× ", p.quantity, size="2", color_scheme="gray", white_space="nowrap"),
        width="100%",
        align="start",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="build-part",
    )


def _parts() -> rx.Component:
    return section(
        "Parts",
        "cpu",
        rx.cond(
            S.parts.length() > 0,
            rx.vstack(rx.foreach(S.parts, _part), spacing="0", width="100%"),
            quiet("The parts list is on its way."),
        ),
        testid="build-parts",
    )


def _booklet(b: rx.Var[BookletRow]) -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon("file-down", size=16),
            b.name,
            rx.text("PDF · ", b.size, size="1", weight="regular"),
            size="3",
            variant="soft",
            width="100%",
            justify="start",
        ),
        href=b.url,
        is_external=True,
        width="100%",
        data_testid="build-booklet",
    )


def _booklets() -> rx.Component:
    return section(
        "Booklets",
        "book-open",
        rx.cond(
            S.booklets.length() > 0,
            rx.vstack(rx.foreach(S.booklets, _booklet), spacing="2", width="100%"),
            rx.cond(
                (S.build.booklet_status == "queued") | (S.build.booklet_status == "rendering"),
                quiet("Your booklets are being prepared. Check back in a few minutes."),
                quiet("Your Quick Start Guide and Technical Dossier appear here once your PC has passed its tests."),
            ),
        ),
        testid="build-booklets",
    )


def _moment(m: rx.Var[MomentRow]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="10px",
            height="10px",
            border_radius="50%",
            background=rx.color("accent", 9),
            margin_top="5px",
            flex_shrink="0",
        ),
        rx.vstack(
            rx.text(m.label, size="2", weight="medium"),
            rx.cond(m.note != "", rx.text(m.note, size="1")),
            rx.text(m.at, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        spacing="3",
        align="start",
        width="100%",
        data_testid="build-moment",
    )


def _timeline() -> rx.Component:
    return section(
        "Timeline",
        "history",
        rx.vstack(rx.foreach(S.timeline, _moment), spacing="3", width="100%"),
        testid="build-timeline",
    )


def _build() -> rx.Component:
    return rx.vstack(
        _head(),
        rx.card(
            rx.vstack(progress_steps(S.steps), _tracking(), spacing="3", width="100%"),
            width="100%",
        ),
        rx.grid(
            rx.vstack(_photos(), _tests(), spacing="4", width="100%", min_width="0"),
            rx.vstack(_booklets(), _parts(), _timeline(), spacing="4", width="100%", min_width="0"),
            columns=rx.breakpoints(initial="1", md="3fr 2fr"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        spacing="4",
        width="100%",
        data_testid="customer-build",
    )


def _page() -> rx.Component:
    return rx.cond(~S.loaded, loading_table(6), rx.cond(S.valid, _build(), _invalid()))


# The link is the key to the page: search engines are asked not to keep it.
NOT_INDEXED = {"name": "robots", "content": "noindex, nofollow"}

customer_build_page = public_page(
    "/my-build/[build_link]", "Your PC build", kind="storefront", on_load=S.load, meta=(*PHONE_META, NOT_INDEXED)
)(storefront_page(_page))

__all__ = ["customer_build_page"]
