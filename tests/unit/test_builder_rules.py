"""Compatibility rules (`app.builder.rules`) and spec normalisation
(`app.catalog.normalize`) on REAL catalog parts.

Each slot file of the BuildCores OpenDB snapshot is read once per module;
parts are picked by exact product name (the name must be unique in the file)
so every case is deterministic. For every rule there are pass, warn and/or
block, and missing-data (`info`, "not checked") cases.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from app import settings
from app.builder import rules
from app.builder.rules import Part, Verdict, compat_key, estimated_draw, evaluate, overall, rules_for_slot, with_part
from app.catalog.normalize import SLOTS, SOURCE_FILES, SPEC_KEYS, iter_records, normalize

DATA_DIR = settings.ROOT.parent / "shared" / "data" / "pc-parts"


# --------------------------------------------------------------- fixtures ---


class Catalog:
    """The real catalog, each slot file read (and normalised) on first use."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, list[Part]]] = {}
        self._raw: dict[str, dict[str, list[dict]]] = {}

    def _load(self, slot: str) -> None:
        if slot in self._parts:
            return
        parts: dict[str, list[Part]] = {}
        raws: dict[str, list[dict]] = {}
        for raw in iter_records(DATA_DIR, slot):
            name, _, specs = normalize(slot, raw)
            parts.setdefault(name, []).append(Part(raw["opendb_id"], slot, name, specs))
            raws.setdefault(name, []).append(raw)
        self._parts[slot], self._raw[slot] = parts, raws

    def part(self, slot: str, name: str) -> Part:
        """The one part of `slot` called exactly `name`."""
        self._load(slot)
        found = self._parts[slot].get(name, [])
        assert len(found) == 1, f"{slot} {name!r}: {len(found)} parts with that exact name"
        return found[0]

    def raw(self, slot: str, name: str) -> dict:
        self.part(slot, name)
        return self._raw[slot][name][0]

    def all(self, slot: str) -> list[Part]:
        self._load(slot)
        return [p for group in self._parts[slot].values() for p in group]


@pytest.fixture(scope="module")
def cat() -> Catalog:
    assert DATA_DIR.is_dir(), f"catalog data not found at {DATA_DIR}"
    return Catalog()


# Real parts used below, by exact upstream name.
CPU_AM5 = "AMD Ryzen 7 7800X3D"  # AM5, 120 W, DDR5, no cooler in the box
CPU_AM5_BOXED = "AMD Ryzen 5 9600"  # AM5, ships with a cooler
CPU_2011_3_UNKNOWN_MEM = "Intel Xeon E5 1650 V3 OEM/Tray 3.5 GHz 6-Core LGA2011-3"  # memory types unknown
BOARD_AM5 = "Asus PRIME B650-PLUS WIFI"  # AM5 ATX DDR5, 4 slots, 192 GB, 2 M.2 (M), 4 SATA
BOARD_LGA1700_DDR4 = "ASUS B760M-AYW WIFI D4"
BOARD_2_SATA = "ASUS B760M-AYW PRO WIFI"  # LGA 1700 DDR5, 2 SATA ports
BOARD_EATX = "ASRock X670E Taichi Carrara"  # AM5 EATX; M.2 list mixes key M and key E
BOARD_UNKNOWN = "GIGABYTE H310M A LGA1151 DDR4"  # socket, memory type, slots ... all unknown
BOARD_SPARSE = "ASUS Pro WS 665-ACE"  # AM5; empty M.2 list, no SATA data, no max memory
BOARD_NO_FORM = "MB ASRock AMD TRX50 Threadripper"  # form factor unknown
BOARD_DUAL = "Supermicro Intel C612 MBD-X10DAX Dual-CPU LGA2011-3 DDR4 EATX"  # "2 x LGA 2011-3"
BOARD_THIN_ITX = "Gigabyte H87 GA-H87TN LGA1150 DDR3 Thin Mini ITX"
RAM_DDR5_2X16 = "Corsair Vengeance White DDR5-6000 CL36 32GB (2x16GB)"
RAM_DDR5_4X16 = "Corsair Dominator Platinum RGB DDR5-6400 CL32 64GB (4x16GB)"
RAM_DDR5_4X64 = "G.Skill Flare X5 256GB (4x64GB) DDR5-6000 CL32 Black"
RAM_DDR4_2X16 = "Corsair Vengeance LPX White DDR4-3200 CL16 32GB (2x16GB)"
GPU_LONG = "Asus ROG STRIX GAMING GeForce RTX 4090 24GB GDDR6X White"  # 358 mm, 450 W
GPU_317 = "Gigabyte AORUS GeForce RTX 5070 MASTER 12G GDDR7"  # 317 mm
GPU_SHORT = "MSI VENTUS 2X BLACK OC GeForce RTX 4060 8GB GDDR6"  # 199 mm, 115 W
GPU_NO_LENGTH = "Gigabyte GeForce RTX 2080 WindForce OC"
GPU_NO_POWER = "EVGA GeForce GTX 1660 XC Ultra Gaming, 6GB GDDR5, HDB Fan, 06G-P4-1167-KR"
M2_SSD = "Samsung 990 Pro 2TB SSD M.2-2280 PCIe 4.0 x4 NVMe"
SATA_SSD = 'Samsung 870 Evo 2TB SSD 2.5" SATA 6.0 Gb/s'
SATA_HDD = 'Western Digital WD Blue 8TB 3.5" HDD 5640RPM SATA 6.0 Gb/s'
SAS_HDD = 'Seagate Exos 10TB HDD 7200RPM 3.5" SAS 12.0 Gb/s'
DRIVE_UNKNOWN = "ADATA SU800 2TB 3D-NAND 2.5 Inch"
PSU_650 = "Corsair RM650e (2025) Black 650W Fully Modular"
PSU_750 = "Corsair RM750 750W 80+ Gold Certified Fully Modular ATX"
PSU_1000 = "Corsair RM1000x 1000W 80+ Gold Certified Fully Modular"
PSU_SFX = "Corsair SF Series SF750 — 750 Watt 80 PLUS® Platinum Certified High Performance SFX PSU"
PSU_ATX_EPS = "FOCUS GM-850"
PSU_UNKNOWN = "EVGA Supernova 850 PQ 80+ Platinum 850W"  # wattage and form factor unknown
CASE_322 = "Silverstone FARA R1 PRO ATX Mid Tower Black Tempered Glass Side Panel"  # GPU 322, cooler 165, no PSU list
CASE_ATX_PSU = "TRYX FLOVA F50 Black"  # PSU list ["ATX"]
CASE_SFX = "NZXT H2 Flow Black"  # Mini-ITX, PSU SFX / SFX-L
CASE_WITH_PSU = "Corsair 4000D Airflow ATX Mid Tower Black Tempered Glass Side Panel, w/750 W Power Supply"
CASE_UNKNOWN = (
    "NZXT H7 - CM-H71BW-01 - ATX Mid Tower PC Gaming Case - Front I/O USB Type-C Port - "
    "Quick-Release Tempered Glass Side Panel - White"
)  # no GPU length, no cooler height
CASE_NO_BOARDS = "Antec FLUX REAR Mid Tower Case With Tempered Glass"  # no board form factor list
COOLER_AM5 = "Noctua NH-U12S chromax.Black"  # 158 mm, AM5
COOLER_168 = "Noctua NH-D15 Air 168mm G2 LBC 91.58 CFM Brown / Silver"
COOLER_162 = "Jonsbo HX6250 90.2 CFM Air 162mm Black"
COOLER_NO_AM5 = "Cooler Master Hyper 212 LED Air 160mm 66.3 CFM Rifle Bearing"
COOLER_AIO = "Thermalright Frozen Warframe PRO Water 360mm Black"
COOLER_NO_HEIGHT = "AMD Wraith Stealth Socket AM4"
COOLER_NO_SOCKETS = "Thermaltake A1964 Air 53mm"


