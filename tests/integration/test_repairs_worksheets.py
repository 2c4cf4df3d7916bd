"""Worksheets (issue 17, "Parts and worksheets"): a worksheet opens only for
an asset in repair or awaiting parts, once per asset; labour adds up; spare
parts issued to it come off the shelf once per idempotency key (also when
ten requests with one key arrive at once), never below zero, and never
return more than were issued; final QC passes (the asset is ready for
dispatch) or fails (back to repair, notes required); a worksheet holding
parts cannot be cancelled; another shop sees none of it; a viewer may read
but not change (the API answers 403)."""

from __future__ import annotations

import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from app.api import create_api
from app.inventory import service as inventory
from app.inventory.models import InventoryTransaction
from app.platform.db import tenant_session
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.models import User
from app.repairs import service
from app.repairs.api_worksheets import router as worksheets_router
from app.repairs.models import (
    AssetStatusChange,
    DeviceRepairCode,
    RepairAsset,
    RepairCode,
    RepairTeam,
    Technician,
    Worksheet,
)
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset

ws_service = service.worksheets
BASE = "/api/v1/repairs/worksheets"


@pytest.fixture(scope="module")
def api():
    app = create_api()
    if not any(getattr(r, "path", "") == BASE for r in app.routes):  # until the router is mounted
        app.include_router(worksheets_router, prefix="/api/v1")
    return app


@pytest.fixture
def tenant():
    return make_tenant()


# --- helpers -------------------------------------------------------------------------------------


def _asset(tenant, status: str = "in_repair") -> RepairAsset:
    with tenant_session(tenant.id) as s:
        asset = make_asset(s, status=status)
        s.commit()
        return asset


def _technician(tenant, name: str = "Grace", *, team: str | None = None, active: bool = True) -> Technician:
    with tenant_session(tenant.id) as s:
        team_row = None
        if team:
            team_row = RepairTeam(tenant_id=tenant.id, name=team)
            s.add(team_row)
            s.flush()
        tech = Technician(tenant_id=tenant.id, name=name, team_id=team_row.id if team_row else None, active=active)
        s.add(tech)
        s.commit()
        return tech


def _team(tenant, name: str = "Screens") -> RepairTeam:
    with tenant_session(tenant.id) as s:
        team = RepairTeam(tenant_id=tenant.id, name=name)
        s.add(team)
        s.commit()
        return team


def _canonical_code(tenant, index: int = 0) -> RepairCode:
    with tenant_session(tenant.id) as s:
        return list(
            s.exec(select(RepairCode).where(col(RepairCode.tenant_id).is_(None)).order_by(RepairCode.code)).all()
        )[index]


def _found_code(tenant, asset: RepairAsset, code: RepairCode, source: str = "triage") -> DeviceRepairCode:
    with tenant_session(tenant.id) as s:
        row = DeviceRepairCode(tenant_id=tenant.id, asset_id=asset.id, repair_code_id=code.id, source=source)
        s.add(row)
        s.commit()
        return row


def _spare(tenant, stock: int = 3, sku: str | None = None, name: str = "iPhone 12 screen"):
    with tenant_session(tenant.id) as s:
        part = inventory.create_spare_part(
            s,
            inventory.SparePartData(
                sku=sku or f"SCR-{uuid.uuid4().hex[:6]}", name=name, unit_cost="80.00", stock=stock
            ),
            actor=staff_principal(tenant),
        )
        s.commit()
        return part


def _do(tenant, fn, *args, **kwargs):
    """One service call in its own transaction, committed."""
    with tenant_session(tenant.id) as s:
        result = fn(s, *args, actor=staff_principal(tenant), **kwargs)
        s.commit()
        return result


def _open(tenant, asset, **kwargs) -> Worksheet:
    return _do(tenant, ws_service.open_worksheet, asset.id, **kwargs)


def _sheet(tenant, ws_id) -> Worksheet:
    with tenant_session(tenant.id) as s:
        return ws_service.get_worksheet(s, ws_id)


