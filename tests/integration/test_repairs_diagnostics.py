"""Diagnostic logs (issue 17, seed S13 and S17 B1): an upload is one log
however often the same file comes; a worker reads it, matches the asset and
turns each failed code into a repair code on it (mapped codes at once,
`drfone_auto`; others wait in the unmapped queue); resolving a code maps it
and takes every waiting row of it out of the queue in one transaction, once
even when two people resolve it at the same moment; the report count
follows; another shop sees none of it; and one shop's 500-log import does
not hold up another shop's single log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app.api import create_api
from app.platform import tasks
from app.platform.db import tenant_session
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import Outbox
from app.repairs import drfone
from app.repairs.models import DeviceRepairCode, DiagnosticLog, DrfoneCodeMapping, RepairCode
from app.repairs.service import diagnostics as service
from app.settings import ROOT
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset

SAMPLE = {p.name: p.read_bytes() for p in drfone.sample_files()}
BASE = "/api/v1/repairs"


def log_text(imei: str, *faults: tuple[str, str], serial: str = "", tested: str = "2026-11-20T14:03:11Z") -> bytes:
    rows = "".join(f"{code},Part,FAIL,{message}\n" for code, message in faults)
    ids = f"IMEI: {imei}\n" if imei else ""
    ids += f"Serial: {serial}\n" if serial else ""
    return (
        f"Tool: Dr.Fone Toolkit 13.2.1\nTested: {tested}\nDevice: Apple iPhone 12\n{ids}OS: iOS 17.1\n\n"
        f"code,component,result,message\nDF-SCR-001,Display,PASS,ok\n{rows}"
    ).encode()


def canonical(code: str) -> uuid.UUID:
    with tenant_session(make_tenant().id) as s:  # any shop reads the canonical codes
        found = s.exec(select(RepairCode).where(RepairCode.code == code, col(RepairCode.tenant_id).is_(None))).one()
        return found.id


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def actor(tenant):
    return staff_principal(tenant)


def upload(tenant, actor, name: str, data: bytes, asset_id=None) -> service.Uploaded:
    with tenant_session(tenant.id) as s:
        done = service.upload(s, name, data, asset_id=asset_id, actor=actor)
        s.commit()
        return done


def parse_now(tenant, log_id) -> DiagnosticLog:
    """The job's body, here (tests that are not about the worker)."""
    with tenant_session(tenant.id) as s:
        row = service.parse_log(s, log_id)
        s.commit()
        return row


def rows_of(tenant, **where) -> list[DeviceRepairCode]:
    with tenant_session(tenant.id) as s:
        q = select(DeviceRepairCode)
        for k, v in where.items():
            q = q.where(getattr(DeviceRepairCode, k) == v)
        return list(s.exec(q.order_by(col(DeviceRepairCode.drfone_code))).all())


def new_asset(tenant, **fields):
    with tenant_session(tenant.id) as s:
        asset = make_asset(s, **fields)
        s.commit()
        return asset


# --- upload and the worker ----------------------------------------------------------------------


def test_the_same_file_twice_is_one_log_and_a_worker_reads_it_onto_the_asset(worker, tenant, actor):
    worker()
    asset = new_asset(tenant, imei="353912110123451", serial="F2LZK0XYN72J")
    first = upload(tenant, actor, "iphone12.txt", SAMPLE["iphone12_battery_port.txt"])
    assert not first.duplicate and first.log.status == "queued"
    again = upload(tenant, actor, "renamed.txt", SAMPLE["iphone12_battery_port.txt"])
    assert again.duplicate and again.log.id == first.log.id
    assert "already uploaded" in again.message
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).select_from(DiagnosticLog)).one() == 1

    worker()  # a real RQ worker runs the parse job (and the events it publishes)
    with tenant_session(tenant.id) as s:
        log = s.get(DiagnosticLog, first.log.id)
        assert log is not None
        assert (log.status, log.error) == ("parsed", "")
        assert log.asset_id == asset.id  # matched by IMEI
        assert (log.imei, log.serial, log.tool) == ("353912110123451", "F2LZK0XYN72J", "Dr.Fone Toolkit 13.2.1")
        assert (log.codes_found, log.mapped_count, log.unmapped_count) == (2, 0, 2)
        parsed_events = s.exec(select(Outbox).where(Outbox.event_type == "diagnostic-log.parsed")).all()
        assert [e.payload["unmapped"] for e in parsed_events] == [2]
    rows = rows_of(tenant, diagnostic_log_id=first.log.id)
    assert [(r.drfone_code, r.source, r.repair_code_id, r.asset_id) for r in rows] == [
        ("DF-BAT-012", "drfone", None, asset.id),
        ("DF-CHG-004", "drfone", None, asset.id),
    ]
    assert rows[1].drfone_message == "Charging current 0.2 A, expected 1.0 A or more"

    # a second run of the job changes nothing
    tasks.enqueue(service.PARSE_JOB, str(tenant.id), str(first.log.id), shop=tenant.id)
    worker()
    assert len(rows_of(tenant)) == 2
    assert parse_now(tenant, first.log.id).parsed_at == log.parsed_at


