"""Demo builds in every state, on the demo shop's PC orders."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from app.builds import service
from app.builds.models import Build
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.permissions import PERMISSIONS

PCS = [
    ("Noah Bakker", "Streaming PC (Ryzen 9 7900, RTX 4070 Ti)", "2190.00", ["in_progress"]),
    ("Emma Visser", "Compact ITX build (i5-14600K)", "1290.00", ["in_progress", "paused"]),
    ("Liam Smit", "Render workstation (RTX 4090)", "3890.00", ["in_progress", "testing", "failed"]),
    ("Mila Janssen", "Budget gamer (Ryzen 5 7600)", "899.00", []),
]


def load(session: Session) -> None:
    if session.exec(select(func.count()).select_from(Build)).one():
        return
    tid = session_tenant_id(session)
    actor = Principal(
        tenant_id=tid,
        tenant_name="",
        tenant_slug="",
        user_id=None,
        username="demo",
        display_name="Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )
    manual = list(session.exec(select(Order).where(Order.source == "manual").order_by(Order.number)))
    plans = [(manual[0], ["in_progress", "testing", "completed"]), (manual[1], ["in_progress", "testing"])]
    for name, item, price, steps in PCS:
        order, _ = orders.create_order(
            session,
            OrderInput(
                source="manual",
                customer_name=name,
                ship_name=name,
                ship_city="Utrecht",
                ship_country_code="NL",
                total=Decimal(price),
                subtotal=Decimal(price),
                lines=[LineInput(sku="PC-CUSTOM", title=item, quantity=1, unit_price=Decimal(price))],
            ),
        )
        plans.append((order, steps))
    for order, steps in plans:
        build = service.create_build(session, order.id, actor=actor)
        if "testing" in steps:
            service.update_qa(
                session,
                build.id,
                service.QAUpdate(
                    checklist=[
                        {"item": "All fans spin", "done": True},
                        {"item": "BIOS updated, XMP on", "done": True},
                        {"item": "Cables tied and tidy", "done": True},
                    ],
                    temperatures={"cpuIdle": 35, "cpuLoad": 79, "gpuIdle": 32, "gpuLoad": 70, "ambient": 21},
                    system_config={"OS": "Windows 11 Pro 24H2", "BIOS": "1.40"},
                ),
                actor=actor,
            )
            service.add_test_run(
                session, build.id, type="benchmark", status="passed", score=17890, notes="3DMark Time Spy", actor=actor
            )
            service.add_test_run(
                session, build.id, type="stress_test", status="passed", notes="OCCT 30 min, stable", actor=actor
            )
        for step in steps:
            if step == "completed":
                service.sign_off_qa(session, build.id, True, actor=actor)
            service.change_status(session, build.id, step, actor=actor)
    session.commit()
