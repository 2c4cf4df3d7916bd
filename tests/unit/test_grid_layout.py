"""Cell layout and plate-set segmentation: GridFlock's own test vectors
(spec §3, §5), its measured worked example (§5.7), the held-out order, the
oversize piece of GridFlock issue #22 (§5.8) and shape dedupe."""

from __future__ import annotations

import itertools
import math

import pytest

from app.grid.geometry.layout import (
    BED_MARGIN_MM,
    FEMALE_PROTRUSION_MM,
    PROTRUSION_MM,
    axis_cells,
    axis_layout,
    bed_fit_problems,
    expand_plan,
    footprint_mm,
    greedy_count,
    ideal_plan,
    incremental_plan,
    plan_plate_set,
    shape_label,
    staggered_plans,
)
from app.grid.geometry.spec import GRID_UNIT_MM, GridOptions

U = GRID_UNIT_MM


def ones(n: int) -> list[float]:
    return [1.0] * n


# --- §3 filler cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "cells"), [(1.5, (1.0, 0.5)), (1.6, (1.0, 0.5)), (1.4, (1.0,))])
def test_integer_fraction_filler(n, cells):
    assert axis_cells(n * U, "integer") == cells


def test_no_filler_keeps_whole_cells():
    assert axis_cells(1.5 * U, "none") == (1.0,)
    assert axis_cells(4.99 * U, "none") == (1.0,) * 4


@pytest.mark.parametrize(("n", "cells"), [(1, (1.0,)), (1.125, (1.125,)), (1.25, (1.0, 0.25)), (1.5, (1.0, 0.5))])
def test_dynamic_filler_with_a_quarter_cell_minimum(n, cells):
    assert axis_cells(n * U, "dynamic", filler_minimum_mm=0.25 * U) == cells


def test_71_mm_is_a_cell_and_a_half_with_4_mm_each_side():
    a = axis_layout(71, "integer", 0.5)
    assert a.cells == (1.0, 0.5)
    assert (a.pad_start_mm, a.pad_end_mm) == (4.0, 4.0)
    assert a.length_mm == pytest.approx(71)


def test_alignment_splits_the_padding():
    assert (axis_layout(71, "integer", 0.0).pad_start_mm, axis_layout(71, "integer", 0.0).pad_end_mm) == (0.0, 8.0)
    assert axis_layout(71, "integer", 1.0).pad_start_mm == 8.0
    a = axis_layout(71, "integer", 0.25)
    assert (a.pad_start_mm, a.pad_end_mm) == (2.0, 6.0)


def test_an_axis_needs_a_whole_cell_and_a_known_filler():
    with pytest.raises(ValueError, match="at least one whole cell"):
        axis_cells(41.9, "integer")
    with pytest.raises(ValueError, match="at least one whole cell"):
        axis_cells(math.nan, "integer")
    with pytest.raises(ValueError, match="unknown filler"):
        axis_cells(100, "quarters")
    with pytest.raises(ValueError, match="alignment"):
        axis_layout(100, "integer", 1.5)


# --- §5.2 X axis: greedy count and the ideal plan ------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "pads", "count"),
    [
        ([1], (0, 0), 1),
        (ones(3), (0, 0), 1),
        (ones(4), (0, 0), 2),
        ([1, 1, 1.2], (0, 0), 2),
        (ones(3), (0.1, 0), 2),
        (ones(3), (0, 0.1), 2),
        (ones(7), (0, 0), 3),
        ([1, 1, 1, 1, 1, 1.2], (0, 0), 3),
        (ones(6), (0.1, 0), 3),
        (ones(6), (0, 0.1), 3),
    ],
)
def test_greedy_segment_count(cells, pads, count):
    assert greedy_count(cells, 3, *pads) == count


@pytest.mark.parametrize(("n", "plan"), [(1, [1]), (3, [3]), (4, [2, 2]), (5, [3, 2])])
def test_ideal_plan(n, plan):
    assert ideal_plan(ones(n), 3) == plan


# --- §5.2 incremental plan -----------------------------------------------------------------------