def _asset_status(tenant, asset_id) -> str:
    with tenant_session(tenant.id) as s:
        return s.get_one(RepairAsset, asset_id).status


def _stock(tenant, part_id) -> int:
    with tenant_session(tenant.id) as s:
        return inventory.get_spare_part(s, part_id).current_stock


def _issue(tenant, ws_id, part_id, qty, key=None):
    return _do(tenant, ws_service.issue_part, ws_id, part_id, qty, idempotency_key=key or uuid.uuid4().hex)


def _return(tenant, ws_id, part_id, qty, key=None):
    return _do(tenant, ws_service.return_part, ws_id, part_id, qty, idempotency_key=key or uuid.uuid4().hex)


# --- opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["received", "in_triage", "final_qc", "ready_for_dispatch", "on_hold"])
def test_a_worksheet_opens_only_for_an_asset_in_repair_or_awaiting_parts(tenant, status):
    asset = _asset(tenant, status)
    with pytest.raises(Conflict) as refused:
        _open(tenant, asset)
    message = refused.value.message
    assert asset.number in message and "in repair or awaiting parts" in message
    assert refused.value.details["allowed"] == ["in_repair", "awaiting_parts"]
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).select_from(Worksheet)).one() == 0


def test_an_asset_has_one_open_worksheet_and_a_second_is_refused_naming_it(tenant):
    asset = _asset(tenant, "awaiting_parts")
    grace = _technician(tenant, team="Screens")
    first = _open(tenant, asset, technician_id=grace.id)
    assert first.number.startswith("WS-") and first.status == "open"
    assert first.technician_id == grace.id
    with pytest.raises(Conflict) as second:
        _open(tenant, asset)
    assert first.number in second.value.message and second.value.details["worksheetId"] == str(first.id)

    # numbers come from the shop's sequence, one after the other
    other = _open(tenant, _asset(tenant))
    assert int(other.number.removeprefix("WS-")) == int(first.number.removeprefix("WS-")) + 1

    # once the first is cancelled, the asset may get a new one
    _do(tenant, ws_service.cancel, first.id, reason="wrong technician")
    again = _open(tenant, asset)
    assert again.id != first.id


def test_two_opens_at_once_give_one_worksheet(tenant):
    asset = _asset(tenant)
    results, errors = _in_threads(5, lambda i: _open(tenant, asset).id)
    assert len(results) == 1 and len(errors) == 4
    assert all(isinstance(e, Conflict) for e in errors)


def test_open_with_another_shops_technician_or_an_inactive_one_is_refused(tenant):
    asset = _asset(tenant)
    other = make_tenant()
    stranger = _technician(other, "Stranger")
    with pytest.raises(NotFound):
        _open(tenant, asset, technician_id=stranger.id)
    gone = _technician(tenant, "Left Last Year", active=False)
    with pytest.raises(ValidationFailed, match="inactive"):
        _open(tenant, asset, technician_id=gone.id)


# --- the work ------------------------------------------------------------------------------------


def test_assigning_labour_and_notes(tenant):
    asset = _asset(tenant)
    ws = _open(tenant, asset)
    grace, screens = _technician(tenant, "Grace"), _team(tenant, "Screens")
    _do(tenant, ws_service.assign, ws.id, technician_id=grace.id, team_id=screens.id)
    _do(tenant, ws_service.log_labour, ws.id, 45, note="screen swap")
    _do(tenant, ws_service.log_labour, ws.id, 20)
    for bad in (0, -5, 1441, 2.5, True):
        with pytest.raises(ValidationFailed):
            _do(tenant, ws_service.log_labour, ws.id, bad)
    _do(tenant, ws_service.set_notes, ws.id, "Replaced the screen; tested touch.")
    saved = _sheet(tenant, ws.id)
    assert (saved.technician_id, saved.team_id) == (grace.id, screens.id)
    assert saved.labour_minutes == 65
    assert [(e["minutes"], e["note"]) for e in ws_service.labour_entries(saved)] == [(45, "screen swap"), (20, "")]
    assert saved.notes == "Replaced the screen; tested touch."
    kinds = [h["kind"] for h in saved.history]
    assert kinds == ["opened", "assigned", "labour", "labour", "notes"]
    assert all(h["who"] == "Tests" and h["at"] for h in saved.history)

    # the team alone, then nobody
    _do(tenant, ws_service.assign, ws.id, technician_id=None, team_id=screens.id)
    assert _sheet(tenant, ws.id).technician_id is None
    _do(tenant, ws_service.assign, ws.id)
    assert (_sheet(tenant, ws.id).technician_id, _sheet(tenant, ws.id).team_id) == (None, None)


