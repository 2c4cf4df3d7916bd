"""Receiving repairs (issue 17): a client's expected batch with its manifest,
received over sessions scanned on a phone. Each device scanned becomes one
numbered asset with its first history row; a device on the manifest is
matched, one that is not is flagged; scanning a device again (or two phones
scanning it at once) gives back the same asset. IMEIs are checked (15 digits,
Luhn). Assets move only as their lifecycle allows, and a refusal names the
allowed moves; a held asset resumes only to where it was held. Intake photos
go through the platform's photo intake (upright, no location, thumbnail;
anything else refused). Another shop never sees these rows; a viewer cannot
change them."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import col, select

from app.api import create_api
from app.platform import storage
from app.platform.db import tenant_session
from app.platform.errors import Conflict, InvalidTransition, ValidationFailed
from app.repairs import service
from app.repairs.models import AssetStatusChange, ExpectedBatch, ExpectedDevice, RepairAsset
from app.repairs.service import receiving
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model


def imei(n: int) -> str:
    """A valid IMEI: 14 digits from `n` and the Luhn check digit."""
    body = f"35{n:012d}"
    for check in "0123456789":
        if receiving.luhn_ok(body + check):
            return body + check
    raise AssertionError("no check digit")


def bad_check_digit(value: str) -> str:
    return value[:-1] + str((int(value[-1]) + 1) % 10)


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def _batch(tenant, lines: list[receiving.ManifestLine], *, reference: str = "PO-1", expected: int | None = None):
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Acme Phones")
        batch = receiving.create_batch(
            s,
            receiving.BatchData(client_id=client.id, client_reference=reference, expected_count=expected, lines=lines),
            actor=staff_principal(tenant),
        )
        s.commit()
        return batch.id, client.id


def _start(tenant, batch_id) -> uuid.UUID:
    with tenant_session(tenant.id) as s:
        rs = receiving.start_session(s, batch_id, actor=staff_principal(tenant))
        s.commit()
        return rs.id


def _scan(tenant, session_id, code: str, **kw) -> receiving.ScanResult:
    with tenant_session(tenant.id) as s:
        result = receiving.scan(s, session_id, receiving.ScanData(code=code, **kw), actor=staff_principal(tenant))
        s.commit()
        return result


def _batch_now(tenant, batch_id) -> ExpectedBatch:
    with tenant_session(tenant.id) as s:
        return s.get_one(ExpectedBatch, batch_id)


# --- identifiers -------------------------------------------------------------------------------


def test_imeis_are_checked_by_length_and_check_digit():
    good = imei(1)
    assert receiving.identify(good) == (good, "")
    assert receiving.identify(f"{good[:2]} {good[2:8]}-{good[8:]}") == (good, "")  # as printed on a label
    with pytest.raises(ValidationFailed, match="fails its check digit"):
        receiving.identify(bad_check_digit(good))
    with pytest.raises(ValidationFailed, match="not 15 digits"):
        receiving.identify(good[:14])
    assert receiving.identify("c02xk1abjgh5") == ("", "C02XK1ABJGH5")  # anything else is a serial
    with pytest.raises(ValidationFailed, match="IMEI or a serial"):
        receiving.identify("   ")


# --- batches -----------------------------------------------------------------------------------


def test_a_batch_is_numbered_and_its_manifest_kept_and_its_reference_is_unique_per_client(tenant):
    csv_text = f"imei,serial,model,fault,value\n{imei(1)},,Apple iPhone 12,Cracked screen,120\n,SN-ABC-1,,No power,\n"
    lines = receiving.parse_manifest(csv_text)
    assert [(x.imei, x.serial, x.fault) for x in lines] == [
        (imei(1), "", "Cracked screen"),
        ("", "SN-ABC-1", "No power"),
    ]
    with tenant_session(tenant.id) as s:
        model = make_device_model(s, "Apple", "iPhone 12")
        s.commit()
    batch_id, client_id = _batch(tenant, lines, expected=3)
    with tenant_session(tenant.id) as s:
        detail = receiving.get_batch(s, batch_id)
        assert detail.batch.number.startswith("B") or detail.batch.number  # the shop's batch sequence
        assert detail.batch.expected_count == 3 and detail.batch.status == "expected"
        assert len(detail.manifest) == 2
        first = next(m for m in detail.manifest if m.line.imei == imei(1))
        assert first.line.device_model_id == model.id and str(first.line.declared_value) == "120.00"
        # the same client's reference again: refused; another client may use it
        with pytest.raises(Conflict, match="already has a batch with reference PO-1"):
            receiving.create_batch(
                s, receiving.BatchData(client_id=client_id, client_reference="PO-1"), actor=staff_principal(tenant)
            )
    with tenant_session(tenant.id) as s:
        other = make_client(s, "Other Co")
        receiving.create_batch(
            s, receiving.BatchData(client_id=other.id, client_reference="PO-1"), actor=staff_principal(tenant)
        )
        s.commit()
    # numbers follow each other
    with tenant_session(tenant.id) as s:
        numbers = sorted(s.exec(select(ExpectedBatch.number)).all())
        assert len(set(numbers)) == 2


def test_a_manifest_with_a_bad_imei_or_a_repeated_device_is_refused_by_line(tenant):
    with pytest.raises(ValidationFailed, match="on manifest line 2 fails its check digit"):
        _batch(tenant, [receiving.ManifestLine(imei=imei(1)), receiving.ManifestLine(imei=bad_check_digit(imei(2)))])
    with pytest.raises(ValidationFailed, match="manifest line 2 repeats the device on manifest line 1"):
        _batch(tenant, [receiving.ManifestLine(imei=imei(1)), receiving.ManifestLine(imei=imei(1))])
    with pytest.raises(ValidationFailed, match="lists 2 devices but the batch expects 1"):
        _batch(tenant, [receiving.ManifestLine(imei=imei(1)), receiving.ManifestLine(serial="X1Y2Z3")], expected=1)


# --- receiving ---------------------------------------------------------------------------------


def test_scanning_a_batch_matches_the_manifest_flags_strangers_and_a_rescan_gives_the_same_asset(tenant):
    batch_id, _ = _batch(
        tenant,
        [
            receiving.ManifestLine(imei=imei(1), fault="Cracked screen", declared_value="150"),
            receiving.ManifestLine(imei=imei(2)),
        ],
    )
    session_id = _start(tenant, batch_id)
    batch = _batch_now(tenant, batch_id)
    assert batch.status == "receiving" and batch.session_count == 1

    first = _scan(tenant, session_id, imei(1), condition="B", accessories=["Charger", "Case"])
    assert first.created and not first.not_on_batch
    asset = first.asset
    assert asset.status == "received" and asset.fault == "Cracked screen" and str(asset.declared_value) == "150.00"
    assert asset.accessories == ["Charger", "Case"] and asset.condition == "B"
    with tenant_session(tenant.id) as s:
        line = s.exec(select(ExpectedDevice).where(ExpectedDevice.imei == imei(1))).one()
        assert line.asset_id == asset.id
        history = s.exec(select(AssetStatusChange).where(AssetStatusChange.asset_id == asset.id)).all()
        assert [(h.from_status, h.to_status) for h in history] == [("", "received")]

    stranger = _scan(tenant, session_id, imei(77))
    assert stranger.created and stranger.not_on_batch and "not on the batch" in stranger.message

    again = _scan(tenant, session_id, imei(1))
    assert not again.created and again.asset.id == asset.id
    assert f"already received as {asset.number}" in again.message

    batch = _batch_now(tenant, batch_id)
    assert (batch.received_count, batch.flagged_count) == (2, 1)  # the rescan counted nothing
    with tenant_session(tenant.id) as s:
        assert len(s.exec(select(RepairAsset).where(RepairAsset.batch_id == batch_id)).all()) == 2
        assert asset.number != stranger.asset.number

    # one manifest device is still missing: closing the session leaves the batch receiving
    with tenant_session(tenant.id) as s:
        receiving.close_session(s, session_id, actor=staff_principal(tenant))
        s.commit()
    batch = _batch_now(tenant, batch_id)
    assert batch.status == "receiving"
    with pytest.raises(Conflict, match="session is closed"):
        _scan(tenant, session_id, imei(2))

    # a second session brings the last one; closing it marks the batch received
    second = _start(tenant, batch_id)
    assert _batch_now(tenant, batch_id).session_count == 2
    _scan(tenant, second, imei(2))
    with tenant_session(tenant.id) as s:
        receiving.close_session(s, second, actor=staff_principal(tenant))
        s.commit()
    assert _batch_now(tenant, batch_id).status == "received"


def test_two_phones_scanning_the_same_device_at_once_make_one_asset(tenant):
    batch_id, _ = _batch(tenant, [receiving.ManifestLine(imei=imei(5))])
    session_id = _start(tenant, batch_id)
    start = threading.Barrier(6)
    results: list[receiving.ScanResult] = []
    errors: list[BaseException] = []

    def work():
        start.wait()
        try:
            results.append(_scan(tenant, session_id, imei(5)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len({r.asset.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    with tenant_session(tenant.id) as s:
        assert len(s.exec(select(RepairAsset).where(RepairAsset.batch_id == batch_id)).all()) == 1
    assert _batch_now(tenant, batch_id).received_count == 1


def test_a_scan_with_a_bad_imei_is_refused_and_nothing_is_received(tenant):
    batch_id, _ = _batch(tenant, [])
    session_id = _start(tenant, batch_id)
    with pytest.raises(ValidationFailed, match="fails its check digit"):
        _scan(tenant, session_id, bad_check_digit(imei(3)))
    with pytest.raises(ValidationFailed, match="condition grade is A, B, C or D"):
        _scan(tenant, session_id, imei(3), condition="E")
    assert _batch_now(tenant, batch_id).received_count == 0


def test_a_closed_batch_takes_no_more_sessions(tenant):
    batch_id, _ = _batch(tenant, [])
    _start(tenant, batch_id)
    with tenant_session(tenant.id) as s:
        receiving.close_batch(s, batch_id, actor=staff_principal(tenant))
        s.commit()
    with pytest.raises(InvalidTransition, match="is closed"):
        _start(tenant, batch_id)


# --- the lifecycle -----------------------------------------------------------------------------


def test_moves_the_lifecycle_refuses_name_the_allowed_ones_and_a_hold_resumes_where_it_was(tenant):
    with tenant_session(tenant.id) as s:
        asset = make_asset(s, status="received")
        s.commit()
    p = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        with pytest.raises(InvalidTransition, match="allowed: in triage, on hold") as refused:
            receiving.move(s, asset.id, "dispatched", actor=p)
        assert refused.value.details == {"allowed": ["in_triage", "on_hold"]}
        with pytest.raises(ValidationFailed, match="say why"):
            receiving.hold(s, asset.id, "", actor=p)
        receiving.hold(s, asset.id, "Waiting for the client's passcode", actor=p)
        s.commit()
    with tenant_session(tenant.id) as s:
        held = s.get(RepairAsset, asset.id)
        assert held is not None and (held.status, held.held_from) == ("on_hold", "received")
        assert receiving.get_asset(s, asset.id).hand_moves == ["received"]
        with pytest.raises(InvalidTransition, match="goes back to received, where it was held") as refused:
            receiving.move(s, asset.id, "in_triage", actor=p)
        assert refused.value.details == {"allowed": ["received"]}
    with tenant_session(tenant.id) as s:
        receiving.resume(s, asset.id, actor=p)
        receiving.start_triage(s, asset.id, actor=p)
        s.commit()
    with tenant_session(tenant.id) as s:
        detail = receiving.get_asset(s, asset.id)
        assert detail.row.asset.status == "in_triage"
        assert [(h.change.from_status, h.change.to_status) for h in detail.history] == [
            ("received", "on_hold"),
            ("on_hold", "received"),
            ("received", "in_triage"),
        ]
        # the workbench moves are not made by hand: the refusal says where
        with pytest.raises(InvalidTransition, match="from the QC workbench, not by hand"):
            receiving.move(s, asset.id, "ber_review", actor=p)
        assert ("ber_review", "the QC workbench") in detail.other_moves


def test_the_asset_list_searches_filters_sorts_and_pages(tenant):
    with tenant_session(tenant.id) as s:
        batch = make_batch(s)
        a = make_asset(s, status="received", batch=batch, imei=imei(10))
        b = make_asset(s, status="in_repair", imei=imei(11), serial="SERIAL-XYZ")
        for n in range(3):
            make_asset(s, status="received", batch=batch, imei=imei(20 + n))
        s.commit()
    with tenant_session(tenant.id) as s:
        rows, total = receiving.list_assets(s, receiving.AssetFilter(search=imei(11)))
        assert total == 1 and rows[0].asset.id == b.id
        rows, total = receiving.list_assets(s, receiving.AssetFilter(search="serial-xy"))
        assert [r.asset.id for r in rows] == [b.id]
        rows, total = receiving.list_assets(s, receiving.AssetFilter(status="received", page_size=2))
        assert total == 4 and len(rows) == 2
        rows, _ = receiving.list_assets(s, receiving.AssetFilter(batch_id=a.batch_id, sort="number", descending=False))
        assert [r.asset.number for r in rows] == sorted(r.asset.number for r in rows)
        assert receiving.asset_counts(s) == {"received": 4, "in_repair": 1}
        with pytest.raises(ValidationFailed):
            receiving.list_assets(s, receiving.AssetFilter(status="lost"))


# --- photos ------------------------------------------------------------------------------------


def _photo_with_gps_turned() -> bytes:
    """A 60 x 40 JPEG whose EXIF says: turn it upright (orientation 6) and here is where it was taken."""
    img = Image.new("RGB", (60, 40), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_an_intake_photo_is_turned_upright_stripped_of_its_location_and_thumbnailed(tenant):
    with tenant_session(tenant.id) as s:
        asset = make_asset(s)
        s.commit()
    with tenant_session(tenant.id) as s:
        photo = receiving.add_photo(s, asset.id, _photo_with_gps_turned(), actor=staff_principal(tenant))
        s.commit()
    assert (photo.width, photo.height) == (40, 60)
    store = storage.for_tenant(tenant.id)
    original = Image.open(io.BytesIO(store.get(photo.storage_key).data))
    assert original.size == (40, 60)
    assert not original.getexif()  # no orientation, no GPS left
    Image.open(io.BytesIO(store.get(photo.thumbnail_key).data)).verify()
    with tenant_session(tenant.id) as s:
        assert [p.id for p in receiving.get_asset(s, asset.id).photos] == [photo.id]


# --- the API: permissions, other shops, refusals -----------------------------------------------


def test_the_api_receives_a_batch_and_a_viewer_and_another_shop_are_refused(api, tenant):
    operator, viewer = _client(api, tenant, "operator"), _client(api, tenant, "viewer")
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Api Client")
        s.commit()
    body = {
        "clientId": str(client.id),
        "clientReference": "RMA-9",
        "manifestCsv": f"{imei(1)},,,Broken camera,80\n{imei(2)},,,,\n",
    }
    assert viewer.post("/api/v1/repairs/batches", json=body).status_code == 403
    created = operator.post("/api/v1/repairs/batches", json=body)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["expectedCount"] == 2
    assert operator.post("/api/v1/repairs/batches", json=body).status_code == 409

    assert viewer.post(f"/api/v1/repairs/batches/{batch['id']}/sessions").status_code == 403
    rs = operator.post(f"/api/v1/repairs/batches/{batch['id']}/sessions").json()
    scans = f"/api/v1/repairs/receiving-sessions/{rs['id']}/scans"
    assert viewer.post(scans, json={"code": imei(1)}).status_code == 403
    refused = operator.post(scans, json={"code": bad_check_digit(imei(1))})
    assert refused.status_code == 422 and "check digit" in refused.json()["error"]["message"]
    first = operator.post(scans, json={"code": imei(1), "condition": "A"}).json()
    assert first["alreadyReceived"] is False and first["fault"] == "Broken camera"
    again = operator.post(scans, json={"code": imei(1)}).json()
    assert again["alreadyReceived"] is True and again["id"] == first["id"]
    assert "already received" in again["message"]

    detail = viewer.get(f"/api/v1/repairs/batches/{batch['id']}").json()
    assert detail["receivedCount"] == 1 and detail["openSessionId"] == rs["id"]
    asset_url = f"/api/v1/repairs/assets/{first['id']}"
    seen = viewer.get(asset_url).json()
    assert seen["status"] == "received" and seen["history"][0]["to"] == "received"
    assert seen["handMoves"] == ["in_triage", "on_hold"]

    # moves: a viewer may not; the lifecycle's refusal lists the allowed moves
    assert viewer.post(f"{asset_url}/hold", json={"reason": "x"}).status_code == 403
    wrong = operator.post(f"{asset_url}/moves", json={"status": "dispatched"})
    assert wrong.status_code == 409 and "allowed: in triage, on hold" in wrong.json()["error"]["message"]
    held = operator.post(f"{asset_url}/hold", json={"reason": "Client asked us to wait"}).json()
    assert held["status"] == "on_hold" and held["heldFrom"] == "received"
    assert operator.post(f"{asset_url}/resume").json()["status"] == "received"

    # photos: an image is taken, anything else refused
    not_image = operator.post(f"{asset_url}/photos", files={"file": ("x.jpg", b"%PDF-1.4 not a photo", "image/jpeg")})
    assert not_image.status_code == 422 and "not an image" in not_image.json()["error"]["message"]
    assert (
        viewer.post(f"{asset_url}/photos", files={"file": ("p.jpg", _photo_with_gps_turned(), "image/jpeg")})
    ).status_code == 403
    photo = operator.post(f"{asset_url}/photos", files={"file": ("p.jpg", _photo_with_gps_turned(), "image/jpeg")})
    assert photo.status_code == 201, photo.text
    assert viewer.get(photo.json()["thumbnailUrl"]).status_code == 200

    listed = viewer.get("/api/v1/repairs/assets", params={"search": imei(1)}).json()
    assert listed["total"] == 1 and listed["items"][0]["batchNumber"] == batch["number"]
    assert viewer.get("/api/v1/repairs/assets", params={"status": "lost"}).status_code == 422

    # another shop: nothing of this one by id, nothing in its lists
    stranger = _client(api, make_tenant(), "admin")
    assert stranger.get(asset_url).status_code == 404
    assert stranger.get(f"/api/v1/repairs/batches/{batch['id']}").status_code == 404
    assert stranger.post(f"{asset_url}/hold", json={"reason": "x"}).status_code == 404
    assert (
        stranger.post(f"/api/v1/repairs/receiving-sessions/{rs['id']}/scans", json={"code": imei(3)}).status_code == 404
    )
    assert stranger.get("/api/v1/repairs/assets").json()["total"] == 0
    assert stranger.get("/api/v1/repairs/batches").json()["total"] == 0


def test_row_security_hides_every_receiving_table_from_another_shop(tenant):
    batch_id, _ = _batch(tenant, [receiving.ManifestLine(imei=imei(1))])
    session_id = _start(tenant, batch_id)
    asset = _scan(tenant, session_id, imei(1)).asset
    with tenant_session(tenant.id) as s:
        receiving.add_photo(s, asset.id, _photo_with_gps_turned(), actor=staff_principal(tenant))
        s.commit()
    from app.repairs.models import AssetPhoto, ReceivingSession

    other = make_tenant()
    with tenant_session(other.id) as s:
        for model in (ExpectedBatch, ExpectedDevice, ReceivingSession, RepairAsset, AssetStatusChange, AssetPhoto):
            assert s.exec(select(model)).all() == [], model.__tablename__
    with tenant_session(tenant.id) as s:
        for model in (ExpectedBatch, ExpectedDevice, ReceivingSession, RepairAsset, AssetStatusChange, AssetPhoto):
            assert s.exec(select(model).where(col(model.tenant_id) == tenant.id)).all(), model.__tablename__
    assert service.receiving is receiving
