"""The repairs demo (issue 17): loaded through the real services into a fresh
shop it shows a batch half received, assets in every state, codes waiting in
the unmapped queue, a finalized dispatch with a sent invoice, 30 days of
snapshots, and nothing the invariant checks object to; loading it again adds
nothing."""

from __future__ import annotations

from sqlmodel import func, select

from app import domains
from app.inventory import demo as inventory_demo
from app.platform.db import tenant_session
from app.repairs import demo, machine
from app.repairs.models import (
    AssetStatusChange,
    DailyMetricsSnapshot,
    ExpectedBatch,
    RepairAsset,
    RepairDispatch,
    RepairInvoice,
)
from app.repairs.service import diagnostics
from tests.factories import make_tenant


def test_the_demo_shows_every_part_of_the_repair_line_and_loads_once():
    tenant = make_tenant("Repairs Demo Shop")
    with tenant_session(tenant.id) as s:
        inventory_demo.load(s)  # the spare parts come with inventory's demo
        demo.load(s)
    with tenant_session(tenant.id) as s:
        statuses = set(s.exec(select(RepairAsset.status)).all())
        wanted = set(machine.ASSET_STATUSES)
        assert wanted <= statuses, f"missing: {wanted - statuses}"
        school = s.exec(select(ExpectedBatch).where(ExpectedBatch.client_reference == "RVSD-TAB-0412")).one()
        assert school.status == "receiving" and 0 < school.received_count < school.expected_count
        assert school.flagged_count == 1
        assert diagnostics.unmapped_count(s) >= 3
        dispatches = s.exec(select(RepairDispatch).where(RepairDispatch.status == "finalized")).all()
        invoices = [s.get(RepairInvoice, d.invoice_id) for d in dispatches]
        sent = [i for i in invoices if i is not None and i.status == "sent"]
        assert len(sent) == 1 and sent[0].number.startswith("INV-") and sent[0].total > 0
        days = s.exec(select(func.count()).select_from(DailyMetricsSnapshot)).one()
        assert days == 30
        assert sum(s.exec(select(DailyMetricsSnapshot.received)).all()) >= 17
        # every asset's status is its history's last step
        for asset in s.exec(select(RepairAsset)).all():
            last = s.exec(
                select(AssetStatusChange)
                .where(AssetStatusChange.asset_id == asset.id)
                .order_by(AssetStatusChange.changed_at.desc())  # type: ignore[attr-defined]
            ).first()
            assert last is not None and last.to_status == asset.status, asset.number
        for name, check in domains.checks():
            if name == "repairs":
                assert check(s) == []
        assets = s.exec(select(func.count()).select_from(RepairAsset)).one()
    with tenant_session(tenant.id) as s:
        demo.load(s)
        assert s.exec(select(func.count()).select_from(RepairAsset)).one() == assets
