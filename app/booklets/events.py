"""Booklets are rendered on the `booklets` queue when a build asks for them."""

from __future__ import annotations

from sqlmodel import Session

from app.booklets.service import render_key
from app.platform import tasks
from app.platform.events import handles


@handles("build.booklets-requested")
def enqueue_render(session: Session, event: dict) -> None:
    """One waiting render per build: a burst of "regenerate" clicks costs one
    render (a request made while one runs queues exactly one more)."""
    tasks.enqueue_once(
        render_key(event["buildId"]),
        "jobs.booklets.render",
        event["tenantId"],
        event["buildId"],
        queue_name="booklets",
        shop=event["tenantId"],
        description=f"booklets of build {event['buildId']}",
    )
