"""Shipping REST API (staff: shipments, labels, the packing bench's PDF,
the tracking board, the Sendcloud connection) and the Sendcloud webhook."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.orders import service as orders
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import DomainError, NotFound, PayloadTooLarge, ValidationFailed
from app.platform.formatting import of_tenant
from app.platform.web import require
from app.shipping import service
from app.shipping.models import SendcloudConnection, Shipment, TrackingEvent

router = APIRouter(tags=["shipping"])
webhooks = APIRouter(tags=["webhooks"])


# --- JSON shapes ----------------------------------------------------------------------------------


def shipment_json(s: Shipment, history: list[TrackingEvent] | None = None) -> dict:
    out = {
        "id": str(s.id),
        "orderId": str(s.order_id),
        "status": s.status,
        "manual": s.manual,
        "attempt": s.attempt,
        "externalReference": s.external_reference,
        "sendcloudParcelId": s.sendcloud_parcel_id,
        "carrier": service.carrier_name(s.carrier),
        "trackingNumber": s.tracking_number or None,
        "trackingUrl": s.tracking_url or None,
        "labelUrl": f"/api/v1/shipping/shipments/{s.id}/label" if s.label_attachment_id else None,
        "labelFormat": s.label_format,
        "weightGrams": s.weight_grams,
        "dimensions": ({"length": s.length_cm, "width": s.width_cm, "height": s.height_cm} if s.length_cm else None),
        "shippingMethodId": s.shipping_method_id,
        "shippingMethodName": s.shipping_method_name,
        "servicePoint": s.service_point or None,
        "sendcloudStatus": {"id": s.sendcloud_status_id, "message": s.sendcloud_status}
        if s.sendcloud_status_id is not None
        else None,
        "error": s.error or None,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "labelCreatedAt": s.label_created_at,
        "handedOverAt": s.handed_over_at,
        "deliveredAt": s.delivered_at,
        "cancelledAt": s.cancelled_at,
    }
    if history is not None:
        out["tracking"] = [
            {
                "statusId": e.sendcloud_status_id,
                "message": e.message,
                "status": e.status,
                "reportedAt": e.reported_at_ms,
                "source": e.source,
                "applied": e.applied,
            }
            for e in history
        ]
    return out


def connection_json(c: SendcloudConnection | None, webhook_url: str) -> dict:
    if c is None:
        return {"connected": False, "manualMode": True, "webhookUrl": webhook_url}
    return {
        "connected": True,
        "manualMode": False,
        "apiBaseUrl": c.api_base_url,
        "senderAddressId": c.sender_address_id,
        "senderAddress": c.sender_address,
        "shippingMethodId": c.shipping_method_id,
        "shippingMethodName": c.shipping_method_name,
        "servicePointMethodId": c.service_point_method_id,
        "servicePointMethodName": c.service_point_method_name,
        "labelFormat": c.label_format,
        "defaultWeightGrams": c.default_weight_grams,
        "defaultDimensions": {
            "length": c.default_length_cm,
            "width": c.default_width_cm,
            "height": c.default_height_cm,
        },
        "pcWeightGrams": c.pc_weight_grams,
        "pcDimensions": {"length": c.pc_length_cm, "width": c.pc_width_cm, "height": c.pc_height_cm},
        "reconcileMinutes": c.reconcile_minutes,
        "connectedAt": c.connected_at,
        "lastPollAt": c.last_poll_at,
        "lastError": c.last_error,
        "webhookUrl": webhook_url,
    }


# --- shipments ------------------------------------------------------------------------------------


class ParcelBody(BaseModel):
    weightGrams: int | None = Field(None, ge=1, le=70_000)
    lengthCm: int | None = Field(None, ge=1, le=300)
    widthCm: int | None = Field(None, ge=1, le=300)
    heightCm: int | None = Field(None, ge=1, le=300)
    shippingMethodId: int | None = Field(None, ge=1, le=2_147_483_647)
    shippingMethodName: str | None = Field(None, max_length=200)

    def change(self) -> service.ParcelChange:
        return service.ParcelChange(
            weight_grams=self.weightGrams,
            length_cm=self.lengthCm,
            width_cm=self.widthCm,
            height_cm=self.heightCm,
            shipping_method_id=self.shippingMethodId,
            shipping_method_name=self.shippingMethodName,
        )


@router.get("/orders/{order_id}/shipments")
def shipments_of_order(order_id: uuid.UUID, principal: Principal = Depends(require("shipping.read"))) -> dict:
    """GetShipmentsByOrderId: the order's shipment with its tracking history."""
    with tenant_session(principal.tenant_id) as s:
        orders.get_order(s, order_id)  # 404 for an order of no shop of yours
        shipment = service.shipment_for_order(s, order_id)
        found = [shipment_json(shipment, service.tracking_history(s, shipment.id))] if shipment else []
        return {"shipments": found}


@router.post("/orders/{order_id}/shipment", status_code=201)
def create_shipment(order_id: uuid.UUID, principal: Principal = Depends(require("shipping.write"))) -> dict:
    """CreateShipment: the order's label is made (after commit, with retries).
    Asking again changes nothing."""
    with tenant_session(principal.tenant_id) as s:
        shipment = service.create_label(s, order_id, actor=principal)
        s.commit()
        return shipment_json(shipment)


