"""What a customer sees of their orders and their PC's build (read only).

Two readers: My orders (a signed-in customer's orders, with the build's
progress) and the build page behind the booklet's QR code (`links`), which
anyone holding the link may open. Both return plain values (no rows that
outlive their session); the entry points put them into words and the shop's
formats.

An order is the customer's when it carries their account (orders placed in
the builder). An order that only carries the same email address is not: an
account's email address is not verified, so anyone could sign up with
somebody else's address and read their orders, addresses and build. Orders
from Shopify join My orders once accounts verify their email address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from app.builds import service as builds
from app.builds.machine import TIMELINE_STEP
from app.builds.models import PHOTO_SLOT_LABELS, PHOTO_SLOTS, Build, BuildTimelineStep
from app.customers import links
from app.customers.service import CustomerPrincipal
from app.orders import service as orders
from app.orders.models import Order
from app.platform import storage
from app.platform.db import platform_session, tenant_session
from app.platform.errors import NotFound
from app.platform.machine import Status, StatusTable
from app.platform.models import Attachment, Tenant

MAX_ORDERS = 200

# The five steps a customer follows their PC through.
PROGRESS = StatusTable(
    Status("parts_received", "Parts received", "gray"),
    Status("assembly", "Assembly", "blue"),
    Status("testing", "Testing", "iris"),
    Status("packaging", "Packaging", "amber"),
    Status("shipped", "Shipped", "green"),
)
PROGRESS_STEPS = PROGRESS.values

BOOKLET_NAMES = {"quick_start": "Quick Start Guide", "dossier": "Technical Dossier"}

# What each workbench timeline step says about the customer's five steps.
_STEP_REACHES = {
    "start": "parts_received",
    "parts_received": "parts_received",
    "assembly": "assembly",
    "cable_management": "assembly",
    "os_install": "assembly",
    "software_setup": "assembly",
    "testing": "testing",
    "milestone": "testing",
    "packaging": "packaging",
    "shipped": "shipped",
}


@dataclass(frozen=True)
class ProgressStep:
    step: str  # one of PROGRESS_STEPS
    label: str
    state: str  # done | current | todo


def progress(
    *, build_status: str | None, timeline: set[str] | frozenset[str], fulfillment: str, order_status: str
) -> tuple[ProgressStep, ...]:
    """Where a PC order is, as the five steps: every step before the furthest
    one reached is done, the next one is under way. A cancelled order has no
    step under way."""
    done = -1  # index of the last finished step
    reached = -1  # index of the furthest step started

    def finish(step: str) -> None:
        nonlocal done
        done = max(done, PROGRESS_STEPS.index(step))

    def start(step: str) -> None:
        nonlocal reached
        reached = max(reached, PROGRESS_STEPS.index(step))

    if build_status not in (None, "pending", "cancelled"):
        finish("parts_received")  # the build started: its parts are on the bench
        start("assembly")
    for step in timeline:
        if step in _STEP_REACHES:
            start(_STEP_REACHES[step])
    if build_status == "testing":
        finish("assembly")
        start("testing")
    if build_status == "completed" or fulfillment in ("ready", "packaging", "shipped", "completed"):
        finish("testing")
    if fulfillment == "packaging":
        start("packaging")
    if fulfillment in ("shipped", "completed"):
        finish("shipped")
    if reached > 0:
        finish(PROGRESS_STEPS[reached - 1])  # a step under way means the one before it is over
    if "shipped" in timeline:
        finish("shipped")
    stopped = order_status == "CANCELLED" or build_status == "cancelled"
    current = -1 if stopped or done + 1 >= len(PROGRESS_STEPS) else done + 1
    return tuple(
        ProgressStep(s.value, s.label, "done" if i <= done else "current" if i == current else "todo")
        for i, s in enumerate(PROGRESS)
    )


# --- My orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderSummary:
    id: uuid.UUID
    number: str
    placed_at: datetime
    status: str  # ORDER_STATUS
    fulfillment_status: str  # FULFILLMENT_STATUS
    total: Decimal
    currency: str
    tracking_number: str
    tracking_url: str  # "" unless it is a web address
    tracking_carrier: str
    is_pc: bool  # made on our workbench: it has (or will have) a build to follow
    build_path: str  # the customer build page ("/my-build/<token>"), "" until the build exists
    progress: tuple[ProgressStep, ...]


def _web_address(url: str) -> str:
    """Only http(s) links become links (the value came from outside)."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def _belongs_to(customer: CustomerPrincipal):
    return col(Order.customer_id) == customer.customer_id


