"""Spare parts for repairs (issue 17): units issued to a worksheet and
returned move the shelf through the ledger (whose sum is always the stock);
a retried issue with the same idempotency key issues once, also when ten
arrive at once; the last unit goes to one repair only; a worksheet never
returns more than it was issued; another shop never sees the parts; the API
refuses bad input and a viewer's changes."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from app.api import create_api
from app.inventory import consistency, service
from app.inventory.models import InventoryTransaction, SparePart
from app.platform.db import tenant_session
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import Notification, User
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal

BASE = "/api/v1/inventory/spare-parts"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def tenant():
    return make_tenant()


def _create(tenant, sku="SCR-IP12", name="iPhone 12 screen (OLED)", stock=5, minimum=0, **kw):
    with tenant_session(tenant.id) as s:
        part = service.create_spare_part(
            s,
            service.SparePartData(
                sku=sku,
                name=name,
                manufacturer=kw.pop("manufacturer", "Apple"),
                category=kw.pop("category", "screen"),
                compatible_models=kw.pop("models", ["iPhone 12", "iPhone 12 Pro"]),
                unit_cost=kw.pop("cost", "89.90"),
                minimum_stock=minimum,
                location=kw.pop("location", "A1"),
                stock=stock,
            ),
            actor=staff_principal(tenant),
        )
        s.commit()
        return part


def _issue(tenant, part_id, qty, worksheet, key=None):
    with tenant_session(tenant.id) as s:
        entry = service.issue_spare_part(
            s,
            part_id,
            qty,
            worksheet_id=worksheet,
            idempotency_key=key or uuid.uuid4().hex,
            actor=staff_principal(tenant),
        )
        s.commit()
        return entry


def _return(tenant, part_id, qty, worksheet, key=None):
    with tenant_session(tenant.id) as s:
        entry = service.return_spare_part(
            s,
            part_id,
            qty,
            worksheet_id=worksheet,
            idempotency_key=key or uuid.uuid4().hex,
            actor=staff_principal(tenant),
        )
        s.commit()
        return entry


def _stock(tenant, part_id) -> int:
    with tenant_session(tenant.id) as s:
        return service.get_spare_part(s, part_id).current_stock


def _entries(tenant, part_id, kind: str | None = None) -> list[InventoryTransaction]:
    with tenant_session(tenant.id) as s:
        q = select(InventoryTransaction).where(InventoryTransaction.spare_part_id == part_id)
        if kind:
            q = q.where(InventoryTransaction.transaction_type == kind)
        return list(s.exec(q.order_by(col(InventoryTransaction.created_at))))


def _consistent(tenant) -> None:
    """Every spare part's ledger sums to its units on the shelf."""
    with tenant_session(tenant.id) as s:
        assert consistency.spare_parts(s) == []
        assert consistency.ledger(s) == []
        for part in s.exec(select(SparePart)):
            assert service.spare_part_ledger_sum(s, part.id) == part.current_stock


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


# --- issue and return ----------------------------------------------------------------------------


def test_issuing_and_returning_move_the_shelf_and_the_worksheet_holds_what_it_kept(tenant):
    screen = _create(tenant, stock=5)
    battery = _create(tenant, sku="BAT-IP12", name="iPhone 12 battery", category="battery", cost="19.50", stock=3)
    worksheet = uuid.uuid4()

    entry = _issue(tenant, screen.id, 2, worksheet)
    assert (entry.transaction_type, entry.direction, entry.quantity, entry.stock_after) == ("ISSUED", "OUT", 2, 3)
    assert (entry.reference_type, entry.reference_id) == ("WORKSHEET", str(worksheet))
    _issue(tenant, battery.id, 1, worksheet)
    back = _return(tenant, screen.id, 1, worksheet)
    assert (back.transaction_type, back.direction, back.stock_after) == ("RETURNED", "IN", 4)
    assert _stock(tenant, screen.id) == 4 and _stock(tenant, battery.id) == 2

    with tenant_session(tenant.id) as s:
        held = service.issued_to_worksheet(s, worksheet)
        other = service.issued_to_worksheet(s, uuid.uuid4())
    assert [(h.part.sku, h.issued, h.returned, h.unit_cost) for h in held] == [
        ("BAT-IP12", 1, 0, Decimal("19.50")),
        ("SCR-IP12", 2, 1, Decimal("89.90")),
    ]
    assert sum(h.cost for h in held) == Decimal("109.40") and other == []

    with tenant_session(tenant.id) as s:
        ledger = service.spare_part_ledger(s, screen.id, 10)
    assert [e.transaction_type for e in ledger] == ["RETURNED", "ISSUED", "RECEIVED"]
    assert ledger[-1].reason == "opening stock"
    _consistent(tenant)


