"""Text from outside, before it reaches the database: searches take `%` and
`_` literally, NUL characters never get through, free-form fields and amounts
have limits that are refused with a message naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.orders.inputs import MAX_NOTE, MAX_PROPERTIES, LineInput, OrderInput
from app.platform.errors import ValidationFailed
from app.platform.text import bounded, like_pattern, refuse_nul, strip_nul
from app.platform.web import _json_problem


def test_search_wildcards_are_taken_literally():
    assert like_pattern("100%") == "%100\\%%"
    assert like_pattern("a_b") == "%a\\_b%"
    assert like_pattern("C:\\temp") == "%C:\\\\temp%"
    assert like_pattern("plain") == "%plain%"
    assert like_pattern("nul\x00here") == "%nulhere%"


def test_nul_is_stripped_from_typed_text_and_refused_elsewhere():
    assert strip_nul("a\x00b") == "ab"
    assert refuse_nul("fine", "Name") == "fine"
    with pytest.raises(ValidationFailed, match="Name: must not contain NUL"):
        refuse_nul("bad\x00", "Name")


def test_too_long_text_is_refused_with_the_field_and_its_limit():
    assert bounded("x" * 10, "Note", 10) == "x" * 10
    with pytest.raises(ValidationFailed, match=r"Note: at most 10 characters \(this one has 11\)"):
        bounded("x" * 11, "Note", 10)


def _line(**kw) -> LineInput:
    return LineInput(sku="VASE-1", title="Spiral vase", quantity=1, **kw)


def test_line_properties_are_bounded():
    _line(properties={f"k{i}": "v" * 500 for i in range(MAX_PROPERTIES)})  # at the limits: fine
    with pytest.raises(ValidationFailed, match="at most 50 entries"):
        _line(properties={f"k{i}": "v" for i in range(MAX_PROPERTIES + 1)})
    with pytest.raises(ValidationFailed, match="Line properties 'engraving': at most 500 characters"):
        _line(properties={"engraving": "x" * (24 * 1024 * 1024)})  # the 24 MB property of the report


def test_order_text_is_bounded_and_cleaned():
    order = OrderInput(source="manual", lines=[_line()], customer_name="Anna\x00 Jansen", note="n" * MAX_NOTE)
    assert order.customer_name == "Anna Jansen"
    with pytest.raises(ValidationFailed, match="Note: at most 2,000 characters"):
        OrderInput(source="manual", lines=[_line()], note="n" * (MAX_NOTE + 1))
    with pytest.raises(ValidationFailed, match="Customer name: at most 200"):
        OrderInput(source="manual", lines=[_line()], customer_name="A" * 201)


def test_amounts_beyond_the_price_column_are_refused():
    _line(unit_price=Decimal("9999999999.99"))
    with pytest.raises(ValidationFailed, match=r"Line price: at most 9,999,999,999.99"):
        _line(unit_price=Decimal("10000000000"))
    with pytest.raises(ValidationFailed, match="Shipping: at most"):
        OrderInput(source="manual", lines=[_line()], shipping_total=Decimal("1e20"))
    with pytest.raises(ValidationFailed, match="Total: must be a number"):
        OrderInput(source="manual", lines=[_line()], total=Decimal("NaN"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"price": NaN}', ("invalid_number", 422)),
        (b'{"score": -Infinity}', ("invalid_number", 422)),
        (b'{"lines": [{"title": "a\\u0000b"}]}', ("nul_character", 400)),
        (b'{"a\\u0000": 1}', ("nul_character", 400)),
    ],
)
def test_json_bodies_with_nan_or_nul_are_refused(body, expected):
    problem = _json_problem(body)
    assert problem is not None
    assert (problem[0], problem[2]) == expected


def test_ordinary_and_malformed_json_pass_to_the_route():
    assert _json_problem(b'{"price": 12.5, "title": "Vase \\u00e9"}') is None
    assert _json_problem(b"{not json") is None  # the route's own validation names the fault