def customer_orders(session: Session, customer: CustomerPrincipal) -> list[OrderSummary]:
    """The customer's orders, newest first, each PC order with its progress."""
    rows = list(
        session.exec(
            select(Order)
            .where(_belongs_to(customer))
            .order_by(col(Order.placed_at).desc(), col(Order.number).desc())
            .limit(MAX_ORDERS)
        )
    )
    ids = [o.id for o in rows]
    by_order = {b.order_id: b for b in session.exec(select(Build).where(col(Build.order_id).in_(ids)))} if ids else {}
    steps: dict[uuid.UUID, set[str]] = {}
    if by_order:
        build_ids = [b.id for b in by_order.values()]
        for build_id, step in session.exec(
            select(BuildTimelineStep.build_id, BuildTimelineStep.step).where(
                col(BuildTimelineStep.build_id).in_(build_ids)
            )
        ):
            steps.setdefault(build_id, set()).add(step)
    out = []
    for o in rows:
        build = by_order.get(o.id)
        is_pc = build is not None or builds.needs_build(o)
        out.append(
            OrderSummary(
                id=o.id,
                number=o.number,
                placed_at=o.placed_at,
                status=o.status,
                fulfillment_status=o.fulfillment_status,
                total=o.total,
                currency=o.currency,
                tracking_number=o.tracking_number,
                tracking_url=_web_address(o.tracking_url),
                tracking_carrier=o.tracking_carrier,
                is_pc=is_pc,
                build_path=links.build_page_path(o.tenant_id, build.id) if build else "",
                progress=progress(
                    build_status=build.status if build else None,
                    timeline=frozenset(steps.get(build.id, set())) if build else frozenset(),
                    fulfillment=o.fulfillment_status,
                    order_status=o.status,
                )
                if is_pc
                else (),
            )
        )
    return out


# --- the build page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartLine:
    title: str
    detail: str  # the variant, "" when none
    quantity: int


@dataclass(frozen=True)
class BuildPhoto:
    slot: str
    label: str  # "Motherboard I/O" (PHOTO_SLOT_LABELS)
    attachment_id: uuid.UUID
    has_thumbnail: bool


@dataclass(frozen=True)
class TestResult:
    type: str  # builds.machine.TEST_RUN_TYPE
    status: str  # builds.machine.TEST_RUN_STATUS
    score: float | None
    notes: str
    at: datetime
    screenshot_id: uuid.UUID | None  # the result on screen, when the bench photographed it


@dataclass(frozen=True)
class Benchmark:
    name: str
    score: float | None
    unit: str


@dataclass(frozen=True)
class StressTest:
    tool: str
    minutes: float
    result: str  # builds.machine.STRESS_RESULT
    max_temp: float | None
    notes: str


@dataclass(frozen=True)
class Temperatures:
    cpu_idle: float | None
    cpu_load: float | None
    gpu_idle: float | None
    gpu_load: float | None
    ambient: float | None

    @property
    def measured(self) -> bool:
        return any(v is not None for v in (self.cpu_idle, self.cpu_load, self.gpu_idle, self.gpu_load))


@dataclass(frozen=True)
class Moment:
    label: str  # what happened, in words
    note: str
    at: datetime


@dataclass(frozen=True)
class Booklet:
    kind: str  # quick_start | dossier
    name: str  # "Quick Start Guide"
    attachment_id: uuid.UUID
    size: int  # bytes


@dataclass(frozen=True)
class BuildPage:
    tenant_id: uuid.UUID
    shop_name: str
    token: str
    order_number: str
    placed_at: datetime
    order_status: str
    fulfillment_status: str
    build_status: str  # builds.machine.STATUS
    tracking_number: str
    tracking_url: str
    tracking_carrier: str
    progress: tuple[ProgressStep, ...]
    parts: tuple[PartLine, ...]
    photos: tuple[BuildPhoto, ...]
    test_results: tuple[TestResult, ...]
    benchmarks: tuple[Benchmark, ...]
    stress_tests: tuple[StressTest, ...]
    temperatures: Temperatures
    qa_passed: bool | None  # None: not signed off yet
    qa_passed_at: datetime | None
    timeline: tuple[Moment, ...]
    booklets: tuple[Booklet, ...]
    booklet_status: str  # builds.machine.BOOKLET_STATUS


def _float(value: object) -> float | None:
    try:
        return None if value is None or value == "" else float(str(value))
    except (TypeError, ValueError):
        return None


def _booklet_ids(build: Build) -> dict[str, uuid.UUID | None]:
    return {"quick_start": build.quick_start_booklet_id, "dossier": build.technical_dossier_booklet_id}


def _tenant_of(link: links.BuildLink) -> Tenant | None:
    with platform_session() as ps:
        return ps.get(Tenant, link.tenant_id)


