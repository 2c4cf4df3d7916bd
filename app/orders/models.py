"""Orders: one model for Shopify, builder and manual orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import DateTime, Index, Numeric, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.crypto import EncryptedString
from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class Order(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "shopify_order_id"),
        Index("ix_orders_tenant_number", "tenant_id", "number"),
        Index("ix_orders_tenant_placed", "tenant_id", "placed_at"),
        Index("ix_orders_tenant_status", "tenant_id", "status"),
        tenant_key("orders"),
        tenant_fk("orders", "customer_id", "customers", ondelete="SET NULL"),
        tenant_fk("orders", "saved_build_id", "saved_builds", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40)  # what staff call it: "#1042" (Shopify) or "M-00012"
    source: str = Field(max_length=20)  # shopify | builder | manual
    shopify_order_id: str | None = Field(default=None, max_length=30)
    shopify_gid: str | None = Field(default=None, max_length=80)
    name: str | None = Field(default=None, max_length=40)  # Shopify's order name
    status: str = Field(default="PENDING", max_length=30)
    fulfillment_status: str = Field(default="unfulfilled", max_length=20)
    financial_status: str | None = Field(default=None, max_length=30)

    customer_name: str = Field(default="", max_length=200)
    customer_email: str = Field(default="", max_length=254)
    customer_phone: str = Field(default="", max_length=50)
    ship_name: str = Field(default="", max_length=200)
    ship_company: str = Field(default="", max_length=200)
    ship_street: str = Field(default="", max_length=200)
    ship_house_number: str = Field(default="", max_length=30)
    ship_address2: str = Field(default="", max_length=200)
    ship_city: str = Field(default="", max_length=100)
    ship_postal_code: str = Field(default="", max_length=20)
    ship_country_code: str = Field(default="", max_length=2)
    delivery_type: str = Field(default="home", max_length=20)  # home | service_point
    service_point: dict = Field(default_factory=dict, sa_type=JSONB)  # id, name, address, carrier…

    currency: str = Field(default="EUR", max_length=3)
    subtotal: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    shipping_total: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    total: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))

    tracking_number: str = Field(default="", max_length=100)
    tracking_url: str = Field(default="", max_length=500)
    tracking_carrier: str = Field(default="", max_length=100)
    # the Shopify fulfillment made with that tracking (its tracking is updated later)
    shopify_fulfillment_id: str = Field(default="", max_length=100)

    total_parts: int = Field(default=0)
    completed_parts: int = Field(default=0)
    note: str = Field(default="", max_length=2000)
    problems: list = Field(default_factory=list, sa_type=JSONB)  # visible problems, e.g. a line without SKU
    cancel_reason: str = Field(default="", max_length=50)
    # builder orders: the storefront customer and the saved build they ordered
    customer_id: uuid.UUID | None = Field(default=None)
    saved_build_id: uuid.UUID | None = Field(default=None)

    placed_at: datetime = Timestamp()  # when the customer ordered
    created_at: datetime = Timestamp()  # when Shopfloor received it
    updated_at: datetime = Timestamp()
    source_updated_at: datetime | None = Timestamp(nullable=True)  # Shopify's updated_at (stale-update guard)
    cancelled_at: datetime | None = Timestamp(nullable=True)
    shipped_at: datetime | None = Timestamp(nullable=True)
    completed_at: datetime | None = Timestamp(nullable=True)


class LineItem(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "order_line_items"
    __table_args__ = (
        UniqueConstraint("order_id", "shopify_line_item_id"),
        tenant_key("order_line_items"),
        tenant_fk("order_line_items", "order_id", "orders", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(index=True)
    position: int = Field(default=0)
    shopify_line_item_id: str | None = Field(default=None, max_length=30)
    sku: str = Field(default="", max_length=100)
    title: str = Field(default="", max_length=300)
    variant_title: str = Field(default="", max_length=200)
    quantity: int = Field(default=1)
    unit_price: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    properties: dict = Field(default_factory=dict, sa_type=JSONB)
    status: str = Field(default="PENDING", max_length=30)
    total_parts: int = Field(default=0)
    completed_parts: int = Field(default=0)
    problem: str = Field(default="", max_length=500)


class ProcessedWebhook(TenantScoped, table=True):
    """Idempotency record of a Shopify delivery, keyed by webhook id and topic."""

    __tablename__: ClassVar[str] = "processed_webhooks"
    __table_args__ = (UniqueConstraint("tenant_id", "webhook_id", "webhook_type"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: str = Field(max_length=100)
    webhook_type: str = Field(max_length=50)  # the topic
    event_id: str = Field(default="", max_length=100)
    shop_domain: str = Field(default="", max_length=255)
    order_id: uuid.UUID | None = Field(default=None)
    triggered_at: str = Field(default="", max_length=40)
    received_at: datetime = Timestamp()


class ShopifyShop(TenantScoped, table=True):
    """A tenant's Shopify connection; token and secret encrypted at rest."""

    __tablename__: ClassVar[str] = "shopify_shops"
    __table_args__ = (UniqueConstraint("tenant_id"), UniqueConstraint("shop_domain"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    shop_domain: str = Field(max_length=255)  # example.myshopify.com (or a stand-in URL)
    api_base_url: str = Field(default="", max_length=500)  # https://<shop_domain> unless overridden
    api_version: str = Field(default="2026-07", max_length=20)
    access_token: str = Field(sa_type=EncryptedString)
    webhook_secret: str = Field(sa_type=EncryptedString)
    scopes: str = Field(default="read_orders", max_length=500)
    installed_at: datetime = Timestamp()
    uninstalled_at: datetime | None = Timestamp(nullable=True)


class ShopifyBackfill(TenantScoped, table=True):
    """An "import orders since" run; the cursor makes it resumable."""

    __tablename__: ClassVar[str] = "shopify_backfills"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    since: datetime = Field(sa_type=DateTime(timezone=True))
    status: str = Field(default="QUEUED", max_length=20)  # QUEUED | RUNNING | COMPLETED | FAILED
    cursor: str | None = Field(default=None, max_length=500)
    pages: int = Field(default=0)
    seen: int = Field(default=0)
    imported: int = Field(default=0)
    skipped: int = Field(default=0)
    expected: int | None = Field(default=None)
    error: str = Field(default="", max_length=2000)
    started_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
    finished_at: datetime | None = Timestamp(nullable=True)
