"""/floor/builds/[id]/photos: the phone page staff reach by scanning the QR
code on the workbench. Big tiles; tapping one opens the camera."""

from __future__ import annotations

import reflex as rx

from app.builds.models import PHOTO_SLOTS, REQUIRED_SLOTS
from components.layout import PHONE_META, forbidden_panel, loading_panel, staff_page
from state.base import AppState
from state.builds import SLOT_LABELS
from state.floor import FloorState

CAPTURE_SCRIPT = "document.querySelectorAll('input[type=file]').forEach(i => i.setAttribute('capture', 'environment'))"


def _face(slot: str) -> rx.Component:
    """What a slot's tile shows: its photo (or a camera), its name and whether it is done."""
    thumb = FloorState.thumbs[slot]
    return rx.box(
        rx.cond(
            thumb != "",
            rx.image(
                src=thumb, alt=SLOT_LABELS[slot], width="100%", height="120px", object_fit="cover", border_radius="10px"
            ),
            rx.center(
                rx.icon("camera", size=34, color=rx.color("accent", 9)),
                height="120px",
                width="100%",
                background=rx.color("accent", 3),
                border_radius="10px",
            ),
        ),
        rx.hstack(
            rx.text(SLOT_LABELS[slot], weight="bold", size="2"),
            rx.spacer(),
            rx.cond(
                thumb != "",
                rx.icon("circle-check", size=20, color=rx.color("green", 9)),
                rx.badge("Needed", color_scheme="amber") if slot in REQUIRED_SLOTS else rx.badge("Optional"),
            ),
            width="100%",
            align="center",
            padding_top="6px",
        ),
        rx.cond(
            FloorState.progress.contains(slot), rx.progress(value=FloorState.progress[slot], max=100, width="100%")
        ),
        padding="10px",
        border=f"2px solid {rx.color('gray', 5)}",
        border_radius="14px",
        width="100%",
        background="white",
        on_click=FloorState.choose(slot),
    )


def _tile(slot: str) -> rx.Component:
    """One slot's tile (ids must be static for rx.upload, so tiles are built per slot)."""
    upload_id = f"tile_{slot}"
    # the slot travels with the file: the tap's choose() goes over the socket and the file over HTTP,
    # so the server may see the file first (a quick second tap stored its photo in the first slot)
    upload = FloorState.upload(rx.upload_files(upload_id=upload_id, on_upload_progress=FloorState.on_progress), slot)
    return rx.cond(
        FloorState.cancelled,
        rx.box(_face(slot), data_testid=f"tile-{slot}", width="100%", opacity="0.7"),
        rx.upload.root(
            _face(slot),
            rx.cond(
                FloorState.failed.contains(slot),
                rx.vstack(
                    rx.text(FloorState.failed[slot], color_scheme="red", size="1"),
                    rx.button(
                        "Retry",
                        size="2",
                        color_scheme="red",
                        variant="soft",
                        on_click=[FloorState.choose(slot), upload],
                    ),
                    spacing="1",
                    padding_top="4px",
                ),
            ),
            id=upload_id,
            class_name="floor-tile",
            multiple=False,
            max_files=1,
            no_click=False,
            accept={"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]},
            on_drop=upload,
            data_testid=f"tile-{slot}",
            width="100%",
        ),
    )


@staff_page(
    "/floor/builds/[id]/photos",
    "Build photos",
    permission="builds.write",
    icon="camera",
    nav=False,
    layout=False,
    meta=PHONE_META,
    on_load=FloorState.load,
)
def floor_page() -> rx.Component:
    body = rx.vstack(
        rx.hstack(
            rx.icon("factory", size=20, color=rx.color("accent", 10)),
            rx.heading("Photos for ", FloorState.order_number, size="5"),
            align="center",
        ),
        rx.text(
            FloorState.done_count,
            f" of {len(REQUIRED_SLOTS)} required photos",
            rx.cond(FloorState.cancelled, "", " · tap a tile to take its photo"),
            size="2",
            color_scheme="gray",
            data_testid="floor-count",
        ),
        rx.cond(FloorState.error != "", rx.callout(FloorState.error, icon="triangle-alert", color_scheme="red")),
        rx.cond(
            FloorState.cancelled,
            rx.callout(
                "The order was cancelled, so this build is stopped: its photos can no longer change.",
                icon="ban",
                color_scheme="gray",
                data_testid="floor-cancelled",
            ),
        ),
        rx.grid(
            *[_tile(slot) for slot in PHOTO_SLOTS],
            columns="2",
            spacing="3",
            width="100%",
            # rx.upload has no `capture` prop: ask phones for the back camera directly
            on_mount=rx.call_script(CAPTURE_SCRIPT),
        ),
        spacing="3",
        width="100%",
        padding="14px",
        max_width="560px",
        margin="0 auto",
    )
    return rx.box(
        rx.cond(
            AppState.signed_in,
            rx.cond(AppState.page_allowed, rx.cond(FloorState.loaded, body, loading_panel()), forbidden_panel()),
            loading_panel(),
        ),
        background=rx.color("gray", 2),
        min_height="100vh",
    )
