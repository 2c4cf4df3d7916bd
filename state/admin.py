"""Admin pages: staff and roles, API keys, the audit log, the queue dashboard.

Everything shown is in words people use: role names and what they allow,
permissions by their description, actions and states as words, moments in
the shop's time zone and format (`current_principal().fmt`)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import date
from typing import ClassVar
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import col, select

from app.platform import audit, auth, queues, retry
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.platform.formatting import ShopFormat
from app.platform.models import ApiKey, User
from app.platform.permissions import PERMISSIONS
from app.settings import get_settings
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index

NEVER = "Never"
# RQ's queues, as the dashboard names them.
QUEUE_NAMES = {
    "events": "Events",
    "slicing": "Slicing",
    "booklets": "Booklets",
    "integrations": "Integrations",
    "default": "Other work",
}


def role_title(name: str) -> str:
    """A role's name as a title: "legacy-admin" → "Legacy admin"."""
    return audit.words(name)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@dataclasses.dataclass
class RoleOption:
    """A role to pick: its name (the value) and its title (what people read)."""

    name: str = ""
    title: str = ""


@dataclasses.dataclass
class Grant:
    """One permission a role holds, by what it lets people do."""

    code: str = ""
    description: str = ""


@dataclasses.dataclass
class RoleView:
    name: str = ""
    title: str = ""
    description: str = ""
    grants: list[Grant] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class StaffRow:
    """A staff account on /admin/users."""

    id: str = ""
    username: str = ""
    display_name: str = ""
    email: str = ""
    role: str = ""  # the first role: the role picker's value
    roles: str = ""  # every role's title, comma-separated
    active: bool = False
    last_login: str = ""  # "29 Nov 2026, 14:05" or "Never"
    last_login_sort: str = ""  # ISO: sorts by time


@dataclasses.dataclass
class ApiKeyRow:
    id: str = ""
    name: str = ""
    prefix: str = ""  # "…Xy9z": how the key ends, to recognise it
    role: str = ""  # the role's title
    created: str = ""
    last_used: str = ""
    revoked: bool = False
    revoked_at: str = ""


@dataclasses.dataclass
class AuditEntry:
    id: str = ""
    at: str = ""
    action: str = ""  # words ("Role changed")
    code: str = ""  # the action's code, for those who search logs
    actor: str = ""
    target: str = ""
    ip: str = ""
    details: str = ""  # one line of words; long ones are cut on the page
    raw: str = ""  # the whole entry's details as JSON, behind "Show all"


@dataclasses.dataclass
class QueueRow:
    """An RQ queue's depths (shared by every shop)."""

    name: str = ""
    title: str = ""
    queued: int = 0
    started: int = 0
    scheduled: int = 0
    failed: int = 0
    finished: int = 0
    waiting: int = 0


@dataclasses.dataclass
class WorkerRow:
    name: str = ""
    state: str = ""
    queues: str = ""
    current_job: str = ""
    successful: int = 0
    failed: int = 0
    last_seen: str = ""  # "Silent since 14:02" once it stopped responding


@dataclasses.dataclass
class FailedJobRow:
    id: str = ""
    queue: str = ""
    title: str = ""  # what the job does, in words
    description: str = ""  # the job's call, for whoever digs deeper
    error: str = ""
    failed_at: str = ""


@dataclasses.dataclass
class RetryAttentionRow:
    """An outbound operation the retry queue gave up on: it waits for a person."""

    id: str = ""
    type: str = ""  # words ("Fulfillment")
    attempts: int = 0
    error: str = ""
    order: str = ""  # the order's id, "" for none
    at: str = ""


def _role_views(session) -> list[RoleView]:
    from app.platform.permissions import ROLES

    return [
        RoleView(
            name=r.name,
            title=role_title(r.name),
            description=r.description,
            grants=[Grant(code=c, description=PERMISSIONS.get(c, c)) for c in sorted(ROLES.get(r.name, ("", ()))[1])],
        )
        for r in auth.list_roles(session)
    ]