def test_a_retried_issue_with_the_same_key_issues_once(tenant):
    part = _create(tenant, stock=4)
    worksheet, key = uuid.uuid4(), "ws-42-screen-1"
    first = _issue(tenant, part.id, 1, worksheet, key)
    again = _issue(tenant, part.id, 1, worksheet, key)
    assert again.id == first.id and _stock(tenant, part.id) == 3
    assert len(_entries(tenant, part.id, "ISSUED")) == 1

    # the same key for another request is refused, not silently answered
    with pytest.raises(Conflict, match="already used for another request"):
        _issue(tenant, part.id, 2, worksheet, key)
    with pytest.raises(Conflict, match="already used for another request"):
        _return(tenant, part.id, 1, worksheet, key)
    # a return is idempotent too
    r1 = _return(tenant, part.id, 1, worksheet, "ws-42-screen-back")
    r2 = _return(tenant, part.id, 1, worksheet, "ws-42-screen-back")
    assert r1.id == r2.id and _stock(tenant, part.id) == 4
    # another shop may use the same key for its own request
    other = make_tenant()
    theirs = _create(other, stock=2)
    assert _issue(other, theirs.id, 1, worksheet, key).id != first.id
    _consistent(tenant)


def test_ten_requests_with_the_same_key_at_once_write_one_entry(tenant):
    part = _create(tenant, stock=10)
    worksheet, key = uuid.uuid4(), f"retry-{uuid.uuid4().hex}"

    def issue(_):
        return _issue(tenant, part.id, 2, worksheet, key).id

    ids, errors = _in_threads(10, issue)
    assert errors == []
    assert len(ids) == 10 and len(set(ids)) == 1
    assert len(_entries(tenant, part.id, "ISSUED")) == 1 and _stock(tenant, part.id) == 8
    _consistent(tenant)


def test_the_same_key_on_two_parts_at_once_is_decided_by_the_unique_index(tenant):
    """No shared row lock here: the ledger's unique index lets one write and
    the other hears the key was used for another request."""
    a = _create(tenant, sku="A", name="Screen A", stock=3)
    b = _create(tenant, sku="B", name="Screen B", stock=3)
    worksheet, key = uuid.uuid4(), f"k-{uuid.uuid4().hex}"
    results, errors = _in_threads(2, lambda i: _issue(tenant, (a, b)[i].id, 1, worksheet, key).id)
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
    assert _stock(tenant, a.id) + _stock(tenant, b.id) == 5
    _consistent(tenant)


def test_the_last_unit_goes_to_one_repair_only(tenant):
    part = _create(tenant, name="Screen X", stock=1)

    def issue(i):
        return _issue(tenant, part.id, 1, uuid.uuid4(), f"last-{i}-{uuid.uuid4().hex}")

    won, errors = _in_threads(6, issue)
    assert len(won) == 1 and len(errors) == 5
    assert all(isinstance(e, Conflict) and "only 0 of Screen X in stock" in e.message for e in errors)
    assert _stock(tenant, part.id) == 0 and len(_entries(tenant, part.id, "ISSUED")) == 1
    _consistent(tenant)


def test_stock_never_goes_below_zero(tenant):
    part = _create(tenant, name="Screen X", stock=2)
    with pytest.raises(Conflict, match="only 2 of Screen X in stock"):
        _issue(tenant, part.id, 3, uuid.uuid4())
    with tenant_session(tenant.id) as s, pytest.raises(Conflict, match="only 2 of Screen X in stock"):
        service.adjust_spare_part(s, part.id, -3, actor=staff_principal(tenant), reason="count")
    # not even a write that skips the service: the table refuses it
    with tenant_session(tenant.id) as s, pytest.raises(DBAPIError):
        s.execute(text("UPDATE spare_parts SET current_stock = -1 WHERE id = :id"), {"id": part.id})
    assert _stock(tenant, part.id) == 2 and len(_entries(tenant, part.id)) == 1
    for bad in (0, -1, True, 100_001):
        with pytest.raises(ValidationFailed):
            _issue(tenant, part.id, bad, uuid.uuid4())
    with pytest.raises(ValidationFailed, match="idempotency key"):
        _issue(tenant, part.id, 1, uuid.uuid4(), key="   ")
    _consistent(tenant)