def test_a_mapped_code_becomes_a_repair_code_at_once(tenant, actor):
    asset = new_asset(tenant, imei="", serial="R58R31ABCDE")  # matched by serial
    bat = canonical("SCR-REPL")
    with tenant_session(tenant.id) as s:
        service.create_mapping(s, "DF-SCR-001", bat, actor=actor)
        s.commit()
    log = upload(tenant, actor, "galaxy.txt", SAMPLE["galaxy_s21_screen_fingerprint.txt"]).log
    parsed = parse_now(tenant, log.id)
    assert (parsed.asset_id, parsed.mapped_count, parsed.unmapped_count) == (asset.id, 1, 3)
    auto = rows_of(tenant, source="drfone_auto")
    assert [(r.drfone_code, r.repair_code_id, r.asset_id) for r in auto] == [("DF-SCR-001", bat, asset.id)]
    assert auto[0].mapped_at is not None
    with tenant_session(tenant.id) as s:
        codes = service.asset_codes(s, asset.id)
    assert [(c.row.drfone_code, c.repair_code) for c in codes] == [
        ("DF-SCR-001", "SCR-REPL"),
        ("DF-SCR-007", ""),
        ("DF-TCH-002", ""),
        ("DF-TID-003", ""),
    ]


def test_a_log_names_its_asset_or_waits_without_one(tenant, actor):
    named = new_asset(tenant)
    log = upload(tenant, actor, "pixel.txt", SAMPLE["pixel7_unknown_nfc_code.txt"], asset_id=named.id).log
    assert parse_now(tenant, log.id).asset_id == named.id  # the upload's choice wins
    stranger = upload(tenant, actor, "se.txt", SAMPLE["iphone_se_liquid_crlf.txt"]).log
    parsed = parse_now(tenant, stranger.id)
    assert parsed.asset_id is None and parsed.unmapped_count == 3  # no such device here yet: still queued
    with pytest.raises(NotFound):
        upload(tenant, actor, "x.txt", log_text("356789104561236", ("DF-X-1", "m")), asset_id=uuid.uuid4())


def test_files_that_are_not_logs_are_refused_or_fail_with_the_reason(tenant, actor):
    with pytest.raises(ValidationFailed, match="binary"):
        upload(tenant, actor, "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    with pytest.raises(ValidationFailed, match="UTF-8"):
        upload(tenant, actor, "latin.txt", "Device: Caf\u00e9".encode("latin-1"))
    with pytest.raises(ValidationFailed, match="at most 1 MB"):
        upload(tenant, actor, "big.txt", b"x" * (service.MAX_LOG_BYTES + 1))
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).select_from(DiagnosticLog)).one() == 0

    bad = upload(tenant, actor, "../../etc/malformed.txt", drfone.malformed_samples()[0].read_bytes()).log
    assert bad.filename == "malformed.txt"
    failed = parse_now(tenant, bad.id)
    assert failed.status == "failed"
    assert "line 6" in failed.error and "code,component,result,message" in failed.error
    assert parse_now(tenant, bad.id).status == "failed"  # a re-run changes nothing
    with tenant_session(tenant.id) as s, pytest.raises(Conflict, match="correct the export and upload it again"):
        service.retry_log(s, bad.id, actor=actor)  # the same bytes would fail the same way

    # a worker that stopped mid-way: queued again while its job retries, failed when it gave up
    good = upload(tenant, actor, "ipad.txt", SAMPLE["ipad_air_wifi_all_pass.txt"]).log
    with tenant_session(tenant.id) as s:
        assert service.start_parsing(s, good.id)
        s.commit()
    service.parse_abandoned(str(tenant.id), str(good.id), retrying=True)
    with tenant_session(tenant.id) as s:
        assert service.get_log(s, good.id).log.status == "queued"
    service.parse_abandoned(str(tenant.id), str(good.id), retrying=False)
    with tenant_session(tenant.id) as s:
        stopped = service.get_log(s, good.id)
        assert stopped.log.status == "failed" and stopped.retryable and "worker stopped" in stopped.log.error
        assert service.retry_log(s, good.id, actor=actor).status == "queued"
        s.commit()
    assert parse_now(tenant, good.id).status == "parsed"
    with tenant_session(tenant.id) as s, pytest.raises(Conflict, match="only a failed log"):
        service.retry_log(s, good.id, actor=actor)


