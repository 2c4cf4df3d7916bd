"""Repairs bulk upload (issue 17, seed S14): a CSV or XLSX sheet is checked row
by row with each problem named, applied by a real RQ worker in chunks with
progress, upserted by its natural key (a second sheet updates, never
duplicates), the same file is never applied twice, legacy repair codes become
`migrated` codes (unknown ones wait in the unmapped queue), spare parts land in
inventory with their stock, and the routes check their permissions."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import select

from app.api import create_api
from app.inventory.models import SparePart
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.repairs.models import AssetStatusChange, DeviceRepairCode, ExpectedDevice, RepairAsset, RepairImport
from app.repairs.service import imports
from jobs import repairs_imports
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_batch, make_client, make_device_model


def luhn(body: str) -> str:
    """A valid IMEI from its first 14 digits."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def imei(n: int) -> str:
    return luhn(f"35693803{n:06d}")


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def _shop():
    tenant = make_tenant("Bulk Upload Shop")
    admin = make_user(tenant, "admin")
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Northwind Insurance")
        make_device_model(s, "Apple", "iPhone 12")
        batch = make_batch(s, client, client_reference="RMA-118")
        s.commit()
        return tenant, admin, actor, batch.id


def _preview(tenant, actor, kind, name, data):
    with tenant_session(tenant.id) as s:
        p = imports.preview(s, kind, name, data, actor=actor)
        s.commit()
        return p


def _start(tenant, actor, upload_id):
    with tenant_session(tenant.id) as s:
        imports.start(s, upload_id, actor=actor)
        s.commit()


def _upload(tenant, upload_id) -> RepairImport:
    with tenant_session(tenant.id) as s:
        return imports.get_import(s, upload_id)


def test_a_sheet_is_checked_row_by_row_and_applied_by_a_worker(worker):
    tenant, _, actor, batch_id = _shop()
    sheet = (
        "batch;imei;model;condition;fault;declared value;status;codes\n"
        f"RMA-118;{imei(1)};iPhone 12;B;Cracked screen;320,00;received;SCR-REPL| BAT-REPL\n"
        f"RMA-118;{imei(2)};iPhone 12;A;Battery;;in_triage;LEGACY-77\n"
        "RMA-118;356938035643801;iPhone 12;A;;;;\n"  # a wrong check digit
        f"RMA-999;{imei(3)};;;;;;\n"  # no such batch
        f"RMA-118;{imei(4)};Nokia 3310;;;;;\n"  # no such model
        f"RMA-118;{imei(1)};;;;;;\n"  # the first device again
    )
    p = _preview(tenant, actor, "assets", "legacy.csv", sheet.encode())
    assert (p.upload.total_rows, p.upload.error_rows, p.upload.status) == (6, 4, "previewed")
    problems = {(e.row, e.field) for e in p.errors}
    assert {(4, "imei"), (5, "batch"), (6, "model"), (7, "")} <= problems
    assert any("check digit" in e.message or "IMEI" in e.message for e in p.errors if e.row == 4)

    _start(tenant, actor, p.upload.id)
    assert _upload(tenant, p.upload.id).status == "queued"
    worker()
    done = _upload(tenant, p.upload.id)
    assert (done.status, done.created_rows, done.updated_rows, done.processed_rows) == ("done", 2, 0, 6)

    with tenant_session(tenant.id) as s:
        assets = {a.imei: a for a in s.exec(select(RepairAsset).where(RepairAsset.batch_id == batch_id))}
        assert set(assets) == {imei(1), imei(2)}
        first = assets[imei(1)]
        assert first.number.startswith("AS-") and first.condition == "B" and first.declared_value == Decimal("320.00")
        assert assets[imei(2)].status == "in_triage"
        history = s.exec(select(AssetStatusChange).where(AssetStatusChange.asset_id == first.id)).all()
        assert [(h.from_status, h.to_status) for h in history] == [("", "received")]
        codes = s.exec(select(DeviceRepairCode).where(DeviceRepairCode.source == "migrated")).all()
        assert len(codes) == 3
        unknown = [c for c in codes if c.repair_code_id is None]
        assert [c.drfone_code for c in unknown] == ["LEGACY-77"]  # waits in the unmapped queue

    # the same file again is the same upload, and applying it again changes nothing
    again = _preview(tenant, actor, "assets", "legacy-copy.csv", sheet.encode())
    assert again.duplicate and again.upload.id == p.upload.id
    _start(tenant, actor, p.upload.id)
    assert _upload(tenant, p.upload.id).status == "done"

    # a corrected sheet updates the known devices (natural key: the IMEI in its batch)
    fix = f"batch,imei,fault,codes\nRMA-118,{imei(1)},Cracked screen and back,SCR-REPL\nRMA-118,{imei(5)},New one,\n"
    p2 = _preview(tenant, actor, "assets", "fix.csv", fix.encode())
    _start(tenant, actor, p2.upload.id)
    worker()
    done2 = _upload(tenant, p2.upload.id)
    assert (done2.created_rows, done2.updated_rows) == (1, 1)
    with tenant_session(tenant.id) as s:
        rows = s.exec(select(RepairAsset).where(RepairAsset.imei == imei(1))).all()
        assert len(rows) == 1 and rows[0].fault == "Cracked screen and back"
        assert len(s.exec(select(DeviceRepairCode).where(DeviceRepairCode.asset_id == rows[0].id)).all()) == 2


