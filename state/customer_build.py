"""/my-build/<link>: the customer's page of their PC's build, opened from the
booklet's QR code or from My orders.

No sign-in: the signed link is the key (people scan it with their phone).
Everything here is read through `app.customers.builds_view` and put into the
build's shop's own formats (`formatting.of_tenant`); there is no principal.
"""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from app.builds.machine import STRESS_RESULT, TEST_RUN_STATUS, TEST_RUN_TYPE
from app.customers import builds_view, links
from app.platform.formatting import ShopFormat, of_tenant
from state.storefront import StorefrontState, storefront_public


@dataclasses.dataclass
class StepRow:
    """One of the five steps a PC goes through."""

    step: str = ""
    label: str = ""
    state: str = ""  # done | current | todo


@dataclasses.dataclass
class BuildSummary:
    shop: str = ""
    order: str = ""  # the order's number
    placed: str = ""
    order_status: str = ""  # ORDER_STATUS
    build_status: str = ""  # builds' STATUS
    tracking_number: str = ""
    tracking_url: str = ""
    tracking_carrier: str = ""
    qa: str = ""  # builds' QA_RESULT: passed | failed | open
    qa_passed_at: str = ""
    booklet_status: str = ""  # builds' BOOKLET_STATUS
    ambient: str = ""  # room temperature during testing, "" when not noted


@dataclasses.dataclass
class PartRow:
    title: str = ""
    detail: str = ""
    quantity: int = 1


@dataclasses.dataclass
class PhotoRow:
    label: str = ""
    thumb: str = ""
    full: str = ""


@dataclasses.dataclass
class TestRow:
    type: str = ""  # in words
    status: str = ""  # TEST_RUN_STATUS value (its badge says the words)
    score: str = ""
    notes: str = ""
    at: str = ""
    screenshot: str = ""  # "" when none


@dataclasses.dataclass
class BenchmarkRow:
    name: str = ""
    score: str = ""


@dataclasses.dataclass
class StressRow:
    tool: str = ""
    minutes: str = ""
    result: str = ""  # STRESS_RESULT value
    max_temp: str = ""
    notes: str = ""


@dataclasses.dataclass
class TempRow:
    part: str = ""  # Processor | Graphics card
    idle: str = ""
    load: str = ""


@dataclasses.dataclass
class MomentRow:
    label: str = ""
    note: str = ""
    at: str = ""


@dataclasses.dataclass
class BookletRow:
    name: str = ""
    url: str = ""
    size: str = ""


def step_rows(steps: tuple[builds_view.ProgressStep, ...]) -> list[StepRow]:
    return [StepRow(step=s.step, label=s.label, state=s.state) for s in steps]


def _score(fmt: ShopFormat, value: float | None) -> str:
    if value is None:
        return "—"
    return fmt.number(value, 0 if float(value).is_integer() else 1)


def _degrees(fmt: ShopFormat, value: float | None) -> str:
    return "—" if value is None else f"{_score(fmt, value)} °C"


def _size(fmt: ShopFormat, size: int) -> str:
    if size >= 1_000_000:
        return f"{fmt.number(size / 1_000_000, 1)} MB"
    return f"{fmt.number(max(1, round(size / 1000)))} KB"


@dataclasses.dataclass
class _Shown:
    summary: BuildSummary
    steps: list[StepRow]
    parts: list[PartRow]
    photos: list[PhotoRow]
    tests: list[TestRow]
    benchmarks: list[BenchmarkRow]
    stress: list[StressRow]
    temps: list[TempRow]
    timeline: list[MomentRow]
    booklets: list[BookletRow]


