"""Offline stand-in for the Sendcloud API, with a parcel status simulator and signed webhooks.

Follows /work/shared/contracts/sendcloud.md (§8 checklist). The HTTP side is in ``api.py``, the
account and its parcels in ``store.py``, the label PDFs in ``labels.py``, webhook delivery in
``webhooks.py``:

* One server, two "hosts" by prefix: the v2 API at ``{base_url}/api/v2/...`` (pass ``base_url``
  as the client's ``api_base``) and the service-points host at
  ``{base_url}/servicepoints/api/v2/service-points`` (the client derives it from ``api_base``).
  Unknown ``/api/v2`` paths answer the v2 error shape, ``/api/v3`` paths the v3 one.
* Auth: HTTP Basic (public key : secret key) on every API and service-points route; anything
  else gets 401 ``{"error": {"code": 401, "message": "Invalid username/password.", "request"}}``.
* ``POST /api/v2/parcels`` (``{"parcel": {...}}`` or the batch ``{"parcels": [...]}``) validates
  like Sendcloud: required ``name``/``address``/``city``/``postal_code``/``country`` (ISO-2); a
  blank ``house_number`` is split out of ``address`` ("Stationsstraat 12A") and refused when the
  address has no number; ``request_label: true`` needs ``shipment.id`` (a known method that ships
  to the country); ``weight`` is kilograms (more than the method's maximum is refused, which
  catches grams sent as kilograms); dimensions all three or none; a method with
  ``service_point_input: "required"`` needs ``to_service_point`` and others refuse one.
  Field errors of a single parcel answer 200 ``{"failed_parcels": [{"parcel", "errors"}]}`` when
  the query asks for ``errors=verbose…`` (as our client does) and 400 with a v2 error otherwise;
  the batch form answers ``{"parcels", "failed_parcels"}``. ``external_reference`` is unique: a
  second create with the same value is refused with 400 ("external_reference: A parcel with
  this external_reference already exists.") and creates nothing.
  With a label: status 1000 "Ready to send", tracking number ``3SSTND`` + 7 digits, a
  ``tracking_url`` to the stand-in's own tracking page, ``carrier.code`` from the shipping method,
  ``label`` URLs and ``documents[]`` on the stand-in's own base. Without: 999 "No label", no
  tracking number, ``label: {}``. ``PUT /api/v2/parcels`` changes an unannounced parcel and, with
  ``request_label: true``, announces it.
* ``GET /api/v2/parcels/{id}``; ``GET /api/v2/parcels`` filters on ``order_number``,
  ``external_reference``, ``tracking_number``, ``ids`` (CSV), ``parcel_status``,
  ``updated_after``/``announced_after`` (ISO 8601), oldest first, ``page_size`` per page
  (constructor; small values let tests see paging) with a ``next`` cursor URL (``previous`` is
  always null); a cursor the stand-in did not make → 404 "Invalid cursor".
* Cancel (§4): 999 → 200 ``deleted`` (a later GET is 404); 1000/1001/1/13 → 200 ``cancelled``
  (status 2000, webhook), or with ``cancel_queued`` 202 ``queued`` (status 1999, webhook; the next
  simulator step completes it to 2000); 1999/2001 → 202 ``queued``; anything with the carrier,
  delivered, cancelled, or announced more than 42 days ago → 400 ``{"status": "failed",
  "message": "Shipped parcels, or parcels being shipped, can no longer be cancelled."}``;
  1002 → 410 and deleted; unknown → 404.
* Labels: ``GET /api/v2/labels/label_printer/{id}`` (A6), ``/api/v2/labels/normal_printer/{id}
  ?start_from=0..3`` (A4, the label in that quarter), ``/api/v2/parcels/{id}/documents/label``
  (A6; ``paper_size=a4`` for A4) return PDFs rendered with WeasyPrint (sender, recipient,
  routing code, carrier, tracking number as QR code), cached per parcel; ``GET
  /api/v2/labels/{id}`` lists the URLs. No label yet → 404.
* ``GET /api/v2/user``, ``/api/v2/user/addresses/sender`` (ids 192 and 193),
  ``/api/v2/shipping_methods`` (8 "PostNL Standard 0-23kg", 1343 "PostNL Service Point 0-23kg"
  with ``service_point_input: "required"``, 1315 DHL, 1325 DPD), ``/api/v2/parcels/statuses``
  (§5), and the service points (a JSON array; ``country`` required, ``carrier`` CSV,
  ``postal_code``, ``radius`` in metres) and ``/service-points/{id}``.
* Webhooks (§6): ``parcel_status_changed`` envelopes with ms ``timestamp`` and
  ``carrier_status_change_timestamp`` (strictly increasing per parcel) and the full parcel,
  POSTed to ``webhook_url`` with ``Sendcloud-Signature`` = hex HMAC-SHA256 of the exact bytes
  keyed with ``webhook_secret`` (default: the secret key), from sender threads. Non-2xx or failed
  deliveries are retried after each of ``retry_delays`` with the same bytes, then given up and
  kept in ``failed_webhooks``. Status changes made by API calls (cancel) send webhooks;
  creation does only with ``webhook_on_create``.
* Test switches (plain attributes/methods, and under ``/_standin/...`` for other processes):
  ``advance(id, status_id)``, ``advance_all()``, ``duplicate_webhooks``, ``scramble`` (each batch
  shuffled), ``hold_webhooks()`` / ``release_webhooks(order)``, ``drop_webhooks``,
  ``rate_limit(n, retry_after=1)``, ``fail_next_create(status, body)``,
  ``stall_next_create(seconds)``, ``cancel_queued``; records ``sent_webhooks``,
  ``failed_webhooks``, ``dropped_webhooks``, ``events``, ``requests``, ``parcels``.
  Admin routes: ``GET /_standin/parcels``, ``POST /_standin/parcels/{id}/advance``
  ``{"status_id"}``, ``POST /_standin/advance-all``, ``POST /_standin/rate-limit``
  ``{"count", "retry_after"}``, ``POST /_standin/fail-next-create`` ``{"status", "body"}``,
  ``POST /_standin/stall-next-create`` ``{"seconds"}``, ``GET|POST /_standin/settings`` (the
  switches, and ``auto``), ``GET /_standin/webhooks``, ``POST /_standin/webhooks/hold``,
  ``…/release`` ``{"order"}``, ``…/flush``, ``POST /_standin/reset``.
* Auto mode (``auto=True``): every ``auto_interval`` seconds each parcel with a label that is
  still moving takes one step along 1000 → 1 → 22 → 3 → 91 → 92 → 11 (a requested cancellation
  completes), sending webhooks.

Not implemented: v3 endpoints (they answer the v3 404 shape), OAuth2, returns, customs documents,
ZPL/PNG labels, multi-collo parcels.

Standalone (for ``make dev``):
``python -m standins.sendcloud --port 8302 --webhook-url URL --auto``.
"""

from standins.sendcloud.api import (
    BAD_CREDENTIALS_MESSAGE,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    INVALID_CURSOR_MESSAGE,
    RATE_LIMIT_MESSAGE,
    SendcloudStandin,
)
from standins.sendcloud.store import CANNOT_CANCEL_MESSAGE, LIFECYCLE, STATUSES
from standins.sendcloud.webhooks import SIGNATURE_HEADER, sign

__all__ = [
    "BAD_CREDENTIALS_MESSAGE",
    "CANNOT_CANCEL_MESSAGE",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SECRET_KEY",
    "INVALID_CURSOR_MESSAGE",
    "LIFECYCLE",
    "RATE_LIMIT_MESSAGE",
    "SIGNATURE_HEADER",
    "STATUSES",
    "SendcloudStandin",
    "sign",
]