# ---------------------------------------------------------------- helpers ---


def sel(cat: Catalog, **slots: str | Iterable[str]) -> dict[str, tuple[Part, ...]]:
    """A selection from part names: `sel(cat, cpu=NAME, ram=[NAME, NAME])`."""
    out: dict[str, tuple[Part, ...]] = {}
    for slot, names in slots.items():
        names = [names] if isinstance(names, str) else list(names)
        out[slot] = tuple(cat.part(slot, name) for name in names)
    return out


def only(verdicts: list[Verdict], rule: str) -> list[Verdict]:
    return [v for v in verdicts if v.rule == rule]


def one(selection, rule: str) -> Verdict:
    """The single verdict `rule` gives on `selection` (running all rules)."""
    found = only(evaluate(selection), rule)
    assert len(found) == 1, found
    return found[0]


def severities(selection, rule: str) -> list[str]:
    return [v.severity for v in only(evaluate(selection), rule)]


# ------------------------------------------------------------- normalize ---


def test_every_record_normalises_to_exactly_the_spec_keys(cat):
    for slot in SLOTS:
        parts = cat.all(slot)
        assert parts, slot
        for part in parts:
            assert tuple(part.specs) == SPEC_KEYS[slot]


def test_source_files_name_one_file_per_slot():
    assert tuple(SOURCE_FILES) == SLOTS
    assert SOURCE_FILES["cooler"] == "cpu-cooler.jsonl.gz"
    for slot, filename in SOURCE_FILES.items():
        assert (DATA_DIR / filename).is_file(), slot


def test_normalize_cpu(cat):
    name, maker, specs = normalize("cpu", cat.raw("cpu", CPU_AM5))
    assert (name, maker) == (CPU_AM5, "AMD")
    assert specs == {
        "socket": "AM5",
        "tdp_w": 120,
        "memory_types": ["DDR5"],
        "has_igpu": True,
        "includes_cooler": False,
        "cores": 8,
        "threads": 16,
        "boost_ghz": 5.0,
        "series": "Ryzen 7 7000",
    }
    assert cat.part("cpu", CPU_2011_3_UNKNOWN_MEM).specs["memory_types"] == []


def test_normalize_motherboard_counts_m2_key_m_only(cat):
    raw = cat.raw("motherboard", BOARD_EATX)
    assert [s["key"] for s in raw["m2_slots"]].count("E") == 1
    specs = normalize("motherboard", raw)[2]
    assert specs["m2_slots"] == 4
    assert specs["form_factor"] == "EATX" and specs["socket"] == "AM5"
    # a key "B" slot is not a drive slot here either
    z87 = cat.part("motherboard", "Asus Z87 Maximus VI Impact WIFI DDR3 Mini ITX").specs
    assert z87["m2_slots"] == 1


def test_normalize_motherboard_empty_m2_list_is_unknown(cat):
    raw = cat.raw("motherboard", BOARD_SPARSE)
    assert raw["m2_slots"] == []
    specs = normalize("motherboard", raw)[2]
    assert specs["m2_slots"] is None
    assert specs["sata_ports"] is None and specs["memory_max_gb"] is None


def test_normalize_motherboard_m2_entry_without_key_is_unknown(cat):
    raw = cat.raw("motherboard", "NZXT N7 Z690 LGA 1700 ATX Motherboard (White)")
    assert any(s["key"] is None for s in raw["m2_slots"])
    assert normalize("motherboard", raw)[2]["m2_slots"] is None


def test_normalize_motherboard_keeps_odd_sockets_and_sums_sata(cat):
    assert cat.part("motherboard", BOARD_DUAL).specs["socket"] == "2 x LGA 2011-3"
    board = cat.part("motherboard", BOARD_AM5).specs
    assert board["sata_ports"] == 4 and board["memory_slots"] == 4 and board["memory_max_gb"] == 192
    # 0 SATA ports of both speeds is unfilled upstream data, not "no ports"
    raw = cat.raw("motherboard", BOARD_AM5)
    assert (
        normalize("motherboard", {**raw, "storage_devices": {"sata_6_gb_s": 0, "sata_3_gb_s": 0}})[2]["sata_ports"]
        is None
    )


