"""Build evaluation, the part picker and block suggestions over real
BuildCores OpenDB parts and a fresh tenant's offers (`app.builder.evaluation`
with the in-memory `app.catalog.index`)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from app.builder import evaluation as ev
from app.builder import index, rules
from app.catalog import service
from app.catalog.models import PartOffer
from app.catalog.versions import bump_offers_version
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from tests.factories import make_tenant

# --- real parts, chosen by their specs ----------------------------------------------------------


def _first(slot: str, pred, *, n: int = 1, exclude: tuple[str, ...] = ()):
    found = [e.part for e in index.catalog().by_slot[slot] if e.part.id not in exclude and pred(e.part.specs)]
    assert len(found) >= n, f"the catalog lacks {n} {slot} part(s) for this test"
    return found[:n] if n > 1 else found[0]


@pytest.fixture(scope="module")
def parts(catalog):
    """A compact AM5 Mini-ITX build (case fits GPUs up to 255 mm, coolers up to
    170 mm) plus the candidates the tests offer around it."""
    case = _first(
        "case",
        lambda s: (
            s["board_form_factors"] == ["Mini-ITX"]
            and s["max_gpu_length_mm"] == 255
            and (s["max_cooler_height_mm"] or 0) >= 165
            and s["includes_psu"] is False
        ),
    )
    room = case.specs["max_gpu_length_mm"]
    board = _first(
        "motherboard",
        lambda s: (
            s["socket"] == "AM5"
            and s["form_factor"] == "Mini-ITX"
            and s["memory_type"] == "DDR5"
            and s["memory_slots"] == 2
            and (s["memory_max_gb"] or 0) >= 96
            and (s["m2_slots"] or 0) >= 1
            and s["sata_ports"]
        ),
    )
    cpu = _first(
        "cpu",
        lambda s: (
            s["socket"] == "AM5"
            and s["memory_types"] == ["DDR5"]
            and s["tdp_w"] == 65
            and s["includes_cooler"] is False
        ),
    )
    cooler = _first("cooler", lambda s: s["water_cooled"] is False and s["height_mm"] == 155 and "AM5" in s["sockets"])
    psu = _first("psu", lambda s: s["wattage_w"] == 750 and s["form_factor"] == "ATX")
    drive = _first("storage", lambda s: s["bus"] == "m2" and s["nvme"] is True and s["kind"] == "SSD")
    small_power = lambda s: s["board_power_w"] is not None and s["board_power_w"] <= 200
    long_gpu = _first(
        "gpu",
        lambda s: 320 <= (s["length_mm"] or 0) <= 340 and s["board_power_w"] is not None and s["board_power_w"] <= 320,
    )
    still_long = _first("gpu", lambda s: s["length_mm"] is not None and room < s["length_mm"] <= 290 and small_power(s))
    short_gpus = _first(
        "gpu", lambda s: s["length_mm"] is not None and s["length_mm"] <= room - 15 and small_power(s), n=3
    )
    big_case = _first(
        "case",
        lambda s: (
            "Mini-ITX" in s["board_form_factors"]
            and (s["max_gpu_length_mm"] or 0) >= 360
            and (s["max_cooler_height_mm"] or 0) >= 165
            and not s["psu_form_factors"]
            and s["includes_psu"] is False
        ),
    )
    low_case = _first(
        "case",
        lambda s: (
            "Mini-ITX" in s["board_form_factors"]  # fits the GPU, not the cooler
            and (s["max_gpu_length_mm"] or 0) >= 360
            and (s["max_cooler_height_mm"] or 999) < 140
        ),
    )
    ddr5_two = _first("ram", lambda s: s["memory_type"] == "DDR5" and s["modules"] == 2 and s["module_gb"] == 16, n=3)
    ddr5_one = _first("ram", lambda s: s["memory_type"] == "DDR5" and s["modules"] == 1 and s["module_gb"] == 16, n=2)
    ddr4_two = _first("ram", lambda s: s["memory_type"] == "DDR4" and s["modules"] == 2 and s["module_gb"] == 8, n=2)
    ddr5_four = _first("ram", lambda s: s["memory_type"] == "DDR5" and s["modules"] == 4 and s["module_gb"] == 16)
    return {
        "case": case,
        "board": board,
        "cpu": cpu,
        "cooler": cooler,
        "psu": psu,
        "drive": drive,
        "long_gpu": long_gpu,
        "still_long": still_long,
        "short_gpus": short_gpus,
        "big_case": big_case,
        "low_case": low_case,
        "ddr5_two": ddr5_two,
        "ddr5_one": ddr5_one,
        "ddr4_two": ddr4_two,
        "ddr5_four": ddr5_four,
    }


def sell(tenant, prices: list[tuple], *, inactive: tuple = (), stock: int = 4) -> None:
    """The tenant sells these parts ((rules.Part, price) pairs), upserted, then
    its offers version is bumped (direct inserts bypass the service's bump)."""
    off = {part.id for part in inactive}
    with tenant_session(tenant.id) as s:
        for part, price in prices:
            stmt = insert(PartOffer).values(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                part_id=uuid.UUID(part.id),
                slot=part.slot,
                price=Decimal(price),
                currency="EUR",
                stock=stock,
                active=part.id not in off,
                is_demo=False,
            )
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "part_id"],
                    set_={"price": stmt.excluded.price, "active": stmt.excluded.active, "stock": stmt.excluded.stock},
                )
            )
        s.commit()
    bump_offers_version(tenant.id)


