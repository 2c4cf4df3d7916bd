"""Build operations: the workbench's rules in one place (seed 000)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, func, select

from app.builds import machine, photos
from app.builds.models import (
    PHOTO_SLOT_LABELS,
    PHOTO_SLOTS,
    REQUIRED_SLOTS,
    Build,
    BuildEventLog,
    BuildTimelineStep,
    TestRun,
    slot_column,
)
from app.orders import service as orders
from app.orders.models import Order
from app.platform import live, storage
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.events import publish
from app.platform.formatting import ShopFormat
from app.platform.models import Attachment, utcnow

SOURCE = "build-service"


def get_build(session: Session, build_id: uuid.UUID | str, *, lock: bool = False) -> Build:
    return get_or_404(session, Build, build_id, "build", lock=lock)


def build_for_order(session: Session, order_id: uuid.UUID) -> Build | None:
    return session.exec(select(Build).where(Build.order_id == order_id)).first()


def ensure_open(build: Build) -> None:
    """A cancelled build (its order was cancelled) is read-only: nothing on
    it changes any more, whichever door the change comes through."""
    if build.status == "cancelled":
        raise Conflict("the build is cancelled (its order was cancelled): it can no longer be changed")


def log(
    session: Session,
    build: Build,
    event_type: str,
    message: str,
    *,
    severity: str = "info",
    actor: Principal | None = None,
) -> BuildEventLog:
    """A build event-log entry (also what jobs use to record outcomes)."""
    return _event(session, build, event_type, message, severity=severity, actor=actor)


def _event(
    session: Session,
    build: Build,
    event_type: str,
    message: str,
    *,
    severity: str = "info",
    actor: Principal | None = None,
) -> BuildEventLog:
    entry = BuildEventLog(
        tenant_id=build.tenant_id,
        build_id=build.id,
        event_type=event_type,
        severity=severity,
        message=message[:5000],
        actor_id=actor.user_id if actor else None,
    )
    session.add(entry)
    live.notify_after_commit(session, "builds", buildId=str(build.id))
    return entry


def create_build(session: Session, order_id: uuid.UUID | str, *, actor: Principal) -> Build:
    """One build per order: 404 for an unknown order, 409 when it has one.
    The unique constraint decides between two concurrent requests."""
    actor.require("builds.write")
    order = orders.get_order(session, order_id)
    if order.status == "CANCELLED":
        raise Conflict(f"order {order.number} is cancelled")
    build_id = uuid.uuid4()
    created = session.execute(
        insert(Build)
        .values(
            id=build_id,
            tenant_id=session_tenant_id(session),
            order_id=order.id,
            status="pending",
            status_changed_at=utcnow(),
            qa_checklist=[],
            system_config={},
            benchmarks=[],
            stress_tests=[],
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(col(Build.id))
    ).scalar()
    if created is None:
        raise Conflict(f"order {order.number} already has a build")
    build = session.get(Build, build_id)
    assert build is not None  # inserted just above, in this transaction
    _event(session, build, "info", f"Build created for order {order.number}", actor=actor)
    orders.log_event(session, order, "build.created", "Build created", actor=actor)
    return build


def offers_build(order: Order, existing: Build | None, principal: Principal) -> bool:
    """Whether the order page offers "Create build": PCs (manual and builder
    orders) without a build, not cancelled, for staff who may build."""
    return (
        existing is None and order.source != "shopify" and order.status != "CANCELLED" and principal.can("builds.write")
    )


def change_status(session: Session, build_id: uuid.UUID | str, target: str, *, actor: Principal | None) -> Build:
    """Moves the build along the lifecycle and the order's fulfillment with it,
    in one transaction; completing queues the booklets."""
    build = get_build(session, build_id, lock=True)
    if target not in machine.STATUSES:
        raise ValidationFailed(f"unknown build status '{target}'")
    if build.status == target:
        return build
    ensure_open(build)
    if not machine.can_move(build.status, target):
        allowed = machine.allowed(build.status)
        words = ", ".join(machine.STATUS.label(a).lower() for a in allowed) or "none"
        raise InvalidTransition(
            f"a build cannot go from {machine.STATUS.label(build.status).lower()} to "
            f"{machine.STATUS.label(target).lower()}; allowed: {words}",
            details={"allowed": allowed},
        )
    order = orders.get_order(session, build.order_id, lock=True)
    if order.fulfillment_status in ("shipped", "completed"):
        raise Conflict(f"order {order.number} has shipped: its build can no longer change")
    if target == "completed":
        missing = qa_problems(build)
        if missing:
            raise InvalidTransition(
                "the build cannot be completed yet: " + "; ".join(missing), details={"missing": missing}
            )
    previous = build.status
    build.status = target
    now = utcnow()
    build.status_changed_at = now
    if target == "in_progress" and build.started_at is None:
        build.started_at = now
    if target in ("completed", "failed"):
        build.finished_at = now
    elif previous in ("failed", "completed"):
        build.finished_at = None  # resumed: not finished any more
    build.updated_at = now
    session.add(build)
    fulfillment = machine.TO_FULFILLMENT.get(target)
    if fulfillment:  # a build reopened at packaging takes its order back to testing
        orders.set_fulfillment_by_production(
            session, order, fulfillment, actor=actor, reason=f"build {machine.STATUS.label(target).lower()}"
        )
    severity = "warning" if target in ("failed", "paused") else "info"
    _event(
        session,
        build,
        "info" if severity == "info" else "issue",
        f"Status {machine.STATUS.label(previous)} → {machine.STATUS.label(target)}",
        severity=severity,
        actor=actor,
    )
    if target == "in_progress" and previous == "pending":
        add_timeline_step(session, build, "start", "Build started", actor=actor)
        if order.status == "PENDING":  # its production started, as a print order's does with its first print
            orders.change_status(session, order, "PROCESSING", actor=actor, reason="build started")
    elif target == "testing" and previous in ("in_progress", "paused"):
        add_timeline_step(session, build, "testing", "Testing started", actor=actor)
    elif target == "completed":
        add_timeline_step(session, build, "milestone", "Build completed, QA passed", actor=actor)
    publish(
        session,
        "build.status-changed",
        {"buildId": str(build.id), "orderId": str(order.id), "previousStatus": previous, "newStatus": target},
        source=SOURCE,
    )
    if target == "completed":
        request_booklets(session, build)
    return build


def request_booklets(session: Session, build: Build) -> None:
    """Fire and forget: the booklets domain renders them after commit."""
    build.booklet_status, build.booklet_error = "queued", ""
    session.add(build)
    publish(
        session, "build.booklets-requested", {"buildId": str(build.id), "orderId": str(build.order_id)}, source=SOURCE
    )


def assign(session: Session, build_id: uuid.UUID | str, user_id: uuid.UUID | None, *, actor: Principal) -> Build:
    """Who is building it (None: nobody)."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    from app.platform.models import User

    user = session.get(User, user_id) if user_id else None
    if user_id and (user is None or not user.is_active):
        raise ValidationFailed("no such active staff member")
    build.assignee_id = user.id if user else None
    build.updated_at = utcnow()
    session.add(build)
    _event(
        session,
        build,
        "info",
        f"Assigned to {user.display_name or user.username}" if user else "Unassigned",
        actor=actor,
    )
    return build


