"""The staff home page shows the shop's work for the signed-in user: orders
to ship, builds waiting and assigned to them, failed prints, the week's
revenue in the shop's money, and recent activity as sentences that link to
what they name. A tile shows only to someone allowed to see its work."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from app import domains
from app.builds import service as builds
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.models import utcnow
from app.printing.models import PrintJob
from state.home import snapshot
from tests import factories
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal

RAW = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}|\b[A-Z]+_[A-Z_]+\b|\b[a-z]+\.[a-z-]+\b")  # ids, STATUS_CODES, event.types


def _order(tenant, customer: str, total: str, *, days_ago: int = 0, fulfillment: str = "", status: str = "") -> Order:
    with tenant_session(tenant.id) as s:
        order = orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name=customer,
                lines=[LineInput(sku="PC-1", title="Gaming PC", quantity=1, unit_price=Decimal(total))],
            ),
            actor=staff_principal(tenant),
        )
        order.placed_at = utcnow() - timedelta(days=days_ago)
        if fulfillment:
            order.fulfillment_status = fulfillment
        if status:
            order.status = status
        s.add(order)
        s.commit()
        s.refresh(order)
        return order


def _signed_in(tenant, role: str = "admin"):
    user = make_user(tenant, role)
    return user, auth.login(user.username, PASSWORD, shop=tenant.slug).principal


def _tiles(principal) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {t.key: t for t in domains.home_tiles(s, principal)}


def test_home_shows_the_shops_work_in_its_money():
    tenant = make_tenant()
    _order(tenant, "Anna Schmidt", "100.00")
    _order(tenant, "Ben Ohr", "50.00", days_ago=1, fulfillment="ready")
    _order(tenant, "Old Order", "999.00", days_ago=10)  # before this week
    _order(tenant, "Gone Again", "500.00", status="CANCELLED")  # cancelled: no revenue
    with tenant_session(tenant.id) as s:
        s.add(PrintJob(tenant_id=tenant.id, part_name="Bracket", filename="bracket.gcode", status="FAILED"))
        s.commit()
    _, principal = _signed_in(tenant)

    tiles = _tiles(principal)
    assert tiles["orders.to-ship"].value == "1" and tiles["orders.to-ship"].link.startswith("/orders")
    revenue = tiles["orders.revenue"]
    assert revenue.value == "€150.00"
    assert len(revenue.chart) == 7  # one bar per day of the week, today last
    assert [p.text for p in revenue.chart[-2:]] == ["€50.00", "€100.00"]
    assert revenue.chart[-1].label == principal.fmt.short_day(utcnow())
    assert tiles["printing.failed"].value == "1" and tiles["printing.failed"].tone == "red"
    assert tiles["printing.failed"].link == "/printfarm?status=FAILED"


def test_revenue_follows_the_shops_locale():
    tenant = make_tenant()
    factories.set_shop_format(tenant, locale="de_DE", currency="EUR")
    _order(tenant, "Jörg Weber", "1234.50")
    _, principal = _signed_in(tenant)
    assert _tiles(principal)["orders.revenue"].value == "1.234,50\xa0€"


def test_builds_waiting_and_my_work():
    tenant = make_tenant()
    order = _order(tenant, "Clara Jones", "1800.00")
    other = _order(tenant, "Dan Brown", "900.00")
    builder, principal = _signed_in(tenant, "operator")
    with tenant_session(tenant.id) as s:
        mine = builds.create_build(s, order.id, actor=staff_principal(tenant))
        builds.create_build(s, other.id, actor=staff_principal(tenant))
        builds.assign(s, mine.id, builder.id, actor=staff_principal(tenant))
        s.commit()
        mine_id = mine.id

    tiles = _tiles(principal)
    assert tiles["builds.waiting"].value == "2"
    assert "1 of them without a builder" in tiles["builds.waiting"].hint
    my = tiles["builds.mine"]
    assert my.mine and my.value == "1"
    [item] = my.items
    assert item.link == f"/builds/{mine_id}"
    assert order.number in item.text and "Clara Jones" in item.text
    assert item.status == "Pending"

    # someone else has no builds of their own
    _, colleague = _signed_in(tenant, "operator")
    assert _tiles(colleague)["builds.mine"].value == "0"


def test_tiles_follow_permissions():
    tenant = make_tenant()
    _order(tenant, "Eve Adams", "10.00", fulfillment="ready")
    _, admin = _signed_in(tenant)
    builds_only = dataclasses.replace(admin, permissions=frozenset({"builds.read"}))

    tiles = _tiles(builds_only)
    assert not [k for k in tiles if k.startswith(("orders.", "printing.", "platform."))]
    assert "builds.waiting" in tiles
    with tenant_session(tenant.id) as s:
        assert domains.activity(s, builds_only) == []  # the new order is not theirs to see
        assert any("Eve Adams" in a.text for a in domains.activity(s, admin))
    assert "platform.attention" in _tiles(admin)  # the admin sees stuck outbound work
    _, viewer = _signed_in(tenant, "viewer")
    assert "platform.attention" not in _tiles(viewer)


def test_recent_activity_reads_as_sentences_with_links():
    tenant = make_tenant()
    order = _order(tenant, "Anna Schmidt", "12.00")
    with tenant_session(tenant.id) as s:
        build = builds.create_build(s, order.id, actor=staff_principal(tenant))
        s.commit()
        build_id = build.id
        job = PrintJob(
            tenant_id=tenant.id, order_id=order.id, part_name="Fan shroud", filename="shroud.gcode", status="FAILED"
        )
        s.add(job)
        s.flush()
        from app.printing.service._common import _log

        _log(s, job, "print-job.failed", "Fan shroud #1 failed: nozzle clog", severity="WARNING")
        s.commit()
    _, principal = _signed_in(tenant)

    tiles, my_work, recent = snapshot(principal)
    texts = {r.text: r for r in recent}
    new = texts[f"New order {order.number} from Anna Schmidt (€12.00)."]
    assert new.link == f"/orders/{order.id}"
    assert new.ago == "just now" and new.at  # in the shop's words, with the moment behind it
    built = next(r for r in recent if r.link == f"/builds/{build_id}")
    assert built.text == f"Build created for order {order.number}."
    printed = next(r for r in recent if "nozzle clog" in r.text)
    assert printed.text == f"Fan shroud #1 failed: nozzle clog (for order {order.number})."
    assert printed.link.startswith("/printfarm?status=FAILED&search=") and printed.tone == "amber"
    for r in recent:  # no raw identifiers in what people read
        assert not RAW.search(r.text), r.text
    assert {t.key for t in tiles} >= {"orders.to-ship", "orders.revenue", "builds.waiting", "printing.failed"}
    assert [t.key for t in my_work] == ["builds.mine"]


def test_a_failing_domain_costs_only_its_own_tiles(monkeypatch):
    from app.orders import home as orders_home

    tenant = make_tenant()
    _, principal = _signed_in(tenant)

    def broken(session, principal):  # a query the database refuses: the transaction must survive it
        session.exec(text("SELECT 1 / 0"))

    monkeypatch.setattr(orders_home, "tiles", broken)
    tiles = _tiles(principal)
    assert "builds.waiting" in tiles and "orders.revenue" not in tiles
