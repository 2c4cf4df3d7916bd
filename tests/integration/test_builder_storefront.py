"""What a storefront customer notices in the builder, over real BuildCores
OpenDB parts and a fresh shop's offers: suggested fixes that are the closest
equivalent of the part they replace, fixes for warnings too, each product
once in the picker, and an order that costs exactly what its dialog said
(parts, assembly, shipping) with the address remembered."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select

from app.builder import evaluation as ev
from app.builder import index, rules
from app.builder import service as builder
from app.builder.models import SavedBuild
from app.catalog.models import PartOffer
from app.catalog.versions import bump_offers_version
from app.customers import service as customers
from app.orders.models import LineItem, Order
from app.platform import config
from app.platform.db import tenant_session
from app.platform.errors import Conflict, ValidationFailed
from tests.factories import make_tenant

ADDRESS = {
    "name": "Ada Lovelace",
    "street": "Damrak",
    "house_number": "1",
    "postal_code": "1012 LG",
    "city": "Amsterdam",
    "country_code": "NL",
    "phone": "+31 20 123 4567",
}


def _parts(slot: str, pred, *, n: int = 1) -> list[rules.Part]:
    """Real parts of `slot` whose specs (and tier) match `pred`, one per product."""
    seen: set[str] = set()
    found = []
    for entry in index.catalog().by_slot[slot]:
        if entry.identity in seen or not pred(entry.part):
            continue
        seen.add(entry.identity)
        found.append(entry.part)
    assert len(found) >= n, f"the catalog lacks {n} {slot} part(s) for this test"
    return found[:n]


def _one(slot: str, pred) -> rules.Part:
    return _parts(slot, pred)[0]


def sell(tenant, prices: list[tuple[rules.Part, str]], *, inactive: tuple[rules.Part, ...] = ()) -> None:
    off = {p.id for p in inactive}
    with tenant_session(tenant.id) as s:
        for part, price in prices:
            stmt = insert(PartOffer).values(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                part_id=uuid.UUID(part.id),
                slot=part.slot,
                price=Decimal(price),
                currency="EUR",
                stock=3,
                active=part.id not in off,
                is_demo=False,
            )
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "part_id"],
                    set_={"price": stmt.excluded.price, "active": stmt.excluded.active},
                )
            )
        s.commit()
    bump_offers_version(tenant.id)


def slots_of(**chosen: rules.Part | list[rules.Part]) -> dict[str, list[str]]:
    return {slot: [p.id for p in (v if isinstance(v, list) else [v])] for slot, v in chosen.items()}


def _fixes(view: ev.BuildView, rule: str) -> list[ev.Suggestion]:
    return next(v for v in view.verdicts if v.rule == rule).suggestions


# --- suggested fixes: the closest equivalent first ---------------------------------------------------


def test_a_ryzen_9_on_the_wrong_board_is_fixed_with_a_cpu_of_its_class_not_a_celeron(catalog):
    ryzen9 = _one("cpu", lambda p: p.specs["socket"] == "AM5" and "Ryzen 9" in p.name)
    board = _one(
        "motherboard", lambda p: p.specs["socket"] == "LGA 1700" and p.specs["form_factor"] == "ATX"
    )  # an Intel board
    celeron = _one("cpu", lambda p: p.specs["socket"] == "LGA 1700" and rules.tier(p) == 1)
    core_i5 = _one("cpu", lambda p: p.specs["socket"] == "LGA 1700" and rules.tier(p) == 3)
    core_i9 = _one("cpu", lambda p: p.specs["socket"] == "LGA 1700" and rules.tier(p) == 5)
    am5_board = _one("motherboard", lambda p: p.specs["socket"] == "AM5" and p.specs["form_factor"] == "ATX")
    small_am5 = _one("motherboard", lambda p: p.specs["socket"] == "AM5" and p.specs["form_factor"] == "Mini-ITX")
    tenant = make_tenant()
    sell(
        tenant,
        [
            (ryzen9, "599.00"),
            (board, "189.00"),
            (celeron, "49.00"),  # the cheapest fix by far, but not an equivalent of a Ryzen 9
            (core_i5, "199.00"),
            (core_i9, "549.00"),
            (small_am5, "99.00"),  # cheaper than the ATX AM5 board, but another size than the chosen board
            (am5_board, "259.00"),
        ],
    )
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, slots_of(cpu=ryzen9, motherboard=board))
    fixes = [(sg.slot, sg.part_id) for sg in _fixes(view, "cpu_socket")]
    # same tier (an ATX board for an ATX board, a Core i9 for a Ryzen 9) first, cheapest first within it
    assert fixes == [("motherboard", am5_board.id), ("cpu", core_i9.id), ("motherboard", small_am5.id)]
    assert celeron.id not in {pid for _, pid in fixes}


def test_a_32_gb_kit_is_replaced_by_a_32_gb_kit_before_smaller_ones(catalog):
    board = _one(
        "motherboard",
        lambda p: (
            p.specs["memory_type"] == "DDR4"
            and (p.specs["memory_slots"] or 0) >= 4
            and (p.specs["memory_max_gb"] or 0) >= 64
        ),
    )
    ddr5_32 = _one("ram", lambda p: p.specs["memory_type"] == "DDR5" and p.specs["total_gb"] == 32)
    ddr4_4 = _one("ram", lambda p: p.specs["memory_type"] == "DDR4" and p.specs["total_gb"] == 4)
    ddr4_8 = _one("ram", lambda p: p.specs["memory_type"] == "DDR4" and p.specs["total_gb"] == 8)
    ddr4_32 = _one("ram", lambda p: p.specs["memory_type"] == "DDR4" and p.specs["total_gb"] == 32)
    tenant = make_tenant()
    sell(tenant, [(board, "150.00"), (ddr5_32, "120.00"), (ddr4_4, "12.00"), (ddr4_8, "22.00"), (ddr4_32, "79.00")])
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, slots_of(motherboard=board, ram=ddr5_32))
    fixes = _fixes(view, "ram_type")
    assert [sg.part_id for sg in fixes] == [ddr4_32.id, ddr4_8.id, ddr4_4.id]
    assert fixes[0].index == 0 and fixes[0].slots["ram"] == [ddr4_32.id]


# --- warnings get fixes too --------------------------------------------------------------------------


def test_a_psu_warning_offers_the_closest_psu_that_resolves_it(catalog):
    cpu = _one("cpu", lambda p: p.specs["tdp_w"] == 125 and p.specs["socket"] == "LGA 1700")
    gpu = _one("gpu", lambda p: p.specs["board_power_w"] == 320)
    need = rules.estimated_draw({"cpu": (cpu,), "gpu": (gpu,)}).total_w
    ok_from = need * 1.2
    tight = _one("psu", lambda p: p.specs["form_factor"] == "ATX" and need <= (p.specs["wattage_w"] or 0) < ok_from)
    still_tight = _one(
        "psu",
        lambda p: (
            p.id != tight.id and p.specs["form_factor"] == "ATX" and need <= (p.specs["wattage_w"] or 0) < ok_from
        ),
    )
    enough = sorted(
        _parts("psu", lambda p: p.specs["form_factor"] == "ATX" and (p.specs["wattage_w"] or 0) >= ok_from, n=400),
        key=lambda p: p.specs["wattage_w"],
    )
    closest, huge = enough[0], enough[-1]
    bigger = next(p for p in enough if p.specs["wattage_w"] >= closest.specs["wattage_w"] + 200)
    tenant = make_tenant()
    sell(
        tenant,
        [
            (cpu, "300.00"),
            (gpu, "700.00"),
            (tight, "80.00"),
            (still_tight, "60.00"),  # cheaper, but it would still warn
            (huge, "95.00"),  # cheap, but far bigger than needed
            (bigger, "110.00"),
            (closest, "120.00"),
        ],
    )
    build = slots_of(cpu=cpu, gpu=gpu, psu=tight)
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, build)
        warn = next(v for v in view.verdicts if v.rule == "psu_wattage")
        assert warn.severity == "warn" and view.overall == "warn"
        assert warn.suggestions and warn.suggestions[0].part_id == closest.id
        assert still_tight.id not in {sg.part_id for sg in warn.suggestions}
        for sg in warn.suggestions:
            applied = ev.evaluate_build(s, sg.slots)
            assert next(v for v in applied.verdicts if v.rule == "psu_wattage").severity == "pass"


# --- each product once in the picker -------------------------------------------------------------------


def _twins(slot: str) -> tuple[rules.Part, rules.Part]:
    by_identity: dict[str, list[rules.Part]] = {}
    for entry in index.catalog().by_slot[slot]:
        by_identity.setdefault(entry.identity, []).append(entry.part)
    first, second = next(parts for parts in by_identity.values() if len(parts) == 2)
    return first, second


def test_the_picker_shows_a_product_listed_twice_once_at_its_cheapest_offer(catalog):
    a, b = _twins("ram")
    other = _one("ram", lambda p: p.name != a.name)
    tenant = make_tenant()
    sell(tenant, [(a, "99.00"), (b, "89.00"), (other, "50.00")])
    with tenant_session(tenant.id) as s:
        page = ev.pick_list(s, {}, "ram", compatible_only=False, page_size=100)
        assert [(i.part_id, i.price) for i in page.items] == [(other.id, Decimal("50.00")), (b.id, Decimal("89.00"))]
        assert page.total == 2
        assert [i.part_id for i in ev.pick_list(s, {}, "ram", search=a.name).items] == [b.id]
        by_name = ev.pick_list(s, {}, "ram", sort="name", compatible_only=False)
        assert sorted(i.part_id for i in by_name.items) == sorted([other.id, b.id])
        # a build that holds the pricier twin keeps it, at its own price
        view = ev.evaluate_build(s, {"ram": [a.id]})
        assert view.parts["ram"][0].price == Decimal("99.00") and view.unavailable == []

    sell(tenant, [(b, "89.00")], inactive=(b,))  # the cheaper twin is no longer for sale: the other shows
    with tenant_session(tenant.id) as s:
        page = ev.pick_list(s, {}, "ram", compatible_only=False)
        assert [i.part_id for i in page.items] == [other.id, a.id]


# --- ordering: the dialog's amounts, the order's amounts ---------------------------------------------------


@pytest.fixture
def shop_with_a_build(catalog):
    cpu = _one("cpu", lambda p: p.specs["socket"] == "AM5" and p.specs["memory_types"] == ["DDR5"])
    board = _one(
        "motherboard",
        lambda p: (
            p.specs["socket"] == "AM5" and p.specs["memory_type"] == "DDR5" and (p.specs["memory_slots"] or 0) >= 2
        ),
    )
    kit = _one("ram", lambda p: p.specs["memory_type"] == "DDR5" and p.specs["modules"] == 2)
    tenant = make_tenant()
    sell(tenant, [(cpu, "329.00"), (board, "219.90"), (kit, "109.95")])
    return tenant, slots_of(cpu=cpu, motherboard=board, ram=[kit, kit])


def _customer(tenant) -> customers.CustomerPrincipal:
    with tenant_session(tenant.id) as s:
        account = customers.sign_up(
            s, email=f"buyer-{uuid.uuid4().hex[:8]}@example.com", name="Grace Hopper", password="long-enough-pw"
        )
        principal = customers.open_session(s, account).principal
        s.commit()
    return principal


def test_the_order_carries_the_parts_assembly_and_shipping_the_dialog_showed(shop_with_a_build):
    tenant, build = shop_with_a_build
    parts = Decimal("329.00") + Decimal("219.90") + 2 * Decimal("109.95")
    with tenant_session(tenant.id) as s:
        shown = builder.quote_slots(s, build)
        assert (shown.parts, shown.assembly, shown.shipping) == (
            parts,
            builder.DEFAULT_ASSEMBLY_FEE,
            builder.DEFAULT_SHIPPING_COST,
        )
        assert shown.total == parts + builder.DEFAULT_ASSEMBLY_FEE + builder.DEFAULT_SHIPPING_COST
        order = builder.order_slots(s, build, ADDRESS, email="guest@example.com", expected_total=shown.total)
        s.commit()
        lines = list(s.exec(select(LineItem).where(LineItem.order_id == order.id).order_by(LineItem.position)))
    assert (order.subtotal, order.shipping_total, order.total) == (shown.subtotal, shown.shipping, shown.total)
    assert sum(li.unit_price * li.quantity for li in lines) == shown.subtotal
    assert lines[-1].title == "Assembly and testing" and lines[-1].unit_price == shown.assembly


def test_a_shop_sets_its_own_fees_in_one_place(shop_with_a_build):
    tenant, build = shop_with_a_build
    with tenant_session(tenant.id) as s:
        config.set_value(s, builder.ASSEMBLY_FEE_KEY, "49.50")
        config.set_value(s, builder.SHIPPING_COST_KEY, 0)
        s.commit()
    with tenant_session(tenant.id) as s:
        shown = builder.quote_slots(s, build)
        assert (shown.assembly, shown.shipping) == (Decimal("49.50"), Decimal("0.00"))
        order = builder.order_slots(s, build, ADDRESS, email="guest@example.com", expected_total=shown.total)
        assert order.total == shown.total and order.shipping_total == 0
        config.set_value(s, builder.ASSEMBLY_FEE_KEY, "a lot")  # nonsense falls back to the default
        assert builder.shop_fees(s)[0] == builder.DEFAULT_ASSEMBLY_FEE
        s.rollback()


def test_an_order_at_a_total_other_than_shown_is_refused(shop_with_a_build):
    tenant, build = shop_with_a_build
    with tenant_session(tenant.id) as s:
        shown = builder.quote_slots(s, build)
    sell(tenant, [(index.catalog().get(build["cpu"][0]).part, "349.00")])  # the price changed meanwhile
    with tenant_session(tenant.id) as s:
        with pytest.raises(Conflict) as exc:
            builder.order_slots(s, build, ADDRESS, email="guest@example.com", expected_total=shown.total)
        assert exc.value.code == "price_changed"
        assert s.exec(select(Order)).all() == []


def test_a_guest_orders_with_an_email_and_the_build_is_kept_for_staff(shop_with_a_build):
    tenant, build = shop_with_a_build
    with tenant_session(tenant.id) as s:
        with pytest.raises(ValidationFailed) as exc:
            builder.order_slots(s, build, ADDRESS, email="not an email")
        assert "email" in exc.value.details["fields"]
        with pytest.raises(ValidationFailed) as exc:
            builder.order_slots(s, {}, ADDRESS, email="guest@example.com")
        order = builder.order_slots(s, build, ADDRESS, email="Guest@Example.com")
        saved = s.get(SavedBuild, order.saved_build_id)
        assert order.customer_id is None and order.customer_email == "guest@example.com"
        assert order.customer_name == "Ada Lovelace" and order.source == "builder"
        assert saved is not None and saved.customer_id is None and saved.slots == build
        s.commit()


def test_a_customer_orders_from_the_builder_and_gets_the_last_address_next_time(shop_with_a_build):
    tenant, build = shop_with_a_build
    grace = _customer(tenant)
    with tenant_session(tenant.id) as s:
        assert builder.last_address(s, grace) == {}
        first = builder.order_slots(s, build, ADDRESS, customer=grace)
        again = builder.order_slots(
            s, build, {**ADDRESS, "street": "Prinsengracht", "house_number": "263"}, customer=grace
        )
        s.commit()
        assert first.customer_id == again.customer_id == grace.customer_id
        assert first.saved_build_id == again.saved_build_id  # the same parts: the account's build is reused
        assert [b.id for b in builder.list_builds(s, grace)] == [first.saved_build_id]
        remembered = builder.last_address(s, grace)
    assert remembered["street"] == "Prinsengracht" and remembered["house_number"] == "263"
    assert remembered["city"] == "Amsterdam" and remembered["phone"] == ADDRESS["phone"]
    assert remembered["country_code"] == "NL"