def shown(page: builds_view.BuildPage, fmt: ShopFormat) -> _Shown:
    """The build page in the shop's words and formats."""
    token = page.token
    t = page.temperatures
    return _Shown(
        summary=BuildSummary(
            shop=page.shop_name,
            order=page.order_number,
            placed=fmt.day(page.placed_at),
            order_status=page.order_status,
            build_status=page.build_status,
            tracking_number=page.tracking_number,
            tracking_url=page.tracking_url,
            tracking_carrier=page.tracking_carrier,
            qa="passed" if page.qa_passed else "failed" if page.qa_passed is False else "open",
            qa_passed_at=fmt.day(page.qa_passed_at) if page.qa_passed_at else "",
            booklet_status=page.booklet_status,
            ambient=_degrees(fmt, t.ambient) if t.ambient is not None else "",
        ),
        steps=step_rows(page.progress),
        parts=[PartRow(p.title, p.detail, p.quantity) for p in page.parts],
        photos=[
            PhotoRow(
                label=p.label,
                thumb=links.file_url(token, p.attachment_id, thumbnail=p.has_thumbnail),
                full=links.file_url(token, p.attachment_id),
            )
            for p in page.photos
        ],
        tests=[
            TestRow(
                type=TEST_RUN_TYPE.label(r.type),
                status=r.status if r.status in TEST_RUN_STATUS else "pending",
                score="" if r.score is None else _score(fmt, r.score),
                notes=r.notes,
                at=fmt.when(r.at),
                screenshot=links.file_url(token, r.screenshot_id) if r.screenshot_id else "",
            )
            for r in page.test_results
        ],
        benchmarks=[
            BenchmarkRow(b.name, f"{_score(fmt, b.score)} {b.unit}".strip()) for b in page.benchmarks if b.name
        ],
        stress=[
            StressRow(
                tool=s.tool,
                minutes=f"{_score(fmt, s.minutes)} min",
                result=s.result if s.result in STRESS_RESULT else "passed",
                max_temp=_degrees(fmt, s.max_temp),
                notes=s.notes,
            )
            for s in page.stress_tests
        ],
        temps=[
            TempRow("Processor (CPU)", _degrees(fmt, t.cpu_idle), _degrees(fmt, t.cpu_load)),
            TempRow("Graphics card (GPU)", _degrees(fmt, t.gpu_idle), _degrees(fmt, t.gpu_load)),
        ]
        if t.measured
        else [],
        timeline=[
            MomentRow(m.label, "" if m.note == m.label else m.note, fmt.when(m.at)) for m in reversed(page.timeline)
        ],
        booklets=[
            BookletRow(b.name, links.file_url(token, b.attachment_id), _size(fmt, b.size)) for b in page.booklets
        ],
    )


def _open(link: str) -> _Shown | None:
    page = builds_view.open_build_page(link)
    return None if page is None else shown(page, of_tenant(page.tenant_id))


class CustomerBuildState(StorefrontState):
    valid: bool = False
    loaded: bool = False
    build: BuildSummary = BuildSummary()
    steps: list[StepRow] = []
    parts: list[PartRow] = []
    photos: list[PhotoRow] = []
    tests: list[TestRow] = []
    benchmarks: list[BenchmarkRow] = []
    stress: list[StressRow] = []
    temps: list[TempRow] = []
    timeline: list[MomentRow] = []
    booklets: list[BookletRow] = []

    def _link(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    @storefront_public
    async def load(self):
        self.loaded = False
        await self._load_customer()
        found = await asyncio.to_thread(_open, self._link())
        self.valid = found is not None
        if found is not None:
            self.build, self.steps, self.parts = found.summary, found.steps, found.parts
            self.photos, self.tests, self.benchmarks = found.photos, found.tests, found.benchmarks
            self.stress, self.temps, self.timeline = found.stress, found.temps, found.timeline
            self.booklets = found.booklets
        self.loaded = True


__all__ = [
    "BenchmarkRow",
    "BookletRow",
    "BuildSummary",
    "CustomerBuildState",
    "MomentRow",
    "PartRow",
    "PhotoRow",
    "StepRow",
    "StressRow",
    "TempRow",
    "TestRow",
    "shown",
    "step_rows",
]
