"""The grid REST API: permissions (a viewer looks, an operator acts, admins
change the settings), 4xx with the reason on bad input, the quote, the 3D
preview, a staff job with its files, GetMappingStatus and GenerateForOrder."""

from __future__ import annotations

import io
import uuid
import zipfile
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from app.api import create_api
from app.grid import service
from app.platform.db import tenant_session
from app.platform.models import Tenant
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal

SLOW = 600


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant: Tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture
def shop(api):
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        settings = service.grid_settings(s)
        settings.enabled, settings.max_sync_grid_size = True, 16
        service.save_grid_settings(s, settings, actor=staff_principal(tenant))
        s.commit()
    return tenant


def _error(r) -> str:
    return r.json()["error"]["message"]


def test_a_viewer_looks_but_does_not_act(api, shop):
    viewer = _client(api, shop, "viewer")
    assert viewer.get("/api/v1/grid/jobs").status_code == 200
    assert viewer.get("/api/v1/grid/presets").status_code == 200
    assert viewer.get("/api/v1/grid/quote", params={"width": 100, "depth": 100}).status_code == 200
    body = {"drawerWidthMm": 100, "drawerDepthMm": 100}
    assert viewer.post("/api/v1/grid/jobs", json=body).status_code == 403
    assert viewer.post(f"/api/v1/grid/jobs/{uuid.uuid4()}/retry").status_code == 403
    assert (
        viewer.post("/api/v1/grid/presets", json={"name": "Mine", "parameters": {"magnets": "none"}}).status_code == 403
    )
    assert viewer.post("/api/v1/grid/generate-for-order", json={"orderId": str(uuid.uuid4())}).status_code == 403
    assert viewer.get("/api/v1/grid/settings").status_code == 403
    operator = _client(api, shop, "operator")
    assert (
        operator.put("/api/v1/grid/settings", json={"basePrice": "1", "unitPrice": "1", "currency": "EUR"}).status_code
        == 403
    )
    assert TestClient(api).get("/api/v1/grid/jobs").status_code == 401


def test_bad_input_is_a_4xx_with_the_reason(api, shop):
    op = _client(api, shop, "operator")
    r = op.get("/api/v1/grid/quote", params={"width": "wide", "depth": 100})
    assert r.status_code == 422
    r = op.get("/api/v1/grid/quote", params={"width": 20, "depth": 100})
    assert r.status_code == 422 and "at least 42 mm" in _error(r)
    r = op.get("/api/v1/grid/quote", params={"width": 2400, "depth": 100})
    assert r.status_code == 422 and "maximum of 1,000 mm" in _error(r)
    r = op.get("/api/v1/grid/quote", params={"width": 100, "depth": 100, "magnets": "lots"})
    assert r.status_code == 422
    r = op.get("/api/v1/grid/quote", params={"width": 100, "depth": 100, "printer": "Ender 3"})
    assert r.status_code == 422 and "unknown printer" in _error(r)
    r = op.post("/api/v1/grid/jobs", json={"drawerWidthMm": -5, "drawerDepthMm": 100})
    assert r.status_code == 422
    r = op.post("/api/v1/grid/jobs", json={"drawerWidthMm": 3000, "drawerDepthMm": 100})
    assert r.status_code == 422 and "maximum" in _error(r)
    assert op.get(f"/api/v1/grid/jobs/{uuid.uuid4()}").status_code == 404
    assert op.get("/api/v1/grid/jobs/not-an-id").status_code == 422
    assert op.get("/api/v1/grid/jobs", params={"status": "SLEEPING"}).status_code == 422
    r = op.get("/api/v1/grid/mapping-status/GRID-CUSTOM-axb")
    assert r.status_code == 422
    r = op.post("/api/v1/grid/generate-for-order", json={"orderId": str(uuid.uuid4())})
    assert r.status_code == 404
    r = op.post("/api/v1/grid/presets", json={"name": "Odd", "parameters": {"magnets": "lots"}})
    assert r.status_code == 422 and "magnets" in _error(r)
    r = op.post("/api/v1/grid/presets", json={"name": "Odd", "parameters": {"colour": "red"}})
    assert r.status_code == 422 and "unknown grid parameter" in _error(r)