def test_a_worksheet_never_returns_more_than_it_was_issued(tenant):
    part = _create(tenant, name="Screen X", stock=5)
    ws, other_ws = uuid.uuid4(), uuid.uuid4()
    _issue(tenant, part.id, 2, ws)
    with pytest.raises(Conflict, match="only 2 of Screen X issued to this worksheet"):
        _return(tenant, part.id, 3, ws)
    with pytest.raises(Conflict, match="only 0 of Screen X"):
        _return(tenant, part.id, 1, other_ws)
    _return(tenant, part.id, 1, ws)
    with pytest.raises(Conflict, match="only 1 of Screen X"):
        _return(tenant, part.id, 2, ws)
    _return(tenant, part.id, 1, ws)
    with pytest.raises(Conflict, match="only 0 of Screen X"):
        _return(tenant, part.id, 1, ws)
    assert _stock(tenant, part.id) == 5
    _consistent(tenant)


def test_the_ledger_sums_to_the_stock_through_every_kind_of_change(tenant):
    part = _create(tenant, stock=3)
    p = staff_principal(tenant)
    ws = uuid.uuid4()
    with tenant_session(tenant.id) as s:
        service.receive_spare_part(s, part.id, 10, actor=p, reason="supplier delivery 1182")
        service.adjust_spare_part(s, part.id, -2, actor=p, reason="two cracked in the box")
        service.adjust_spare_part(s, part.id, 1, actor=p, reason="found in drawer B")
        s.commit()
    _issue(tenant, part.id, 4, ws)
    _return(tenant, part.id, 2, ws)
    assert _stock(tenant, part.id) == 3 + 10 - 2 + 1 - 4 + 2
    kinds = [e.transaction_type for e in _entries(tenant, part.id)]
    assert kinds == ["RECEIVED", "RECEIVED", "ADJUSTMENT_OUT", "ADJUSTMENT_IN", "ISSUED", "RETURNED"]
    with tenant_session(tenant.id) as s:
        assert service.spare_part_ledger_sum(s, part.id) == 10
        with pytest.raises(ValidationFailed, match="reason"):
            service.adjust_spare_part(s, part.id, 1, actor=p, reason="  ")
        with pytest.raises(ValidationFailed):
            service.adjust_spare_part(s, part.id, 0, actor=p, reason="nothing")
    # the ledger is immutable
    with tenant_session(tenant.id) as s, pytest.raises(DBAPIError, match="immutable"):
        s.execute(text("UPDATE inventory_transactions SET quantity = 99 WHERE spare_part_id = :id"), {"id": part.id})
    _consistent(tenant)


# --- the parts themselves ---------------------------------------------------------------------------


