"""Shipping: the Sendcloud connection, one shipment per order, and each
shipment's tracking history (seed 003: Shipment, Shipment Status)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.crypto import EncryptedString
from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class SendcloudConnection(TenantScoped, table=True):
    """A shop's Sendcloud API integration: keys and webhook secret encrypted,
    the sender address, default shipping method, label format and parcel
    defaults. Kept (marked disconnected) when disconnected: manual mode."""

    __tablename__: ClassVar[str] = "sendcloud_connections"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    public_key: str = Field(sa_type=EncryptedString)
    secret_key: str = Field(sa_type=EncryptedString)
    # Sendcloud signs webhooks with the integration's secret key (API integrations)
    # or a separate webhook signature key: empty = the secret key.
    webhook_secret: str = Field(default="", sa_type=EncryptedString)
    api_base_url: str = Field(default="", max_length=500)  # https://panel.sendcloud.sc unless overridden
    sender_address_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sender_address: str = Field(default="", max_length=500)  # as Sendcloud names it, for the settings card
    shipping_method_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    shipping_method_name: str = Field(default="", max_length=200)
    # what an order for a service point ships with (a method that delivers to points)
    service_point_method_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    service_point_method_name: str = Field(default="", max_length=200)
    label_format: str = Field(default="a6", max_length=2)  # a6 (label printer) | a4 (normal printer)
    # Parcel defaults when an order's products do not say
    default_weight_grams: int = Field(default=500)
    default_length_cm: int | None = Field(default=None)
    default_width_cm: int | None = Field(default=None)
    default_height_cm: int | None = Field(default=None)
    # A PC ships in its own box: what a built PC weighs and measures packed
    pc_weight_grams: int = Field(default=12000)
    pc_length_cm: int | None = Field(default=60)
    pc_width_cm: int | None = Field(default=35)
    pc_height_cm: int | None = Field(default=55)
    reconcile_minutes: int = Field(default=30)
    connected_at: datetime | None = Timestamp(nullable=True)
    disconnected_at: datetime | None = Timestamp(nullable=True)
    last_poll_at: datetime | None = Timestamp(nullable=True)
    last_error: str = Field(default="", max_length=1000)
    updated_at: datetime = Timestamp()


class Shipment(TenantScoped, table=True):
    """The parcel of one order. `external_reference` is what Sendcloud keeps
    unique: asking again with it never makes a second parcel."""

    __tablename__: ClassVar[str] = "shipments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id"),
        Index("ix_shipments_tenant_status", "tenant_id", "status"),
        Index("ix_shipments_tenant_parcel", "tenant_id", "sendcloud_parcel_id"),
        tenant_key("shipments"),
        tenant_fk("shipments", "order_id", "orders", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    status: str = Field(default="PENDING", max_length=20)  # machine.SHIPMENT_STATUS
    manual: bool = Field(default=False)  # recorded by hand (no Sendcloud parcel)
    # Which label of the order this is (a remade label is the next attempt):
    # part of the external reference, so each attempt is one parcel at Sendcloud.
    attempt: int = Field(default=1)
    external_reference: str = Field(default="", max_length=100)
    sendcloud_parcel_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    carrier: str = Field(default="", max_length=100)
    tracking_number: str = Field(default="", max_length=100)
    tracking_url: str = Field(default="", max_length=500)
    label_attachment_id: uuid.UUID | None = Field(default=None)  # the carrier label PDF (an Attachment)
    # The packing slip rendered when the label was made, and what it was made
    # from (documents.slip_fingerprint): printing a batch reuses it while the
    # order still reads the same.
    slip_attachment_id: uuid.UUID | None = Field(default=None)
    slip_fingerprint: str = Field(default="", max_length=64)
    label_format: str = Field(default="a6", max_length=2)
    weight_grams: int = Field(default=0)
    length_cm: int | None = Field(default=None)
    width_cm: int | None = Field(default=None)
    height_cm: int | None = Field(default=None)
    shipping_method_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    shipping_method_name: str = Field(default="", max_length=200)
    service_point: dict = Field(default_factory=dict, sa_type=JSONB)  # id, name, address… (from the order)
    # Sendcloud's last parcel status and when the carrier reported it (ms since
    # epoch): an older delivery never overwrites a newer one.
    sendcloud_status_id: int | None = Field(default=None)
    sendcloud_status: str = Field(default="", max_length=200)
    carrier_status_at_ms: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str = Field(default="", max_length=1000)  # why the label could not be made (shown)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
    label_created_at: datetime | None = Timestamp(nullable=True)
    handed_over_at: datetime | None = Timestamp(nullable=True)  # first seen with the carrier
    delivered_at: datetime | None = Timestamp(nullable=True)
    cancelled_at: datetime | None = Timestamp(nullable=True)
    status_changed_at: datetime = Timestamp()


class TrackingEvent(TenantScoped, table=True):
    """One step of a parcel's tracking history, as Sendcloud reported it.
    Unique per (parcel, status, carrier timestamp): a redelivered webhook or
    a poll that sees the same step adds nothing."""

    __tablename__: ClassVar[str] = "shipment_tracking_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "shipment_id", "sendcloud_status_id", "reported_at_ms"),
        Index("ix_tracking_events_shipment", "tenant_id", "shipment_id", "reported_at_ms"),
        tenant_fk("shipment_tracking_events", "shipment_id", "shipments", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    shipment_id: uuid.UUID
    sendcloud_status_id: int
    message: str = Field(default="", max_length=200)
    status: str = Field(max_length=20)  # the shipment status it means
    reported_at_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    source: str = Field(default="webhook", max_length=20)  # webhook | poll | label | staff
    applied: bool = Field(default=True)  # False: older than what we had (kept for the history)
    received_at: datetime = Timestamp()
