"""Sendcloud: the httpx API client and webhook verification.

Follows ../shared/contracts/sendcloud.md:

* §1: `{api_base}/api/v2/...` with HTTP Basic auth (public key : secret key). Errors come as
  v2 `{"error": {"code", "message"}}`, v3 `{"errors": [{"detail"}]}`, a cancel's
  `{"status": "failed", "message"}`, or a 200 whose body lists `failed_parcels` with field errors.
* §3: parcels are created with `POST /api/v2/parcels?errors=verbose-carrier`; `weight` is a string
  in kilograms with three decimals, dimensions strings in cm (all three or none), and
  `external_reference` is unique at Sendcloud, which is what makes creation idempotent: after an
  answer that may have been lost, look the parcel up by it (`find_parcel`) instead of sending again.
* §4: cancel answers "cancelled", "deleted" or "queued"; a 400 means the parcel is with the
  carrier, delivered or too old (`SendcloudError.cannot_cancel`); a 410 means a parcel whose
  announcement failed was deleted.
* §6: webhooks are signed with `Sendcloud-Signature` = hex HMAC-SHA256 of the exact body bytes,
  keyed with the integration's secret; `timestamp` is in milliseconds.
* §7: back off on 429 (a numeric `Retry-After` wins) and on 5xx / transport errors.

Every call goes through the outbound guard (app/platform/outbound.py): only Sendcloud's own
https hosts in production, no redirects. Errors are short sentences for a shop owner; of the
answer they carry at most Sendcloud's own `message`/`detail` text, trimmed, never the raw body.

Label and pagination URLs in Sendcloud's answers are treated as opaque: the client builds its
own URLs from `api_base` (so a stand-in base works the same) and sends its own auth.

One client talks to one Sendcloud integration; the caller builds it from a shop's connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from app.platform import outbound

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://panel.sendcloud.sc"
DEFAULT_SERVICEPOINTS_BASE = "https://servicepoints.sendcloud.sc"
SIGNATURE_HEADER = "Sendcloud-Signature"
LABEL_FORMATS = ("a6", "a4")
# Sendcloud's own clients give the shipping-method list a minute: it can be slow (contract §2).
SHIPPING_METHODS_TIMEOUT = 60.0
MAX_PAGES = 1000  # parcel list pages followed at most (a cursor loop must end)
# HTTP statuses that mean "not accepted, nothing happened": safe to send again for any call.
_REJECTED_STATUSES = frozenset({429, 502, 503, 504})
# Transport errors raised before the request reached Sendcloud: safe to send again for any call.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_KG = Decimal("0.001")
_CENTS = Decimal("0.01")


class SendcloudError(Exception):
    """A failed Sendcloud call, as a sentence a shop owner understands.

    `status_code` is the HTTP status (None when Sendcloud was not reached), `retry_after` the
    seconds Sendcloud asked us to wait (429), `payload` the decoded JSON answer when there was
    one (for code; never shown to people). `message` never contains the raw answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        payload: Any = None,
        unreachable: bool = False,
        cannot_cancel: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.payload = payload
        self._unreachable = unreachable
        self._cannot_cancel = cannot_cancel

    @property
    def rate_limited(self) -> bool:
        """Sendcloud answered 429: too many calls; wait `retry_after` (when given) and try again."""
        return self.status_code == 429

    @property
    def not_found(self) -> bool:
        """Sendcloud does not know the object (404)."""
        return self.status_code == 404

    @property
    def transient(self) -> bool:
        """Worth trying again later: rate limited, a Sendcloud server error, or not reached at all
        (a call refused by the outbound guard is not transient: it needs a settings change)."""
        return self._unreachable or self.status_code == 429 or (self.status_code or 0) >= 500

    @property
    def cannot_cancel(self) -> bool:
        """A cancel Sendcloud refused because the parcel is with the carrier, delivered, already
        cancelled or announced too long ago: the label can no longer be voided."""
        return self._cannot_cancel


# =============================================================================================
# Requests and answers
# =============================================================================================


@dataclass(frozen=True)
class ParcelItem:
    """One line of the parcel's contents (needed for customs outside the EU).

    `weight_grams` and `value` are per unit; Sendcloud multiplies by `quantity`.
    """

    description: str
    quantity: int
    weight_grams: int
    value: Decimal
    sku: str = ""