def test_codes_done_tick_the_assets_codes_or_add_one(tenant):
    asset = _asset(tenant)
    screen, battery = _canonical_code(tenant, 0), _canonical_code(tenant, 1)
    found = _found_code(tenant, asset, screen)
    ws = _open(tenant, asset)

    _do(tenant, ws_service.set_code_done, ws.id, found.id, True)
    added = _do(tenant, ws_service.add_code_done, ws.id, battery.id)
    assert added.source == "worksheet" and added.done and added.worksheet_id == ws.id
    # the code already on the asset is ticked, not added twice
    assert _do(tenant, ws_service.add_code_done, ws.id, screen.id).id == found.id
    with tenant_session(tenant.id) as s:
        d = ws_service.detail(s, ws.id)
        assert [(c.code, c.source, c.done_here) for c in d.codes] == [
            (screen.code, "triage", True),
            (battery.code, "worksheet", True),
        ]
        assert d.codes_done == 2

    # unticking: the found code stays, the added one goes
    assert _do(tenant, ws_service.set_code_done, ws.id, added.id, False) is None
    _do(tenant, ws_service.set_code_done, ws.id, found.id, False)
    with tenant_session(tenant.id) as s:
        rows = s.exec(select(DeviceRepairCode).where(DeviceRepairCode.asset_id == asset.id)).all()
        assert [(r.id, r.done, r.worksheet_id) for r in rows] == [(found.id, False, None)]

    # another asset's code is not this worksheet's
    stranger = _found_code(tenant, _asset(tenant), screen)
    with pytest.raises(NotFound):
        _do(tenant, ws_service.set_code_done, ws.id, stranger.id, True)


# --- parts ---------------------------------------------------------------------------------------


def test_issuing_and_returning_parts_moves_stock_and_the_worksheet_holds_them(tenant):
    ws = _open(tenant, _asset(tenant))
    part = _spare(tenant, stock=3)
    _issue(tenant, ws.id, part.id, 2)
    assert _stock(tenant, part.id) == 1
    _return(tenant, ws.id, part.id, 1)
    assert _stock(tenant, part.id) == 2
    with tenant_session(tenant.id) as s:
        held = ws_service.parts(s, ws.id)
        assert [(p.part.id, p.issued, p.returned, p.used) for p in held] == [(part.id, 2, 1, 1)]


def test_a_retried_issue_with_the_same_key_issues_once(tenant):
    ws = _open(tenant, _asset(tenant))
    part = _spare(tenant, stock=5)
    first = _issue(tenant, ws.id, part.id, 2, key="click-1")
    again = _issue(tenant, ws.id, part.id, 2, key="click-1")
    assert again.id == first.id
    assert _stock(tenant, part.id) == 3


def test_ten_requests_with_the_same_key_at_once_write_one_ledger_entry(tenant):
    ws = _open(tenant, _asset(tenant))
    part = _spare(tenant, stock=5)
    ids, errors = _in_threads(10, lambda i: _issue(tenant, ws.id, part.id, 1, key="double-click").id)
    assert errors == [] and len(set(ids)) == 1 and len(ids) == 10
    with tenant_session(tenant.id) as s:
        entries = s.exec(
            select(InventoryTransaction).where(
                InventoryTransaction.spare_part_id == part.id, InventoryTransaction.transaction_type == "ISSUED"
            )
        ).all()
        assert len(entries) == 1 and entries[0].reference_id == str(ws.id)
    assert _stock(tenant, part.id) == 4


