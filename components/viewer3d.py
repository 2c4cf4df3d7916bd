"""A real 3D viewer in the browser: Google's `<model-viewer>` web component
(WebGL, three.js underneath) showing a GLB file, with orbit controls, a
slow turn and a soft shadow.

`<model-viewer>` is a custom element, not a React component: it is drawn as
its plain tag (through a constant holding "model-viewer"), and the package
that defines the element is imported in the browser only, once the page is
mounted (its module touches `window` and `customElements`, which a page
rendered ahead of time on the server does not have). The element then
upgrades itself and loads `src`.

A GLB served by our API comes from another origin than the page: the staff
viewer sends the session cookie with it (`with_credentials`), the
storefront's is public and needs none. When the model has loaded, the
element's `loaded` property is true and it fires `load` (tests wait for it).
"""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx
from reflex.utils.imports import ImportDict, ImportVar

MODEL_VIEWER = "@google/model-viewer"
# the element's package and three.js, which it expects beside it (its peer dependency)
PACKAGES = [f"{MODEL_VIEWER}@4.4.0", "three@0.183.2"]

# Defines the <model-viewer> element in the browser (once per page, however many viewers it has).
_DEFINE = 'useEffect(() => { import("@google/model-viewer"); }, []);'
# The meshes' up is +Z (the printer's); glTF's is +Y, and trimesh writes the
# coordinates as they are: a quarter turn about X lays the plates flat, their
# north side away from the viewer.
Z_UP = "0deg -90deg 0deg"
# The element's tag as a JavaScript name: Reflex names the memoised wrapper of a
# component after its tag, and a name with a hyphen in it is not valid JavaScript.
_TAG = "ModelViewerElement"


# The element's settings, written as its HTML attributes (hyphenated). React
# sets a prop of a custom element as a property only when the element already
# has it; the first viewer on a page is drawn before the element is defined
# (the package loads once the page is mounted), so properties named in
# camelCase would land as unknown attributes and be lost. Attributes hold
# either way: the element reads them when it upgrades.
ATTRIBUTES = {
    "alt": "words for screen readers",
    "camera_controls": "drag to turn, pinch or scroll to zoom",
    "auto_rotate": "turn slowly while nobody touches it",
    "shadow_intensity": "a soft shadow under the model: 0 (none) … 1",
    "interaction_prompt": '"auto" or "none": the hand that shows the model can be turned',
    "camera_orbit": 'the start view, "azimuth polar radius", e.g. "15deg 40deg 100%"',
    "orientation": 'turns the model, "roll pitch yaw", e.g. "0deg -90deg 0deg"',
    "exposure": "brightness",
    "with_credentials": "send cookies with the model's request (a file only a signed-in user may fetch)",
}


class ModelViewer(rx.Component):
    """`<model-viewer>` (https://modelviewer.dev): `src` and the settings in
    ATTRIBUTES, given as keyword arguments (`camera_orbit="…"`)."""

    tag: ClassVar[str] = _TAG  # pyright: ignore[reportIncompatibleVariableOverride]
    lib_dependencies: list[str] = PACKAGES  # pyright: ignore[reportIncompatibleVariableOverride]

    # the model: a URL of a .glb / .gltf file
    src: rx.Var[str]

    @classmethod
    def create(cls, *children: Any, **props: Any) -> rx.Component:
        attributes = dict(props.pop("custom_attrs", None) or {})
        for name in ATTRIBUTES:
            if name in props:
                attributes[name.replace("_", "-")] = props.pop(name)
        return super().create(*children, custom_attrs=attributes, **props)

    def add_imports(self) -> ImportDict:
        return {"react": [ImportVar(tag="useEffect")]}

    def add_hooks(self) -> list[str | rx.Var]:
        return [_DEFINE]

    def add_custom_code(self) -> list[str]:
        return [f'const {_TAG} = "model-viewer";']


def viewer3d(src: Any, alt: Any, *, credentials: bool = False, height: Any = "360px", **props: Any) -> rx.Component:
    """A GLB in a framed 3D view: turn it with the mouse or a finger, zoom
    with the wheel or a pinch. `src` empty: nothing to show yet."""
    style = {
        "width": "100%",
        "height": "100%",
        "display": "block",
        "--poster-color": "transparent",
        "--progress-bar-color": "var(--accent-9)",  # the loading bar across the top, in the page's colour
        "--progress-bar-height": "3px",
    }
    return rx.box(
        rx.cond(
            src != "",
            ModelViewer.create(
                src=src,
                alt=alt,
                camera_controls=True,
                auto_rotate=True,
                shadow_intensity=0.8,
                interaction_prompt="none",
                camera_orbit="15deg 40deg 100%",
                orientation=Z_UP,
                exposure=1.0,
                with_credentials=credentials,
                style=style,
                data_testid="viewer3d",
                **props,
            ),
            rx.center(rx.icon("box", size=36, color=rx.color("gray", 8)), height="100%"),
        ),
        width="100%",
        height=height,
        border_radius="8px",
        overflow="hidden",
        background=f"radial-gradient(circle at 50% 40%, {rx.color('gray', 1)}, {rx.color('gray', 4)})",
        border=f"1px solid {rx.color('gray', 5)}",
    )
