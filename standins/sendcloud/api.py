"""The Sendcloud stand-in's HTTP side, and ``SendcloudStandin`` itself: the v2 API under
``/api/v2``, the service-points host under ``/servicepoints/api/v2``, a public tracking page,
and the ``/_standin`` admin API that drives the simulator from another process, over the
account (store.py), its labels (labels.py) and its webhook delivery (webhooks.py). The package
docstring has the details.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import hmac
import html
import json
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from standins.sendcloud.labels import A4_QUARTERS, render_label
from standins.sendcloud.store import COUNTRIES, STATUS_MESSAGES, STATUSES, ParcelStore, sendcloud_date
from standins.sendcloud.webhooks import WebhookSender
from standins.server import ThreadedServer

DEFAULT_PUBLIC_KEY = "sc_standin_public_0123456789abcdef"
DEFAULT_SECRET_KEY = "sc_standin_secret_fedcba9876543210"
BAD_CREDENTIALS_MESSAGE = "Invalid username/password."
RATE_LIMIT_MESSAGE = "Too many requests, please slow down."
NOT_FOUND_MESSAGE = "No Parcel matches the given query."
INVALID_CURSOR_MESSAGE = "Invalid cursor"
DOCUMENT_TYPES = ("label", "cn23", "cn23-default", "commercial-invoice", "cp71", "air-waybill", "qr")

Handler = Callable[[Request], Awaitable[Response]]


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected text or null")
    return value or None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected text")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


# What /_standin/settings accepts, and how each value is checked.
_SETTING_TYPES: dict[str, Callable[[Any], Any]] = {
    "webhook_url": _optional_text,
    "webhook_secret": _text,
    "retry_delays": lambda value: tuple(float(d) for d in value),
    "duplicate_webhooks": _flag,
    "scramble": _flag,
    "drop_webhooks": _flag,
    "cancel_queued": _flag,
    "webhook_on_create": _flag,
    "page_size": lambda value: max(1, int(value)),
    "auto_interval": lambda value: max(0.01, float(value)),
    "auto": _flag,
}


def v2_error(request: Request | str, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The v2 error envelope ``{"error": {"code", "message", "request"}}``."""
    path = request if isinstance(request, str) else request.url.path
    body = {"error": {"code": status, "message": message, "request": path.lstrip("/")}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_message(errors: dict[str, list[str]]) -> str:
    """``{"house_number": ["This field may not be blank."]}`` → "house_number: This field may not be blank."."""
    return "; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items())


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"p={last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The last parcel id of the previous page, or None for a cursor we did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("p="):
        return None
    try:
        return int(text[2:])
    except ValueError:
        return None


class SendcloudStandin(ParcelStore, WebhookSender):
    """In-memory Sendcloud account with a parcel status simulator (see the package docstring).

    Switches and records are plain attributes and methods; change them between requests.
    Everything touching state holds ``self.lock``.
    """

    _KNOBS = (
        "webhook_url",
        "webhook_secret",
        "retry_delays",
        "duplicate_webhooks",
        "scramble",
        "drop_webhooks",
        "cancel_queued",
        "webhook_on_create",
        "page_size",
        "auto_interval",
        "pickup_after",
        "pickup_share",
    )

    def __init__(
        self,
        public_key: str = DEFAULT_PUBLIC_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        auto: bool = False,
        auto_interval: float = 2.0,
        pickup_after: float = 0.0,
        pickup_share: float = 1.0,
        retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0),
        duplicate_webhooks: bool = False,
        scramble: bool = False,
        drop_webhooks: bool = False,
        cancel_queued: bool = False,
        webhook_on_create: bool = False,
        page_size: int = 100,
        senders: int = 1,
        webhook_timeout: float = 5.0,
        seed: int = 0,
    ) -> None:
        self.public_key = public_key
        self.secret_key = secret_key
        self.host = host
        self.port = port
        # webhooks
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or secret_key
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.duplicate_webhooks = duplicate_webhooks
        self.scramble = scramble
        self.drop_webhooks = drop_webhooks
        self.webhook_timeout = webhook_timeout
        # behaviour
        self.auto = auto
        self.auto_interval = auto_interval
        # the simulated driver collects a parcel this long after its label was made
        self.pickup_after = max(0.0, float(pickup_after))
        # and collects only this share of the parcels (the rest wait on the shop's bench)
        self.pickup_share = min(1.0, max(0.0, float(pickup_share)))
        self.cancel_queued = cancel_queued
        self.webhook_on_create = webhook_on_create
        self.page_size = max(1, int(page_size))
        self._knobs = {name: copy.deepcopy(getattr(self, name)) for name in self._KNOBS}

        self._init_store()
        self._init_webhooks(senders, seed)
        self._labels: dict[tuple[int, str, int], bytes] = {}
        self._throttle_left = 0
        self._retry_after: float = 1.0
        self._create_failures: deque[tuple[int, Any]] = deque()
        self._stall_next_create = 0.0
        # records for assertions
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)
        self.throttled = 0
        self.unauthorized = 0
        self._http: ThreadedServer | None = None
        self.root_url: str | None = None

        api = self._api
        routes = [
            Route("/_standin/health", self._health, methods=["GET"]),
            Route("/_standin/parcels", self._admin_parcels, methods=["GET"]),
            Route("/_standin/parcels/{parcel_id:int}/advance", self._admin_advance, methods=["POST"]),
            Route("/_standin/advance-all", self._admin_advance_all, methods=["POST"]),
            Route("/_standin/rate-limit", self._admin_rate_limit, methods=["POST"]),
            Route("/_standin/fail-next-create", self._admin_fail_next_create, methods=["POST"]),
            Route("/_standin/stall-next-create", self._admin_stall_next_create, methods=["POST"]),
            Route("/_standin/settings", self._admin_settings, methods=["GET", "POST"]),
            Route("/_standin/webhooks", self._admin_webhooks, methods=["GET"]),
            Route("/_standin/webhooks/hold", self._admin_hold, methods=["POST"]),
            Route("/_standin/webhooks/release", self._admin_release, methods=["POST"]),
            Route("/_standin/webhooks/flush", self._admin_flush, methods=["POST"]),
            Route("/_standin/reset", self._admin_reset, methods=["POST"]),
            Route("/tracking/forward", self._tracking_page, methods=["GET"]),
            Route("/api/v2/user", api(self._user), methods=["GET"]),
            Route("/api/v2/user/addresses/sender", api(self._senders), methods=["GET"]),
            Route("/api/v2/shipping_methods", api(self._shipping_methods), methods=["GET"]),
            Route("/api/v2/parcels", api(self._parcels_list), methods=["GET"]),
            Route("/api/v2/parcels", api(self._parcels_create), methods=["POST"]),
            Route("/api/v2/parcels", api(self._parcels_update), methods=["PUT"]),
            Route("/api/v2/parcels/statuses", api(self._statuses), methods=["GET"]),
            Route("/api/v2/parcels/{parcel_id:int}", api(self._parcel_get), methods=["GET"]),
            Route("/api/v2/parcels/{parcel_id:int}/cancel", api(self._parcel_cancel), methods=["POST"]),
            Route("/api/v2/parcels/{parcel_id:int}/documents/{kind}", api(self._document), methods=["GET"]),
            Route("/api/v2/labels/{parcel_id:int}", api(self._label_links), methods=["GET"]),
            Route("/api/v2/labels/label_printer/{parcel_id:int}", api(self._label_a6), methods=["GET"]),
            Route("/api/v2/labels/normal_printer/{parcel_id:int}", api(self._label_a4), methods=["GET"]),
            Route("/api/v3/{rest:path}", api(self._v3_not_found), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/api/{rest:path}", api(self._v2_not_found), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/servicepoints/api/v2/service-points", api(self._service_points), methods=["GET"]),
            Route("/servicepoints/api/v2/service-points/{point_id:int}", api(self._service_point), methods=["GET"]),
        ]
        self.app = Starlette(routes=routes)

    # =========================================================================================
    # URLs and lifecycle
    # =========================================================================================

    @property
    def base_url(self) -> str:
        """The API base (pass as ``api_base``): ``{base_url}/api/v2/...``; service points are
        under ``{base_url}/servicepoints/api/v2/service-points``."""
        if self.root_url is None:
            raise RuntimeError("stand-in not started")
        return self.root_url

    @property
    def servicepoints_url(self) -> str:
        return f"{self.base_url}/servicepoints"

    def start(self) -> str:
        """Serve on ``host:port`` (port 0 = free port) in a background thread; returns ``base_url``."""
        if self.root_url is not None:
            return self.base_url
        self._http = ThreadedServer(
            self.app, host=self.host, port=self.port, name="sendcloud-standin", health_path="/_standin/health"
        )
        self.root_url = self._http.url
        self._start_senders()
        if self.auto:
            self.start_auto(self.auto_interval)
        return self.base_url

    def stop(self) -> None:
        """Stop the simulator, deliver what is queued (bounded), stop the senders and the server."""
        self.stop_auto()
        if self._sender_threads:
            self.flush_webhooks(timeout=3)
            self._stop_senders()
        if self._http is not None:
            self._http.stop()
            self._http = None
        self.root_url = None

    def __enter__(self) -> SendcloudStandin:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every parcel, label, request and webhook record and restore the switches
        given to the constructor (for a module-scoped server shared by tests). Waits for
        queued webhooks first (bounded)."""
        self.stop_auto()
        self.flush_webhooks(timeout=3)
        with self.lock:
            self._clear_store()
            self._clear_webhooks()
            self._labels.clear()
            self.requests.clear()
            self._throttle_left = 0
            self._create_failures.clear()
            self._stall_next_create = 0.0
            self.throttled = self.unauthorized = 0
            for name, value in self._knobs.items():
                setattr(self, name, copy.deepcopy(value))
        if self.auto and self.root_url is not None:
            self.start_auto(self.auto_interval)

    # =========================================================================================
    # Test switches (the same under /_standin/... for other processes)
    # =========================================================================================

    def rate_limit(self, count: int, retry_after: float = 1) -> None:
        """The next ``count`` API calls answer 429 with ``Retry-After: retry_after``."""
        with self.lock:
            self._throttle_left = max(0, int(count))
            self._retry_after = float(retry_after)

    def fail_next_create(self, status: int, body: Any = None) -> None:
        """The next ``POST /api/v2/parcels`` answers ``status`` with ``body`` (JSON for a dict
        or list, text otherwise; a v2 error by default) and creates nothing. Calls queue up."""
        with self.lock:
            self._create_failures.append((int(status), body))

    def stall_next_create(self, seconds: float) -> None:
        """The next parcel is created, but its answer only comes after ``seconds`` (a client
        with a shorter timeout never sees it: the parcel exists, the caller does not know)."""
        with self.lock:
            self._stall_next_create = float(seconds)

    def label_pdf(self, parcel_id: int, paper: str = "a6", quarter: int = 0) -> bytes | None:
        """The parcel's label PDF (cached per parcel, paper and quarter); None when the parcel
        does not exist or has no label."""
        key = (int(parcel_id), paper, int(quarter) if paper == "a4" else 0)
        with self.lock:
            cached = self._labels.get(key)
            if cached is not None:
                return cached
            record = self.record(parcel_id)
            if record is None or not self.has_label(record):
                return None
            view, sender = self.parcel_view(record), copy.deepcopy(record["sender"])
        pdf = render_label(view, sender, paper=paper, quarter=key[2])
        with self.lock:
            if self.record(parcel_id) is not None:
                self._labels[key] = pdf
        return pdf

    def _forget_labels(self, parcel_id: int) -> None:
        with self.lock:
            for key in [k for k in self._labels if k[0] == parcel_id]:
                del self._labels[key]

    # =========================================================================================
    # HTTP plumbing
    # =========================================================================================

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        return hmac.compare_digest(user.encode(), self.public_key.encode()) and hmac.compare_digest(
            password.encode(), self.secret_key.encode()
        )

    def _api(self, handler: Handler) -> Handler:
        """Wrap an API route: rate limit (429 + Retry-After), Basic auth (401), request record."""

        async def guarded(request: Request) -> Response:
            with self.lock:
                throttled = self._throttle_left > 0
                if throttled:
                    self._throttle_left -= 1
                    self.throttled += 1
                retry_after = self._retry_after
            if throttled:
                return v2_error(request, 429, RATE_LIMIT_MESSAGE, headers={"Retry-After": f"{retry_after:g}"})
            if not self._authorised(request):
                with self.lock:
                    self.unauthorized += 1
                return v2_error(
                    request, 401, BAD_CREDENTIALS_MESSAGE, headers={"WWW-Authenticate": 'Basic realm="api"'}
                )
            body = await _json_body(request)
            with self.lock:
                self.requests.append(
                    {
                        "method": request.method,
                        "path": request.url.path,
                        "query": dict(request.query_params),
                        "body": body,
                    }
                )
            return await handler(request)

        return guarded

    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    # =========================================================================================
    # API: account
    # =========================================================================================

    async def _user(self, request: Request) -> Response:
        sender = self.sender_addresses[0]
        return JSONResponse(
            {
                "user": {
                    "username": "shopfloor-standin",
                    "company_name": sender["company_name"],
                    "company_logo": None,
                    "telephone": sender["telephone"],
                    "address": f"{sender['street']} {sender['house_number']}",
                    "postal_code": sender["postal_code"],
                    "city": sender["city"],
                    "email": sender["email"],
                    "registered": "01-03-2024 10:00:00",
                    "data": [],
                    "modules": [{"name": "API integration", "activated": True, "settings": None, "short_name": "api"}],
                }
            }
        )

    async def _senders(self, request: Request) -> Response:
        return JSONResponse({"sender_addresses": copy.deepcopy(self.sender_addresses)})

    async def _shipping_methods(self, request: Request) -> Response:
        wanted = request.query_params.get("sender_address")
        if wanted not in (None, "", "all") and self.sender(wanted) is None:
            return v2_error(request, 400, f"sender_address: Invalid sender address {wanted}.")
        methods = copy.deepcopy(self.shipping_methods)
        if request.query_params.get("service_point_id"):
            methods = [m for m in methods if m["service_point_input"] == "required"]
        return JSONResponse({"shipping_methods": methods})

    async def _statuses(self, request: Request) -> Response:
        return JSONResponse([{"id": i, "message": m} for i, m in STATUSES])

    # =========================================================================================
    # API: parcels
    # =========================================================================================

    async def _parcels_create(self, request: Request) -> Response:
        body = await _json_body(request)
        verbose = request.query_params.get("errors", "").startswith("verbose")
        with self.lock:
            failure = self._create_failures.popleft() if self._create_failures else None
        if failure is not None:
            return _failure_response(request, *failure)
        if not isinstance(body, dict) or ("parcel" not in body and "parcels" not in body):
            return v2_error(request, 400, 'Send {"parcel": {...}} or {"parcels": [...]}.')
        single = "parcel" in body
        items = [body["parcel"]] if single else body["parcels"]
        if not isinstance(items, list) or not items:
            return v2_error(request, 400, "parcels: Expected a non-empty list of parcels.")
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self._batching():
            for data in items:
                errors, clean = self.validate(data)
                if errors:
                    failed.append({"parcel": data, "errors": errors})
                else:
                    created.append(self.parcel_view(self.create(clean)))
            stall, self._stall_next_create = self._stall_next_create, 0.0
        if stall > 0:
            await asyncio.sleep(stall)
        if not single:
            return JSONResponse({"parcels": created, "failed_parcels": failed})
        if failed:
            errors = failed[0]["errors"]
            if verbose and "external_reference" not in errors:
                return JSONResponse({"failed_parcels": failed})
            return v2_error(request, 400, _field_message(errors))
        return JSONResponse({"parcel": created[0]})

    async def _parcels_update(self, request: Request) -> Response:
        body = await _json_body(request)
        data = body.get("parcel") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("id") is None:
            return v2_error(request, 400, "parcel.id: This field is required.")
        with self._batching():
            try:
                record = self.record(int(data["id"]))
            except (TypeError, ValueError):
                record = None
            if record is None:
                return v2_error(request, 404, NOT_FOUND_MESSAGE)
            merged = {**_input_of(record), **{k: v for k, v in data.items() if k != "id"}}
            errors, clean = self.validate(merged, existing=record)
            if errors:
                return v2_error(request, 400, _field_message(errors))
            self.update(record, clean)
            return JSONResponse({"parcel": self.parcel_view(record)})

    async def _parcel_get(self, request: Request) -> Response:
        view = self.parcel(request.path_params["parcel_id"])
        if view is None:
            return v2_error(request, 404, NOT_FOUND_MESSAGE)
        return JSONResponse({"parcel": view})

    async def _parcels_list(self, request: Request) -> Response:
        query = dict(request.query_params)
        with self.lock:
            records = self.matching(query)
            if isinstance(records, str):
                return v2_error(request, 400, records)
            cursor = query.get("cursor")
            if cursor:
                after = decode_cursor(cursor)
                if after is None:
                    return v2_error(request, 404, INVALID_CURSOR_MESSAGE)
                records = [r for r in records if r["id"] > after]
            page = records[: self.page_size]
            views = [self.parcel_view(r) for r in page]
            more = len(records) > len(page)
        next_url = None
        if more:
            params = {k: v for k, v in query.items() if k != "cursor"}
            params["cursor"] = encode_cursor(page[-1]["id"])
            next_url = f"{self.base_url}/api/v2/parcels?{urlencode(params)}"
        return JSONResponse({"next": next_url, "previous": None, "parcels": views})

    async def _parcel_cancel(self, request: Request) -> Response:
        with self._batching():
            status, body = self.cancel(request.path_params["parcel_id"])
        if status in (404, 410):
            return v2_error(request, status, NOT_FOUND_MESSAGE if status == 404 else body["message"])
        return JSONResponse(body, status_code=status)

    # =========================================================================================
    # API: labels and documents
    # =========================================================================================

    async def _pdf(self, request: Request, paper: str, quarter: int = 0) -> Response:
        parcel_id = request.path_params["parcel_id"]
        pdf = await run_in_threadpool(self.label_pdf, parcel_id, paper, quarter)
        if pdf is None:
            with self.lock:
                exists = self.record(parcel_id) is not None
            message = "This parcel has no label yet: announce it first." if exists else NOT_FOUND_MESSAGE
            return v2_error(request, 404, message)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="label-{parcel_id}-{paper}.pdf"'},
        )

    async def _label_a6(self, request: Request) -> Response:
        return await self._pdf(request, "a6")

    async def _label_a4(self, request: Request) -> Response:
        raw = request.query_params.get("start_from", "0")
        try:
            quarter = int(raw)
        except ValueError:
            quarter = -1
        if not 0 <= quarter < A4_QUARTERS:
            return v2_error(request, 400, "start_from: Choose 0, 1, 2 or 3 (the quarter of the sheet).")
        return await self._pdf(request, "a4", quarter)

    async def _document(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in DOCUMENT_TYPES:
            return v2_error(request, 400, f"type: {kind!r} is not a document type.")
        if kind != "label":
            return v2_error(request, 404, f"This parcel has no {kind} document (it ships inside the EU).")
        accept = request.headers.get("accept", "application/pdf")
        if "application/pdf" not in accept and "*/*" not in accept:
            return v2_error(request, 406, "The stand-in serves labels as application/pdf only.")
        paper = request.query_params.get("paper_size", "a6").lower()
        if paper not in ("a4", "a6"):
            return v2_error(request, 400, "paper_size: Choose a4 or a6.")
        return await self._pdf(request, paper)

    async def _label_links(self, request: Request) -> Response:
        parcel_id = request.path_params["parcel_id"]
        with self.lock:
            record = self.record(parcel_id)
            if record is None or not self.has_label(record):
                return v2_error(request, 404, NOT_FOUND_MESSAGE)
            return JSONResponse({"label": self.label_urls(parcel_id), "customs_declaration": {}})

    # =========================================================================================
    # API: the rest
    # =========================================================================================

    async def _v2_not_found(self, request: Request) -> Response:
        return v2_error(request, 404, "Not found.")

    async def _v3_not_found(self, request: Request) -> Response:
        return JSONResponse(
            {"errors": [{"status": "404", "code": "not_found", "detail": "Not found"}]}, status_code=404
        )

    def _point_view(self, point: dict[str, Any], distance: int) -> dict[str, Any]:
        return {
            **copy.deepcopy(point),
            "is_active": True,
            "extra_data": {},
            "email": "",
            "phone": "",
            "homepage": "",
            "open_tomorrow": True,
            "open_upcoming_week": True,
            "distance": distance,
        }

    async def _service_points(self, request: Request) -> Response:
        query = request.query_params
        country = (query.get("country") or "").upper()
        if not country:
            return v2_error(request, 400, "country: This field is required.")
        carriers = {c.strip().lower() for c in (query.get("carrier") or "").split(",") if c.strip()}
        postal = (query.get("postal_code") or "").replace(" ", "")
        city = (query.get("city") or "").strip().lower()
        try:
            radius = int(query["radius"]) if query.get("radius") else None
        except ValueError:
            return v2_error(request, 400, "radius: A valid integer is required.")
        out = []
        for point in self.service_points:
            if point["country"] != country or (carriers and point["carrier"] not in carriers):
                continue
            distance = _distance(postal, city, point)
            if radius is not None and distance > radius:
                continue
            out.append(self._point_view(point, distance))
        out.sort(key=lambda p: p["distance"])
        return JSONResponse(out)

    async def _service_point(self, request: Request) -> Response:
        point_id = request.path_params["point_id"]
        point = next((p for p in self.service_points if p["id"] == point_id), None)
        if point is None:
            return v2_error(request, 404, "Service point not found.")
        return JSONResponse(self._point_view(point, 0))

    async def _tracking_page(self, request: Request) -> Response:
        """The page a customer's tracking link opens (public, like Sendcloud's)."""
        code = request.query_params.get("code", "")
        with self.lock:
            record = next((p for p in self._parcels.values() if code and p["tracking_number"] == code), None)
            history = list(record["history"]) if record is not None else []
            view = self.parcel_view(record) if record is not None else None
        if view is None:
            return HTMLResponse("<h1>Unknown tracking number</h1>", status_code=404)
        rows = "".join(
            f"<tr><td>{html.escape(sendcloud_date(ms / 1000) or '')}</td>"
            f"<td>{html.escape(STATUS_MESSAGES.get(status, 'Unknown status'))}</td></tr>"
            for status, ms in reversed(history)
        )
        country = COUNTRIES.get(view["country"]["iso_2"], ("", view["country"]["iso_2"]))[1]
        page = (
            "<!doctype html><meta charset='utf-8'><title>Track &amp; trace</title>"
            "<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
            f"<h1>Parcel {html.escape(view['tracking_number'])}</h1>"
            f"<p>{html.escape(view['carrier']['code'].upper())} to {html.escape(view['city'])}, "
            f"{html.escape(country)}: <strong>{html.escape(view['status']['message'])}</strong></p>"
            f"<table cellpadding='4'>{rows}</table>"
            "<p><small>Sendcloud stand-in: not a real shipment.</small></p></body>"
        )
        return HTMLResponse(page)

    # =========================================================================================
    # /_standin admin API (no auth: the stand-in listens on 127.0.0.1 only)
    # =========================================================================================

    async def _admin_parcels(self, request: Request) -> Response:
        return JSONResponse({"parcels": self.parcels})

    async def _admin_advance(self, request: Request) -> Response:
        body = await _json_body(request)
        status_id = body.get("status_id") if isinstance(body, dict) else None
        if not isinstance(status_id, int):
            return JSONResponse({"error": 'send {"status_id": <int>}'}, status_code=400)
        try:
            with self._batching():
                view = self.advance(request.path_params["parcel_id"], status_id)
        except KeyError:
            return JSONResponse({"error": "no such parcel"}, status_code=404)
        return JSONResponse({"parcel": view})

    async def _admin_advance_all(self, request: Request) -> Response:
        with self._batching():
            moved = self.advance_all()
        return JSONResponse({"moved": [{"id": p["id"], "status": p["status"]} for p in moved]})

    async def _admin_rate_limit(self, request: Request) -> Response:
        body = await _json_body(request)
        body = body if isinstance(body, dict) else {}
        try:
            self.rate_limit(int(body.get("count", 1)), float(body.get("retry_after", 1)))
        except (TypeError, ValueError):
            return JSONResponse({"error": 'send {"count": <int>, "retry_after": <seconds>}'}, status_code=400)
        return JSONResponse({"ok": True})

    async def _admin_fail_next_create(self, request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("status"), int):
            return JSONResponse({"error": 'send {"status": <int>, "body": <any>}'}, status_code=400)
        self.fail_next_create(body["status"], body.get("body"))
        return JSONResponse({"ok": True})

    async def _admin_stall_next_create(self, request: Request) -> Response:
        body = await _json_body(request)
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float):
            return JSONResponse({"error": 'send {"seconds": <number>}'}, status_code=400)
        self.stall_next_create(float(seconds))
        return JSONResponse({"ok": True})

    def settings(self) -> dict[str, Any]:
        """The current switches (what ``/_standin/settings`` shows)."""
        with self.lock:
            out = {name: getattr(self, name) for name in self._KNOBS}
            out["auto"] = self._auto_thread is not None
            out["retry_delays"] = list(self.retry_delays)
            return out

    async def _admin_settings(self, request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body, dict):
                return JSONResponse({"error": "send a JSON object of settings"}, status_code=400)
            unknown = set(body) - set(_SETTING_TYPES)
            if unknown:
                return JSONResponse({"error": f"unknown settings: {', '.join(sorted(unknown))}"}, status_code=400)
            try:
                values = {name: _SETTING_TYPES[name](value) for name, value in body.items()}
            except (TypeError, ValueError):
                return JSONResponse({"error": "a setting has a value of the wrong type"}, status_code=400)
            with self.lock:
                for name, value in values.items():
                    if name != "auto":
                        setattr(self, name, value)
            if "auto" in values:
                if values["auto"]:
                    self.start_auto(self.auto_interval)
                else:
                    self.stop_auto()
        return JSONResponse(self.settings())

    async def _admin_webhooks(self, request: Request) -> Response:
        def plain(record: dict[str, Any]) -> dict[str, Any]:
            return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in record.items() if k != "payload"}

        with self.lock:
            return JSONResponse(
                {
                    "sent": [plain(r) for r in self.sent_webhooks],
                    "failed": [plain(r) for r in self.failed_webhooks],
                    "dropped": copy.deepcopy(self.dropped_webhooks),
                    "held": len(self._held) if self._held is not None else None,
                }
            )

    async def _admin_hold(self, request: Request) -> Response:
        self.hold_webhooks()
        return JSONResponse({"ok": True})

    async def _admin_release(self, request: Request) -> Response:
        body = await _json_body(request)
        order = body.get("order", "shuffle") if isinstance(body, dict) else "shuffle"
        try:
            released = self.release_webhooks(order)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"released": len(released)})

    async def _admin_flush(self, request: Request) -> Response:
        done = await run_in_threadpool(self.flush_webhooks, 10.0)
        return JSONResponse({"flushed": done})

    async def _admin_reset(self, request: Request) -> Response:
        await run_in_threadpool(self.reset)
        return JSONResponse({"ok": True})


async def _json_body(request: Request) -> Any:
    """The request's JSON body, or None (no body, not JSON)."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _failure_response(request: Request, status: int, body: Any) -> Response:
    """What ``fail_next_create`` asked for."""
    if body is None:
        message = (
            "non_field_errors: 'PostNL service error: the address could not be validated'"
            if status < 500
            else "Internal server error."
        )
        return v2_error(request, status, message)
    if isinstance(body, dict | list):
        return JSONResponse(body, status_code=status)
    return Response(str(body), status_code=status, media_type="text/html")


