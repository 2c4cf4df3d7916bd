"""/build: the public PC builder; /b/<slug>: a shared build, read-only."""

from __future__ import annotations

import reflex as rx

from app.builder import rules
from components.layout import PHONE_META, public_page
from components.storefront import (
    acknowledge_blocks,
    country_item,
    order_field,
    order_totals_card,
    place_order_buttons,
    severity_badge,
    share_dialog,
    storefront_page,
)
from components.ui import empty_state, status_color, status_shade
from state.builder import (
    BuilderState,
    BuildViewState,
    ChosenPart,
    PickerFacet,
    PickerItem,
    SharedBuildState,
    SlotCard,
    SuggestedFix,
    VerdictRow,
)

SORTS = [("price_asc", "Price: low to high"), ("price_desc", "Price: high to low"), ("name", "Name")]


# --- the build: slot cards and the summary ---------------------------------------------------


def _part_line(row: rx.Var[SlotCard], part: rx.Var[ChosenPart], editable: bool) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(part.name, size="2", weight="medium", data_testid="part-name"),
            rx.hstack(
                rx.text(part.price, size="1", color_scheme=rx.cond(part.available, "gray", "red")),
                rx.cond(
                    part.availability != "",
                    rx.text(
                        "· ",
                        part.availability,
                        size="1",
                        color_scheme=part.availability_tone,
                        data_testid="part-availability",
                    ),
                ),
                spacing="1",
                align="center",
            ),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        *(
            [
                rx.tooltip(
                    rx.icon_button(
                        rx.icon("repeat", size=14),
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        aria_label="Change part",
                        on_click=BuilderState.open_picker(row.slot, part.index),
                    ),
                    content="Change",
                ),
                rx.tooltip(
                    rx.icon_button(
                        rx.icon("x", size=14),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label="Remove part",
                        data_testid="remove-part",
                        on_click=BuilderState.remove(row.slot, part.index),
                    ),
                    content="Remove",
                ),
            ]
            if editable
            else []
        ),
        align="center",
        width="100%",
        spacing="2",
    )


def _slot_card(row: rx.Var[SlotCard], editable: bool) -> rx.Component:
    parts = row.parts
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row.title, size="1", weight="bold", color_scheme="gray", text_transform="uppercase"),
                rx.spacer(),
                severity_badge(row.severity),
                align="center",
                width="100%",
            ),
            rx.cond(
                parts.length() > 0,
                rx.vstack(rx.foreach(parts, lambda p: _part_line(row, p, editable)), spacing="2", width="100%"),
                rx.text("Nothing chosen yet.", size="2", color_scheme="gray") if not editable else rx.fragment(),
            ),
            *(
                [
                    rx.cond(
                        row.can_add,
                        rx.button(
                            rx.icon("plus", size=14),
                            rx.cond(parts.length() > 0, "Add another", row.choose),
                            size="2",
                            variant=rx.cond(parts.length() > 0, "ghost", "soft"),
                            on_click=BuilderState.open_picker(row.slot, -1),
                            data_testid="choose-" + row.slot,
                        ),
                    )
                ]
                if editable
                else []
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="slot-" + row.slot,
        style={
            "borderLeft": rx.cond(
                row.severity == "block",
                f"3px solid {rx.color('red', 9)}",
                rx.cond(row.severity == "warn", f"3px solid {rx.color('amber', 9)}", "3px solid transparent"),
            )
        },
    )


def _suggestion(s: rx.Var[SuggestedFix]) -> rx.Component:
    return rx.hstack(
        rx.icon("wand-sparkles", size=14, color=rx.color("green", 10), flex_shrink="0"),
        rx.text(s.label, size="1", flex="1", min_width="0", color_scheme="gray", high_contrast=True),
        rx.text(s.price, size="1", weight="bold", white_space="nowrap"),
        rx.button(
            "Apply",
            size="1",
            variant="soft",
            color_scheme="green",
            on_click=BuilderState.apply_suggestion(s.query),
            data_testid="suggestion",
        ),
        align="center",
        spacing="2",
        width="100%",
        padding="4px 6px",
        border_radius="6px",
        background=rx.color("gray", 1),
    )