def test_stock_never_goes_below_zero(tenant):
    ws = _open(tenant, _asset(tenant))
    part = _spare(tenant, stock=2, name="Pixel 7 battery")
    with pytest.raises(Conflict, match="only 2 of Pixel 7 battery in stock"):
        _issue(tenant, ws.id, part.id, 3)
    assert _stock(tenant, part.id) == 2
    # two repairs racing for the last units: one wins
    other = _open(tenant, _asset(tenant))
    won, errors = _in_threads(2, lambda i: _issue(tenant, (ws, other)[i].id, part.id, 2).id)
    assert len(won) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
    assert _stock(tenant, part.id) == 0


def test_returning_more_than_was_issued_is_refused(tenant):
    ws = _open(tenant, _asset(tenant))
    part = _spare(tenant, stock=4)
    _issue(tenant, ws.id, part.id, 1)
    with pytest.raises(Conflict, match="only 1"):
        _return(tenant, ws.id, part.id, 2)
    assert _stock(tenant, part.id) == 3
    # a part never issued to this worksheet
    never = _spare(tenant, stock=4)
    with pytest.raises(Conflict):
        _return(tenant, ws.id, never.id, 1)


def test_parts_only_move_on_an_open_worksheet_and_the_asset_resumes_by_hand(tenant):
    asset = _asset(tenant, "awaiting_parts")
    ws = _open(tenant, asset)
    part = _spare(tenant, stock=2)
    _issue(tenant, ws.id, part.id, 1)
    assert _asset_status(tenant, asset.id) == "awaiting_parts"  # not moved by itself
    _do(tenant, ws_service.resume_repair, ws.id)
    assert _asset_status(tenant, asset.id) == "in_repair"
    _do(tenant, ws_service.wait_for_parts, ws.id, reason="back cover on order")
    assert _asset_status(tenant, asset.id) == "awaiting_parts"
    _do(tenant, ws_service.resume_repair, ws.id)

    _do(tenant, ws_service.set_notes, ws.id, "Done")
    _do(tenant, ws_service.submit_for_qc, ws.id)
    with pytest.raises(Conflict, match="in final QC"):
        _issue(tenant, ws.id, part.id, 1)
    with pytest.raises(Conflict, match="in final QC"):
        _do(tenant, ws_service.log_labour, ws.id, 5)


# --- final QC ------------------------------------------------------------------------------------


def test_final_qc_fail_then_pass_moves_the_worksheet_and_the_asset(tenant):
    asset = _asset(tenant)
    ws = _open(tenant, asset)
    with pytest.raises(ValidationFailed, match="no work yet"):
        _do(tenant, ws_service.submit_for_qc, ws.id)
    _do(tenant, ws_service.add_code_done, ws.id, _canonical_code(tenant).id)
    _do(tenant, ws_service.submit_for_qc, ws.id)
    assert (_sheet(tenant, ws.id).status, _asset_status(tenant, asset.id)) == ("in_qc", "final_qc")
    with pytest.raises(
        InvalidTransition, match="is in final QC and cannot go to in final QC; allowed: open, passed QC"
    ):
        _do(tenant, ws_service.submit_for_qc, ws.id)

    with pytest.raises(ValidationFailed, match="say what failed"):
        _do(tenant, ws_service.qc_fail, ws.id, "   ")
    _do(tenant, ws_service.qc_fail, ws.id, "Touch dead in the top corner")
    failed = _sheet(tenant, ws.id)
    assert (failed.status, failed.qc_result, failed.qc_failures) == ("open", "fail", 1)
    assert failed.qc_notes == "Touch dead in the top corner" and failed.qc_at is not None
    assert _asset_status(tenant, asset.id) == "in_repair"

    _do(tenant, ws_service.submit_for_qc, ws.id)
    _do(tenant, ws_service.qc_pass, ws.id)
    passed = _sheet(tenant, ws.id)
    assert (passed.status, passed.qc_result, passed.qc_failures) == ("passed", "pass", 1)
    assert passed.completed_at is not None and passed.submitted_at is not None
    assert _asset_status(tenant, asset.id) == "ready_for_dispatch"
    assert [h["kind"] for h in passed.history][-4:] == ["submitted", "qc_fail", "submitted", "qc_pass"]
    with tenant_session(tenant.id) as s:
        moves = s.exec(
            select(AssetStatusChange.to_status)
            .where(AssetStatusChange.asset_id == asset.id)
            .order_by(col(AssetStatusChange.changed_at))
        ).all()
        assert list(moves) == ["final_qc", "in_repair", "final_qc", "ready_for_dispatch"]

    # a passed worksheet is final
    with pytest.raises(InvalidTransition, match="allowed: none"):
        _do(tenant, ws_service.qc_fail, ws.id, "again")
    with pytest.raises(InvalidTransition):
        _do(tenant, ws_service.cancel, ws.id)