@router.get("/shipping/shipments/{shipment_id}")
def get_shipment(shipment_id: uuid.UUID, principal: Principal = Depends(require("shipping.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        shipment = service.get_shipment(s, shipment_id)
        return shipment_json(shipment, service.tracking_history(s, shipment.id))


@router.patch("/shipping/shipments/{shipment_id}")
def update_shipment(
    shipment_id: uuid.UUID, body: ParcelBody, principal: Principal = Depends(require("shipping.write"))
) -> dict:
    """Weight, size and method before the label is made."""
    with tenant_session(principal.tenant_id) as s:
        shipment = service.update_parcel(s, shipment_id, body.change(), actor=principal)
        s.commit()
        return shipment_json(shipment)


@router.post("/shipping/shipments/{shipment_id}/cancel")
def void_shipment(shipment_id: uuid.UUID, principal: Principal = Depends(require("shipping.write"))) -> dict:
    """CancelShipment: void the label (the order stays); 409 when the parcel is with the carrier."""
    with tenant_session(principal.tenant_id) as s:
        shipment = service.void_label(s, shipment_id, actor=principal)
        s.commit()
        return shipment_json(shipment)


@router.post("/shipping/shipments/{shipment_id}/remake")
def remake_shipment(
    shipment_id: uuid.UUID, body: ParcelBody, principal: Principal = Depends(require("shipping.write"))
) -> dict:
    """Void the label and make a new one (with the figures given)."""
    with tenant_session(principal.tenant_id) as s:
        shipment = service.remake_label(s, shipment_id, body.change(), actor=principal)
        s.commit()
        return shipment_json(shipment)


@router.get("/shipping/shipments/{shipment_id}/label")
def shipment_label(shipment_id: uuid.UUID, principal: Principal = Depends(require("shipping.read"))) -> Response:
    with tenant_session(principal.tenant_id) as s:
        data, filename = service.label_file(s, shipment_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


# --- the packing bench ----------------------------------------------------------------------------


@router.get("/shipping/ready")
def ready_to_ship(
    principal: Principal = Depends(require("shipping.read")),
    search: str = Query("", max_length=200),
    label: Literal["", "ready", "waiting", "problem"] = "",
    page: int = Query(0, ge=0, le=100_000),
    pageSize: int = Query(25, ge=1, le=200),
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.ready_to_ship(s, service.BenchFilter(search, label, page, pageSize))
        return {
            "total": total,
            "orders": [
                {
                    "orderId": str(r.order.id),
                    "number": r.order.number,
                    "customer": r.order.customer_name,
                    "destination": ", ".join(p for p in (r.order.ship_city, r.order.ship_country_code) if p),
                    "fulfillmentStatus": r.order.fulfillment_status,
                    "shipment": shipment_json(r.shipment) if r.shipment else None,
                }
                for r in rows
            ],
        }


def _order_ids(raw: str) -> list[uuid.UUID]:
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.append(uuid.UUID(part))
        except ValueError as exc:
            raise ValidationFailed(f"'{part[:40]}' is not an order id") from exc
    if not ids:
        raise ValidationFailed("choose at least one order")
    if len(ids) > 200:
        raise ValidationFailed("print at most 200 orders at once")
    return ids


@router.get("/shipping/labels.pdf")
def labels_pdf(
    principal: Principal = Depends(require("shipping.read")),
    orders_param: str = Query(..., alias="orders", max_length=200 * 37),
) -> Response:
    """One PDF: each order's label then its packing slip, in pack order."""
    ids = _order_ids(orders_param)
    with tenant_session(principal.tenant_id) as s:
        try:
            batch = service.labels_pdf(s, ids, of_tenant(principal.tenant_id))
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from exc
    return Response(
        batch.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'inline; filename="labels.pdf"',
            "Cache-Control": "private, no-store",
            "X-Labels": str(batch.labels),
            "X-Orders": str(batch.orders),
        },
    )


@router.get("/shipping/scan")
def scan(
    principal: Principal = Depends(require("shipping.read")), code: str = Query(..., min_length=1, max_length=100)
) -> dict:
    """An order number or tracking number as scanned: the order it names."""
    with tenant_session(principal.tenant_id) as s:
        order = service.find_by_scan(s, code)
        if order is None:
            raise NotFound(f"no order or parcel {code.strip()[:40]!r}")
        shipment = service.shipment_for_order(s, order.id)
        return {
            "orderId": str(order.id),
            "number": order.number,
            "shipment": shipment_json(shipment) if shipment else None,
        }


@router.get("/shipping/tracking")
def tracking(principal: Principal = Depends(require("shipping.read"))) -> dict:
    """Parcels on their way, stuck ones first."""
    with tenant_session(principal.tenant_id) as s:
        return {
            "parcels": [
                {
                    **shipment_json(r.shipment),
                    "orderNumber": r.order_number,
                    "customer": r.customer,
                    "destination": r.destination,
                    "since": r.since,
                    "stuck": r.stuck,
                }
                for r in service.tracking_board(s)
            ]
        }


@router.post("/shipping/reconcile")
def reconcile_now(principal: Principal = Depends(require("shipping.write"))) -> dict:
    """Check every open parcel with Sendcloud now (normally every reconcile_minutes)."""
    with tenant_session(principal.tenant_id) as s:
        counts = service.reconcile(s, force=True)
        s.commit()
    return {"outcomes": counts}


# --- the Sendcloud connection ----------------------------------------------------------------------


TOKEN = r"^\s*[\x21-\x7e]+\s*$"  # keys travel in an HTTP header: plain ASCII


class ConnectBody(BaseModel):
    publicKey: str = Field(min_length=1, max_length=200, pattern=TOKEN)
    secretKey: str = Field(min_length=1, max_length=200, pattern=TOKEN)
    webhookSecret: str = Field("", max_length=200, pattern=r"^[\x21-\x7e]*$")
    apiBaseUrl: str = Field("", max_length=500)


class Dimensions(BaseModel):
    length: int | None = Field(None, ge=1, le=300)
    width: int | None = Field(None, ge=1, le=300)
    height: int | None = Field(None, ge=1, le=300)


class SettingsBody(BaseModel):
    senderAddressId: int | None = Field(None, ge=1, le=2**53)
    shippingMethodId: int | None = Field(None, ge=1, le=2**53)
    servicePointMethodId: int | None = Field(None, ge=1, le=2**53)
    labelFormat: Literal["a6", "a4"] | None = None
    defaultWeightGrams: int | None = Field(None, ge=1, le=70_000)
    defaultDimensions: Dimensions | None = None
    pcWeightGrams: int | None = Field(None, ge=1, le=70_000)
    pcDimensions: Dimensions | None = None
    reconcileMinutes: int | None = Field(None, ge=5, le=1440)


@router.get("/integrations/sendcloud", tags=["settings"])
def get_connection(principal: Principal = Depends(require("settings.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return connection_json(service.connection(s), service.webhook_url(s))


@router.put("/integrations/sendcloud", tags=["settings"])
def connect(body: ConnectBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    """Save and test the API keys; every process re-initialises its client."""
    with tenant_session(principal.tenant_id) as s:
        conn = service.connect(
            s,
            public_key=body.publicKey,
            secret_key=body.secretKey,
            webhook_secret=body.webhookSecret,
            api_base_url=body.apiBaseUrl,
            actor=principal,
        )
        s.commit()
        return connection_json(conn, service.webhook_url(s))


@router.patch("/integrations/sendcloud", tags=["settings"])
def update_connection(body: SettingsBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    empty = Dimensions(length=None, width=None, height=None)
    d, pc = body.defaultDimensions or empty, body.pcDimensions or empty
    with tenant_session(principal.tenant_id) as s:
        conn = service.update_settings(
            s,
            actor=principal,
            sender_address_id=body.senderAddressId,
            shipping_method_id=body.shippingMethodId,
            service_point_method_id=body.servicePointMethodId,
            label_format=body.labelFormat,
            defaults=service.ParcelDefaults(
                weight_grams=body.defaultWeightGrams,
                length_cm=d.length,
                width_cm=d.width,
                height_cm=d.height,
                pc_weight_grams=body.pcWeightGrams,
                pc_length_cm=pc.length,
                pc_width_cm=pc.width,
                pc_height_cm=pc.height,
            ),
            reconcile_minutes=body.reconcileMinutes,
        )
        s.commit()
        return connection_json(conn, service.webhook_url(s))


@router.get("/integrations/sendcloud/choices", tags=["settings"])
def connection_choices(principal: Principal = Depends(require("settings.read"))) -> dict:
    """The account's sender addresses and shipping methods (for the settings card)."""
    with tenant_session(principal.tenant_id) as s:
        senders, methods = service.choices(s)
    return {"senderAddresses": senders, "shippingMethods": methods}


@router.delete("/integrations/sendcloud", tags=["settings"], status_code=204)
def disconnect(principal: Principal = Depends(require("settings.write"))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.disconnect(s, actor=principal)
        s.commit()


@router.post("/integrations/sendcloud/test", tags=["settings"])
def test_connection(principal: Principal = Depends(require("settings.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {"ok": True, "message": service.test_connection(s)}


# --- the webhook -------------------------------------------------------------------------------------


@webhooks.post("/webhooks/sendcloud/{tenant_slug}")
async def sendcloud_webhook(request: Request, tenant_slug: str = Path(max_length=63)) -> dict:
    """Sendcloud parcel status webhooks for one shop: the signature
    (HMAC-SHA256 of the raw body with the shop's key) is checked, the step
    applied once and never backwards. Events we ignore answer 200."""
    raw = await request.body()
    if not raw:
        raise DomainError("the body is empty", code="empty_body")
    if len(raw) > 256_000:
        raise PayloadTooLarge("the body is too large")
    signature = request.headers.get("sendcloud-signature", "")
    if not signature.isascii():
        signature = ""
    return {"status": await asyncio.to_thread(service.handle_webhook, tenant_slug, raw, signature)}
