"""Shipping operations: the one place shipping rules live. Pages, the REST
API, Sendcloud webhooks and jobs call these with a tenant session, as
`from app.shipping import service; service.X(...)`. One module per concern,
each importing only those above it in this list:

- _common: the event source and live-update nudges.
- connection: the Sendcloud connection and a per-process client cache that
  follows a version stamp in Redis (connecting or disconnecting
  re-initialises every web and worker process without a restart).
- shipments: one shipment per order, its label (the SHIPMENT retry
  operation), parcel figures, voiding and remaking, manual mode; the
  order-cancellation hook.
- tracking: parcel statuses from webhooks and the reconciliation poll, and
  what they mean for the order.
- packing: the packing bench (ready to ship, labels + slips PDF, scan) and
  the tracking board.

Importing this package registers the SHIPMENT retry operation and the
cancellation hook; app.shipping.domain lists app.shipping.events, which
imports it.
"""

from app.shipping.service._common import LIVE_KIND, SOURCE
from app.shipping.service.connection import (
    ParcelDefaults,
    bump_version,
    choices,
    client,
    connect,
    connection,
    disconnect,
    forget_client,
    forget_routes,
    make_client,
    test_connection,
    update_settings,
    webhook_url,
)
from app.shipping.service.packing import (
    Batch,
    BenchFilter,
    BenchRow,
    TrackingRow,
    bench_counts,
    find_by_scan,
    label_file,
    labels_pdf,
    ready_to_ship,
    shipment_counts,
    store_slip,
    tracking_board,
)
from app.shipping.service.shipments import (
    ParcelChange,
    ParcelSize,
    carrier_name,
    create_label,
    deliver_manual,
    external_reference,
    get_shipment,
    label_problems,
    parcel_size,
    record_manual,
    remake_label,
    request_label,
    shipment_for_order,
    shipments_for_orders,
    tracking_history,
    update_parcel,
    void_label,
)
from app.shipping.service.tracking import Applied, apply_parcel, handle_webhook, reconcile

__all__ = [
    "LIVE_KIND",
    "SOURCE",
    "Applied",
    "Batch",
    "BenchFilter",
    "BenchRow",
    "ParcelChange",
    "ParcelDefaults",
    "ParcelSize",
    "TrackingRow",
    "apply_parcel",
    "bench_counts",
    "bump_version",
    "carrier_name",
    "choices",
    "client",
    "connect",
    "connection",
    "create_label",
    "deliver_manual",
    "disconnect",
    "external_reference",
    "find_by_scan",
    "forget_client",
    "forget_routes",
    "get_shipment",
    "handle_webhook",
    "label_file",
    "label_problems",
    "labels_pdf",
    "make_client",
    "parcel_size",
    "ready_to_ship",
    "reconcile",
    "record_manual",
    "remake_label",
    "request_label",
    "shipment_counts",
    "shipment_for_order",
    "shipments_for_orders",
    "store_slip",
    "test_connection",
    "tracking_board",
    "tracking_history",
    "update_parcel",
    "update_settings",
    "void_label",
    "webhook_url",
]
