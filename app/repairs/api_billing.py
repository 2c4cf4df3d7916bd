"""Repairs API: dispatches (assets in and out, finalize once), invoices
(draft lines, send, pay, void with a credit note) and their PDFs."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import NotFound
from app.platform.web import require
from app.repairs.models import RepairAsset, RepairDispatch, RepairInvoice, RepairInvoiceLine
from app.repairs.service import billing

router = APIRouter(tags=["repairs"])

READ, WRITE = billing.READ, billing.WRITE
Money = Decimal


# --- JSON shapes ----------------------------------------------------------------------------------


def dispatch_json(d: RepairDispatch, *, client_name: str | None = None, assets: int | None = None) -> dict:
    out = {
        "id": str(d.id),
        "number": d.number,
        "clientId": str(d.client_id),
        "status": d.status,
        "carrier": d.carrier,
        "trackingNumber": d.tracking_number,
        "notes": d.notes,
        "invoiceId": str(d.invoice_id) if d.invoice_id else None,
        "createdAt": d.created_at,
        "finalizedAt": d.finalized_at,
    }
    if client_name is not None:
        out["clientName"] = client_name
    if assets is not None:
        out["assetCount"] = assets
    return out


def asset_json(a: RepairAsset) -> dict:
    return {
        "id": str(a.id),
        "number": a.number,
        "imei": a.imei,
        "serial": a.serial,
        "status": a.status,
        "dispatchId": str(a.dispatch_id) if a.dispatch_id else None,
    }


def line_json(line: RepairInvoiceLine) -> dict:
    return {
        "id": str(line.id),
        "position": line.position,
        "kind": line.kind,
        "assetId": str(line.asset_id) if line.asset_id else None,
        "description": line.description,
        "quantity": str(line.quantity),
        "unitPrice": str(line.unit_price),
        "amount": str(line.amount),
        "warning": line.warning or None,
    }


def invoice_json(i: RepairInvoice, lines: list[RepairInvoiceLine] | None = None, **extra) -> dict:
    out = {
        "id": str(i.id),
        "kind": i.kind,
        "number": i.number or None,
        "status": i.status,
        "clientId": str(i.client_id),
        "dispatchId": str(i.dispatch_id) if i.dispatch_id else None,
        "creditForId": str(i.credit_for_id) if i.credit_for_id else None,
        "currency": i.currency,
        "subtotal": str(i.subtotal),
        "vatRate": str(i.vat_rate),
        "vatAmount": str(i.vat_amount),
        "total": str(i.total),
        "issuedOn": i.issued_on,
        "dueOn": i.due_on,
        "pdf": {
            "status": i.pdf_status or None,
            "error": i.pdf_error or None,
            "url": f"/api/v1/repairs/invoices/{i.id}/pdf" if i.pdf_key else None,
        },
        "voidReason": i.void_reason or None,
        "createdAt": i.created_at,
        "issuedAt": i.issued_at,
        "paidAt": i.paid_at,
        "voidedAt": i.voided_at,
        **extra,
    }
    if lines is not None:
        out["lines"] = [line_json(line) for line in lines]
    return out


# --- dispatches -----------------------------------------------------------------------------------


class DispatchBody(BaseModel):
    clientId: uuid.UUID
    carrier: str = Field("", max_length=60)
    trackingNumber: str = Field("", max_length=100)
    notes: str = Field("", max_length=2000)


class DispatchChange(BaseModel):
    carrier: str | None = Field(None, max_length=60)
    trackingNumber: str | None = Field(None, max_length=100)
    notes: str | None = Field(None, max_length=2000)


class AssetsBody(BaseModel):
    assetIds: list[uuid.UUID] = Field(..., min_length=1, max_length=500)


@router.get("/repairs/dispatches")
def list_dispatches(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=200),
    status: Literal["", "open", "finalized", "cancelled"] = "",
    clientId: uuid.UUID | None = None,
    sort: Literal["number", "created", "client", "assets", "status"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    pageSize: int = Query(25, ge=1, le=200),
) -> dict:
    f = billing.DispatchFilter(search, status, str(clientId or ""), sort, descending, page, pageSize)
    with tenant_session(principal.tenant_id) as s:
        rows, total = billing.list_dispatches(s, f)
        return {
            "total": total,
            "dispatches": [
                {
                    **dispatch_json(r.dispatch, client_name=r.client_name, assets=r.assets),
                    "invoiceNumber": r.invoice_number or None,
                    "invoiceStatus": r.invoice_status or None,
                }
                for r in rows
            ],
        }


@router.post("/repairs/dispatches", status_code=201)
def create_dispatch(body: DispatchBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        d = billing.create_dispatch(
            s,
            body.clientId,
            actor=principal,
            carrier=body.carrier,
            tracking_number=body.trackingNumber,
            notes=body.notes,
        )
        s.commit()
        return dispatch_json(d, assets=0)


def _dispatch_detail(s, d: RepairDispatch) -> dict:
    assets = billing.dispatch_assets(s, d.id)
    return {
        **dispatch_json(d, assets=len(assets)),
        "assets": [asset_json(a) for a in assets],
        "canMakeParcel": billing.can_make_parcel(s, d),
    }


@router.get("/repairs/dispatches/{dispatch_id}")
def get_dispatch(dispatch_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return _dispatch_detail(s, billing.get_dispatch(s, dispatch_id))


@router.patch("/repairs/dispatches/{dispatch_id}")
def update_dispatch(
    dispatch_id: uuid.UUID, body: DispatchChange, principal: Principal = Depends(require(WRITE))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        d = billing.update_dispatch(
            s, dispatch_id, actor=principal, carrier=body.carrier, tracking_number=body.trackingNumber, notes=body.notes
        )
        s.commit()
        return _dispatch_detail(s, d)


@router.get("/repairs/dispatches/{dispatch_id}/ready-assets")
def ready_assets(dispatch_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    """The dispatch's client's assets that wait to leave and are in no dispatch."""
    with tenant_session(principal.tenant_id) as s:
        d = billing.get_dispatch(s, dispatch_id)
        return {"assets": [asset_json(a) for a in billing.ready_assets(s, d.client_id)]}


@router.post("/repairs/dispatches/{dispatch_id}/assets")
def add_assets(dispatch_id: uuid.UUID, body: AssetsBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        billing.add_assets(s, dispatch_id, body.assetIds, actor=principal)
        s.commit()
        return _dispatch_detail(s, billing.get_dispatch(s, dispatch_id))


@router.delete("/repairs/dispatches/{dispatch_id}/assets/{asset_id}")
def remove_asset(dispatch_id: uuid.UUID, asset_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        billing.remove_asset(s, dispatch_id, asset_id, actor=principal)
        s.commit()
        return _dispatch_detail(s, billing.get_dispatch(s, dispatch_id))


@router.post("/repairs/dispatches/{dispatch_id}/finalize")
def finalize_dispatch(dispatch_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """Finalize once: asking again (a double click, a retried request) returns the same invoice."""
    with tenant_session(principal.tenant_id) as s:
        invoice = billing.finalize_dispatch(s, dispatch_id, actor=principal)
        s.commit()
        return invoice_json(invoice, billing.invoice_lines(s, invoice.id))


@router.post("/repairs/dispatches/{dispatch_id}/cancel")
def cancel_dispatch(dispatch_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        d = billing.cancel_dispatch(s, dispatch_id, actor=principal)
        s.commit()
        return dispatch_json(d)


# --- invoice settings -----------------------------------------------------------------------------


class BillingSettingsBody(BaseModel):
    """Only the fields given change; the service checks each (a wrong one refuses the whole)."""

    shopAddress: str | None = Field(None, max_length=2000)
    shopVatNumber: str | None = Field(None, max_length=100)
    supportEmail: str | None = Field(None, max_length=400)
    vatPercent: Money | str | None = None
    partsMarkupPercent: Money | str | None = None
    assessmentFee: Money | str | None = None


_SETTING_FIELDS = {
    "shopAddress": "shop_address",
    "shopVatNumber": "shop_vat_number",
    "supportEmail": "support_email",
    "vatPercent": "vat_percent",
    "partsMarkupPercent": "parts_markup_percent",
    "assessmentFee": "assessment_fee",
}


def settings_json(st: billing.BillingSettings) -> dict:
    return {
        "shopAddress": st.shop_address,
        "shopVatNumber": st.shop_vat_number,
        "supportEmail": st.support_email,
        "vatPercent": str(st.vat_percent),
        "partsMarkupPercent": str(st.parts_markup_percent),
        "assessmentFee": str(st.assessment_fee),
    }


@router.get("/repairs/billing/settings")
def get_billing_settings(principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return settings_json(billing.billing_settings(s))


@router.put("/repairs/billing/settings")
def put_billing_settings(
    body: BillingSettingsBody, principal: Principal = Depends(require(billing.SETTINGS_PERMISSION))
) -> dict:
    given = body.model_dump(exclude_unset=True)
    values = {_SETTING_FIELDS[k]: v for k, v in given.items() if v is not None}
    with tenant_session(principal.tenant_id) as s:
        st = billing.set_billing_settings(s, values, actor=principal)
        s.commit()
        return settings_json(st)


# --- invoices -------------------------------------------------------------------------------------


class LineBody(BaseModel):
    description: str = Field(..., min_length=1, max_length=300)
    quantity: Money = Decimal(1)
    unitPrice: Money
    kind: Literal["repair", "part", "labour", "other"] = "other"


class LineChange(BaseModel):
    description: str | None = Field(None, min_length=1, max_length=300)
    quantity: Money | None = None
    unitPrice: Money | None = None


class InvoiceChange(BaseModel):
    vatRate: Money


class VoidBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=500)


@router.get("/repairs/invoices")
def list_invoices(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=200),
    status: Literal["", "draft", "sent", "paid", "void"] = "",
    kind: Literal["", "invoice", "credit_note"] = "",
    clientId: uuid.UUID | None = None,
    sort: Literal["number", "created", "issued", "due", "client", "total", "status"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    pageSize: int = Query(25, ge=1, le=200),
) -> dict:
    f = billing.InvoiceFilter(search, status, kind, str(clientId or ""), sort, descending, page, pageSize)
    with tenant_session(principal.tenant_id) as s:
        rows, total = billing.list_invoices(s, f)
        return {
            "total": total,
            "invoices": [
                invoice_json(r.invoice, clientName=r.client_name, dispatchNumber=r.dispatch_number or None)
                for r in rows
            ],
        }


def _invoice_detail(s, invoice: RepairInvoice) -> dict:
    note = billing.credit_note_for(s, invoice.id) if invoice.kind == "invoice" else None
    return invoice_json(invoice, billing.invoice_lines(s, invoice.id), creditNoteId=str(note.id) if note else None)


@router.get("/repairs/invoices/{invoice_id}")
def get_invoice(invoice_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return _invoice_detail(s, billing.get_invoice(s, invoice_id))


@router.patch("/repairs/invoices/{invoice_id}")
def update_invoice(invoice_id: uuid.UUID, body: InvoiceChange, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        invoice = billing.set_vat_rate(s, invoice_id, body.vatRate, actor=principal)
        s.commit()
        return _invoice_detail(s, invoice)


def _line_of(s, invoice_id: uuid.UUID, line_id: uuid.UUID) -> None:
    line = s.get(RepairInvoiceLine, line_id)
    if line is None or line.invoice_id != invoice_id:
        raise NotFound("invoice line not found")


@router.post("/repairs/invoices/{invoice_id}/lines", status_code=201)
def add_line(invoice_id: uuid.UUID, body: LineBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        billing.add_line(
            s,
            invoice_id,
            description=body.description,
            quantity=body.quantity,
            unit_price=body.unitPrice,
            kind=body.kind,
            actor=principal,
        )
        s.commit()
        return _invoice_detail(s, billing.get_invoice(s, invoice_id))


@router.patch("/repairs/invoices/{invoice_id}/lines/{line_id}")
def update_line(
    invoice_id: uuid.UUID, line_id: uuid.UUID, body: LineChange, principal: Principal = Depends(require(WRITE))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        _line_of(s, invoice_id, line_id)
        billing.update_line(
            s,
            line_id,
            actor=principal,
            description=body.description,
            quantity=body.quantity,
            unit_price=body.unitPrice,
        )
        s.commit()
        return _invoice_detail(s, billing.get_invoice(s, invoice_id))


@router.delete("/repairs/invoices/{invoice_id}/lines/{line_id}")
def remove_line(invoice_id: uuid.UUID, line_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        _line_of(s, invoice_id, line_id)
        invoice = billing.remove_line(s, line_id, actor=principal)
        s.commit()
        return _invoice_detail(s, invoice)


@router.post("/repairs/invoices/{invoice_id}/send")
def send_invoice(invoice_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """Draft → sent: the next gapless number; the PDF follows (pdf.status)."""
    with tenant_session(principal.tenant_id) as s:
        invoice = billing.send_invoice(s, invoice_id, actor=principal)
        s.commit()
        return _invoice_detail(s, invoice)


@router.post("/repairs/invoices/{invoice_id}/pay")
def mark_paid(invoice_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        invoice = billing.mark_paid(s, invoice_id, actor=principal)
        s.commit()
        return _invoice_detail(s, invoice)


@router.post("/repairs/invoices/{invoice_id}/void")
def void_invoice(invoice_id: uuid.UUID, body: VoidBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Void: a sent invoice gets a credit note (returned as creditNote); a draft none."""
    with tenant_session(principal.tenant_id) as s:
        note = billing.void_invoice(s, invoice_id, body.reason, actor=principal)
        s.commit()
        out = _invoice_detail(s, billing.get_invoice(s, invoice_id))
        out["creditNote"] = _invoice_detail(s, note) if note else None
        return out


@router.post("/repairs/invoices/{invoice_id}/pdf", status_code=202)
def render_again(invoice_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """Render the PDF again (after a failed render)."""
    with tenant_session(principal.tenant_id) as s:
        invoice = billing.request_pdf(s, invoice_id, actor=principal)
        s.commit()
        return _invoice_detail(s, invoice)


@router.get("/repairs/invoices/{invoice_id}/pdf")
def invoice_pdf(invoice_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> Response:
    with tenant_session(principal.tenant_id) as s:
        data, filename = billing.invoice_pdf(s, invoice_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
