"""The FastAPI app Reflex mounts itself inside (via api_transformer), the
request-body limit, JSON errors and the auth dependencies every route uses."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

from annotated_types import Interval
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform import auth, logs
from app.platform.errors import DomainError, Forbidden, TooManyRequests, Unauthorized
from app.settings import get_settings

# The days a date filter or field may name: far enough either way for any
# real order, log or plan, and clear of the calendar's ends, where turning a
# day into a time in the shop's zone would overflow.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9000, 12, 31)
Day = Annotated[date, Interval(ge=FIRST_DAY, le=LAST_DAY)]


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


class BodySizeLimit:
    """Refuse request bodies over MAX_BODY_BYTES with 413, for every route
    including Reflex's `/_upload` (whose max_size is only checked in the browser).
    Checks Content-Length up front and counts streamed bytes too."""

    def __init__(self, app: ASGIApp, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes or get_settings().max_body_bytes

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            error_body("payload_too_large", f"the request body is larger than {self.max_bytes // (1024 * 1024)} MB")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # swallow whatever the app tries to answer; we send 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._reject(send)


class _BodyTooLarge(Exception):
    pass


def upload_limit(app: ASGIApp) -> ASGIApp:
    return BodySizeLimit(app)


class PageAddresses:
    """The production build keeps each page as `<page>/index.html`, and the
    static files server answers a page's own address (`/orders`) with a
    redirect to `/orders/`. Here the page is served at the address the app
    links to, so a reload or a bookmark keeps it as it was. Only GET/HEAD of
    an address without a file extension whose page file exists; nothing
    changes where there is no build (the dev server serves the pages)."""

    def __init__(self, app: ASGIApp, pages: Path) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            last = path.rsplit("/", 1)[-1]
            if path != "/" and not path.endswith("/") and "." not in last and self._has_page(path):
                scope = {**scope, "path": path + "/", "raw_path": (path + "/").encode()}
        await self.app(scope, receive, send)

    def _has_page(self, path: str) -> bool:
        relative = path.strip("/")
        if ".." in relative.split("/"):
            return False
        return (self.pages / relative / "index.html").is_file()


class CorrelationId:
    """Every request gets a correlation id (the caller's `X-Correlation-Id`
    when it sends a sane one, else a new one): every log record, event, job and
    outbound call the request causes carries it, and the response names it."""

    _HEADER = logs.HEADER.lower().encode()

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == self._HEADER), "")
        cid = given if given and len(given) <= 64 and given.replace("-", "").isalnum() else logs.new_correlation_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (self._HEADER, cid.encode())]
            await send(message)

        with logs.context(correlation_id=cid):
            await self.app(scope, receive, send_with_id)


class RefuseHostileInput:
    """One gate in front of every API route for input PostgreSQL or JSON cannot
    take: a NUL character in the path, the query string or any JSON string,
    and NaN or Infinity in a JSON body (not JSON at all, and no amount or
    measurement can be one). Refused with 400 (NUL) or 422 (NaN) and a
    message before any route sees it, the unauthenticated webhooks included.
    Other bodies (uploads, forms) pass untouched; the request-size limit runs
    before this one, so the body read here is bounded."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"\x00" in query or b"%00" in query:
            await _refuse(send, "nul_character", "the address contains a NUL character, which no field may hold")
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(body)
        if problem:
            await _refuse(send, *problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _NotJson(name)


def _json_problem(body: bytes) -> tuple[str, str, int] | None:
    """Why a JSON body is refused here, or None (malformed JSON is left to the
    route's own validation, which names the fault)."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except _NotJson as exc:
        return "invalid_number", f"{exc} is not a number JSON allows: send a finite number", 422
    except (ValueError, RecursionError):
        return None
    field = _nul_field(data, "")
    if field is not None:
        return "nul_character", f"{field or 'the body'}: must not contain NUL characters", 400
    return None


def _nul_field(value: object, where: str) -> str | None:
    """The dotted name of the first string (or key) holding a NUL, if any."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return path or "a field name"
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


async def _refuse(send: Send, code: str, message: str, status: int = 400) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- auth dependencies ----------------------------------------------------------


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _check_origin(request: Request) -> None:
    """Cookie-authenticated changes must come from our own pages (defence in
    depth on top of SameSite=Lax): a foreign Origin is refused."""
    origin = request.headers.get("origin")
    if request.method in SAFE_METHODS or not origin:
        return
    s = get_settings()
    allowed = set(s.cors_origin_list) | {s.app_url.rstrip("/"), s.api_url.rstrip("/")}
    if origin.rstrip("/") not in allowed:
        raise Forbidden("this request came from a page that is not Shopfloor")


def optional_principal(request: Request) -> auth.Principal | None:
    key = _api_key_from(request)
    if key:
        principal = auth.authenticate_api_key(key)
        if principal is None:
            raise Unauthorized("invalid or revoked API key")
        return principal
    cookie = request.cookies.get(get_settings().session_cookie_name)
    if cookie:
        _check_origin(request)
    return auth.authenticate_session(cookie)


def current_principal(principal: auth.Principal | None = Depends(optional_principal)) -> auth.Principal:
    if principal is None:
        raise Unauthorized("sign in or send an API key")
    return principal


def require(permission: str) -> Callable[..., auth.Principal]:
    """Dependency: the caller must hold `permission` (403 otherwise)."""

    def dependency(principal: auth.Principal = Depends(current_principal)) -> auth.Principal:
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


# --- error bodies ------------------------------------------------------------------


def install_error_handlers(api: FastAPI) -> None:
    """Every error as JSON `{error: {code, message}}`: domain errors with their
    status, HTTP errors, and validation errors with the fields at fault."""

    @api.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        extra = {"details": exc.details} if exc.details else {}
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=exc.status, headers=headers)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
        return JSONResponse(
            error_body("validation_failed", message or "invalid request", details=problems), status_code=422
        )


__all__ = [
    "BodySizeLimit",
    "CorrelationId",
    "Forbidden",
    "RefuseHostileInput",
    "current_principal",
    "install_error_handlers",
    "require",
    "upload_limit",
]


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingResponse:
    """A CSV file to download (UTF-8 with a BOM, so spreadsheet programs read
    accents right), written row by row as it streams."""

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"
        for row in _chain(header, rows):
            writer.writerow(["" if v is None else v for v in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chain(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
    yield header
    yield from rows
