"""The bell: a new order's notification names the order and its customer,
in the shop's money, links to it, and is announced on the shop's live
channel so open pages update without a reload."""

from __future__ import annotations

import json
import time
from decimal import Decimal

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import live, notifications
from app.platform.db import tenant_session
from app.platform.tasks import redis_conn
from tests.factories import make_tenant, make_user, staff_principal


def _new_order(tenant, customer: str = "Anna Schmidt", price: str = "1042.50"):
    with tenant_session(tenant.id) as s:
        order = orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name=customer,
                lines=[LineInput(sku="PC-1", title="Gaming PC", quantity=1, unit_price=Decimal(price))],
            ),
            actor=staff_principal(tenant),
        )
        s.commit()
        return order


def test_new_order_notification_names_the_order_and_links_to_it(worker):
    tenant = make_tenant()
    user = make_user(tenant, "operator")
    order = _new_order(tenant)
    worker()
    with tenant_session(tenant.id) as s:
        [n] = notifications.recent(s, user.id)
        assert n.title == f"New order {order.number} from Anna Schmidt"
        assert n.body == "€1,042.50"  # the shop's money, not "EUR 1042.50"
        assert n.link == f"/orders/{order.id}"
        assert notifications.unread_count(s, user.id) == 1


def test_cancelled_order_notification_names_the_order(worker):
    tenant = make_tenant()
    user = make_user(tenant, "operator")
    order = _new_order(tenant, "Ben Ohr")
    with tenant_session(tenant.id) as s:
        orders.cancel(s, order.id, actor=staff_principal(tenant), reason="customer")
        s.commit()
    worker()
    with tenant_session(tenant.id) as s:
        titles = [n.title for n in notifications.recent(s, user.id)]
    assert f"Order {order.number} from Ben Ohr cancelled" in titles


def test_a_new_notification_is_announced_on_the_shops_live_channel(worker):
    tenant = make_tenant()
    make_user(tenant, "operator")
    pubsub = redis_conn().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live.CHANNEL.format(tenant_id=tenant.id))
    try:
        _new_order(tenant)
        worker()
        kinds = set()
        deadline = time.time() + 5
        while time.time() < deadline and "notifications" not in kinds:
            msg = pubsub.get_message(timeout=0.5)
            if msg:
                kinds.add(json.loads(msg["data"])["kind"])
        assert "notifications" in kinds  # the bell's watcher reloads on this
    finally:
        pubsub.close()


def test_opening_a_notification_marks_only_ones_own_read(worker):
    tenant = make_tenant()
    me, colleague = make_user(tenant, "operator"), make_user(tenant, "operator")
    order = _new_order(tenant)
    worker()
    with tenant_session(tenant.id) as s:
        [mine] = notifications.recent(s, me.id)
        [theirs] = notifications.recent(s, colleague.id)
        assert notifications.mark_read(s, me.id, theirs.id) == ""  # not mine: nothing happens
        assert notifications.unread_count(s, colleague.id) == 1
        assert notifications.mark_read(s, me.id, mine.id) == f"/orders/{order.id}"
        assert notifications.unread_count(s, me.id) == 0