def slots_of(**chosen) -> dict:
    return {slot: [p.id for p in (v if isinstance(v, list) else [v])] for slot, v in chosen.items()}


@pytest.fixture
def compact(parts):
    """The compact build with the too-long GPU, and a shop selling it all."""
    p = parts
    build = slots_of(
        cpu=p["cpu"],
        motherboard=p["board"],
        ram=p["ddr5_two"][0],
        gpu=p["long_gpu"],
        storage=p["drive"],
        psu=p["psu"],
        case=p["case"],
        cooler=p["cooler"],
    )
    tenant = make_tenant()
    sell(
        tenant,
        [
            (p["cpu"], "229.00"),
            (p["board"], "189.90"),
            (p["ddr5_two"][0], "99.00"),
            (p["long_gpu"], "799.00"),
            (p["drive"], "89.50"),
            (p["psu"], "119.00"),
            (p["case"], "79.00"),
            (p["cooler"], "49.90"),
            (p["low_case"], "30.00"),
            (p["still_long"], "40.00"),
            (p["big_case"], "90.00"),
            (p["short_gpus"][0], "120.00"),
            (p["short_gpus"][1], "150.00"),
            (p["short_gpus"][2], "400.00"),
        ],
    )
    return tenant, build


# --- the build ---------------------------------------------------------------------------------


def test_total_counts_sold_parts_and_flags_the_others(parts):
    p = parts
    tenant = make_tenant()
    sell(
        tenant,
        [
            (p["cpu"], "229.00"),
            (p["board"], "189.90"),
            (p["ddr5_two"][0], "99.00"),
            (p["case"], "79.00"),
            (p["cooler"], "49.90"),
        ],
        inactive=(p["cooler"],),
    )
    build = slots_of(
        cpu=p["cpu"],
        motherboard=p["board"],
        ram=[p["ddr5_two"][0], p["ddr5_two"][0]],
        case=p["case"],
        cooler=p["cooler"],
        psu=p["psu"],
    )
    build["gpu"] = [str(uuid.uuid4())]  # not in the catalog: dropped
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, build)
    assert "gpu" not in view.slots and view.slots["ram"] == [p["ddr5_two"][0].id] * 2
    assert view.total == Decimal("229.00") + Decimal("189.90") + 2 * Decimal("99.00") + Decimal("79.00")
    assert view.currency == "EUR"
    assert view.unavailable == [p["psu"].name, p["cooler"].name]  # no offer; an inactive offer
    psu, cooler = view.parts["psu"][0], view.parts["cooler"][0]
    assert (psu.available, psu.price, cooler.available, cooler.price) == (False, None, False, None)
    assert [pp.price for pp in view.parts["ram"]] == [Decimal("99.00")] * 2
    assert view.parts["gpu"] == [] and view.state == "Partial"
    assert view.draw_w == p["cpu"].specs["tdp_w"] + 50 + 4 * 5 + 15  # CPU + board + 4 modules + fans