# --- photos ------------------------------------------------------------------------------


def photo_ids(build: Build) -> dict[str, uuid.UUID | None]:
    return {slot: getattr(build, slot_column(slot)) for slot in PHOTO_SLOTS}


def qa_problems(build: Build) -> list[str]:
    """What stops QA from counting as passed: a checklist with every item
    done, signed off as passed (a sign-off is withdrawn when an open item is
    added later)."""
    if not build.qa_checklist:
        return ["QA checklist"]
    open_items = [str(i.get("item")) for i in build.qa_checklist if not i.get("done")]
    if open_items:
        return ["QA checklist items not done: " + ", ".join(open_items)]
    if build.qa_result is not True:
        return ["QA sign-off"]
    return []


def missing_for_packaging(session: Session, build: Build) -> list[str]:
    ids = photo_ids(build)
    missing = [f"{PHOTO_SLOT_LABELS[slot]} photo" for slot in REQUIRED_SLOTS if ids[slot] is None]
    return missing + qa_problems(build)


def needs_build(order: Order) -> bool:
    """A PC ordered through the storefront builder is produced by its build."""
    return order.source == "builder"


@orders.fulfillment_gate
def build_gate(session: Session, order: Order, target: str) -> list[str]:
    """The orders domain asks this before fulfillment moves to ready, packaging
    or shipped: a PC order's production is its build. Orders without a build
    that need none (printed products, plain manual orders) pass."""
    build = build_for_order(session, order.id)
    if build is None:
        return ["the PC's build (none started yet)"] if needs_build(order) else []
    if target in ("packaging", "shipped"):
        return packaging_blockers(session, build)
    return _not_completed(build)