def test_creating_editing_and_importing_parts(tenant):
    p = staff_principal(tenant)
    part = _create(tenant, stock=0)
    with tenant_session(tenant.id) as s:
        with pytest.raises(Conflict, match="SKU SCR-IP12 is already used"):
            service.create_spare_part(s, service.SparePartData(sku=" SCR-IP12 ", name="Another"), actor=p)
        with pytest.raises(ValidationFailed) as bad:
            service.create_spare_part(
                s, service.SparePartData(sku="", name="", unit_cost="-1", minimum_stock=-2), actor=p
            )
        assert set(bad.value.details["fields"]) == {"sku", "name", "unitCost", "minimumStock"}
        edited = service.update_spare_part(
            s,
            part.id,
            service.SparePartData(
                sku="SCR-IP12",
                name="iPhone 12 screen (OLED, refurbished)",
                category="Screen",
                compatible_models=["iPhone 12", " iphone 12 ", "iPhone 12 Pro"],
                unit_cost="79.5",
                minimum_stock=2,
            ),
            actor=p,
            version=part.version,
        )
        s.commit()
        assert edited.compatible_models == ["iPhone 12", "iPhone 12 Pro"] and edited.category == "screen"
        assert edited.unit_cost == Decimal("79.50") and edited.version == part.version + 1
        with pytest.raises(Conflict, match="changed by someone else"):
            service.update_spare_part(
                s, part.id, service.SparePartData(sku="SCR-IP12", name="Stale"), actor=p, version=part.version
            )

    with tenant_session(tenant.id) as s:
        made, created = service.upsert_spare_part_by_sku(
            s, service.SparePartData(sku="PORT-S21", name="Galaxy S21 charge port", category="port", stock=4), actor=p
        )
        same, again = service.upsert_spare_part_by_sku(
            s,
            service.SparePartData(sku="PORT-S21", name="Galaxy S21 USB-C port", category="port", stock=6),
            actor=p,
        )
        s.commit()
    assert created and not again and same.id == made.id
    assert same.name == "Galaxy S21 USB-C port" and _stock(tenant, made.id) == 6
    assert [e.transaction_type for e in _entries(tenant, made.id)] == ["RECEIVED", "ADJUSTMENT_IN"]
    _consistent(tenant)


def test_the_list_searches_filters_sorts_and_pages(tenant):
    _create(tenant, sku="SCR-IP12", name="iPhone 12 screen", stock=1, minimum=3)
    _create(tenant, sku="BAT-IP11", name="iPhone 11 battery", category="battery", models=["iPhone 11"], stock=8)
    _create(tenant, sku="PORT-PX7", name="Pixel 7 charge port", category="port", models=["Pixel 7"], stock=0, minimum=1)
    _create(tenant, sku="CAM-S22", name="Galaxy S22 rear camera", category="camera", models=["Galaxy S22"], stock=2)

    def ls(**kw):
        with tenant_session(tenant.id) as s:
            rows, total = service.list_spare_parts(s, service.SparePartFilter(**kw))
            return [r.sku for r in rows], total

    assert ls() == (["BAT-IP11", "CAM-S22", "PORT-PX7", "SCR-IP12"], 4)
    assert ls(search="pixel 7") == (["PORT-PX7"], 1)
    assert ls(search="iPhone 12 Pro") == (["SCR-IP12"], 1)  # a compatible model
    assert ls(search="scr-ip") == (["SCR-IP12"], 1)
    assert ls(status="low") == (["PORT-PX7", "SCR-IP12"], 2)
    assert ls(status="out") == (["PORT-PX7"], 1)
    assert ls(category="battery") == (["BAT-IP11"], 1)
    assert ls(sort="stock", descending=True)[0] == ["BAT-IP11", "CAM-S22", "SCR-IP12", "PORT-PX7"]
    assert ls(page=1, page_size=3) == (["SCR-IP12"], 4)
    with tenant_session(tenant.id) as s:
        counts = service.spare_counts(s)
        assert (counts["all"], counts["ok"], counts["low"], counts["out"], counts["below_minimum"]) == (4, 2, 1, 1, 2)
        with pytest.raises(ValidationFailed):
            service.list_spare_parts(s, service.SparePartFilter(status="sideways"))


def test_staff_hear_once_when_a_part_drops_below_its_minimum(tenant):
    admin = make_user(tenant, "admin")
    part = _create(tenant, name="Screen X", stock=4, minimum=2)

    def notes():
        with tenant_session(tenant.id) as s:
            return list(
                s.exec(
                    select(Notification).where(
                        Notification.user_id == admin.id, Notification.kind == "inventory.spare-parts-low"
                    )
                )
            )

    _issue(tenant, part.id, 2, uuid.uuid4())  # 2 left: at the minimum, not below
    assert notes() == []
    _issue(tenant, part.id, 1, uuid.uuid4())  # 1 left: below
    assert len(notes()) == 1 and notes()[0].title == "Screen X is running low"
    assert notes()[0].link.startswith("/inventory/spare-parts")
    _issue(tenant, part.id, 1, uuid.uuid4())  # out: still low, nobody is told again
    assert len(notes()) == 1
    with tenant_session(tenant.id) as s:
        service.receive_spare_part(s, part.id, 5, actor=staff_principal(tenant))
        s.commit()
    _issue(tenant, part.id, 4, uuid.uuid4())  # recovered and dropped again
    assert len(notes()) == 2


