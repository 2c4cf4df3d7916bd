"""Photo upload: a 12 MP JPEG through the real endpoint to stored original +
thumbnail, timed server-side (the request's own handling, no network).
Baseline: Pillow alone decoding and re-encoding the same file.
Target: < 600 ms server side.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import testenv

testenv.apply()
from app import domains  # noqa: E402

domains.load()  # every handler registered, as in every entry point

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from app.api import create_api  # noqa: E402
from bench.booklets import photo  # noqa: E402
from tests import factories  # noqa: E402


def main() -> None:
    testenv.prepare_database()
    tenant = factories.make_tenant("Bench uploads")
    user = factories.make_user(tenant, "operator")
    client = TestClient(create_api())
    client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": factories.PASSWORD, "shop": tenant.slug}
    )
    order = {  # a manual order needs who and where (the orders service's rules)
        "customerName": "Bench",
        "customerEmail": "bench@example.com",
        "street": "Damrak",
        "houseNumber": "1",
        "city": "Amsterdam",
        "postalCode": "1012 LG",
        "countryCode": "NL",
        "lineItems": [{"sku": "PC", "title": "PC", "quantity": 1}],
    }
    oid = client.post("/api/v1/orders", json=order).json()["id"]
    bid = client.post("/api/v1/builds", json={"orderId": oid}).json()["id"]
    data = photo(7)
    times = []
    for _ in range(6):
        t0 = time.perf_counter()
        r = client.post(f"/api/v1/builds/{bid}/photos/coverPhoto", files={"file": ("p.jpg", data, "image/jpeg")})
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text
    base = []
    for _ in range(6):
        t0 = time.perf_counter()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img.convert("RGB").save(io.BytesIO(), "JPEG", quality=88)
        base.append((time.perf_counter() - t0) * 1000)
    med, b = statistics.median(times), statistics.median(base)
    print(
        f"{len(data) / 1e6:.1f} MB 12 MP JPEG: upload to stored + thumbnail median {med:.0f} ms "
        f"(runs {', '.join(f'{t:.0f}' for t in times)}); Pillow decode+encode alone {b:.0f} ms"
    )
    print(f"photo upload: {med:.0f} ms server side vs Pillow alone {b:.0f} ms = ratio {med / b:.2f} (target < 600 ms)")


if __name__ == "__main__":
    main()
