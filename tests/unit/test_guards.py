"""Every Reflex event handler checks permission (or is deliberately public)."""

from __future__ import annotations

import importlib
import pkgutil

import reflex as rx

import state
from state.base import GUARD_ATTR, AppState

# Reflex's own handlers on rx.State (hydrate, set_is_hydrated, …) are not ours.
BUILTIN = set(rx.State.event_handlers)


def _all_states() -> list[type[rx.State]]:
    for mod in pkgutil.iter_modules(state.__path__):
        importlib.import_module(f"state.{mod.name}")
    found, todo = [], [AppState]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_event_handler_is_guarded():
    unguarded = []
    checked = 0
    for cls in _all_states():
        for name, handler in cls.event_handlers.items():
            if name in BUILTIN or (name.startswith("set_") and name not in cls.__dict__):
                continue
            checked += 1
            if not getattr(handler.fn, GUARD_ATTR, None):
                unguarded.append(f"{cls.__name__}.{name}")
    assert checked > 10
    assert unguarded == [], f"handlers without a permission check: {unguarded}"


STOREFRONT_MODULES = {"state.storefront", "state.builder", "state.account", "state.customer_build", "state.grid_store"}


def test_storefront_markers_only_on_storefront_states():
    """`storefront` (anyone) and `customer` (a signed-in customer) handlers
    exist only on the public storefront's states, never on staff pages."""
    misplaced = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in _all_states()
        for name, h in cls.event_handlers.items()
        if getattr(h.fn, GUARD_ATTR, None) in ("storefront", "customer") and cls.__module__ not in STOREFRONT_MODULES
    ]
    assert misplaced == []


def test_storefront_states_grant_no_staff_permission():
    """No handler of a storefront state checks a staff permission: those
    pages never show staff data, whatever cookie the browser has."""
    staff = [
        f"{cls.__name__}.{name}"
        for cls in _all_states()
        if cls.__module__ in STOREFRONT_MODULES
        for name, h in cls.event_handlers.items()
        if getattr(h.fn, "__module__", "") in STOREFRONT_MODULES
        and getattr(h.fn, GUARD_ATTR, None) not in ("storefront", "customer")
    ]
    assert staff == []


def test_public_handlers_are_only_the_sign_in_page():
    public = {
        f"{cls.__name__}.{name}"
        for cls in _all_states()
        for name, h in cls.event_handlers.items()
        if getattr(h.fn, GUARD_ATTR, None) == "public"
    }
    assert public <= {"LoginState.on_open", "LoginState.start", "LoginState.finish"}


def test_every_live_page_can_reload_itself():
    """A live page reloads once its channel is subscribed (and on every message it wants):
    the default reload calls `_fetch(tenant_id)`, so a page whose loader takes more says how
    it reloads, or catches up by itself. (The catalog's loader took the shop's format too:
    its first reload would have ended its watcher with a TypeError.)"""
    import inspect

    from state.live import LiveState

    wrong = []
    for cls in _all_states():
        if not issubclass(cls, LiveState) or (not cls.LIVE.catch_up and not cls.LIVE.kinds):
            continue
        if "_live_refresh" in {n for k in cls.__mro__ if k is not LiveState for n in vars(k)}:
            continue
        fetch = getattr(cls, "_fetch", None)
        params = list(inspect.signature(fetch).parameters.values())[1:] if fetch else None
        if params is None or len([p for p in params if p.default is inspect.Parameter.empty]) != 1:
            wrong.append(cls.__name__)
    assert wrong == [], f"live pages whose reload cannot call _fetch(tenant_id): {wrong}"