def _not_completed(build: Build) -> list[str]:
    if build.status == "completed":
        return []
    return [f"the build is {machine.STATUS.label(build.status).lower()} (it must be completed)"]


def packaging_blockers(session: Session, build: Build) -> list[str]:
    """What stops the build's order from being packed: completion, photos, QA."""
    return _not_completed(build) + missing_for_packaging(session, build)


@orders.on_cancel
def stop_build(session: Session, order: Order, actor: Principal | None) -> None:
    """The order was cancelled: its build leaves the workbench flow."""
    build = build_for_order(session, order.id)
    if build is None or build.status == "cancelled":
        return
    previous = build.status
    build.status = "cancelled"
    build.updated_at = build.status_changed_at = utcnow()
    session.add(build)
    _event(
        session,
        build,
        "issue",
        f"Order {order.number} was cancelled: the build is stopped (was {machine.STATUS.label(previous).lower()})",
        severity="warning",
        actor=actor,
    )
    publish(
        session,
        "build.status-changed",
        {"buildId": str(build.id), "orderId": str(order.id), "previousStatus": previous, "newStatus": "cancelled"},
        source=SOURCE,
    )


def _store_image(
    session: Session, build: Build, name: str, data: bytes, *, kind: str, filename: str, actor: Principal
) -> Attachment:
    """Validate an image (type, size, decoded with Pillow) and store it with its
    thumbnail and print rendition; nothing is stored when it is refused."""
    processed = photos.process(data)  # raises 4xx errors before anything is stored
    key, thumb_key = photos.keys(build.id, name)
    store = storage.for_tenant(build.tenant_id)
    store.put(key, processed.original, processed.content_type)
    store.put(thumb_key, processed.thumbnail, "image/jpeg")
    store.put(photos.print_key(key), processed.print, "image/jpeg")
    attachment = Attachment(
        tenant_id=build.tenant_id,
        kind=kind,
        key=key,
        thumbnail_key=thumb_key,
        filename=filename[:255],
        content_type=processed.content_type,
        size=len(processed.original),
        width=processed.width,
        height=processed.height,
        created_by_id=actor.user_id,
    )
    session.add(attachment)
    return attachment


def _drop_image(session: Session, build: Build, attachment_id: uuid.UUID | None) -> None:
    """Delete a replaced or removed image: its files and its row."""
    old = session.get(Attachment, attachment_id) if attachment_id else None
    if old is None:
        return
    store = storage.for_tenant(build.tenant_id)
    for k in (old.key, old.thumbnail_key, photos.print_key(old.key)):
        if k:
            store.delete(k)
    session.delete(old)


def store_photo(
    session: Session, build_id: uuid.UUID | str, slot: str, data: bytes, *, filename: str = "", actor: Principal
) -> Attachment:
    """Validate and store a photo for a slot, replacing (and deleting) the old one."""
    actor.require("builds.write")
    if slot not in PHOTO_SLOTS:
        raise NotFound(f"no photo slot '{slot}' (slots: {', '.join(PHOTO_SLOTS)})")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    attachment = _store_image(session, build, slot, data, kind="build_photo", filename=filename, actor=actor)
    column = slot_column(slot)
    old_id = getattr(build, column)
    setattr(build, column, attachment.id)
    build.updated_at = utcnow()
    session.add(build)
    _drop_image(session, build, old_id)
    label = PHOTO_SLOT_LABELS[slot]
    _event(session, build, "info", f"Photo {'replaced' if old_id else 'added'}: {label}", actor=actor)
    return attachment


# --- QA, test data, timeline, events --------------------------------------------------------


