"""Admin pages: /admin/users, /admin/api-keys, /admin/audit, /admin/queues."""

from __future__ import annotations

import reflex as rx

from app.platform.queues import WORKER_STATE
from components.layout import staff_page
from components.ui import (
    confirm_button,
    empty_state,
    field,
    loading_table,
    pager,
    search_box,
    status_badge,
    table_card,
)
from state.admin import (
    ApiKeyRow,
    ApiKeysState,
    AuditEntry,
    AuditState,
    FailedJobRow,
    Grant,
    QueueRow,
    QueuesState,
    RetryAttentionRow,
    RoleOption,
    RoleView,
    StaffRow,
    UsersState,
    WorkerRow,
)

# Long values (details, errors, job calls) stay on one line, cut with "…", at most this wide.
CLIP = {"max_width": "280px", "overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"}


def _header(*names: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(n) for n in names]))


def _role_item(r: rx.Var[RoleOption]) -> rx.Component:
    return rx.select.item(r.title, value=r.name)


def _role_picker(value, on_change=None, **props) -> rx.Component:
    """A role to pick, by its title ("Legacy admin"), valued by its name."""
    return rx.select.root(
        rx.select.trigger(aria_label="Role"),
        rx.select.content(rx.foreach(props.pop("options"), _role_item)),
        **({"value": value} if on_change is not None else {"default_value": value}),
        **({"on_change": on_change} if on_change is not None else {}),
        **props,
    )


def _filters(*children: rx.Component) -> rx.Component:
    return rx.flex(*children, spacing="3", align="center", flex_wrap="wrap", width="100%")


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
                _role_picker(
                    u.role,
                    lambda role: UsersState.change_role(u.id, role),
                    options=UsersState.role_options,
                    size="1",
                    data_testid=f"role-{u.username}",
                ),
                rx.text(u.roles),
            )
        ),
        rx.table.cell(u.last_login, white_space="nowrap"),
        rx.table.cell(
            rx.cond(u.active, rx.badge("Active", color_scheme="green"), rx.badge("Disabled", color_scheme="gray"))
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
                    field("Username", rx.input(name="username", required=True)),
                    field("Display name", rx.input(name="display_name")),
                    field("Email", rx.input(name="email", type="email")),
                    field("Role", _role_picker("viewer", options=UsersState.role_options, name="role")),
                    field("Password (10+ characters)", rx.input(name="password", type="password", required=True)),
                    field("Password again", rx.input(name="password2", type="password", required=True)),
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
            max_width="min(480px, calc(100vw - 24px))",
        ),
        open=UsersState.create_open,
        on_open_change=UsersState.set_create_open,
    )


def _grant(g: rx.Var[Grant]) -> rx.Component:
    return rx.hstack(
        rx.icon("check", size=14, color=rx.color("green", 9), flex_shrink="0", margin_top="3px"),
        rx.text(g.description, size="2", title=g.code),
        align="start",
        spacing="2",
    )


def _role_card(r: rx.Var[RoleView]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(r.title, size="3"),
                rx.text(r.description, size="2", color_scheme="gray"),
                align="baseline",
                wrap="wrap",
            ),
            rx.vstack(rx.foreach(r.grants, _grant), spacing="1"),
            spacing="2",
        ),
        width="100%",
        data_testid="role-card",
    )


