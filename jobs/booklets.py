"""RQ entry point of the booklets domain."""

from __future__ import annotations

from app.booklets import service


def render(tenant_id: str, build_id: str) -> str:
    return service.generate(tenant_id, build_id)
