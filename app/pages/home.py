"""/: the staff home page."""

from __future__ import annotations

import reflex as rx

from app.platform.machine import SEVERITY
from components.layout import staff_page, stat_card
from components.ui import status_badge
from state.home import HomeState, RecentEvent


def _event_row(e: rx.Var[RecentEvent]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e.at),
        rx.table.cell(status_badge(e.severity, SEVERITY)),
        rx.table.cell(rx.code(e.type)),
        rx.table.cell(e.message),
    )


@staff_page("/", "Home", permission=None, icon="layout-dashboard", on_load=HomeState.load)
def home_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Welcome to ", HomeState.tenant_name, size="6", data_testid="welcome"),
        rx.text("Signed in as ", rx.text.strong(HomeState.display_name), ".", color_scheme="gray"),
        rx.cond(
            HomeState.loaded,
            rx.flex(
                stat_card("Staff accounts", HomeState.users, "users", "count-users"),
                stat_card("Signed-in sessions", HomeState.active_sessions, "monitor-smartphone", "count-sessions"),
                stat_card("Events (24 h)", HomeState.events_today, "activity", "count-events"),
                stat_card("Events waiting", HomeState.events_waiting, "hourglass", "count-waiting"),
                stat_card("Sign-ins (24 h)", HomeState.sign_ins_today, "log-in", "count-signins"),
                stat_card("Failed sign-ins (24 h)", HomeState.failed_sign_ins_today, "shield-alert", "count-failed"),
                wrap="wrap",
                spacing="4",
            ),
            rx.flex(*[rx.skeleton(rx.card(height="80px", width="180px")) for _ in range(4)], spacing="4"),
        ),
        rx.heading("Recent activity", size="4", padding_top="12px"),
        rx.cond(
            HomeState.recent_events.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("When"),
                        rx.table.column_header_cell("Severity"),
                        rx.table.column_header_cell("Event"),
                        rx.table.column_header_cell("Message"),
                    )
                ),
                rx.table.body(rx.foreach(HomeState.recent_events, _event_row)),
                variant="surface",
                width="100%",
            ),
            rx.text("Nothing has happened yet.", color_scheme="gray"),
        ),
        spacing="4",
        width="100%",
    )