def test_submitting_needs_the_asset_in_repair(tenant):
    asset = _asset(tenant, "awaiting_parts")
    ws = _open(tenant, asset)
    _do(tenant, ws_service.set_notes, ws.id, "Waiting on a screen")
    with pytest.raises(InvalidTransition, match=r"put it back in repair first.*allowed: in repair, on hold"):
        _do(tenant, ws_service.submit_for_qc, ws.id)
    assert _sheet(tenant, ws.id).status == "open"


# --- cancelling ----------------------------------------------------------------------------------


def test_cancelling_with_parts_issued_is_refused_until_they_are_returned(tenant):
    asset = _asset(tenant)
    code = _canonical_code(tenant)
    found = _found_code(tenant, asset, code)
    ws = _open(tenant, asset)
    _do(tenant, ws_service.set_code_done, ws.id, found.id, True)
    part = _spare(tenant, stock=2, name="Galaxy S21 port")
    _issue(tenant, ws.id, part.id, 2)
    with pytest.raises(Conflict, match=r"still holds parts \(2 × Galaxy S21 port\)"):
        _do(tenant, ws_service.cancel, ws.id)
    assert _sheet(tenant, ws.id).status == "open"
    _return(tenant, ws.id, part.id, 2)
    _do(tenant, ws_service.cancel, ws.id, reason="client withdrew")
    assert _sheet(tenant, ws.id).status == "cancelled"
    assert _stock(tenant, part.id) == 2
    with tenant_session(tenant.id) as s:
        row = s.get_one(DeviceRepairCode, found.id)
        assert (row.done, row.worksheet_id) == (False, None)  # the code is to do again
    with pytest.raises(Conflict, match="cancelled"):
        _issue(tenant, ws.id, part.id, 1)


# --- listing --------------------------------------------------------------------------------------