def test_incremental_plan_triples():
    cells = ones(10)
    assert incremental_plan(cells, 6.1, 0.2, 0.2).as_tuple() == (5, 6, 5)
    assert expand_plan(10, incremental_plan(cells, 6.1, 0.2, 0.2)) == [5, 5]
    # a forced first of 4 leaves a 6-cell end that overflows with its padding: first shrinks
    assert incremental_plan(cells, 6.1, 0.2, 0.2, force_first=4).as_tuple() == (3, 6, 1)
    assert incremental_plan(cells, 6.1, 0.2, 0.2, force_first=3).as_tuple() == (3, 6, 1)
    assert incremental_plan(cells, 6.1, 0.2, 0.2, force_first=2).as_tuple() == (2, 6, 2)
    assert incremental_plan(cells, 6.1, 0.2, 0.2, force_first=1).as_tuple() == (1, 6, 3)


def test_incremental_plan_with_a_half_cell():
    assert expand_plan(2, incremental_plan([1, 0.5], 2)) == [2]  # fits: one segment
    # the end would be the lone half cell: the first segment gives up a cell
    assert incremental_plan([1, 1, 0.5], 2).as_tuple() == (1, 2, 2)
    assert expand_plan(3, incremental_plan([1, 1, 0.5], 2)) == [1, 2]


def test_expansion_repeats_mid_and_ends_with_the_rest():
    assert expand_plan(10, incremental_plan(ones(10), 6.1, 0.2, 0.2, force_first=1)) == [1, 6, 3]
    assert expand_plan(20, incremental_plan(ones(20), 5)) == [5, 5, 5, 5]


# --- §5.3 staggered Y plans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "plan_a", "plan_b"),
    [
        (1, [1], [1]),
        (2, [2], [2]),
        (3, [3], [3]),
        (4, [4], [4]),
        (5, [5], [5]),
        (6, [4, 2], [2, 4]),
        (7, [5, 2], [2, 5]),
        (8, [5, 3], [3, 5]),
        (9, [5, 4], [4, 5]),
        (10, [5, 5], [2, 5, 3]),
        (11, [4, 5, 2], [2, 5, 4]),
    ],
)
def test_staggered_plans_bed_5_whole_cells(n, plan_a, plan_b):
    assert staggered_plans(ones(n), 5) == (plan_a, plan_b)


def test_staggered_plans_with_padding():
    assert staggered_plans(ones(10), 6.0119, 0.357143, 0.357143) == ([5, 5], [2, 6, 2])


# --- §5.1 margins and footprints -----------------------------------------------------------------


def test_bed_margin_per_connector():
    assert BED_MARGIN_MM == {"intersection-puzzle": 3.5, "edge-puzzle": 3.7, "none": 0.0}
    assert PROTRUSION_MM == {"intersection-puzzle": 1.18, "edge-puzzle": 3.7, "none": 0.0}


