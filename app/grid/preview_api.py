"""The storefront's 3D preview of a drawer's baseplate
(`GET /api/v1/shop/grid/preview.glb`): public, like the storefront page
that shows it, so it is held in tight bounds.

- Only while the storefront's shop sells grids (`feature.grid.enabled`);
  otherwise 404, as if the route were not there.
- The printer is always the shop's (a customer cannot pick another bed),
  and the sizes go through the same checks as an order line (the shop's
  largest drawer side, at least one cell); plate sets larger than the
  shop's instant-preview size are refused by the service (409).
- Each address may ask for `PER_MINUTE` previews a minute (429 with
  Retry-After past that); a preview already made comes from the service's
  cache and from the browser's (Cache-Control and an ETag keyed by the
  options), so turning a slider back and forth costs nothing.

Staff previews (any printer, a custom bed) are `GET /api/v1/grid/preview.glb`
in `app.grid.api`, behind grid.read.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.customers.service import storefront_tenant
from app.grid import service
from app.platform.db import tenant_session
from app.platform.errors import NotFound, TooManyRequests
from app.platform.tasks import redis_conn, reply
from app.platform.web import client_ip

log = logging.getLogger(__name__)
router = APIRouter(tags=["grid storefront"])

PER_MINUTE = 60
# A fresh Query per parameter (FastAPI copies an Annotated one; a shared default
# object would be bound to the first parameter's name and answer for both).
Mm = Annotated[float, Query(gt=0, le=10_000)]


def _allow(ip: str) -> None:
    """One more preview for this address this minute, or 429. Best effort:
    without Redis the limit is not counted (the work stays bounded by the
    shop's instant-preview size)."""
    window = int(time.time() // 60)
    key = f"shopfloor:grid-preview:{hashlib.sha256(ip.encode()).hexdigest()[:24]}:{window}"
    try:
        conn = redis_conn()
        count = int(reply(conn.incr(key)))
        if count == 1:
            conn.expire(key, 120)
    except Exception as exc:
        log.debug("preview rate limit not counted: %s", exc)
        return
    if count > PER_MINUTE:
        raise TooManyRequests(
            "too many previews from this address; wait a minute", retry_after=60 - int(time.time() % 60)
        )


@router.get("/shop/grid/preview.glb")
def storefront_preview(
    request: Request,
    width: Mm,
    depth: Mm,
    magnets: Literal["none", "press-fit"] = "none",
    connector: Literal["intersection-puzzle", "edge-puzzle", "none"] = "intersection-puzzle",
) -> Response:
    """The baseplate of a drawer on the shop's printer, as a GLB for the storefront's 3D viewer."""
    tenant = storefront_tenant()
    with tenant_session(tenant.id) as s:
        settings = service.grid_settings(s)
        if not settings.enabled:
            raise NotFound("custom Gridfinity baseplates are not on sale here")
        options = settings.options(drawer_width_mm=width, drawer_depth_mm=depth, magnets=magnets, connector=connector)
        tag = '"' + hashlib.sha256(f"{options.key()}:{settings.profile().key()}".encode()).hexdigest()[:32] + '"'
        headers = {"Cache-Control": "public, max-age=3600", "ETag": tag, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers=headers)
        _allow(client_ip(request))
        glb = service.preview_glb(s, options)
    return Response(glb, media_type="model/gltf-binary", headers=headers)
