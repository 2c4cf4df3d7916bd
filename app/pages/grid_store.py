"""/gridfinity (storefront): custom Gridfinity baseplates for a drawer. The
customer types the drawer's inside size, picks magnets and a connector,
sees the baseplate in 3D with its plates, price and print time, and orders
it as the PC builder's checkout does. (The staff generator is /grid.)"""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.layout import PHONE_META, public_page
from components.storefront import country_item, order_field, place_order_buttons, storefront_page
from components.ui import field
from components.viewer3d import viewer3d
from state.grid_store import GridStoreState as G

CONNECTORS = [
    ("intersection-puzzle", "Puzzle joints at the corners"),
    ("edge-puzzle", "Puzzle joints along the edges"),
    ("none", "No joints (loose plates)"),
]


def _mm_input(label: str, value: rx.Var, on_change: Any, key: str, placeholder: str) -> rx.Component:
    error = G.errors.get(key, "")
    control = rx.debounce_input(
        rx.input(
            rx.input.slot(rx.text("mm", size="2", color_scheme="gray"), side="right"),
            value=value,
            on_change=on_change,
            placeholder=placeholder,
            input_mode="decimal",
            size="3",
            aria_label=label,
            aria_invalid=rx.cond(error != "", "true", "false"),
            color_scheme=rx.cond(error != "", "red", "gray"),
            data_testid=f"drawer-{key}",
        ),
        debounce_timeout=300,
    )
    return rx.vstack(
        field(label, control),
        rx.cond(error != "", rx.text(error, size="1", color_scheme="red", data_testid=f"drawer-{key}-error")),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _figure(label: str, value: Any, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="3", weight="bold", data_testid=testid),
        spacing="0",
        min_width="0",
    )