@staff_page(
    "/admin/users", "Staff & roles", permission="users.read", icon="users", section="Admin", on_load=UsersState.load
)
def users_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text("Everyone who can sign in to this shop, and what their role lets them do.", color_scheme="gray"),
            rx.spacer(),
            rx.cond(UsersState.can_edit, _create_user_dialog()),
            width="100%",
            align="center",
            spacing="3",
            flex_wrap="wrap",
        ),
        _filters(
            search_box(
                UsersState.search,
                UsersState.set_search,
                "Search name, username or email",
                width=["100%", "300px"],
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Role"),
                rx.select.content(
                    rx.select.item("All roles", value="all"),
                    rx.foreach(UsersState.role_options, _role_item),
                ),
                value=UsersState.role_filter,
                on_change=UsersState.set_role_filter,
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Sort"),
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
        ),
        rx.cond(
            UsersState.loaded,
            rx.cond(
                UsersState.page_users.length() > 0,
                table_card(
                    rx.table.root(
                        _header("Name", "Email", "Role", "Last sign-in", "Status"),
                        rx.table.body(rx.foreach(UsersState.page_users, _user_row)),
                        variant="ghost",
                        width="100%",
                    ),
                ),
                empty_state("users", "No accounts match", "Try another search or role."),
            ),
            loading_table(),
        ),
        pager(UsersState.page, UsersState.page_count, UsersState.prev_page, UsersState.next_page),
        rx.heading("Roles and what they allow", size="4", padding_top="8px"),
        rx.grid(
            rx.foreach(UsersState.roles_explained, _role_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


# --- API keys -------------------------------------------------------------------------


def _key_row(k: rx.Var[ApiKeyRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(k.name, weight="medium")),
        rx.table.cell(rx.text("ends in ", rx.code(k.prefix), size="2", white_space="nowrap")),
        rx.table.cell(rx.badge(k.role, variant="soft")),
        rx.table.cell(k.created, white_space="nowrap"),
        rx.table.cell(k.last_used, white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                k.revoked,
                rx.tooltip(rx.badge("Revoked", color_scheme="gray"), content=k.revoked_at),
                rx.badge("Active", color_scheme="green"),
            ),
            data_testid="key-status",
        ),
        rx.table.cell(
            rx.cond(
                ~k.revoked,
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
        rx.text(
            "Keys give machines (label printers, scripts) access to the REST API. A key is shown once, when it is "
            "created; it can do what its role allows, so pick the smallest role that does the job.",
            color_scheme="gray",
        ),
        rx.form(
            rx.flex(
                rx.input(
                    name="name",
                    placeholder="What uses this key? (e.g. Label printer)",
                    required=True,
                    width=["100%", "320px"],
                    aria_label="Name",
                ),
                _role_picker("viewer", options=ApiKeysState.role_options, name="role"),
                rx.button(rx.icon("key-round", size=16), "Create key", type="submit"),
                align="center",
                spacing="3",
                flex_wrap="wrap",
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
                    rx.flex(
                        rx.code(ApiKeysState.new_key, data_testid="new-api-key", word_break="break-all"),
                        rx.icon_button(
                            rx.icon("copy", size=14),
                            size="1",
                            variant="soft",
                            aria_label="Copy the key",
                            on_click=rx.set_clipboard(ApiKeysState.new_key),
                        ),
                        rx.button("Done", size="1", variant="soft", on_click=ApiKeysState.dismiss_key),
                        align="center",
                        spacing="2",
                        flex_wrap="wrap",
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
                table_card(
                    rx.table.root(
                        _header("Name", "Key", "Role", "Created", "Last used", "Status", ""),
                        rx.table.body(rx.foreach(ApiKeysState.keys, _key_row)),
                        variant="ghost",
                        width="100%",
                    ),
                ),
                empty_state("key-round", "No API keys yet", "Create one for each machine that talks to Shopfloor."),
            ),
            loading_table(),
        ),
        spacing="4",
        width="100%",
    )


# --- audit log --------------------------------------------------------------------------


def _details_dialog(a: rx.Var[AuditEntry]) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(
                rx.icon("maximize-2", size=12),
                size="1",
                variant="ghost",
                aria_label="Show all details",
                data_testid="show-details",
            )
        ),
        rx.dialog.content(
            rx.dialog.title(a.action),
            rx.dialog.description(a.at, " · ", a.actor, size="2", color_scheme="gray"),
            rx.vstack(
                rx.text(a.details, size="2", word_break="break-word"),
                rx.box(
                    rx.text(a.raw, font_family="monospace", size="1", white_space="pre-wrap", word_break="break-all"),
                    background=rx.color("gray", 2),
                    border_radius="6px",
                    padding="8px",
                    max_height="50vh",
                    overflow_y="auto",
                    width="100%",
                    data_testid="details-full",
                ),
                rx.text("Action code: ", rx.code(a.code), size="1", color_scheme="gray"),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                spacing="3",
                padding_top="8px",
                align="end",
            ),
            max_width="min(640px, calc(100vw - 24px))",
        ),
    )


def _audit_row(a: rx.Var[AuditEntry]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.at, white_space="nowrap"),
        rx.table.cell(rx.text(a.action, weight="medium"), white_space="nowrap"),
        rx.table.cell(a.actor),
        rx.table.cell(rx.text(a.target, title=a.target, style=CLIP)),
        rx.table.cell(a.ip, white_space="nowrap"),
        rx.table.cell(
            rx.hstack(
                rx.text(a.details, size="1", color_scheme="gray", title=a.details, style=CLIP),
                _details_dialog(a),
                align="center",
                spacing="1",
            )
        ),
    )


def _day_input(label: str, value, on_change, testid: str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.input(type="date", value=value, on_change=on_change, aria_label=label, data_testid=testid),
        align="center",
        spacing="2",
    )


@staff_page(
    "/admin/audit", "Audit log", permission="audit.read", icon="scroll-text", section="Admin", on_load=AuditState.load
)
def audit_page() -> rx.Component:
    return rx.vstack(
        _filters(
            rx.select.root(
                rx.select.trigger(aria_label="Action", data_testid="filter-action"),
                rx.select.content(
                    rx.select.item("All actions", value="all"),
                    rx.foreach(AuditState.action_options, _role_item),
                ),
                value=rx.cond(AuditState.action == "", "all", AuditState.action),
                on_change=AuditState.set_action,
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Who", data_testid="filter-user"),
                rx.select.content(
                    rx.select.item("Everyone", value="all"),
                    rx.foreach(AuditState.user_options, lambda u: rx.select.item(u, value=u)),
                ),
                value=rx.cond(AuditState.user == "", "all", AuditState.user),
                on_change=AuditState.set_user,
            ),
            _day_input("From", AuditState.date_from, AuditState.set_date_from, "filter-from"),
            _day_input("to", AuditState.date_to, AuditState.set_date_to, "filter-to"),
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
            rx.button("Clear filters", variant="ghost", size="1", on_click=AuditState.clear_filters),
            rx.spacer(),
            rx.text(AuditState.total, " entries", color_scheme="gray", size="2", data_testid="audit-total"),
            rx.link(
                rx.button(rx.icon("download", size=14), "Download CSV", variant="soft"),
                href=AuditState.export_url,
                is_external=True,
                data_testid="audit-export",
            ),
        ),
        rx.cond(
            AuditState.date_error != "",
            rx.callout(AuditState.date_error, icon="triangle-alert", color_scheme="amber", size="1"),
        ),
        rx.cond(
            AuditState.loaded,
            rx.cond(
                AuditState.rows.length() > 0,
                table_card(
                    rx.table.root(
                        _header("When", "Action", "Who", "Target", "IP address", "Details"),
                        rx.table.body(rx.foreach(AuditState.rows, _audit_row)),
                        variant="ghost",
                        width="100%",
                        size="1",
                    ),
                    data_testid="audit-table",
                ),
                empty_state("scroll-text", "No entries", "Nothing matches these filters."),
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
        rx.table.cell(rx.text(q.title, weight="medium")),
        rx.table.cell(q.queued, data_testid=f"queued-{q.name}"),
        rx.table.cell(q.waiting, data_testid=f"waiting-{q.name}"),
        rx.table.cell(q.started),
        rx.table.cell(q.scheduled),
        rx.table.cell(rx.cond(q.failed > 0, rx.badge(q.failed, color_scheme="red"), rx.text(q.failed))),
        rx.table.cell(q.finished),
    )


def _worker_row(w: rx.Var[WorkerRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(w.name, size="1")),
        rx.table.cell(
            rx.vstack(
                status_badge(w.state, WORKER_STATE),
                rx.cond(w.last_seen != "", rx.text(w.last_seen, size="1", color_scheme="gray")),
                spacing="1",
            )
        ),
        rx.table.cell(w.queues),
        rx.table.cell(rx.cond(w.current_job != "", w.current_job, "—")),
        rx.table.cell(w.successful),
        rx.table.cell(w.failed),
    )


def _failed_row(j: rx.Var[FailedJobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(j.failed_at, white_space="nowrap"),
        rx.table.cell(j.queue),
        rx.table.cell(
            rx.text(j.title, size="2", weight="medium", title=j.description),
        ),
        rx.table.cell(rx.text(j.error, size="1", color_scheme="red", title=j.error, style=CLIP)),
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
        rx.table.cell(rx.text(e.type, weight="medium")),
        rx.table.cell(e.attempts),
        rx.table.cell(rx.text(e.error, size="1", color_scheme="red", title=e.error, style=CLIP)),
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
                table_card(
                    rx.table.root(
                        _header("Queue", "Waiting", "Held (shop's turn)", "Running", "Scheduled", "Failed", "Finished"),
                        rx.table.body(rx.foreach(QueuesState.queue_rows, _queue_row)),
                        variant="ghost",
                        width="100%",
                    ),
                ),
                rx.heading("Workers", size="4"),
                rx.cond(
                    QueuesState.worker_rows.length() > 0,
                    table_card(
                        rx.table.root(
                            _header("Worker", "State", "Queues", "Current job", "Done", "Failed"),
                            rx.table.body(rx.foreach(QueuesState.worker_rows, _worker_row)),
                            variant="ghost",
                            width="100%",
                        ),
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
                    table_card(
                        rx.table.root(
                            _header("Since", "Operation", "Attempts", "Last error", "Order", ""),
                            rx.table.body(rx.foreach(QueuesState.attention_rows, _attention_row)),
                            variant="ghost",
                            width="100%",
                        ),
                        data_testid="retry-attention",
                    ),
                    rx.text("No outbound operation is waiting for a person.", size="2", color_scheme="gray"),
                ),
                rx.heading("Failed jobs", size="4"),
                rx.cond(
                    QueuesState.failed_rows.length() > 0,
                    table_card(
                        rx.table.root(
                            _header("Failed at", "Queue", "Job", "Error", ""),
                            rx.table.body(rx.foreach(QueuesState.failed_rows, _failed_row)),
                            variant="ghost",
                            width="100%",
                        ),
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
