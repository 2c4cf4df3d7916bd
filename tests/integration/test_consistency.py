"""States never contradict each other: the demo (made through the real
services) passes every domain's invariant check, and the check reports the
contradictions a shop saw (a FAILED order whose jobs are all queued, a
COMPLETED order with PENDING lines, a cancelled order's build still on the
workbench), also as `python -m app.cli check`."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from app import cli, domains
from app.builds import service as builds
from app.builds.models import Build
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import LineItem, Order
from app.platform.db import tenant_session
from app.printing.models import PrintJob
from app.shipping import demo
from app.shipping.models import SendcloudConnection, Shipment
from standins.sendcloud import SendcloudStandin
from tests import factories, testenv


def _findings(tenant) -> list[str]:
    with tenant_session(tenant.id) as s:
        return [str(f) for _, fn in domains.checks() for f in fn(s)]


def _order(s, tenant, sku: str = "VASE-1") -> Order:
    return orders.create_manual_order(
        s,
        OrderInput(
            source="manual",
            customer_name="Check",
            ship_country_code="NL",
            lines=[LineInput(sku=sku, title=sku.title(), quantity=1, unit_price=Decimal("20"))],
        ),
        actor=factories.staff_principal(tenant),
    )


def test_the_demo_shop_is_consistent_once_its_events_are_handled(catalog, worker):
    testenv.free_demo_shopify_domain()
    tenant = factories.make_tenant("Demo Check Shop")
    with SendcloudStandin(demo.DEMO_PUBLIC_KEY, demo.DEMO_SECRET_KEY) as sendcloud:
        with tenant_session(tenant.id) as s:
            for _name, loader in domains.demo_loaders():
                loader(s)
            # make dev runs the Sendcloud stand-in on a fixed port; here it runs on a free one
            conn = s.exec(select(SendcloudConnection)).one()
            conn.api_base_url = sendcloud.base_url
            s.add(conn)
            s.commit()
        worker(timeout=120)  # orchestration answers the print farm's moves; labels are made
        with tenant_session(tenant.id) as s:
            statuses = set(s.exec(select(Order.status)))
            jobs = set(s.exec(select(PrintJob.status)))
            shipments = set(s.exec(select(Shipment.status)))
    assert {"FAILED", "PARTIALLY_COMPLETED", "PROCESSING", "CANCELLED", "COMPLETED"} <= statuses  # every state shows
    assert {"QUEUED", "PRINTING", "COMPLETED", "FAILED"} <= jobs
    assert {"LABEL_CREATED", "IN_TRANSIT", "DELIVERED"} <= shipments  # labels made, and hand-shipped history
    assert _findings(tenant) == []


def test_the_check_names_every_contradiction(capsys):
    tenant = factories.make_tenant()
    with tenant_session(tenant.id) as s:
        failed = _order(s, tenant)
        line = s.exec(select(LineItem).where(LineItem.order_id == failed.id)).one()
        for i in range(3):
            s.add(
                PrintJob(
                    tenant_id=tenant.id,
                    order_id=failed.id,
                    line_item_id=line.id,
                    part_name="Body",
                    copy_number=i + 1,
                )
            )
        failed.total_parts, line.total_parts = 3, 3
        failed.status = "FAILED"  # the seen bug: FAILED while every job is queued
        done = _order(s, tenant, "LAMP")
        done.status = "COMPLETED"  # and a COMPLETED order with a PENDING line
        s.add_all([failed, line, done])
        s.commit()
        failed_number, done_number = failed.number, done.number
    found = _findings(tenant)
    assert f"order {failed_number}: is FAILED but none of its 3 print job(s) failed" in found
    assert f"order {done_number}, line LAMP: is PENDING but the order is COMPLETED" in found

    assert cli.main(["check", "--shop", tenant.slug]) == 1
    out = capsys.readouterr().out
    assert f"[printing] order {failed_number}: is FAILED" in out and "finding(s)" in out
    assert cli.main(["check", "--shop", "no-such-shop"]) == 2


def test_a_cancelled_order_s_build_is_stopped_and_the_check_agrees():
    tenant = factories.make_tenant()
    actor = factories.staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        order = _order(s, tenant, "PC")
        build = builds.create_build(s, order.id, actor=actor)
        builds.change_status(s, build.id, "in_progress", actor=actor)
        s.commit()
        orders.cancel(s, order.id, actor=actor)
        s.commit()
    assert _findings(tenant) == []
    with tenant_session(tenant.id) as s:  # what the check exists for: a build left behind
        b = s.exec(select(Build)).one()
        b.status = "in_progress"
        s.add(b)
        s.commit()
    assert any("is in_progress but its order is cancelled" in f for f in _findings(tenant))
