"""The two PDF booklets of a completed build (seed 000): a customer-facing
Quick Start Guide and a Technical Dossier, rendered with WeasyPrint.

Images come from our own storage and are inlined as data: URIs; the fetcher
allows nothing else (no file://, no network), so a template or a value can
never make the renderer read a local file or call out.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jinja2
import segno
from PIL import Image
from sqlmodel import Session, col, select
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.builds import service as builds
from app.builds.machine import EVENT_TYPE, STRESS_RESULT, TEST_RUN_STATUS, TEST_RUN_TYPE, TIMELINE_STEP
from app.builds.models import PHOTO_SLOTS, Build
from app.customers import links
from app.orders import service as orders
from app.platform import config, formatting, live, storage, tasks
from app.platform.errors import NotFound
from app.platform.models import Attachment, Tenant, User, utcnow
from app.settings import ROOT

TEMPLATES = ROOT / "assets" / "booklets"
SLOT_CAPTIONS = {
    "coverPhoto": "The finished build",
    "mboIoPhoto": "Motherboard ports (back)",
    "gpuIoPhoto": "Graphics card outputs",
    "caseIoPhoto": "Front panel ports",
    "psuPhoto": "Power supply and cabling",
    "powerBtnPhoto": "Power button",
    "panelAPhoto": "Inside, window side",
    "panelBPhoto": "Inside, cable side",
    "foamPhoto": "Transport foam",
    "thermalPhoto": "Thermal paste application",
}
IO_SLOTS = [
    ("mboIoPhoto", "Back panel: USB, network, audio"),
    ("gpuIoPhoto", "Graphics card: connect your monitor here"),
    ("caseIoPhoto", "Front panel: USB and headset"),
]
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]))


def fetcher() -> URLFetcher:
    """Only data: URIs (our inlined images); everything else is refused."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)


def _data_uri(data: bytes, max_px: int = 1400) -> str:
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (max_px, max_px))  # JPEG: decode at a reduced scale, several times faster
        img = img.convert("RGB")
        img.thumbnail((max_px, max_px))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def _photo_uri(store: storage.TenantStorage, key: str) -> str:
    """The stored print rendition, or (older photos) one made from the original."""
    from app.builds.photos import print_key

    try:
        return "data:image/jpeg;base64," + base64.b64encode(store.get(print_key(key)).data).decode()
    except NotFound:
        return _data_uri(store.get(key).data)


