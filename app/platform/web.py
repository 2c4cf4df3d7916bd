"""The FastAPI app Reflex mounts itself inside (via api_transformer), the
request-body limit, JSON errors and the auth dependencies every route uses."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform import auth, logs
from app.platform.errors import DomainError, Forbidden, TooManyRequests, Unauthorized
from app.settings import get_settings


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
    "current_principal",
    "install_error_handlers",
    "require",
    "upload_limit",
]
