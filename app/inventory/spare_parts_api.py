"""Spare parts REST API (issue 17): the shop's spare parts for repairs,
their deliveries and corrections, their ledger, and the units issued to a
repair worksheet and returned from it. Issuing and returning take an
Idempotency-Key header: the same request sent again (a retry after a lost
answer) answers with the entry the first one wrote and moves nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, StringConstraints

from app.inventory import service
from app.inventory.models import InventoryTransaction, SparePart
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require

router = APIRouter(tags=["inventory"])
MAX_SEARCH = 200
MAX_UNITS = 100_000
Model = Annotated[str, StringConstraints(max_length=100)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)]


# --- JSON shapes ------------------------------------------------------------------------------


def spare_part_json(p: SparePart) -> dict:
    return {
        "id": str(p.id),
        "sku": p.sku,
        "name": p.name,
        "manufacturer": p.manufacturer or None,
        "category": p.category,
        "compatibleModels": list(p.compatible_models or []),
        "unitCost": str(p.unit_cost),
        "currentStock": p.current_stock,
        "minimumStock": p.minimum_stock,
        "status": service.spare_status(p),
        "location": p.location or None,
        "active": p.active,
        "version": p.version,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
    }


def entry_json(t: InventoryTransaction) -> dict:
    return {
        "id": str(t.id),
        "sparePartId": str(t.spare_part_id) if t.spare_part_id else None,
        "sku": t.sku,
        "transactionType": t.transaction_type,
        "quantity": t.quantity,
        "direction": t.direction,
        "referenceType": t.reference_type,
        "referenceId": t.reference_id or None,
        "worksheetId": t.reference_id if t.reference_type == "WORKSHEET" else None,
        "reason": t.reason,
        "stockAfter": t.stock_after,
        "actorUserId": str(t.actor_user_id) if t.actor_user_id else None,
        "idempotencyKey": t.idempotency_key,
        "createdAt": t.created_at,
    }


# --- bodies -------------------------------------------------------------------------------------


class SparePartBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    manufacturer: str = Field("", max_length=100)
    category: str = Field("other", max_length=40)
    compatibleModels: list[Model] = Field(default_factory=list, max_length=50)
    unitCost: Decimal = Field(Decimal("0"), ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    minimumStock: int = Field(0, ge=0, le=MAX_UNITS)
    location: str = Field("", max_length=100)
    active: bool = True

    def data(self, stock: int | None = None) -> service.SparePartData:
        return service.SparePartData(
            sku=self.sku,
            name=self.name,
            manufacturer=self.manufacturer,
            category=self.category,
            compatible_models=self.compatibleModels,
            unit_cost=self.unitCost,
            minimum_stock=self.minimumStock,
            location=self.location,
            active=self.active,
            stock=stock,
        )


class CreateBody(SparePartBody):
    currentStock: int = Field(0, ge=0, le=MAX_UNITS)  # the opening stock (a RECEIVED entry)


class UpdateBody(SparePartBody):
    version: int | None = Field(None, ge=0)  # the version the edit was made on (refused when it moved)


class ReceiveBody(BaseModel):
    quantity: int = Field(ge=1, le=MAX_UNITS)
    reason: str = Field("", max_length=500)


class AdjustBody(BaseModel):
    delta: int = Field(ge=-MAX_UNITS, le=MAX_UNITS)  # units in (positive) or out (negative), not 0
    reason: str = Field(min_length=1, max_length=500)


class WorksheetBody(BaseModel):
    quantity: int = Field(ge=1, le=MAX_UNITS)
    worksheetId: uuid.UUID


# --- routes -------------------------------------------------------------------------------------


@router.get("/inventory/spare-parts")
def list_spare_parts(
    principal: Principal = Depends(require("inventory.read")),
    search: str = Query("", max_length=MAX_SEARCH),
    category: str = Query("", max_length=40),
    status: Literal["", "low", "out", "ok"] = "",
    active: bool | None = None,
    sort: Literal["sku", "name", "category", "stock", "minimum", "cost", "updated"] = "sku",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Spare parts, searched by SKU, name, maker or compatible model; `status=low`: below their minimum."""
    f = service.SparePartFilter(
        search=search,
        category=category,
        status=status,
        active=active,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_spare_parts(s, f)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "spareParts": [spare_part_json(p) for p in rows],
        }


@router.post("/inventory/spare-parts", status_code=201)
def create_spare_part(body: CreateBody, principal: Principal = Depends(require("inventory.write"))) -> dict:
    """A new spare part (409 when the SKU is taken); `currentStock` opens its ledger."""
    with tenant_session(principal.tenant_id) as s:
        part = service.create_spare_part(s, body.data(stock=body.currentStock), actor=principal)
        s.commit()
        return spare_part_json(part)