def _qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=1, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def _temp_chart(build: Build) -> str:
    """An inline SVG bar chart of idle vs load temperatures."""
    rows = [("CPU", build.cpu_idle_temp, build.cpu_load_temp), ("GPU", build.gpu_idle_temp, build.gpu_load_temp)]
    width, bar_h, gap, left = 470, 14, 12, 60
    scale = (width - left - 60) / 100.0
    height = len(rows) * 2 * (bar_h + 4) + len(rows) * gap + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="DejaVu Sans" font-size="10">'
    ]
    y = 10
    for label, idle, load in rows:
        parts.append(f'<text x="0" y="{y + bar_h + 4}" fill="#374151" font-weight="bold">{label}</text>')
        for name, value, color in (("idle", idle, "#a5b4fc"), ("load", load, "#4f46e5")):
            w = max(0.0, (value or 0) * scale)
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{color}"/>')
            text = f"{value:.0f} °C {name}" if value is not None else f"not measured ({name})"
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 3}" fill="#374151">{text}</text>')
            y += bar_h + 4
        y += gap
    if build.ambient_temp is not None:
        parts.append(
            f'<text x="0" y="{y + 10}" fill="#6b7280">Room temperature during testing: '
            f"{build.ambient_temp:.0f} °C</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _test_runs(session: Session, build: Build, store: storage.TenantStorage) -> list[dict]:
    """The test runs as the dossier shows them, each with its screenshot."""
    runs = builds.test_runs(session, build.id)
    shots = builds.test_run_photos(session, runs)
    return [
        {
            "type": TEST_RUN_TYPE.label(r.type),
            "status": r.status,
            "status_label": TEST_RUN_STATUS.label(r.status),
            "score": "—" if r.score is None else f"{r.score:g}",
            "notes": r.notes,
            "photo": _photo_uri(store, shots[r.id].key) if r.id in shots else None,
        }
        for r in runs
    ]


def context(session: Session, build: Build) -> dict:
    order = orders.get_order(session, build.order_id)
    tenant = session.get(Tenant, build.tenant_id)
    store = storage.for_tenant(build.tenant_id)
    ids = [i for i in builds.photo_ids(build).values() if i]
    attachments = {a.id: a for a in session.exec(select(Attachment).where(col(Attachment.id).in_(ids)))}
    photos: dict[str, str | None] = {slot: None for slot in PHOTO_SLOTS}
    for slot, att_id in builds.photo_ids(build).items():
        if att_id and att_id in attachments:
            photos[slot] = _photo_uri(store, attachments[att_id].key)
    items = orders.line_items(session, order.id)
    signer = session.get(User, build.qa_signed_off_by_id) if build.qa_signed_off_by_id else None
    shop_name = tenant.name if tenant else "Shopfloor"
    fmt = formatting.of_tenant(build.tenant_id)
    build_url = links.build_page_url(build.tenant_id, build.id)  # the customer's page, not the staff one
    sc = build.system_config or {}
    parts = [{"label": li.title, "value": f"{li.quantity} × {li.variant_title or li.sku}"} for li in items]
    return {
        "shop_name": shop_name,
        "order": order,
        "items": items,
        "parts": parts,
        "photos": photos,
        "system_config": sc,
        "qr_svg": _qr_svg(build_url),
        "build_url": build_url,
        "started": fmt.day(build.started_at),
        "finished": fmt.day(build.finished_at or utcnow()),
        "qa_checklist": build.qa_checklist,
        "qa_result": build.qa_result,
        "qa_notes": build.qa_notes,
        "qa_passed_at": fmt.day(build.qa_passed_at),
        "signed_by": signer.display_name or signer.username if signer else "",
        "qa_summary": "passed" if build.qa_result else "failed" if build.qa_result is False else "pending",
        "test_runs": _test_runs(session, build, store),
        "benchmarks": build.benchmarks or [],
        "temp_chart": _temp_chart(build),
        "temps": {"cpu_load": build.cpu_load_temp, "gpu_load": build.gpu_load_temp},
        "stress_tests": build.stress_tests or [],
        "stress_results": {st.value: st.label for st in STRESS_RESULT},
        "temps_measured": any(
            t is not None for t in (build.cpu_idle_temp, build.cpu_load_temp, build.gpu_idle_temp, build.gpu_load_temp)
        ),
        "feed": [
            {
                **e,
                "at": fmt.when(e["at"]),
                "what": TIMELINE_STEP.label(e["type"]) if e["kind"] == "step" else EVENT_TYPE.label(e["type"]),
            }
            for e in builds.feed(session, build.id)
            if not e["message"].startswith(("Photo ", "Screenshot "))
        ],  # photo bookkeeping is not the customer's story
        "io_slots": IO_SLOTS,
        "filled": [slot for slot, uri in photos.items() if uri],
        "all_slots": [(s, SLOT_CAPTIONS[s]) for s in PHOTO_SLOTS],
        "builder_name": shop_name,
        "support_email": config.get(session, "shop.support_email")
        or f"support@{(tenant.slug if tenant else 'shop')}.example",
        "support_phone": config.get(session, "shop.support_phone") or "",
    }


def render_html(template: str, ctx: dict) -> str:
    css = _env.get_template("booklet.css").render(**ctx)
    return _env.get_template(template).render(css=css, **ctx)


def render_pdf(html: str) -> bytes:
    pdf = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher()).write_pdf()
    assert pdf is not None  # no target given: write_pdf returns the document's bytes
    return pdf


@dataclass
class Rendered:
    quick_start: bytes
    dossier: bytes


def render(session: Session, build: Build) -> Rendered:
    ctx = context(session, build)
    return Rendered(
        render_pdf(render_html("quick_start.html", ctx)), render_pdf(render_html("technical_dossier.html", ctx))
    )


def render_key(build_id: uuid.UUID | str) -> str:
    """The single-flight key of a build's render (tasks.enqueue_once)."""
    return f"booklets:{build_id}"


# A render runs at most the job's timeout (10 min); one still `queued` or
# `rendering` after this lost its job without a trace (Redis lost it): a
# render whose worker died is handed back within seconds by the platform
# (`render_abandoned`), so this is only the last resort.
STUCK_AFTER = timedelta(minutes=11)

ABANDONED_RETRYING = "The worker stopped while rendering the booklets; trying again"
ABANDONED_FAILED = "The worker stopped while rendering the booklets; try again"