def _verdict(v: rx.Var[VerdictRow], editable: bool) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(
            rx.match(v.severity, ("block", rx.icon("circle-x")), ("warn", rx.icon("triangle-alert")), rx.icon("info"))
        ),
        rx.vstack(
            rx.text(v.message, size="2", data_testid="verdict-message"),
            rx.text(v.slots, size="1", color_scheme="gray"),
            *(
                [
                    rx.cond(
                        v.suggestions.length() > 0,
                        rx.vstack(
                            rx.text(
                                rx.cond(
                                    v.severity == "block",
                                    "Fix it with one of these parts the shop sells:",
                                    "These parts the shop sells would clear this warning:",
                                ),
                                size="1",
                                weight="medium",
                            ),
                            rx.foreach(v.suggestions, _suggestion),
                            spacing="1",
                            width="100%",
                        ),
                    )
                ]
                if editable
                else []
            ),
            spacing="1",
            width="100%",
        ),
        color_scheme=status_color(v.severity, rules.SEVERITY),
        size="1",
        width="100%",
        data_testid="verdict-" + v.rule,
        data_severity=v.severity,
    )


def summary(state: type[BuildViewState], editable: bool) -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.cond(
                        state.is_empty,
                        rx.icon("list-plus", size=22, color=rx.color("gray", 9)),
                        rx.icon(
                            rx.match(
                                state.overall,
                                ("block", "circle-x"),
                                ("warn", "triangle-alert"),
                                ("info", "info"),
                                "circle-check",
                            ),
                            size=22,
                            color=status_shade(state.overall, rules.SEVERITY),
                        ),
                    ),
                    rx.text(
                        state.banner,
                        size="2",
                        weight="medium",
                        data_testid="overall-banner",
                        data_overall=rx.cond(state.is_empty, "empty", state.overall),
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.divider(),
                rx.hstack(
                    rx.hover_card.root(
                        rx.hover_card.trigger(
                            rx.vstack(
                                rx.hstack(
                                    rx.text("Estimated power draw", size="1", color_scheme="gray"),
                                    rx.icon("info", size=12, color=rx.color("gray", 9)),
                                    align="center",
                                    spacing="1",
                                ),
                                rx.heading(state.draw_w, " W", size="5", data_testid="draw-w"),
                                spacing="0",
                                cursor="help",
                            ),
                        ),
                        rx.hover_card.content(
                            rx.vstack(
                                rx.text("How the estimate adds up", size="2", weight="bold"),
                                rx.foreach(state.draw_parts, lambda line: rx.text(line, size="1")),
                                rx.text("The PSU should have 20 % headroom above this.", size="1", color_scheme="gray"),
                                spacing="1",
                            ),
                        ),
                    ),
                    rx.spacer(),
                    rx.vstack(
                        rx.text("Total", size="1", color_scheme="gray"),
                        rx.heading(state.total_price, size="6", data_testid="total-price"),
                        spacing="0",
                        align="end",
                    ),
                    width="100%",
                ),
                rx.text(
                    state.build_state,
                    " build · ",
                    state.passes,
                    " checks passed",
                    size="1",
                    color_scheme="gray",
                    data_testid="build-state",
                ),
                *([_actions()] if editable else []),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.cond(
            state.unavailable.length() > 0,
            rx.callout(
                "Not sold by the shop right now: " + state.unavailable.join(", "),
                icon="package-x",
                color_scheme="red",
                size="1",
                width="100%",
            ),
        ),
        rx.foreach(state.verdicts, lambda v: _verdict(v, editable)),
        rx.cond(
            state.not_checked.length() > 0,
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.icon("circle-help", size=14),
                        rx.text("Not checked", size="2", weight="bold"),
                        align="center",
                        spacing="1",
                    ),
                    rx.foreach(state.not_checked, lambda m: rx.text("• ", m, size="1", color_scheme="gray")),
                    spacing="1",
                ),
                width="100%",
                data_testid="not-checked",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("shopping-cart", size=14),
            "Order this PC",
            color_scheme="green",
            on_click=BuilderState.open_order,
            disabled=~BuilderState.has_parts,
            data_testid="order-build",
        ),
        rx.button(
            rx.icon("save", size=14),
            "Save",
            variant="soft",
            on_click=BuilderState.save,
            disabled=~BuilderState.has_parts,
            data_testid="save-build",
        ),
        rx.button(
            rx.icon("share-2", size=14),
            "Share",
            variant="soft",
            on_click=BuilderState.share,
            disabled=~BuilderState.has_parts,
            data_testid="share-build",
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    rx.icon("eraser", size=14),
                    "Clear",
                    variant="soft",
                    color_scheme="gray",
                    disabled=~BuilderState.has_parts,
                    data_testid="clear-build",
                )
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Clear this build?"),
                rx.alert_dialog.description("Every chosen part is removed. A build you saved stays saved."),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(rx.button("Clear", color_scheme="red", on_click=BuilderState.clear_all)),
                    justify="end",
                    spacing="3",
                    padding_top="12px",
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


