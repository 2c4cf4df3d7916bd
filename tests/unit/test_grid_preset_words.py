"""The presets dialog reads a preset as a person would, and the generator's
drawer becomes a preset only when its size is there."""

from __future__ import annotations

from state.grid import GeneratorInput, preset_parameters, preset_words


def test_a_preset_reads_as_its_drawer_magnets_and_connectors():
    assert (
        preset_words(
            {"drawer_width_mm": 371.0, "drawer_depth_mm": 254.5, "magnets": "press-fit", "connector": "edge-puzzle"}
        )
        == "371 × 254.5 mm · Press-fit magnets · Edge puzzle"
    )
    assert preset_words({"magnets": "none", "corner_radius_mm": 4, "puzzle_fit": 0.2}) == "No magnets · 2 more settings"
    assert preset_words({}) == "No settings"


def test_the_generators_drawer_as_a_preset():
    params, errors = preset_parameters(
        GeneratorInput(width="371", depth="254,5", magnets="press-fit", connector="none")
    )
    assert errors == {}
    assert params == {"drawer_width_mm": 371.0, "drawer_depth_mm": 254.5, "magnets": "press-fit", "connector": "none"}
    _, errors = preset_parameters(GeneratorInput(width="371", depth=""))
    assert "width and depth" in errors["_"]
