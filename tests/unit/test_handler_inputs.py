"""What a page sends to a handler reaches the services without NUL characters
(PostgreSQL text cannot hold them), whatever form it comes in."""

from __future__ import annotations

from state.base import _without_nul


def test_nul_characters_are_dropped_from_every_argument():
    sent = ("Anna\x00", {"note": "a\x00b", "lines": [{"title": "x\x00"}]}, ["q\x00"], 3)
    assert _without_nul(sent) == ("Anna", {"note": "ab", "lines": [{"title": "x"}]}, ["q"], 3)
