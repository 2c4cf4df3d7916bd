"""`/b/<slug>` answers HTTP 410 Gone, with a friendly page, once its build
was deleted. An ASGI middleware in front of Reflex: where the backend serves
the pages itself (production, one port) the status is real; everything else
passes through to the page, which shows the same message."""

from __future__ import annotations

import asyncio
import html
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.builder import service
from app.customers.service import storefront_tenant
from app.platform.db import tenant_session
from app.platform.errors import DomainError, Gone

_SHARED = re.compile(r"^/b/([A-Za-z0-9_-]{1,40})/?$")

GONE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>This build is gone</title>
<style>body{{font-family:system-ui,sans-serif;background:#f8f9fa;color:#1c2024;display:flex;justify-content:center;
padding:64px 16px;margin:0}}main{{background:#fff;border:1px solid #dfe3e6;border-radius:8px;padding:32px;
max-width:420px;text-align:center}}h1{{font-size:22px;margin:0 0 12px}}p{{color:#60646c;line-height:1.5}}
a{{display:inline-block;margin-top:12px;background:#3e63dd;color:#fff;padding:8px 16px;border-radius:6px;
text-decoration:none}}</style></head>
<body><main><h1>This build is gone</h1><p>{message}</p><a href="/build">Start your own build</a></main></body></html>
"""


def shared_build_gone(slug: str) -> str | None:
    """The reason a shared build is gone, or None (it exists, or never did)."""
    try:
        with tenant_session(storefront_tenant().id) as s:
            service.get_shared(s, slug)
    except Gone as exc:
        return exc.message
    except DomainError:
        return None
    return None


class SharedBuildGone:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _SHARED.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match and scope.get("method") in ("GET", "HEAD"):
            reason = await asyncio.to_thread(shared_build_gone, match.group(1))
            if reason is not None:
                text = reason[0].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
                body = GONE_PAGE.format(message=html.escape(text)).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 410,
                        "headers": [
                            (b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
                return
        await self.app(scope, receive, send)


def shared_build_gone_middleware(app: ASGIApp) -> ASGIApp:
    return SharedBuildGone(app)
