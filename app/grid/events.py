"""Grid event handlers. Each runs once per event (app.platform.events
records (event, handler) in the handler's own transaction) and is also
idempotent on its own.

- order.created: GenerateForOrder (a job per grid line, or its problem).
- grid.mapping-ready: printing makes the line's print jobs.

Published by this domain (payloads per seed 003):
- grid.mapping-ready   {orderId, lineItemId, sku}
- grid.pipeline-failed {orderId, lineItemId, sku, errorMessage, failedStep}
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.grid import service
from app.platform.events import handles


def _may_print(event: dict) -> bool:
    return event.get("source") != "builder"  # a PC order has no grid lines to generate


@handles("order.created", when=_may_print)
def generate_for_order(session: Session, event: dict) -> None:
    """The seed's order-service trigger: grid lines are generated (flag on)."""
    if _may_print(event):
        service.generate_for_order(session, uuid.UUID(event["orderId"]))


@handles(service.MAPPING_READY)
def create_print_jobs(session: Session, event: dict) -> None:
    """The plates are mapped: the normal print-job flow takes over for the line."""
    service.on_mapping_ready(session, uuid.UUID(event["orderId"]))
