"""The FastAPI app Reflex mounts itself inside (via api_transformer): the
platform's routes and every domain's routers, read from `app/domains.py`.
An entry point: it sits above the domains, so the platform never imports one."""

from __future__ import annotations

from fastapi import FastAPI

from app import domains
from app.platform.api import health_router
from app.platform.web import CorrelationId, RefuseHostileInput, install_error_handlers


def create_api() -> FastAPI:
    domains.load()
    api = FastAPI(
        title="Shopfloor API",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="Staff and machine access to Shopfloor. Authenticate with the session "
        "cookie (sign in at /login) or an API key: `Authorization: Bearer sfk_…`.",
    )
    install_error_handlers(api)
    api.add_middleware(RefuseHostileInput)
    api.add_middleware(CorrelationId)
    api.include_router(health_router)
    for router in domains.routers():
        api.include_router(router, prefix="/api/v1")
    return api