class UsersState(PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "users.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "role_filter", "sort_by")

    users: list[StaffRow] = []
    role_options: list[RoleOption] = []
    roles_explained: list[RoleView] = []
    create_open: bool = False
    create_error: str = ""
    loaded: bool = False
    search: str = ""
    role_filter: str = "all"
    sort_by: str = "username"  # username | last_login | role
    page_size: int = 15

    @rx.var
    def can_edit(self) -> bool:
        return "users.write" in self.permissions

    @rx.var
    def filtered_users(self) -> list[StaffRow]:
        q = self.search.strip().lower()
        rows = [
            u
            for u in self.users
            if (not q or q in u.username or q in u.display_name.lower() or q in u.email.lower())
            and (self.role_filter == "all" or u.role == self.role_filter)
        ]
        if self.sort_by == "last_login":
            rows.sort(key=lambda u: u.last_login_sort, reverse=True)
        elif self.sort_by == "role":
            rows.sort(key=lambda u: (u.role, u.username))
        return rows

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-len(self.filtered_users) // self.page_size))

    @rx.var
    def page_users(self) -> list[StaffRow]:
        start = min(self.page, self.page_count - 1) * self.page_size
        return self.filtered_users[start : start + self.page_size]

    @guarded("users.read")
    async def set_search(self, value: str):
        return await self._search(search=value)

    @guarded("users.read")
    def set_role_filter(self, value: str):
        return self._navigate(role_filter=value)

    @guarded("users.read")
    def set_sort_by(self, value: str):
        return self._navigate(sort_by=value)

    async def _reload_page(self) -> None:
        """Paged in the browser: nothing to reload."""

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            self.roles_explained = _role_views(s)
            self.role_options = [RoleOption(name=r.name, title=r.title) for r in self.roles_explained]
            rows: list[StaffRow] = []
            for u in s.exec(select(User).order_by(User.username)):
                roles = [r.name for r in auth.user_roles(s, u.id)]
                rows.append(
                    StaffRow(
                        id=str(u.id),
                        username=u.username,
                        display_name=u.display_name or u.username,
                        email=u.email,
                        role=roles[0] if roles else "",
                        roles=", ".join(role_title(r) for r in roles) or "No role",
                        active=u.is_active,
                        last_login=fmt.when(u.last_login_at) if u.last_login_at else NEVER,
                        last_login_sort=u.last_login_at.isoformat() if u.last_login_at else "",
                    )
                )
            self.users = rows

    @guarded("users.read", quiet=True)
    async def load(self):
        self._read_url()
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.loaded = True

    @guarded("users.write")
    async def change_role(self, user_id: str, role: str):
        p = current_principal()

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                auth.set_user_roles(s, uuid.UUID(user_id), [role], actor=p)
            self._fetch(p.tenant_id, p.fmt)

        await asyncio.to_thread(apply)
        name = next((u.username for u in self.users if u.id == user_id), "user")
        return rx.toast.success(f"{name} is now {role_title(role).lower()}.")

    @guarded("users.write")
    def open_create(self):
        self.create_open = True
        self.create_error = ""

    @guarded(None)
    def set_create_open(self, value: bool):
        self.create_open = value

    @guarded("users.write")
    async def create_user(self, form: dict):
        p = current_principal()
        if form.get("password") != form.get("password2"):
            self.create_error = "The two passwords differ."
            return None

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                auth.create_user(
                    s,
                    username=form.get("username", ""),
                    password=form.get("password", ""),
                    roles=[form.get("role") or "viewer"],
                    display_name=form.get("display_name", ""),
                    email=form.get("email", ""),
                    actor=p,
                )
            self._fetch(p.tenant_id, p.fmt)

        try:
            await asyncio.to_thread(apply)
        except ValidationFailed as exc:
            self.create_error = _sentence(exc.message)
            return None
        except Exception as exc:  # Conflict and friends: show in the dialog
            self.create_error = _sentence(getattr(exc, "message", None) or "The account could not be created")
            return None
        self.create_open = False
        return rx.toast.success(f"Account {form.get('username', '').strip().lower()} created.")


class ApiKeysState(AppState):
    keys: list[ApiKeyRow] = []
    role_options: list[RoleOption] = []
    new_key: str = ""
    create_error: str = ""
    loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            roles = {r.id: r.name for r in auth.list_roles(s)}
            self.role_options = [RoleOption(name=n, title=role_title(n)) for n in sorted(roles.values())]
            self.keys = [
                ApiKeyRow(
                    id=str(k.id),
                    name=k.name,
                    prefix=f"…{k.key_prefix[-4:]}",
                    role=role_title(roles.get(k.role_id, "")),
                    created=fmt.when(k.created_at),
                    last_used=fmt.ago(k.last_used_at) if k.last_used_at else NEVER,
                    revoked=k.revoked_at is not None,
                    revoked_at=fmt.when(k.revoked_at) if k.revoked_at else "",
                )
                for k in s.exec(
                    select(ApiKey).order_by(col(ApiKey.revoked_at).is_not(None), col(ApiKey.created_at).desc())
                )
            ]

    @guarded("admin.operations", quiet=True)
    async def load(self):
        self.new_key = self.create_error = ""
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.loaded = True

    @guarded("admin.operations")
    async def create(self, form: dict):
        p = current_principal()

        def apply() -> str:
            with tenant_session(p.tenant_id) as s:
                _, secret = auth.create_api_key(
                    s, name=form.get("name", ""), role_name=form.get("role") or "viewer", actor=p
                )
            self._fetch(p.tenant_id, p.fmt)
            return secret

        try:
            self.new_key = await asyncio.to_thread(apply)
            self.create_error = ""
        except ValidationFailed as exc:
            self.create_error = _sentence(exc.message)
            return None
        return rx.toast.success("API key created. Copy it now: it is shown only once.")

    @guarded("admin.operations")
    def dismiss_key(self):
        self.new_key = ""

    @guarded("admin.operations")
    async def revoke(self, key_id: str):
        p = current_principal()

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                auth.revoke_api_key(s, uuid.UUID(key_id), actor=p)
            self._fetch(p.tenant_id, p.fmt)

        await asyncio.to_thread(apply)
        return rx.toast.success("API key revoked.")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class AuditState(PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "audit.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("action", "user", "date_from", "date_to", "newest_first")

    rows: list[AuditEntry] = []
    action_options: list[RoleOption] = []  # (code, words) of every action logged
    user_options: list[str] = []  # every staff username
    action: str = ""  # "" for every action
    user: str = ""  # the actor's username, "" for everyone
    date_from: str = ""  # ISO days, in the shop's time zone
    date_to: str = ""
    newest_first: bool = True
    date_error: str = ""
    page_size: int = 25
    loaded: bool = False

    @rx.var
    def export_url(self) -> str:
        """The CSV of every entry matching the filters (same names as the REST route)."""
        params = {"action": self.action, "user": self.user, "from": self.date_from, "to": self.date_to}
        query = {k: v for k, v in params.items() if v}
        if not self.newest_first:
            query["newestFirst"] = "false"
        base = f"{get_settings().api_url.rstrip('/')}/api/v1/audit-log/export.csv"
        return f"{base}?{urlencode(query)}" if query else base

    def _filter(self) -> audit.AuditFilter:
        start, end = _day(self.date_from), _day(self.date_to)
        self.date_error = ""
        if (self.date_from and start is None) or (self.date_to and end is None):
            self.date_error = "Pick the days with the calendar (day, month, year)."
            start = end = None
        elif start and end and end < start:
            self.date_error = "The last day comes before the first: showing every day."
            start = end = None
        return audit.AuditFilter(
            action=self.action, user=self.user, date_from=start, date_to=end, newest_first=self.newest_first
        )

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        f = self._filter()
        with tenant_session(tenant_id) as s:
            self.action_options = [RoleOption(name=a, title=audit.action_label(a)) for a in audit.actions(s)]
            names = audit.actor_names(s)
            self.user_options = sorted(names.values())
            entries, self.total = audit.search(s, f, fmt, offset=self.page * self.page_size, limit=self.page_size)
            if not entries and self.total and self.page:  # a page past the end: show the last one
                self.page = last_page_index(self.total, self.page_size)
                entries, _ = audit.search(s, f, fmt, offset=self.page * self.page_size, limit=self.page_size)
        self.rows = [
            AuditEntry(
                id=str(a.id),
                at=fmt.when(a.created_at, seconds=True),
                action=audit.action_label(a.action),
                code=a.action,
                actor=names.get(a.actor_user_id, "—") if a.actor_user_id else "—",
                target=audit.target_label(a) or "—",
                ip=a.ip or "—",
                details=audit.describe(a.meta) or "—",
                raw=json.dumps(a.meta or {}, indent=2, ensure_ascii=False, sort_keys=True, default=str),
            )
            for a in entries
        ]

    async def _refresh(self) -> None:
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.loaded = True

    @guarded("audit.read", quiet=True)
    async def load(self):
        self._read_url()
        await self._refresh()

    @guarded("audit.read")
    def set_action(self, value: str):
        return self._navigate(action="" if value == "all" else value)

    @guarded("audit.read")
    def set_user(self, value: str):
        return self._navigate(user="" if value == "all" else value)

    @guarded("audit.read")
    def set_date_from(self, value: str):
        return self._navigate(date_from=value)

    @guarded("audit.read")
    def set_date_to(self, value: str):
        return self._navigate(date_to=value)

    @guarded("audit.read")
    def toggle_order(self):
        return self._navigate(newest_first=not self.newest_first)

    @guarded("audit.read")
    def clear_filters(self):
        return self._navigate(action="", user="", date_from="", date_to="", newest_first=True)


def _worker_job(w: queues.WorkerInfo) -> str:
    """The worker's job in words; a dead worker's job is abandoned (the sweep retries or fails it)."""
    if not w.current_job_func:
        return ""
    title = queues.job_title(w.current_job_func)
    return f"{title} (abandoned)" if w.abandoned else title


class QueuesState(LiveState, AppState):
    # live: refresh every 2 s while the page is open; every 30 s: still signed in, still allowed?
    LIVE: ClassVar[Live] = Live("admin.operations", "/admin/queues", poll=2.0)

    queue_rows: list[QueueRow] = []
    worker_rows: list[WorkerRow] = []
    failed_rows: list[FailedJobRow] = []
    attention_rows: list[RetryAttentionRow] = []
    error: str = ""
    loaded: bool = False

    def _fetch(self, principal: auth.Principal) -> None:
        fmt = principal.fmt
        default = auth.find_tenant(None).id == principal.tenant_id
        self.queue_rows = [
            QueueRow(
                name=q.name,
                title=QUEUE_NAMES.get(q.name, audit.words(q.name)),
                queued=q.queued,
                started=q.started,
                scheduled=q.scheduled,
                failed=q.failed,
                finished=q.finished,
                waiting=q.waiting,
            )
            for q in queues.queue_stats()
        ]
        self.worker_rows = [
            WorkerRow(
                name=w.name,
                state=w.state,
                queues=", ".join(QUEUE_NAMES.get(n.strip(), n.strip()) for n in w.queues.split(",") if n.strip()),
                current_job=_worker_job(w),
                successful=w.successful,
                failed=w.failed,
                last_seen=f"Silent since {fmt.clock(w.last_seen)}"
                if w.state == queues.NOT_RESPONDING and w.last_seen
                else "",
            )
            for w in queues.workers()
        ]
        self.failed_rows = [
            FailedJobRow(
                id=j.id,
                queue=QUEUE_NAMES.get(j.queue, j.queue),
                title=j.title,
                description=j.description,
                error=j.error,
                failed_at=fmt.when(j.failed_at, seconds=True) if j.failed_at else "",
            )
            for j in queues.failed_jobs(principal, default_tenant=default)
        ]
        with tenant_session(principal.tenant_id) as s:
            self.attention_rows = [
                RetryAttentionRow(
                    id=str(e.id),
                    type=audit.words(e.job_type.lower()),
                    attempts=e.attempts,
                    error=queues.plain_error(e.last_error),
                    order=str(e.order_id) if e.order_id else "",
                    at=fmt.ago(e.updated_at),
                )
                for e in retry.attention(s)
            ]

    async def _refresh(self, principal: auth.Principal) -> None:
        try:
            await asyncio.to_thread(self._fetch, principal)
            self.error = ""
        except Exception:  # Redis down: say so on the page
            self.error = "Cannot read the queues right now: the job store (Redis) does not answer."
        self.loaded = True

    @guarded("admin.operations", quiet=True)
    async def load(self):
        await self._refresh(current_principal())
        return QueuesState.watch

    @guarded("admin.operations")
    async def retry_entry(self, entry_id: str):
        await in_tenant(lambda s: retry.retry_now(s, uuid.UUID(entry_id)))
        await self._refresh(current_principal())
        return rx.toast.success("Trying again.")

    @guarded("admin.operations")
    async def requeue(self, job_id: str):
        p = current_principal()
        default = await asyncio.to_thread(lambda: auth.find_tenant(None).id == p.tenant_id)
        await asyncio.to_thread(queues.requeue_failed, job_id, p, default_tenant=default)
        await self._refresh(p)
        return rx.toast.success("Job requeued.")

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await self._refresh(principal)
