"""Every registered page builds its component tree and renders it to the
frontend's description. With typed table rows, a misspelt field on a row
(`o.numbr`) or a wrong type fails here, in a second, instead of in the
browser."""

from __future__ import annotations

import pytest

from app import domains
from app.routes import PAGES

domains.load()
domains.load_pages()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.path)
def test_page_builds(page):
    component = page.component()
    rendered = component.render()
    assert rendered, f"{page.path} rendered nothing"
