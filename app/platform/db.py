"""The engine and the only two ways to open a database session.

- `tenant_session(tenant_id)`: every transaction of the session runs with
  `app.tenant_id` set, so PostgreSQL's row-level security shows and accepts only
  that tenant's rows. This is the only door to tenant data.
- `platform_session()`: no tenant set; RLS hides every tenant row, so it can
  reach only the global tables (tenants, roles, permissions, the parts catalog).

The app connects as a role that owns nothing and has NOBYPASSRLS, so a
forgotten filter cannot leak rows: the database itself refuses them.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.settings import get_settings

log = logging.getLogger(__name__)
TENANT_KEY = "tenant_id"


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def reset_engine() -> None:
    """Forget the cached engine (tests that change DATABASE_URL, forked workers)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@event.listens_for(Session, "after_begin")
def _set_tenant(session: Session, transaction, connection) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    # `is_local => true`: the setting ends with the transaction, so a pooled
    # connection never carries one tenant's id into another's session.
    connection.execute(
        text("SELECT set_config('app.tenant_id', :tid, true)"),
        {"tid": str(tenant_id) if tenant_id else ""},
    )


# --- work that follows a commit ---------------------------------------------------------------
#
# One after-commit primitive, like Saleor's `transaction.on_commit`: the relay of
# outbox events, live updates to open pages, retry-queue runs and cache stamps all
# register here, run once the transaction commits, and are dropped on rollback.

_ON_COMMIT = "on_commit"
_COLLECTED = "on_commit_collected"


def on_commit(session: Session, fn: Callable[[], None], *, key: str | None = None) -> None:
    """Run `fn()` once this session's transaction commits; never if it rolls
    back. With `key`, a second registration in the same transaction is a
    no-op (bump a version once, however many changes). A failing callback is
    logged and does not stop the others: the commit has happened."""
    pending = session.info.setdefault(_ON_COMMIT, {})
    pending.setdefault(key if key is not None else object(), fn)


def collect_on_commit(session: Session, key: str, fn: Callable[[Any], None], factory: Callable[[], Any] = list) -> Any:
    """A container (a list by default) to gather work in during this
    transaction; `fn(container)` runs once after the commit. Both are
    dropped on rollback, so rolled-back work never goes out."""
    collected = session.info.setdefault(_COLLECTED, {})
    if key not in collected:
        collected[key] = factory()
        box = collected[key]
        on_commit(session, lambda: fn(box), key=f"collect:{key}")
    return collected[key]


_COMMITTED = "on_commit_committed"


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """The transaction committed: its work waits for the connection to go
    back to the pool (below), so work that opens a session of its own (the
    event relay) never holds two connections at once: a burst of commits
    cannot drain the pool and stall every other request.

    SQLAlchemy sends this event when a savepoint is released too: that is no
    commit. Taking the work then lost what the transaction registered before
    the savepoint and in it whenever more came after it (a spare part issued
    inside a savepoint never told the open pages), and sent it even when the
    transaction then rolled back."""
    if session.in_nested_transaction():
        return  # a savepoint released: its work waits for the transaction's own commit
    pending = session.info.pop(_ON_COMMIT, None)
    session.info.pop(_COLLECTED, None)
    session.info.pop(_SAVEPOINTS, None)
    if pending:
        session.info[_COMMITTED] = pending


@event.listens_for(Session, "after_transaction_end")
def _run_on_commit(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint or a nested scope: the outer transaction decides
        return
    pending = session.info.pop(_COMMITTED, None)
    for fn in (pending or {}).values():
        try:
            fn()
        except Exception:
            log.exception("after-commit work failed")


_SAVEPOINTS = "on_commit_savepoints"


def _restore(box: Any, saved: Any) -> None:
    """Put a collected container back as it was (in place: its callback holds it)."""
    if isinstance(box, list):
        box[:] = saved
    elif isinstance(box, dict | set):
        box.clear()
        box.update(saved)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    """A savepoint remembers the after-commit work registered before it, so
    rolling it back drops only what was registered inside it. (The marks of
    released savepoints go with the transaction's commit or rollback.)"""
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINTS, {})
        collected = session.info.get(_COLLECTED, {})
        marks[transaction] = (
            dict(session.info.get(_ON_COMMIT, {})),
            {key: (box, type(box)(box)) for key, box in collected.items()},
        )


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    """Rolled-back work never goes out: a whole transaction's, or a
    savepoint's (what was registered before the savepoint stays)."""
    mark = session.info.get(_SAVEPOINTS, {}).pop(previous_transaction, None) if previous_transaction.nested else None
    if mark is None:
        if not previous_transaction.nested:
            session.info.pop(_ON_COMMIT, None)
            session.info.pop(_COLLECTED, None)
            session.info.pop(_SAVEPOINTS, None)
        return
    pending, collected = mark
    session.info[_ON_COMMIT] = pending
    session.info[_COLLECTED] = {key: box for key, (box, _) in collected.items()}
    for box, saved in collected.values():
        _restore(box, saved)


@contextmanager
def _session(tenant_id: uuid.UUID | None) -> Iterator[Session]:
    session = Session(get_engine(), expire_on_commit=False)
    if tenant_id is not None:
        session.info[TENANT_KEY] = tenant_id
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def tenant_session(tenant_id: uuid.UUID | str) -> contextlib.AbstractContextManager[Session]:
    """A session scoped to one tenant. Commit explicitly; rolls back on error."""
    if not tenant_id:
        raise ValueError("tenant_session needs a tenant id")
    return _session(tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id)))


def platform_session() -> contextlib.AbstractContextManager[Session]:
    """A session with no tenant: global tables only (RLS hides tenant rows)."""
    return _session(None)


def session_tenant_id(session: Session) -> uuid.UUID:
    """The tenant a session is scoped to; raises for a platform session."""
    tid = session.info.get(TENANT_KEY)
    if tid is None:
        raise RuntimeError("this operation needs a tenant_session")
    return tid


def tenant_ids(only: uuid.UUID | str | None = None) -> list[uuid.UUID]:
    """`[only]` when a shop is named (cron's per-shop jobs), else every shop."""
    return [uuid.UUID(str(only))] if only else all_tenant_ids()


def all_tenant_ids() -> list[uuid.UUID]:
    """Every tenant, for periodic jobs that visit each one in its own session."""
    from sqlmodel import select

    from app.platform.models import Tenant

    with platform_session() as ps:
        return list(ps.exec(select(Tenant.id)))


def get_or_404(session: Session, model, key: uuid.UUID | str, what: str, *, lock: bool = False):
    """A row by primary key in this session's tenant, or NotFound ("no such <what>").
    A malformed id is simply not found."""
    from sqlmodel import select

    from app.platform.errors import NotFound

    try:
        ident = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
    except ValueError as exc:
        raise NotFound(f"no such {what}") from exc
    q = select(model).where(model.id == ident)
    if lock:
        q = q.with_for_update()
    row = session.exec(q).first()
    if row is None:
        raise NotFound(f"no such {what}")
    return row
