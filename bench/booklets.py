"""Booklets: both PDFs for a build with 10 real-size photos, against a bare
WeasyPrint render of the same HTML (the baseline: no data gathering, no
photo preparation, no storage).

Prints seconds, the ratio to the baseline and the peak RSS of the process.
Targets: < 3 s, < 1.2x, < 400 MB.
"""

from __future__ import annotations

import io
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import testenv

testenv.apply()
from app import domains  # noqa: E402

domains.load()  # every handler registered, as in every entry point

from PIL import Image, ImageDraw  # noqa: E402

from app.booklets import service as booklets  # noqa: E402
from app.builds import service as builds  # noqa: E402
from app.builds.models import PHOTO_SLOTS  # noqa: E402
from app.orders import service as orders  # noqa: E402
from app.orders.inputs import LineInput, OrderInput  # noqa: E402
from app.platform import auth  # noqa: E402
from app.platform.db import tenant_session  # noqa: E402
from tests import factories  # noqa: E402


def photo(seed: int) -> bytes:
    """A 12 MP JPEG with enough detail to compress like a real photo."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (4000, 3000), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(4000):
        x, y = rnd.randrange(4000), rnd.randrange(3000)
        draw.ellipse(
            (x, y, x + rnd.randrange(10, 160), y + rnd.randrange(10, 160)),
            fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    testenv.prepare_database()
    tenant = factories.make_tenant("Bench PCs")
    user = factories.make_user(tenant, "operator")
    p = auth.login(user.username, factories.PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:
        order = orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name="Bench",
                lines=[LineInput(sku=f"PART-{i}", title=f"Part {i}", quantity=1) for i in range(8)],
            ),
            actor=p,
        )
        build = builds.create_build(s, order.id, actor=p)
        for i, slot in enumerate(PHOTO_SLOTS):
            builds.store_photo(s, build.id, slot, photo(i), actor=p)
        builds.update_qa(
            s,
            build.id,
            builds.QAUpdate(
                checklist=[{"item": f"Check {i}", "done": True} for i in range(12)],
                temperatures={"cpuIdle": 35, "cpuLoad": 80, "gpuIdle": 31, "gpuLoad": 71, "ambient": 21},
            ),
            actor=p,
        )
        for i in range(6):
            builds.add_test_run(s, build.id, type="benchmark", status="passed", score=1000 + i, actor=p)
        s.commit()

    runs = []
    for _ in range(3):
        with tenant_session(tenant.id) as s:
            b = builds.get_build(s, build.id)
            t0 = time.perf_counter()
            booklets.render(s, b)
            runs.append(time.perf_counter() - t0)
    ours = min(runs)
    with tenant_session(tenant.id) as s:
        ctx = booklets.context(s, builds.get_build(s, build.id))
    html = [booklets.render_html(t, ctx) for t in ("quick_start.html", "technical_dossier.html")]
    base_runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        for h in html:
            booklets.render_pdf(h)
        base_runs.append(time.perf_counter() - t0)
    base = min(base_runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"both booklets incl. photo preparation: {ours:.2f} s (runs {', '.join(f'{r:.2f}' for r in runs)})")
    print(f"bare WeasyPrint render of the same HTML: {base:.2f} s")
    print(
        f"booklets: {ours:.2f} s vs bare WeasyPrint {base:.2f} s = ratio {ours / base:.2f} "
        f"(targets < 3 s, < 1.2x); peak RSS {rss_mb:.0f} MB (target < 400 MB)"
    )


if __name__ == "__main__":
    main()
