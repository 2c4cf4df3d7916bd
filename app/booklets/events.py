"""Booklets are rendered on the `booklets` queue when a build asks for them."""

from __future__ import annotations

from sqlmodel import Session

from app.platform import tasks
from app.platform.events import handles


@handles("build.booklets-requested")
def enqueue_render(session: Session, event: dict) -> None:
    tasks.enqueue(
        "jobs.booklets.render",
        event["tenantId"],
        event["buildId"],
        queue_name="booklets",
        shop=event["tenantId"],
        retry=False,
        job_timeout=300,
        description=f"booklets of build {event['buildId']}",
    )