# --- the picker ---------------------------------------------------------------------------------


def _item(it: rx.Var[PickerItem]) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(it.name, size="2", weight="medium"),
                rx.text(it.summary, size="1", color_scheme="gray"),
                rx.hstack(
                    rx.cond(it.compatible, rx.fragment(), severity_badge(it.severity)),
                    rx.cond(it.severity == "warn", severity_badge("warn")),
                    rx.text(it.stock_text, size="1", color_scheme=it.stock_tone, data_testid="picker-availability"),
                    spacing="2",
                    align="center",
                ),
                rx.foreach(it.reasons, lambda r: rx.text(r, size="1", color=rx.color("red", 11))),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.vstack(
                rx.text(it.price, size="3", weight="bold", white_space="nowrap"),
                rx.button(
                    "Choose",
                    size="2",
                    on_click=BuilderState.choose(it.id),
                    data_testid="pick-part",
                    variant=rx.cond(it.compatible, "solid", "soft"),
                    color_scheme=rx.cond(it.compatible, "indigo", "gray"),
                ),
                align="end",
                spacing="2",
            ),
            spacing="3",
            width="100%",
            direction="row",
            align="center",
        ),
        width="100%",
        flex_shrink="0",
        data_testid="picker-item",
        data_compatible=it.compatible,
        opacity=rx.cond(it.compatible, "1", "0.8"),
    )


def _facet(f: rx.Var[PickerFacet]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=f.title, data_testid="filter-" + f.key),
        rx.select.content(rx.foreach(f.options, lambda o: rx.select.item(o.label, value=o.value))),
        value=f.selected,
        on_change=lambda v: BuilderState.set_filter(f.key, v),
        size="2",
    )


def picker() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title(BuilderState.picker_title, margin="0"),
                    rx.spacer(),
                    rx.dialog.close(
                        rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")
                    ),
                    align="center",
                    width="100%",
                ),
                rx.flex(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=14)),
                        placeholder="Search name or maker",
                        default_value=BuilderState.search,
                        on_change=BuilderState.set_search.debounce(250),
                        flex="1",
                        min_width="200px",
                        data_testid="picker-search",
                    ),
                    rx.select.root(
                        rx.select.trigger(),
                        rx.select.content(*[rx.select.item(label, value=key) for key, label in SORTS]),
                        value=BuilderState.sort,
                        on_change=BuilderState.set_sort,
                    ),
                    rx.hstack(
                        rx.switch(
                            checked=BuilderState.compatible_only,
                            on_change=BuilderState.set_compatible_only,
                            data_testid="compatible-only",
                        ),
                        rx.text("Compatible only", size="2"),
                        align="center",
                        spacing="2",
                        as_="label",
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="center",
                    width="100%",
                ),
                rx.flex(rx.foreach(BuilderState.facets, _facet), spacing="2", wrap="wrap", width="100%"),
                rx.cond(
                    BuilderState.items.length() > 0,
                    rx.vstack(
                        rx.foreach(BuilderState.items, _item),
                        spacing="2",
                        width="100%",
                        max_height=["60vh", "55vh"],
                        overflow_y="auto",
                        data_testid="picker-list",
                    ),
                    empty_state(
                        "search-x", "No parts match", "Try another search or filter, or switch off “Compatible only”."
                    ),
                ),
                rx.flex(
                    rx.text(
                        BuilderState.total,
                        " parts",
                        rx.cond(
                            BuilderState.hidden_incompatible > 0,
                            rx.text.span(" · ", BuilderState.hidden_incompatible, " incompatible hidden"),
                        ),
                        size="1",
                        color_scheme="gray",
                        data_testid="picker-count",
                    ),
                    rx.spacer(),
                    rx.hstack(
                        rx.icon_button(
                            rx.icon("chevron-left", size=16),
                            size="1",
                            variant="soft",
                            disabled=BuilderState.page == 0,
                            on_click=BuilderState.go_page(-1),
                            aria_label="Previous page",
                        ),
                        rx.text(BuilderState.page + 1, " / ", BuilderState.page_count, size="1"),
                        rx.icon_button(
                            rx.icon("chevron-right", size=16),
                            size="1",
                            variant="soft",
                            disabled=BuilderState.page + 1 >= BuilderState.page_count,
                            on_click=BuilderState.go_page(1),
                            aria_label="Next page",
                        ),
                        align="center",
                        spacing="2",
                    ),
                    width="100%",
                    align="center",
                ),
                spacing="3",
                width="100%",
            ),
            max_width=["100%", "860px"],
            width="100%",
            padding=["14px", "24px"],
            data_testid="picker",
        ),
        open=BuilderState.picker_open,
        on_open_change=BuilderState.picker_open_change,
    )


