"""Order lines to grid parameters: which lines are grids, the GRID-CUSTOM
SKU grammar, Shopify line properties overriding it, printer presets, and a
readable error for every kind of bad input."""

from __future__ import annotations

import re

import pytest

from app.grid.geometry.printers import BED_PRESETS, find_bed_preset
from app.grid.geometry.spec import GridOptions
from app.grid.parsing import (
    GridInputError,
    check_options,
    is_grid_line,
    line_properties,
    parse_line,
    parse_mm,
    parse_sku,
)
from app.platform.errors import ValidationFailed

MAX = 1000.0


def parse(sku: str | None, properties=None, **kw) -> GridOptions:
    return parse_line(sku, properties or {}, max_dimension_mm=kw.pop("max_dimension_mm", MAX), **kw)


def refused(sku: str | None, properties=None, **kw) -> str:
    with pytest.raises(GridInputError) as info:
        parse(sku, properties, **kw)
    return str(info.value)


# --- which lines are grids -----------------------------------------------------------------------


def test_grid_lines_by_sku_or_drawer_size():
    assert is_grid_line("GRID-CUSTOM-4x3-MAG-IP", {})
    assert is_grid_line("grid-custom-2x2", None)
    assert is_grid_line("GRID-CUSTOM", {})
    assert is_grid_line("BASEPLATE", {"Drawer width (mm)": "371"})
    assert is_grid_line("", [{"name": "Drawer depth (mm)", "value": "254"}])
    assert is_grid_line(None, {"_drawer_width_mm": 300})
    assert not is_grid_line("BIN-2x3", {"Colour": "red"})
    assert not is_grid_line("BIN-2x3", {"Drawer width (mm)": ""})  # empty: not given
    assert not is_grid_line(None, None)


def test_properties_in_every_shape_shopify_sends():
    expected = {"drawer width": "371", "drawer depth": "254,5", "magnets": "yes"}
    as_dict = {"Drawer width (mm)": "371", "Drawer depth (mm)": "254,5", "Magnets": True}
    as_rest = [{"name": k, "value": v} for k, v in as_dict.items()]
    as_graphql = [{"key": k, "value": v} for k, v in as_dict.items()]
    assert line_properties(as_dict) == line_properties(as_rest) == line_properties(as_graphql) == expected
    assert line_properties({"DRAWER WIDTH": 371, "_Connector": "EP", "note": None}) == {
        "drawer width": "371",
        "connector": "EP",
    }
    assert line_properties(None) == {} and line_properties("nonsense") == {}  # type: ignore[arg-type]


# --- SKU grammar ---------------------------------------------------------------------------------


def test_sku_grammar():
    assert parse_sku("GRID-CUSTOM-4x3-MAG-IP") == {
        "drawer_width_mm": 168.0,
        "drawer_depth_mm": 126.0,
        "magnets": "press-fit",
        "connector": "intersection-puzzle",
    }
    assert parse_sku("grid-custom-5X5-magpf-ep")["connector"] == "edge-puzzle"
    assert parse_sku("GRID-CUSTOM-2x2-NOMAG") == {"drawer_width_mm": 84.0, "drawer_depth_mm": 84.0, "magnets": "none"}
    assert parse_sku("GRID-CUSTOM-2x2-NONE-NONE")["connector"] == "none"
    assert parse_sku("GRID-CUSTOM-2x2-NONE") == {"drawer_width_mm": 84.0, "drawer_depth_mm": 84.0, "magnets": "none"}
    assert parse_sku("GRID-CUSTOM-2x2-EP") == {
        "drawer_width_mm": 84.0,
        "drawer_depth_mm": 84.0,
        "connector": "edge-puzzle",
    }
    assert parse_sku("GRID-CUSTOM-4.5x3") == {"drawer_width_mm": 189.0, "drawer_depth_mm": 126.0}
    assert parse_sku("GRID-CUSTOM") == {}
    assert parse_sku("GRID-CUSTOM-MAG") == {"magnets": "press-fit"}


@pytest.mark.parametrize(
    ("sku", "words"),
    [
        ("GRID-CUSTOM-4x3-RED", '"RED" is not expected there'),
        ("GRID-CUSTOM-4x3-IP-MAG", '"MAG" is not expected there'),  # magnets come first
        ("GRID-CUSTOM-4x3-MAG-MAG", '"MAG" is not expected there'),
        ("GRID-CUSTOM-4x", '"4X" is not a size like 4x3'),
        ("GRID-CUSTOM-MAG-4x3", "the size (4X3) comes right after GRID-CUSTOM"),
        ("GRID-CUSTOM-4x3 MAG", "not a custom grid SKU like GRID-CUSTOM-4x3-MAG-IP"),
        ("GRID-CUSTOM-fourxthree", '"FOURXTHREE" is not expected there'),
        ("GRID-CUSTOMER-1", "not a custom grid SKU"),
        ("GRID-CUSTOM-0x3", "at least 1 grid unit"),
    ],
)
def test_bad_skus_say_what_is_wrong(sku, words):
    with pytest.raises(GridInputError, match=re.escape(words)):
        parse_sku(sku)


