"""PC parts for builds (issue 15): a builder order reserves its parts (their
availability drops, in the builder too), completing its build consumes them,
cancelling releases them, all through the ledger whose sums equal the units
on hand; a price list or an offer edit writes its adjustment; staff hear
once when a part runs low; the parts API and its permissions."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app.api import create_api
from app.builder import evaluation as ev
from app.builder import index, rules
from app.builder import service as builder
from app.catalog import service as catalog_service
from app.catalog.models import PartOffer
from app.inventory import consistency, service
from app.inventory.models import InventoryTransaction, PartReservation
from app.orders import service as orders
from app.orders.models import Order
from app.platform.db import tenant_session
from app.platform.errors import Conflict, ValidationFailed
from app.platform.models import EventLog, Notification, User
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal

ADDRESS = {
    "name": "Ada Lovelace",
    "street": "Damrak",
    "house_number": "1",
    "postal_code": "1012 LG",
    "city": "Amsterdam",
    "country_code": "NL",
    "phone": "+31 20 123 4567",
}


@pytest.fixture(scope="module")
def api():
    return create_api()


def _one(slot: str, pred) -> rules.Part:
    return next(e.part for e in index.catalog().by_slot[slot] if pred(e.part))


@pytest.fixture
def shop(catalog):
    """A fresh shop selling an AM5 CPU (3 on hand), a board (1) and a DDR5 kit
    (5), set through the catalog's offer edit (so the ledger opens with them)."""
    cpu = _one("cpu", lambda p: p.specs["socket"] == "AM5" and p.specs["memory_types"] == ["DDR5"])
    board = _one(
        "motherboard",
        lambda p: (
            p.specs["socket"] == "AM5" and p.specs["memory_type"] == "DDR5" and (p.specs["memory_slots"] or 0) >= 2
        ),
    )
    kit = _one("ram", lambda p: p.specs["memory_type"] == "DDR5" and p.specs["modules"] == 2)
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        for part, price, stock in ((cpu, "329.00", 3), (board, "219.90", 1), (kit, "109.95", 5)):
            catalog_service.set_offer(s, part.id, price=price, stock=stock, actor=None)
        s.commit()
    admin = make_user(tenant, "admin")
    return tenant, admin, {"cpu": cpu, "board": board, "kit": kit}


def _slots(parts, *, kits: int = 2) -> dict[str, list[str]]:
    return {"cpu": [parts["cpu"].id], "motherboard": [parts["board"].id], "ram": [parts["kit"].id] * kits}


def _order(tenant, slots) -> Order:
    with tenant_session(tenant.id) as s:
        order = builder.order_slots(s, slots, ADDRESS, email="guest@example.com")
        s.commit()
        return order


def _offer(tenant, part) -> PartOffer:
    with tenant_session(tenant.id) as s:
        return s.exec(select(PartOffer).where(PartOffer.part_id == uuid.UUID(part.id))).one()


def _available(tenant, part) -> int:
    with tenant_session(tenant.id) as s:
        return service.availability(s, _offer(tenant, part).id)


def _reservations(tenant, order_id) -> list[PartReservation]:
    with tenant_session(tenant.id) as s:
        return service.reservations_for_order(s, order_id)


def _entries(tenant, part, kind: str | None = None) -> list[InventoryTransaction]:
    offer = _offer(tenant, part)
    with tenant_session(tenant.id) as s:
        q = select(InventoryTransaction).where(InventoryTransaction.part_offer_id == offer.id)
        if kind:
            q = q.where(InventoryTransaction.transaction_type == kind)
        return list(s.exec(q.order_by(col(InventoryTransaction.created_at))))


def _consistent(tenant) -> None:
    """Every part's ledger sums to its units on hand and its reservations."""
    with tenant_session(tenant.id) as s:
        assert consistency.parts(s) == []
        for offer in s.exec(select(PartOffer)):
            assert service.part_ledger_sum(s, offer.id) == offer.stock