def _input_of(record: dict[str, Any]) -> dict[str, Any]:
    """A stored parcel in the shape of a create request (to merge a ``PUT`` into)."""
    return {
        "name": record["name"],
        "company_name": record["company_name"],
        "address": record["street"],
        "house_number": record["house_number"],
        "address_2": record["address_2"],
        "city": record["city"],
        "postal_code": record["postal_code"],
        "country": record["country"],
        "country_state": record["country_state"],
        "telephone": record["telephone"],
        "email": record["email"],
        "order_number": record["order_number"],
        "external_reference": record["external_reference"],
        "reference": record["reference"],
        "weight": record["weight"],
        "length": record["length"],
        "width": record["width"],
        "height": record["height"],
        "shipment": {"id": record["method"]["id"]},
        "sender_address": record["sender"]["id"],
        "to_service_point": record["to_service_point"],
        "total_order_value": record["total_order_value"],
        "total_order_value_currency": record["currency"],
        "parcel_items": copy.deepcopy(record["items"]),
        "request_label": False,
    }


def _distance(postal: str, city: str, point: dict[str, Any]) -> int:
    """A rough distance in metres from the searched address to a point: 0 in the same postal
    area, more the further the four-digit postal codes are apart."""
    point_postal = point["postal_code"].replace(" ", "")
    if postal[:4].isdigit() and point_postal[:4].isdigit():
        return min(abs(int(postal[:4]) - int(point_postal[:4])) * 350 + 150, 250_000)
    if city and point["city"].lower() == city:
        return 800
    return 5_000