@dataclass(frozen=True)
class ParcelRequest:
    """What we ask Sendcloud to ship (contract §3). `name`, `address`, `city`, `postal_code` and
    `country` (ISO 3166 alpha-2) are required. `weight_grams` 0 leaves the weight to the
    account's default; the dimensions are all three or none. `external_reference` must be unique
    per parcel at Sendcloud: it is what makes creation safe to repeat."""

    name: str
    address: str
    city: str
    postal_code: str
    country: str
    house_number: str = ""
    address_2: str = ""
    company_name: str = ""
    country_state: str = ""
    telephone: str = ""
    email: str = ""
    weight_grams: int = 0
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    order_number: str = ""
    external_reference: str = ""
    shipping_method_id: int | None = None
    sender_address_id: int | None = None
    to_service_point: int | None = None
    total_order_value: Decimal | None = None
    currency: str = "EUR"
    items: tuple[ParcelItem, ...] = ()
    request_label: bool = True

    def __post_init__(self) -> None:
        dimensions = (self.length_cm, self.width_cm, self.height_cm)
        if any(d is not None for d in dimensions) and not all(d is not None for d in dimensions):
            raise ValueError("Parcel dimensions need all three of length, width and height, or none of them")
        if self.weight_grams < 0:
            raise ValueError("A parcel's weight cannot be negative")

    def payload(self) -> dict[str, Any]:
        """The `{"parcel": {...}}` body of `POST /api/v2/parcels`."""
        parcel: dict[str, Any] = {
            "name": self.name,
            "company_name": self.company_name,
            "address": self.address,
            "house_number": self.house_number,
            "address_2": self.address_2,
            "city": self.city,
            "postal_code": self.postal_code,
            "country": self.country.strip().upper(),
            "country_state": self.country_state,
            "telephone": self.telephone,
            "email": self.email,
            "request_label": self.request_label,
            "quantity": 1,
        }
        if self.weight_grams > 0:
            parcel["weight"] = _kilograms(self.weight_grams)
        if self.length_cm is not None and self.width_cm is not None and self.height_cm is not None:
            parcel["length"], parcel["width"], parcel["height"] = (
                str(self.length_cm),
                str(self.width_cm),
                str(self.height_cm),
            )
        if self.order_number:
            parcel["order_number"] = self.order_number
        if self.external_reference:
            parcel["external_reference"] = self.external_reference
        if self.shipping_method_id is not None:
            parcel["shipment"] = {"id": int(self.shipping_method_id)}
        if self.sender_address_id is not None:
            parcel["sender_address"] = int(self.sender_address_id)
        if self.to_service_point is not None:
            parcel["to_service_point"] = int(self.to_service_point)
        if self.total_order_value is not None:
            parcel["total_order_value"] = str(Decimal(self.total_order_value).quantize(_CENTS))
            parcel["total_order_value_currency"] = self.currency
        if self.items:
            parcel["parcel_items"] = [_item_payload(item) for item in self.items]
        return {"parcel": parcel}


def _kilograms(grams: int) -> str:
    """Grams as Sendcloud's weight: a kilogram string with three decimals ("0.420")."""
    return str((Decimal(int(grams)) / 1000).quantize(_KG))