def test_normalize_other_slots(cat):
    assert cat.part("ram", RAM_DDR5_4X16).specs == {
        "memory_type": "DDR5",
        "speed_mts": 6400,
        "modules": 4,
        "module_gb": 16,
        "total_gb": 64,
        "cas_latency": 32,
    }
    assert cat.part("gpu", GPU_LONG).specs["length_mm"] == 358
    assert cat.part("gpu", GPU_LONG).specs["board_power_w"] == 450
    # upstream length 0 is a placeholder → unknown
    assert cat.raw("gpu", GPU_NO_LENGTH)["length"] in (0, None)
    assert cat.part("gpu", GPU_NO_LENGTH).specs["length_mm"] is None
    assert cat.part("storage", M2_SSD).specs["bus"] == "m2"
    assert cat.part("storage", SATA_HDD).specs["bus"] == "sata"
    assert cat.part("storage", SATA_HDD).specs["kind"] == "HDD"
    assert cat.part("storage", SAS_HDD).specs["bus"] == "other"
    assert cat.part("storage", DRIVE_UNKNOWN).specs["bus"] is None
    assert cat.part("psu", PSU_SFX).specs["form_factor"] == "SFX"
    assert cat.part("case", CASE_WITH_PSU).specs["includes_psu"] is True
    assert cat.part("case", CASE_322).specs["includes_psu"] is False
    assert cat.part("case", CASE_322).specs["psu_form_factors"] == []
    assert cat.part("case", CASE_UNKNOWN).specs["max_cooler_height_mm"] is None
    aio = cat.part("cooler", COOLER_AIO).specs
    assert aio["water_cooled"] is True and aio["radiator_mm"] == 360


def test_normalize_never_crashes_on_odd_values():
    for slot in SLOTS:
        name, maker, specs = normalize(slot, {})
        assert (name, maker) == ("", "")
        assert tuple(specs) == SPEC_KEYS[slot]
        assert all(v is None or v == [] for v in specs.values())
        assert normalize(slot, "not a dict")[2] == specs  # type: ignore[arg-type]
    odd = normalize("gpu", {"length": "abc", "tdp": True, "memory": -4, "total_slot_width": float("nan")})[2]
    assert odd["length_mm"] is None and odd["board_power_w"] is None
    assert odd["memory_gb"] is None and odd["slot_width"] is None
    assert normalize("gpu", {"length": "300 mm", "tdp": 220.4})[2]["length_mm"] == 300
    case = normalize(
        "case", {"supported_motherboard_form_factors": None, "power_supply": "SFX/SFX-L", "max_cpu_cooler_height": 0}
    )[2]
    assert case["board_form_factors"] == [] and case["includes_psu"] is None
    assert case["max_cooler_height_mm"] is None
    cpu = normalize("cpu", {"socket": "", "specifications": {"memory": {"types": ["DDR4", None, 5, "DDR4"]}}})[2]
    assert cpu["socket"] is None and cpu["memory_types"] == ["DDR4"]
    with pytest.raises(KeyError):
        normalize("monitor", {})


# ---------------------------------------------------------------- engine ---


def test_rules_have_unique_names_and_known_slots():
    names = [r.name for r in rules.RULES]
    assert len(names) == len(set(names))
    for r in rules.RULES:
        assert set(r.slots) <= set(SLOTS) and r.remedy_slots and set(r.remedy_slots) <= set(r.slots)
        assert set(r.needs) <= set(r.slots)


def test_slots_match_the_slot_map():
    from app.builder import slotmap

    assert SLOTS == rules.SLOTS == slotmap.SLOTS
    assert rules.get_rule("gpu_length").needs == ("gpu", "case")
    assert rules.get_rule("psu_wattage").needs == ("psu",)


def test_remedy_slots():
    remedy = {r.name: r.remedy_slots for r in rules.RULES}
    assert remedy["cpu_socket"] == ("motherboard", "cpu")
    assert remedy["gpu_length"] == ("gpu", "case")
    assert remedy["psu_wattage"] == ("psu",)
    assert remedy["cooler_socket"] == ("cooler", "cpu")


def test_rule_does_not_run_until_its_slots_are_filled(cat):
    assert evaluate({}) == []
    assert evaluate(sel(cat, gpu=GPU_LONG)) == []
    assert evaluate(sel(cat, psu=PSU_650, ram=RAM_DDR5_2X16)) == []  # nothing drawing real power yet
    assert evaluate(sel(cat, cpu=CPU_AM5, ram=[])) == []
    assert {v.rule for v in evaluate(sel(cat, gpu=GPU_LONG, case=CASE_322))} == {"gpu_length"}


def test_rules_for_slot():
    assert {r.name for r in rules_for_slot("gpu")} == {"gpu_length", "psu_wattage"}
    assert {r.name for r in rules_for_slot("cooler")} == {"cooler_socket", "cooler_height"}
    assert {r.name for r in rules_for_slot("psu")} == {"psu_wattage", "psu_form_factor"}
    assert "cpu_socket" in {r.name for r in rules_for_slot("motherboard")}
    assert rules_for_slot("monitor") == ()


def test_overall():
    def v(severity: str) -> Verdict:
        return Verdict("x", severity, ("cpu",), "m")  # type: ignore[arg-type]

    assert overall([]) == "pass"
    assert overall([v("pass"), v("info")]) == "info"
    assert overall([v("info"), v("warn"), v("pass")]) == "warn"
    assert overall([v("block"), v("warn"), v("info")]) == "block"


