"""How document numbers read, and which prefixes a shop may choose."""

from __future__ import annotations

import pytest

from app.platform.numbering import format_number, period_of, prefix_problem


@pytest.mark.parametrize(
    ("prefix", "value", "padding", "year", "expected"),
    [
        ("M-", 1, 5, 2026, "M-00001"),
        ("B-", 12345, 5, 2026, "B-12345"),
        ("B-", 123456, 5, 2026, "B-123456"),  # past the padding: more digits, never cut
        ("INV-{year}-", 7, 5, 2026, "INV-2026-00007"),
        ("CN{year}/", 42, 3, 2027, "CN2027/042"),
        ("", 9, 0, 2026, "9"),
    ],
)
def test_numbers_read_as_prefix_and_padded_value(prefix, value, padding, year, expected):
    assert format_number(prefix, value, padding, year) == expected


@pytest.mark.parametrize(
    "prefix", ["M-", "INV-{year}-", "F{year}/", "SHOP_2.", "#", "A" * 20, "ABCDEFGHIJKLMNOP{year}"]
)
def test_good_prefixes_pass(prefix):
    assert prefix_problem(prefix) is None


@pytest.mark.parametrize(
    ("prefix", "words"),
    [
        ("INV 2026", "no spaces"),
        ("A{month}-", "only allowed as {year}"),
        ("{year", "only allowed as {year}"),
        ("<b>", "letters, digits"),
        ("Ré-", "letters, digits"),
        ("A" * 21, "at most 20"),
        ("ABCDEFGHIJKLMNOPQ{year}", "at most 20"),  # {year} counts as its four digits
    ],
)
def test_bad_prefixes_say_what_is_wrong(prefix, words):
    problem = prefix_problem(prefix)
    assert problem is not None and words in problem


def test_only_yearly_sequences_have_a_year_as_period():
    assert period_of("yearly", 2026) == 2026
    assert period_of("never", 2026) == 0


def test_the_settings_form_reads_a_row_change():
    from state.settings_numbering import change_from_form

    assert change_from_form({"key": "invoice", "prefix": "F{year}/", "next_value": "1,207"}) == (
        "invoice",
        "F{year}/",
        1207,
        {},
    )
    assert change_from_form({"key": "asset", "prefix": "AS-", "next_value": ""}) == ("asset", "AS-", None, {})
    key, _, value, errors = change_from_form({"key": "asset", "prefix": "", "next_value": "twelve"})
    assert key == "asset" and value is None and "whole number" in errors["next_value"]
