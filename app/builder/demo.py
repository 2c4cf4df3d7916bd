"""Demo storefront customer: saved builds (one shared, one with a block) and a
builder order on the staff orders page. Needs the demo price list first."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from app.builder import evaluation
from app.builder import service as builder
from app.builds import service as builds
from app.customers import service as customers
from app.customers.models import Customer
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.permissions import PERMISSIONS

DEMO_CUSTOMER = ("sam@demo-shop.example", "Sam de Vries", "shopfloor-customer")
ORDER_FROM = ("cpu", "motherboard", "ram", "storage", "gpu", "case", "cooler", "psu")
ADDRESS = {
    "name": "Sam de Vries",
    "street": "Oudegracht",
    "house_number": "42",
    "postal_code": "3511 AR",
    "city": "Utrecht",
    "country_code": "NL",
}


def _mid_range(session: Session) -> dict[str, list[str]]:
    """A complete build of compatible parts, each from the middle of the
    cheapest fifty the compatible-only picker lists for its slot."""
    slots: dict[str, list[str]] = {}
    for slot in ORDER_FROM:
        items = evaluation.pick_list(session, slots, slot, page_size=50).items
        if items:
            slots[slot] = [items[len(items) // 2].part_id]
    return slots


def _with_too_long_gpu(session: Session, slots: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same build with the first GPU that does not fit its case."""
    for page in range(20):
        listing = evaluation.pick_list(session, slots, "gpu", compatible_only=False, sort="price_desc", page=page)
        blocked = [it for it in listing.items if not it.compatible]
        if blocked:
            return {**slots, "gpu": [blocked[0].part_id]}
        if not listing.items:
            break
    return slots


def load(session: Session) -> None:
    email, name, password = DEMO_CUSTOMER
    if session.exec(select(Customer.id).where(Customer.email == email)).first() is not None:
        return
    customer = customers.sign_up(session, email=email, name=name, password=password)
    good = _mid_range(session)
    if len(good) < len(ORDER_FROM):
        return  # no demo prices to build from
    rig = builder.save_build(session, customer, good, "Living-room gaming rig")
    builder.share(session, customer, rig.id)
    builder.save_build(session, customer, _with_too_long_gpu(session, good), "Same, with the big GPU")
    session.flush()
    order = builder.order_build(session, customer, rig.id, ADDRESS)
    session.flush()
    _start_building(session, order.id)
    session.commit()


def _start_building(session: Session, order_id: uuid.UUID) -> None:
    """Sam's PC is on the workbench, assembled and in its first tests, so
    My orders and the page behind the booklet's QR code show a build's progress."""
    actor = Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=None,
        username="demo",
        display_name="Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )
    build = builds.create_build(session, order_id, actor=actor)
    builds.change_status(session, build.id, "in_progress", actor=actor)
    builds.add_step(session, build.id, "assembly", "Cables tied and routed", actor=actor)
    builds.update_qa(
        session,
        build.id,
        builds.QAUpdate(temperatures={"cpuIdle": 34, "cpuLoad": 77, "gpuIdle": 31, "gpuLoad": 68, "ambient": 21}),
        actor=actor,
    )
    builds.add_test_run(
        session, build.id, type="benchmark", status="passed", score=14210, notes="3DMark Time Spy", actor=actor
    )
    builds.change_status(session, build.id, "testing", actor=actor)
