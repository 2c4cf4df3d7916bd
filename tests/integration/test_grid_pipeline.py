"""Gridfinity on demand (issue 16): an order line for a custom baseplate
goes from the Shopify webhook to print jobs on SimplyPrint with no human
step (real mesh generation, real PrusaSlicer); a failing slicer fails the
line at "slicing" and a retry completes it without generating again; bad
drawers are line problems; the feature flag off leaves grid SKUs to the
normal mapping lookup; redelivery and identical orders cost nothing; unused
jobs expire and their pieces are cleaned up."""

from __future__ import annotations

import shutil
import stat
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from app.api import create_api
from app.grid import service
from app.grid.geometry import mesh as geometry
from app.grid.models import GridArtifact, GridJob
from app.integrations import slicer
from app.orders.models import LineItem, Order
from app.platform import auth, storage
from app.platform.db import tenant_session
from app.platform.models import EventLog, Notification, Outbox, RetryEntry, utcnow
from app.platform.tasks import queue
from app.printing import service as printing
from app.printing.models import AssemblyPart, PrintJob, ProductMapping
from standins import shopify as shopify_standin
from standins.simplyprint import SimplyPrintStandin
from tests.factories import PASSWORD, staff_principal
from tests.integration.orders_helpers import connect_tenant
from tests.integration.printing_helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "grid"
HELD_OUT_SKU = "GRID-CUSTOM-4x3-MAG-IP"
DRAWER = [
    {"name": "Drawer width (mm)", "value": "371"},
    {"name": "Drawer depth (mm)", "value": "254"},
    {"name": "Magnets", "value": "press-fit"},
]
SLOW = 900  # s: the worker slices real pieces


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def sp_standin():
    with SimplyPrintStandin(speed=50.0) as sp:
        yield sp


def _shop(api, *, enabled: bool = True, simplyprint: SimplyPrintStandin | None = None, **settings):
    shop = connect_tenant(api)
    admin = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
    with tenant_session(shop.tenant.id) as s:
        current = service.grid_settings(s)
        current.enabled = enabled
        current.print_settings = {"printer": "bambu-a1"}  # the 256 × 256 mm bed
        for key, value in settings.items():
            setattr(current, key, value)
        service.save_grid_settings(s, current, actor=admin)
        if simplyprint is not None:
            printing.connect(
                s,
                company_id=simplyprint.company_id,
                api_key=simplyprint.api_key,
                webhook_secret=SECRET,
                api_base_url=simplyprint.base_url,
                files_base_url=simplyprint.files_url,
                actor=admin,
            )
        s.commit()
    return shop


def _order_payload(n: int, sku: str = HELD_OUT_SKU, properties: list[dict] | None = None) -> dict:
    payload = shopify_standin.make_order(n, skus=[(sku, 1, "Gridfinity baseplate")])
    payload["line_items"][0]["properties"] = DRAWER if properties is None else properties
    return payload


def _post(shop, payload: dict) -> uuid.UUID:
    r = shop.webhook("orders/create", payload)
    assert r.status_code == 200, r.text
    with tenant_session(shop.tenant.id) as s:
        return s.exec(select(Order.id).where(Order.shopify_order_id == str(payload["id"]))).one()


def _jobs(tenant_id, order_id=None) -> list[GridJob]:
    with tenant_session(tenant_id) as s:
        q = select(GridJob).where(col(GridJob.parent_id).is_(None)).order_by(col(GridJob.created_at))
        if order_id is not None:
            q = q.where(GridJob.order_id == order_id)
        return list(s.exec(q))


def _line(tenant_id, order_id) -> LineItem:
    with tenant_session(tenant_id) as s:
        return s.exec(select(LineItem).where(LineItem.order_id == order_id)).one()


def _print_jobs(tenant_id, order_id) -> list[PrintJob]:
    with tenant_session(tenant_id) as s:
        return list(s.exec(select(PrintJob).where(PrintJob.order_id == order_id).order_by(col(PrintJob.sequence))))


def _events(tenant_id, event_type: str) -> list[dict]:
    with tenant_session(tenant_id) as s:
        rows = s.exec(select(Outbox).where(Outbox.event_type == event_type).order_by(col(Outbox.created_at)))
        return [r.payload for r in rows]


def _count(tenant_id, model, *where) -> int:
    with tenant_session(tenant_id) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


