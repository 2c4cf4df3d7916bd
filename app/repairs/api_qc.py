"""Repairs REST API: the QC workbench — the triage queue and triage, the
repair codes a triage may record, BER reviews (open, estimate, decide) and the
workbench's counts. Reading needs `repairs.read`, changing `repairs.write`."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require
from app.repairs.models import BerReview, RepairAsset
from app.repairs.service import qc

router = APIRouter(tags=["repairs"])
MAX_SEARCH = 200
READ, WRITE = qc.READ, qc.WRITE


# --- JSON shapes ------------------------------------------------------------------------------


def triage_row_json(r: qc.TriageRow) -> dict:
    return {
        "id": str(r.id),
        "number": r.number,
        "status": r.status,
        "client": r.client,
        "batchNumber": r.batch,
        "clientReference": r.client_reference,
        "device": r.device,
        "imei": r.imei,
        "serial": r.serial,
        "variant": r.variant,
        "condition": r.condition,
        "fault": r.fault,
        "notOnBatch": r.not_on_batch,
        "receivedAt": r.received_at,
        "knownCodes": r.known_codes,
    }


def ber_row_json(r: qc.BerRow) -> dict:
    return {
        "id": str(r.id),
        "assetId": str(r.asset_id),
        "assetNumber": r.asset_number,
        "client": r.client,
        "device": r.device,
        "imei": r.imei,
        "serial": r.serial,
        "triageNotes": r.triage_notes,
        "estimatedParts": str(r.estimated_parts),
        "estimatedLabour": str(r.estimated_labour),
        "estimatedCost": str(r.cost),
        "assetValue": str(r.asset_value),
        "thresholdPercent": r.threshold_percent,
        "costPercent": str(r.cost_percent),
        "beyondEconomicRepair": r.over_threshold,
        "currency": r.currency,
        "requestedBy": r.requested_by,
        "createdAt": r.created_at,
        "decision": r.decision or None,
        "notes": r.notes,
        "decidedBy": r.decided_by or None,
        "decidedAt": r.decided_at,
    }


def asset_json(a: RepairAsset) -> dict:
    return {
        "id": str(a.id),
        "number": a.number,
        "status": a.status,
        "triageResult": a.triage_result or None,
        "triageNotes": a.triage_notes,
        "triagedBy": a.triaged_by_name or None,
        "triagedAt": a.triaged_at,
    }


# --- queues and counts --------------------------------------------------------------------------


@router.get("/repairs/qc/counts")
def counts(principal: Principal = Depends(require(READ))) -> dict:
    """Assets waiting for triage, open BER reviews, and those beyond economic repair."""
    with tenant_session(principal.tenant_id) as s:
        c = qc.qc_counts(s)
        return {"triage": c["triage"], "berReview": c["ber"], "beyondEconomicRepair": c["over_threshold"]}


@router.get("/repairs/qc/triage")
def triage_queue(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Assets received or in triage, oldest first."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = qc.triage_queue(s, qc.QueueFilter(search=search, page=page, page_size=page_size))
        return {"total": total, "page": page, "pageSize": page_size, "assets": [triage_row_json(r) for r in rows]}


@router.get("/repairs/qc/repair-codes")
def repair_codes(principal: Principal = Depends(require(READ)), search: str = Query("", max_length=MAX_SEARCH)) -> dict:
    """The repair codes a triage may record: canonical and the shop's own, in use."""
    with tenant_session(principal.tenant_id) as s:
        return {
            "codes": [
                {"id": str(c.id), "code": c.code, "name": c.name, "category": c.category, "canonical": c.canonical}
                for c in qc.triage_codes(s, search)
            ]
        }


@router.get("/repairs/qc/ber-reviews")
def ber_queue(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Open BER reviews with their figures, oldest first."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = qc.ber_queue(s, qc.QueueFilter(search=search, page=page, page_size=page_size))
        return {"total": total, "page": page, "pageSize": page_size, "reviews": [ber_row_json(r) for r in rows]}


# --- triage -------------------------------------------------------------------------------------


class TriageBody(BaseModel):
    result: Literal["repairable", "ber_suspected", "no_fault", "unrepairable"]
    repairCodeIds: list[uuid.UUID] = Field(default_factory=list, max_length=qc.MAX_CODES)
    notes: str = Field("", max_length=2000)
    awaitingParts: bool = False
    # when the result is ber_suspected: the review's first estimate (optional)
    estimatedParts: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    estimatedLabour: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    assetValue: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


def _with_review(s, asset: RepairAsset) -> dict:
    review = qc.open_review_for(s, asset.id)
    return {"asset": asset_json(asset), "berReview": ber_row_json(qc.ber_row(s, review.id)) if review else None}


@router.post("/repairs/assets/{asset_id}/triage")
def triage(asset_id: uuid.UUID, body: TriageBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Triage an asset: its result, the repair codes found and notes; the asset
    moves on (409 when it is no longer in triage)."""
    with tenant_session(principal.tenant_id) as s:
        asset = qc.triage(
            s,
            asset_id,
            result=body.result,
            repair_code_ids=list(body.repairCodeIds),
            notes=body.notes,
            awaiting_parts=body.awaitingParts,
            estimated_parts=body.estimatedParts,
            estimated_labour=body.estimatedLabour,
            asset_value=body.assetValue,
            actor=principal,
        )
        s.commit()
        return _with_review(s, asset)


# --- BER reviews --------------------------------------------------------------------------------


class EstimateBody(BaseModel):
    estimatedParts: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    estimatedLabour: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    assetValue: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


@router.post("/repairs/assets/{asset_id}/ber-review", status_code=201)
def open_review(asset_id: uuid.UUID, body: EstimateBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Open a BER review of an asset in triage or repair, or estimate its open review again."""
    with tenant_session(principal.tenant_id) as s:
        review: BerReview = qc.open_ber_review(
            s,
            asset_id,
            estimated_parts=body.estimatedParts,
            estimated_labour=body.estimatedLabour,
            asset_value=body.assetValue,
            actor=principal,
        )
        s.commit()
        return ber_row_json(qc.ber_row(s, review.id))


@router.get("/repairs/ber-reviews/{review_id}")
def get_review(review_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return ber_row_json(qc.ber_row(s, review_id))


class DecisionBody(BaseModel):
    decision: Literal["repair", "return_unrepaired", "scrap"]
    notes: str = Field("", max_length=2000)


@router.post("/repairs/ber-reviews/{review_id}/decision")
def decide(review_id: uuid.UUID, body: DecisionBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Decide a review (409 when it was decided already; 422 to repair over
    the threshold without a reason)."""
    with tenant_session(principal.tenant_id) as s:
        review = qc.decide_ber(s, review_id, decision=body.decision, notes=body.notes, actor=principal)
        s.commit()
        return ber_row_json(qc.ber_row(s, review.id))