# --- the queue and resolving --------------------------------------------------------------------


def test_resolve_maps_every_waiting_row_in_one_transaction(tenant, actor):
    assets = [new_asset(tenant) for _ in range(4)]
    for i, a in enumerate(assets):
        faults = [("DF-NFC-044", f"NFC controller timed out ({i})")] + ([("DF-VOL-002", "stuck")] if i == 0 else [])
        parse_now(tenant, upload(tenant, actor, f"{i}.txt", log_text(a.imei, *faults)).log.id)
    with tenant_session(tenant.id) as s:
        queue, total = service.unmapped_queue(s)
        assert (total, service.unmapped_count(s), service.unmapped_codes_count(s)) == (2, 5, 2)
    nfc = queue[0]
    assert (nfc.drfone_code, nfc.count, nfc.devices) == ("DF-NFC-044", 4, 4)
    assert len(nfc.examples) == 3 and set(nfc.examples) <= {a.number for a in assets}
    assert nfc.message.startswith("NFC controller timed out")
    assert queue[1].drfone_code == "DF-VOL-002" and queue[1].suggestion == "BTN-VOL"

    other = canonical("WIFI-BT")
    # a rolled-back resolve leaves no mapping and every row waiting
    with tenant_session(tenant.id) as s:
        assert service.resolve(s, "DF-NFC-044", other, actor=actor) == 4
        s.rollback()
    with tenant_session(tenant.id) as s:
        assert service.unmapped_count(s) == 5 and service.mapping_for(s, "DF-NFC-044") is None

    with tenant_session(tenant.id) as s:
        assert service.resolve(s, "df-nfc-044", other, actor=actor) == 4
        s.commit()
    with tenant_session(tenant.id) as s:  # the first log now waits on its volume code only
        first_log = service.list_logs(s, service.LogFilter(search=assets[0].number))[0][0]
        assert (first_log.mapped, first_log.waiting, first_log.log.unmapped_count) == (1, 1, 2)
    rows = rows_of(tenant, drfone_code="DF-NFC-044")
    assert {(r.source, r.repair_code_id) for r in rows} == {("drfone", other)}  # source stays drfone
    assert all(r.mapped_at for r in rows)
    with tenant_session(tenant.id) as s:
        queue, total = service.unmapped_queue(s)
        assert [w.drfone_code for w in queue] == ["DF-VOL-002"] and service.unmapped_count(s) == 1
        mapping = service.mapping_for(s, "DF-NFC-044")
        assert mapping is not None and mapping.description.startswith("NFC controller timed out")
        mapped = s.exec(select(Outbox).where(Outbox.event_type == "drfone-code.mapped")).all()
        assert [(e.payload["drfoneCode"], e.payload["applied"]) for e in mapped] == [("DF-NFC-044", 4)]
        # again, to the same repair code: nothing left to apply, no error
        assert service.resolve(s, "DF-NFC-044", other, actor=actor) == 0
        with pytest.raises(Conflict, match="mapped already, to WIFI-BT"):
            service.resolve(s, "DF-NFC-044", canonical("MIC"), actor=actor)
        with pytest.raises(Conflict, match="mapped already"):
            service.create_mapping(s, "DF-NFC-044", other, actor=actor)

    # a later log with the code is mapped at once
    later = parse_now(
        tenant, upload(tenant, actor, "later.txt", log_text("356789104561999", ("DF-NFC-044", "x"))).log.id
    )
    assert (later.mapped_count, later.unmapped_count) == (1, 0)


