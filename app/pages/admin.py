"""Admin pages: /admin/users, /admin/api-keys, /admin/audit, /admin/queues."""

from __future__ import annotations

import reflex as rx

from components.layout import staff_page
from components.ui import confirm_button, empty_state, field, loading_table, pager
from state.admin import (
    ApiKeyRow,
    ApiKeysState,
    AuditEntry,
    AuditState,
    FailedJobRow,
    QueueRow,
    QueuesState,
    RetryAttentionRow,
    StaffRow,
    UsersState,
    WorkerRow,
)


def _header(*names: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(n) for n in names]))


# --- staff & roles --------------------------------------------------------------


def _user_row(u: rx.Var[StaffRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(u.display_name, weight="medium"),
                rx.text(u.username, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(u.email),
        rx.table.cell(
            rx.cond(
                UsersState.can_edit,
                rx.select(
                    UsersState.role_names,
                    value=u.role,
                    size="1",
                    on_change=lambda role: UsersState.change_role(u.id, role),
                    data_testid=f"role-{u.username}",
                ),
                rx.badge(u.roles),
            )
        ),
        rx.table.cell(u.last_login),
        rx.table.cell(
            rx.cond(u.active, rx.badge("active", color_scheme="green"), rx.badge("disabled", color_scheme="gray"))
        ),
        align="center",
    )


def _create_user_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("user-plus", size=16), "New account", on_click=UsersState.open_create)),
        rx.dialog.content(
            rx.dialog.title("New staff account"),
            rx.form(
                rx.vstack(
                    rx.cond(
                        UsersState.create_error != "",
                        rx.callout(UsersState.create_error, icon="triangle-alert", color_scheme="red", width="100%"),
                    ),
                    field("Username", rx.input(name="username", required=True, width="100%")),
                    field("Display name", rx.input(name="display_name", width="100%")),
                    field("Email", rx.input(name="email", type="email", width="100%")),
                    field("Role", rx.select(UsersState.role_names, name="role", default_value="viewer", width="100%")),
                    field(
                        "Password (10+ characters)",
                        rx.input(name="password", type="password", required=True, width="100%"),
                    ),
                    field("Password again", rx.input(name="password2", type="password", required=True, width="100%")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=UsersState.create_user,
                reset_on_submit=False,
            ),
        ),
        open=UsersState.create_open,
        on_open_change=UsersState.set_create_open,
    )


@staff_page(
    "/admin/users", "Staff & roles", permission="users.read", icon="users", section="Admin", on_load=UsersState.load
)
def users_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Everyone who can sign in to this shop, and what their role lets them do.", color_scheme="gray"),
            rx.spacer(),
            rx.cond(UsersState.can_edit, _create_user_dialog()),
            width="100%",
            align="center",
        ),
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search name, username or email",
                value=UsersState.search,
                on_change=UsersState.set_search.debounce(250),
                width="300px",
            ),
            rx.select.root(
                rx.select.trigger(),
                rx.select.content(
                    rx.select.item("All roles", value="all"),
                    rx.foreach(UsersState.role_names, lambda r: rx.select.item(r, value=r)),
                ),
                value=UsersState.role_filter,
                on_change=UsersState.set_role_filter,
            ),
            rx.select.root(
                rx.select.trigger(),
                rx.select.content(
                    rx.select.item("Sort by username", value="username"),
                    rx.select.item("Sort by role", value="role"),
                    rx.select.item("Most recent sign-in first", value="last_login"),
                ),
                value=UsersState.sort_by,
                on_change=UsersState.set_sort_by,
            ),
            rx.spacer(),
            rx.text(UsersState.filtered_users.length(), " accounts", size="2", color_scheme="gray"),
            width="100%",
            align="center",
        ),
        rx.cond(
            UsersState.loaded,
            rx.cond(
                UsersState.page_users.length() > 0,
                rx.table.root(
                    _header("Name", "Email", "Role", "Last sign-in", "Status"),
                    rx.table.body(rx.foreach(UsersState.page_users, _user_row)),
                    variant="surface",
                    width="100%",
                ),
                empty_state("users", "No accounts match", "Try another search or role."),
            ),
            loading_table(),
        ),
        pager(UsersState.page, UsersState.page_count, UsersState.prev_page, UsersState.next_page),
        spacing="4",
        width="100%",
    )


# --- API keys -------------------------------------------------------------------------