def test_complete_compatible_build_has_no_warn_or_block(cat):
    build = sel(
        cat,
        cpu=CPU_AM5,
        motherboard=BOARD_AM5,
        ram=RAM_DDR5_2X16,
        gpu=GPU_SHORT,
        storage=[M2_SSD, SATA_HDD],
        psu=PSU_750,
        case=CASE_ATX_PSU,
        cooler=COOLER_AM5,
    )
    verdicts = evaluate(build)
    assert overall(verdicts) == "pass", verdicts
    expected = {r.name for r in rules.RULES} - {"drive_interface"}  # no SAS / unknown drive here
    assert {v.rule for v in verdicts} == expected


def test_block_messages_name_both_values(cat):
    build = sel(
        cat,
        cpu=CPU_AM5,
        motherboard=BOARD_LGA1700_DDR4,
        ram=RAM_DDR5_2X16,
        gpu=GPU_LONG,
        storage=M2_SSD,
        psu=PSU_650,
        case=CASE_322,
        cooler=COOLER_NO_AM5,
    )
    blocks = {v.rule: v.message for v in evaluate(build) if v.severity == "block"}
    assert blocks == {
        "cpu_socket": "CPU socket is AM5; this motherboard has LGA 1700",
        "ram_type": "Memory is DDR5; this motherboard takes DDR4",
        "gpu_length": "GPU is 358 mm; this case fits 322 mm",
        "psu_wattage": "PSU is 650 W; the build draws about 652 W",
        "cooler_socket": ("CPU socket is AM5; this cooler fits AM2, AM3, AM4, FM1, FM2, LGA 1150 and 8 more"),
    }
    assert overall(evaluate(build)) == "block"


def test_not_checked_infos_say_so(cat):
    build = sel(
        cat,
        cpu=CPU_2011_3_UNKNOWN_MEM,
        motherboard=BOARD_UNKNOWN,
        ram=RAM_DDR4_2X16,
        gpu=GPU_NO_LENGTH,
        storage=[DRIVE_UNKNOWN, SAS_HDD],
        psu=PSU_UNKNOWN,
        case=CASE_UNKNOWN,
        cooler=COOLER_NO_HEIGHT,
    )
    verdicts = evaluate(build)
    missing = [v for v in verdicts if v.not_checked]
    assert len(missing) >= 8
    for v in missing:
        assert v.severity == "info" and " not checked: " in v.message, v
    assert overall(verdicts) in ("info", "block")


# -------------------------------------------------------------- per rule ---


def test_cpu_socket(cat):
    ok = one(sel(cat, cpu=CPU_AM5, motherboard=BOARD_AM5), "cpu_socket")
    assert (ok.severity, ok.message) == ("pass", "CPU socket is AM5; this motherboard has AM5")
    bad = one(sel(cat, cpu=CPU_AM5, motherboard=BOARD_LGA1700_DDR4), "cpu_socket")
    assert bad.severity == "block" and bad.slots == ("cpu", "motherboard")
    assert "AM5" in bad.message and "LGA 1700" in bad.message
    dual = one(sel(cat, cpu=CPU_2011_3_UNKNOWN_MEM, motherboard=BOARD_DUAL), "cpu_socket")
    assert dual.severity == "block" and "2 x LGA 2011-3" in dual.message
    unknown = one(sel(cat, cpu=CPU_AM5, motherboard=BOARD_UNKNOWN), "cpu_socket")
    assert unknown.severity == "info" and unknown.not_checked
    assert unknown.message == "CPU socket not checked: this motherboard's socket is unknown"


def test_estimated_draw(cat):
    assert estimated_draw({}).total_w == 0
    build = sel(cat, cpu=CPU_AM5, motherboard=BOARD_AM5, ram=RAM_DDR5_2X16, gpu=GPU_LONG, storage=[M2_SSD, SATA_HDD])
    draw = estimated_draw(build)
    assert dict(draw.parts) == {
        "CPU (TDP)": 120,
        "Graphics card (board power)": 450,
        "Motherboard (allowance)": rules.BOARD_W,
        "Memory (2 modules × 5 W)": 2 * rules.RAM_MODULE_W,
        "SSD (1 × 7 W)": rules.SSD_W,
        "Hard disk (1 × 10 W)": rules.HDD_W,
        "Fans and pump (allowance)": rules.FANS_W,
    }
    assert draw.total_w == 120 + 450 + 50 + 10 + 7 + 10 + 15 == sum(w for _, w in draw.parts)
    assert draw.unknown == ()
    # two kits of four modules count eight modules
    eight = estimated_draw(sel(cat, ram=[RAM_DDR5_4X16, RAM_DDR5_4X16]))
    assert ("Memory (8 modules × 5 W)", 40) in eight.parts
    no_power = estimated_draw(sel(cat, cpu=CPU_AM5, gpu=GPU_NO_POWER))
    assert no_power.unknown == ("graphics card",)
    assert no_power.total_w == 120 + rules.BOARD_W + rules.FANS_W


def test_psu_wattage(cat):
    base = dict(cpu=CPU_AM5, motherboard=BOARD_AM5, ram=RAM_DDR5_2X16, gpu=GPU_LONG, storage=M2_SSD)
    assert estimated_draw(sel(cat, **base)).total_w == 652
    block = one(sel(cat, **base, psu=PSU_650), "psu_wattage")
    assert block.severity == "block" and block.message == "PSU is 650 W; the build draws about 652 W"
    assert block.slots == ("psu", "cpu", "gpu")
    warn = one(sel(cat, **base, psu=PSU_750), "psu_wattage")
    assert warn.severity == "warn"
    assert warn.message == (
        "PSU is 750 W; the build draws about 652 W, less than 20 % headroom (aim for 783 W or more)"
    )
    ok = one(sel(cat, **base, psu=PSU_1000), "psu_wattage")
    assert ok.severity == "pass" and ok.message == "PSU is 1000 W; the build draws about 652 W (53 % headroom)"
    # a CPU alone is enough to run the check
    assert severities(sel(cat, cpu=CPU_AM5, psu=PSU_650), "psu_wattage") == ["pass"]