# --- whole lines ---------------------------------------------------------------------------------


def test_sku_alone():
    o = parse("GRID-CUSTOM-4x3-MAG-IP")
    assert (o.drawer_width_mm, o.drawer_depth_mm, o.magnets, o.connector) == (
        168.0,
        126.0,
        "press-fit",
        "intersection-puzzle",
    )
    assert (o.bed_width_mm, o.bed_depth_mm) == (256.0, 256.0)


def test_held_out_line_properties_override_the_sku():
    props = [
        {"name": "Drawer width (mm)", "value": "371"},
        {"name": "Drawer depth (mm)", "value": "254"},
        {"name": "Magnets", "value": "press-fit"},
    ]
    o = parse("GRID-CUSTOM-4x3-MAG-IP", props)
    assert (o.drawer_width_mm, o.drawer_depth_mm, o.magnets, o.connector) == (
        371.0,
        254.0,
        "press-fit",
        "intersection-puzzle",
    )


def test_properties_alone_with_every_word():
    o = parse(
        "PLAIN-PRODUCT",
        {
            "Drawer width (mm)": "371,5",
            "Drawer depth": "254.25 mm",
            "Magnets": "No",
            "Connector": "Edge Puzzle",
            "Printer": "Bambu Lab A1 mini",
        },
    )
    assert (o.drawer_width_mm, o.drawer_depth_mm) == (371.5, 254.25)
    assert (o.magnets, o.connector, o.bed_width_mm, o.bed_depth_mm) == ("none", "edge-puzzle", 180.0, 180.0)
    for word, magnets in (("yes", "press-fit"), ("Press fit", "press-fit"), ("none", "none"), (True, "press-fit")):
        assert parse("GRID-CUSTOM-2x2", {"Magnets": word}).magnets == magnets
    for word, connector in (
        ("intersection-puzzle", "intersection-puzzle"),
        ("IP", "intersection-puzzle"),
        ("none", "none"),
    ):
        assert parse("GRID-CUSTOM-2x2", {"Connector": word}).connector == connector


def test_one_property_overrides_one_sku_axis():
    o = parse("GRID-CUSTOM-4x3", {"Drawer depth (mm)": "200"})
    assert (o.drawer_width_mm, o.drawer_depth_mm) == (168.0, 200.0)


def test_defaults_come_first_then_sku_then_properties():
    defaults = {"magnets": "press-fit", "connector": "edge-puzzle", "bed_width_mm": 250, "bed_depth_mm": "220"}
    o = parse("GRID-CUSTOM-4x3-NOMAG", {}, defaults=defaults)
    assert (o.magnets, o.connector, o.bed_width_mm, o.bed_depth_mm) == ("none", "edge-puzzle", 250.0, 220.0)
    o = parse("GRID-CUSTOM-4x3", {"Printer": "prusa-mk4"}, defaults={"bed_width_mm": 300, "bed_depth_mm": 300})
    assert (o.bed_width_mm, o.bed_depth_mm) == (250.0, 220.0)
    o = parse(None, {}, defaults={"drawer_width_mm": 300, "drawer_depth_mm": 200})
    assert (o.drawer_width_mm, o.drawer_depth_mm) == (300.0, 200.0)


def test_custom_printer_takes_the_bed_size_from_properties():
    o = parse("GRID-CUSTOM-4x3", {"Printer": "Custom", "Bed width (mm)": "300", "Bed depth (mm)": "320"})
    assert (o.bed_width_mm, o.bed_depth_mm) == (300.0, 320.0)


def test_printer_names():
    assert find_bed_preset("bambu-a1") == "bambu-a1"
    for name in ("Bambu Lab A1 / X1 / P1", "X1", "bambu lab p1s", "A1", "x1c"):
        assert find_bed_preset(name) == "bambu-a1", name
    assert find_bed_preset("A1 mini") == find_bed_preset("Bambu Lab A1 mini") == "bambu-a1-mini"
    assert find_bed_preset("Prusa Core One") == find_bed_preset("MK4") == "prusa-mk4"
    assert find_bed_preset("Ender 3") is None
    assert BED_PRESETS["prusa-mk4"] == ("Prusa MK4 / Core One", 250.0, 220.0)


