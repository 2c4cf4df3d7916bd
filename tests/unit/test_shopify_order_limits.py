"""A Shopify order is placed and paid before we see it: text longer than we
keep is cut, and the order says so, instead of the order being refused (and lost)."""

from __future__ import annotations

from app.orders.inputs import MAX_NOTE, MAX_PROPERTIES
from app.orders.shopify_orders import order_from_graphql, order_from_rest


def _rest(**extra) -> dict:
    return {
        "id": 1042,
        "name": "#1042",
        "email": "anna@example.com",
        "currency": "EUR",
        "line_items": [
            {
                "id": 1,
                "sku": "VASE",
                "title": "Spiral vase " * 60,
                "quantity": 1,
                "price": "19.95",
                "properties": [{"name": f"Option {i}", "value": "x" * 900} for i in range(60)],
            }
        ],
        **extra,
    }


def test_a_shopify_order_with_too_long_text_is_kept_cut_and_says_so():
    order = order_from_rest(_rest(note="n" * 3000))
    assert len(order.note) == MAX_NOTE
    line = order.lines[0]
    assert len(line.title) == 300 and len(line.properties) == MAX_PROPERTIES
    assert all(len(v) == 500 for v in line.properties.values())
    assert any(p.startswith("Note was longer") for p in order.problems)
    assert any(p.startswith("Line 1: Title was longer") for p in order.problems)
    assert any(p.startswith("Line 1: Properties was longer") for p in order.problems)


def test_an_ordinary_shopify_order_has_no_problems():
    order = order_from_rest({**_rest(), "line_items": [{"id": 1, "sku": "V", "title": "Vase", "quantity": 2}]})
    assert order.problems == [] and order.lines[0].title == "Vase"


def test_the_backfill_cuts_the_same_way():
    node = {
        "id": "gid://shopify/Order/7",
        "legacyResourceId": "7",
        "name": "#7",
        "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/1", "title": "t" * 400, "quantity": 1}]},
        "shippingAddress": {"city": "c" * 150},
    }
    order = order_from_graphql(node)
    assert len(order.lines[0].title) == 300 and len(order.ship_city) == 100
    assert {p.split(" was")[0] for p in order.problems} == {"Line 1: Title", "City"}