def test_xlsx_batches_with_manifest_lines_and_spare_parts(worker):
    tenant, _, actor, _ = _shop()
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Client", "Client reference", "Expected count", "Expected on", "IMEI", "Model", "Fault"])
    ws.append(["Northwind Insurance", "RMA-200", 3, "2026-12-03", int(imei(10)), "iPhone 12", "Screen"])
    ws.append(["Northwind Insurance", "RMA-200", None, None, int(imei(11)), "iPhone 12", "Battery"])
    ws.append(["Nobody Ltd", "X-1", 1, None, None, None, None])
    buf = io.BytesIO()
    book.save(buf)
    p = _preview(tenant, actor, "batches", "manifest.xlsx", buf.getvalue())
    assert p.upload.error_rows == 1 and "no client called 'Nobody Ltd'" in p.errors[0].message
    _start(tenant, actor, p.upload.id)
    worker()
    assert _upload(tenant, p.upload.id).created_rows == 1
    with tenant_session(tenant.id) as s:
        lines = s.exec(select(ExpectedDevice)).all()
        assert sorted(d.imei for d in lines) == sorted([imei(10), imei(11)])  # IMEIs read from number cells

    parts = "sku,name,category,unit cost,stock,minimum stock,compatible models\n"
    parts += "SCR-IP12,iPhone 12 screen,screen,89.50,12,4,iPhone 12;iPhone 12 Pro\n"
    parts += "BAT-IP12,iPhone 12 battery,battery,x,3,1,\n"
    p = _preview(tenant, actor, "parts", "parts.csv", parts.encode())
    assert p.upload.error_rows == 1 and p.errors[0].field == "unit_cost"
    _start(tenant, actor, p.upload.id)
    worker()
    with tenant_session(tenant.id) as s:
        part = s.exec(select(SparePart).where(SparePart.sku == "SCR-IP12")).one()
        assert (part.current_stock, part.minimum_stock, part.unit_cost) == (12, 4, Decimal("89.50"))
        assert part.compatible_models == ["iPhone 12", "iPhone 12 Pro"]


def test_bad_files_get_clear_errors():
    tenant, _, actor, _ = _shop()
    with tenant_session(tenant.id) as s:
        for kind, name, data, words in (
            ("assets", "a.csv", b"", "empty"),
            ("assets", "a.pdf", b"%PDF-1.7", ".csv or .xlsx"),
            ("assets", "a.csv", b"\xff\xfe\x00b\x00", "UTF-8"),
            ("assets", "a.csv", b"model,fault\nx,y\n", "missing: batch"),
            ("assets", "a.xlsx", b"PK\x03\x04broken", "readable .xlsx"),
            ("things", "a.csv", b"a\n1\n", "not something to upload"),
        ):
            with pytest.raises(ValidationFailed) as err:
                imports.preview(s, kind, name, data, actor=actor)
            assert words in err.value.message