def test_a_complete_build_reports_state_draw_badges_and_not_checked(compact, parts):
    tenant, build = compact
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, build)
    assert view.state == "Complete" and view.overall == "block" and view.unavailable == []
    assert view.total == sum(
        Decimal(x) for x in ("229.00", "189.90", "99.00", "799.00", "89.50", "119.00", "79.00", "49.90")
    )
    assert view.draw_w == parts["cpu"].specs["tdp_w"] + parts["long_gpu"].specs["board_power_w"] + 50 + 10 + 7 + 15
    assert dict(view.draw_parts)["Motherboard (allowance)"] == 50
    assert view.slot_severity["gpu"] == "block" and view.slot_severity["case"] == "block"
    assert view.slot_severity["cpu"] == "pass"
    # the case lists no PSU sizes: said, not passed silently
    assert any("power supply sizes are unknown" in m for m in view.not_checked)
    blocks = [v for v in view.verdicts if v.severity == "block"]
    assert [v.rule for v in blocks] == ["gpu_length"]
    length = parts["long_gpu"].specs["length_mm"]
    assert blocks[0].message == f"GPU is {length} mm; this case fits 255 mm"
    assert all(v.suggestions == [] for v in view.verdicts if v.severity in ("pass", "info"))


# --- the picker --------------------------------------------------------------------------------


def test_compatible_only_hides_a_too_long_gpu_and_show_all_says_why(compact, parts):
    tenant, build = compact
    long_gpu, still_long = parts["long_gpu"], parts["still_long"]
    with tenant_session(tenant.id) as s:
        only = ev.pick_list(s, build, "gpu")
        every = ev.pick_list(s, build, "gpu", compatible_only=False)
    shown = [i.part_id for i in only.items]
    assert long_gpu.id not in shown and still_long.id not in shown
    assert shown == [g.id for g in parts["short_gpus"]]  # cheapest first
    assert only.total == 3 and only.hidden_incompatible == 2
    assert all(i.compatible and i.severity == "pass" and i.reasons == [] for i in only.items)
    marked = {i.part_id: i for i in every.items}
    assert every.total == 5 and every.hidden_incompatible == 0
    item = marked[long_gpu.id]
    assert not item.compatible and item.severity == "block"
    assert item.reasons == [f"GPU is {long_gpu.specs['length_mm']} mm; this case fits 255 mm"]
    assert item.price == Decimal("799.00") and item.currency == "EUR" and item.stock == 4
    assert str(long_gpu.specs["length_mm"]) in item.summary and item.name == long_gpu.name


