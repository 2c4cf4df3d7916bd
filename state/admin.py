"""Admin pages: staff and roles, API keys, the audit log, the queue dashboard."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import ClassVar

import reflex as rx
from sqlalchemy import func
from sqlmodel import col, select

from app.platform import auth, queues, retry
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.platform.models import ApiKey, AuditLog, Role, User
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState


def _fmt(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "—"


def _value(v) -> str:
    return ", ".join(map(str, v)) if isinstance(v, list) else str(v)


def _details(meta: dict | None) -> str:
    """Audit metadata for people: a change reads `before → after`."""
    meta = dict(meta or {})
    parts = []
    if "before" in meta and "after" in meta:
        parts.append(f"{_value(meta.pop('before')) or '—'} → {_value(meta.pop('after')) or '—'}")
    parts += [f"{k}: {_value(v)}" for k, v in sorted(meta.items())]
    return "; ".join(parts)


@dataclasses.dataclass
class StaffRow:
    """A staff account on /admin/users."""

    id: str = ""
    username: str = ""
    display_name: str = ""
    email: str = ""
    role: str = ""  # the first role: the role picker's value
    roles: str = ""  # every role, comma-separated
    active: bool = False
    last_login: str = ""


@dataclasses.dataclass
class ApiKeyRow:
    id: str = ""
    name: str = ""
    prefix: str = ""
    role: str = ""
    created: str = ""
    last_used: str = ""
    revoked: bool = False


@dataclasses.dataclass
class AuditEntry:
    at: str = ""
    action: str = ""
    actor: str = ""
    target: str = ""
    ip: str = ""
    details: str = ""


@dataclasses.dataclass
class QueueRow:
    """An RQ queue's depths (shared by every shop)."""

    name: str = ""
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


@dataclasses.dataclass
class FailedJobRow:
    id: str = ""
    queue: str = ""
    description: str = ""
    error: str = ""
    failed_at: str = ""


@dataclasses.dataclass
class RetryAttentionRow:
    """An outbound operation the retry queue gave up on: it waits for a person."""

    id: str = ""
    type: str = ""
    attempts: int = 0
    error: str = ""
    order: str = ""  # the order's id, "" for none
    at: str = ""


class UsersState(PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "users.read"

    users: list[StaffRow] = []
    role_names: list[str] = []
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
            rows.sort(key=lambda u: u.last_login, reverse=True)
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
    def set_search(self, value: str):
        self.search = value
        self.page = 0

    @guarded("users.read")
    def set_role_filter(self, value: str):
        self.role_filter = value
        self.page = 0

    @guarded("users.read")
    def set_sort_by(self, value: str):
        self.sort_by = value

    async def _reload_page(self) -> None:
        """Paged in the browser: nothing to reload."""

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        with tenant_session(tenant_id) as s:
            self.role_names = [r.name for r in auth.list_roles(s)]
            rows: list[StaffRow] = []
            for u in s.exec(select(User).order_by(User.username)):
                roles = [r.name for r in auth.user_roles(s, u.id)]
                rows.append(
                    StaffRow(
                        id=str(u.id),
                        username=u.username,
                        display_name=u.display_name,
                        email=u.email,
                        role=roles[0] if roles else "",
                        roles=", ".join(roles),
                        active=u.is_active,
                        last_login=_fmt(u.last_login_at),
                    )
                )
            self.users = rows

    @guarded("users.read", quiet=True)
    async def load(self):
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True

    @guarded("users.write")
    async def change_role(self, user_id: str, role: str):
        p = current_principal()

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                auth.set_user_roles(s, uuid.UUID(user_id), [role], actor=p)
            self._fetch(p.tenant_id)

        await asyncio.to_thread(apply)
        name = next((u.username for u in self.users if u.id == user_id), "user")
        return rx.toast.success(f"{name} is now {role}.")

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
            self._fetch(p.tenant_id)

        try:
            await asyncio.to_thread(apply)
        except ValidationFailed as exc:
            self.create_error = exc.message[:1].upper() + exc.message[1:] + "."
            return None
        except Exception as exc:  # Conflict and friends: show in the dialog
            self.create_error = getattr(exc, "message", str(exc))
            return None
        self.create_open = False
        return rx.toast.success(f"Account {form.get('username', '').strip().lower()} created.")


class ApiKeysState(AppState):
    keys: list[ApiKeyRow] = []
    new_key: str = ""
    create_error: str = ""
    loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        with tenant_session(tenant_id) as s:
            roles = {r.id: r.name for r in s.exec(select(Role))}
            self.keys = [
                ApiKeyRow(
                    id=str(k.id),
                    name=k.name,
                    prefix=k.key_prefix,
                    role=roles.get(k.role_id, ""),
                    created=_fmt(k.created_at),
                    last_used=_fmt(k.last_used_at),
                    revoked=k.revoked_at is not None,
                )
                for k in s.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc()))
            ]

    @guarded("admin.operations", quiet=True)
    async def load(self):
        self.new_key = ""
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True

    @guarded("admin.operations")
    async def create(self, form: dict):
        p = current_principal()

        def apply() -> str:
            with tenant_session(p.tenant_id) as s:
                _, secret = auth.create_api_key(
                    s, name=form.get("name", ""), role_name=form.get("role") or "viewer", actor=p
                )
            self._fetch(p.tenant_id)
            return secret

        try:
            self.new_key = await asyncio.to_thread(apply)
            self.create_error = ""
        except ValidationFailed as exc:
            self.create_error = exc.message[:1].upper() + exc.message[1:] + "."
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
            self._fetch(p.tenant_id)

        await asyncio.to_thread(apply)
        return rx.toast.success("API key revoked.")


