"""The instant quote: the area model reproduces the measured PrusaSlicer
figures (spec §10), the price arithmetic, measured figures from the cache
replacing the estimate, and bed problems surfacing in the quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.grid.geometry.layout import plan_plate_set
from app.grid.geometry.quote import estimate_piece, price_for, quote
from app.grid.geometry.spec import GridOptions

PRICING = {"base_price": Decimal("5.00"), "unit_price": Decimal("0.40"), "unit_size_mm": 42.0, "currency": "EUR"}


def hms(h: int, m: int, s: int) -> int:
    return h * 3600 + m * 60 + s


@pytest.mark.parametrize(
    ("options", "grams", "seconds"),
    [
        (GridOptions(210, 210, magnets="none"), 34.01, hms(2, 37, 38)),  # GF 5×5, no magnets
        (GridOptions(210, 210, magnets="press-fit"), 89.05, hms(7, 38, 53)),  # GF 5×5, magnets
    ],
)
def test_single_plates_reproduce_the_measured_figures(options, grams, seconds):
    q = quote(options, **PRICING)
    assert q.segments == 1
    assert q.filament_g == pytest.approx(grams, rel=0.15)
    assert q.print_seconds == pytest.approx(seconds, rel=0.15)


def test_largest_piece_of_the_10x10_magnet_set_reproduces_its_figures():
    plan = plan_plate_set(GridOptions(420, 420, magnets="press-fit"))
    largest = max(plan.segments, key=lambda s: s.size_mm[0] * s.size_mm[1])
    assert largest.size_mm == pytest.approx((210, 252))
    grams, seconds = estimate_piece(largest)
    assert grams == pytest.approx(106.81, rel=0.15)
    assert seconds == pytest.approx(hms(9, 12, 43), rel=0.15)


def test_a_set_sums_its_pieces():
    options = GridOptions(420, 420, magnets="press-fit")
    q = quote(options, **PRICING)
    plan = plan_plate_set(options)
    assert q.segments == 4 and q.unique_shapes == 4
    assert q.filament_g == pytest.approx(sum(estimate_piece(s)[0] for s in plan.segments), abs=0.01)
    assert q.print_seconds == sum(estimate_piece(s)[1] for s in plan.segments)
    assert (q.cells_x, q.cells_y, q.grid_units) == (10.0, 10.0, 100.0)
    assert (q.plate_width_mm, q.plate_depth_mm) == (420.0, 420.0)
    assert q.problems == [] and q.measured_pieces == 0


def test_price_is_base_plus_unit_price_per_grid_unit():
    q = quote(GridOptions(371, 254), **PRICING)
    # 8.5 × 6 cells of 42 mm = 51 units of 42 mm
    assert (q.cells_x, q.cells_y, q.grid_units) == (8.5, 6.0, 51.0)
    assert q.price == Decimal("25.40") and q.currency == "EUR"
    # a bigger pricing unit: (8.5·42/50)·(6·42/50) = 7.14·5.04 = 35.9856 units
    q = quote(GridOptions(371, 254), **{**PRICING, "unit_size_mm": 50.0})
    assert q.grid_units == pytest.approx(35.9856)
    assert q.price == Decimal("19.39")  # 5 + 0.40 × 35.9856 = 19.39424


def test_price_rounds_half_up_to_cents():
    assert price_for(1, base_price=Decimal("0"), unit_price=Decimal("0.005")) == Decimal("0.01")
    assert price_for(1, base_price=Decimal("0"), unit_price=Decimal("0.0049")) == Decimal("0.00")
    assert price_for(2.5, base_price=Decimal("1.10"), unit_price=Decimal("0.25")) == Decimal("1.73")  # 1.725
    assert price_for(0.1 + 0.2, base_price=Decimal("0"), unit_price=Decimal("10")) == Decimal("3.00")


def test_measured_figures_replace_the_estimate_once_per_shape():
    options = GridOptions(1041, 1041)
    asked: list[str] = []

    def known(key: str) -> tuple[float, int] | None:
        asked.append(key)
        return (10.0, 1000)

    q = quote(options, known=known, **PRICING)
    assert q.segments == 25 and q.unique_shapes == 11
    assert len(asked) == len(set(asked)) == 11  # once per distinct shape
    assert (q.filament_g, q.print_seconds, q.measured_pieces) == (250.0, 25_000, 25)


def test_some_pieces_known_some_estimated():
    options = GridOptions(420, 420)
    plan = plan_plate_set(options)
    first = plan.segments[0].shape_key()
    q = quote(options, known=lambda key: (1.0, 60) if key == first else None, **PRICING)
    rest = plan.segments[1:]
    assert q.measured_pieces == 1
    assert q.filament_g == pytest.approx(1.0 + sum(estimate_piece(s)[0] for s in rest), abs=0.01)
    assert q.print_seconds == 60 + sum(estimate_piece(s)[1] for s in rest)


def test_problems_show_in_the_quote():
    q = quote(GridOptions(100, 100, bed_width_mm=44, bed_depth_mm=44), **PRICING)
    assert q.problems and q.problems[0].startswith("Segment 1 is ")
    assert quote(GridOptions(371, 254), margin_mm=3, **PRICING).problems == []


def test_quotes_are_pure_arithmetic_for_every_size_up_to_a_metre():
    # no timing assertion: a quote plans and multiplies, nothing more
    for w in range(42, 1001, 137):
        for d in range(42, 1001, 191):
            q = quote(GridOptions(w, d, magnets="press-fit"), **PRICING)
            assert q.filament_g > 0 and q.print_seconds > 0 and q.price > PRICING["base_price"]


def test_the_pricing_unit_must_be_positive():
    with pytest.raises(ValueError, match="pricing unit"):
        quote(GridOptions(100, 100), **{**PRICING, "unit_size_mm": 0.0})