def test_facets_filters_sorting_and_paging(parts):
    p = parts
    tenant = make_tenant()
    kits = [
        *((k, f"{60 + i}.00") for i, k in enumerate(p["ddr5_two"])),
        *((k, f"{30 + i}.00") for i, k in enumerate(p["ddr5_one"])),
        *((k, f"{20 + i}.00") for i, k in enumerate(p["ddr4_two"])),
        (p["ddr5_four"], "150.00"),
    ]
    sell(tenant, kits)
    build = slots_of(cpu=p["cpu"], motherboard=p["board"])  # DDR5, 2 memory slots
    with tenant_session(tenant.id) as s:
        page = ev.pick_list(s, build, "ram")
        assert page.total == 5 and page.hidden_incompatible == 3  # DDR4 kits, the 4-module kit
        assert page.facets == {"memory_type": [("DDR5", 5)], "modules": [("1", 2), ("2", 3)]}
        assert page.filter_titles == {"memory_type": "Memory type", "modules": "Modules"}
        assert [i.price for i in page.items] == sorted(i.price for i in page.items)

        two = ev.pick_list(s, build, "ram", filters={"modules": "2", "nonsense": "x"})
        assert two.total == 3 and {i.part_id for i in two.items} == {k.id for k in p["ddr5_two"]}
        # a facet counts its values among parts matching every *other* criterion
        assert two.facets == {"memory_type": [("DDR5", 3)], "modules": [("1", 2), ("2", 3)]}
        assert two.hidden_incompatible == 2  # the 2-module DDR4 kits

        every = ev.pick_list(s, build, "ram", compatible_only=False)
        assert every.total == 8
        assert every.facets["memory_type"] == [("DDR4", 2), ("DDR5", 6)]
        assert every.facets["modules"] == [("1", 2), ("2", 5), ("4", 1)]
        none = ev.pick_list(s, build, "ram", filters={"memory_type": "DDR3"}, compatible_only=False)
        assert none.total == 0 and ("DDR3", 0) in none.facets["memory_type"]

        pages = [ev.pick_list(s, build, "ram", compatible_only=False, page=n, page_size=3) for n in range(3)]
        assert [len(pg.items) for pg in pages] == [3, 3, 2] and all(pg.total == 8 for pg in pages)
        ids = [i.part_id for pg in pages for i in pg.items]
        assert ids == [i.part_id for i in every.items] and len(set(ids)) == 8
        beyond = ev.pick_list(s, build, "ram", compatible_only=False, page=99, page_size=3)
        assert beyond.page == 2 and [i.part_id for i in beyond.items] == ids[6:]

        desc = ev.pick_list(s, build, "ram", compatible_only=False, sort="price_desc")
        assert [i.price for i in desc.items] == sorted((i.price for i in desc.items), reverse=True)
        by_name = ev.pick_list(s, build, "ram", compatible_only=False, sort="name")
        assert [i.name.lower() for i in by_name.items] == sorted(i.name.lower() for i in by_name.items)
        with pytest.raises(ValidationFailed):
            ev.pick_list(s, build, "ram", sort="cheapest")
        with pytest.raises(ValidationFailed):
            ev.pick_list(s, build, "monitor")


def test_search_matches_every_word_in_name_or_manufacturer(parts):
    p = parts
    tenant = make_tenant()
    kits = [*p["ddr5_two"], *p["ddr5_one"], *p["ddr4_two"]]
    sell(tenant, [(k, "50.00") for k in kits])
    target = p["ddr5_two"][0]
    manufacturer = index.catalog().get(target.id).manufacturer
    words = target.name.split()
    with tenant_session(tenant.id) as s:

        def found(search: str) -> set[str]:
            return {i.part_id for i in ev.pick_list(s, {}, "ram", search=search, page_size=100).items}

        assert target.id in found(f"{words[-1].upper()}   {words[0].lower()}")  # any case, any order
        by_maker = found(manufacturer.upper())
        assert target.id in by_maker
        for part_id in by_maker:
            entry = index.catalog().get(part_id)
            assert manufacturer.lower() in f"{entry.name} {entry.manufacturer}".lower()
        assert {
            k.id
            for k in kits
            if manufacturer.lower() not in k.name.lower() and index.catalog().get(k.id).manufacturer != manufacturer
        } & by_maker == set()
        assert found(f"{words[0]} no-such-word-anywhere") == set()
        assert found("") == {k.id for k in kits}