def _words(tenant, slots, slot: str) -> str:
    with tenant_session(tenant.id) as s:
        return ev.evaluate_build(s, slots).parts[slot][0].availability


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def _complete_build(c: TestClient, order_id) -> None:
    bid = c.post("/api/v1/builds", json={"orderId": str(order_id)}).json()["id"]
    for status in ("in_progress", "testing"):
        assert c.patch(f"/api/v1/builds/{bid}", json={"status": status}).status_code == 200
    c.put(f"/api/v1/builds/{bid}/qa", json={"checklist": [{"item": "Boots", "done": True}]})
    assert c.post(f"/api/v1/builds/{bid}/qa/sign-off", json={"passed": True}).status_code == 200
    r = c.patch(f"/api/v1/builds/{bid}", json={"status": "completed"})
    assert r.status_code == 200, r.text


# --- reserve, consume, release ------------------------------------------------------------------


def test_a_builder_order_reserves_its_parts_and_its_completed_build_consumes_them(api, shop, worker):
    tenant, _, parts = shop
    slots = _slots(parts)
    assert _words(tenant, slots, "cpu") == "In stock"  # 3 available, low at 2
    assert _words(tenant, slots, "motherboard") == "1 left"

    order = _order(tenant, slots)
    worker()
    held = _reservations(tenant, order.id)
    assert sorted((r.quantity, r.status) for r in held) == [(1, "ACTIVE"), (1, "ACTIVE"), (2, "ACTIVE")]
    assert _available(tenant, parts["cpu"]) == 2 and _offer(tenant, parts["cpu"]).stock == 3  # on hand unchanged
    assert _available(tenant, parts["kit"]) == 3  # the kit twice: one line of 2
    assert _available(tenant, parts["board"]) == 0
    # the builder shows it at once (the reservation bumped the offers version)
    assert _words(tenant, slots, "cpu") == "2 left"
    assert _words(tenant, slots, "motherboard") == "Back-order"
    with tenant_session(tenant.id) as s:
        pick = ev.pick_list(s, {}, "cpu", search=parts["cpu"].name, compatible_only=False)
        assert next(i for i in pick.items if i.part_id == parts["cpu"].id).availability == "2 left"
    reserved = _entries(tenant, parts["cpu"], "RESERVED")
    assert len(reserved) == 1 and reserved[0].order_id == order.id and reserved[0].stock_after == 2
    assert reserved[0].reference_type == "LINE_ITEM" and reserved[0].direction == "OUT"
    _consistent(tenant)

    # the order.created handler again (a redelivery) reserves nothing more
    with tenant_session(tenant.id) as s:
        assert service.reserve_for_order(s, order.id) == []
        s.commit()
    assert _available(tenant, parts["cpu"]) == 2

    # the build completes: the parts leave the shelf
    _complete_build(_client(api, tenant, "operator"), order.id)
    worker()
    assert {r.status for r in _reservations(tenant, order.id)} == {"CONSUMED"}
    assert _offer(tenant, parts["cpu"]).stock == 2 and _available(tenant, parts["cpu"]) == 2
    assert _offer(tenant, parts["kit"]).stock == 3 and _offer(tenant, parts["board"]).stock == 0
    used = _entries(tenant, parts["kit"], "CONSUMED")
    assert [(e.quantity, e.stock_after, e.direction) for e in used] == [(2, 3, "OUT")]
    assert "build of order" in used[0].reason
    _consistent(tenant)


