"""Demo Gridfinity for `make dev`, all through the real services (manual
mode: the demo farm has no SimplyPrint connection):

- the feature is on, with prices, the Bambu Lab A1 profile and two presets
  of the shop's own (one public, one private);
- an order for a 126 × 84 mm drawer went through the whole pipeline here
  and now (one small plate, generated and sliced by PrusaSlicer in a few
  seconds): mapped, with its print job;
- an order whose plates were to be sliced for a printer with too low a
  build height (6 mm; press-fit magnets make the plate 8.15 mm tall) failed
  at slicing with the slicer's own words; the retry queue tries it again
  and then asks a person;
- a staff job for a 371 × 254 mm drawer with magnets is queued: the worker
  of `make dev` generates and slices it (a minute or two), live on /grid;
- a staff job for the 126 × 84 mm plate (the cache had it: nothing sliced
  again) was left unused past the expiry hours and the cleanup expired it.

Idempotent: a shop with any grid job has its demo (or its own jobs) and is
left alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from app.grid import service
from app.grid.models import GridJob
from app.grid.service import pipeline
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import LineItem, Order
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.models import User
from app.platform.permissions import PERMISSIONS
from app.printing import service as printing

SMALL = {"drawer_width_mm": 126.0, "drawer_depth_mm": 84.0, "magnets": "none", "connector": "none"}


def _actor(session: Session) -> Principal:
    user = session.exec(select(User).where(User.username == "admin")).first()
    return Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=user.id if user else None,
        username=user.username if user else "demo",
        display_name=(user.display_name or user.username) if user else "Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )


def _order(session: Session, name: str, options: dict, price: Decimal) -> Order:
    """A manual order with one grid line, as a storefront order makes it."""
    sku, properties = service.line_for(service.grid_settings(session).options(**options))
    order, _ = orders.create_order(
        session,
        OrderInput(
            source="manual",
            lines=[
                LineInput(sku=sku, title="Gridfinity baseplate", quantity=1, unit_price=price, properties=properties)
            ],
            customer_name=name,
            customer_email=f"{name.split()[0].lower()}@example.com",
            currency=service.grid_settings(session).currency,
            subtotal=price,
            total=price,
            note="Demo: a Gridfinity baseplate",
            ship_name=name,
            ship_street="Prinsengracht",
            ship_house_number="263",
            ship_postal_code="1016 GV",
            ship_city="Amsterdam",
            ship_country_code="NL",
        ),
    )
    session.flush()
    return order


def load(session: Session) -> None:
    if session.exec(select(GridJob.id).limit(1)).first() is not None:
        return
    tid = session_tenant_id(session)
    admin = _actor(session)
    settings = service.grid_settings(session)
    settings.enabled = True
    settings.base_price, settings.unit_price = Decimal("4.50"), Decimal("0.35")
    settings.print_settings = {"printer": "bambu-a1"}
    settings.expiry_hours = 72
    service.save_grid_settings(session, settings, actor=admin)
    service.save_preset(
        session,
        name="Demo Shop: desk drawer",
        description="The drawers of the desks we sell: 320 × 240 mm, magnets.",
        parameters={"drawer_width_mm": 320, "drawer_depth_mm": 240, "magnets": "press-fit"},
        is_public=True,
        actor=admin,
    )
    service.save_preset(
        session,
        name="Workshop tool drawer",
        description="Our own workshop's tool chest.",
        parameters={"drawer_width_mm": 560, "drawer_depth_mm": 400, "connector": "edge-puzzle"},
        actor=admin,
    )
    session.commit()

    # 1. an order through the whole pipeline, here and now (one small plate)
    small = service.grid_settings(session).options(**SMALL)
    done = _order(session, "Margaret Hamilton", SMALL, service.quote_for(session, small).price)
    (outcome,) = service.generate_for_order(session, done.id)
    session.commit()
    assert outcome.job_id is not None
    service.run(tid, outcome.job_id)
    session.expire_all()
    printing.create_jobs_for_order(session, done.id)  # what the grid.mapping-ready handler does
    session.commit()

    # 2. an order that failed at slicing: its printer builds only 6 mm high
    magnets = {**SMALL, "magnets": "press-fit"}
    failing = _order(session, "Katherine Johnson", magnets, service.quote_for(session, small).price)
    line = session.exec(select(LineItem).where(LineItem.order_id == failing.id)).one()
    low = replace(settings.profile(), name="Low enclosure printer", max_height_mm=6.0)
    options = pipeline.on_bed(service.grid_settings(session).options(**magnets), low)
    job = pipeline.new_job(
        session, options, low, origin="order", settings=service.grid_settings(session), order=failing, line=line
    )
    session.commit()
    service.run(tid, job.id)
    session.expire_all()

    # 3. a staff job the worker generates and slices (queued now)
    big = service.grid_settings(session).options(drawer_width_mm=371, drawer_depth_mm=254, magnets="press-fit")
    service.start_job(session, big, actor=admin)

    # 4. a staff job left unused past the expiry hours (the cache had its plate)
    unused = service.start_job(session, small, actor=admin)
    session.commit()
    service.run(tid, unused.id)
    session.expire_all()
    stale = session.get(GridJob, unused.id)
    if stale is not None:
        stale.created_at -= timedelta(hours=settings.expiry_hours + 1)
        stale.expires_at = stale.created_at + timedelta(hours=settings.expiry_hours)
        session.add(stale)
        session.flush()
        service.expire_unused(session)
    session.commit()
