"""Booklets are rendered on the `booklets` queue when a build asks for them."""

from __future__ import annotations

from sqlmodel import Session

from app.platform.events import handles


@handles("build.booklets-requested")
def enqueue_render(session: Session, event: dict) -> None:
    from jobs import enqueue
    from jobs.booklets import render

    enqueue(render, event["tenantId"], event["buildId"], queue_name="booklets", retry=False, job_timeout=300)
