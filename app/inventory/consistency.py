"""Inventory invariants an operator can run (`python -m app.cli check`):
every product's ledger sums to its stock, and no batch contradicts its jobs;
every PC part's on-hand entries sum to its units on hand, and its RESERVED -
RELEASED entries to what its reservations hold; every spare part's entries
sum to its units on the shelf."""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.catalog.models import CatalogPart, PartOffer
from app.inventory.models import (
    InventoryTransaction,
    PartReservation,
    SparePart,
    StockBatch,
    StockBatchJob,
    StockLevel,
)
from app.inventory.service import ON_HAND_TYPES
from app.platform.checks import Finding
from app.printing.models import PrintJob, ProductMapping


def ledger(session: Session) -> list[Finding]:
    signed = case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )
    sums = dict(
        session.exec(
            select(InventoryTransaction.product_mapping_id, func.sum(signed))
            .where(col(InventoryTransaction.product_mapping_id).is_not(None))
            .group_by(col(InventoryTransaction.product_mapping_id))
        ).all()
    )
    findings: list[Finding] = []
    for level, sku in session.exec(
        select(StockLevel, ProductMapping.sku).join(
            ProductMapping, col(ProductMapping.id) == StockLevel.product_mapping_id
        )
    ).all():
        total = int(sums.get(level.product_mapping_id) or 0)
        if total != level.current_stock:
            findings.append(
                Finding(
                    subject=sku,
                    problem=f"its ledger sums to {total} but {level.current_stock} are on the shelf",
                )
            )
    for batch, sku in session.exec(
        select(StockBatch, ProductMapping.sku)
        .join(ProductMapping, col(ProductMapping.id) == StockBatch.product_mapping_id)
        .where(StockBatch.status == "COMPLETED")
    ).all():
        done = session.exec(
            select(func.count())
            .select_from(PrintJob)
            .join(StockBatchJob, col(StockBatchJob.print_job_id) == PrintJob.id)
            .where(StockBatchJob.stock_batch_id == batch.id, PrintJob.status == "COMPLETED")
        ).one()
        if done < batch.total_jobs:
            findings.append(
                Finding(
                    subject=sku,
                    problem=f"a stock batch is completed with {done} of {batch.total_jobs} print(s) done",
                )
            )
    return findings + parts(session) + spare_parts(session)


def parts(session: Session) -> list[Finding]:
    """Per offer: Σ on-hand entries = units on hand; Σ RESERVED - Σ RELEASED =
    units its active and consumed reservations hold (so what is reserved now
    is exactly the sum of the ACTIVE reservations)."""
    signed = case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )
    on_hand = col(InventoryTransaction.transaction_type).in_(ON_HAND_TYPES)
    held = case(
        (col(InventoryTransaction.transaction_type) == "RESERVED", InventoryTransaction.quantity),
        (col(InventoryTransaction.transaction_type) == "RELEASED", -InventoryTransaction.quantity),
        else_=0,
    )
    sums = {
        offer_id: (int(a or 0), int(b or 0))
        for offer_id, a, b in session.exec(
            select(
                InventoryTransaction.part_offer_id,
                func.sum(case((on_hand, signed), else_=0)),
                func.sum(held),
            )
            .where(col(InventoryTransaction.part_offer_id).is_not(None))
            .group_by(col(InventoryTransaction.part_offer_id))
        ).all()
    }
    kept = dict(
        session.exec(
            select(PartReservation.part_offer_id, func.sum(PartReservation.quantity))
            .where(col(PartReservation.status).in_(("ACTIVE", "CONSUMED")))
            .group_by(col(PartReservation.part_offer_id))
        ).all()
    )
    findings: list[Finding] = []
    for offer, name in session.exec(
        select(PartOffer, CatalogPart.name).join(CatalogPart, col(CatalogPart.id) == PartOffer.part_id)
    ).all():
        total, reserved = sums.get(offer.id, (0, 0))
        if total != offer.stock:
            findings.append(Finding(subject=name, problem=f"its ledger sums to {total} but {offer.stock} are on hand"))
        expected = int(kept.get(offer.id) or 0)
        if reserved != expected:
            findings.append(
                Finding(
                    subject=name,
                    problem=f"its ledger reserved {reserved} but its reservations hold {expected}",
                )
            )
    return findings


def spare_parts(session: Session) -> list[Finding]:
    """Per spare part: Σ IN - Σ OUT of its entries = units on the shelf."""
    signed = case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )
    sums = dict(
        session.exec(
            select(InventoryTransaction.spare_part_id, func.sum(signed))
            .where(col(InventoryTransaction.spare_part_id).is_not(None))
            .group_by(col(InventoryTransaction.spare_part_id))
        ).all()
    )
    findings: list[Finding] = []
    for part in session.exec(select(SparePart)).all():
        total = int(sums.get(part.id) or 0)
        if total != part.current_stock:
            findings.append(
                Finding(
                    subject=part.sku,
                    problem=f"its ledger sums to {total} but {part.current_stock} are on the shelf",
                )
            )
    return findings
