"""Catalog REST API: the global parts catalog, this shop's offers and price
lists, and catalog imports."""

from __future__ import annotations

import uuid
from typing import cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from app.catalog import service
from app.catalog.models import CatalogImport, CatalogPart, PartOffer, PriceListImport
from app.platform.auth import Principal
from app.platform.db import platform_session, tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.web import require

router = APIRouter(prefix="/catalog", tags=["catalog"])


MAX_PAGE = 10_000  # far beyond the last page of the largest catalog


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


CSV_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "text/tab-separated-values",
    "application/octet-stream",
    "",
}


def part_json(part: CatalogPart, *, raw: bool = False) -> dict:
    out = {
        "id": str(part.id),
        "slot": part.slot,
        "name": part.name,
        "manufacturer": part.manufacturer,
        "specs": part.specs,
        "updatedAt": part.updated_at,
    }
    if raw:
        out["raw"] = part.raw
    return out


def offer_json(offer: PartOffer, part: CatalogPart) -> dict:
    return {
        "id": str(offer.id),
        "partId": str(offer.part_id),
        "slot": offer.slot,
        "name": part.name,
        "manufacturer": part.manufacturer,
        "price": str(offer.price),
        "currency": offer.currency,
        "stock": offer.stock,
        "active": offer.active,
        "isDemo": offer.is_demo,
        "updatedAt": offer.updated_at,
    }


def price_list_json(pl: PriceListImport) -> dict:
    return {
        "id": str(pl.id),
        "filename": pl.filename,
        "status": pl.status,
        "rowsTotal": pl.rows_total,
        "created": pl.created,
        "updated": pl.updated,
        "unchanged": pl.unchanged,
        "failed": pl.failed,
        "errors": pl.errors,
        "createdAt": pl.created_at,
    }


def import_json(run: CatalogImport, principal: Principal) -> dict:
    return {
        "id": str(run.id),
        "status": run.status,
        "total": run.total,
        "processed": run.processed,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "skipped": run.skipped,
        "error": run.error,
        "startedBy": service.started_by_label(run, principal.tenant_id),
        "createdAt": run.created_at,
        "finishedAt": run.finished_at,
    }


@router.get("/parts")
def list_parts(
    principal: Principal = Depends(require("catalog.read")),
    search: str = Query("", max_length=200),
    slot: str = Query("", max_length=50),
    page: int = Query(0, ge=0, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    with platform_session() as s:
        rows, total = service.list_parts(
            s, service.PartFilter(search=search, slot=slot, page=page, page_size=page_size)
        )
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "counts": service.slot_counts(s),
            "parts": [part_json(p) for p in rows],
        }


@router.get("/parts/{part_id}")
def get_part(part_id: uuid.UUID, principal: Principal = Depends(require("catalog.read"))) -> dict:
    with platform_session() as s:
        return part_json(service.get_part(s, part_id), raw=True)


@router.get("/offers")
def list_offers(
    principal: Principal = Depends(require("catalog.read")),
    search: str = Query("", max_length=200),
    slot: str = Query("", max_length=50),
    status: str = Query("", pattern="^(|active|inactive|demo|unsold)$"),
    whole_catalog: bool = Query(False, alias="wholeCatalog"),
    sort: str = Query("name", pattern="^(name|manufacturer|slot|price|stock|updated)$"),
    desc: bool = False,
    page: int = Query(0, ge=0, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = service.OfferFilter(
        search=search,
        slot=slot,
        status=status,
        sort=sort,
        descending=desc,
        page=page,
        page_size=page_size,
        whole_catalog=whole_catalog,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_offers(s, f)
        if whole_catalog:  # every part, with this shop's offer or null
            return {
                "total": total,
                "page": page,
                "pageSize": page_size,
                "parts": [{"part": part_json(p), "offer": offer_json(o, p) if o else None} for o, p in rows],
            }
        # without whole_catalog the rows are an inner join: every row has its offer
        offers = [offer_json(cast(PartOffer, o), p) for o, p in rows]
        return {"total": total, "page": page, "pageSize": page_size, "offers": offers}


class OfferBody(BaseModel):
    price: str = Field(min_length=1, max_length=20)
    stock: int = Field(ge=0, le=1_000_000)
    active: bool = True
    currency: str | None = Field(None, min_length=3, max_length=3)


@router.put("/offers/{part_id}")
def put_offer(part_id: uuid.UUID, body: OfferBody, principal: Principal = Depends(require("catalog.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        offer = service.set_offer(
            s, part_id, price=body.price, stock=body.stock, active=body.active, currency=body.currency, actor=principal
        )
        s.commit()
        return offer_json(offer, service.get_part(s, part_id))


@router.delete("/offers/{part_id}")
def deactivate_offer(part_id: uuid.UUID, principal: Principal = Depends(require("catalog.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        offer = service.deactivate_offer(s, part_id, actor=principal)
        s.commit()
        return offer_json(offer, service.get_part(s, part_id))


@router.post("/price-lists", status_code=201)
async def upload_price_list(request: Request, principal: Principal = Depends(require("catalog.write"))) -> dict:
    """Multipart upload, field `file`: a CSV `opendb_id,price,stock[,currency][,active]`."""
    import asyncio

    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise DomainError("send the price list as multipart/form-data with a `file` field", code="not_multipart")
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed("attach the CSV file in the `file` field", code="no_file")
    filetype = (upload.content_type or "").split(";")[0].strip().lower()
    if filetype not in CSV_TYPES:
        raise UnsupportedMediaType(f"a price list is a CSV file, not {filetype}")
    data = await upload.read()

    def apply() -> PriceListImport:
        with tenant_session(principal.tenant_id) as s:
            result = service.import_price_list(s, data, upload.filename or "", principal)
            s.commit()
            return result

    return price_list_json(await asyncio.to_thread(apply))


@router.get("/price-lists")
def list_price_lists(
    principal: Principal = Depends(require("catalog.read")), limit: int = Query(20, ge=1, le=100)
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {"priceLists": [price_list_json(p) for p in service.list_price_lists(s, limit)]}


@router.post("/imports", status_code=202)
def start_import(principal: Principal = Depends(require("catalog.read"))) -> dict:
    # platform operators only: the service refuses everyone else (403)
    run = service.queue_import(principal)
    return {"id": str(run.id), "status": run.status}


@router.get("/imports/{run_id}")
def get_import(run_id: uuid.UUID, principal: Principal = Depends(require("catalog.read"))) -> dict:
    return import_json(service.get_import(run_id), principal)
