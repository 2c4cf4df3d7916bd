"""The QC workbench (issue 17): triage sends each asset where its result
says, with the repair codes found written on it; refusals leave the asset as
it was; a BER review weighs the estimate against the asset's value and the
client's threshold and is decided once; the queues show what waits, oldest
first; another shop never sees a review; a viewer reads but does not change."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import col, select

from app.api import create_api
from app.platform.db import tenant_session
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.models import User, utcnow
from app.repairs.models import AssetStatusChange, BerReview, DeviceRepairCode, RepairAsset, RepairCode
from app.repairs.service import qc
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model


@pytest.fixture
def tenant():
    return make_tenant()


def _canonical(codes: tuple[str, ...] = ("SCR-REPL", "BAT-REPL")) -> list[uuid.UUID]:
    """Ids of canonical repair codes (read through any shop's session)."""
    with tenant_session(make_tenant().id) as s:
        rows = s.exec(select(RepairCode).where(col(RepairCode.tenant_id).is_(None))).all()
        by_code = {c.code: c.id for c in rows}
    assert len(by_code) >= 24
    known = [c for c in codes if c in by_code] or list(by_code)[: len(codes)]
    return [by_code[c] for c in known]


def _asset(tenant, status="received", **fields) -> uuid.UUID:
    with tenant_session(tenant.id) as s:
        a = make_asset(s, status=status, **fields)
        s.commit()
        return a.id


def _triage(tenant, asset_id, result, codes=(), **kw) -> RepairAsset:
    with tenant_session(tenant.id) as s:
        a = qc.triage(
            s,
            asset_id,
            result=result,
            repair_code_ids=list(codes),
            notes=kw.pop("notes", ""),
            actor=staff_principal(tenant),
            **kw,
        )
        s.commit()
        return a


def _get(tenant, asset_id) -> RepairAsset:
    with tenant_session(tenant.id) as s:
        a = s.get(RepairAsset, asset_id)
        assert a is not None
        return a


def _history(tenant, asset_id) -> list[tuple[str, str]]:
    with tenant_session(tenant.id) as s:
        rows = s.exec(
            select(AssetStatusChange)
            .where(AssetStatusChange.asset_id == asset_id)
            .order_by(col(AssetStatusChange.changed_at), col(AssetStatusChange.id))
        ).all()
        return [(r.from_status, r.to_status) for r in rows]


def _codes_on(tenant, asset_id) -> list[tuple[uuid.UUID | None, str]]:
    with tenant_session(tenant.id) as s:
        return [
            (r.repair_code_id, r.source)
            for r in s.exec(select(DeviceRepairCode).where(DeviceRepairCode.asset_id == asset_id))
        ]


# --- triage -----------------------------------------------------------------------------------


def test_each_triage_result_moves_the_asset_where_it_belongs(tenant):
    screen, battery = _canonical()
    repairable = _asset(tenant)  # received: goes through triage first
    result = _triage(tenant, repairable, "repairable", [screen, battery, screen], notes="  cracked screen  ")
    assert result.status == "in_repair"
    assert result.triage_result == "repairable" and result.triage_notes == "cracked screen"
    assert result.triaged_at is not None and result.triaged_by_name == "Tests"
    assert _history(tenant, repairable) == [("received", "in_triage"), ("in_triage", "in_repair")]
    assert sorted(_codes_on(tenant, repairable)) == sorted([(screen, "triage"), (battery, "triage")])

    waiting = _asset(tenant, status="in_triage")
    assert _triage(tenant, waiting, "repairable", [battery], awaiting_parts=True).status == "awaiting_parts"

    suspected = _asset(tenant)
    assert _triage(tenant, suspected, "ber_suspected", [screen]).status == "ber_review"
    with tenant_session(tenant.id) as s:
        review = qc.open_review_for(s, suspected)
        assert review is not None and review.decision == "" and review.requested_by_name == "Tests"

    for result_name in ("no_fault", "unrepairable"):
        aid = _asset(tenant)
        assert _triage(tenant, aid, result_name, notes="tested for an hour").status == "return_unrepaired"
        assert _get(tenant, aid).triage_result == result_name
        assert _codes_on(tenant, aid) == []


def test_triage_refusals_leave_the_asset_as_it_was(tenant):
    screen, _ = _canonical()
    other = make_tenant()
    with tenant_session(other.id) as s:
        foreign = RepairCode(tenant_id=other.id, code="OTHER-1", name="Another shop's code")
        s.add(foreign)
        s.commit()
        foreign_id = foreign.id
    with tenant_session(tenant.id) as s:
        own = RepairCode(tenant_id=tenant.id, code="OWN-1", name="Our own code")
        retired = RepairCode(tenant_id=tenant.id, code="OLD-1", name="Retired code", active=False)
        s.add_all([own, retired])
        s.commit()
        own_id, retired_id = own.id, retired.id

    aid = _asset(tenant)
    with pytest.raises(ValidationFailed, match="unknown repair code"):
        _triage(tenant, aid, "repairable", [screen, uuid.uuid4()])
    with pytest.raises(ValidationFailed, match="unknown repair code"):
        _triage(tenant, aid, "repairable", [foreign_id])
    with pytest.raises(ValidationFailed, match="no longer in use"):
        _triage(tenant, aid, "repairable", [retired_id])
    with pytest.raises(ValidationFailed, match="at least one repair code"):
        _triage(tenant, aid, "repairable", [])
    with pytest.raises(ValidationFailed, match="only a repairable asset waits for parts"):
        _triage(tenant, aid, "no_fault", awaiting_parts=True)
    with pytest.raises(ValidationFailed, match="triage result is one of"):
        _triage(tenant, aid, "broken", [screen])
    with pytest.raises(NotFound):
        _triage(tenant, uuid.uuid4(), "no_fault")
    assert _get(tenant, aid).status == "received"  # nothing of the refused triages stayed
    assert _history(tenant, aid) == [] and _codes_on(tenant, aid) == []

    # the shop's own code is fine; once triaged the asset is not triaged again
    assert _triage(tenant, aid, "repairable", [own_id]).status == "in_repair"
    with pytest.raises(InvalidTransition, match="no longer in triage; it was triaged on"):
        _triage(tenant, aid, "no_fault")
    in_repair = _asset(tenant, status="awaiting_parts")
    with pytest.raises(InvalidTransition, match="awaiting parts, no longer in triage"):
        _triage(tenant, in_repair, "repairable", [screen])


def test_the_codes_a_triage_offers_are_the_canonical_ones_and_the_shops_own(tenant):
    other = make_tenant()
    with tenant_session(other.id) as s:
        s.add(RepairCode(tenant_id=other.id, code="ZZ-OTHER", name="Not ours"))
        s.commit()
    with tenant_session(tenant.id) as s:
        s.add(RepairCode(tenant_id=tenant.id, code="ZZ-OWN", name="Water damage clean"))
        s.add(RepairCode(tenant_id=tenant.id, code="ZZ-OLD", name="Retired", active=False))
        s.commit()
        codes = qc.triage_codes(s)
        names = {c.code for c in codes}
        assert "ZZ-OWN" in names and "ZZ-OTHER" not in names and "ZZ-OLD" not in names
        assert sum(c.canonical for c in codes) >= 24
        assert [c.code for c in qc.triage_codes(s, "water")] == ["ZZ-OWN"]


# --- BER reviews ------------------------------------------------------------------------------


def test_ber_figures_come_from_the_asset_value_and_the_clients_threshold(tenant):
    with tenant_session(tenant.id) as s:
        client = make_client(s, ber_threshold_percent=60)
        batch = make_batch(s, client)
        model = make_device_model(s, typical_value=Decimal("250.00"))
        declared = make_asset(s, status="in_triage", batch=batch, declared_value=Decimal("400"))
        typical = make_asset(s, status="in_repair", batch=batch, device_model_id=model.id)
        unknown = make_asset(s, status="in_triage", batch=batch)
        received = make_asset(s, status="received", batch=batch)
        s.commit()
        ids = declared.id, typical.id, unknown.id, received.id
    p = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        r = qc.open_ber_review(s, ids[0], estimated_parts="180", estimated_labour=Decimal("60"), actor=p)
        assert (r.asset_value, r.threshold_percent, r.cost_percent) == (Decimal("400.00"), 60, Decimal("60.00"))
        assert not qc.ber_row(s, r.id).over_threshold  # at the threshold is not beyond it
        r2 = qc.open_ber_review(s, ids[1], estimated_parts="150", estimated_labour="50", actor=p)
        assert r2.asset_value == Decimal("250.00") and r2.cost_percent == Decimal("80.00")
        assert qc.ber_row(s, r2.id).over_threshold
        with pytest.raises(ValidationFailed, match="no declared value"):
            qc.open_ber_review(s, ids[2], estimated_parts="10", estimated_labour="0", actor=p)
        r3 = qc.open_ber_review(s, ids[2], estimated_parts="10", estimated_labour="5", asset_value="30", actor=p)
        assert r3.cost_percent == Decimal("50.00")
        with pytest.raises(InvalidTransition, match="opened from triage or repair"):
            qc.open_ber_review(s, ids[3], estimated_parts="1", estimated_labour="1", actor=p)
        with pytest.raises(ValidationFailed, match="cannot be negative"):
            qc.open_ber_review(s, ids[0], estimated_parts="-1", estimated_labour="1", actor=p)
        s.commit()
    # estimating again changes the one open review
    with tenant_session(tenant.id) as s:
        again = qc.open_ber_review(s, ids[0], estimated_parts="300", estimated_labour="20", actor=p)
        s.commit()
        assert again.id == r.id and again.cost_percent == Decimal("80.00")
        assert len(s.exec(select(BerReview).where(BerReview.asset_id == ids[0])).all()) == 1
        assert s.get(RepairAsset, ids[1]).status == "ber_review"  # type: ignore[union-attr]


def _review(tenant, parts="100", labour="50", value="300", threshold=70) -> tuple[uuid.UUID, uuid.UUID]:
    with tenant_session(tenant.id) as s:
        batch = make_batch(s, make_client(s, ber_threshold_percent=threshold))
        a = make_asset(s, status="in_triage", batch=batch, declared_value=Decimal(value))
        s.commit()
        asset_id = a.id
    _triage(tenant, asset_id, "ber_suspected", estimated_parts=parts, estimated_labour=labour)
    with tenant_session(tenant.id) as s:
        review = qc.open_review_for(s, asset_id)
        assert review is not None
        return asset_id, review.id


def _decide(tenant, review_id, decision, notes="", principal=None) -> BerReview:
    with tenant_session(tenant.id) as s:
        r = qc.decide_ber(s, review_id, decision=decision, notes=notes, actor=principal or staff_principal(tenant))
        s.commit()
        return r


def test_each_decision_moves_the_asset_and_a_review_is_decided_once(tenant):
    for decision, status in (
        ("return_unrepaired", "return_unrepaired"),
        ("scrap", "scrapped"),
        ("repair", "in_repair"),
    ):
        asset_id, review_id = _review(tenant)  # 50% of the value: under the threshold
        before = utcnow()
        r = _decide(tenant, review_id, decision)
        assert r.decision == decision and r.decided_by_name == "Tests"
        assert r.decided_at is not None and before - timedelta(seconds=5) <= r.decided_at <= utcnow()
        assert _get(tenant, asset_id).status == status
        assert _history(tenant, asset_id)[-1] == ("ber_review", status)
        with pytest.raises(Conflict, match="already decided by Tests at .*: " + decision.split("_")[0]):
            _decide(tenant, review_id, "repair", notes="changed my mind")
        assert _get(tenant, asset_id).status == status
    with pytest.raises(ValidationFailed, match="decision is one of"):
        _decide(tenant, _review(tenant)[1], "fix")


def test_repairing_beyond_the_threshold_needs_a_reason(tenant):
    asset_id, review_id = _review(tenant, parts="250", labour="50", value="300", threshold=70)  # 100%
    with tenant_session(tenant.id) as s:
        row = qc.ber_row(s, review_id)
        assert row.over_threshold and row.cost_percent == Decimal("100.00") and row.cost == Decimal("300.00")
    with pytest.raises(ValidationFailed, match="over the client's threshold of 70%"):
        _decide(tenant, review_id, "repair", notes="   ")
    assert _get(tenant, asset_id).status == "ber_review"
    r = _decide(tenant, review_id, "repair", notes="The client's CEO's phone: repair whatever it costs.")
    assert r.notes.startswith("The client's CEO") and _get(tenant, asset_id).status == "in_repair"


def test_a_review_of_an_asset_on_hold_waits_until_it_is_back(tenant):
    asset_id, review_id = _review(tenant)
    with tenant_session(tenant.id) as s:
        s.execute(
            text("UPDATE repair_assets SET status = 'on_hold', held_from = 'ber_review' WHERE id = :id"),
            {"id": asset_id},
        )
        s.commit()
    with pytest.raises(InvalidTransition, match="take it off hold first"):
        _decide(tenant, review_id, "scrap")
    with tenant_session(tenant.id) as s:
        assert s.get(BerReview, review_id).decision == ""  # type: ignore[union-attr]


# --- queues -----------------------------------------------------------------------------------


def test_the_queues_show_what_waits_oldest_first(tenant):
    screen, _ = _canonical()
    now = utcnow()
    with tenant_session(tenant.id) as s:
        client = make_client(s, name="Acme Leasing")
        batch = make_batch(s, client, client_reference="PO-778")
        model = make_device_model(s, "Samsung", "Galaxy S21")
        newest = make_asset(s, batch=batch, received_at=now, device_model_id=model.id)
        oldest = make_asset(s, batch=batch, status="in_triage", received_at=now - timedelta(days=2), imei="111")
        middle = make_asset(s, batch=batch, received_at=now - timedelta(days=1))
        make_asset(s, batch=batch, status="in_repair", received_at=now - timedelta(days=9))
        s.add(DeviceRepairCode(tenant_id=tenant.id, asset_id=middle.id, repair_code_id=screen, source="drfone_auto"))
        s.commit()
        order = [oldest.id, middle.id, newest.id]
    with tenant_session(tenant.id) as s:
        rows, total = qc.triage_queue(s, qc.QueueFilter())
        assert total == 3 and [r.id for r in rows] == order
        assert rows[1].known_codes == ["SCR-REPL"] and rows[0].client == "Acme Leasing"
        assert rows[2].device == "Samsung Galaxy S21"
        page2, total = qc.triage_queue(s, qc.QueueFilter(page=1, page_size=2))
        assert total == 3 and [r.id for r in page2] == [newest.id]
        assert [r.id for r in qc.triage_queue(s, qc.QueueFilter(search="galaxy"))[0]] == [newest.id]
        assert qc.triage_queue(s, qc.QueueFilter(search="PO-778 acme"))[1] == 3
        assert qc.triage_queue(s, qc.QueueFilter(search="nothing-like-it"))[1] == 0
        assert qc.qc_counts(s) == {"triage": 3, "ber": 0, "over_threshold": 0}

    _triage(tenant, oldest.id, "ber_suspected", estimated_parts="900", estimated_labour="0", asset_value="500")
    _, r2 = _review(tenant)
    with tenant_session(tenant.id) as s:
        assert qc.qc_counts(s) == {"triage": 2, "ber": 2, "over_threshold": 1}
        rows, total = qc.ber_queue(s, qc.QueueFilter())
        assert total == 2 and rows[0].asset_id == oldest.id and rows[0].over_threshold
        assert rows[1].id == r2 and not rows[1].over_threshold
    _decide(tenant, r2, "return_unrepaired")
    with tenant_session(tenant.id) as s:
        rows, total = qc.ber_queue(s, qc.QueueFilter())
        assert total == 1 and rows[0].asset_id == oldest.id
        assert qc.ber_row(s, r2).decision == "return_unrepaired"  # still readable once decided


def test_another_shop_never_sees_or_changes_a_review(tenant):
    asset_id, review_id = _review(tenant)
    other = make_tenant()
    with tenant_session(other.id) as s:
        assert s.exec(select(BerReview)).all() == []
        assert qc.ber_queue(s, qc.QueueFilter())[1] == 0
        assert qc.qc_counts(s)["ber"] == 0
        with pytest.raises(NotFound):
            qc.decide_ber(s, review_id, decision="scrap", actor=staff_principal(other))
        with pytest.raises(NotFound):
            qc.triage(s, asset_id, result="no_fault", repair_code_ids=[], actor=staff_principal(other))
        assert s.execute(text("UPDATE ber_reviews SET decision = 'scrap'")).rowcount == 0  # type: ignore[attr-defined]
        s.commit()
    with tenant_session(tenant.id) as s:
        assert s.get(BerReview, review_id).decision == ""  # type: ignore[union-attr]


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role: str) -> tuple[TestClient, User]:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c, user