def _key_row(k: rx.Var[ApiKeyRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(k.name),
        rx.table.cell(rx.code(k.prefix)),
        rx.table.cell(rx.badge(k.role)),
        rx.table.cell(k.created),
        rx.table.cell(k.last_used),
        rx.table.cell(
            rx.cond(
                k.revoked,
                rx.badge("revoked", color_scheme="gray"),
                confirm_button(
                    "Revoke",
                    "Revoke this API key?",
                    "Anything using it loses access at once. This cannot be undone.",
                    ApiKeysState.revoke(k.id),
                    icon="ban",
                ),
            )
        ),
        align="center",
    )


@staff_page(
    "/admin/api-keys",
    "API keys",
    permission="admin.operations",
    icon="key-round",
    section="Admin",
    on_load=ApiKeysState.load,
)
def api_keys_page() -> rx.Component:
    return rx.vstack(
        rx.text("Keys give machines access to /api/v1. A key is shown once, when it is created.", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="name", placeholder="What uses this key? (e.g. Label printer)", required=True, width="320px"
                ),
                rx.select(["viewer", "operator", "admin", "legacy-admin"], name="role", default_value="viewer"),
                rx.button(rx.icon("key-round", size=16), "Create key", type="submit"),
                align="center",
            ),
            on_submit=ApiKeysState.create,
            reset_on_submit=True,
        ),
        rx.cond(
            ApiKeysState.create_error != "",
            rx.callout(ApiKeysState.create_error, icon="triangle-alert", color_scheme="red"),
        ),
        rx.cond(
            ApiKeysState.new_key != "",
            rx.callout(
                rx.vstack(
                    rx.text("Copy this key now. It will not be shown again."),
                    rx.hstack(
                        rx.code(ApiKeysState.new_key, data_testid="new-api-key"),
                        rx.icon_button(
                            rx.icon("copy", size=14),
                            size="1",
                            variant="soft",
                            on_click=rx.set_clipboard(ApiKeysState.new_key),
                        ),
                        rx.button("Done", size="1", variant="soft", on_click=ApiKeysState.dismiss_key),
                        align="center",
                    ),
                ),
                icon="key-round",
                color_scheme="green",
                width="100%",
            ),
        ),
        rx.cond(
            ApiKeysState.loaded,
            rx.cond(
                ApiKeysState.keys.length() > 0,
                rx.table.root(
                    _header("Name", "Key", "Role", "Created", "Last used", ""),
                    rx.table.body(rx.foreach(ApiKeysState.keys, _key_row)),
                    variant="surface",
                    width="100%",
                ),
                empty_state("key-round", "No API keys yet", "Create one for each machine that talks to Shopfloor."),
            ),
            loading_table(),
        ),
        spacing="4",
        width="100%",
    )


# --- audit log --------------------------------------------------------------------------


def _audit_row(a: rx.Var[AuditEntry]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.at, white_space="nowrap"),
        rx.table.cell(rx.code(a.action)),
        rx.table.cell(a.actor),
        rx.table.cell(a.target),
        rx.table.cell(a.ip),
        rx.table.cell(rx.text(a.details, size="1", color_scheme="gray")),
    )


@staff_page(
    "/admin/audit", "Audit log", permission="audit.read", icon="scroll-text", section="Admin", on_load=AuditState.load
)
def audit_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(placeholder="All actions"),
                rx.select.content(
                    rx.select.item("All actions", value="all"),
                    rx.foreach(AuditState.actions, lambda a: rx.select.item(a, value=a)),
                ),
                value=AuditState.action_filter,
                on_change=AuditState.set_action_filter,
            ),
            rx.button(
                rx.cond(
                    AuditState.newest_first,
                    rx.icon("arrow-down-wide-narrow", size=14),
                    rx.icon("arrow-up-narrow-wide", size=14),
                ),
                rx.cond(AuditState.newest_first, "Newest first", "Oldest first"),
                variant="soft",
                color_scheme="gray",
                on_click=AuditState.toggle_order,
            ),
            rx.spacer(),
            rx.text(AuditState.total, " entries", color_scheme="gray", size="2"),
            width="100%",
            align="center",
        ),
        rx.cond(
            AuditState.loaded,
            rx.cond(
                AuditState.rows.length() > 0,
                rx.table.root(
                    _header("When", "Action", "Who", "Target", "IP", "Details"),
                    rx.table.body(rx.foreach(AuditState.rows, _audit_row)),
                    variant="surface",
                    width="100%",
                    size="1",
                ),
                empty_state("scroll-text", "No entries", "Nothing matches this filter."),
            ),
            loading_table(),
        ),
        pager(AuditState.page, AuditState.page_count, AuditState.prev_page, AuditState.next_page),
        spacing="4",
        width="100%",
    )