# --- shops stay apart ---------------------------------------------------------------------------------


def test_another_shop_never_sees_or_moves_the_parts(tenant):
    part = _create(tenant, stock=3)
    other = make_tenant()
    with tenant_session(other.id) as s:
        assert s.exec(select(func.count()).select_from(SparePart)).one() == 0
        with pytest.raises(NotFound):
            service.get_spare_part(s, part.id)
        with pytest.raises(NotFound):
            service.issue_spare_part(
                s, part.id, 1, worksheet_id=uuid.uuid4(), idempotency_key="x", actor=staff_principal(other)
            )
        # the row policy refuses writing into another shop's name
        with pytest.raises(DBAPIError):
            s.execute(
                text(
                    "INSERT INTO spare_parts (tenant_id, id, sku, name, manufacturer, category, compatible_models, "
                    "unit_cost, current_stock, minimum_stock, location, active, version, created_at, updated_at) "
                    "VALUES (:t, gen_random_uuid(), 'X', 'X', '', 'other', '[]', 0, 0, 0, '', true, 0, now(), now())"
                ),
                {"t": tenant.id},
            )
    with tenant_session(other.id) as s:
        assert s.execute(text("UPDATE spare_parts SET current_stock = 99")).rowcount == 0  # type: ignore[attr-defined]
        s.commit()
    assert _stock(tenant, part.id) == 3
    # the same SKU is free in another shop
    assert _create(other, stock=1).sku == part.sku


# --- the API ------------------------------------------------------------------------------------------