def test_psu_wattage_missing_data(cat):
    unknown = one(sel(cat, cpu=CPU_AM5, gpu=GPU_LONG, psu=PSU_UNKNOWN), "psu_wattage")
    assert unknown.severity == "info" and unknown.not_checked
    assert unknown.message == "PSU wattage not checked: this power supply's wattage is unknown"
    partial = only(evaluate(sel(cat, cpu=CPU_AM5, gpu=GPU_NO_POWER, psu=PSU_650)), "psu_wattage")
    assert [v.severity for v in partial] == ["pass", "info"]
    assert partial[1].not_checked and "graphics card is unknown" in partial[1].message


def test_gpu_length(cat):
    block = one(sel(cat, gpu=GPU_LONG, case=CASE_322), "gpu_length")
    assert (block.severity, block.message) == ("block", "GPU is 358 mm; this case fits 322 mm")
    assert block.slots == ("gpu", "case")
    warn = one(sel(cat, gpu=GPU_317, case=CASE_322), "gpu_length")
    assert (warn.severity, warn.message) == ("warn", "GPU is 317 mm; this case fits 322 mm (only 5 mm to spare)")
    ok = one(sel(cat, gpu=GPU_SHORT, case=CASE_322), "gpu_length")
    assert (ok.severity, ok.message) == ("pass", "GPU is 199 mm; this case fits 322 mm")
    no_case = one(sel(cat, gpu=GPU_LONG, case=CASE_UNKNOWN), "gpu_length")
    assert no_case.severity == "info" and no_case.not_checked
    assert no_case.message == "GPU clearance not checked: this case's maximum GPU length is unknown"
    no_gpu = one(sel(cat, gpu=GPU_NO_LENGTH, case=CASE_322), "gpu_length")
    assert no_gpu.message == "GPU clearance not checked: this GPU's length is unknown"


def test_ram_type(cat):
    ok = only(evaluate(sel(cat, cpu=CPU_AM5, motherboard=BOARD_AM5, ram=RAM_DDR5_2X16)), "ram_type")
    assert [(v.severity, v.message) for v in ok] == [("pass", "Memory is DDR5; this motherboard takes DDR5")]
    bad = one(sel(cat, motherboard=BOARD_AM5, ram=RAM_DDR4_2X16), "ram_type")
    assert (bad.severity, bad.message) == ("block", "Memory is DDR4; this motherboard takes DDR5")
    # against the CPU's memory types (no board chosen yet)
    vs_cpu = one(sel(cat, cpu=CPU_AM5, ram=RAM_DDR4_2X16), "ram_type")
    assert (vs_cpu.severity, vs_cpu.message) == ("block", "Memory is DDR4; this CPU supports DDR5")
    assert vs_cpu.slots == ("ram", "cpu")
    assert severities(sel(cat, cpu=CPU_AM5, ram=RAM_DDR5_2X16), "ram_type") == ["pass"]
    # mixed kits: each type is judged
    mixed = severities(sel(cat, motherboard=BOARD_AM5, ram=[RAM_DDR5_2X16, RAM_DDR4_2X16]), "ram_type")
    assert mixed == ["pass", "block"]


def test_ram_type_missing_data(cat):
    board = one(sel(cat, motherboard=BOARD_UNKNOWN, ram=RAM_DDR4_2X16), "ram_type")
    assert board.not_checked and board.message == "memory type not checked: this motherboard's memory type is unknown"
    cpu = one(sel(cat, cpu=CPU_2011_3_UNKNOWN_MEM, ram=RAM_DDR4_2X16), "ram_type")
    assert cpu.not_checked and "this CPU's supported memory types are unknown" in cpu.message


def test_ram_slots(cat):
    ok = one(sel(cat, motherboard=BOARD_AM5, ram=RAM_DDR5_4X16), "ram_slots")
    assert (ok.severity, ok.message) == ("pass", "Memory is 4 modules; this motherboard has 4 slots")
    block = one(sel(cat, motherboard=BOARD_AM5, ram=[RAM_DDR5_4X16, RAM_DDR5_2X16]), "ram_slots")
    assert (block.severity, block.message) == ("block", "Memory is 6 modules; this motherboard has 4 slots")
    unknown = one(sel(cat, motherboard=BOARD_UNKNOWN, ram=RAM_DDR5_2X16), "ram_slots")
    assert unknown.not_checked and "number of memory slots is unknown" in unknown.message


def test_ram_capacity(cat):
    ok = one(sel(cat, motherboard=BOARD_AM5, ram=[RAM_DDR5_2X16, RAM_DDR5_2X16]), "ram_capacity")
    assert (ok.severity, ok.message) == ("pass", "Memory totals 64 GB; this motherboard supports up to 192 GB")
    block = one(sel(cat, motherboard=BOARD_AM5, ram=RAM_DDR5_4X64), "ram_capacity")
    assert (block.severity, block.message) == ("block", "Memory totals 256 GB; this motherboard supports up to 192 GB")
    unknown = one(sel(cat, motherboard=BOARD_SPARSE, ram=RAM_DDR5_2X16), "ram_capacity")
    assert unknown.not_checked
    assert unknown.message == "memory capacity not checked: this motherboard's maximum memory is unknown"


def test_cooler_socket(cat):
    ok = only(evaluate(sel(cat, cpu=CPU_AM5, cooler=COOLER_AM5)), "cooler_socket")
    assert [(v.severity, v.message) for v in ok] == [("pass", "CPU socket is AM5; this cooler fits AM5")]
    block = one(sel(cat, cpu=CPU_AM5, cooler=COOLER_NO_AM5), "cooler_socket")
    assert block.severity == "block" and block.slots == ("cooler", "cpu")
    assert block.message.startswith("CPU socket is AM5; this cooler fits AM2, AM3, AM4")
    unknown = one(sel(cat, cpu=CPU_AM5, cooler=COOLER_NO_SOCKETS), "cooler_socket")
    assert unknown.not_checked
    assert unknown.message == "cooler mounting not checked: this cooler's supported sockets are unknown"


