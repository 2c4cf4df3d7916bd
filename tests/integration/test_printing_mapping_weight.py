"""A printed product's packed weight and size: staff set them on its mapping
(REST and the printing service), out-of-range or incomplete figures are refused
with a message naming the field, viewers may read but not change them, and the
parcel of an order for the product is weighed and sized from them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api import create_api
from app.orders import service as orders
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.printing import service
from app.shipping import service as shipping
from tests.factories import PASSWORD, make_user
from tests.integration.printing_helpers import make_farm

BOX = {"lengthCm": 20, "widthCm": 15, "heightCm": 10}


@pytest.fixture(scope="module")
def api():
    return create_api()


def _error(response) -> str:
    return response.json()["error"]["message"]


def test_staff_set_clear_and_read_a_products_packed_weight_and_size(api):
    farm = make_farm(api)
    r = farm.client.post(
        "/api/v1/printing/mappings", json={"sku": "LAMP-01", "name": "Moon lamp", "weightGrams": 350, **BOX}
    )
    assert r.status_code == 201, r.text
    lamp = r.json()
    assert lamp["weightGrams"] == 350
    assert lamp["dimensions"] == {"length": 20, "width": 15, "height": 10}
    assert farm.client.get(f"/api/v1/printing/mappings/{lamp['id']}").json()["dimensions"]["height"] == 10
    listed = farm.client.get("/api/v1/printing/mappings").json()["mappings"]
    assert [(m["sku"], m["weightGrams"]) for m in listed] == [("LAMP-01", 350)]

    # without them: the label falls back to the printed parts' weight
    r = farm.client.post("/api/v1/printing/mappings", json={"sku": "CLIP-01", "name": "Cable clip"})
    assert r.status_code == 201
    assert r.json()["weightGrams"] is None and r.json()["dimensions"] is None
    clip_id = r.json()["id"]

    # a patch sets them, changes one side of a complete box, and empties them again
    r = farm.client.patch(f"/api/v1/printing/mappings/{clip_id}", json={"weightGrams": 1200, **BOX})
    assert r.status_code == 200, r.text
    assert r.json()["weightGrams"] == 1200 and r.json()["dimensions"] == {"length": 20, "width": 15, "height": 10}
    r = farm.client.patch(f"/api/v1/printing/mappings/{clip_id}", json={"heightCm": 4})
    assert r.status_code == 200 and r.json()["dimensions"] == {"length": 20, "width": 15, "height": 4}
    assert r.json()["name"] == "Cable clip"  # fields not sent stay
    r = farm.client.patch(
        f"/api/v1/printing/mappings/{clip_id}",
        json={"weightGrams": None, "lengthCm": None, "widthCm": None, "heightCm": None},
    )
    assert r.status_code == 200
    assert r.json()["weightGrams"] is None and r.json()["dimensions"] is None


def test_impossible_or_incomplete_figures_are_refused_with_the_field_named(api):
    farm = make_farm(api)
    new = {"sku": "VASE-01", "name": "Spiral vase"}
    r = farm.client.post("/api/v1/printing/mappings", json={**new, "weightGrams": 0})
    assert r.status_code == 422 and "weightGrams" in _error(r)
    r = farm.client.post("/api/v1/printing/mappings", json={**new, "lengthCm": 20, "widthCm": 15})
    assert r.status_code == 422
    assert _error(r) == "the packed height is missing: give the length, width and height together, or none of them"
    r = farm.client.post("/api/v1/printing/mappings", json={**new, "lengthCm": 301, "widthCm": 15, "heightCm": 10})
    assert r.status_code == 422 and "lengthCm" in _error(r)
    assert farm.client.get("/api/v1/printing/mappings").json()["mappings"] == []  # nothing half-made

    vase_id = farm.client.post("/api/v1/printing/mappings", json={**new, "weightGrams": 500, **BOX}).json()["id"]
    for patch, field in (
        ({"heightCm": 301}, "heightCm"),
        ({"weightGrams": 70_001}, "weightGrams"),
        ({"weightGrams": 2.5}, "weightGrams"),
        ({"widthCm": None}, "the packed width is missing"),
    ):
        r = farm.client.patch(f"/api/v1/printing/mappings/{vase_id}", json=patch)
        assert r.status_code == 422, patch
        assert field in _error(r), (patch, _error(r))
    unchanged = farm.client.get(f"/api/v1/printing/mappings/{vase_id}").json()
    assert unchanged["weightGrams"] == 500 and unchanged["dimensions"] == {"length": 20, "width": 15, "height": 10}

    # the service is the one place the rules live: the pages' forms meet the same refusals
    with tenant_session(farm.tenant.id) as s:
        with pytest.raises(ValidationFailed) as refused:
            service.create_mapping(s, sku="VASE-02", name="Vase", weight_grams=70_001, actor=farm.operator)
        assert refused.value.message == "the packed weight must be a whole number of grams from 1 to 70000"
        with pytest.raises(ValidationFailed) as refused:
            service.update_mapping(s, vase_id, length_cm=None, width_cm=None, actor=farm.operator)
        assert refused.value.message.startswith("the packed length and width are missing")
        with pytest.raises(ValidationFailed) as refused:
            service.update_mapping(s, vase_id, height_cm=0, actor=farm.operator)
        assert refused.value.message == "the packed height must be a whole number of cm from 1 to 300"


def test_viewers_read_the_packed_weight_but_cannot_set_it(api):
    farm = make_farm(api)
    lamp_id = farm.client.post(
        "/api/v1/printing/mappings", json={"sku": "LAMP-02", "name": "Moon lamp", "weightGrams": 350, **BOX}
    ).json()["id"]
    viewer = make_user(farm.tenant, "viewer")
    vc = TestClient(api)
    vc.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": farm.tenant.slug})
    assert vc.get(f"/api/v1/printing/mappings/{lamp_id}").json()["weightGrams"] == 350
    r = vc.patch(f"/api/v1/printing/mappings/{lamp_id}", json={"weightGrams": 10})
    assert r.status_code == 403
    r = vc.post("/api/v1/printing/mappings", json={"sku": "LAMP-03", "name": "Lamp", "weightGrams": 10, **BOX})
    assert r.status_code == 403
    assert farm.client.get(f"/api/v1/printing/mappings/{lamp_id}").json()["weightGrams"] == 350


def test_an_orders_parcel_weighs_and_measures_what_its_product_says(api):
    farm = make_farm(api)
    farm.client.post(
        "/api/v1/printing/mappings", json={"sku": "LAMP-04", "name": "Moon lamp", "weightGrams": 350, **BOX}
    )
    one, two = farm.order([("LAMP-04", 1)]), farm.order([("LAMP-04", 2)])
    with tenant_session(farm.tenant.id) as s:
        single = shipping.parcel_size(s, orders.get_order(s, one), None)
        double = shipping.parcel_size(s, orders.get_order(s, two), None)
    assert (single.weight_grams, single.length_cm, single.width_cm, single.height_cm) == (350, 20, 15, 10)
    assert single.basis == "its products"
    # two lamps: twice the weight; one lamp's box no longer says the parcel's size
    assert (double.weight_grams, double.length_cm) == (700, None)