def test_multi_slot_index_replaces_an_entry_and_none_adds_one(parts):
    p = parts
    tenant = make_tenant()
    sell(tenant, [(k, "40.00") for k in [*p["ddr5_two"], *p["ddr5_one"], *p["ddr4_two"]]])
    base = slots_of(motherboard=p["board"])  # 2 memory slots
    with tenant_session(tenant.id) as s:
        one_kit = {**base, "ram": [p["ddr5_one"][0].id]}
        add = ev.pick_list(s, one_kit, "ram", page_size=100)  # one more module fits, a pair does not
        assert {i.part_id for i in add.items} == {k.id for k in p["ddr5_one"]}
        replace = ev.pick_list(s, one_kit, "ram", index=0, page_size=100)  # instead of it: pairs fit too
        assert {i.part_id for i in replace.items} == {k.id for k in [*p["ddr5_two"], *p["ddr5_one"]]}

        wrong = {**base, "ram": [p["ddr4_two"][0].id]}
        # the DDR4 kit already in the build does not make every other kit look incompatible
        instead = ev.pick_list(s, wrong, "ram", index=0, page_size=100)
        assert {i.part_id for i in instead.items} == {k.id for k in [*p["ddr5_two"], *p["ddr5_one"]]}
        view = ev.evaluate_build(s, wrong)
        block = next(v for v in view.verdicts if v.rule == "ram_type")
        assert block.severity == "block"
        ram_fixes = [sg for sg in block.suggestions if sg.slot == "ram"]
        assert ram_fixes and all(sg.index == 0 and sg.slots["ram"] == [sg.part_id] for sg in ram_fixes)
        fixed = ev.evaluate_build(s, ram_fixes[0].slots)
        assert not [v for v in fixed.verdicts if v.severity == "block"]


# --- suggestions -------------------------------------------------------------------------------


def _closest_then_cheapest(build_parts: dict, candidates: list[tuple[str, object, str]], rule: str) -> list[tuple]:
    """(slot, part id, price) of `candidates` ((slot, part, price)) in the
    order suggestions take: fewest tiers from the part they replace, then
    price, then the rule's remedy slot order."""
    remedy = rules.get_rule(rule).remedy_slots
    ranked = sorted(
        candidates,
        key=lambda c: (rules.closeness(build_parts[c[0]], c[1]), Decimal(c[2]), remedy.index(c[0])),
    )
    return [(slot, part.id, Decimal(price)) for slot, part, price in ranked]


def test_gpu_length_block_suggests_the_closest_real_fixes_cheapest_first(compact, parts):
    tenant, build = compact
    p = parts
    fixes = [
        ("case", p["big_case"], "90.00"),
        ("gpu", p["short_gpus"][0], "120.00"),
        ("gpu", p["short_gpus"][1], "150.00"),
        ("gpu", p["short_gpus"][2], "400.00"),
    ]
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, build)
        block = next(v for v in view.verdicts if v.rule == "gpu_length")
        got = [(sg.slot, sg.part_id, sg.price) for sg in block.suggestions]
        # not the 30.00 case (the cooler would no longer fit: a new block), not the 40.00 GPU (still too
        # long); the rest closest to the part they replace first, then cheapest, three of them
        assert got == _closest_then_cheapest({"gpu": p["long_gpu"], "case": p["case"]}, fixes, "gpu_length")[:3]
        for sg in block.suggestions:
            assert sg.currency == "EUR" and sg.index is None
            assert sg.name == index.catalog().get(sg.part_id).name
            assert sg.slots == {**build, sg.slot: [sg.part_id]}
            applied = ev.evaluate_build(s, sg.slots)  # one click: the block is gone, nothing new blocks
            assert [v for v in applied.verdicts if v.severity == "block"] == []
            assert (
                applied.total == view.total - {"case": Decimal("79.00"), "gpu": Decimal("799.00")}[sg.slot] + sg.price
            )