def _item_payload(item: ParcelItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": item.description,
        "quantity": int(item.quantity),
        "weight": _kilograms(item.weight_grams),
        # numeric, at most two decimals (contract §3)
        "value": float(Decimal(item.value).quantize(_CENTS)),
    }
    if item.sku:
        out["sku"] = item.sku
    return out


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int_or_none(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _text(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Parcel:
    """A Sendcloud v2 parcel object, from an API answer or a webhook, with the fields we use.

    `carrier` is the lower-case `carrier.code` ("postnl"); `status_id` the numeric parcel status
    (contract §5; may be an id we do not know). The label URLs are Sendcloud's, kept for the
    record: `SendcloudClient.label_pdf` builds its own. `raw` is the whole object.
    """

    id: int
    status_id: int | None
    status_message: str
    tracking_number: str
    tracking_url: str
    carrier: str
    external_reference: str
    order_number: str
    shipping_method_id: int | None
    shipping_method_name: str
    label_printer_url: str
    normal_printer_urls: tuple[str, ...]
    raw: dict = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_api(cls, data: object) -> Parcel:
        """Parse a parcel object; ValueError when it is not one (no numeric `id`)."""
        if not isinstance(data, Mapping):
            raise ValueError("the parcel is not a JSON object")
        parcel_id = _int_or_none(data.get("id"))
        if parcel_id is None:
            raise ValueError("the parcel has no id")
        status = _mapping(data.get("status"))
        carrier = data.get("carrier")
        carrier_code = _mapping(carrier).get("code") if isinstance(carrier, Mapping) else carrier
        method = _mapping(data.get("shipment"))
        label = _mapping(data.get("label"))
        normal = label.get("normal_printer")
        return cls(
            id=parcel_id,
            status_id=_int_or_none(status.get("id")),
            status_message=_text(status.get("message")),
            tracking_number=_text(data.get("tracking_number")),
            tracking_url=_text(data.get("tracking_url")),
            carrier=_text(carrier_code).lower(),
            external_reference=_text(data.get("external_reference")),
            order_number=_text(data.get("order_number")),
            shipping_method_id=_int_or_none(method.get("id")),
            shipping_method_name=_text(method.get("name")),
            label_printer_url=_text(label.get("label_printer")),
            normal_printer_urls=tuple(str(u) for u in normal) if isinstance(normal, list) else (),
            raw=dict(data),
        )


@dataclass(frozen=True)
class WebhookEvent:
    """One Sendcloud webhook delivery (contract §6). The timestamps are milliseconds since the
    epoch; `carrier_status_at_ms` (`carrier_status_change_timestamp`) is when the carrier reported
    the status and may be None. `parcel` is None for integration events."""

    action: str
    timestamp_ms: int | None
    carrier_status_at_ms: int | None
    parcel: Parcel | None
    raw: dict = field(repr=False, compare=False, hash=False)

    @property
    def dedupe_key(self) -> tuple[int, int, int] | None:
        """`(parcel id, status id, timestamp)`: Sendcloud sends no delivery id, so a repeated
        delivery is recognised by these (contract §6). None for events without a parcel."""
        if self.parcel is None:
            return None
        return (self.parcel.id, self.parcel.status_id or 0, self.timestamp_ms or 0)


def signature(raw_body: bytes, secret: str) -> str:
    """The `Sendcloud-Signature` of a body: lower-case hex HMAC-SHA256 keyed with the secret."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_webhook(raw_body: bytes, header_value: str | None, secret: str) -> bool:
    """True when `header_value` is the signature of these exact bytes (contract §6 recipe).

    Constant-time compare; an empty secret or a missing header never verifies.
    """
    if not secret or not header_value:
        return False
    given = header_value.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(signature(raw_body, secret).encode(), given)


def parse_webhook(raw_body: bytes) -> WebhookEvent:
    """The delivery as a `WebhookEvent`; ValueError saying what is wrong with it."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The Sendcloud webhook body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("The Sendcloud webhook body is not a JSON object")
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise ValueError("The Sendcloud webhook has no action")
    parcel: Parcel | None = None
    if data.get("parcel") is not None:
        try:
            parcel = Parcel.from_api(data["parcel"])
        except ValueError as exc:
            raise ValueError(f"The Sendcloud webhook's parcel is not usable: {exc}") from None
    elif action == "parcel_status_changed":
        raise ValueError("The Sendcloud parcel_status_changed webhook has no parcel")
    return WebhookEvent(
        action=action,
        timestamp_ms=_int_or_none(data.get("timestamp")),
        carrier_status_at_ms=_int_or_none(data.get("carrier_status_change_timestamp")),
        parcel=parcel,
        raw=data,
    )


def error_message(body: object, limit: int = 300) -> str:
    """Sendcloud's own explanation in an error answer, one trimmed line ("" when none):
    v2 `error.message`, v3 `errors[].detail`, a cancel's `message`, or the field errors of
    `failed_parcels` / a plain `{"field": ["problem"]}` as "field: problem"."""
    if not isinstance(body, Mapping):
        return ""
    parts: list[str] = []
    error = body.get("error")
    if isinstance(error, Mapping):
        parts.append(outbound.api_message(error.get("message"), limit))
    elif isinstance(error, str):
        parts.append(outbound.api_message(error, limit))
    errors = body.get("errors")
    if isinstance(errors, list):
        parts.extend(outbound.api_message(_mapping(e).get("detail"), limit) for e in errors)
    elif isinstance(errors, Mapping):
        parts.append(_field_errors(errors, limit))
    failed = body.get("failed_parcels")
    if isinstance(failed, list):
        parts.extend(_field_errors(_mapping(_mapping(f).get("errors")), limit) for f in failed)
    if not any(parts):
        parts.append(outbound.api_message(body.get("message"), limit))
    text = "; ".join(dict.fromkeys(p for p in parts if p))
    return outbound.api_message(text, limit)


def _field_errors(errors: Mapping[str, Any], limit: int, prefix: str = "") -> str:
    """`{"house_number": ["This field may not be blank."]}` → "house_number: This field may not be blank."
    (nested serializer errors such as `{"shipment": {"id": [...]}}` read "shipment.id: ...")."""
    out = []
    for name, problems in errors.items():
        field_name = prefix + outbound.api_message(str(name), 60)
        if isinstance(problems, Mapping):
            inner = _field_errors(problems, limit, f"{field_name}.")
            if inner:
                out.append(inner)
            continue
        texts = problems if isinstance(problems, list) else [problems]
        words = " ".join(outbound.api_message(t, limit) for t in texts if isinstance(t, str))
        if words:
            out.append(f"{field_name}: {words}")
    return "; ".join(out)


# =============================================================================================
# The client
# =============================================================================================


class SendcloudClient:
    """API client for one Sendcloud API integration (public + secret key).

    `retries` bounds the re-sends after a 429/5xx answer or a transport error, with exponential
    backoff (`backoff * 2**n`, capped at `max_backoff`). A numeric `Retry-After` is honoured: when
    it fits within `max_backoff` the call waits and tries again, otherwise it raises at once with
    `retry_after` set so a job can be rescheduled instead of holding a worker. Calls that create or
    cancel something are re-sent only when the request certainly did not take effect
    (429/502/503/504, or the connection was never made); after a timeout the caller looks the
    parcel up by its external reference instead. Pass `sleep` to make the waits instant in tests.
    """

    def __init__(
        self,
        public_key: str,
        secret_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        servicepoints_base: str | None = None,
        timeout: float = 20.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        # Sendcloud serves service points from their own host; a stand-in (any other api_base)
        # serves them under `{api_base}/servicepoints`.
        if servicepoints_base:
            self.servicepoints_base = servicepoints_base.rstrip("/")
        elif self.api_base == DEFAULT_API_BASE:
            self.servicepoints_base = DEFAULT_SERVICEPOINTS_BASE
        else:
            self.servicepoints_base = f"{self.api_base}/servicepoints"
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.http = outbound.client(
            outbound.SENDCLOUD,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "Shopfloor (Sendcloud API integration)"},
        )
        self.http.auth = httpx.BasicAuth(public_key.strip(), secret_key.strip())

    # -- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SendcloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def api_url(self, path: str) -> str:
        """`{api_base}/api/v2/{path}`."""
        return f"{self.api_base}/api/v2/{path.lstrip('/')}"

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: Retry-After when given, else backoff."""
        retry_after = _retry_after(response)
        if retry_after is not None:
            return retry_after
        return min(self.max_backoff, self.backoff * 2**attempt)

    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send with retries; the final answer whatever its status (redirects refused).

        `what` names the call in log lines and in the unreachable message.
        """
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except outbound.OutboundRefused as exc:
                raise SendcloudError(exc.message) from None
            except httpx.TransportError as exc:
                if attempt < self.retries and (idempotent or isinstance(exc, _NOT_SENT_ERRORS)):
                    log.info("Sendcloud %s: %s; retrying", what, type(exc).__name__)
                    self.sleep(self._delay(attempt, None))
                    attempt += 1
                    continue
                log.warning("Sendcloud %s: %s: %s", what, type(exc).__name__, exc)
                if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, _NOT_SENT_ERRORS):
                    message = f"Sendcloud did not answer in time ({what})"
                else:
                    message = f"Sendcloud could not be reached ({what})"
                raise SendcloudError(message, unreachable=True) from exc
            retryable = response.status_code in _REJECTED_STATUSES or (idempotent and response.status_code >= 500)
            if retryable and attempt < self.retries:
                delay = self._delay(attempt, response)
                if delay <= self.max_backoff:
                    log.info("Sendcloud %s answered %s; retrying in %.1f s", what, response.status_code, delay)
                    self.sleep(delay)
                    attempt += 1
                    continue
            if response.is_redirect:
                raise SendcloudError(
                    outbound.redirect_refused(outbound.SENDCLOUD, response) + f" ({what})",
                    status_code=response.status_code,
                )
            return response

    def _fail(self, response: httpx.Response, refused: str) -> SendcloudError:
        """The error for a non-2xx answer; `refused` starts the 4xx sentence ("Sendcloud refused
        the parcel")."""
        body = _json_or_none(response)
        status = response.status_code
        message = error_message(body)
        retry_after = _retry_after(response)
        if status in (401, 403):
            text = f"Sendcloud refused our API keys ({status}): check the public and secret key"
        elif status == 429:
            wait = f"; try again in {retry_after:g} s" if retry_after is not None else ""
            text = f"Sendcloud is limiting how fast we call it (429){wait}"
        elif status >= 500:
            text = f"Sendcloud had a problem on its side (HTTP {status}); try again later"
        elif message:
            text = f"{refused}: {message}"
        else:
            text = f"{refused} (HTTP {status})"
        return SendcloudError(text, status_code=status, retry_after=retry_after, payload=body)

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        refused: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        timeout: float | None = None,
        base: str | None = None,
    ) -> Any:
        """A JSON call on `{base or api_base/api/v2}/{path}`: the decoded answer, or SendcloudError."""
        url = f"{base}/{path.lstrip('/')}" if base else self.api_url(path)
        response = self._send(method, url, what=what, params=params, json=json, idempotent=idempotent, timeout=timeout)
        if response.status_code >= 300:
            raise self._fail(response, refused)
        body = _json_or_none(response)
        if body is None:
            raise SendcloudError(f"Sendcloud answered something that is not JSON ({what})", status_code=200)
        return body

    # -- account -------------------------------------------------------------------------------

    def user(self) -> dict:
        """`GET /api/v2/user`: the account behind the keys. The connection test: raises
        SendcloudError (401) when the keys are wrong."""
        body = self._call("GET", "user", what="account check", refused="Sendcloud refused the account check")
        user = _mapping(body).get("user")
        if not isinstance(user, dict):
            raise SendcloudError("Sendcloud answered the account check without an account", payload=body)
        return user

    def sender_addresses(self) -> list[dict]:
        """`GET /api/v2/user/addresses/sender`: the saved sender addresses (each with its `id`)."""
        body = self._call(
            "GET", "user/addresses/sender", what="sender addresses", refused="Sendcloud refused the sender addresses"
        )
        return [a for a in _mapping(body).get("sender_addresses") or [] if isinstance(a, dict)]

    def shipping_methods(self, *, sender_address: int | None = None) -> list[dict]:
        """`GET /api/v2/shipping_methods`: the methods the account may use (from one sender
        address, or the default one). Each has `id`, `name`, `carrier`, `min_weight`,
        `max_weight`, `service_point_input` ("none" | "required") and `countries`."""
        params = {"sender_address": int(sender_address)} if sender_address is not None else None
        body = self._call(
            "GET",
            "shipping_methods",
            what="shipping methods",
            refused="Sendcloud refused the shipping methods",
            params=params,
            timeout=max(self.timeout, SHIPPING_METHODS_TIMEOUT),
        )
        return [m for m in _mapping(body).get("shipping_methods") or [] if isinstance(m, dict)]

    def statuses(self) -> list[dict]:
        """`GET /api/v2/parcels/statuses`: `[{"id", "message"}, ...]` (the list may grow)."""
        body = self._call(
            "GET", "parcels/statuses", what="parcel statuses", refused="Sendcloud refused the parcel statuses"
        )
        return [s for s in body if isinstance(s, dict)] if isinstance(body, list) else []

    # -- parcels -------------------------------------------------------------------------------

    def create_parcel(self, request: ParcelRequest) -> Parcel:
        """`POST /api/v2/parcels?errors=verbose-carrier`: create (and with `request_label`,
        announce) one parcel. A 200 listing `failed_parcels` is an error naming the fields.

        Sent again only when Sendcloud certainly did not take it (429/502/503/504, connection
        never made). After any other failure it may exist: look it up with `find_parcel`.
        """
        refused = "Sendcloud refused the parcel"
        body = self._call(
            "POST",
            "parcels",
            what="create parcel",
            refused=refused,
            params={"errors": "verbose-carrier"},
            json=request.payload(),
            idempotent=False,
        )
        data = _mapping(body)
        if data.get("failed_parcels"):
            message = error_message({"failed_parcels": data["failed_parcels"]})
            raise SendcloudError(
                f"{refused}: {message}" if message else f"{refused} without saying why", status_code=200, payload=body
            )
        parcel = data.get("parcel")
        if parcel is None and isinstance(data.get("parcels"), list) and data["parcels"]:
            parcel = data["parcels"][0]
        try:
            return Parcel.from_api(parcel)
        except ValueError:
            raise SendcloudError("Sendcloud answered the new parcel without it", payload=body) from None

    def find_parcel(self, external_reference: str) -> Parcel | None:
        """The parcel created with this external reference, or None (`GET /api/v2/parcels?external_reference=`)."""
        if not external_reference:
            return None
        body = self._call(
            "GET",
            "parcels",
            what="find parcel",
            refused="Sendcloud refused the parcel search",
            params={"external_reference": external_reference},
        )
        for item in _mapping(body).get("parcels") or []:
            with contextlib.suppress(ValueError):
                parcel = Parcel.from_api(item)
                if parcel.external_reference == external_reference:
                    return parcel
        return None

    def get_parcel(self, parcel_id: int) -> Parcel:
        """`GET /api/v2/parcels/{id}`; SendcloudError with `not_found` when it does not exist
        (an unannounced parcel that was deleted, for one)."""
        body = self._call(
            "GET",
            f"parcels/{int(parcel_id)}",
            what=f"parcel {parcel_id}",
            refused=f"Sendcloud has no parcel {parcel_id}",
        )
        try:
            return Parcel.from_api(_mapping(body).get("parcel"))
        except ValueError:
            raise SendcloudError(f"Sendcloud answered without parcel {parcel_id}", payload=body) from None

    def parcels(self, *, updated_after: datetime | None = None, ids: list[int] | None = None) -> Iterator[Parcel]:
        """Every parcel matching the filters (`GET /api/v2/parcels`), following the `next`
        cursor page by page. The cursor is read out of `next` and sent to our own base, so a
        `next` that names another host is never called."""
        params: dict[str, Any] = {}
        if updated_after is not None:
            when = updated_after if updated_after.tzinfo else updated_after.replace(tzinfo=UTC)
            params["updated_after"] = when.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if ids:
            params["ids"] = ",".join(str(int(i)) for i in ids)
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            body = _mapping(
                self._call(
                    "GET", "parcels", what="parcel list", refused="Sendcloud refused the parcel list", params=params
                )
            )
            for item in body.get("parcels") or []:
                try:
                    yield Parcel.from_api(item)
                except ValueError:
                    log.warning("Sendcloud parcel list: skipped an entry without an id")
            cursor = _cursor(body.get("next"))
            if not cursor or cursor in seen_cursors:
                return
            seen_cursors.add(cursor)
            params = {**params, "cursor": cursor}
        log.warning("Sendcloud parcel list: stopped after %d pages", MAX_PAGES)

    def cancel_parcel(self, parcel_id: int) -> str:
        """`POST /api/v2/parcels/{id}/cancel`: void the label (contract §4).

        Returns "cancelled" (announced parcel, kept at Sendcloud as cancelled), "deleted" (an
        unannounced parcel, or one whose announcement failed: HTTP 410, gone) or "queued" (the
        carrier cancels later; a webhook reports 1999 → 2000). Raises SendcloudError with
        `cannot_cancel` when Sendcloud refuses (with the carrier, delivered, already cancelled,
        too old) and with `not_found` for an unknown parcel.
        """
        what = f"cancel parcel {parcel_id}"
        response = self._send("POST", self.api_url(f"parcels/{int(parcel_id)}/cancel"), what=what, idempotent=False)
        body = _json_or_none(response)
        if response.status_code == 410:
            return "deleted"
        if response.status_code in (200, 202):
            status = _text(_mapping(_mapping(body).get("data") or body).get("status")).lower()
            if status in ("cancelled", "deleted", "queued"):
                return status
            return "queued" if response.status_code == 202 else "cancelled"
        if response.status_code in (400, 409):
            message = error_message(body) or "the parcel is already with the carrier, delivered or cancelled"
            raise SendcloudError(
                f"Sendcloud cannot cancel parcel {parcel_id}: {message}",
                status_code=response.status_code,
                payload=body,
                cannot_cancel=True,
            )
        if response.status_code == 404:
            raise SendcloudError(f"Sendcloud has no parcel {parcel_id} to cancel", status_code=404, payload=body)
        raise self._fail(response, f"Sendcloud refused to cancel parcel {parcel_id}")

    # -- labels --------------------------------------------------------------------------------

    def label_pdf(self, parcel_id: int, *, label_format: str = "a6") -> bytes:
        """The parcel's label as PDF bytes: "a6" for a label printer
        (`/api/v2/labels/label_printer/{id}`), "a4" for an office printer, label in the first
        quarter (`/api/v2/labels/normal_printer/{id}?start_from=0`)."""
        if label_format not in LABEL_FORMATS:
            raise ValueError(f"Unknown label format {label_format!r}: use a6 or a4")
        if label_format == "a6":
            url, params = self.api_url(f"labels/label_printer/{int(parcel_id)}"), None
        else:
            url, params = self.api_url(f"labels/normal_printer/{int(parcel_id)}"), {"start_from": 0}
        what = f"label of parcel {parcel_id}"
        response = self._send("GET", url, what=what, params=params, headers={"Accept": "application/pdf"})
        if response.status_code >= 300:
            raise self._fail(response, f"Sendcloud has no label for parcel {parcel_id}")
        data = response.content
        if not data.startswith(b"%PDF-"):
            raise SendcloudError(f"Sendcloud's label for parcel {parcel_id} is not a PDF", status_code=200)
        return data

    # -- service points ------------------------------------------------------------------------

    def service_points(
        self,
        country: str,
        *,
        postal_code: str = "",
        city: str = "",
        house_number: str = "",
        carrier: str = "",
        radius: int | None = None,
    ) -> list[dict]:
        """Pick-up points near an address (`GET {servicepoints}/api/v2/service-points`), each with
        `id`, `name`, `street`, `house_number`, `postal_code`, `city`, `carrier`, `distance`."""
        params: dict[str, Any] = {"country": country.strip().upper()}
        for key, value in (("postal_code", postal_code), ("city", city), ("house_number", house_number)):
            if value:
                params[key] = value
        if carrier:
            params["carrier"] = carrier
        if radius is not None:
            params["radius"] = int(radius)
        body = self._call(
            "GET",
            "api/v2/service-points",
            what="service points",
            refused="Sendcloud refused the service point search",
            params=params,
            base=self.servicepoints_base,
        )
        return [p for p in body if isinstance(p, dict)] if isinstance(body, list) else []

    def service_point(self, point_id: int) -> dict:
        """One service point by id (`GET {servicepoints}/api/v2/service-points/{id}`)."""
        body = self._call(
            "GET",
            f"api/v2/service-points/{int(point_id)}",
            what=f"service point {point_id}",
            refused=f"Sendcloud has no service point {point_id}",
            base=self.servicepoints_base,
        )
        if not isinstance(body, dict):
            raise SendcloudError(f"Sendcloud answered without service point {point_id}", payload=body)
        return body


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _retry_after(response: httpx.Response | None) -> float | None:
    """A numeric `Retry-After` (seconds), or None (absent, a date, or nonsense)."""
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN is not a wait


def _cursor(next_url: object) -> str:
    """The `cursor` parameter of a `next` link ("" when there is no next page)."""
    if not isinstance(next_url, str) or not next_url:
        return ""
    try:
        return httpx.URL(next_url).params.get("cursor") or ""
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""