def _save_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Save to My builds"),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        default_value="My build",
                        placeholder="Name",
                        max_length=120,
                        width="100%",
                        auto_focus=True,
                        data_testid="save-name",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", data_testid="save-confirm"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=BuilderState.save_to_account,
            ),
        ),
        open=BuilderState.save_open,
        on_open_change=BuilderState.set_save_open,
    )


def _order_dialog() -> rx.Component:
    a, t = BuilderState.order_address, BuilderState.order_totals
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title("Order this PC", margin="0"),
                rx.spacer(),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")
                ),
                align="center",
                width="100%",
            ),
            rx.dialog.description(
                "We assemble it, test it and ship it to this address. Parts are charged at today's prices.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    order_totals_card(t),
                    rx.cond(
                        BuilderState.order_error != "",
                        rx.callout(
                            BuilderState.order_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="order-error",
                        ),
                    ),
                    order_field(
                        BuilderState.order_field_errors,
                        "Full name",
                        "name",
                        a.name,
                        required=True,
                        auto_complete="name",
                    ),
                    rx.cond(
                        BuilderState.customer_signed_in,
                        rx.vstack(
                            rx.text("Email", size="2", weight="medium"),
                            rx.text(BuilderState.customer_email, size="2", color_scheme="gray"),
                            spacing="1",
                            width="100%",
                        ),
                        order_field(
                            BuilderState.order_field_errors,
                            "Email (for the order confirmation)",
                            "email",
                            a.email,
                            type="email",
                            required=True,
                            auto_complete="email",
                        ),
                    ),
                    rx.grid(
                        order_field(
                            BuilderState.order_field_errors,
                            "Street",
                            "street",
                            a.street,
                            required=True,
                            auto_complete="address-line1",
                        ),
                        order_field(
                            BuilderState.order_field_errors,
                            "House number",
                            "house_number",
                            a.house_number,
                            required=True,
                        ),
                        columns=rx.breakpoints(
                            initial="minmax(0, 2fr) minmax(0, 1fr)", sm="minmax(0, 3fr) minmax(0, 1fr)"
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    order_field(
                        BuilderState.order_field_errors,
                        "Address line 2 (optional)",
                        "address2",
                        a.address2,
                        auto_complete="address-line2",
                    ),
                    rx.grid(
                        order_field(
                            BuilderState.order_field_errors, "Postal code", "postal_code", a.postal_code, required=True
                        ),
                        order_field(
                            BuilderState.order_field_errors,
                            "City",
                            "city",
                            a.city,
                            required=True,
                            auto_complete="address-level2",
                        ),
                        columns="minmax(0, 1fr) minmax(0, 2fr)",
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text("Country", size="2", weight="medium"),
                        rx.select.root(
                            rx.select.trigger(width="100%", data_testid="order-country"),
                            rx.select.content(rx.foreach(BuilderState.order_countries, country_item)),
                            name="country_code",
                            default_value=a.country_code,
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    order_field(
                        BuilderState.order_field_errors,
                        "Phone (optional)",
                        "phone",
                        a.phone,
                        type="tel",
                        auto_complete="tel",
                    ),
                    acknowledge_blocks(BuilderState.order_blocks),
                    place_order_buttons(t.total),
                    spacing="3",
                    width="100%",
                ),
                on_submit=BuilderState.place_order,
                reset_on_submit=False,
            ),
            max_width=["100%", "540px"],
            padding=["14px", "24px"],
            data_testid="order-dialog",
        ),
        open=BuilderState.order_open,
        on_open_change=BuilderState.set_order_open,
    )


def _placed() -> rx.Component:
    return rx.cond(
        BuilderState.placed_number != "",
        rx.callout(
            rx.text(
                "Order ",
                rx.text.strong(BuilderState.placed_number),
                " is placed. We'll email you when it ships.",
            ),
            icon="party-popper",
            color_scheme="green",
            width="100%",
            data_testid="order-placed",
        ),
    )


def _builder() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Build your PC", size="7"),
            rx.text(
                "Pick a part for each slot. Every choice is checked against the rest of the build.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        _placed(),
        rx.cond(
            BuilderState.loaded,
            rx.grid(
                rx.vstack(rx.foreach(BuilderState.rows, lambda r: _slot_card(r, True)), spacing="3", width="100%"),
                rx.box(summary(BuilderState, True), position=["static", "static", "sticky"], top="76px"),
                columns=rx.breakpoints(initial="1", md="3fr 2fr"),
                spacing="5",
                width="100%",
                align_items="start",
            ),
            rx.center(rx.spinner(size="3"), padding="80px", width="100%"),
        ),
        picker(),
        share_dialog(BuilderState.share_url, BuilderState.share_open, BuilderState.set_share_open, "share-url"),
        _save_dialog(),
        _order_dialog(),
        spacing="5",
        width="100%",
    )


builder_page = public_page("/build", "Build your PC", kind="storefront", on_load=BuilderState.load, meta=PHONE_META)(
    storefront_page(_builder)
)


# --- a shared build ------------------------------------------------------------------------------


def _gone() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("ghost", size=36, color=rx.color("gray", 9)),
                rx.heading("This build is gone", size="5"),
                rx.text(
                    "Its owner deleted it, so this share link no longer shows anything.",
                    color_scheme="gray",
                    size="2",
                    text_align="center",
                ),
                rx.link(rx.button(rx.icon("wrench", size=14), "Start your own build"), href="/build"),
                align="center",
                spacing="3",
            ),
            max_width="440px",
            data_testid="shared-gone",
        ),
        padding_top="60px",
        width="100%",
    )