def test_cooler_socket_notes_a_boxed_cooler(cat):
    verdicts = only(evaluate(sel(cat, cpu=CPU_AM5_BOXED, cooler=COOLER_AM5)), "cooler_socket")
    assert [v.severity for v in verdicts] == ["pass", "info"]
    assert not verdicts[1].not_checked and "ships with its own cooler" in verdicts[1].message


def test_cooler_height(cat):
    block = one(sel(cat, cooler=COOLER_168, case=CASE_322), "cooler_height")
    assert (block.severity, block.message) == ("block", "Cooler is 168 mm tall; this case fits 165 mm")
    warn = one(sel(cat, cooler=COOLER_162, case=CASE_322), "cooler_height")
    assert warn.severity == "warn"
    assert warn.message == "Cooler is 162 mm tall; this case fits 165 mm (only 3 mm to spare)"
    ok = one(sel(cat, cooler=COOLER_AM5, case=CASE_322), "cooler_height")
    assert (ok.severity, ok.message) == ("pass", "Cooler is 158 mm tall; this case fits 165 mm")


def test_cooler_height_missing_data(cat):
    no_case = one(sel(cat, cooler=COOLER_AM5, case=CASE_UNKNOWN), "cooler_height")
    assert no_case.not_checked
    assert no_case.message == "cooler clearance not checked: this case's maximum cooler height is unknown"
    no_height = one(sel(cat, cooler=COOLER_NO_HEIGHT, case=CASE_322), "cooler_height")
    assert no_height.message == "cooler clearance not checked: this cooler's height is unknown"
    aio = one(sel(cat, cooler=COOLER_AIO, case=CASE_322), "cooler_height")
    assert aio.severity == "info" and aio.not_checked
    assert aio.message.startswith("radiator fit not checked: this is a 360 mm liquid cooler")


def test_case_board(cat):
    ok = one(sel(cat, motherboard=BOARD_AM5, case=CASE_322), "case_board")
    assert (ok.severity, ok.message) == ("pass", "Motherboard is ATX; this case takes ATX, Micro ATX, Mini-ITX")
    block = one(sel(cat, motherboard=BOARD_EATX, case=CASE_322), "case_board")
    assert (block.severity, block.message) == ("block", "Motherboard is EATX; this case takes ATX, Micro ATX, Mini-ITX")
    assert block.slots == ("motherboard", "case")
    assert one(sel(cat, motherboard=BOARD_AM5, case=CASE_SFX), "case_board").severity == "block"
    # Thin Mini-ITX mounts like Mini-ITX
    assert one(sel(cat, motherboard=BOARD_THIN_ITX, case=CASE_SFX), "case_board").severity == "pass"
    no_list = one(sel(cat, motherboard=BOARD_AM5, case=CASE_NO_BOARDS), "case_board")
    assert no_list.not_checked and "supported motherboard sizes are unknown" in no_list.message
    no_form = one(sel(cat, motherboard=BOARD_NO_FORM, case=CASE_322), "case_board")
    assert no_form.not_checked and "form factor is unknown" in no_form.message


def test_m2_slots(cat):
    ok = one(sel(cat, motherboard=BOARD_AM5, storage=[M2_SSD, M2_SSD, SATA_HDD]), "m2_slots")
    assert (ok.severity, ok.message) == ("pass", "Storage is 2 M.2 drives; this motherboard has 2 M.2 (key M) slots")
    block = one(sel(cat, motherboard=BOARD_AM5, storage=[M2_SSD] * 3), "m2_slots")
    assert (block.severity, block.message) == (
        "block",
        "Storage is 3 M.2 drives; this motherboard has 2 M.2 (key M) slots",
    )
    assert block.slots == ("storage", "motherboard")
    unknown = one(sel(cat, motherboard=BOARD_SPARSE, storage=M2_SSD), "m2_slots")
    assert unknown.not_checked and "M.2 slot list is empty upstream" in unknown.message
    # no M.2 drive chosen: nothing to say
    assert severities(sel(cat, motherboard=BOARD_AM5, storage=SATA_SSD), "m2_slots") == []


def test_sata_ports(cat):
    ok = one(sel(cat, motherboard=BOARD_AM5, storage=[SATA_SSD, SATA_HDD, M2_SSD]), "sata_ports")
    assert (ok.severity, ok.message) == ("pass", "Storage is 2 SATA drives; this motherboard has 4 SATA ports")
    block = one(sel(cat, motherboard=BOARD_2_SATA, storage=[SATA_SSD, SATA_HDD, SATA_HDD]), "sata_ports")
    assert (block.severity, block.message) == ("block", "Storage is 3 SATA drives; this motherboard has 2 SATA ports")
    unknown = one(sel(cat, motherboard=BOARD_SPARSE, storage=SATA_SSD), "sata_ports")
    assert unknown.not_checked
    assert unknown.message == "SATA ports not checked: this motherboard's number of SATA ports is unknown"
    assert severities(sel(cat, motherboard=BOARD_AM5, storage=M2_SSD), "sata_ports") == []


def test_drive_interface(cat):
    assert severities(sel(cat, motherboard=BOARD_AM5, storage=[M2_SSD, SATA_SSD]), "drive_interface") == []
    sas = one(sel(cat, motherboard=BOARD_AM5, storage=SAS_HDD), "drive_interface")
    assert sas.not_checked and "SAS 12.0 Gb/s" in sas.message
    unknown = one(sel(cat, motherboard=BOARD_AM5, storage=DRIVE_UNKNOWN), "drive_interface")
    assert unknown.message == "drive connection not checked: this drive's interface is unknown"