def _client(api, tenant, role: str) -> TestClient:
    user: User = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def test_the_api_with_its_permissions_and_its_refusals(api, tenant):
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    body = {
        "sku": "SCR-IP13",
        "name": "iPhone 13 screen",
        "manufacturer": "Apple",
        "category": "screen",
        "compatibleModels": ["iPhone 13"],
        "unitCost": "99.00",
        "minimumStock": 2,
        "location": "Drawer 3",
        "currentStock": 3,
    }
    assert viewer.post(BASE, json=body).status_code == 403
    assert TestClient(api).get(BASE).status_code == 401
    r = operator.post(BASE, json=body)
    assert r.status_code == 201, r.text
    part = r.json()
    assert (part["currentStock"], part["status"], part["unitCost"], part["version"]) == (3, "ok", "99.00", 0)
    pid = part["id"]
    assert operator.post(BASE, json=body).status_code == 409
    fresh = {**body, "sku": "OTHER"}
    for bad in (
        {**fresh, "sku": ""},
        {**fresh, "sku": "x" * 101},
        {**fresh, "unitCost": "-1"},
        {**fresh, "unitCost": "1.234"},
        {**fresh, "minimumStock": -1},
        {**fresh, "compatibleModels": "iPhone 13"},
        {**fresh, "currentStock": "lots"},
        {k: v for k, v in fresh.items() if k != "name"},
    ):
        assert operator.post(BASE, json=bad).status_code == 422, bad

    listed = viewer.get(BASE, params={"search": "iphone 13"}).json()
    assert listed["total"] == 1 and listed["spareParts"][0]["id"] == pid
    assert viewer.get(BASE, params={"status": "sideways"}).status_code == 422
    assert viewer.get(BASE, params={"sort": "colour"}).status_code == 422
    assert viewer.get(f"{BASE}/{pid}").json()["sku"] == "SCR-IP13"
    assert viewer.get(f"{BASE}/{uuid.uuid4()}").status_code == 404
    assert viewer.get(f"{BASE}/not-an-id").status_code == 422

    edit = {**body, "name": "iPhone 13 screen (OLED)", "version": 0}
    edit.pop("currentStock")
    assert viewer.put(f"{BASE}/{pid}", json=edit).status_code == 403
    r = operator.put(f"{BASE}/{pid}", json=edit)
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["currentStock"] == 3
    assert operator.put(f"{BASE}/{pid}", json=edit).status_code == 409  # version 0 is gone

    received = operator.post(f"{BASE}/{pid}/receive", json={"quantity": 4, "reason": "supplier 7731"})
    assert received.status_code == 201 and received.json()["sparePart"]["currentStock"] == 7
    assert viewer.post(f"{BASE}/{pid}/receive", json={"quantity": 1}).status_code == 403
    assert operator.post(f"{BASE}/{pid}/receive", json={"quantity": 0}).status_code == 422
    adjusted = operator.post(f"{BASE}/{pid}/adjust", json={"delta": -1, "reason": "cracked"})
    assert adjusted.status_code == 201 and adjusted.json()["transaction"]["transactionType"] == "ADJUSTMENT_OUT"
    assert operator.post(f"{BASE}/{pid}/adjust", json={"delta": -50, "reason": "count"}).status_code == 409
    assert operator.post(f"{BASE}/{pid}/adjust", json={"delta": 0, "reason": "count"}).status_code == 422
    assert operator.post(f"{BASE}/{pid}/adjust", json={"delta": 1, "reason": ""}).status_code == 422

    ws = str(uuid.uuid4())
    issue = {"quantity": 2, "worksheetId": ws}
    assert operator.post(f"{BASE}/{pid}/issue", json=issue).status_code == 422  # no Idempotency-Key
    assert viewer.post(f"{BASE}/{pid}/issue", json=issue, headers={"Idempotency-Key": "v"}).status_code == 403
    first = operator.post(f"{BASE}/{pid}/issue", json=issue, headers={"Idempotency-Key": "ws-1"})
    assert first.status_code == 201, first.text
    again = operator.post(f"{BASE}/{pid}/issue", json=issue, headers={"Idempotency-Key": "ws-1"})
    assert again.json()["transaction"]["id"] == first.json()["transaction"]["id"]
    assert again.json()["sparePart"]["currentStock"] == 4
    too_many = operator.post(
        f"{BASE}/{pid}/issue", json={"quantity": 9, "worksheetId": ws}, headers={"Idempotency-Key": "ws-2"}
    )
    assert too_many.status_code == 409 and "only 4 of iPhone 13 screen (OLED) in stock" in too_many.text
    assert (
        operator.post(
            f"{BASE}/{pid}/issue", json={"quantity": 1, "worksheetId": "nope"}, headers={"Idempotency-Key": "ws-3"}
        ).status_code
        == 422
    )
    back = {"quantity": 3, "worksheetId": ws}
    refused = operator.post(f"{BASE}/{pid}/return", json=back, headers={"Idempotency-Key": "ws-r1"})
    assert refused.status_code == 409 and "only 2" in refused.json()["error"]["message"]
    ok = operator.post(f"{BASE}/{pid}/return", json={**back, "quantity": 1}, headers={"Idempotency-Key": "ws-r2"})
    assert ok.status_code == 201 and ok.json()["sparePart"]["currentStock"] == 5
    assert (
        operator.post(f"{BASE}/{uuid.uuid4()}/issue", json=issue, headers={"Idempotency-Key": "x"}).status_code == 404
    )

    ledger = viewer.get(f"{BASE}/{pid}/transactions", params={"pageSize": 3}).json()
    assert ledger["total"] == 5 and [t["transactionType"] for t in ledger["transactions"]] == [
        "RETURNED",
        "ISSUED",
        "ADJUSTMENT_OUT",
    ]
    assert ledger["transactions"][1]["worksheetId"] == ws
    held = viewer.get(f"/api/v1/inventory/worksheets/{ws}/spare-parts").json()
    assert [(h["issued"], h["returned"], h["used"], h["cost"]) for h in held["spareParts"]] == [(2, 1, 1, "99.00")]
    _consistent(tenant)


def test_the_demo_loads_fifteen_parts_once(tenant):
    from app.inventory import spare_parts_demo

    for _ in range(2):
        with tenant_session(tenant.id) as s:
            spare_parts_demo.load(s)
            s.commit()
    with tenant_session(tenant.id) as s:
        rows, total = service.list_spare_parts(s, service.SparePartFilter(page_size=50))
        low, _ = service.list_spare_parts(s, service.SparePartFilter(status="low"))
    assert total == 15 and len({r.category for r in rows}) == 6
    assert {r.sku for r in low} == {"SCR-IP13-OLED", "BAT-PX7", "PORT-PX6-USBC"}
    assert _stock(tenant, next(r.id for r in rows if r.sku == "BAT-IP11")) == 18
    _consistent(tenant)