def test_the_list_filters_searches_and_pages(tenant):
    grace, team = _technician(tenant, "Grace"), _team(tenant, "Boards")
    a1, a2, a3 = _asset(tenant), _asset(tenant), _asset(tenant, "awaiting_parts")
    w1 = _open(tenant, a1, technician_id=grace.id)
    w2 = _open(tenant, a2, team_id=team.id)
    w3 = _open(tenant, a3)
    _do(tenant, ws_service.set_notes, w2.id, "done")
    _do(tenant, ws_service.submit_for_qc, w2.id)
    with tenant_session(tenant.id) as s:

        def numbers(**kw):
            rows, total = ws_service.list_worksheets(s, ws_service.WorksheetFilter(**kw))
            return [r.worksheet.number for r in rows], total

        assert numbers() == ([w3.number, w2.number, w1.number], 3)
        assert numbers(status="in_qc") == ([w2.number], 1)
        assert numbers(status="active")[1] == 3
        assert numbers(technician_id=str(grace.id)) == ([w1.number], 1)
        assert numbers(team_id=str(team.id)) == ([w2.number], 1)
        assert numbers(search=a3.number) == ([w3.number], 1)
        assert numbers(search=a1.imei) == ([w1.number], 1)
        assert numbers(search=w2.number.lower()) == ([w2.number], 1)
        assert numbers(sort="number", descending=False, page_size=2, page=1) == ([w3.number], 3)
        assert numbers(asset_id=str(a2.id)) == ([w2.number], 1)
        with pytest.raises(ValidationFailed):
            numbers(status="sideways")
        counts = ws_service.counts(s)
        assert (counts["open"], counts["in_qc"], counts["active"], counts["all"]) == (2, 1, 3, 3)
        rows, _ = ws_service.list_worksheets(s, ws_service.WorksheetFilter(technician_id=str(grace.id)))
        assert (rows[0].technician, rows[0].asset_number, rows[0].client) == ("Grace", a1.number, rows[0].client)
        assert ws_service.open_for_asset(s, a1.id).id == w1.id  # type: ignore[union-attr]


# --- shops stay apart ------------------------------------------------------------------------------


def test_another_shop_never_sees_or_changes_the_worksheets(tenant):
    ws = _open(tenant, _asset(tenant))
    other = make_tenant()
    with tenant_session(other.id) as s:
        assert s.exec(select(func.count()).select_from(Worksheet)).one() == 0
        with pytest.raises(NotFound):
            ws_service.get_worksheet(s, ws.id)
        with pytest.raises(NotFound):
            ws_service.log_labour(s, ws.id, 10, actor=staff_principal(other))
        with pytest.raises(DBAPIError):  # the row policy refuses writing in another shop's name
            s.execute(
                text(
                    "INSERT INTO worksheets (tenant_id, id, number, asset_id, status, labour_minutes, notes, "
                    "qc_result, qc_notes, qc_failures, history, created_at, updated_at) VALUES "
                    "(:t, gen_random_uuid(), 'X', :a, 'open', 0, '', '', '', 0, '[]', now(), now())"
                ),
                {"t": tenant.id, "a": ws.asset_id},
            )
    with tenant_session(other.id) as s:
        assert s.execute(text("UPDATE worksheets SET labour_minutes = 99")).rowcount == 0  # type: ignore[attr-defined]
        s.commit()
    assert _sheet(tenant, ws.id).labour_minutes == 0


# --- the API --------------------------------------------------------------------------------------