def test_cancelling_a_builder_order_releases_its_parts(shop, worker):
    tenant, _, parts = shop
    slots = _slots(parts, kits=1)
    order = _order(tenant, slots)
    worker()
    assert _available(tenant, parts["cpu"]) == 2
    with tenant_session(tenant.id) as s:
        orders.cancel(s, order.id, actor=staff_principal(tenant), reason="customer")
        s.commit()
    assert {r.status for r in _reservations(tenant, order.id)} == {"RELEASED"}
    assert _available(tenant, parts["cpu"]) == 3 and _available(tenant, parts["board"]) == 1
    released = _entries(tenant, parts["cpu"], "RELEASED")
    assert [(e.quantity, e.stock_after, e.direction) for e in released] == [(1, 3, "IN")]
    assert _words(tenant, slots, "cpu") == "In stock"
    with tenant_session(tenant.id) as s:
        timeline = [e.message for e in orders.timeline(s, order.id)]
    assert any(m.startswith("Parts free again (order cancelled)") for m in timeline)
    _consistent(tenant)

    # an order cancelled before its order.created handler ran reserves nothing
    quick = _order(tenant, slots)
    with tenant_session(tenant.id) as s:
        orders.cancel(s, quick.id, actor=None, reason="customer")
        s.commit()
    worker()
    assert _reservations(tenant, quick.id) == []
    assert _available(tenant, parts["cpu"]) == 3
    _consistent(tenant)


def test_a_build_takes_only_what_is_on_the_books_and_says_so(shop, worker):
    tenant, _, parts = shop
    order = _order(tenant, _slots(parts, kits=1))
    worker()
    board = _offer(tenant, parts["board"])
    with tenant_session(tenant.id) as s:  # the last board was found broken: removed by hand
        service.adjust_part(s, board.id, 1, "OUT", "found broken", actor=staff_principal(tenant))
        s.commit()
    assert _available(tenant, parts["board"]) == -1  # on back-order for this build
    with tenant_session(tenant.id) as s:
        assert service.consume_for_build(s, order.id) == 2  # the CPU and the kit; no board was there
        s.commit()
    assert _offer(tenant, parts["board"]).stock == 0
    assert _entries(tenant, parts["board"], "CONSUMED") == []
    with tenant_session(tenant.id) as s:
        warnings = s.exec(
            select(EventLog.message).where(
                EventLog.order_id == order.id, EventLog.event_type == "inventory.parts-short"
            )
        ).all()
        assert len(warnings) == 1 and "only 0 of 1 were on the books" in warnings[0]
        assert service.consume_for_build(s, order.id) == 0  # a second completion consumes nothing more
    assert {r.status for r in _reservations(tenant, order.id)} == {"CONSUMED"}
    _consistent(tenant)


def test_concurrent_orders_keep_the_ledger_and_the_reservations_in_step(shop, worker):
    tenant, _, parts = shop
    slots = {"cpu": [parts["cpu"].id]}
    placed = [_order(tenant, slots) for _ in range(6)]
    errors: list[BaseException] = []

    def reserve(order_id):
        try:
            with tenant_session(tenant.id) as s:
                service.reserve_for_order(s, order_id)
                s.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reserve, args=(o.id,)) for o in placed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    worker()  # the handlers find them reserved already
    assert _available(tenant, parts["cpu"]) == 3 - 6  # three on back-order
    afters = sorted(e.stock_after for e in _entries(tenant, parts["cpu"], "RESERVED"))
    assert afters == [-3, -2, -1, 0, 1, 2]  # each reservation saw the one before it
    assert _words(tenant, slots, "cpu") == "Back-order"
    _consistent(tenant)


# --- the catalog's stock changes -------------------------------------------------------------------