def _reclaim(session: Session, build: Build, *, again: bool, message: str) -> None:
    """A render that will not finish: ask for it again (`again`: the job's
    retry runs it, or a new request does) or mark it failed with the reason;
    either way it shows on the build's log and page at once."""
    if again:
        build.booklet_status, build.booklet_error = "queued", ""
        builds.log(session, build, "issue", message, severity="warning")
    else:
        build.booklet_status, build.booklet_error = "failed", message
        builds.log(session, build, "issue", f"Booklet generation failed: {message}", severity="error")
    build.updated_at = utcnow()
    session.add(build)
    live.notify_after_commit(session, "builds", buildId=str(build.id))


def render_abandoned(tenant_id: uuid.UUID | str, build_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The platform found the render job dead with its worker: the job's retry
    renders again (shown as queued), or it has no retry left (failed, with
    the reason and the page's Regenerate button)."""
    from app.platform.db import tenant_session

    with tenant_session(tenant_id) as s:
        try:
            build = builds.get_build(s, build_id, lock=True)
        except NotFound:
            return
        if build.booklet_status not in ("queued", "rendering"):
            return  # a later render already settled it
        _reclaim(s, build, again=retrying, message=ABANDONED_RETRYING if retrying else ABANDONED_FAILED)
        s.commit()


def requeue_stuck(session: Session) -> int:
    """The last resort: renders still unfinished long after any render ends
    (their job was lost outright) are asked for again. Returns how many."""
    cutoff = utcnow() - STUCK_AFTER
    stuck = session.exec(
        select(Build)
        .where(col(Build.booklet_status).in_(("queued", "rendering")), col(Build.updated_at) < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for build in stuck:
        _reclaim(
            session,
            build,
            again=True,
            message=f"The booklet render did not finish (still {build.booklet_status}): queued again",
        )
        builds.request_booklets(session, build)
    return len(stuck)


def generate(tenant_id: uuid.UUID | str, build_id: uuid.UUID | str) -> str:
    """The job: rendering → ready (old PDFs replaced) or failed with the reason."""
    from app.platform.db import tenant_session

    tasks.release_once(render_key(build_id))  # a request from now on queues the next render
    with tenant_session(tenant_id) as s:
        build = builds.get_build(s, build_id, lock=True)
        build.booklet_status, build.booklet_error, build.updated_at = "rendering", "", utcnow()
        s.add(build)
        live.notify_after_commit(s, "builds", buildId=str(build.id))
        s.commit()
    try:
        with tenant_session(tenant_id) as s:
            build = builds.get_build(s, build_id)
            pdfs = render(s, build)
            order = orders.get_order(s, build.order_id)
    except Exception as exc:  # recorded on the build with the reason
        _fail(tenant_id, build_id, f"{type(exc).__name__}: {exc}")
        return "failed"
    with tenant_session(tenant_id) as s:
        build = builds.get_build(s, build_id, lock=True)
        store = storage.for_tenant(build.tenant_id)
        old = [build.quick_start_booklet_id, build.technical_dossier_booklet_id]
        new_ids = []
        for _kind, data, name in (
            ("quick_start", pdfs.quick_start, "Quick-Start-Guide"),
            ("dossier", pdfs.dossier, "Technical-Dossier"),
        ):
            key = f"builds/booklets/{build.id}/{name}-{uuid.uuid4().hex[:8]}.pdf"
            store.put(key, data, "application/pdf")
            att = Attachment(
                tenant_id=build.tenant_id,
                kind="booklet",
                key=key,
                filename=f"{name}-{order.number.strip('#')}.pdf",
                content_type="application/pdf",
                size=len(data),
            )
            s.add(att)
            new_ids.append(att.id)
        build.quick_start_booklet_id, build.technical_dossier_booklet_id = new_ids
        build.booklet_status, build.booklet_error, build.updated_at = "ready", "", utcnow()
        s.add(build)
        for att_id in old:
            if att_id and (att := s.get(Attachment, att_id)) is not None:
                store.delete(att.key)
                s.delete(att)
        builds.log(s, build, "info", "Booklets ready: Quick Start Guide and Technical Dossier")
        s.commit()
    return "ready"


def _fail(tenant_id, build_id, reason: str) -> None:
    from app.platform.db import tenant_session

    with tenant_session(tenant_id) as s:
        build = builds.get_build(s, build_id, lock=True)
        build.booklet_status, build.booklet_error = "failed", reason[:2000]
        s.add(build)
        builds.log(s, build, "issue", f"Booklet generation failed: {reason}", severity="error")
        s.commit()