def _quote() -> rx.Component:
    q = G.quote
    return rx.cond(
        G.quote.price != "",
        rx.vstack(
            rx.hstack(
                rx.text("Price", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.heading(q.price, size="7", data_testid="grid-price"),
                align="center",
                width="100%",
            ),
            rx.grid(
                _figure("Plates", q.plates, "grid-plates"),
                _figure("Print time", q.print_time, "grid-time"),
                _figure("Filament", q.grams, "grid-grams"),
                columns="3",
                spacing="3",
                width="100%",
            ),
            rx.text(
                q.cells,
                " cells · ",
                q.plate,
                " in all, printed in ",
                q.plates,
                " plate(s) that join together",
                size="1",
                color_scheme="gray",
                data_testid="grid-cells",
            ),
            rx.foreach(
                q.problems, lambda p: rx.callout(p, icon="triangle-alert", color_scheme="red", size="1", width="100%")
            ),
            spacing="3",
            width="100%",
            data_testid="grid-quote",
        ),
        rx.text(
            "Measure the inside of your drawer and type its width and depth: the price shows as you type.",
            size="2",
            color_scheme="gray",
        ),
    )


def _options_card() -> rx.Component:
    d = G.drawer
    return rx.card(
        rx.vstack(
            rx.grid(
                _mm_input("Drawer width", d.width, G.set_width, "width", "e.g. 371"),
                _mm_input("Drawer depth", d.depth, G.set_depth, "depth", "e.g. 254"),
                columns="2",
                spacing="3",
                width="100%",
            ),
            rx.el.label(
                rx.hstack(
                    rx.switch(
                        checked=d.magnets == "press-fit",
                        on_change=G.set_magnets,
                        data_testid="drawer-magnets",
                        aria_label="Magnet holes",
                    ),
                    rx.vstack(
                        rx.text("Magnet holes", size="2", weight="medium"),
                        rx.text(
                            "6 × 2 mm magnets press into every cell, so bins snap in place.",
                            size="1",
                            color_scheme="gray",
                        ),
                        spacing="0",
                    ),
                    align="center",
                    spacing="3",
                ),
                width="100%",
            ),
            field(
                "How the plates join",
                rx.select.root(
                    rx.select.trigger(data_testid="drawer-connector"),
                    rx.select.content(*[rx.select.item(text, value=v) for v, text in CONNECTORS]),
                    value=d.connector,
                    on_change=G.set_connector,
                ),
            ),
            rx.cond(
                G.errors.contains("form"),
                rx.callout(G.errors["form"], icon="triangle-alert", color_scheme="red", size="1", width="100%"),
            ),
            rx.separator(size="4"),
            _quote(),
            rx.button(
                rx.icon("shopping-cart", size=16),
                "Order these plates",
                size="3",
                width="100%",
                color_scheme="green",
                disabled=~G.quoted,
                on_click=G.open_order,
                data_testid="grid-order",
            ),
            rx.text(
                "Printed in PLA on ",
                G.shop.printer,
                " (",
                G.shop.bed,
                " bed). Drawer sides from 42 mm to ",
                G.shop.max_words,
                ".",
                size="1",
                color_scheme="gray",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        data_testid="grid-options",
    )


def _viewer() -> rx.Component:
    return rx.vstack(
        viewer3d(G.preview, "Your baseplate in 3D", height=rx.breakpoints(initial="300px", sm="420px")),
        rx.cond(
            G.preview_note != "",
            rx.text(G.preview_note, size="1", color_scheme="gray", data_testid="grid-preview-note"),
            rx.text(
                "Drag to turn it, pinch or scroll to zoom. The plates are shown as they fit together in the drawer.",
                size="1",
                color_scheme="gray",
            ),
        ),
        spacing="2",
        width="100%",
        min_width="0",
    )


def _order_dialog() -> rx.Component:
    a, errors = G.order_address, G.order_field_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title("Order your baseplate", margin="0"),
                rx.spacer(),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")
                ),
                align="center",
                width="100%",
            ),
            rx.dialog.description(
                rx.text.span("We print the plates and ship them to this address.", size="2", color_scheme="gray")
            ),
            rx.form(
                rx.vstack(
                    rx.card(
                        rx.vstack(
                            rx.hstack(
                                rx.text("Drawer ", G.drawer.width, " × ", G.drawer.depth, " mm", size="2"),
                                rx.spacer(),
                                rx.text(G.quote.plates, " plate(s)", size="2"),
                                width="100%",
                            ),
                            rx.hstack(
                                rx.text("Total", size="2", weight="bold"),
                                rx.spacer(),
                                rx.text(G.quote.price, size="3", weight="bold", data_testid="order-total"),
                                width="100%",
                            ),
                            spacing="2",
                            width="100%",
                        ),
                        variant="surface",
                        width="100%",
                    ),
                    rx.cond(
                        G.order_error != "",
                        rx.callout(
                            G.order_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="order-error",
                        ),
                    ),
                    order_field(errors, "Full name", "name", a.name, required=True, auto_complete="name"),
                    rx.cond(
                        G.customer_signed_in,
                        rx.vstack(
                            rx.text("Email", size="2", weight="medium"),
                            rx.text(G.customer_email, size="2", color_scheme="gray"),
                            spacing="1",
                            width="100%",
                        ),
                        order_field(
                            errors,
                            "Email (for the order confirmation)",
                            "email",
                            a.email,
                            type="email",
                            required=True,
                            auto_complete="email",
                        ),
                    ),
                    rx.grid(
                        order_field(errors, "Street", "street", a.street, required=True, auto_complete="address-line1"),
                        order_field(errors, "House number", "house_number", a.house_number, required=True),
                        columns=rx.breakpoints(
                            initial="minmax(0, 2fr) minmax(0, 1fr)", sm="minmax(0, 3fr) minmax(0, 1fr)"
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    order_field(
                        errors, "Address line 2 (optional)", "address2", a.address2, auto_complete="address-line2"
                    ),
                    rx.grid(
                        order_field(errors, "Postal code", "postal_code", a.postal_code, required=True),
                        order_field(errors, "City", "city", a.city, required=True, auto_complete="address-level2"),
                        columns="minmax(0, 1fr) minmax(0, 2fr)",
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text("Country", size="2", weight="medium"),
                        rx.select.root(
                            rx.select.trigger(width="100%", data_testid="order-country"),
                            rx.select.content(rx.foreach(G.order_countries, country_item)),
                            name="country_code",
                            default_value=a.country_code,
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    order_field(errors, "Phone (optional)", "phone", a.phone, type="tel", auto_complete="tel"),
                    place_order_buttons(G.quote.price),
                    spacing="3",
                    width="100%",
                ),
                on_submit=G.place_order,
                reset_on_submit=False,
            ),
            max_width=["100%", "540px"],
            padding=["14px", "24px"],
            data_testid="order-dialog",
        ),
        open=G.order_open,
        on_open_change=G.set_order_open,
    )


def _placed() -> rx.Component:
    return rx.cond(
        G.placed_number != "",
        rx.callout(
            rx.text(
                "Order ",
                rx.text.strong(G.placed_number, data_testid="order-number"),
                " is placed. We print your plates and email you when they ship.",
            ),
            icon="party-popper",
            color_scheme="green",
            width="100%",
            data_testid="order-placed",
        ),
    )


def _not_on_sale() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("grid-3x3", size=36, color=rx.color("gray", 9)),
                rx.heading("Not on sale at the moment", size="5"),
                rx.text(
                    "This shop does not make custom Gridfinity baseplates right now.",
                    color_scheme="gray",
                    size="2",
                    text_align="center",
                ),
                align="center",
                spacing="3",
            ),
            max_width="440px",
            data_testid="grid-not-on-sale",
        ),
        padding_top="60px",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Gridfinity baseplates for your drawer", size=rx.breakpoints(initial="6", sm="7")),
            rx.text(
                "Made to measure: whole 42 mm cells with the leftover split evenly at the edges, printed in plates "
                "that fit the printer and join together in the drawer.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        _placed(),
        rx.cond(
            G.loaded,
            rx.cond(
                G.shop.enabled,
                rx.grid(
                    _options_card(),
                    rx.box(_viewer(), position=["static", "static", "sticky"], top="76px"),
                    columns=rx.breakpoints(initial="1", md="2fr 3fr"),
                    spacing="5",
                    width="100%",
                    align_items="start",
                ),
                _not_on_sale(),
            ),
            rx.center(rx.spinner(size="3"), padding="80px", width="100%"),
        ),
        _order_dialog(),
        spacing="5",
        width="100%",
    )


grid_store_page = public_page(
    "/gridfinity", "Gridfinity baseplates", kind="storefront", on_load=G.load, meta=PHONE_META
)(storefront_page(_body))

__all__ = ["grid_store_page"]