class AuditState(PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "audit.read"

    rows: list[AuditEntry] = []
    actions: list[str] = []
    action_filter: str = "all"
    page_size: int = 25
    newest_first: bool = True
    loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        with tenant_session(tenant_id) as s:
            self.actions = sorted(s.exec(select(AuditLog.action).distinct()))
            q = select(AuditLog)
            cq = select(func.count()).select_from(AuditLog)
            if self.action_filter != "all":
                q = q.where(AuditLog.action == self.action_filter)
                cq = cq.where(AuditLog.action == self.action_filter)
            self.total = s.exec(cq).one()
            self.page = min(self.page, max(0, -(-self.total // self.page_size) - 1))
            order = col(AuditLog.created_at).desc() if self.newest_first else col(AuditLog.created_at).asc()
            users = {u.id: u.username for u in s.exec(select(User))}
            self.rows = [
                AuditEntry(
                    at=a.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    action=a.action,
                    actor=users.get(a.actor_user_id, "—") if a.actor_user_id else "—",
                    target=f"{a.target_type} {a.target_id}".strip(),
                    ip=a.ip or "—",
                    details=_details(a.meta),
                )
                for a in s.exec(q.order_by(order).offset(self.page * self.page_size).limit(self.page_size))
            ]

    async def _refresh(self) -> None:
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True

    @guarded("audit.read", quiet=True)
    async def load(self):
        self.page = 0
        await self._refresh()

    @guarded("audit.read")
    async def set_action_filter(self, value: str):
        self.action_filter = value
        self.page = 0
        await self._refresh()

    @guarded("audit.read")
    async def toggle_order(self):
        self.newest_first = not self.newest_first
        self.page = 0
        await self._refresh()


class QueuesState(LiveState, AppState):
    # live: refresh every 2 s while the page is open; every 30 s: still signed in, still allowed?
    LIVE: ClassVar[Live] = Live("admin.operations", "/admin/queues", poll=2.0, recheck=15)

    queue_rows: list[QueueRow] = []
    worker_rows: list[WorkerRow] = []
    failed_rows: list[FailedJobRow] = []
    attention_rows: list[RetryAttentionRow] = []
    error: str = ""
    loaded: bool = False

    def _fetch(self, principal: auth.Principal) -> None:
        default = auth.find_tenant(None).id == principal.tenant_id
        self.queue_rows = [
            QueueRow(
                name=q.name,
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
                queues=w.queues,
                current_job=w.current_job,
                successful=w.successful,
                failed=w.failed,
            )
            for w in queues.workers()
        ]
        self.failed_rows = [
            FailedJobRow(id=j.id, queue=j.queue, description=j.description, error=j.error, failed_at=j.failed_at)
            for j in queues.failed_jobs(principal, default_tenant=default)
        ]
        with tenant_session(principal.tenant_id) as s:
            self.attention_rows = [
                RetryAttentionRow(
                    id=str(e.id),
                    type=e.job_type,
                    attempts=e.attempts,
                    error=e.last_error,
                    order=str(e.order_id) if e.order_id else "",
                    at=_fmt(e.updated_at),
                )
                for e in retry.attention(s)
            ]

    async def _refresh(self, principal: auth.Principal) -> None:
        try:
            await asyncio.to_thread(self._fetch, principal)
            self.error = ""
        except Exception as exc:  # Redis down: say so on the page
            self.error = f"Cannot read the queues: {exc}"
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
