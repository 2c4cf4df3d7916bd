"""Inventory REST API: the seed's eight /inventory endpoints with their
permissions, plus stock batches on demand ("Print for stock"), an
evaluation on demand, and the scheduler's settings (admins)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.inventory import service
from app.inventory.models import InventoryTransaction, ReplenishmentRun
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.formatting import of_tenant
from app.platform.web import require

router = APIRouter(tags=["inventory"])
MAX_SEARCH = 200


# --- JSON shapes ------------------------------------------------------------------------------


def stock_json(r: service.StockRow) -> dict:
    return {
        "id": str(r.mapping_id),
        "productMappingId": str(r.mapping_id),
        "sku": r.sku,
        "name": r.name,
        "active": r.active,
        "currentStock": r.current,
        "minimumStock": r.minimum,
        "maximumStock": r.maximum,
        "replenishmentPriority": r.priority,
        "replenishmentBatchSize": r.batch_size,
        "pendingBatches": r.pending,
        "status": r.status,
        "updatedAt": r.updated_at,
    }


def transaction_json(t: InventoryTransaction) -> dict:
    return {
        "id": str(t.id),
        "productMappingId": str(t.product_mapping_id) if t.product_mapping_id else None,
        "partOfferId": str(t.part_offer_id) if t.part_offer_id else None,
        "sku": t.sku,
        "transactionType": t.transaction_type,
        "quantity": t.quantity,
        "direction": t.direction,
        "referenceType": t.reference_type,
        "referenceId": t.reference_id or None,
        "orderId": str(t.order_id) if t.order_id else None,
        "lineItemId": str(t.line_item_id) if t.line_item_id else None,
        "reason": t.reason,
        "stockAfter": t.stock_after,
        "actorUserId": str(t.actor_user_id) if t.actor_user_id else None,
        "createdAt": t.created_at,
    }


def batch_json(b: service.BatchRow) -> dict:
    return {
        "id": str(b.id),
        "productMappingId": str(b.mapping_id),
        "sku": b.sku,
        "name": b.name,
        "status": b.status,
        "totalJobs": b.total_jobs,
        "completedJobs": b.completed_jobs,
        "origin": b.origin,
        "error": b.error or None,
        "createdAt": b.created_at,
        "finishedAt": b.finished_at,
    }


def run_json(r: ReplenishmentRun | None) -> dict | None:
    if r is None:
        return None
    return {
        "ranAt": r.ran_at,
        "trigger": r.trigger,
        "planned": r.planned,
        "batchesCreated": r.batches_created,
        "summary": r.summary,
        "conditions": r.reasons,
        "products": r.products,
        "durationMs": r.duration_ms,
    }


def settings_json(s: service.ReplenishmentSettings) -> dict:
    return {
        "enabled": s.enabled,
        "allowedHours": {"start": s.start_hour, "end": s.end_hour, "words": s.hours_words()},
        "allowedDays": s.days,
        "allowedDaysWords": s.days_words(),
        "orderQueueThreshold": s.order_queue_threshold,
        "maxConcurrentStockJobs": s.max_concurrent_stock_jobs,
        "intervalMinutes": s.interval_minutes,
    }


# --- stock ------------------------------------------------------------------------------------


@router.get("/inventory/stock")
def list_stock(
    principal: Principal = Depends(require("inventory.read")),
    search: str = Query("", max_length=MAX_SEARCH),
    status: Literal["", "low", "ok", "over"] = "",
    sort: Literal["sku", "name", "current", "minimum", "priority"] = "sku",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Stock levels of every product mapping (seed: managed products)."""
    f = service.StockFilter(
        search=search, status=status, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_stock(s, f)
        return {"total": total, "page": page, "pageSize": page_size, "stock": [stock_json(r) for r in rows]}


class ConfigBody(BaseModel):
    minimumStock: int = Field(0, ge=0, le=100_000)
    maximumStock: int | None = Field(None, ge=1, le=100_000)
    replenishmentPriority: int = Field(0, ge=-1000, le=1000)
    replenishmentBatchSize: int = Field(1, ge=1, le=100)


def _row(s, mapping_id: uuid.UUID) -> dict:
    level = service.level_for(s, mapping_id)
    return {
        "id": str(mapping_id),
        "productMappingId": str(mapping_id),
        "currentStock": level.current_stock,
        "minimumStock": level.minimum_stock,
        "maximumStock": level.maximum_stock,
        "replenishmentPriority": level.replenishment_priority,
        "replenishmentBatchSize": level.replenishment_batch_size,
        "status": service.stock_status(level),
        "updatedAt": level.updated_at,
    }


@router.put("/inventory/stock/{mapping_id}/config")
def configure(
    mapping_id: uuid.UUID, body: ConfigBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.configure(
            s,
            mapping_id,
            service.StockConfig(
                minimum_stock=body.minimumStock,
                maximum_stock=body.maximumStock,
                replenishment_priority=body.replenishmentPriority,
                replenishment_batch_size=body.replenishmentBatchSize,
            ),
            actor=principal,
        )
        s.commit()
        return _row(s, mapping_id)


class AdjustBody(BaseModel):
    quantity: int = Field(ge=1, le=100_000)
    direction: Literal["IN", "OUT"]
    reason: str = Field(min_length=1, max_length=500)


@router.post("/inventory/stock/{mapping_id}/adjust", status_code=201)
def adjust(mapping_id: uuid.UUID, body: AdjustBody, principal: Principal = Depends(require("inventory.write"))) -> dict:
    """Manual adjustment, in or out, with a reason (409 when more would leave than is on the shelf)."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.adjust(s, mapping_id, body.quantity, body.direction, body.reason, actor=principal)
        s.commit()
        return {"transaction": transaction_json(entry), "stock": _row(s, mapping_id)}


class ScrapBody(BaseModel):
    quantity: int = Field(ge=1, le=100_000)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/inventory/stock/{mapping_id}/scrap", status_code=201)
def scrap(mapping_id: uuid.UUID, body: ScrapBody, principal: Principal = Depends(require("inventory.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        entry = service.scrap(s, mapping_id, body.quantity, body.reason, actor=principal)
        s.commit()
        return {"transaction": transaction_json(entry), "stock": _row(s, mapping_id)}


@router.get("/inventory/stock/{mapping_id}/transactions")
def transactions(
    mapping_id: uuid.UUID,
    principal: Principal = Depends(require("inventory.read")),
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The product's ledger, newest first, paged."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.ledger(s, mapping_id, page=page, page_size=page_size)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "transactions": [transaction_json(t) for t in rows],
        }


class BatchesBody(BaseModel):
    quantity: int = Field(1, ge=1, le=100)


@router.post("/inventory/stock/{mapping_id}/batches", status_code=201)
def create_batches(
    mapping_id: uuid.UUID, body: BatchesBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    """Print `quantity` units for stock now: one batch each, queued behind every order."""
    with tenant_session(principal.tenant_id) as s:
        batches = service.create_batches(s, mapping_id, body.quantity, actor=principal)
        s.commit()
        ids = {b.id for b in batches}
        rows, _ = service.list_batches(s, status="", mapping_id=mapping_id, page_size=200)
        return {"batches": [batch_json(r) for r in rows if r.id in ids]}


# --- replenishment ---------------------------------------------------------------------------


@router.get("/inventory/replenishment/status")
def replenishment_status(principal: Principal = Depends(require("inventory.read"))) -> dict:
    """Why the scheduler did or did not plan at its last run, and when it runs next."""
    with tenant_session(principal.tenant_id) as s:
        settings = service.read_settings(s)
        return {
            "stockManagementEnabled": service.stock_enabled(s),
            "settings": settings_json(settings),
            "lastRun": run_json(service.last_run(s)),
            "nextRunAt": service.next_run_at(s),
            "timezone": of_tenant(principal.tenant_id).timezone,
        }


@router.post("/inventory/replenishment/run")
def run_now(principal: Principal = Depends(require("inventory.write"))) -> dict:
    """Evaluate now (the same six conditions as the schedule)."""
    with tenant_session(principal.tenant_id) as s:
        run = service.evaluate(s, trigger="manual")
        s.commit()
        return {"run": run_json(run), "busy": run is None}


class SettingsBody(BaseModel):
    enabled: bool = False
    startHour: int = Field(22, ge=0, le=23)
    endHour: int = Field(6, ge=0, le=23)
    allowedDays: list[int] = Field(default_factory=lambda: list(range(7)), min_length=1, max_length=7)
    orderQueueThreshold: int = Field(10, ge=1, le=10_000)
    maxConcurrentStockJobs: int = Field(5, ge=1, le=1000)
    intervalMinutes: int = Field(15, ge=1, le=1440)


@router.put("/inventory/replenishment/settings")
def save_settings(body: SettingsBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        saved = service.save_settings(
            s,
            service.ReplenishmentSettings(
                enabled=body.enabled,
                start_hour=body.startHour,
                end_hour=body.endHour,
                days=body.allowedDays,
                order_queue_threshold=body.orderQueueThreshold,
                max_concurrent_stock_jobs=body.maxConcurrentStockJobs,
                interval_minutes=body.intervalMinutes,
            ),
            actor=principal,
        )
        s.commit()
        return settings_json(saved)


# --- batches ---------------------------------------------------------------------------------


@router.get("/inventory/batches")
def list_batches(
    principal: Principal = Depends(require("inventory.read")),
    status: Literal["active", "", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"] = "active",
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Stock batches (by default the active ones: printing or failed)."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_batches(s, status=status, page=page, page_size=page_size)
        return {"total": total, "page": page, "pageSize": page_size, "batches": [batch_json(r) for r in rows]}


@router.post("/inventory/batches/{batch_id}/cancel")
def cancel_batch(batch_id: uuid.UUID, principal: Principal = Depends(require("inventory.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        batch = service.cancel_batch(s, batch_id, actor=principal)
        s.commit()
        rows, _ = service.list_batches(s, status="", mapping_id=batch.product_mapping_id, page_size=200)
        return next(batch_json(r) for r in rows if r.id == batch.id)


# --- PC parts ----------------------------------------------------------------------------------


def part_json(r: service.PartRow) -> dict:
    return {
        "id": str(r.offer_id),
        "partOfferId": str(r.offer_id),
        "partId": str(r.part_id),
        "name": r.name,
        "manufacturer": r.manufacturer or None,
        "slot": r.slot,
        "onHand": r.on_hand,
        "reserved": r.reserved,
        "available": r.available,
        "status": r.status,
        "forSale": r.active,
        "price": str(r.price),
        "currency": r.currency,
        "updatedAt": r.updated_at,
    }


@router.get("/inventory/parts")
def list_parts(
    principal: Principal = Depends(require("inventory.read")),
    search: str = Query("", max_length=MAX_SEARCH),
    slot: Literal["", "cpu", "motherboard", "ram", "gpu", "storage", "psu", "case", "cooler"] = "",
    status: Literal["", "in_stock", "low", "backorder"] = "",
    sort: Literal["name", "slot", "on_hand", "reserved", "available", "price"] = "name",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The PC parts the shop sells: on hand, reserved for builds, available (on hand - reserved)."""
    f = service.PartFilter(
        search=search, slot=slot, status=status, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_parts(s, f)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "lowThreshold": service.low_threshold(s),
            "parts": [part_json(r) for r in rows],
        }


class PartAdjustBody(BaseModel):
    quantity: int = Field(ge=1, le=100_000)
    direction: Literal["IN", "OUT"]
    reason: str = Field(min_length=1, max_length=500)


@router.post("/inventory/parts/{offer_id}/adjust", status_code=201)
def adjust_part(
    offer_id: uuid.UUID, body: PartAdjustBody, principal: Principal = Depends(require("inventory.write"))
) -> dict:
    """Receive (IN) or remove (OUT) units by hand, with a reason (409 when more would leave than are on hand)."""
    with tenant_session(principal.tenant_id) as s:
        entry = service.adjust_part(s, offer_id, body.quantity, body.direction, body.reason, actor=principal)
        s.commit()
        return {"transaction": transaction_json(entry), "part": part_json(service.get_part(s, offer_id))}


@router.get("/inventory/parts/{offer_id}/transactions")
def part_transactions(
    offer_id: uuid.UUID,
    principal: Principal = Depends(require("inventory.read")),
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The part's ledger, newest first, paged (RESERVED / RELEASED: stockAfter is its availability)."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.part_ledger(s, offer_id, page=page, page_size=page_size)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "part": part_json(service.get_part(s, offer_id)),
            "transactions": [{**transaction_json(t), "orderNumber": number} for t, number in rows],
        }