@dataclass
class QAUpdate:
    checklist: list[dict] | None = None
    notes: str | None = None
    system_config: dict | None = None
    benchmarks: list[dict] | None = None
    stress_tests: list[dict] | None = None
    temperatures: dict[str, float | None] | None = None


TEMPERATURE_FIELDS = {
    "cpuIdle": "cpu_idle_temp",
    "cpuLoad": "cpu_load_temp",
    "gpuIdle": "gpu_idle_temp",
    "gpuLoad": "gpu_load_temp",
    "ambient": "ambient_temp",
}


def update_qa(session: Session, build_id: uuid.UUID | str, update: QAUpdate, *, actor: Principal) -> Build:
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    if update.checklist is not None:
        items = []
        for i, item in enumerate(update.checklist, 1):
            name = str(item.get("item") or "").strip()
            if not name:
                raise ValidationFailed(f"checklist item {i} needs a name")
            items.append(
                {"item": name[:200], "done": bool(item.get("done")), "notes": str(item.get("notes") or "")[:500]}
            )
        build.qa_checklist = items
        if build.qa_result and not all(i["done"] for i in items):
            # an open item after the sign-off: QA has to be signed off again, and a
            # completed build goes back to testing (its order with it)
            build.qa_result, build.qa_passed_at = None, None
            _event(session, build, "issue", "QA sign-off withdrawn: the checklist has open items", actor=actor)
            if build.status == "completed":
                change_status(session, build.id, "testing", actor=actor)
    if update.notes is not None:
        build.qa_notes = update.notes[:5000]
    if update.system_config is not None:
        build.system_config = update.system_config
    if update.benchmarks is not None:
        build.benchmarks = update.benchmarks
    if update.stress_tests is not None:
        build.stress_tests = [_stress_test(i, entry) for i, entry in enumerate(update.stress_tests, 1)]
    for key, value in (update.temperatures or {}).items():
        if key not in TEMPERATURE_FIELDS:
            raise ValidationFailed(f"unknown temperature '{key}' (use {', '.join(TEMPERATURE_FIELDS)})")
        if value is not None and not -40 <= float(value) <= 130:
            raise ValidationFailed(f"{key} of {value} °C is not a plausible reading")
        setattr(build, TEMPERATURE_FIELDS[key], None if value is None else float(value))
    build.updated_at = utcnow()
    session.add(build)
    _event(session, build, "info", "QA data updated", actor=actor)
    return build


STRESS_RESULTS = ("passed", "failed")


def _stress_test(n: int, entry: dict) -> dict:
    """One stress test as the dossier shows it: tool, minutes, result, hottest
    reading, notes. Refused with the field named when a value makes no sense."""
    tool = str(entry.get("tool") or "").strip()
    if not tool:
        raise ValidationFailed(f"stress test {n} needs the tool (e.g. OCCT, Prime95, FurMark)")
    try:
        minutes = float(entry.get("durationMinutes") or 0)
        max_temp = None if entry.get("maxTemp") in (None, "") else float(entry["maxTemp"])
    except (TypeError, ValueError):
        raise ValidationFailed(f"stress test {n}: minutes and max temperature are numbers") from None
    if not 0 < minutes <= 7 * 24 * 60:
        raise ValidationFailed(f"stress test {n}: {minutes:g} minutes is not a plausible duration")
    if max_temp is not None and not -40 <= max_temp <= 130:
        raise ValidationFailed(f"stress test {n}: {max_temp:g} °C is not a plausible reading")
    result = str(entry.get("result") or "passed")
    if result not in STRESS_RESULTS:
        raise ValidationFailed(f"stress test {n}: result is passed or failed")
    return {
        "tool": tool[:100],
        "durationMinutes": minutes,
        "result": result,
        "maxTemp": max_temp,
        "notes": str(entry.get("notes") or "")[:500],
    }


def add_stress_test(session: Session, build_id: uuid.UUID | str, entry: dict, *, actor: Principal) -> Build:
    """Append one stress test to the build's list (the workbench's form)."""
    build = get_build(session, build_id, lock=True)
    return update_qa(session, build.id, QAUpdate(stress_tests=[*(build.stress_tests or []), entry]), actor=actor)


