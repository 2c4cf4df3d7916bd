"""What staff do with many orders at once and with orders they type in: the CSV
export (every order of the filters, in the shop's words and time), bulk cancel
and bulk fulfillment steps through the same gates as one order, and manual
orders refused field by field through the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.api import create_api
from app.orders import service
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform.db import platform_session, tenant_session
from app.platform.errors import Forbidden
from app.platform.models import Tenant
from tests import factories
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant: Tenant, role: str = "admin") -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def _order(tenant: Tenant, name: str, *, total_parts: int = 0, placed_at: datetime | None = None, lines=None) -> str:
    with tenant_session(tenant.id) as s:
        order, _ = service.create_order(
            s,
            OrderInput(
                source="manual",
                customer_name=name,
                customer_email=f"{name.split()[0].lower()}@example.com",
                ship_country_code="NL",
                currency="EUR",
                total=Decimal("1234.50"),
                placed_at=placed_at,
                lines=lines or [LineInput(sku="VASE-1", title="Spiral vase", quantity=2, unit_price=Decimal("12.50"))],
            ),
        )
        order.total_parts = total_parts
        s.add(order)
        s.commit()
        return str(order.id)


def _state(tenant: Tenant, oid: str) -> tuple[str, str]:
    with tenant_session(tenant.id) as s:
        o = s.get(Order, oid)
        assert o is not None
        return o.status, o.fulfillment_status


def _csv(r) -> list[list[str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # spreadsheet programs read accents right
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


# --- export --------------------------------------------------------------------------------------


def test_the_export_has_every_order_of_the_filters_in_the_shops_words_and_time(api):
    tenant = make_tenant()
    factories.set_shop_format(tenant, locale="de_DE", timezone="Europe/Berlin")
    ids = [_order(tenant, f"Ada {i}") for i in range(30)]  # more than a page of the table
    late = _order(tenant, "Late Evening", placed_at=datetime(2026, 11, 28, 23, 30, tzinfo=UTC))
    c = _client(api, tenant, "viewer")  # reading is enough to export
    staff = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        service.cancel(s, ids[0], actor=staff, reason="customer")
        s.commit()

    rows = _csv(c.get("/api/v1/orders/export.csv"))
    assert rows[0] == [
        "Number",
        "Placed",
        "Customer",
        "Email",
        "Status",
        "Fulfillment",
        "Source",
        "Items",
        "Total",
        "Currency",
        "Tracking",
    ]
    assert len(rows) == 1 + 31
    by_name = {r[2]: r for r in rows[1:]}
    # 23:30 UTC is 00:30 the next day in Berlin, written the German way
    assert by_name["Late Evening"][1] == "29.11.2026, 00:30"
    assert by_name["Ada 1"][4:8] == ["Pending", "Unfulfilled", "Manual", "2 × Spiral vase"]
    assert by_name["Ada 1"][8:10] == ["1234.50", "EUR"]

    cancelled = _csv(c.get("/api/v1/orders/export.csv", params={"status": "CANCELLED"}))
    assert [r[2] for r in cancelled[1:]] == ["Ada 0"]
    assert cancelled[1][4:6] == ["Cancelled", "Cancelled"]

    chosen = _csv(c.get("/api/v1/orders/export.csv", params={"ids": f"{ids[3]},{late},not-an-id"}))
    assert sorted(r[2] for r in chosen[1:]) == ["Ada 3", "Late Evening"]

    # one shop's export never holds another's orders; signed-out callers get nothing
    other = make_tenant()
    _order(other, "Other Shop")
    assert "Other Shop" not in {r[2] for r in rows}
    assert TestClient(api).get("/api/v1/orders/export.csv").status_code == 401


# --- bulk actions ----------------------------------------------------------------------------------


def test_bulk_cancel_cancels_what_it_may_and_names_the_rest(api):
    tenant = make_tenant()
    staff = staff_principal(tenant)
    fresh, fresh2, shipped, gone = (_order(tenant, n) for n in ("Ann A", "Bob B", "Cy C", "Di D"))
    with tenant_session(tenant.id) as s:
        for step in ("ready", "packaging", "shipped"):
            service.advance_fulfillment(s, shipped, step, actor=staff)
        service.cancel(s, gone, actor=staff)
        s.commit()
        numbers = {str(o.id): o.number for o in s.exec(select(Order))}

    with tenant_session(tenant.id) as s:
        result = service.cancel_many(s, [fresh, shipped, gone, fresh2], actor=staff, reason="customer")

    assert result.done == [numbers[fresh], numbers[fresh2]]
    refused = dict(result.refused)
    assert "can no longer be cancelled" in refused[numbers[shipped]]
    assert refused[numbers[gone]] == "it is already cancelled"
    assert _state(tenant, fresh) == ("CANCELLED", "cancelled")
    assert _state(tenant, shipped) == ("PENDING", "shipped")


def test_bulk_steps_pass_the_same_gates_and_leave_refused_orders_untouched(api):
    tenant = make_tenant()
    staff = staff_principal(tenant)
    plain = _order(tenant, "Plain One")
    unprinted = _order(tenant, "Print Waiting", total_parts=3)  # the printed-parts gate holds it
    with tenant_session(tenant.id) as s:
        numbers = {str(o.id): o.number for o in s.exec(select(Order))}

    with tenant_session(tenant.id) as s:
        ready = service.advance_many(s, [plain, unprinted], "ready", actor=staff)
    assert ready.done == [numbers[plain]]
    assert ready.refused[0][0] == numbers[unprinted]
    assert "3 of 3 printed part(s) not printed yet" in ready.refused[0][1]
    assert _state(tenant, unprinted) == ("PENDING", "unfulfilled")

    with tenant_session(tenant.id) as s:  # shipped is not the next step of a ready order
        shipped = service.advance_many(s, [plain], "shipped", actor=staff)
    assert shipped.done == [] and "the next step is packaging" in shipped.refused[0][1]
    assert _state(tenant, plain) == ("PENDING", "ready")

    with tenant_session(tenant.id) as s:
        again = service.advance_many(s, [plain], "ready", actor=staff)
    assert again.refused == [(numbers[plain], "it is already ready")]

    viewer = make_user(tenant, "viewer")
    from app.platform import auth

    principal = auth.login(viewer.username, PASSWORD, shop=tenant.slug).principal
    assert principal is not None
    with tenant_session(tenant.id) as s, pytest.raises(Forbidden):
        service.advance_many(s, [plain], "packaging", actor=principal)


# --- manual orders through the API -------------------------------------------------------------------


def _body(**extra) -> dict:
    return {
        "customerName": "Grace Hopper",
        "customerEmail": "grace@example.com",
        "customerPhone": "+31 20 123 4567",
        "street": "Damrak",
        "houseNumber": "1",
        "city": "Amsterdam",
        "postalCode": "1012 LG",
        "countryCode": "NL",
        "shipping": "6.95",
        "lineItems": [
            {"sku": "VASE-1", "title": "Spiral vase", "quantity": 2, "unitPrice": "12.50"},
            {"sku": "PC-CPU-1234abcd", "title": "Ryzen 5 7600", "quantity": 1, "unitPrice": "199.00"},
            {"sku": "", "title": "Gift wrapping", "quantity": 1, "unitPrice": "0"},
        ],
        **extra,
    }


def test_a_manual_order_with_several_lines_phone_and_shipping(api):
    tenant = make_tenant()
    c = _client(api, tenant)
    r = c.post("/api/v1/orders", json=_body())
    assert r.status_code == 201, r.text
    order = r.json()
    assert [li["title"] for li in order["lineItems"]] == ["Spiral vase", "Ryzen 5 7600", "Gift wrapping"]
    assert order["pricing"] == {"currency": "EUR", "subtotal": "224.00", "shipping": "6.95", "total": "230.95"}
    assert order["customer"]["phone"] == "+31 20 123 4567"
    timeline = c.get(f"/api/v1/orders/{order['id']}").json()["timeline"]
    assert timeline[0]["message"] == f"Order {order['number']} received from Manual (3 line(s), €230.95)"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customerEmail": ""}, "customer_email"),
        ({"customerEmail": "grace-at-example"}, "customer_email"),
        ({"street": ""}, "ship_street"),
        ({"city": "", "postalCode": ""}, "ship_city"),
        ({"countryCode": ""}, "ship_country_code"),
    ],
)
def test_a_manual_order_missing_customer_details_is_refused_by_field(api, change, field):
    c = _client(api, make_tenant())
    r = c.post("/api/v1/orders", json=_body(**change))
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["details"]["fields"]
    assert c.get("/api/v1/orders").json()["total"] == 0  # nothing half-made


def test_every_line_of_a_manual_order_is_checked(api):
    c = _client(api, make_tenant())
    lines = _body()["lineItems"]
    lines[1] = {**lines[1], "title": ""}
    r = c.post("/api/v1/orders", json=_body(lineItems=lines))
    assert r.status_code == 422
    assert r.json()["error"]["details"]["fields"] == {"lines.1.title": "Give the line a title."}
    assert "Give the line a title" in r.json()["error"]["message"]
    for bad in ({"quantity": 0}, {"unitPrice": "-1.00"}):
        r = c.post("/api/v1/orders", json=_body(lineItems=[{**lines[0], **bad}]))
        assert r.status_code == 422, r.text
    assert c.get("/api/v1/orders").json()["total"] == 0


def test_the_service_names_each_field_for_the_page():
    data = OrderInput(
        source="manual",
        customer_name=" ",
        customer_email="nope",
        ship_country_code="NLD",
        shipping_total=Decimal("-1"),
        lines=[
            LineInput(sku="A", title="", quantity=0, unit_price=Decimal("-2")),
            LineInput(sku="B", title="Fine", quantity=1),
        ],
    )
    errors = service.manual_order_errors(data)
    assert set(errors) == {
        "customer_name",
        "customer_email",
        "ship_street",
        "ship_postal_code",
        "ship_city",
        "ship_country_code",
        "shipping_total",
        "lines.0.title",
        "lines.0.quantity",
        "lines.0.unit_price",
    }
    assert "_" not in " ".join(errors.values())  # sentences, not identifiers


# --- the SKU lookup of the "New order" dialog ------------------------------------------------------


def test_typing_a_sku_or_a_name_suggests_sold_parts_and_printed_products(catalog):
    from sqlmodel import col

    from app.catalog import service as catalog_service
    from app.catalog.models import CatalogPart
    from app.platform.formatting import ShopFormat
    from app.printing import service as printing
    from state.orders import _suggest

    tenant = make_tenant()
    staff = staff_principal(tenant)
    with platform_session() as s:
        part = s.exec(select(CatalogPart).where(col(CatalogPart.slot) == "cpu").order_by(col(CatalogPart.name))).first()
        unsold = s.exec(select(CatalogPart).where(col(CatalogPart.slot) == "gpu")).first()
    assert part is not None and unsold is not None
    with tenant_session(tenant.id) as s:
        catalog_service.set_offer(s, part.id, price=Decimal("219.90"), stock=3, actor=None)
        printing.create_mapping(s, sku="VASE-SPIRAL", name="Spiral vase", variant_title="Red", actor=staff)
        s.commit()
    fmt = ShopFormat()

    by_name = _suggest(tenant.id, part.name[:12], fmt)
    sold = [x for x in by_name if x.kind == "Part"]
    assert sold and sold[0].title == part.name and sold[0].price == "219.90" and sold[0].price_text == "€219.90"
    assert sold[0].sku.startswith("PC-CPU-")
    assert _suggest(tenant.id, sold[0].sku, fmt)[0].title == part.name  # its SKU finds it again
    assert not any(x.title == unsold.name for x in _suggest(tenant.id, unsold.name[:12], fmt))  # not sold here

    printed = _suggest(tenant.id, "spiral", fmt)
    assert [(x.sku, x.title, x.kind, x.price) for x in printed] == [
        ("VASE-SPIRAL", "Spiral vase – Red", "Printed product", "")
    ]
    assert _suggest(tenant.id, "s", fmt) == []  # one letter: too little to look up