# --- every error ---------------------------------------------------------------------------------


def test_errors_are_validation_failures_and_value_errors():
    with pytest.raises(GridInputError) as info:
        parse("GRID-CUSTOM-4x3", {"Magnets": "glue"})
    assert isinstance(info.value, ValidationFailed) and isinstance(info.value, ValueError)
    assert info.value.status == 422 and info.value.message == str(info.value)


def test_unparseable_numbers():
    assert refused("X", {"Drawer width (mm)": "abc", "Drawer depth (mm)": "100"}) == (
        'Drawer width "abc" is not a number of millimetres (write it like 371 or 371,5)'
    )
    for bad in ("nan", "inf", "-inf", "1e3", "12.3.4", "3,7,1"):
        assert "is not a number of millimetres" in refused("X", {"Drawer width": bad, "Drawer depth": "100"})
    assert "ambiguous" in refused("X", {"Drawer width": "1,000", "Drawer depth": "100"})
    assert parse_mm("  371 MM ", "w") == 371.0 and parse_mm("371,5", "w") == 371.5 and parse_mm(".5", "w") == 0.5


def test_too_small_and_too_big():
    assert refused("X", {"Drawer width (mm)": "41,9", "Drawer depth (mm)": "100"}) == (
        "Drawer width 41.9 mm is too small: it must be at least 42 mm (one cell)"
    )
    assert "Drawer depth -5 mm is too small" in refused("X", {"Drawer width": "100", "Drawer depth": "-5"})
    assert refused("X", {"Drawer width (mm)": "2400", "Drawer depth (mm)": "300"}) == (
        "Drawer width 2,400 mm is over this shop's maximum of 1,000 mm"
    )
    assert refused("GRID-CUSTOM-50x3") == (
        "Drawer width 2,100 mm (50 grid units in the SKU) is over this shop's maximum of 1,000 mm"
    )
    assert "maximum of 600 mm" in refused("GRID-CUSTOM-4x3", {"Drawer depth": "700"}, max_dimension_mm=600)


def test_unknown_words_name_what_is_allowed():
    assert refused("GRID-CUSTOM-4x3", {"Magnets": "glue"}) == 'Magnets "glue" is not one of: yes, no, press-fit, none'
    assert refused("GRID-CUSTOM-4x3", {"Connector": "dovetail"}) == (
        'Connector "dovetail" is not one of: intersection puzzle, edge puzzle, none'
    )
    message = refused("GRID-CUSTOM-4x3", {"Printer": "Ender 3"})
    assert message.startswith('Printer "Ender 3" is not one we know: Bambu Lab A1 / X1 / P1, Bambu Lab A1 mini')
    assert refused("GRID-CUSTOM-4x3", {"Printer": "custom"}) == (
        'A custom printer needs "Bed width (mm)" and "Bed depth (mm)"'
    )
    assert "Bed width must be at least 42 mm" in refused(
        "GRID-CUSTOM-4x3", {"Bed width (mm)": "30", "Bed depth (mm)": "200"}
    )


def test_missing_size_bad_sku_and_bad_defaults():
    assert refused("GRID-CUSTOM-MAG") == (
        'No drawer size: give "Drawer width (mm)" and "Drawer depth (mm)", or a SKU like GRID-CUSTOM-4x3'
    )
    assert refused("X", {"Drawer width (mm)": "300"}).startswith("No drawer size")
    assert '"RED" is not expected there' in refused("GRID-CUSTOM-4x3-RED")
    assert refused("GRID-CUSTOM-4x3", defaults={"colour": "red"}) == "Unknown grid setting(s): colour"
    assert "must be a number" in refused("GRID-CUSTOM-4x3", defaults={"bed_width_mm": [256]})
    assert "Alignment X must be between 0 and 1" in refused("GRID-CUSTOM-4x3", defaults={"align_x": 2})
    assert 'Filler "thirds" is not one of' in refused("GRID-CUSTOM-4x3", defaults={"filler": "thirds"})


def test_check_options_for_other_doors():
    ok = GridOptions(371, 254, magnets="press-fit")
    assert check_options(ok, max_dimension_mm=MAX) is ok
    with pytest.raises(GridInputError, match="Puzzle fit must be between 0 and 1"):
        check_options(GridOptions(371, 254, puzzle_fit=1.5), max_dimension_mm=MAX)
    with pytest.raises(GridInputError, match='Magnets "glue"'):
        check_options(GridOptions(371, 254, magnets="glue"), max_dimension_mm=MAX)  # type: ignore[arg-type]
    with pytest.raises(GridInputError, match="over this shop's maximum"):
        check_options(GridOptions(1200, 254), max_dimension_mm=MAX)