def sign_off_qa(session: Session, build_id: uuid.UUID | str, passed: bool, *, actor: Principal) -> Build:
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    if not build.qa_checklist:
        raise ValidationFailed("fill the QA checklist before signing off")
    if passed and not all(i.get("done") for i in build.qa_checklist):
        open_items = [i["item"] for i in build.qa_checklist if not i.get("done")]
        raise ValidationFailed("these checklist items are not done: " + ", ".join(open_items))
    build.qa_result = passed
    build.qa_passed_at = utcnow() if passed else None
    build.qa_signed_off_by_id = actor.user_id
    build.updated_at = utcnow()
    session.add(build)
    _event(
        session,
        build,
        "info" if passed else "issue",
        f"QA {'passed' if passed else 'failed'}",
        severity="info" if passed else "warning",
        actor=actor,
    )
    return build


def add_test_run(
    session: Session,
    build_id: uuid.UUID | str,
    *,
    type: str,
    status: str = "pending",
    score: float | None = None,
    notes: str = "",
    photo_attachment_id: uuid.UUID | None = None,
    actor: Principal,
) -> TestRun:
    actor.require("builds.write")
    build = get_build(session, build_id)
    ensure_open(build)
    if type not in machine.TEST_RUN_TYPES:
        raise ValidationFailed(f"unknown test type '{type}'")
    if status not in machine.TEST_RUN_STATUSES:
        raise ValidationFailed(f"unknown test status '{status}'")
    run = TestRun(
        tenant_id=build.tenant_id,
        build_id=build.id,
        type=type,
        status=status,
        score=score,
        notes=notes[:5000],
        photo_attachment_id=photo_attachment_id,
        created_by_id=actor.user_id,
    )
    session.add(run)
    _event(
        session,
        build,
        "measurement",
        f"Test run {machine.TEST_RUN_TYPE.label(type)}: {machine.TEST_RUN_STATUS.label(status).lower()}"
        + (f" (score {score:g})" if score is not None else ""),
        actor=actor,
    )
    return run


def update_test_run(
    session: Session,
    run_id: uuid.UUID | str,
    *,
    status: str | None = None,
    score: float | None = None,
    notes: str | None = None,
    actor: Principal,
) -> TestRun:
    actor.require("builds.write")
    run = get_or_404(session, TestRun, run_id, "test run")
    build = get_build(session, run.build_id)
    ensure_open(build)
    if status is not None:
        if status not in machine.TEST_RUN_STATUSES:
            raise ValidationFailed(f"unknown test status '{status}'")
        run.status = status
    if score is not None:
        run.score = score
    if notes is not None:
        run.notes = notes[:5000]
    run.updated_at = utcnow()
    session.add(run)
    _event(
        session,
        build,
        "measurement",
        f"Test run {machine.TEST_RUN_TYPE.label(run.type)} updated: {machine.TEST_RUN_STATUS.label(run.status).lower()}"
        + (f" (score {run.score:g})" if run.score is not None else ""),
        actor=actor,
    )
    return run


def add_benchmark(
    session: Session,
    build_id: uuid.UUID | str,
    *,
    name: str,
    score: float,
    unit: str = "",
    photo_slot: str = "",
    actor: Principal,
) -> Build:
    """A benchmark result; it may point at one of the build's photos (a screenshot of the result)."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    if not name.strip():
        raise ValidationFailed("name the benchmark")
    photo_id = None
    if photo_slot:
        if photo_slot not in PHOTO_SLOTS:
            raise ValidationFailed(f"unknown photo slot '{photo_slot}'")
        photo_id = getattr(build, slot_column(photo_slot))
        if photo_id is None:
            raise ValidationFailed(f"the {PHOTO_SLOT_LABELS[photo_slot]} slot has no photo yet")
    build.benchmarks = [
        *(build.benchmarks or []),
        {
            "name": name.strip()[:100],
            "score": score,
            "unit": unit[:20],
            "photoAttachmentId": str(photo_id) if photo_id else None,
        },
    ]
    build.updated_at = utcnow()
    session.add(build)
    _event(session, build, "measurement", f"Benchmark {name.strip()}: {score:g} {unit}".strip(), actor=actor)
    return build


def add_timeline_step(
    session: Session, build: Build, step: str, note: str = "", *, actor: Principal | None
) -> BuildTimelineStep:
    if step not in machine.TIMELINE_STEPS:
        raise ValidationFailed(f"unknown timeline step '{step}'")
    entry = BuildTimelineStep(
        tenant_id=build.tenant_id,
        build_id=build.id,
        step=step,
        note=note[:2000],
        actor_id=actor.user_id if actor else None,
    )
    session.add(entry)
    live.notify_after_commit(session, "builds", buildId=str(build.id))
    return entry


def add_step(
    session: Session, build_id: uuid.UUID | str, step: str, note: str = "", *, actor: Principal
) -> BuildTimelineStep:
    """Staff add any of the timeline's steps (parts received, OS installed, …)."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    return add_timeline_step(session, build, step, note.strip(), actor=actor)