def test_the_api_reads_for_a_viewer_and_changes_for_an_operator(api, tenant):
    (viewer, _), (operator, op_user) = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    screen, battery = _canonical()
    first, second = _asset(tenant), _asset(tenant)

    queue = viewer.get("/api/v1/repairs/qc/triage", params={"pageSize": 1}).json()
    assert queue["total"] == 2 and len(queue["assets"]) == 1 and queue["assets"][0]["id"] == str(first)
    codes = viewer.get("/api/v1/repairs/qc/repair-codes", params={"search": "SCR-REPL"}).json()["codes"]
    assert [c["code"] for c in codes] == ["SCR-REPL"] and codes[0]["canonical"] is True

    body = {"result": "repairable", "repairCodeIds": [str(screen), str(battery)], "notes": "two faults"}
    assert viewer.post(f"/api/v1/repairs/assets/{first}/triage", json=body).status_code == 403
    assert operator.post(f"/api/v1/repairs/assets/{first}/triage", json={"result": "broken"}).status_code == 422
    done = operator.post(f"/api/v1/repairs/assets/{first}/triage", json=body)
    assert done.status_code == 200, done.text
    assert done.json()["asset"]["status"] == "in_repair" and done.json()["asset"]["triagedBy"] == "Test Operator"
    again = operator.post(f"/api/v1/repairs/assets/{first}/triage", json=body)
    assert again.status_code == 409 and "no longer in triage" in again.json()["error"]["message"]

    ber = {"result": "ber_suspected", "estimatedParts": "120.00", "estimatedLabour": "30", "assetValue": "100"}
    opened = operator.post(f"/api/v1/repairs/assets/{second}/triage", json=ber).json()
    review = opened["berReview"]
    assert opened["asset"]["status"] == "ber_review"
    assert review["costPercent"] == "150.00" and review["beyondEconomicRepair"] is True
    listed = viewer.get("/api/v1/repairs/qc/ber-reviews").json()
    assert listed["total"] == 1 and listed["reviews"][0]["id"] == review["id"]
    assert viewer.get("/api/v1/repairs/qc/counts").json() == {"triage": 0, "berReview": 1, "beyondEconomicRepair": 1}

    estimate = {"estimatedParts": "10", "estimatedLabour": "10"}
    assert viewer.post(f"/api/v1/repairs/assets/{second}/ber-review", json=estimate).status_code == 403
    decision_url = f"/api/v1/repairs/ber-reviews/{review['id']}/decision"
    assert viewer.post(decision_url, json={"decision": "scrap"}).status_code == 403
    no_reason = operator.post(decision_url, json={"decision": "repair"})
    assert no_reason.status_code == 422 and "threshold" in no_reason.json()["error"]["message"]
    decided = operator.post(decision_url, json={"decision": "return_unrepaired", "notes": "too dear"})
    assert decided.status_code == 200 and decided.json()["decidedBy"] == "Test Operator"
    twice = operator.post(decision_url, json={"decision": "scrap"})
    assert twice.status_code == 409 and "already decided by Test Operator" in twice.json()["error"]["message"]
    assert viewer.get(f"/api/v1/repairs/ber-reviews/{review['id']}").json()["decision"] == "return_unrepaired"
    assert viewer.get(f"/api/v1/repairs/ber-reviews/{uuid.uuid4()}").status_code == 404
    assert _get(tenant, second).status == "return_unrepaired"
    with tenant_session(tenant.id) as s:
        assert s.get(BerReview, uuid.UUID(review["id"])).decided_by_id == op_user.id  # type: ignore[union-attr]