# --- queues -------------------------------------------------------------------------------


def _queue_row(q: rx.Var[QueueRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(q.name, weight="medium")),
        rx.table.cell(q.queued, data_testid=f"queued-{q.name}"),
        rx.table.cell(q.waiting, data_testid=f"waiting-{q.name}"),
        rx.table.cell(q.started),
        rx.table.cell(q.scheduled),
        rx.table.cell(rx.cond(q.failed > 0, rx.badge(q.failed, color_scheme="red"), rx.text(q.failed))),
        rx.table.cell(q.finished),
    )


def _worker_row(w: rx.Var[WorkerRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(w.name)),
        rx.table.cell(rx.badge(w.state, color_scheme=rx.cond(w.state == "busy", "amber", "green"))),
        rx.table.cell(w.queues),
        rx.table.cell(w.current_job),
        rx.table.cell(w.successful),
        rx.table.cell(w.failed),
    )


def _failed_row(j: rx.Var[FailedJobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(j.failed_at, white_space="nowrap"),
        rx.table.cell(j.queue),
        rx.table.cell(rx.text(j.description, size="1")),
        rx.table.cell(rx.text(j.error, size="1", color_scheme="red")),
        rx.table.cell(
            rx.button(
                rx.icon("rotate-ccw", size=14),
                "Requeue",
                size="1",
                variant="soft",
                on_click=QueuesState.requeue(j.id),
            )
        ),
        align="center",
    )


def _attention_row(e: rx.Var[RetryAttentionRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e.at, white_space="nowrap"),
        rx.table.cell(rx.code(e.type)),
        rx.table.cell(e.attempts),
        rx.table.cell(rx.text(e.error, size="1", color_scheme="red")),
        rx.table.cell(rx.cond(e.order != "", rx.link("Open order", href="/orders/" + e.order))),
        rx.table.cell(
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Try again",
                size="1",
                variant="soft",
                on_click=QueuesState.retry_entry(e.id),
            )
        ),
        align="center",
    )


@staff_page(
    "/admin/queues", "Queues", permission="admin.operations", icon="layers", section="Admin", on_load=QueuesState.load
)
def queues_page() -> rx.Component:
    return rx.vstack(
        rx.cond(QueuesState.error != "", rx.callout(QueuesState.error, icon="triangle-alert", color_scheme="red")),
        rx.cond(
            QueuesState.loaded,
            rx.vstack(
                rx.heading("Queues", size="4"),
                rx.table.root(
                    _header("Queue", "Waiting", "Held (shop's turn)", "Running", "Scheduled", "Failed", "Finished"),
                    rx.table.body(rx.foreach(QueuesState.queue_rows, _queue_row)),
                    variant="surface",
                    width="100%",
                ),
                rx.heading("Workers", size="4"),
                rx.cond(
                    QueuesState.worker_rows.length() > 0,
                    rx.table.root(
                        _header("Worker", "State", "Queues", "Current job", "Done", "Failed"),
                        rx.table.body(rx.foreach(QueuesState.worker_rows, _worker_row)),
                        variant="surface",
                        width="100%",
                    ),
                    rx.callout(
                        "No worker is running: background work waits until one starts.",
                        icon="circle-alert",
                        color_scheme="amber",
                    ),
                ),
                rx.heading("Retry queue: needs attention", size="4"),
                rx.cond(
                    QueuesState.attention_rows.length() > 0,
                    rx.table.root(
                        _header("Since", "Operation", "Attempts", "Last error", "Order", ""),
                        rx.table.body(rx.foreach(QueuesState.attention_rows, _attention_row)),
                        variant="surface",
                        width="100%",
                        data_testid="retry-attention",
                    ),
                    rx.text("No outbound operation is waiting for a person.", size="2", color_scheme="gray"),
                ),
                rx.heading("Failed jobs", size="4"),
                rx.cond(
                    QueuesState.failed_rows.length() > 0,
                    rx.table.root(
                        _header("Failed at", "Queue", "Job", "Error", ""),
                        rx.table.body(rx.foreach(QueuesState.failed_rows, _failed_row)),
                        variant="surface",
                        width="100%",
                        data_testid="failed-jobs",
                    ),
                    empty_state("circle-check", "No failed jobs", "Everything that ran, succeeded."),
                ),
                spacing="3",
                width="100%",
            ),
            loading_table(),
        ),
        rx.text("Updates every 2 seconds while this page is open.", size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
    )