def record_fulfillment_step(session: Session, order_id: uuid.UUID, fulfillment: str) -> None:
    """The order went to packaging or shipped: the build's timeline says so."""
    build = build_for_order(session, order_id)
    if build is not None and fulfillment in ("packaging", "shipped"):
        add_timeline_step(
            session, build, fulfillment, "Packaging started" if fulfillment == "packaging" else "Shipped", actor=None
        )


def add_event(
    session: Session,
    build_id: uuid.UUID | str,
    event_type: str,
    message: str,
    *,
    severity: str = "info",
    actor: Principal,
) -> BuildEventLog:
    actor.require("builds.write")
    build = get_build(session, build_id)
    ensure_open(build)
    if event_type not in machine.EVENT_TYPES:
        raise ValidationFailed(f"unknown event type '{event_type}'")
    if severity not in machine.SEVERITIES:
        raise ValidationFailed(f"unknown severity '{severity}'")
    if not message.strip():
        raise ValidationFailed("write what happened")
    return _event(session, build, event_type, message.strip(), severity=severity, actor=actor)


def feed(session: Session, build_id: uuid.UUID) -> list[dict]:
    """Timeline steps and events as one chronological feed."""
    steps = session.exec(select(BuildTimelineStep).where(BuildTimelineStep.build_id == build_id)).all()
    events = session.exec(select(BuildEventLog).where(BuildEventLog.build_id == build_id)).all()
    items = [{"kind": "step", "type": s.step, "severity": "info", "message": s.note, "at": s.created_at} for s in steps]
    items += [
        {"kind": "event", "type": e.event_type, "severity": e.severity, "message": e.message, "at": e.created_at}
        for e in events
    ]
    return sorted(items, key=lambda i: i["at"])


def test_runs(session: Session, build_id: uuid.UUID) -> list[TestRun]:
    return list(session.exec(select(TestRun).where(TestRun.build_id == build_id).order_by(col(TestRun.created_at))))


def _run_of(session: Session, build_id: uuid.UUID | str, run_id: uuid.UUID | str, *, lock: bool = False) -> TestRun:
    """A test run of this build (404 for another build's run)."""
    run = get_or_404(session, TestRun, run_id, "test run", lock=lock)
    if str(run.build_id) != str(build_id):
        raise NotFound("no such test run on this build")
    return run


def store_test_run_photo(
    session: Session,
    build_id: uuid.UUID | str,
    run_id: uuid.UUID | str,
    data: bytes,
    *,
    filename: str = "",
    actor: Principal,
) -> Attachment:
    """A test run's screenshot (the seed's photoAttachmentId): validated and
    stored like the build photos; a new one replaces (and deletes) the old."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    run = _run_of(session, build.id, run_id, lock=True)
    attachment = _store_image(
        session, build, f"test-run-{run.id.hex[:8]}", data, kind="screenshot", filename=filename, actor=actor
    )
    old_id = run.photo_attachment_id
    run.photo_attachment_id = attachment.id
    run.updated_at = utcnow()
    session.add(run)
    _drop_image(session, build, old_id)
    what = machine.TEST_RUN_TYPE.label(run.type)
    _event(session, build, "info", f"Screenshot {'replaced' if old_id else 'added'}: {what} test run", actor=actor)
    return attachment


def remove_test_run_photo(
    session: Session, build_id: uuid.UUID | str, run_id: uuid.UUID | str, *, actor: Principal
) -> TestRun:
    """Take a test run's screenshot away (its files go too)."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    run = _run_of(session, build.id, run_id, lock=True)
    if run.photo_attachment_id is None:
        raise NotFound("this test run has no screenshot")
    _drop_image(session, build, run.photo_attachment_id)
    run.photo_attachment_id = None
    run.updated_at = utcnow()
    session.add(run)
    what = machine.TEST_RUN_TYPE.label(run.type)
    _event(session, build, "info", f"Screenshot removed: {what} test run", actor=actor)
    return run