def _client(api, tenant, role: str) -> TestClient:
    user: User = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def test_the_api_with_its_permissions_and_refusals(api, tenant):
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    asset = _asset(tenant)
    grace = _technician(tenant, "Grace")
    part = _spare(tenant, stock=3)
    code = _canonical_code(tenant)

    assert TestClient(api).get(BASE).status_code == 401
    assert viewer.post(BASE, json={"assetId": str(asset.id)}).status_code == 403
    r = operator.post(BASE, json={"assetId": str(asset.id), "technicianId": str(grace.id)})
    assert r.status_code == 201, r.text
    ws = r.json()
    wid = ws["id"]
    assert (ws["status"], ws["technician"]["name"], ws["asset"]["number"]) == ("open", "Grace", asset.number)
    second = operator.post(BASE, json={"assetId": str(asset.id)})
    assert second.status_code == 409 and ws["number"] in second.json()["error"]["message"]
    assert operator.post(BASE, json={"assetId": "nope"}).status_code == 422
    assert operator.post(BASE, json={"assetId": str(uuid.uuid4())}).status_code == 404

    for path, body in (
        ("/labour", {"minutes": 45}),
        ("/codes", {"repairCodeId": str(code.id)}),
        ("/submit", None),
        ("/qc-pass", {}),
        ("/qc-fail", {"notes": "x"}),
        ("/cancel", {}),
    ):
        assert viewer.post(f"{BASE}/{wid}{path}", json=body).status_code == 403, path
    assert viewer.put(f"{BASE}/{wid}/notes", json={"notes": "x"}).status_code == 403
    assert viewer.put(f"{BASE}/{wid}/assignment", json={}).status_code == 403
    issue = {"sparePartId": str(part.id), "quantity": 1}
    assert viewer.post(f"{BASE}/{wid}/parts/issue", json=issue, headers={"Idempotency-Key": "k"}).status_code == 403

    assert operator.post(f"{BASE}/{wid}/labour", json={"minutes": -1}).status_code == 422
    labour = operator.post(f"{BASE}/{wid}/labour", json={"minutes": 45, "note": "screen"})
    assert labour.status_code == 201 and labour.json()["labourMinutes"] == 45
    assert operator.post(f"{BASE}/{wid}/parts/issue", json=issue).status_code == 422  # no key
    first = operator.post(f"{BASE}/{wid}/parts/issue", json=issue, headers={"Idempotency-Key": "api-1"})
    assert first.status_code == 201, first.text
    again = operator.post(f"{BASE}/{wid}/parts/issue", json=issue, headers={"Idempotency-Key": "api-1"})
    assert again.json()["transaction"]["transactionId"] == first.json()["transaction"]["transactionId"]
    assert again.json()["worksheet"]["parts"]["spareParts"][0]["used"] == 1
    too_many = operator.post(
        f"{BASE}/{wid}/parts/issue", json={**issue, "quantity": 9}, headers={"Idempotency-Key": "api-2"}
    )
    assert too_many.status_code == 409 and "only 2" in too_many.json()["error"]["message"]
    back = operator.post(
        f"{BASE}/{wid}/parts/return", json={**issue, "quantity": 2}, headers={"Idempotency-Key": "api-3"}
    )
    assert back.status_code == 409
    assert operator.post(f"{BASE}/{wid}/cancel", json={}).status_code == 409  # still holds a part

    assert operator.post(f"{BASE}/{wid}/submit").status_code == 422  # nothing done yet
    assert operator.post(f"{BASE}/{wid}/codes", json={"repairCodeId": str(code.id)}).status_code == 201
    assert operator.post(f"{BASE}/{wid}/submit").json()["status"] == "in_qc"
    assert operator.post(f"{BASE}/{wid}/qc-fail", json={"notes": ""}).status_code == 422
    failed = operator.post(f"{BASE}/{wid}/qc-fail", json={"notes": "Speaker crackles"}).json()
    assert (failed["status"], failed["qcFailures"], failed["asset"]["status"]) == ("open", 1, "in_repair")
    operator.post(f"{BASE}/{wid}/submit")
    passed = operator.post(f"{BASE}/{wid}/qc-pass", json={}).json()
    assert (passed["status"], passed["asset"]["status"]) == ("passed", "ready_for_dispatch")
    assert operator.post(f"{BASE}/{wid}/qc-pass", json={}).status_code == 409

    listed = viewer.get(BASE, params={"status": "passed"}).json()
    assert listed["total"] == 1 and listed["worksheets"][0]["id"] == wid and listed["counts"]["passed"] == 1
    assert viewer.get(BASE, params={"status": "sideways"}).status_code == 422
    detail = viewer.get(f"{BASE}/{wid}").json()
    assert [e["minutes"] for e in detail["labour"]] == [45] and detail["codes"][0]["doneHere"] is True
    assert viewer.get(f"{BASE}/{uuid.uuid4()}").status_code == 404
    assert viewer.get(f"{BASE}/{wid}/parts").json()["spareParts"][0]["used"] == 1


# --- threads ------------------------------------------------------------------------------------


def _in_threads(n: int, work) -> tuple[list, list[BaseException]]:
    results: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int):
        try:
            start.wait(timeout=10)
            results.append(work(i))
        except BaseException as exc:  # surfaced by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors
