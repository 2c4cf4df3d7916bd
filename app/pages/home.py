"""/: the staff home page: the shop's work for the signed-in user."""

from __future__ import annotations

import reflex as rx

from components.layout import staff_page
from components.ui import empty_state
from state.home import CHART_SEPARATOR, ActivityRow, HomeState, TileView, WorkItem

# The chart's axis shows the day only; its tooltip shows the whole name (day and amount).
DAY_ONLY = f"(v) => String(v).split({CHART_SEPARATOR!r})[0]"


def _chart(t: rx.Var[TileView]) -> rx.Component:
    return rx.cond(
        t.chart.length() > 0,
        rx.box(
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="value", fill=rx.color("accent", 9), radius=[3, 3, 0, 0]),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, tick_formatter=DAY_ONLY),
                rx.recharts.y_axis(hide=True),
                rx.recharts.graphing_tooltip(item_style={"display": "none"}, cursor={"fill": rx.color("gray", 3)}),
                data=t.chart.to(list[dict]),  # recharts takes plain records
                height=110,
                width="100%",
                margin={"top": 6, "right": 4, "left": 4, "bottom": 0},
            ),
            width="100%",
            data_testid="revenue-chart",
        ),
    )


def _tile(t: rx.Var[TileView]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(t.icon, size=18, color=rx.color(t.tone, 10)),
                rx.text(t.title, size="2", color_scheme="gray", weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.link(
                rx.heading(t.value, size="7", data_testid="tile-value"),
                href=t.link,
                underline="hover",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.text(t.hint, size="1", color_scheme="gray"),
            _chart(t),
            spacing="1",
            width="100%",
        ),
        width="100%",
        border_left=f"3px solid {rx.color(t.tone, 8)}",
        data_testid="tile-" + t.key,
    )


def _work_item(i: rx.Var[WorkItem]) -> rx.Component:
    return rx.hstack(
        rx.badge(i.status, color_scheme=i.tone, variant="soft", flex_shrink="0"),
        rx.link(i.text, href=i.link, size="2", data_testid="my-work-item"),
        align="center",
        spacing="2",
        flex_wrap="wrap",
        width="100%",
    )


def _my_work_tile(t: rx.Var[TileView]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(t.icon, size=18, color=rx.color(t.tone, 10)),
                rx.link(t.title, href=t.link, weight="medium", size="3"),
                rx.badge(t.value, color_scheme=t.tone, variant="solid", radius="full"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                t.work.length() > 0,
                rx.vstack(rx.foreach(t.work, _work_item), spacing="2", width="100%"),
                rx.text(t.hint, size="2", color_scheme="gray"),
            ),
            rx.cond((t.work.length() > 0) & (t.hint != ""), rx.link(t.hint, href=t.link, size="1")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="tile-" + t.key,
    )


def _activity(a: rx.Var[ActivityRow]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            min_width="8px",
            border_radius="50%",
            background=rx.color(a.tone, 9),
            margin_top="7px",
        ),
        rx.vstack(
            rx.cond(
                a.link != "",
                rx.link(a.text, href=a.link, size="2", data_testid="activity-link"),
                rx.text(a.text, size="2"),
            ),
            rx.tooltip(rx.text(a.ago, size="1", color_scheme="gray"), content=a.at),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="3",
        width="100%",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="activity-row",
    )


def _tiles() -> rx.Component:
    return rx.cond(
        HomeState.tiles.length() > 0,
        rx.grid(
            rx.foreach(HomeState.tiles, _tile),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            align="start",  # a tile with a chart is taller; the others keep their height
            width="100%",
        ),
        empty_state("layout-dashboard", "Nothing to show yet", "Your role does not include any of the shop's work."),
    )


def _skeleton() -> rx.Component:
    return rx.grid(
        *[rx.skeleton(rx.card(height="110px", width="100%")) for _ in range(3)],
        columns=rx.breakpoints(initial="1", sm="2", md="3"),
        spacing="4",
        width="100%",
    )


@staff_page("/", "Home", permission=None, icon="layout-dashboard", on_load=HomeState.load)
def home_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Welcome, ", HomeState.display_name, size="6", data_testid="welcome"),
        rx.text("What needs doing at ", rx.text.strong(HomeState.tenant_name), " today.", color_scheme="gray"),
        rx.cond(
            HomeState.loaded,
            rx.vstack(
                _tiles(),
                rx.cond(
                    HomeState.my_work.length() > 0,
                    rx.vstack(
                        rx.heading("My work", size="4"),
                        rx.grid(
                            rx.foreach(HomeState.my_work, _my_work_tile),
                            columns=rx.breakpoints(initial="1", sm="2"),
                            width="100%",
                        ),
                        spacing="2",
                        width="100%",
                        data_testid="my-work",
                    ),
                ),
                rx.heading("Recent activity", size="4", padding_top="8px"),
                rx.cond(
                    HomeState.recent.length() > 0,
                    rx.card(
                        rx.vstack(rx.foreach(HomeState.recent, _activity), spacing="0", width="100%"),
                        width="100%",
                        data_testid="recent-activity",
                    ),
                    empty_state("activity", "Nothing has happened yet", "New orders, builds and prints show up here."),
                ),
                spacing="4",
                width="100%",
            ),
            _skeleton(),
        ),
        spacing="4",
        width="100%",
    )