def test_the_quote_and_the_instant_preview(api, shop):
    op = _client(api, shop, "operator")
    r = op.get("/api/v1/grid/quote", params={"width": 371, "depth": 254, "magnets": "press-fit"})
    assert r.status_code == 200
    q = r.json()
    assert q["segments"] >= 2 and q["filamentG"] > 0 and q["printSeconds"] > 0 and not q["problems"]
    d = service.GridSettings()
    assert Decimal(q["price"]) == (d.base_price + d.unit_price * Decimal(str(q["gridUnits"]))).quantize(Decimal("0.01"))
    assert q["cellsX"] * q["cellsY"] == q["gridUnits"] and q["currency"] == "EUR"
    r = op.get("/api/v1/grid/preview.glb", params={"width": 126, "depth": 84})
    assert r.status_code == 200 and r.content[:4] == b"glTF"
    r = op.get("/api/v1/grid/preview.glb", params={"width": 400, "depth": 400})
    assert r.status_code == 409 and r.json()["error"]["code"] == "preview_too_large"


def test_a_staff_job_its_files_and_its_retry(api, shop, worker):
    op = _client(api, shop, "operator")
    r = op.post("/api/v1/grid/jobs", json={"drawerWidthMm": 90, "drawerDepthMm": 90, "printer": "bambu-a1-mini"})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "QUEUED" and job["origin"] == "staff" and "A1 mini" in job["printer"]
    r = op.get(f"/api/v1/grid/jobs/{job['id']}/files/stl")
    assert r.status_code == 409 and "not generated yet" in _error(r)
    worker(timeout=SLOW)

    r = op.get(f"/api/v1/grid/jobs/{job['id']}")
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "COMPLETED" and done["progress"] == 100 and done["filamentG"] > 0
    assert [s["number"] for s in done["segmentList"]] == [1] and done["segmentList"][0]["hasGcode"]
    listed = op.get("/api/v1/grid/jobs", params={"status": "COMPLETED"}).json()
    assert listed["total"] == 1 and listed["jobs"][0]["id"] == job["id"]

    stl = op.get(f"/api/v1/grid/jobs/{job['id']}/files/stl")
    assert stl.status_code == 200 and "attachment" in stl.headers["content-disposition"] and len(stl.content) > 84
    gcode = op.get(f"/api/v1/grid/jobs/{job['id']}/files/gcode", params={"number": 1})
    assert gcode.status_code == 200 and b"filament used [g]" in gcode.content
    bundle = op.get(f"/api/v1/grid/jobs/{job['id']}/files/zip")
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["gcode", "stl"]
    threemf = op.get(f"/api/v1/grid/jobs/{job['id']}/files/3mf")
    assert threemf.status_code == 200 and "3D/3dmodel.model" in zipfile.ZipFile(io.BytesIO(threemf.content)).namelist()
    assert op.get(f"/api/v1/grid/jobs/{job['id']}/files/obj").status_code == 422
    assert op.get(f"/api/v1/grid/jobs/{job['id']}/files/stl", params={"number": 7}).status_code == 404
    glb = op.get(f"/api/v1/grid/jobs/{job['id']}/plates.glb")
    assert glb.status_code == 200 and glb.content[:4] == b"glTF"

    r = op.post(f"/api/v1/grid/jobs/{job['id']}/retry")  # a completed job has nothing to retry
    assert r.status_code == 200 and r.json()["status"] == "COMPLETED"


def test_settings_are_for_admins_and_checked_field_by_field(api, shop):
    admin = _client(api, shop, "admin")
    r = admin.get("/api/v1/grid/settings")
    assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["printer"] == "bambu-a1"
    body = {
        "enabled": True,
        "basePrice": "4.50",
        "unitPrice": "0.20",
        "unitSizeMm": 42,
        "currency": "eur",
        "maxDimensionMm": 800,
        "printSettings": {"printer": "prusa-mk4-core-one", "infill_percent": 20},
        "expiryHours": 48,
        "maxSyncGridSize": 100,
    }
    r = admin.put("/api/v1/grid/settings", json=body)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["currency"] == "EUR" and saved["basePrice"] == "4.50" and saved["profile"]["bed_depth_mm"] == 220
    q = admin.get("/api/v1/grid/quote", params={"width": 84, "depth": 84}).json()
    assert q["price"] == "5.30" and q["currency"] == "EUR"  # 4.50 + 4 units × 0.20

    r = admin.put("/api/v1/grid/settings", json={**body, "basePrice": "-1"})
    assert r.status_code == 422
    r = admin.put("/api/v1/grid/settings", json={**body, "unitSizeMm": 5, "currency": "E1R"})
    assert r.status_code == 422
    fields = r.json()["error"]["details"]["fields"]
    assert set(fields) == {"unitSizeMm", "currency"}
    r = admin.put("/api/v1/grid/settings", json={**body, "printSettings": {"printer": "Ender 3"}})
    assert r.status_code == 422 and "printSettings" in r.json()["error"]["details"]["fields"]
    r = admin.put("/api/v1/grid/settings", json={**body, "printSettings": {"printer": "bambu-a1", "nozzle_mm": 9}})
    assert r.status_code == 422 and "nozzle" in _error(r)