def test_psu_form_factor(cat):
    ok = one(sel(cat, psu=PSU_750, case=CASE_ATX_PSU), "psu_form_factor")
    assert (ok.severity, ok.message) == ("pass", "PSU is ATX; this case takes ATX")
    assert one(sel(cat, psu=PSU_ATX_EPS, case=CASE_ATX_PSU), "psu_form_factor").severity == "pass"
    warn = one(sel(cat, psu=PSU_SFX, case=CASE_ATX_PSU), "psu_form_factor")
    assert (warn.severity, warn.message) == ("warn", "PSU is SFX; this case takes ATX (needs an SFX-to-ATX bracket)")
    block = one(sel(cat, psu=PSU_750, case=CASE_SFX), "psu_form_factor")
    assert (block.severity, block.message) == ("block", "PSU is ATX; this case takes SFX, SFX-L")
    assert one(sel(cat, psu=PSU_SFX, case=CASE_SFX), "psu_form_factor").severity == "pass"


def test_psu_form_factor_missing_data(cat):
    no_list = one(sel(cat, psu=PSU_750, case=CASE_322), "psu_form_factor")
    assert no_list.not_checked
    assert no_list.message == "PSU fit not checked: this case's supported power supply sizes are unknown"
    bundled = one(sel(cat, psu=PSU_750, case=CASE_WITH_PSU), "psu_form_factor")
    assert bundled.not_checked and bundled.message == "PSU fit not checked: this case ships with its own power supply"
    no_form = one(sel(cat, psu=PSU_UNKNOWN, case=CASE_ATX_PSU), "psu_form_factor")
    assert no_form.message == "PSU fit not checked: this power supply's form factor is unknown"


# ------------------------------------------------------ with_part / keys ---


def test_with_part(cat):
    start = sel(cat, cpu=CPU_AM5, ram=RAM_DDR5_2X16, storage=[M2_SSD, SATA_SSD])
    other_cpu = cat.part("cpu", CPU_AM5_BOXED)
    kit = cat.part("ram", RAM_DDR4_2X16)
    hdd = cat.part("storage", SATA_HDD)

    assert with_part(start, "cpu", other_cpu)["cpu"] == (other_cpu,)
    assert with_part(start, "ram", kit)["ram"] == (start["ram"][0], kit)  # append
    assert with_part(start, "storage", hdd, 0)["storage"] == (hdd, start["storage"][1])  # replace at index
    assert with_part(start, "storage", hdd, 9)["storage"] == (*start["storage"], hdd)  # past the end: append
    assert with_part(start, "gpu", cat.part("gpu", GPU_SHORT))["gpu"][0].name == GPU_SHORT
    assert "cpu" not in with_part(start, "cpu", None)
    assert with_part(start, "storage", None, 0)["storage"] == (start["storage"][1],)
    assert "storage" not in with_part(start, "storage", None)
    # the input is untouched
    assert start["cpu"][0].name == CPU_AM5 and len(start["ram"]) == 1 and len(start["storage"]) == 2
    # and a candidate swap changes the verdict
    assert one(with_part(start, "ram", kit, 0), "ram_type").severity == "block"


def test_compat_key_is_hashable_and_tracks_read_values(cat):
    a, b = cat.part("gpu", GPU_LONG), cat.part("gpu", GPU_SHORT)
    assert hash(compat_key(a)) != hash(compat_key(b)) or compat_key(a) != compat_key(b)
    same = Part("x", "gpu", "another name", {**a.specs, "chipset": "something else"})
    assert compat_key(same) == compat_key(a)  # chipset is not read by any rule
    cooler = cat.part("cooler", COOLER_NO_AM5)
    assert isinstance(compat_key(cooler)[1], tuple)  # lists are frozen
    {compat_key(p) for slot in SLOTS for p in cat.all(slot)[:50]}  # all hashable


def test_rules_read_only_the_compat_key_values(cat):
    """Evaluating with specs trimmed to `READ_KEYS` gives identical verdicts,
    so memoising on `compat_key` is safe."""

    def trimmed(part: Part) -> Part:
        keys = rules.READ_KEYS[part.slot]
        return Part(part.id, part.slot, "", {k: part.specs[k] for k in keys})

    builds = [
        sel(
            cat,
            cpu=CPU_AM5,
            motherboard=BOARD_LGA1700_DDR4,
            ram=[RAM_DDR5_2X16, RAM_DDR4_2X16],
            gpu=GPU_LONG,
            storage=[M2_SSD, SATA_HDD, SAS_HDD, DRIVE_UNKNOWN],
            psu=PSU_SFX,
            case=CASE_ATX_PSU,
            cooler=COOLER_AIO,
        ),
        sel(
            cat,
            cpu=CPU_AM5_BOXED,
            motherboard=BOARD_SPARSE,
            ram=RAM_DDR5_4X64,
            gpu=GPU_NO_POWER,
            storage=[M2_SSD] * 3,
            psu=PSU_750,
            case=CASE_WITH_PSU,
            cooler=COOLER_162,
        ),
        sel(
            cat,
            cpu=CPU_2011_3_UNKNOWN_MEM,
            motherboard=BOARD_UNKNOWN,
            ram=RAM_DDR4_2X16,
            gpu=GPU_NO_LENGTH,
            storage=SATA_SSD,
            psu=PSU_UNKNOWN,
            case=CASE_322,
            cooler=COOLER_168,
        ),
    ]
    for build in builds:
        slim = {slot: tuple(trimmed(p) for p in parts) for slot, parts in build.items()}
        assert evaluate(slim) == evaluate(build)
        assert estimated_draw(slim) == estimated_draw(build)


# ------------------------------------------------------------- closeness ---


def _where(cat: Catalog, slot: str, pred) -> Part:
    """The first real part of `slot` (file order) whose name and specs match `pred`."""
    return next(p for p in cat.all(slot) if pred(p))


