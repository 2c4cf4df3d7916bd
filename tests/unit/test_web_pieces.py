"""Request-body limit, route registry and the permission catalogue."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app import domains
from app.platform.permissions import PERMISSIONS, ROLES
from app.platform.web import BodySizeLimit
from app.routes import ROUTES, route_for

domains.load_pages()  # every page registers its route where it is defined


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"size": len(body)})


def _client(limit: int) -> TestClient:
    return TestClient(BodySizeLimit(Starlette(routes=[Route("/_upload", echo, methods=["POST"])]), max_bytes=limit))


def test_small_bodies_pass():
    r = _client(1000).post("/_upload", content=b"x" * 1000)
    assert r.status_code == 200 and r.json() == {"size": 1000}


def test_declared_large_body_is_413_with_json_error():
    r = _client(1000).post("/_upload", content=b"x" * 1001)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_streamed_body_without_length_is_counted():
    def chunks():
        for _ in range(10):
            yield b"y" * 500

    r = _client(1000).post("/_upload", content=chunks())
    assert r.status_code == 413


def test_route_registry_resolves_nested_paths():
    assert route_for("/").title == "Home"
    assert route_for("/admin/queues").permission == "admin.operations"
    assert route_for("/admin/queues/").permission == "admin.operations"
    assert route_for("/nowhere") is None
    assert len({r.path for r in ROUTES}) == len(ROUTES)


def test_roles_follow_the_seed():
    assert set(ROLES) == {"admin", "operator", "viewer", "legacy-admin"}
    assert ROLES["admin"][1] == set(PERMISSIONS)
    viewer = ROLES["viewer"][1]
    assert viewer and all(p.endswith(".read") for p in viewer)
    operator = ROLES["operator"][1]
    assert {"orders.read", "builds.write", "inventory.write"} <= operator
    assert "admin.operations" not in operator and "users.write" not in operator
    assert all(p.count(".") == 1 for p in PERMISSIONS)
