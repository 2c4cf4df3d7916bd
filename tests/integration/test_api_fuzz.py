"""Every operation of the REST API, driven with generated and often hostile
inputs (NUL bytes, huge numbers, NaN, odd characters, wrong types), as a shop
admin: whatever comes in, the answer is never a server error.

Bounded and seeded, so the run is the same every time and takes a few minutes
at most."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from app.api import create_api
from app.platform import auth
from app.platform.db import tenant_session
from tests.factories import make_tenant, make_user, staff_principal

# Enough examples per operation to reach the edges each one has (bounds,
# encodings, missing fields) while the whole run stays within a few minutes.
EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def admin_key() -> str:
    """An API key with the admin role of a shop of its own."""
    tenant = make_tenant()
    make_user(tenant, "admin")
    with tenant_session(tenant.id) as s:
        _, secret = auth.create_api_key(s, name="fuzz", role_name="admin", actor=staff_principal(tenant))
        s.commit()
    return secret


# The schema of the app as the tests build it, read in-process (no server):
# one test per operation.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # a fixed seed: the same inputs on every run
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure as found
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    database=None,
)
def test_no_input_earns_a_server_error(case, admin_key):
    response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}\n"
        f"{case.as_curl_command()}"
    )