def test_cpu_tiers_follow_the_family_and_fall_back_to_cores(cat):
    ryzen9 = cat.part("cpu", "AMD Ryzen 9 7950X")
    core_i9 = _where(cat, "cpu", lambda p: "Core i9" in p.name)
    ryzen5 = _where(cat, "cpu", lambda p: "Ryzen 5" in p.name)
    celeron = _where(cat, "cpu", lambda p: "Celeron" in p.name)
    threadripper = _where(cat, "cpu", lambda p: "Threadripper" in p.name)
    xeon = cat.part("cpu", CPU_2011_3_UNKNOWN_MEM)  # a family without a class: 6 cores
    assert [rules.tier(p) for p in (celeron, ryzen5, ryzen9, core_i9, threadripper)] == [1, 3, 5, 5, 6]
    assert rules.tier(xeon) == 3
    assert rules.closeness(ryzen9, core_i9) == 0  # the same class from another maker
    assert rules.closeness(ryzen9, ryzen5) == 2
    assert rules.closeness(ryzen9, celeron) == 4  # a Ryzen 9 is not "fixed" with a Celeron


def test_memory_storage_and_psu_tiers_are_sizes(cat):
    kit32 = _where(cat, "ram", lambda p: p.specs["total_gb"] == 32)
    kit16 = _where(cat, "ram", lambda p: p.specs["total_gb"] == 16)
    stick2 = _where(cat, "ram", lambda p: p.specs["total_gb"] == 2)
    assert (rules.closeness(kit32, kit16), rules.closeness(kit32, stick2)) == (1, 4)

    psu1000 = _where(cat, "psu", lambda p: p.specs["wattage_w"] == 1000)
    psu300 = _where(cat, "psu", lambda p: p.specs["wattage_w"] == 300)
    psu950 = _where(cat, "psu", lambda p: p.specs["wattage_w"] == 950)
    assert rules.closeness(psu1000, psu950) == 1  # half a tier rounds up
    assert rules.closeness(psu1000, psu300) == 7  # a 1000 W PSU is not replaced with a 300 W one

    tb2 = _where(cat, "storage", lambda p: p.specs["capacity_gb"] == 2000)
    tb1 = _where(cat, "storage", lambda p: p.specs["capacity_gb"] == 1000)
    gb120 = _where(cat, "storage", lambda p: p.specs["capacity_gb"] == 120)
    assert (rules.closeness(tb2, tb1), rules.closeness(tb2, gb120)) == (1, 4)


def test_gpu_tiers_are_the_chipset_class_else_video_memory(cat):
    def gpu(chipset: str) -> Part:
        return _where(cat, "gpu", lambda p: p.specs["chipset"] == chipset)

    classes = {
        "GeForce RTX 4090": 9,
        "GeForce RTX 4060": 6,
        "GeForce GTX 970": 7,
        "Radeon RX 7900 XTX": 9,
        "Radeon RX 9070 XT": 7,
        "Radeon RX 580": 6,
    }
    assert {c: rules.tier(gpu(c)) for c in classes} == classes
    workstation = _where(cat, "gpu", lambda p: p.specs["chipset"] == "RTX 6000 Ada")  # no class digit
    assert rules.tier(workstation) == 9  # 48 GB of video memory
    assert rules.closeness(gpu("GeForce RTX 4090"), gpu("GeForce RTX 4060")) == 3


def test_case_board_and_cooler_tiers_are_form_factors(cat):
    atx_case = _where(cat, "case", lambda p: p.specs["board_form_factors"] == ["ATX", "Micro ATX", "Mini-ITX"])
    itx_case = _where(cat, "case", lambda p: p.specs["board_form_factors"] == ["Mini-ITX"])
    assert rules.closeness(atx_case, itx_case) == 2
    atx = _where(cat, "motherboard", lambda p: p.specs["form_factor"] == "ATX")
    matx = _where(cat, "motherboard", lambda p: p.specs["form_factor"] == "Micro ATX")
    assert rules.closeness(atx, matx) == 1
    aio360 = _where(cat, "cooler", lambda p: p.specs["water_cooled"] is True and p.specs["radiator_mm"] == 360)
    aio240 = _where(cat, "cooler", lambda p: p.specs["water_cooled"] is True and p.specs["radiator_mm"] == 240)
    tower = _where(cat, "cooler", lambda p: p.specs["water_cooled"] is False and (p.specs["height_mm"] or 0) >= 150)
    low = _where(cat, "cooler", lambda p: p.specs["water_cooled"] is False and 0 < (p.specs["height_mm"] or 99) < 60)
    assert (rules.closeness(aio360, aio240), rules.closeness(aio360, tower), rules.closeness(aio360, low)) == (1, 3, 5)


def test_unknown_tiers_rank_last_and_nothing_to_be_close_to_is_no_preference(cat):
    known = cat.part("motherboard", BOARD_AM5)
    unknown = cat.part("motherboard", BOARD_NO_FORM)
    assert rules.tier(unknown) is None
    assert rules.closeness(known, unknown) == rules.UNKNOWN_GAP
    assert rules.closeness(unknown, known) == 0 and rules.closeness(None, known) == 0


def test_the_pickers_vectorised_closeness_agrees_with_the_rule(cat):
    """Suggestions rank a whole slot at once; each gap must be `rules.closeness`."""
    from app.builder import evaluation
    from app.builder.index import CatalogEntry, CatalogSnapshot

    for slot in ("cpu", "ram", "psu", "gpu", "cooler"):
        parts = cat.all(slot)[:400]
        entries = tuple(CatalogEntry(p, "", p.name.lower(), "") for p in parts)
        snap = CatalogSnapshot(
            version=0,
            by_id={e.id: e for e in entries},
            by_slot={slot: entries},
            position={e.id: i for i, e in enumerate(entries)},
            loaded_at=0.0,
            load_seconds=0.0,
        )
        for current in (parts[0], parts[len(parts) // 2], None):
            gaps = evaluation._gaps(snap, slot, current).tolist()
            assert gaps == [rules.closeness(current, p) for p in parts], slot
