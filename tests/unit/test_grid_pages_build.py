"""The grid pages' pieces that need no database: the 3D viewer renders as
the `<model-viewer>` element and brings its package, the words the pages
write for a plate set, and how the forms read what people type (errors
named per field, the shop's maximum, a custom bed)."""

from __future__ import annotations

from decimal import Decimal

from app.grid import service
from components.viewer3d import MODEL_VIEWER, ModelViewer, viewer3d
from state.grid import (
    CUSTOM,
    SHOP_PRINTER,
    GeneratorFacts,
    GeneratorInput,
    check_input,
    drawer_words,
    preview_src,
    print_time,
)
from state.grid_settings import settings_from_form
from state.grid_store import DrawerInput, ShopGrid, drawer_options
from state.grid_store import preview_src as store_preview_src


def test_the_viewer_is_the_model_viewer_element_with_its_package():
    el = ModelViewer.create(src="/x.glb", alt="plates", camera_controls=True, with_credentials=True)
    rendered = el.render()
    assert rendered["name"] == "ModelViewerElement"  # a plain custom element, not a React import
    assert 'const ModelViewerElement = "model-viewer";' in el._get_all_custom_code()
    assert 'src:"/x.glb"' in rendered["props"]
    # settings as the element's own (hyphenated) attributes: they hold before the element is defined
    assert '"camera-controls":true' in rendered["props"] and '"with-credentials":true' in rendered["props"]
    imports = el._get_all_imports()
    assert any(lib.startswith(MODEL_VIEWER + "@") for lib in imports)
    assert any(lib.startswith("three@") for lib in imports)  # model-viewer's peer dependency
    assert any('import("@google/model-viewer")' in hook for hook in el._get_all_hooks())  # defined in the browser
    assert viewer3d("", "nothing yet").render()


def test_words_for_a_plate_set():
    assert drawer_words(371, 254) == "371 × 254 mm"
    assert drawer_words(371.5, 254.25) == "371.5 × 254.2 mm"
    assert print_time(None) == "—"
    assert print_time(20) == "1 min"
    assert print_time(45 * 60) == "45 min"
    assert print_time(9 * 3600 + 12 * 60 + 43) == "9 h 13 min"
    assert print_time(30 * 3600) == "1 d 6 h"


FACTS = GeneratorFacts(enabled=True, printer="Bambu Lab A1", max_mm=1000.0)


def test_the_generator_form_names_each_field_at_fault():
    empty = check_input(GeneratorInput(), FACTS)
    assert empty.options is None and set(empty.errors) == {"width", "depth"}
    too_big = check_input(GeneratorInput(width="1200", depth="371,5"), FACTS)
    assert "maximum of 1,000 mm" in too_big.errors["width"] and "depth" not in too_big.errors
    words = check_input(GeneratorInput(width="wide", depth="254"), FACTS)
    assert "not a number" in words.errors["width"]
    ok = check_input(GeneratorInput(width="371", depth="254 mm", magnets="press-fit"), FACTS)
    assert ok.options is not None and not ok.errors and ok.profile_name == ""
    assert (ok.options.drawer_width_mm, ok.options.drawer_depth_mm, ok.options.magnets) == (371, 254, "press-fit")


def test_a_custom_bed_needs_its_size_and_goes_into_the_preview_address():
    missing = check_input(GeneratorInput(width="371", depth="254", printer=CUSTOM), FACTS)
    assert set(missing.errors) == {"bed_width", "bed_depth"}
    custom = check_input(
        GeneratorInput(width="371", depth="254", printer=CUSTOM, bed_width="300", bed_depth="300"), FACTS
    )
    assert custom.options is not None and custom.options.bed_width_mm == 300
    src = preview_src(custom.options, custom.profile_name)
    assert "/api/v1/grid/preview.glb?" in src and "bedWidth=300" in src and "printer=custom" in src
    shop = check_input(GeneratorInput(width="371", depth="254", printer=SHOP_PRINTER), FACTS)
    assert shop.options is not None and "bedWidth" not in preview_src(shop.options, shop.profile_name)
    unknown = check_input(GeneratorInput(width="371", depth="254", printer="a-printer-we-lack"), FACTS)
    assert "printer" in unknown.errors


def test_the_storefront_form_and_its_public_preview_address():
    shop = ShopGrid(enabled=True, max_mm=800.0)
    options, errors = drawer_options(DrawerInput(width="371", depth="900"), shop)
    assert options is None and "maximum of 800 mm" in errors["depth"]
    options, errors = drawer_options(DrawerInput(width="371", depth="254", magnets="press-fit"), shop)
    assert options is not None and not errors
    src = store_preview_src(options)
    assert "/api/v1/shop/grid/preview.glb?width=371&depth=254&magnets=press-fit" in src
    assert "bed" not in src  # the storefront's printer is always the shop's


def test_the_settings_card_reads_amounts_and_keeps_the_profile_overrides():
    current = service.GridSettings(print_settings={"printer": "bambu-a1", "infill_percent": 20})
    form = {
        "base_price": "7,50",
        "unit_price": "0.80",
        "unit_size_mm": "42",
        "currency": "eur",
        "max_dimension_mm": "900",
        "printer": "prusa-mk4",
        "expiry_hours": "48",
    }
    new, errors = settings_from_form(form, current)
    assert errors == {}
    assert (new.base_price, new.unit_price, new.currency, new.expiry_hours) == (
        Decimal("7.50"),
        Decimal("0.80"),
        "EUR",
        48,
    )
    assert new.print_settings == {"printer": "prusa-mk4", "infill_percent": 20}
    _, errors = settings_from_form({**form, "base_price": "", "expiry_hours": "two days", "printer": "?"}, current)
    assert set(errors) == {"basePrice", "expiryHours", "printSettings"}