def test_a_price_list_and_an_offer_edit_write_adjustments(shop):
    tenant, _, parts = shop
    cpu = parts["cpu"]
    opening = _entries(tenant, cpu)
    assert [(e.transaction_type, e.quantity, e.reason) for e in opening] == [("ADJUSTMENT_IN", 3, "offer edited")]
    csv = f"opendb_id,price,stock\n{cpu.id},329.00,10\n{parts['kit'].id},109.95,5\n"
    with tenant_session(tenant.id) as s:
        result = catalog_service.import_price_list(s, csv, "april.csv", actor=staff_principal(tenant))
        s.commit()
    assert (result.updated, result.unchanged) == (1, 1)
    last = _entries(tenant, cpu)[-1]
    assert (last.transaction_type, last.quantity, last.stock_after, last.reason) == (
        "ADJUSTMENT_IN",
        7,
        10,
        "price list april.csv",
    )
    assert len(_entries(tenant, parts["kit"])) == 1  # unchanged stock: no entry
    with tenant_session(tenant.id) as s:
        catalog_service.set_offer(s, cpu.id, price="319.00", stock=4, actor=None)
        catalog_service.set_offer(s, cpu.id, price="309.00", stock=4, actor=None)  # the price only: no entry
        s.commit()
    last = _entries(tenant, cpu)[-1]
    assert (last.transaction_type, last.quantity, last.stock_after, last.reason) == (
        "ADJUSTMENT_OUT",
        6,
        4,
        "offer edited",
    )
    assert len(_entries(tenant, cpu)) == 3
    # a price list that fails as a whole changes nothing (the hook's entries roll back with it)
    with tenant_session(tenant.id) as s:
        with pytest.raises(ValidationFailed):
            catalog_service.import_price_list(s, "price,stock\n1,2\n", "broken.csv")
        s.rollback()
    assert len(_entries(tenant, cpu)) == 3
    _consistent(tenant)


def test_adjusting_a_part_by_hand_needs_a_reason_and_never_goes_below_zero(shop):
    tenant, _, parts = shop
    board = _offer(tenant, parts["board"])
    p = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        with pytest.raises(ValidationFailed):
            service.adjust_part(s, board.id, 2, "IN", "   ", actor=p)
        with pytest.raises(ValidationFailed):
            service.adjust_part(s, board.id, 0, "IN", "delivery", actor=p)
        with pytest.raises(Conflict) as exc:
            service.adjust_part(s, board.id, 2, "OUT", "count", actor=p)
        assert "only 1" in exc.value.message
        s.rollback()
    with tenant_session(tenant.id) as s:
        entry = service.adjust_part(s, board.id, 4, "IN", "delivery from the wholesaler", actor=p)
        s.commit()
        assert (entry.transaction_type, entry.stock_after, entry.reference_type) == ("ADJUSTMENT_IN", 5, "MANUAL")
    assert _offer(tenant, parts["board"]).stock == 5
    _consistent(tenant)


# --- low stock -------------------------------------------------------------------------------------


def _low_notes(tenant, user: User) -> list[Notification]:
    with tenant_session(tenant.id) as s:
        return list(
            s.exec(
                select(Notification).where(Notification.user_id == user.id, Notification.kind == "inventory.parts-low")
            )
        )


def test_staff_hear_once_when_a_part_runs_low_and_again_after_it_recovered(shop, worker):
    tenant, admin, parts = shop
    slots = {"ram": [parts["kit"].id]}  # 5 on hand, low at 2
    first, second = _order(tenant, slots), _order(tenant, slots)
    worker()
    assert _available(tenant, parts["kit"]) == 3 and _low_notes(tenant, admin) == []
    third = _order(tenant, slots)
    worker()
    notes = _low_notes(tenant, admin)
    assert len(notes) == 1 and parts["kit"].name in notes[0].title and notes[0].link.startswith("/inventory/parts")
    assert "2 available" in notes[0].body
    _order(tenant, slots)  # 1 available: still low, nobody is told again
    worker()
    assert len(_low_notes(tenant, admin)) == 1
    with tenant_session(tenant.id) as s:
        for o in (first, second, third):
            orders.cancel(s, o.id, actor=None, reason="customer")
        s.commit()
    assert _available(tenant, parts["kit"]) == 4  # recovered
    _order(tenant, slots)
    _order(tenant, slots)
    worker()
    assert _available(tenant, parts["kit"]) == 2 and len(_low_notes(tenant, admin)) == 2
    # a lower threshold: 2 available is no longer low
    with tenant_session(tenant.id) as s:
        service.set_low_threshold(s, 1, actor=staff_principal(tenant))
        s.commit()
    assert _words(tenant, slots, "ram") == "In stock"
    with tenant_session(tenant.id) as s, pytest.raises(ValidationFailed):
        service.set_low_threshold(s, -1, actor=staff_principal(tenant))