def test_suggestions_only_name_parts_the_shop_sells(compact, parts):
    tenant, build = compact
    p = parts
    sell(
        tenant,
        [(p["big_case"], "90.00"), (p["short_gpus"][0], "120.00")],
        inactive=(p["big_case"], p["short_gpus"][0]),
    )
    with tenant_session(tenant.id) as s:
        block = next(v for v in ev.evaluate_build(s, build).verdicts if v.rule == "gpu_length")
    expected = _closest_then_cheapest(
        {"gpu": p["long_gpu"]},
        [("gpu", p["short_gpus"][1], "150.00"), ("gpu", p["short_gpus"][2], "400.00")],
        "gpu_length",
    )
    assert [sg.part_id for sg in block.suggestions] == [pid for _, pid, _ in expected]


# --- caching and tenancy -----------------------------------------------------------------------


def test_offer_changes_are_seen_after_the_version_bump(compact, parts):
    tenant, build = compact
    gpu = parts["short_gpus"][0]
    with tenant_session(tenant.id) as s:
        assert ev.pick_list(s, build, "gpu").items[0].price == Decimal("120.00")
        s.execute(text("UPDATE part_offers SET price = 10.00 WHERE part_id = :p"), {"p": uuid.UUID(gpu.id)})
        s.commit()
    bump_offers_version(tenant.id)  # what every offer-changing service call does after its commit
    with tenant_session(tenant.id) as s:
        first = ev.pick_list(s, build, "gpu").items[0]
        assert (first.part_id, first.price) == (gpu.id, Decimal("10.00"))
        # the service bumps the version itself once its change commits
        service.deactivate_offer(s, parts["cpu"].id, actor=None)
        s.commit()
    with tenant_session(tenant.id) as s:
        view = ev.evaluate_build(s, build)
    assert view.unavailable == [parts["cpu"].name] and view.parts["cpu"][0].price is None


def test_a_tenant_sees_only_its_own_offers(compact, parts):
    tenant_a, build = compact
    tenant_b = make_tenant()
    extra = parts["ddr5_two"][1]
    sell(tenant_b, [(parts["short_gpus"][0], "333.00"), (extra, "77.00")])
    with tenant_session(tenant_a.id) as s:
        a_gpus = {i.part_id: i.price for i in ev.pick_list(s, build, "gpu", compatible_only=False).items}
        a_ram = {i.part_id for i in ev.pick_list(s, {}, "ram", compatible_only=False).items}
        a_view = ev.evaluate_build(s, {"ram": [extra.id]})
    with tenant_session(tenant_b.id) as s:
        b_gpus = {i.part_id: i.price for i in ev.pick_list(s, build, "gpu", compatible_only=False).items}
        b_view = ev.evaluate_build(s, build)
    assert a_gpus[parts["short_gpus"][0].id] == Decimal("120.00") and len(a_gpus) == 5
    assert extra.id not in a_ram and a_view.unavailable == [extra.name]
    assert b_gpus == {parts["short_gpus"][0].id: Decimal("333.00")}
    assert len(b_view.unavailable) == 8 and b_view.total == Decimal("0")
    suggested = {sg.part_id for v in b_view.verdicts for sg in v.suggestions}
    assert suggested == {parts["short_gpus"][0].id}  # B sells only that fix


def test_threads_share_one_cold_index_safely(compact):
    """Reflex runs handlers in threads: many first calls at once load the
    catalog and the offers once and all get the same answers."""
    tenant, build = compact

    def work(slot: str) -> tuple:
        with tenant_session(tenant.id) as s:
            page = ev.pick_list(s, build, slot, compatible_only=False)
            view = ev.evaluate_build(s, build)
        return ([(i.part_id, i.price, i.severity) for i in page.items], view.total, ev.plain(view.verdicts))

    expected = {slot: work(slot) for slot in ev.SLOTS}  # one thread, warm caches
    index.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(work, [slot for slot in ev.SLOTS for _ in range(3)]))
    assert got == [expected[slot] for slot in ev.SLOTS for _ in range(3)]