def test_run_photos(session: Session, runs: list[TestRun]) -> dict[uuid.UUID, Attachment]:
    """The screenshots of these test runs, by test run id."""
    ids = [r.photo_attachment_id for r in runs if r.photo_attachment_id]
    if not ids:
        return {}
    found = {a.id: a for a in session.exec(select(Attachment).where(col(Attachment.id).in_(ids)))}
    return {
        r.id: found[r.photo_attachment_id] for r in runs if r.photo_attachment_id and r.photo_attachment_id in found
    }


def regenerate_booklets(session: Session, build_id: uuid.UUID | str, *, actor: Principal) -> Build:
    """Staff ask for fresh booklets (fire and forget); not for a cancelled build."""
    actor.require("builds.write")
    build = get_build(session, build_id, lock=True)
    ensure_open(build)
    request_booklets(session, build)
    return build


# --- the builds board -----------------------------------------------------------------------


@dataclass
class BoardCard:
    """One build on the builds board."""

    id: uuid.UUID
    order_number: str
    order_id: uuid.UUID
    customer: str
    status: str
    assignee_id: uuid.UUID | None
    assignee: str  # the assignee's name, "" for nobody
    since: datetime  # when the build entered its current status
    photos: int  # photo slots filled
    booklet_status: str


@dataclass
class BoardFilter:
    """What the board shows: one assignee (or only unassigned builds), and
    whether finished builds (completed, cancelled) are included."""

    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    include_closed: bool = False


def board(session: Session, flt: BoardFilter | None = None) -> list[BoardCard]:
    """The builds of the shop, longest in their status first."""
    from app.platform.models import User

    flt = flt or BoardFilter()
    q = select(Build, Order).join(Order, col(Order.id) == col(Build.order_id))
    if flt.assignee_id is not None:
        q = q.where(Build.assignee_id == flt.assignee_id)
    elif flt.unassigned:
        q = q.where(col(Build.assignee_id).is_(None))
    if not flt.include_closed:
        q = q.where(col(Build.status).not_in(machine.CLOSED))
    rows = session.exec(q).all()
    names = {u.id: u.display_name or u.username for u in session.exec(select(User))}
    cards = [
        BoardCard(
            id=b.id,
            order_number=o.number,
            order_id=o.id,
            customer=o.customer_name,
            status=b.status,
            assignee_id=b.assignee_id,
            assignee=names.get(b.assignee_id, "") if b.assignee_id else "",
            since=b.status_changed_at or b.created_at,
            photos=sum(1 for v in photo_ids(b).values() if v),
            booklet_status=b.booklet_status,
        )
        for b, o in rows
    ]
    return sorted(cards, key=lambda c: c.since)


def status_counts(session: Session) -> dict[str, int]:
    """How many builds are in each status (all of them, whatever the filter)."""
    rows = session.exec(select(Build.status, func.count()).group_by(Build.status)).all()
    return {status: n for status, n in rows}


def time_in_status(card: BoardCard, fmt: ShopFormat, now: datetime | None = None) -> str:
    """ "waiting 3 days", "in testing for 5 hours", "completed 2 days ago"."""
    now = now or utcnow()
    seconds = max(0.0, (now - card.since).total_seconds())
    phrase = machine.STATUS_AGE.get(card.status, "{ago}")
    time = "a moment" if seconds < 60 else fmt.duration(seconds)
    return phrase.format(time=time, ago=fmt.ago(card.since, now))


def staff(session: Session) -> list[tuple[uuid.UUID, str]]:
    """Who can be assigned a build: the shop's active users, by name."""
    from app.platform.models import User

    users = session.exec(select(User).where(col(User.is_active).is_(True))).all()
    return sorted(((u.id, u.display_name or u.username) for u in users), key=lambda x: x[1].lower())