class _Counter:
    """Counts calls of a function it wraps (mesh generation, slicing)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


# --- the held-out order ---------------------------------------------------------------------------


def test_a_shopify_order_for_a_drawer_becomes_print_jobs_on_simplyprint_with_no_human_step(api, worker, sp_standin):
    shop = _shop(api, simplyprint=sp_standin)
    order_id = _post(shop, _order_payload(71))
    worker(timeout=SLOW)

    (job,) = _jobs(shop.tenant.id, order_id)
    assert job.status == "COMPLETED", (job.failed_step, job.error)
    assert job.origin == "order" and job.sku == HELD_OUT_SKU and job.progress == 100
    assert job.steps_done == list(service.ORDER_STEPS)
    assert job.type == "PLATE_SET" and job.segment_count >= 2  # 371 mm does not fit a 256 mm bed
    assert job.parameters["drawer_width_mm"] == 371 and job.parameters["magnets"] == "press-fit"
    assert job.parameters["bed_width_mm"] == 256 and job.filament_g and job.filament_g > 0

    with tenant_session(shop.tenant.id) as s:
        (mapping,) = s.exec(select(ProductMapping)).all()
        parts = printing.parts(s, mapping.id)
        pieces = list(s.exec(select(GridArtifact)))
    assert mapping.id == job.product_mapping_id
    assert mapping.name == "Gridfinity baseplate 371 × 254 mm, magnets"
    assert len(parts) == job.segment_count
    assert parts[0].part_name.startswith(f"Segment 1 of {job.segment_count} (shape ")
    for part in parts:  # the G-code's grams and time, and the file SimplyPrint has
        assert part.estimated_filament_g and part.estimated_filament_g > 0
        assert part.estimated_minutes and part.estimated_minutes > 0
        assert part.simplyprint_file_id in sp_standin.files and part.file_key
    assert len(pieces) == job.unique_shapes  # each shape generated and sliced once
    assert all(p.filament_g and p.print_seconds and p.gcode_bytes for p in pieces)

    prints = _print_jobs(shop.tenant.id, order_id)
    assert len(prints) == job.segment_count  # one print job per segment
    assert {p.assembly_part_id for p in prints} == {p.id for p in parts}
    queued = {i["id"] for i in sp_standin.queue_snapshot()}
    assert all(p.simplyprint_queue_item_id in queued for p in prints)
    line = _line(shop.tenant.id, order_id)
    assert line.status == "PRINTING" and line.problem == "" and line.total_parts == job.segment_count

    ready = _events(shop.tenant.id, service.MAPPING_READY)
    assert [(e["orderId"], e["lineItemId"], e["sku"]) for e in ready] == [(str(order_id), str(line.id), HELD_OUT_SKU)]

    # look at the plates
    with tenant_session(shop.tenant.id) as s:
        png = service.preview_png(s, job.id)
        name, data = service.job_file(s, job.id, "3mf")
    assert png.startswith(b"\x89PNG") and data.startswith(b"PK") and name.endswith(".3mf")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "held-out-order-371x254.png").write_bytes(png)


# --- a failing slicer, then a retry ---------------------------------------------------------------


def _failing_slicer(tmp_path: Path) -> Path:
    script = tmp_path / "prusa-slicer"
    script.write_text("#!/bin/sh\necho 'Error: the slicer fell over (simulated)' >&2\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_failing_slicer_fails_the_line_at_slicing_and_a_retry_completes_it(api, worker, monkeypatch, tmp_path):
    shop = _shop(api)  # manual mode: the files wait for the submission
    monkeypatch.setenv("SLICER_BIN", str(_failing_slicer(tmp_path)))
    generated = _Counter(geometry.segment_mesh)
    monkeypatch.setattr(geometry, "segment_mesh", generated)
    order_id = _post(shop, _order_payload(72, properties=[*DRAWER[:2], {"name": "Magnets", "value": "no"}]))
    worker(timeout=SLOW)  # the run and every retry-queue attempt fail; the queue gives up

    (job,) = _jobs(shop.tenant.id, order_id)
    assert job.status == "FAILED" and job.failed_step == "slicing"
    assert "slicer" in job.error.lower() and len(job.error) < 400
    assert job.steps_done == ["stl-generation"] and job.needs_attention
    made = generated.calls
    assert made == job.unique_shapes
    line = _line(shop.tenant.id, order_id)
    assert line.status == "FAILED" and line.problem.startswith("Gridfinity baseplate failed while slicing: ")
    with tenant_session(shop.tenant.id) as s:
        order = s.get(Order, order_id)
        entries = list(s.exec(select(RetryEntry).where(RetryEntry.job_type == "GRIDFLOCK_PIPELINE")))
        told = s.exec(select(func.count()).select_from(Notification).where(Notification.order_id == order_id)).one()
    assert order is not None and any("failed while slicing" in p for p in order.problems)
    assert [(e.status, e.needs_attention) for e in entries] == [("FAILED", True)] and told >= 1
    failed = _events(shop.tenant.id, service.PIPELINE_FAILED)
    assert failed and {e["failedStep"] for e in failed} == {"slicing"}
    assert failed[0]["orderId"] == str(order_id) and failed[0]["lineItemId"] == str(line.id)
    assert failed[0]["sku"] == HELD_OUT_SKU and failed[0]["errorMessage"] == job.error
    assert _print_jobs(shop.tenant.id, order_id) == []

    monkeypatch.delenv("SLICER_BIN")  # the slicer is mended
    with tenant_session(shop.tenant.id) as s:
        service.retry_job(s, job.id, actor=staff_principal(shop.tenant))
        s.commit()
    worker(timeout=SLOW)

    (job,) = _jobs(shop.tenant.id, order_id)
    assert job.status == "COMPLETED" and job.steps_done == list(service.ORDER_STEPS)
    assert generated.calls == made  # not generated again
    assert job.note.startswith("Not uploaded: no SimplyPrint connection")
    line = _line(shop.tenant.id, order_id)
    assert line.status == "PRINTING" and line.problem == ""
    with tenant_session(shop.tenant.id) as s:
        order = s.get(Order, order_id)
        entries = list(s.exec(select(RetryEntry).where(RetryEntry.job_type == "GRIDFLOCK_PIPELINE")))
    assert order is not None and not any("Gridfinity" in p for p in order.problems)
    assert all(not e.needs_attention for e in entries)
    assert len(_print_jobs(shop.tenant.id, order_id)) == job.segment_count


def test_a_slicer_that_fails_once_is_mended_by_the_retry_queue_with_no_person(api, worker, monkeypatch, tmp_path):
    real = shutil.which("prusa-slicer")
    assert real, "PrusaSlicer is installed by make"
    script = tmp_path / "prusa-slicer-once"
    marker = tmp_path / "fell-over"
    script.write_text(
        f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; "
        "echo 'Error: the slicer fell over (simulated)' >&2; exit 1; fi\n"
        f'exec "{real}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("SLICER_BIN", str(script))
    shop = _shop(api)
    order_id = _post(shop, _order_payload(79, sku="GRID-CUSTOM", properties=SMALL))
    worker(timeout=SLOW)  # the run fails at slicing; the retry queue's attempt completes it

    (job,) = _jobs(shop.tenant.id, order_id)
    assert marker.exists()  # it did fall over once
    assert job.status == "COMPLETED" and job.steps_done == list(service.ORDER_STEPS) and not job.needs_attention
    assert _line(shop.tenant.id, order_id).status == "PRINTING"
    with tenant_session(shop.tenant.id) as s:
        entries = list(s.exec(select(RetryEntry).where(RetryEntry.job_type == "GRIDFLOCK_PIPELINE")))
        order = s.get(Order, order_id)
    assert len(entries) == 1 and entries[0].status == "COMPLETED" and not entries[0].needs_attention
    assert order is not None and not any("Gridfinity" in p for p in order.problems)  # nothing left to mend
    assert {e["failedStep"] for e in _events(shop.tenant.id, service.PIPELINE_FAILED)} == {"slicing"}
    assert len(_print_jobs(shop.tenant.id, order_id)) == 1


# --- bad drawers, flag off ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "words"),
    [
        ([{"name": "Drawer width (mm)", "value": "wide"}, DRAWER[1]], "drawer width"),
        ([{"name": "Drawer width (mm)", "value": "2400"}, DRAWER[1]], "maximum"),
    ],
)
def test_a_drawer_that_does_not_read_or_is_too_large_is_a_line_problem_and_no_job(api, worker, properties, words):
    shop = _shop(api, max_dimension_mm=1000.0)
    order_id = _post(shop, _order_payload(73, properties=properties))
    worker()
    assert _jobs(shop.tenant.id, order_id) == []
    line = _line(shop.tenant.id, order_id)
    assert line.status == "FAILED" and words in line.problem.lower()
    assert line.problem.startswith("Gridfinity baseplate: ") and "no print mapping" not in line.problem
    with tenant_session(shop.tenant.id) as s:
        order = s.get(Order, order_id)
    assert order is not None and len(order.problems) == 1 and words in order.problems[0].lower()
    assert _print_jobs(shop.tenant.id, order_id) == []


def test_with_the_flag_off_a_grid_sku_is_a_regular_product(api, worker):
    shop = _shop(api, enabled=False)
    order_id = _post(shop, _order_payload(74))
    worker()
    assert _jobs(shop.tenant.id, order_id) == []
    line = _line(shop.tenant.id, order_id)
    assert line.problem == f"no print mapping for SKU {HELD_OUT_SKU}"  # printing's own lookup

    with tenant_session(shop.tenant.id) as s:  # a mapping for the SKU prints as any product
        actor = staff_principal(shop.tenant)
        mapping = printing.create_mapping(s, sku="GRID-CUSTOM-2x2", name="Stock baseplate 2×2", actor=actor)
        printing.add_part(s, mapping.id, part_name="Plate", actor=actor)
        s.commit()
    order_id = _post(shop, _order_payload(75, sku="GRID-CUSTOM-2x2"))
    worker()
    assert _jobs(shop.tenant.id, order_id) == [] and len(_print_jobs(shop.tenant.id, order_id)) == 1


# --- idempotency and the cache ----------------------------------------------------------------------


SMALL = [
    {"name": "Drawer width (mm)", "value": "90"},
    {"name": "Drawer depth (mm)", "value": "90"},
    {"name": "Magnets", "value": "no"},
]


def test_redelivery_makes_no_second_job_and_an_identical_order_slices_nothing(api, worker, monkeypatch):
    shop = _shop(api)
    first = _post(shop, _order_payload(76, sku="GRID-CUSTOM", properties=SMALL))
    worker(timeout=SLOW)
    (job,) = _jobs(shop.tenant.id, first)
    assert job.status == "COMPLETED" and job.type == "BASEPLATE" and job.segment_count == 1
    assert len(_print_jobs(shop.tenant.id, first)) == 1

    with tenant_session(shop.tenant.id) as s:  # order.created again (a redelivery, or GenerateForOrder by hand)
        again = service.generate_for_order(s, first)
        s.commit()
    assert [(o.outcome, o.job_id) for o in again] == [("exists", job.id)]
    r = shop.client.post("/api/v1/grid/generate-for-order", json={"orderId": str(first)})
    assert r.status_code == 202 and r.json()["lines"][0]["outcome"] == "exists"
    worker()
    assert len(_jobs(shop.tenant.id, first)) == 1 and len(_print_jobs(shop.tenant.id, first)) == 1

    sliced = _Counter(service.pipeline.artifacts.slicer.slice_stl)
    monkeypatch.setattr(service.pipeline.artifacts.slicer, "slice_stl", sliced)
    # the same drawer, asked for another printer: the shop's printer makes it, and the order says so
    second = _post(
        shop, _order_payload(77, sku="GRID-CUSTOM", properties=[*SMALL, {"name": "Printer", "value": "Prusa MK4"}])
    )
    worker(timeout=SLOW)
    (twin,) = _jobs(shop.tenant.id, second)
    assert twin.status == "COMPLETED" and twin.product_mapping_id == job.product_mapping_id
    with tenant_session(shop.tenant.id) as s:
        said = s.exec(
            select(EventLog.message).where(EventLog.order_id == second, EventLog.event_type == "grid.printer-replaced")
        ).all()
    assert len(said) == 1 and "250 × 220 mm bed" in said[0] and "the shop's printer" in said[0], said
    assert sliced.calls == 0 and "made before" in twin.note
    assert _count(shop.tenant.id, GridArtifact) == 1 and _count(shop.tenant.id, ProductMapping) == 1
    assert len(_print_jobs(shop.tenant.id, second)) == 1

    with tenant_session(shop.tenant.id) as s:  # GetMappingStatus
        status = service.mapping_status(s, "GRID-CUSTOM", {"Drawer width (mm)": "90", "Drawer depth (mm)": "90"})
        other = service.mapping_status(s, "GRID-CUSTOM-3x3")
    assert status.exists and status.product_mapping_id == job.product_mapping_id
    assert not other.exists


def test_a_plate_set_of_25_pieces_in_9_shapes_is_meshed_and_sliced_9_times(api, worker, monkeypatch):
    shop = _shop(api, max_dimension_mm=2000.0)
    meshed, sliced = _Counter(geometry.segment_mesh), []

    def fake_slice(stl: bytes, profile, **kwargs) -> slicer.SliceResult:
        sliced.append(len(stl))  # the slicer's own run is another test's: here only how often it is asked
        return slicer.SliceResult(b"; generated by PrusaSlicer\n", 42.0, 14000.0, 7200, 0.1)

    monkeypatch.setattr(geometry, "segment_mesh", meshed)
    monkeypatch.setattr(service.pipeline.artifacts.slicer, "slice_stl", fake_slice)
    with tenant_session(shop.tenant.id) as s:
        options = service.grid_settings(s).options(drawer_width_mm=600, drawer_depth_mm=1941)
        job = service.start_job(s, options, actor=staff_principal(shop.tenant))
        s.commit()
    worker(timeout=SLOW)
    with tenant_session(shop.tenant.id) as s:
        done = s.get(GridJob, job.id)
        assert done is not None and done.status == "COMPLETED", done and done.error
        assert done.segment_count == 25
        pieces = s.exec(select(GridJob).where(GridJob.parent_id == job.id)).all()
    assert len(pieces) == 25 and len({p.artifact_id for p in pieces}) == 9  # 25 pieces, 9 shapes
    assert meshed.calls == 9 and len(sliced) == 9  # … one mesh and one slice per shape
    assert _count(shop.tenant.id, GridArtifact) == 9


def test_a_staff_job_shares_pieces_with_an_order_and_expires_unused(api, worker):
    shop = _shop(api, expiry_hours=2)
    actor = staff_principal(shop.tenant)
    with tenant_session(shop.tenant.id) as s:
        options = service.grid_settings(s).options(drawer_width_mm=90, drawer_depth_mm=90)
        staff = service.start_job(s, options, actor=actor)
        plain = service.start_job(
            s, service.grid_settings(s).options(drawer_width_mm=130, drawer_depth_mm=90), actor=actor
        )
        s.commit()
    worker(timeout=SLOW)
    _post(shop, _order_payload(78, sku="GRID-CUSTOM", properties=SMALL))  # the same plate as `staff`
    worker(timeout=SLOW)
    jobs = {j.id: j for j in _jobs(shop.tenant.id)}
    assert jobs[staff.id].status == jobs[plain.id].status == "COMPLETED"
    assert jobs[staff.id].expires_at is not None and jobs[staff.id].steps_done == list(service.PREVIEW_STEPS)
    assert _count(shop.tenant.id, GridArtifact) == 2  # the order used the staff job's piece

    with tenant_session(shop.tenant.id) as s:  # nothing is due yet
        assert service.expire_unused(s).expired_jobs == 0
        for job in s.exec(select(GridJob)):
            job.created_at -= timedelta(hours=3)
            if job.expires_at:
                job.expires_at -= timedelta(hours=3)
            s.add(job)
        for piece in s.exec(select(GridArtifact)):
            piece.last_used_at = utcnow() - timedelta(hours=3)
            s.add(piece)
        s.commit()
    with tenant_session(shop.tenant.id) as s:
        pieces = {p.id: p for p in s.exec(select(GridArtifact))}
        result = service.expire_unused(s)
        s.commit()
    assert result.expired_jobs == 2 and result.deleted_pieces == 1
    jobs = {j.id: j for j in _jobs(shop.tenant.id)}
    assert jobs[staff.id].status == jobs[plain.id].status == "EXPIRED"
    assert next(j for j in jobs.values() if j.order_id).status == "COMPLETED"  # an order's job never expires
    store = storage.for_tenant(shop.tenant.id)
    with tenant_session(shop.tenant.id) as s:
        kept = list(s.exec(select(GridArtifact)))
        printed = set(s.exec(select(AssemblyPart.file_key)))
    assert len(kept) == 1 and kept[0].gcode_key in printed and store.exists(kept[0].gcode_key)
    gone = next(p for pid, p in pieces.items() if pid != kept[0].id)
    assert not store.exists(gone.gcode_key)
    with tenant_session(shop.tenant.id) as s, pytest.raises(Exception, match="expired"):
        service.retry_job(s, plain.id, actor=actor)


def test_a_storefront_order_runs_the_same_pipeline(api, worker):
    shop = _shop(api)
    with tenant_session(shop.tenant.id) as s:
        options = service.grid_settings(s).options(drawer_width_mm=90, drawer_depth_mm=90)
        price = service.quote_for(s, options).price
        order = service.place_storefront_order(
            s,
            options,
            customer_name="Grace Hopper",
            customer_email="grace@example.com",
            address={
                "name": "Grace Hopper",
                "street": "Keizersgracht",
                "houseNumber": "12",
                "postalCode": "1015 CJ",
                "city": "Amsterdam",
                "countryCode": "NL",
            },
            expected_price=price,
        )
        s.commit()
    assert order.total == price > Decimal("0")
    worker(timeout=SLOW)
    (job,) = _jobs(shop.tenant.id, order.id)
    assert job.status == "COMPLETED" and len(_print_jobs(shop.tenant.id, order.id)) == 1
    line = _line(shop.tenant.id, order.id)
    assert line.properties["Drawer width (mm)"] == "90" and line.sku.startswith("GRID-CUSTOM-")


# --- the demo -----------------------------------------------------------------------------------------


def test_the_demo_loads_once_through_the_services_with_every_state(worker):
    from app.grid import demo
    from tests.factories import make_tenant

    tenant = make_tenant("Demo Grid Shop")
    with tenant_session(tenant.id) as s:
        demo.load(s)
        demo.load(s)  # again: nothing changes
    jobs = _jobs(tenant.id)
    by_status = sorted(j.status for j in jobs)
    assert by_status == ["COMPLETED", "EXPIRED", "FAILED", "QUEUED"]
    failed = next(j for j in jobs if j.status == "FAILED")
    assert failed.failed_step == "slicing" and "tall" in failed.error and failed.order_id
    done = next(j for j in jobs if j.status == "COMPLETED")
    assert done.order_id and len(_print_jobs(tenant.id, done.order_id)) == 1
    with tenant_session(tenant.id) as s:
        assert service.grid_settings(s).enabled and {"Demo Shop: desk drawer", "Workshop tool drawer"} <= {
            p.name for p in service.list_presets(s)
        }
    queue("slicing").empty()  # the big staff job is make dev's worker's to slice, not this test's
    worker(timeout=SLOW)  # the failed one's retries fail the same way; the queue asks a person
    failed = next(j for j in _jobs(tenant.id) if j.id == failed.id)
    assert failed.status == "FAILED" and failed.needs_attention


def test_a_run_that_died_with_its_worker_never_stays_processing(api, worker):
    shop = _shop(api)
    with tenant_session(shop.tenant.id) as s:
        options = service.grid_settings(s).options(drawer_width_mm=90, drawer_depth_mm=90)
        job = service.start_job(s, options, actor=staff_principal(shop.tenant))
        s.commit()
    queue("slicing").empty()  # its queued run is "lost"

    def status(**changes) -> GridJob:
        with tenant_session(shop.tenant.id) as s:
            row = s.get(GridJob, job.id)
            assert row is not None
            for key, value in changes.items():
                setattr(row, key, value)
            s.add(row)
            s.commit()
            s.refresh(row)
            return row

    status(status="PROCESSING", step="slicing")
    service.pipeline_abandoned(shop.tenant.id, job.id, retrying=True)  # RQ runs it again
    assert status().status == "QUEUED" and "worker stopped while slicing" in status().note
    status(status="PROCESSING")
    service.pipeline_abandoned(shop.tenant.id, job.id, retrying=False)  # no retry left
    failed = status()
    assert failed.status == "FAILED" and failed.failed_step == "slicing" and "stopped mid-way" in failed.error

    # cron's last resort: a run lost outright is queued again, and runs
    status(status="PROCESSING", updated_at=utcnow() - timedelta(hours=1))
    with tenant_session(shop.tenant.id) as s:
        assert service.expire_unused(s).requeued_jobs == 1
        s.commit()
    worker(timeout=SLOW)
    assert status().status == "COMPLETED"