def _shared() -> rx.Component:
    return rx.cond(
        ~SharedBuildState.loaded,
        rx.center(rx.spinner(size="3"), padding="80px", width="100%"),
        rx.cond(
            SharedBuildState.gone,
            _gone(),
            rx.cond(
                SharedBuildState.missing,
                rx.center(
                    empty_state("search-x", "No such build", "Check the link you were given."), padding_top="60px"
                ),
                rx.vstack(
                    rx.flex(
                        rx.vstack(
                            rx.text("Shared build", size="1", color_scheme="gray"),
                            rx.heading(SharedBuildState.name, size="7", data_testid="shared-name"),
                            spacing="0",
                        ),
                        rx.spacer(),
                        rx.link(
                            rx.button(
                                rx.icon("copy-plus", size=14),
                                "Open in builder",
                                size="3",
                                data_testid="open-in-builder",
                            ),
                            href="/build?" + SharedBuildState.query,
                        ),
                        width="100%",
                        align="center",
                        spacing="3",
                        wrap="wrap",
                    ),
                    rx.grid(
                        rx.vstack(
                            rx.foreach(SharedBuildState.rows, lambda r: _slot_card(r, False)), spacing="3", width="100%"
                        ),
                        summary(SharedBuildState, False),
                        columns=rx.breakpoints(initial="1", md="3fr 2fr"),
                        spacing="5",
                        width="100%",
                        align_items="start",
                    ),
                    spacing="5",
                    width="100%",
                ),
            ),
        ),
    )


shared_build_page = public_page(
    "/b/[slug]", "Shared build", kind="storefront", on_load=SharedBuildState.load, meta=PHONE_META
)(storefront_page(_shared))

__all__ = ["builder_page", "shared_build_page"]
