"""Repair rows for tests, written straight into the tables (no service), so a
test of one repairs part does not depend on another part's service. Numbers
here are test numbers (T-…), not the shop's sequences."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Session

from app.platform.db import session_tenant_id
from app.repairs.models import DeviceModel, ExpectedBatch, RepairAsset, RepairClient


def _short() -> str:
    return uuid.uuid4().hex[:8]


def make_client(session: Session, name: str | None = None, **fields) -> RepairClient:
    client = RepairClient(
        tenant_id=session_tenant_id(session), name=name or f"Client {_short()}", currency="EUR", **fields
    )
    session.add(client)
    session.flush()
    return client


def make_device_model(session: Session, manufacturer: str = "Apple", model: str | None = None, **fields) -> DeviceModel:
    dm = DeviceModel(
        tenant_id=session_tenant_id(session),
        manufacturer=manufacturer,
        model=model or f"iPhone {_short()}",
        typical_value=fields.pop("typical_value", Decimal("300")),
        **fields,
    )
    session.add(dm)
    session.flush()
    return dm


def make_batch(session: Session, client: RepairClient | None = None, **fields) -> ExpectedBatch:
    client = client or make_client(session)
    batch = ExpectedBatch(
        tenant_id=session_tenant_id(session),
        number=f"T-B-{_short()}",
        client_id=client.id,
        client_reference=fields.pop("client_reference", f"PO-{_short()}"),
        expected_count=fields.pop("expected_count", 5),
        **fields,
    )
    session.add(batch)
    session.flush()
    return batch


def make_asset(
    session: Session, *, status: str = "received", batch: ExpectedBatch | None = None, **fields
) -> RepairAsset:
    """An asset already in `status` (no history: set straight in the table)."""
    batch = batch or make_batch(session)
    asset = RepairAsset(
        tenant_id=session_tenant_id(session),
        number=f"T-A-{_short()}",
        batch_id=batch.id,
        client_id=batch.client_id,
        imei=fields.pop("imei", str(350000000000000 + uuid.uuid4().int % 10**14)),
        status=status,
        **fields,
    )
    session.add(asset)
    session.flush()
    return asset