def test_shape_labels_run_like_spreadsheet_columns():
    assert [shape_label(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]


# --- §5.7 the measured worked example -----------------------------------------------------------


def test_worked_example_420_by_420_on_a_256_bed():
    plan = plan_plate_set(GridOptions(420, 420, connector="intersection-puzzle"))
    segs = plan.segments
    assert [s.number for s in segs] == [1, 2, 3, 4]
    # X [5, 5]; column 0 plan A = [6, 4], column 1 plan B = [4, 6]; numbered column-major
    assert [(s.column, s.row, len(s.cells_x), len(s.cells_y)) for s in segs] == [
        (0, 0, 5, 6),
        (0, 1, 5, 4),
        (1, 0, 5, 4),
        (1, 1, 5, 6),
    ]
    # connectors on internal sides only (N, E, S, W)
    assert [s.connectors for s in segs] == [
        (True, True, False, False),
        (False, True, True, False),
        (True, False, False, True),
        (False, False, True, True),
    ]
    assert [s.origin for s in segs] == [(0, 0), (0, 252), (210, 0), (210, 168)]
    assert all(s.padding == (0, 0, 0, 0) for s in segs)
    # GridFlock's measured footprints, protrusions included (spec §5.7)
    measured = [(211.5, 253.5), (211.2, 168.9), (210.9, 169.2), (210.6, 252.6)]
    for s, (w, d) in zip(segs, measured, strict=True):
        assert plan.footprints[s.number] == pytest.approx((w, d), abs=0.05)
    assert [s.label for s in segs] == ["A", "B", "C", "D"]  # all four differ
    assert bed_fit_problems(plan, 256, 256) == []


def test_numbering_is_column_major_by_the_formula():
    plan = plan_plate_set(GridOptions(600, 1941))
    a = [s for s in plan.segments if s.column == 0]
    b = [s for s in plan.segments if s.column == 1]
    assert len(a) != len(b)  # the two plans differ in length here, so the formula matters
    for s in plan.segments:
        assert s.number == s.row + math.ceil(s.column / 2) * len(a) + (s.column // 2) * len(b) + 1
    assert [s.number for s in plan.segments] == list(range(1, len(plan.segments) + 1))
    assert [(s.column, s.row) for s in plan.segments] == sorted((s.column, s.row) for s in plan.segments)


def test_a_plate_that_fits_is_one_piece_without_connectors():
    plan = plan_plate_set(GridOptions(200, 150, magnets="press-fit"))
    [seg] = plan.segments
    assert seg.connectors == (False, False, False, False)
    assert seg.cells_x == (1.0, 1.0, 1.0, 1.0, 0.5) and seg.cells_y == (1.0, 1.0, 1.0, 0.5)
    assert seg.padding == pytest.approx((1.5, 5.5, 1.5, 5.5))  # padding on all four sides
    assert seg.size_mm == pytest.approx((200, 150))
    assert plan.footprints[1] == pytest.approx((200, 150))
    assert (seg.label, seg.magnets, seg.origin) == ("A", "press-fit", (0.0, 0.0))


def test_padding_only_on_plate_edges_and_origins_add_up():
    plan = plan_plate_set(GridOptions(700, 600, align_x=0.25, align_y=1.0))
    x, y = plan.x, plan.y
    for s in plan.segments:
        n, e, s_, w = s.padding
        last_col = s.column == max(t.column for t in plan.segments)
        last_row = s.row == max(t.row for t in plan.segments if t.column == s.column)
        assert w == (x.pad_start_mm if s.column == 0 else 0)
        assert e == (x.pad_end_mm if last_col else 0)
        assert s_ == (y.pad_start_mm if s.row == 0 else 0)
        assert n == (y.pad_end_mm if last_row else 0)
    for col in {s.column for s in plan.segments}:
        column = sorted((s for s in plan.segments if s.column == col), key=lambda s: s.row)
        for lower, upper in itertools.pairwise(column):
            assert upper.origin[1] == pytest.approx(lower.origin[1] + lower.size_mm[1])
        assert column[-1].origin[1] + column[-1].size_mm[1] == pytest.approx(600)
        assert sum(len(s.cells_y) for s in column) == len(y.cells)
    row0 = sorted((s for s in plan.segments if s.row == 0), key=lambda s: s.column)
    assert row0[-1].origin[0] + row0[-1].size_mm[0] == pytest.approx(700)


def test_edge_puzzle_footprint_adds_the_male_head_only():
    plan = plan_plate_set(GridOptions(420, 420, connector="edge-puzzle"))
    first = plan.segments[0]  # male N and E
    w, d = first.size_mm
    assert footprint_mm(first) == pytest.approx((w + 3.7, d + 3.7))
    last = plan.segments[-1]  # female S and W only
    assert footprint_mm(last) == pytest.approx(last.size_mm)
    assert FEMALE_PROTRUSION_MM["edge-puzzle"] == 0
    assert bed_fit_problems(plan, 256, 256) == []


def test_no_connector_keeps_seams_but_adds_nothing():
    plan = plan_plate_set(GridOptions(420, 420, connector="none"))
    assert len(plan.segments) == 4
    for s in plan.segments:
        assert plan.footprints[s.number] == pytest.approx(s.size_mm)


# --- the held-out order --------------------------------------------------------------------------


def test_held_out_order_371_by_254_press_fit_intersection_puzzle_256_bed():
    options = GridOptions(371, 254, magnets="press-fit", connector="intersection-puzzle")
    plan = plan_plate_set(options)
    # X: 371 / 42 = 8.83 → 8 whole cells and a half, 14 mm padding split 7 / 7
    assert plan.x.cells == (1.0,) * 8 + (0.5,)
    assert (plan.x.pad_start_mm, plan.x.pad_end_mm) == (7.0, 7.0)
    # Y: 254 / 42 = 6.05 → 6 whole cells, 1 mm padding each side
    assert plan.y.cells == (1.0,) * 6
    assert (plan.y.pad_start_mm, plan.y.pad_end_mm) == (1.0, 1.0)
    # 254 mm fits the 256 mm bed, so Y is not split; X is split into two columns
    assert [(s.number, s.cells_x, len(s.cells_y)) for s in plan.segments] == [
        (1, (1.0,) * 4, 6),
        (2, (1.0,) * 4 + (0.5,), 6),
    ]
    one, two = plan.segments
    assert one.size_mm == pytest.approx((175.0, 254.0)) and two.size_mm == pytest.approx((196.0, 254.0))
    assert one.connectors == (False, True, False, False) and two.connectors == (False, False, False, True)
    assert one.padding == (1.0, 0.0, 1.0, 7.0) and two.padding == (1.0, 7.0, 1.0, 0.0)
    assert plan.footprints == {1: pytest.approx((176.18, 254.0)), 2: pytest.approx((196.57, 254.0))}
    assert {s.magnets for s in plan.segments} == {"press-fit"}
    assert [s.label for s in plan.segments] == ["A", "B"]
    assert bed_fit_problems(plan, 256, 256) == []


def test_held_out_order_with_a_skirt_margin_splits_y_too():
    options = GridOptions(371, 254, magnets="press-fit", connector="intersection-puzzle")
    plan = plan_plate_set(options, margin_mm=3)
    assert len({s.column for s in plan.segments}) == 2
    assert max(s.row for s in plan.segments) >= 1  # 254 + 2 × 3 > 256: the rows split
    assert bed_fit_problems(plan, 256, 256, 3) == []


# --- §5.8 GridFlock issue #22: never an oversized piece ------------------------------------------


def test_480_by_450_on_a_256_bed_fits():
    plan = plan_plate_set(GridOptions(480, 450))
    assert bed_fit_problems(plan, 256, 256) == []
    assert all(w <= 256 and d <= 256 for w, d in plan.footprints.values())


def test_an_ideal_plan_over_the_bed_is_replanned_with_one_more_column():
    options = GridOptions(961, 300)
    x = axis_layout(961, "integer", 0.5)
    bed_u = (256 - 3.5) / U
    naive = ideal_plan(x.cells, bed_u, x.pad_start_mm / U, x.pad_end_mm / U)
    # the ideal plan alone gives the first column 6 cells + 8 mm padding: 260 mm, over the bed
    assert naive[0] * U + x.pad_start_mm > 256
    plan = plan_plate_set(options)
    assert len({s.column for s in plan.segments}) == len(naive) + 1
    assert bed_fit_problems(plan, 256, 256) == []


def test_a_row_over_the_bed_is_replanned():
    # no connector: 6 cells + 2 × 4 mm padding = 260 mm; plan A alone keeps all 6 cells in one row
    y = axis_layout(260, "integer", 0.5)
    a, _b = staggered_plans(y.cells, 256 / U, y.pad_start_mm / U, y.pad_end_mm / U)
    assert a == [6]
    plan = plan_plate_set(GridOptions(300, 260, connector="none"))
    assert all(d <= 256 for _w, d in plan.footprints.values())
    assert bed_fit_problems(plan, 256, 256) == []


def test_a_row_over_the_bed_is_replanned_even_when_plan_b_is_already_split():
    # 2 cells + 2 × 6.1 mm padding; with a 2 mm margin plan A keeps both cells (and both
    # paddings: 96.2 + 4 > 99.4) while plan B is already one cell per row
    y = axis_layout(96.2, "integer", 0.5)
    budget = (99.4 - 3.5 - 2 * 2) / U
    assert staggered_plans(y.cells, budget, y.pad_start_mm / U, y.pad_end_mm / U) == ([2], [1, 1])
    plan = plan_plate_set(GridOptions(300, 96.2, bed_width_mm=325, bed_depth_mm=99.4), margin_mm=2)
    assert [len(s.cells_y) for s in plan.segments] == [1, 1]
    assert bed_fit_problems(plan, 325, 99.4, 2) == []


@pytest.mark.parametrize("connector", ["intersection-puzzle", "edge-puzzle", "none"])
@pytest.mark.parametrize("filler", ["none", "integer", "dynamic"])
@pytest.mark.parametrize(("bed", "margin"), [((256, 256), 0), ((180, 180), 3), ((250, 220), 2)])
def test_every_piece_fits_the_bed_across_sizes(connector, filler, bed, margin):
    for w in range(42, 1001, 71):
        for d in (42, 130, 255, 433, 777, 1000):
            options = GridOptions(w, d, connector=connector, filler=filler, bed_width_mm=bed[0], bed_depth_mm=bed[1])
            plan = plan_plate_set(options, margin_mm=margin)
            assert bed_fit_problems(plan, bed[0], bed[1], margin) == [], (w, d)
            assert sum(len(s.cells_x) * len(s.cells_y) for s in plan.segments) == len(plan.x.cells) * len(plan.y.cells)


def test_a_bed_smaller_than_a_cell_is_reported_per_piece():
    plan = plan_plate_set(GridOptions(100, 100, bed_width_mm=44, bed_depth_mm=44))
    problems = bed_fit_problems(plan, 44, 44)
    assert problems and problems[0].startswith("Segment 1 is ")
    assert "it does not fit the 44 × 44 mm bed" in problems[0]


def test_bed_fit_messages_name_the_piece_and_the_room():
    plan = plan_plate_set(GridOptions(240, 200))
    assert bed_fit_problems(plan, 230, 230, 3) == [
        "The plate is 240.0 × 200.0 mm; the 230 × 230 mm bed takes 224 × 224 mm with a 3 mm margin"
    ]
    plan = plan_plate_set(GridOptions(420, 420))
    problems = bed_fit_problems(plan, 256, 256, 3)
    assert problems[0] == "Segment 1 is 211.5 × 253.5 mm; the 256 × 256 mm bed takes 250 × 250 mm with a 3 mm margin"


# --- dedupe --------------------------------------------------------------------------------------


def test_identical_pieces_share_one_shape_and_label():
    # 1041 × 1041 on a 256 bed: a 5 × 5 set of 25 pieces. Staggering gives 11 shapes
    # and no fewer: the two edge columns have 3 each (first, middle, last row); the
    # three inner columns share their middle rows and differ in the first/last rows of
    # plans A and B (5 more).
    plan = plan_plate_set(GridOptions(1041, 1041))
    assert len(plan.segments) == 25
    assert len({s.column for s in plan.segments}) == 5
    shapes = plan.unique_shapes
    assert len(shapes) == 11
    assert sorted(n for numbers in shapes.values() for n in numbers) == list(range(1, 26))
    for numbers in shapes.values():
        assert len({plan.segments[n - 1].label for n in numbers}) == 1
    assert len({s.label for s in plan.segments}) == 11
    # labels in order of first appearance by number
    seen: list[str] = []
    for s in plan.segments:
        if s.label not in seen:
            seen.append(s.label)
    assert seen == [shape_label(i) for i in range(11)]


def test_25_pieces_in_three_columns_are_9_shapes():
    plan = plan_plate_set(GridOptions(600, 1941))
    assert len(plan.segments) == 25
    assert len(plan.unique_shapes) <= 9


def test_shape_key_ignores_number_and_position_but_not_geometry():
    plan = plan_plate_set(GridOptions(1041, 1041))
    by_label: dict[str, set[str]] = {}
    for s in plan.segments:
        by_label.setdefault(s.label, set()).add(s.shape_key())
    assert all(len(keys) == 1 for keys in by_label.values())
    assert len({next(iter(k)) for k in by_label.values()}) == len(by_label)
    magnets = plan_plate_set(GridOptions(1041, 1041, magnets="press-fit"))
    assert {s.shape_key() for s in magnets.segments}.isdisjoint({s.shape_key() for s in plan.segments})
