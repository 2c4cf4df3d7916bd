"""Repairs master data (issue 17): clients, device models, teams and
technicians, the repair-codes catalogue and price rules. Bad input is refused
with the field at fault (and 4xx through the API); the most specific price
rule valid on the day wins; overlapping rules are refused; a shop never
changes a canonical code (the service refuses, and so does the database when
a raw UPDATE tries); one shop never sees another's clients; a viewer reads
but never writes; rows in use are deactivated, not deleted."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.api import create_api
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.repairs import demo_master
from app.repairs.models import DeviceModel, PriceRule, RepairClient, RepairCode, RepairTeam, Technician
from app.repairs.service import master
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model

BASE = "/api/v1/repairs"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def tenant():
    return make_tenant()


def _viewer(tenant) -> Principal:
    p = staff_principal(tenant)
    return Principal(
        tenant_id=p.tenant_id,
        tenant_name=p.tenant_name,
        tenant_slug=p.tenant_slug,
        user_id=None,
        username="viewer",
        display_name="Viewer",
        roles=("viewer",),
        permissions=frozenset({"repairs.read"}),
    )


def _client_data(name="Acme Insurance", **kw) -> master.ClientData:
    return master.ClientData(name=name, **kw)


def _fields(exc: pytest.ExceptionInfo) -> dict:
    return (exc.value.details or {}).get("fields", {})


def _canonical(s, code="SCR-REPL") -> RepairCode:
    row = s.exec(select(RepairCode).where(RepairCode.code == code, RepairCode.tenant_id == None)).one()  # noqa: E711
    return row


# --- clients ------------------------------------------------------------------------------------


def test_a_client_is_created_checked_and_edited(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        c = master.create_client(
            s,
            _client_data(
                vat_number="nl 8530.76.979 b01", currency="gbp", payment_terms_days="45", country="nl", email="ap@x.nl"
            ),
            actor=actor,
        )
        s.commit()
        assert (c.vat_number, c.currency, c.payment_terms_days, c.country) == ("NL853076979B01", "GBP", 45, "NL")

        with pytest.raises(ValidationFailed) as bad:
            master.create_client(
                s,
                _client_data(
                    "", vat_number="12", currency="EURO", payment_terms_days=400, ber_threshold_percent=0, email="x"
                ),
                actor=actor,
            )
        assert set(_fields(bad)) == {
            "name",
            "vat_number",
            "currency",
            "payment_terms_days",
            "ber_threshold_percent",
            "email",
        }
        assert "BER threshold" in _fields(bad)["ber_threshold_percent"]

        with pytest.raises(Conflict) as dup:
            master.create_client(s, _client_data("ACME insurance"), actor=actor)
        assert "already a client" in dup.value.message

        edited = master.update_client(
            s, c.id, _client_data("Acme Insurance B.V.", ber_threshold_percent=55), actor=actor
        )
        s.commit()
        assert (edited.name, edited.ber_threshold_percent, edited.vat_number) == ("Acme Insurance B.V.", 55, "")


def test_clients_list_searches_sorts_and_pages_and_deactivated_ones_filter(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        for i in range(12):
            master.create_client(s, _client_data(f"Client {i:02d}", payment_terms_days=i), actor=actor)
        school = master.create_client(
            s, _client_data("Northfield School District", contact_name="Ms Park"), actor=actor
        )
        master.set_client_active(s, school.id, False, actor=actor)
        s.commit()

        rows, total = master.list_clients(s, master.ListFilter(page_size=5))
        assert total == 13 and [r.name for r in rows] == [f"Client {i:02d}" for i in range(5)]
        rows, _ = master.list_clients(s, master.ListFilter(page=2, page_size=5))
        assert [r.name for r in rows] == ["Client 10", "Client 11", "Northfield School District"]
        rows, _ = master.list_clients(s, master.ListFilter(active="active", sort="terms", descending=True, page_size=2))
        assert [r.name for r in rows] == ["Client 11", "Client 10"]
        rows, total = master.list_clients(s, master.ListFilter(search="park"))
        assert total == 1 and rows[0].id == school.id
        assert master.list_clients(s, master.ListFilter(active="inactive"))[1] == 1
        assert master.list_clients(s, master.ListFilter(active="active"))[1] == 12
        assert str(school.id) not in dict(master.client_choices(s))
        with pytest.raises(ValidationFailed):
            master.list_clients(s, master.ListFilter(sort="colour"))


def test_a_client_in_use_is_deactivated_not_deleted(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        used = make_client(s, "Used Ltd")
        make_batch(s, used)
        spare = make_client(s, "Typo Ltd")
        s.commit()
        with pytest.raises(Conflict) as refused:
            master.delete_client(s, used.id, actor=actor)
        assert "1 batch" in refused.value.message and "Deactivate it instead" in refused.value.message
        master.delete_client(s, spare.id, actor=actor)
        s.commit()
        with pytest.raises(NotFound):
            master.get_client(s, spare.id)


def test_one_shops_clients_are_invisible_to_another(tenant):
    other = make_tenant()
    with tenant_session(tenant.id) as s:
        mine = master.create_client(s, _client_data("Secret Insurer"), actor=staff_principal(tenant))
        s.commit()
    with tenant_session(other.id) as s:
        assert master.list_clients(s, master.ListFilter())[1] == 0
        with pytest.raises(NotFound):
            master.get_client(s, mine.id)
        with pytest.raises(NotFound):
            master.update_client(s, mine.id, _client_data("Stolen"), actor=staff_principal(other))
        # the same name is free in another shop
        master.create_client(s, _client_data("Secret Insurer"), actor=staff_principal(other))
        s.commit()
        assert s.exec(select(RepairClient)).all()[0].tenant_id == other.id


# --- device models, teams, technicians ----------------------------------------------------------


def test_device_models_are_unique_have_variants_and_page(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        dm = master.create_device_model(
            s,
            master.DeviceModelData(
                "Apple", "iPhone 13", "phone", variants="128 GB, 256 GB\n128 GB\n512 GB", typical_value="389.00"
            ),
            actor=actor,
        )
        assert dm.variants == ["128 GB", "256 GB", "512 GB"] and dm.typical_value == Decimal("389.00")
        with pytest.raises(Conflict) as dup:
            master.create_device_model(s, master.DeviceModelData("apple", "IPHONE 13"), actor=actor)
        assert "already a device model" in dup.value.message
        with pytest.raises(ValidationFailed) as bad:
            master.create_device_model(s, master.DeviceModelData("", "X", "toaster", typical_value="-3"), actor=actor)
        assert set(_fields(bad)) == {"manufacturer", "category", "typical_value"}
        for i in range(30):
            master.create_device_model(
                s, master.DeviceModelData("Lenovo", f"ThinkPad T{400 + i}", "laptop"), actor=actor
            )
        s.commit()
        rows, total = master.list_device_models(s, master.DeviceFilter(category="laptop", page=1, page_size=25))
        assert total == 30 and len(rows) == 5
        rows, total = master.list_device_models(s, master.DeviceFilter(search="256"))
        assert total == 1 and rows[0].model == "iPhone 13"
        rows, _ = master.list_device_models(s, master.DeviceFilter(search="thinkpad", sort="model", descending=True))
        assert rows[0].model == "ThinkPad T429"


def test_technicians_link_to_a_team_and_a_staff_account(tenant):
    actor = staff_principal(tenant)
    user = make_user(tenant, "operator")
    with tenant_session(tenant.id) as s:
        team = master.create_team(s, master.TeamData("Micro-soldering", "board-level work"), actor=actor)
        tech = master.create_technician(
            s,
            master.TechnicianData("Ana Lopez", team_id=str(team.id), user_id=str(user.id), hourly_rate="32.50"),
            actor=actor,
        )
        with pytest.raises(ValidationFailed) as taken:
            master.create_technician(s, master.TechnicianData("Bo", user_id=user.id), actor=actor)
        assert "already linked to Ana Lopez" in _fields(taken)["user_id"]
        with pytest.raises(ValidationFailed) as gone:
            master.create_technician(s, master.TechnicianData("Cy", team_id=uuid.uuid4()), actor=actor)
        assert "team_id" in _fields(gone)
        s.commit()
        rows, total = master.list_technicians(s, master.TechnicianFilter(team_id=str(team.id)))
        assert total == 1 and rows[0].team_name == "Micro-soldering" and rows[0].user_name
        teams, _ = master.list_teams(s, master.ListFilter())
        assert teams[0].members == 1
        with pytest.raises(Conflict) as in_use:
            master.delete_team(s, team.id, actor=actor)
        assert "1 technician" in in_use.value.message
        master.set_team_active(s, team.id, False, actor=actor)
        master.delete_technician(s, tech.id, actor=actor)
        master.delete_team(s, team.id, actor=actor)
        s.commit()
        assert s.exec(select(RepairTeam)).all() == [] and s.exec(select(Technician)).all() == []


# --- repair codes -------------------------------------------------------------------------------


def test_the_catalogue_shows_canonical_codes_and_the_shops_own(tenant):
    actor = staff_principal(tenant)
    other = make_tenant()
    with tenant_session(tenant.id) as s:
        assert master.list_codes(s, master.CodeFilter(origin="canonical"))[1] == 24
        own = master.create_code(
            s, master.CodeData("hinge repl", "Laptop hinge replacement", "housing", 50), actor=actor
        )
        assert own.code == "HINGE-REPL" and own.tenant_id == tenant.id
        with pytest.raises(ValidationFailed) as shadow:
            master.create_code(s, master.CodeData("scr-repl", "Our screen"), actor=actor)
        assert "canonical code" in _fields(shadow)["code"]
        with pytest.raises(ValidationFailed):
            master.create_code(s, master.CodeData("HINGE-REPL", "Twice"), actor=actor)
        s.commit()
        rows, total = master.list_codes(s, master.CodeFilter(origin="shop"))
        assert total == 1 and rows[0].code == "HINGE-REPL"
        assert master.list_codes(s, master.CodeFilter(search="hinge"))[1] == 1
        master.set_code_active(s, own.id, False, actor=actor)
        s.commit()
        assert master.list_codes(s, master.CodeFilter(active="active"))[1] == 24
    with tenant_session(other.id) as s:
        assert master.list_codes(s, master.CodeFilter())[1] == 24
        with pytest.raises(NotFound):
            master.get_code(s, own.id)


def test_a_canonical_code_cannot_be_changed_by_a_shop(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        canonical = _canonical(s)
        for attempt in (
            lambda: master.update_code(s, canonical.id, master.CodeData("SCR-REPL", "Mine now"), actor=actor),
            lambda: master.set_code_active(s, canonical.id, False, actor=actor),
            lambda: master.delete_code(s, canonical.id, actor=actor),
        ):
            with pytest.raises(Forbidden) as refused:
                attempt()
            assert "canonical code shared by every shop" in refused.value.message
    # the database refuses it too, whatever door a raw statement comes through
    with tenant_session(tenant.id) as s:
        with pytest.raises(DBAPIError) as raw:
            s.execute(text("UPDATE repair_codes SET name = 'Hijacked' WHERE code = 'SCR-REPL' AND tenant_id IS NULL"))
        assert "only its own repair codes" in str(raw.value)
    with tenant_session(tenant.id) as s, pytest.raises(DBAPIError):
        s.execute(text("DELETE FROM repair_codes WHERE code = 'BAT-REPL'"))
    with tenant_session(tenant.id) as s:
        with pytest.raises(DBAPIError) as shadow:
            s.execute(
                text(
                    "INSERT INTO repair_codes (id, tenant_id, code, name, category, default_labour_minutes, active, "
                    "created_at) VALUES (:id, :t, 'SCR-REPL', 'Shadow', 'display', 10, true, now())"
                ),
                {"id": uuid.uuid4(), "t": tenant.id},
            )
        assert "canonical code" in str(shadow.value)
    with tenant_session(tenant.id) as s:
        own = master.create_code(s, master.CodeData("MY-SCREEN", "Our screen"), actor=actor)
        s.commit()
        with pytest.raises(DBAPIError):  # renamed into a canonical code's name by a raw statement
            s.execute(text("UPDATE repair_codes SET code = 'SCR-REPL' WHERE id = :id"), {"id": own.id})
    with tenant_session(tenant.id) as s:
        assert _canonical(s).name == "Screen replacement"


# --- price rules --------------------------------------------------------------------------------


def _rule(s, actor, price, *, client=None, code=None, model=None, valid_from=None, valid_to=None) -> PriceRule:
    return master.create_price_rule(
        s,
        master.PriceRuleData(
            price=price,
            client_id=client.id if client else None,
            repair_code_id=code.id if code else None,
            device_model_id=model.id if model else None,
            valid_from=valid_from,
            valid_to=valid_to,
        ),
        actor=actor,
    )


def test_price_for_the_most_specific_rule_wins(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        client, other_client = make_client(s, "Insurer"), make_client(s, "School")
        iphone, ipad = make_device_model(s, "Apple", "iPhone 12"), make_device_model(s, "Apple", "iPad 9")
        screen, battery = _canonical(s, "SCR-REPL"), _canonical(s, "BAT-REPL")
        rules = [
            ("default model", {"model": iphone}, "40.00"),
            ("default code", {"code": screen}, "80.00"),
            ("default code+model", {"code": screen, "model": iphone}, "95.00"),
            ("client+model", {"client": client, "model": iphone}, "60.00"),
            ("client+code", {"client": client, "code": screen}, "85.00"),
            ("client+code+model", {"client": client, "code": screen, "model": iphone}, "99.00"),
        ]

        def price(**kw):
            return master.price_for(
                s,
                client_id=kw.get("client") and kw["client"].id,
                repair_code_id=kw.get("code") and kw["code"].id,
                device_model_id=kw.get("model") and kw["model"].id,
            )

        assert price(client=client, code=screen, model=iphone) is None
        expected_after = [
            Decimal("40.00"),  # only the model's flat price
            Decimal("80.00"),  # default code beats default model
            Decimal("95.00"),
            Decimal("60.00"),  # the client's own price for the model beats any default
            Decimal("85.00"),
            Decimal("99.00"),
        ]
        for (_, target, amount), want in zip(rules, expected_after, strict=True):
            _rule(s, actor, amount, **target)
            assert price(client=client, code=screen, model=iphone) == want
        # less specific questions get the rules that fit them
        assert price(client=client, code=screen, model=ipad) == Decimal("85.00")
        assert price(client=other_client, code=screen, model=ipad) == Decimal("80.00")
        assert price(client=other_client, code=screen, model=iphone) == Decimal("95.00")
        assert price(client=client, model=iphone) == Decimal("60.00")
        assert price(client=other_client, model=iphone) == Decimal("40.00")
        assert price(client=other_client, code=battery, model=ipad) is None
        assert price(client=None, code=screen) == Decimal("80.00")
        assert master.price_for(s, client_id=client.id) is None


def test_price_for_respects_validity_dates(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Insurer")
        screen = _canonical(s)
        _rule(s, actor, "70.00", code=screen, valid_to=date(2026, 6, 30))
        _rule(s, actor, "75.00", code=screen, valid_from=date(2026, 7, 1))
        _rule(s, actor, "65.00", client=client, code=screen, valid_from=date(2026, 3, 1), valid_to=date(2026, 3, 31))

        def on(day):
            return master.price_for(s, client_id=client.id, repair_code_id=screen.id, on=day)

        assert on(date(2026, 2, 28)) == Decimal("70.00")
        assert on(date(2026, 3, 1)) == Decimal("65.00")
        assert on(date(2026, 3, 31)) == Decimal("65.00")
        assert on(date(2026, 4, 1)) == Decimal("70.00")
        assert on(date(2026, 7, 1)) == Decimal("75.00")
        _rows, total = master.list_price_rules(s, master.PriceRuleFilter(on=date(2026, 3, 15)))
        assert total == 2


def test_overlapping_rules_for_the_same_target_are_refused(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Insurer")
        screen = _canonical(s)
        _rule(s, actor, "70.00", client=client, code=screen, valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30))
        with pytest.raises(Conflict) as overlap:
            _rule(s, actor, "72.00", client=client, code=screen, valid_from=date(2026, 6, 30))
        assert "already valid 2026-01-01 to 2026-06-30" in overlap.value.message
        with pytest.raises(Conflict):
            _rule(s, actor, "72.00", client=client, code=screen)  # open-ended both ways
        # the day after is free, and another target on the same dates too
        _rule(s, actor, "72.00", client=client, code=screen, valid_from=date(2026, 7, 1))
        _rule(s, actor, "60.00", code=screen, valid_from=date(2026, 1, 1))
        with pytest.raises(ValidationFailed) as bad:
            master.create_price_rule(
                s,
                master.PriceRuleData(price="", valid_from="2026-05-01", valid_to="2026-04-01"),
                actor=actor,
            )
        assert set(_fields(bad)) == {"price", "repair_code_id", "valid_to"}
        s.commit()
        assert master.list_price_rules(s, master.PriceRuleFilter())[1] == 3


def test_two_overlapping_rules_created_at_once_leave_one(tenant):
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Insurer")
        code_id, client_id = _canonical(s).id, client.id
        s.commit()
    outcomes: list[str] = []

    def create(i: int) -> None:
        with tenant_session(tenant.id) as s:
            try:
                master.create_price_rule(
                    s,
                    master.PriceRuleData(price=f"{50 + i}.00", client_id=client_id, repair_code_id=code_id),
                    actor=staff_principal(tenant),
                )
                s.commit()
                outcomes.append("created")
            except Conflict:
                outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["refused"] * 5


# --- permissions --------------------------------------------------------------------------------


def test_a_viewer_reads_but_never_writes_through_the_service(tenant):
    viewer = _viewer(tenant)
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Insurer")
        s.commit()
        assert master.list_clients(s, master.ListFilter())[1] == 1
        for attempt in (
            lambda: master.create_client(s, _client_data("New"), actor=viewer),
            lambda: master.update_client(s, client.id, _client_data("New"), actor=viewer),
            lambda: master.set_client_active(s, client.id, False, actor=viewer),
            lambda: master.delete_client(s, client.id, actor=viewer),
            lambda: master.create_device_model(s, master.DeviceModelData("A", "B"), actor=viewer),
            lambda: master.create_team(s, master.TeamData("T"), actor=viewer),
            lambda: master.create_technician(s, master.TechnicianData("T"), actor=viewer),
            lambda: master.create_code(s, master.CodeData("MY-CODE", "Mine"), actor=viewer),
            lambda: master.create_price_rule(s, master.PriceRuleData(price="1", client_id=client.id), actor=viewer),
        ):
            with pytest.raises(Forbidden):
                attempt()


def _http(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def test_the_api_with_its_permissions_and_refusals(api, tenant):
    viewer, operator = _http(api, tenant, "viewer"), _http(api, tenant, "operator")
    assert TestClient(api).get(f"{BASE}/clients").status_code == 401
    body = {"name": "FoneSure Insurance", "vatNumber": "GB 123 4567 89", "currency": "GBP", "paymentTermsDays": 30}
    assert viewer.post(f"{BASE}/clients", json=body).status_code == 403
    created = operator.post(f"{BASE}/clients", json=body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["vatNumber"] == "GB123456789"
    dup = operator.post(f"{BASE}/clients", json=body)
    assert dup.status_code == 409 and "already a client" in dup.json()["error"]["message"]
    bad = operator.post(
        f"{BASE}/clients", json={**body, "name": "Other", "currency": "POUNDS", "paymentTermsDays": 999}
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["details"]["fields"]) == {"currency", "payment_terms_days"}
    assert viewer.put(f"{BASE}/clients/{cid}", json={**body, "name": "X"}).status_code == 403
    edited = operator.put(f"{BASE}/clients/{cid}", json={**body, "berThresholdPercent": 60})
    assert edited.json()["berThresholdPercent"] == 60
    listed = viewer.get(f"{BASE}/clients", params={"search": "fonesure"}).json()
    assert listed["total"] == 1 and listed["clients"][0]["id"] == cid
    assert viewer.get(f"{BASE}/clients", params={"sort": "colour"}).status_code == 422
    assert viewer.get(f"{BASE}/clients/{uuid.uuid4()}").status_code == 404
    assert viewer.get(f"{BASE}/clients/not-an-id").status_code == 422

    dm = operator.post(f"{BASE}/device-models", json={"manufacturer": "Samsung", "model": "Galaxy S21", "variants": []})
    assert dm.status_code == 201
    assert (
        operator.post(f"{BASE}/device-models", json={"manufacturer": "X", "model": "Y", "category": "car"}).status_code
        == 422
    )

    codes = viewer.get(f"{BASE}/repair-codes", params={"origin": "canonical", "pageSize": 100}).json()
    assert codes["total"] == 24 and all(c["canonical"] for c in codes["repairCodes"])
    screen = next(c for c in codes["repairCodes"] if c["code"] == "SCR-REPL")
    refused = operator.put(f"{BASE}/repair-codes/{screen['id']}", json={"code": "SCR-REPL", "name": "Mine"})
    assert refused.status_code == 403 and "canonical" in refused.json()["error"]["message"]
    assert operator.post(f"{BASE}/repair-codes", json={"code": "BAT-REPL", "name": "x"}).status_code == 422
    own = operator.post(
        f"{BASE}/repair-codes", json={"code": "KB-CLEAN", "name": "Keyboard clean", "category": "input"}
    )
    assert own.status_code == 201 and own.json()["canonical"] is False
    assert viewer.post(f"{BASE}/repair-codes", json={"code": "KB-2", "name": "x"}).status_code == 403

    rule = {"price": "89.00", "clientId": cid, "repairCodeId": screen["id"], "validFrom": "2026-01-01"}
    made = operator.post(f"{BASE}/price-rules", json=rule)
    assert made.status_code == 201 and made.json()["kind"] == "Client · code"
    assert operator.post(f"{BASE}/price-rules", json={**rule, "validFrom": "2026-05-01"}).status_code == 409
    assert operator.post(f"{BASE}/price-rules", json={"price": "-1", "clientId": cid}).status_code == 422
    assert viewer.post(f"{BASE}/price-rules", json=rule).status_code == 403
    looked = viewer.get(
        f"{BASE}/prices/lookup", params={"clientId": cid, "repairCodeId": screen["id"], "on": "2026-02-01"}
    ).json()
    assert looked["price"] == "89.00" and looked["rule"]["clientName"] == "FoneSure Insurance"
    assert (
        viewer.get(
            f"{BASE}/prices/lookup", params={"clientId": cid, "repairCodeId": screen["id"], "on": "2025-12-31"}
        ).json()["price"]
        is None
    )

    in_use = operator.delete(f"{BASE}/clients/{cid}")
    assert in_use.status_code == 409 and "Deactivate it instead" in in_use.json()["error"]["message"]
    assert viewer.put(f"{BASE}/clients/{cid}/active", json={"active": False}).status_code == 403
    assert operator.put(f"{BASE}/clients/{cid}/active", json={"active": False}).json()["active"] is False
    assert operator.delete(f"{BASE}/price-rules/{made.json()['id']}").status_code == 204
    assert operator.delete(f"{BASE}/clients/{cid}").status_code == 204


def test_a_device_model_on_an_asset_cannot_be_deleted(tenant):
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        dm = make_device_model(s, "Google", "Pixel 7")
        make_asset(s, device_model_id=dm.id)
        s.commit()
        with pytest.raises(Conflict) as refused:
            master.delete_device_model(s, dm.id, actor=actor)
        assert "1 asset" in refused.value.message
        master.set_device_model_active(s, dm.id, False, actor=actor)
        s.commit()
        assert s.get(DeviceModel, dm.id).active is False  # type: ignore[union-attr]


# --- demo ---------------------------------------------------------------------------------------


def test_the_demo_master_data_loads_once(tenant):
    with tenant_session(tenant.id) as s:
        demo_master.load(s)
        s.commit()
    with tenant_session(tenant.id) as s:
        demo_master.load(s)
        s.commit()
        assert master.list_clients(s, master.ListFilter())[1] == 3
        assert master.list_device_models(s, master.DeviceFilter())[1] == 12
        assert master.list_teams(s, master.ListFilter())[1] == 2
        assert master.list_technicians(s, master.TechnicianFilter())[1] == 5
        assert master.list_codes(s, master.CodeFilter(origin="shop"))[1] == 3
        rules = master.list_price_rules(s, master.PriceRuleFilter(page_size=100))[1]
        assert 12 <= rules <= 20
        clients, _ = master.list_clients(s, master.ListFilter())
        assert all(c.vat_number for c in clients)
        some = [master.price_for(s, client_id=c.id, repair_code_id=_canonical(s, "SCR-REPL").id) for c in clients]
        assert all(p is not None for p in some)