def build_page(session: Session, tenant: Tenant, build: Build, token: str) -> BuildPage:
    """Everything the customer build page shows of `build`."""
    order = orders.get_order(session, build.order_id)
    photo_ids = builds.photo_ids(build)
    wanted = [i for i in (*photo_ids.values(), *_booklet_ids(build).values()) if i]
    attachments = (
        {a.id: a for a in session.exec(select(Attachment).where(col(Attachment.id).in_(wanted)))} if wanted else {}
    )
    timeline_rows = session.exec(
        select(BuildTimelineStep)
        .where(BuildTimelineStep.build_id == build.id)
        .order_by(col(BuildTimelineStep.created_at))
    ).all()
    moments = [Moment("Order placed", "", order.placed_at)]
    moments += [Moment(TIMELINE_STEP.label(t.step), t.note, t.created_at) for t in timeline_rows]
    runs = builds.test_runs(session, build.id)
    shots = builds.test_run_photos(session, runs)
    return BuildPage(
        tenant_id=tenant.id,
        shop_name=tenant.name,
        token=token,
        order_number=order.number,
        placed_at=order.placed_at,
        order_status=order.status,
        fulfillment_status=order.fulfillment_status,
        build_status=build.status,
        tracking_number=order.tracking_number,
        tracking_url=_web_address(order.tracking_url),
        tracking_carrier=order.tracking_carrier,
        progress=progress(
            build_status=build.status,
            timeline=frozenset(t.step for t in timeline_rows),
            fulfillment=order.fulfillment_status,
            order_status=order.status,
        ),
        parts=tuple(
            PartLine(li.title or li.sku, li.variant_title, li.quantity) for li in orders.line_items(session, order.id)
        ),
        photos=tuple(
            BuildPhoto(slot, PHOTO_SLOT_LABELS[slot], att_id, bool(attachments[att_id].thumbnail_key))
            for slot in PHOTO_SLOTS
            if (att_id := photo_ids[slot]) is not None and att_id in attachments
        ),
        test_results=tuple(
            TestResult(r.type, r.status, r.score, r.notes, r.created_at, shots[r.id].id if r.id in shots else None)
            for r in runs
        ),
        benchmarks=tuple(
            Benchmark(str(b.get("name") or ""), _float(b.get("score")), str(b.get("unit") or ""))
            for b in build.benchmarks or []
            if isinstance(b, dict)
        ),
        stress_tests=tuple(
            StressTest(
                tool=str(t.get("tool") or ""),
                minutes=_float(t.get("durationMinutes")) or 0.0,
                result=str(t.get("result") or ""),
                max_temp=_float(t.get("maxTemp")),
                notes=str(t.get("notes") or ""),
            )
            for t in build.stress_tests or []
            if isinstance(t, dict)
        ),
        temperatures=Temperatures(
            build.cpu_idle_temp, build.cpu_load_temp, build.gpu_idle_temp, build.gpu_load_temp, build.ambient_temp
        ),
        qa_passed=build.qa_result,
        qa_passed_at=build.qa_passed_at,
        timeline=tuple(sorted(moments, key=lambda m: m.at)),
        booklets=tuple(
            Booklet(kind, BOOKLET_NAMES[kind], att_id, attachments[att_id].size)
            for kind, att_id in _booklet_ids(build).items()
            if att_id is not None and att_id in attachments
        ),
        booklet_status=build.booklet_status,
    )


def open_build_page(token: str | None) -> BuildPage | None:
    """The build page a link opens, or None when the link is not valid (not
    signed by us, or its shop or build no longer exists)."""
    link = links.read_build_token(token)
    if link is None:
        return None
    tenant = _tenant_of(link)
    if tenant is None:
        return None
    with tenant_session(tenant.id) as s:
        build = s.get(Build, link.build_id)
        if build is None:
            return None
        return build_page(s, tenant, build, token or "")


@dataclass(frozen=True)
class BuildFile:
    data: bytes
    content_type: str
    filename: str
    is_booklet: bool


def build_file(token: str | None, attachment_id: str, *, thumbnail: bool = False) -> BuildFile | None:
    """One of the build's own photos or booklets, for the holder of its link;
    None for a link that is not valid or a file that is not this build's."""
    link = links.read_build_token(token)
    if link is None:
        return None
    try:
        wanted = uuid.UUID(attachment_id)
    except ValueError:
        return None
    if _tenant_of(link) is None:
        return None
    with tenant_session(link.tenant_id) as s:
        build = s.get(Build, link.build_id)
        if build is None:
            return None
        photos = {i for i in builds.photo_ids(build).values() if i}
        photos |= {a.id for a in builds.test_run_photos(s, builds.test_runs(s, build.id)).values()}
        booklets = {i for i in _booklet_ids(build).values() if i}
        if wanted not in photos | booklets:
            return None
        att = s.get(Attachment, wanted)
        if att is None:
            return None
        key = att.thumbnail_key if thumbnail and att.thumbnail_key else att.key
        try:
            stored = storage.for_tenant(link.tenant_id).get(key)
        except NotFound:
            return None
        return BuildFile(
            data=stored.data,
            content_type=stored.content_type,
            filename=att.filename or key.rsplit("/", 1)[-1],
            is_booklet=wanted in booklets,
        )