def test_an_upload_whose_worker_died_for_good_says_so_and_can_start_again(worker):
    tenant, _, actor, _ = _shop()
    p = _preview(tenant, actor, "assets", "one.csv", f"batch,imei\nRMA-118,{imei(30)}\n".encode())
    with tenant_session(tenant.id) as s:
        u = imports.get_import(s, p.upload.id, lock=True)
        u.status = "running"
        s.commit()
    repairs_imports._abandoned(str(tenant.id), str(p.upload.id), retrying=False)
    failed = _upload(tenant, p.upload.id)
    assert failed.status == "failed" and "start it again" in failed.error
    _start(tenant, actor, p.upload.id)
    worker()
    assert _upload(tenant, p.upload.id).status == "done"


def test_routes_check_permissions_and_inputs(api):
    tenant, _, _, _ = _shop()
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    files = {"file": ("one.csv", f"batch,imei\nRMA-118,{imei(40)}\n".encode(), "text/csv")}
    assert viewer.post("/api/v1/repairs/imports?kind=assets", files=files).status_code == 403
    r = operator.post("/api/v1/repairs/imports?kind=assets", files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["totalRows"] == 1 and body["errorRows"] == 0 and body["duplicate"] is False
    assert operator.post("/api/v1/repairs/imports?kind=nope", files=files).status_code == 422
    bad = {"file": ("x.csv", b"", "text/csv")}
    r = operator.post("/api/v1/repairs/imports?kind=assets", files=bad)
    assert r.status_code == 422 and "empty" in r.json()["error"]["message"]
    assert viewer.get(f"/api/v1/repairs/imports/{body['id']}").json()["status"] == "previewed"
    assert viewer.get(f"/api/v1/repairs/imports/{uuid.uuid4()}").status_code == 404
    t = viewer.get("/api/v1/repairs/imports/templates/assets.csv")
    assert t.status_code == 200 and t.text.startswith("batch,imei")
    other = _client(api, make_tenant("Other Upload Shop"), "admin")
    assert other.get(f"/api/v1/repairs/imports/{body['id']}").status_code == 404  # another shop's upload


def test_an_upload_whose_job_was_lost_is_queued_again_by_the_sweep_and_applied_once(worker, monkeypatch):
    from datetime import timedelta

    from app.platform import tasks
    from app.platform.models import utcnow

    tenant, _, actor, _ = _shop()
    p = _preview(tenant, actor, "assets", "lost.csv", f"batch,imei\nRMA-118,{imei(40)}\nRMA-118,{imei(41)}\n".encode())

    def queue_away(*args, **kwargs):
        raise ConnectionError("the queue is away")

    monkeypatch.setattr(tasks, "enqueue", queue_away)
    _start(tenant, actor, p.upload.id)  # committed; its job never reached the queue
    monkeypatch.undo()
    worker()
    assert _upload(tenant, p.upload.id).status == "queued"
    assert repairs_imports.sweep(str(tenant.id)) == {"requeued": 0}  # not yet: it may be waiting its turn

    with tenant_session(tenant.id) as s:
        u = imports.get_import(s, p.upload.id, lock=True)
        u.queued_at = utcnow() - timedelta(minutes=imports.STALE_QUEUED_MINUTES + 1)
        s.commit()
    assert repairs_imports.sweep(str(tenant.id)) == {"requeued": 1}
    worker()
    done = _upload(tenant, p.upload.id)
    assert (done.status, done.created_rows) == ("done", 2)
    assert repairs_imports.sweep(str(tenant.id)) == {"requeued": 0}


def test_a_late_duplicate_job_leaves_an_upload_another_job_is_applying_alone():
    tenant, _, actor, _ = _shop()
    p = _preview(tenant, actor, "assets", "twice.csv", f"batch,imei\nRMA-118,{imei(50)}\n".encode())
    with tenant_session(tenant.id) as s:
        u = imports.get_import(s, p.upload.id, lock=True)
        u.status, u.runner_job_id = "running", "the-first-job"
        s.commit()
    left = imports.apply(tenant.id, p.upload.id, job_id="a-late-copy")
    assert (left.status, left.runner_job_id, left.created_rows) == ("running", "the-first-job", 0)
    with tenant_session(tenant.id) as s:
        assert s.exec(select(RepairAsset).where(RepairAsset.imei == imei(50))).all() == []
    # the first job's own retry (its worker died) carries on
    done = imports.apply(tenant.id, p.upload.id, job_id="the-first-job")
    assert (done.status, done.created_rows) == ("done", 1)