@router.get("/inventory/spare-parts/{part_id}")
def get_spare_part(part_id: uuid.UUID, principal: Principal = Depends(require("inventory.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return spare_part_json(service.get_spare_part(s, part_id))


@router.put("/inventory/spare-parts/{part_id}")
def update_spare_part(
    part_id: uuid.UUID, body: UpdateBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    """Edit a part's fields (its stock moves only through receive, adjust, issue and return);
    409 when `version` is given and someone changed the part meanwhile."""
    with tenant_session(principal.tenant_id) as s:
        part = service.update_spare_part(s, part_id, body.data(), actor=principal, version=body.version)
        s.commit()
        return spare_part_json(part)


@router.post("/inventory/spare-parts/{part_id}/receive", status_code=201)
def receive_spare_part(
    part_id: uuid.UUID, body: ReceiveBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    """Units delivered onto the shelf (RECEIVED)."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.receive_spare_part(s, part_id, body.quantity, actor=principal, reason=body.reason)
        s.commit()
        return {"transaction": entry_json(entry), "sparePart": spare_part_json(service.get_spare_part(s, part_id))}


@router.post("/inventory/spare-parts/{part_id}/adjust", status_code=201)
def adjust_spare_part(
    part_id: uuid.UUID, body: AdjustBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    """A correction by hand with a reason (409 when more would leave than are on the shelf)."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.adjust_spare_part(s, part_id, body.delta, actor=principal, reason=body.reason)
        s.commit()
        return {"transaction": entry_json(entry), "sparePart": spare_part_json(service.get_spare_part(s, part_id))}


@router.get("/inventory/spare-parts/{part_id}/transactions")
def spare_part_transactions(
    part_id: uuid.UUID,
    principal: Principal = Depends(require("inventory.read")),
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The part's ledger, newest first, paged."""
    with tenant_session(principal.tenant_id) as s:
        part = service.get_spare_part(s, part_id)
        rows = service.spare_part_ledger(s, part.id, page_size, offset=page * page_size)
        return {
            "total": service.spare_part_ledger_count(s, part.id),
            "page": page,
            "pageSize": page_size,
            "sparePart": spare_part_json(part),
            "transactions": [entry_json(t) for t in rows],
        }


@router.post("/inventory/spare-parts/{part_id}/issue", status_code=201)
def issue_spare_part(
    part_id: uuid.UUID,
    body: WorksheetBody,
    idempotency_key: IdempotencyKey,
    principal: Principal = Depends(require("inventory.write")),
) -> dict:
    """Units taken to a repair worksheet (409 when fewer are in stock). The
    same Idempotency-Key again answers with the first entry."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.issue_spare_part(
            s,
            part_id,
            body.quantity,
            worksheet_id=body.worksheetId,
            idempotency_key=idempotency_key,
            actor=principal,
        )
        s.commit()
        return {"transaction": entry_json(entry), "sparePart": spare_part_json(service.get_spare_part(s, part_id))}


@router.post("/inventory/spare-parts/{part_id}/return", status_code=201)
def return_spare_part(
    part_id: uuid.UUID,
    body: WorksheetBody,
    idempotency_key: IdempotencyKey,
    principal: Principal = Depends(require("inventory.write")),
) -> dict:
    """Units a worksheet did not use back on the shelf (409 when more than it
    holds). The same Idempotency-Key again answers with the first entry."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.return_spare_part(
            s,
            part_id,
            body.quantity,
            worksheet_id=body.worksheetId,
            idempotency_key=idempotency_key,
            actor=principal,
        )
        s.commit()
        return {"transaction": entry_json(entry), "sparePart": spare_part_json(service.get_spare_part(s, part_id))}


@router.get("/inventory/worksheets/{worksheet_id}/spare-parts")
def worksheet_spare_parts(worksheet_id: uuid.UUID, principal: Principal = Depends(require("inventory.read"))) -> dict:
    """The spare parts a worksheet holds: issued, returned, used and their cost."""
    with tenant_session(principal.tenant_id) as s:
        rows = service.issued_to_worksheet(s, worksheet_id)
        return {
            "worksheetId": str(worksheet_id),
            "spareParts": [
                {
                    "sparePart": spare_part_json(r.part),
                    "issued": r.issued,
                    "returned": r.returned,
                    "used": r.used,
                    "unitCost": str(r.unit_cost),
                    "cost": str(r.cost),
                }
                for r in rows
            ],
            "totalCost": str(sum((r.cost for r in rows), Decimal("0.00"))),
        }