def test_two_resolves_of_one_code_at_once_make_one_mapping(tenant, actor):
    for i in range(6):
        parse_now(
            tenant, upload(tenant, actor, f"{i}.txt", log_text(f"35000000000{i:04d}", ("DF-HSG-009", "bent"))).log.id
        )
    code = canonical("HOUSING")
    barrier = threading.Barrier(2)
    results: list[int | Exception] = []

    def go(target, drfone_code="DF-HSG-009"):
        try:
            with tenant_session(tenant.id) as s:
                barrier.wait()
                results.append(service.resolve(s, drfone_code, target, actor=actor))
                s.commit()
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(code,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(r for r in results if isinstance(r, int)) == [0, 6]  # one applied all six, the other none
    assert len(results) == 2
    with tenant_session(tenant.id) as s:
        n = s.exec(select(func.count()).select_from(DrfoneCodeMapping)).one()
        assert n == 1 and service.unmapped_count(s) == 0

    # two people mapping a new code to different repair codes: one wins, the other hears 409
    for i in range(2):
        parse_now(
            tenant, upload(tenant, actor, f"b{i}.txt", log_text(f"35100000000{i:04d}", ("DF-PWR-100", "dead"))).log.id
        )
    results.clear()
    threads = [
        threading.Thread(target=go, args=(c, "DF-PWR-100")) for c in (canonical("PWR-IC"), canonical("LOGIC-BOARD"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"]
    assert 2 in results


def test_mappings_change_and_go_without_touching_rows_already_mapped(tenant, actor):
    a = new_asset(tenant)
    with tenant_session(tenant.id) as s:
        made = service.create_mapping(s, "DF-CAM-001", canonical("CAM-REAR"), description="Rear camera", actor=actor)
        s.commit()
    parse_now(tenant, upload(tenant, actor, "a.txt", log_text(a.imei, ("DF-CAM-001", "blurred"))).log.id)
    with tenant_session(tenant.id) as s:
        service.update_mapping(s, made.mapping.id, repair_code_id=canonical("CAM-FRONT"), actor=actor)
        s.commit()
        rows, total = service.list_mappings(s)
        assert total == 1 and (rows[0].repair_code, rows[0].applied) == ("CAM-FRONT", 1)
    assert rows_of(tenant)[0].repair_code_id == canonical("CAM-REAR")  # mapped before: kept
    with tenant_session(tenant.id) as s:
        assert service.delete_mapping(s, made.mapping.id, actor=actor) == "DF-CAM-001"
        s.commit()
    parse_now(tenant, upload(tenant, actor, "b.txt", log_text(a.imei, ("DF-CAM-001", "again"))).log.id)
    with tenant_session(tenant.id) as s:
        assert service.unmapped_count(s) == 1
        with pytest.raises(ValidationFailed, match="not a diagnostic code"):
            service.create_mapping(s, "df code!", canonical("MIC"), actor=actor)
        with pytest.raises(NotFound):
            service.create_mapping(s, "DF-MIC-001", uuid.uuid4(), actor=actor)
        known = {k.drfone_code: k for k in service.known_codes(s)}
        assert (known["DF-CAM-001"].seen, known["DF-CAM-001"].waiting, known["DF-CAM-001"].mapping_id) == (2, 1, None)


def test_legacy_codes_are_carried_over_once(tenant, actor):
    a, b = new_asset(tenant), new_asset(tenant)
    rows = [
        service.MigratedCode(a.id, "scr-repl"),
        service.MigratedCode(a.id, "BAT-REPL"),
        service.MigratedCode(b.id, "MIC"),
    ]
    with tenant_session(tenant.id) as s:
        assert service.add_migrated_codes(s, rows, actor=actor) == 3
        s.commit()
    with tenant_session(tenant.id) as s:
        assert service.add_migrated_codes(s, rows, actor=actor) == 0  # already there
        with pytest.raises(ValidationFailed, match="2 row") as exc:
            service.add_migrated_codes(
                s, [service.MigratedCode(a.id, "NOPE"), service.MigratedCode(uuid.uuid4(), "MIC")], actor=actor
            )
        assert exc.value.details["rows"] == {"1": "no repair code 'NOPE'", "2": "no such asset in this shop"}
    assert {r.source for r in rows_of(tenant)} == {"migrated"}


# --- another shop -------------------------------------------------------------------------------


def test_another_shop_sees_none_of_it_and_cannot_map_to_its_codes(tenant, actor):
    a = new_asset(tenant)
    log = upload(tenant, actor, "a.txt", log_text(a.imei, ("DF-BAT-012", "worn"))).log
    parse_now(tenant, log.id)
    with tenant_session(tenant.id) as s:
        own = RepairCode(tenant_id=tenant.id, code="OWN-CODE", name="A code of this shop only")
        s.add(own)
        service.create_mapping(s, "DF-X-001", own.id, actor=actor)
        s.commit()
    other = make_tenant()
    with tenant_session(other.id) as s:
        assert s.exec(select(func.count()).select_from(DiagnosticLog)).one() == 0
        assert s.exec(select(func.count()).select_from(DeviceRepairCode)).one() == 0
        assert s.exec(select(func.count()).select_from(DrfoneCodeMapping)).one() == 0
        assert service.unmapped_count(s) == 0 and service.unmapped_queue(s) == ([], 0)
        with pytest.raises(NotFound):
            service.get_log(s, log.id)
        with pytest.raises(NotFound):  # another shop's repair code does not exist here
            service.resolve(s, "DF-BAT-012", own.id, actor=staff_principal(other))
    # the same file in the other shop is a log of its own
    assert not upload(other, staff_principal(other), "a.txt", log_text(a.imei, ("DF-BAT-012", "worn"))).duplicate


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def test_the_api_uploads_lists_resolves_and_counts(worker, api, tenant):
    worker()
    asset = new_asset(tenant, imei="355447123456786")
    op, viewer = _client(api, tenant, "operator"), _client(api, tenant, "viewer")
    files = {"file": ("pixel7.txt", SAMPLE["pixel7_unknown_nfc_code.txt"], "text/plain")}
    assert viewer.post(f"{BASE}/diagnostic-logs", files=files).status_code == 403
    r = op.post(f"{BASE}/diagnostic-logs", files=files)
    assert r.status_code == 201, r.text
    log_id = r.json()["id"]
    assert (r.json()["status"], r.json()["alreadyUploaded"]) == ("queued", False)
    again = op.post(f"{BASE}/diagnostic-logs", files=files)
    assert again.status_code == 200 and again.json()["alreadyUploaded"] and again.json()["id"] == log_id
    bad = op.post(f"{BASE}/diagnostic-logs", files={"file": ("x.bin", b"\x00\x01\x02PK", "application/octet-stream")})
    assert bad.status_code == 422 and "binary" in bad.json()["error"]["message"]

    worker()
    detail = viewer.get(f"{BASE}/diagnostic-logs/{log_id}").json()
    assert (detail["status"], detail["assetNumber"], detail["unmappedCount"]) == ("parsed", asset.number, 2)
    assert [c["drfoneCode"] for c in detail["codes"]] == ["DF-NFC-044", "DF-VOL-002"]
    listed = viewer.get(f"{BASE}/diagnostic-logs", params={"status": "parsed", "search": asset.number}).json()
    assert listed["total"] == 1 and listed["logs"][0]["id"] == log_id

    assert viewer.get(f"{BASE}/reports/drfone-unmapped-count").json() == {"count": 2, "codes": 2}
    queue = viewer.get(f"{BASE}/qc/unmapped-queue").json()
    assert [(c["drfoneCode"], c["count"], c["examples"]) for c in queue["codes"]] == [
        ("DF-NFC-044", 1, [asset.number]),
        ("DF-VOL-002", 1, [asset.number]),
    ]
    found = viewer.get(f"{BASE}/qc/unmapped-queue", params={"search": "volume down"}).json()
    assert [c["drfoneCode"] for c in found["codes"]] == ["DF-VOL-002"] and found["total"] == 1
    by_code = viewer.get(f"{BASE}/qc/unmapped-queue", params={"sort": "code", "descending": "true"}).json()
    assert [c["drfoneCode"] for c in by_code["codes"]] == ["DF-VOL-002", "DF-NFC-044"]
    body = {"drfoneCode": "DF-VOL-002", "repairCodeId": str(canonical("BTN-VOL"))}
    assert viewer.post(f"{BASE}/drfone-mappings/resolve", json=body).status_code == 403
    resolved = op.post(f"{BASE}/drfone-mappings/resolve", json=body)
    assert resolved.status_code == 200 and resolved.json()["applied"] == 1
    mapping_id = resolved.json()["mapping"]["id"]
    assert viewer.get(f"{BASE}/reports/drfone-unmapped-count").json() == {"count": 1, "codes": 1}
    codes = viewer.get(f"{BASE}/assets/{asset.id}/repair-codes").json()["codes"]
    assert {(c["drfoneCode"], c["repairCode"]) for c in codes} == {("DF-NFC-044", None), ("DF-VOL-002", "BTN-VOL")}

    dup = op.post(f"{BASE}/drfone-mappings", json=body)
    assert dup.status_code == 409 and "mapped already" in dup.json()["error"]["message"]
    made = op.post(
        f"{BASE}/drfone-mappings", json={"drfoneCode": "DF-NFC-044", "repairCodeId": str(canonical("WIFI-BT"))}
    )
    assert made.status_code == 201 and made.json()["appliedNow"] == 1
    assert viewer.get(f"{BASE}/reports/drfone-unmapped-count").json() == {"count": 0, "codes": 0}
    listed = viewer.get(f"{BASE}/drfone-mappings").json()
    assert [m["drfoneCode"] for m in listed["mappings"]] == ["DF-NFC-044", "DF-VOL-002"]
    assert viewer.get(f"{BASE}/drfone-mappings/{mapping_id}").json()["repairCode"] == "BTN-VOL"
    patched = op.patch(f"{BASE}/drfone-mappings/{mapping_id}", json={"description": "Volume down key"})
    assert patched.status_code == 200 and patched.json()["description"] == "Volume down key"
    seen = viewer.get(f"{BASE}/drfone-mappings/codes").json()["codes"]
    assert {c["drfoneCode"]: c["repairCode"] for c in seen} == {"DF-NFC-044": "WIFI-BT", "DF-VOL-002": "BTN-VOL"}
    assert viewer.delete(f"{BASE}/drfone-mappings/{mapping_id}").status_code == 403
    assert op.delete(f"{BASE}/drfone-mappings/{mapping_id}").status_code == 204
    assert viewer.get(f"{BASE}/drfone-mappings/{mapping_id}").status_code == 404
    assert viewer.get(f"{BASE}/drfone-mappings/not-an-id").status_code == 422
    assert TestClient(api).get(f"{BASE}/qc/unmapped-queue").status_code == 401


# --- fairness -----------------------------------------------------------------------------------


def _parsed(tenant_id) -> int:
    with tenant_session(tenant_id) as s:
        return s.exec(select(func.count()).select_from(DiagnosticLog).where(DiagnosticLog.status == "parsed")).one()


def test_one_shops_500_log_import_does_not_hold_up_another_shops_log(worker):
    worker()  # nothing left over
    busy, quiet = make_tenant(), make_tenant()
    busy_actor, quiet_actor = staff_principal(busy), staff_principal(quiet)
    with tenant_session(busy.id) as s:  # the import: 500 logs, one transaction
        for i in range(500):
            service.upload(s, f"import-{i}.txt", log_text(f"35{i:013d}", ("DF-BAT-012", f"worn {i}")), actor=busy_actor)
        s.commit()
    cap = tasks.get_settings().shop_job_cap
    assert tasks.queue("default").count <= cap  # the rest wait in the busy shop's own line

    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "default"],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while _parsed(busy.id) == 0:  # the worker is up and busy with the import
            assert proc.poll() is None, "the worker died"
            assert time.time() < deadline, "the worker never started"
            time.sleep(0.05)
        started = time.monotonic()
        log = upload(quiet, quiet_actor, "single.txt", log_text("356789104561236", ("DF-NFC-044", "x"))).log
        while _parsed(quiet.id) == 0:
            assert time.monotonic() - started < 10, "the other shop's log waited behind the import"
            time.sleep(0.02)
        waited = time.monotonic() - started
        busy_done = _parsed(busy.id)
        print(f"\nthe other shop's log was read {waited:.2f} s after upload; the import had {busy_done}/500 done")
        assert waited < 3.0
        assert busy_done < 500  # it went ahead while the import was still running
        with tenant_session(quiet.id) as s:
            assert s.get(DiagnosticLog, log.id).unmapped_count == 1  # type: ignore[union-attr]

        seen = _parsed(busy.id)
        deadline = time.time() + 60
        while _parsed(busy.id) < seen + 10:  # and the import goes on
            assert proc.poll() is None, "the worker died"
            assert time.time() < deadline, f"the import stalled at {_parsed(busy.id)}/500"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    # the rest of the import is not this test's business: its jobs go
    tasks.redis_conn().delete(*tasks._keys("default", str(busy.id)))
    tasks.queue("default").empty()
    worker()  # the events the parses published