# --- the API ---------------------------------------------------------------------------------------


def test_the_parts_api_lists_adjusts_and_shows_the_ledger_with_its_permissions(api, shop, worker):
    tenant, _, parts = shop
    order = _order(tenant, _slots(parts, kits=1))
    worker()
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    board = _offer(tenant, parts["board"])

    listed = viewer.get("/api/v1/inventory/parts", params={"sort": "available"}).json()
    assert listed["total"] == 3 and listed["lowThreshold"] == 2
    first = listed["parts"][0]
    assert (first["name"], first["onHand"], first["reserved"], first["available"], first["status"]) == (
        parts["board"].name,
        1,
        1,
        0,
        "backorder",
    )
    low = viewer.get("/api/v1/inventory/parts", params={"status": "low"}).json()["parts"]
    assert [p["name"] for p in low] == [parts["cpu"].name]  # 2 available
    assert viewer.get("/api/v1/inventory/parts", params={"slot": "ram"}).json()["total"] == 1
    assert viewer.get("/api/v1/inventory/parts", params={"slot": "toaster"}).status_code == 422
    assert viewer.get("/api/v1/inventory/parts", params={"search": parts["kit"].name}).json()["total"] == 1

    ledger = viewer.get(f"/api/v1/inventory/parts/{board.id}/transactions").json()
    assert [t["transactionType"] for t in ledger["transactions"]] == ["RESERVED", "ADJUSTMENT_IN"]
    assert ledger["transactions"][0]["orderNumber"] == order.number and ledger["part"]["reserved"] == 1

    body = {"quantity": 3, "direction": "IN", "reason": "delivery"}
    assert viewer.post(f"/api/v1/inventory/parts/{board.id}/adjust", json=body).status_code == 403
    anonymous = TestClient(api)
    assert anonymous.get("/api/v1/inventory/parts").status_code == 401
    r = operator.post(f"/api/v1/inventory/parts/{board.id}/adjust", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["part"]["onHand"] == 4 and r.json()["part"]["available"] == 3
    assert r.json()["transaction"]["stockAfter"] == 4
    too_many = operator.post(
        f"/api/v1/inventory/parts/{board.id}/adjust", json={"quantity": 9, "direction": "OUT", "reason": "count"}
    )
    assert too_many.status_code == 409 and "only 4" in too_many.json()["error"]["message"]
    for bad in ({"quantity": 0, "direction": "IN", "reason": "x"}, {"quantity": 1, "direction": "UP", "reason": "x"},
                {"quantity": 1, "direction": "IN", "reason": ""}):  # fmt: skip
        assert operator.post(f"/api/v1/inventory/parts/{board.id}/adjust", json=bad).status_code == 422
    missing = uuid.uuid4()
    assert operator.post(f"/api/v1/inventory/parts/{missing}/adjust", json=body).status_code == 404
    assert viewer.get(f"/api/v1/inventory/parts/{missing}/transactions").status_code == 404
    _consistent(tenant)


def test_another_shops_reservations_stay_apart(shop, worker):
    tenant, _, parts = shop
    _order(tenant, _slots(parts, kits=1))
    worker()
    other = make_tenant()
    with tenant_session(other.id) as s:
        catalog_service.set_offer(s, parts["cpu"].id, price="299.00", stock=3, actor=None)
        s.commit()
    assert _available(other, parts["cpu"]) == 3 and _words(other, {"cpu": [parts["cpu"].id]}, "cpu") == "In stock"
    with tenant_session(other.id) as s:
        assert s.exec(select(func.count()).select_from(PartReservation)).one() == 0
    assert _available(tenant, parts["cpu"]) == 2
    assert Decimal(_offer(other, parts["cpu"]).price) == Decimal("299.00")
