"""The files of a customer's build page (`/api/v1/my-build/<token>/files/…`).

The build page (reached from the booklet's QR code) shows the build's photos
and offers its booklets; they come from here, for the holder of the build's
signed link only, and only that build's own files. A link that is not valid,
or a file that is not the build's, answers 404 alike, so the route tells
nothing about what exists.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Response

from app.customers import builds_view, links
from app.platform.errors import NotFound

router = APIRouter(prefix=links.PAGE_PATH, tags=["customer build page"])


@router.get("/{token}/files/{attachment_id}")
def build_file(
    token: Annotated[str, Path(max_length=200)],
    attachment_id: Annotated[str, Path(max_length=100)],
    size: Literal["full", "thumb"] = "full",
) -> Response:
    found = builds_view.build_file(token, attachment_id, thumbnail=size == "thumb")
    if found is None:
        raise NotFound("this link is not valid")
    disposition = "attachment" if found.is_booklet else "inline"
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.filename)}",
            "Referrer-Policy": "no-referrer",  # the link is the key: do not pass it on
        },
    )
