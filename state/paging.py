"""PagedState: the page / page_size / total of a paged table and its pager
handlers (`components.ui.pager(S.page, S.page_count, S.prev_page, S.next_page)`),
its filters and sort kept in the URL, and its row selection for bulk actions.

A state mixes it in (`class OrdersState(PagedState, AppState)`), names the
permission the pager needs in `PAGE_PERMISSION`, sets its own `page_size`
default, keeps `total` current and reloads in `_reload_page` (default:
`self._refresh()`; a table paged in the browser reloads nothing and overrides
`page_count`).

**The URL holds the table's view.** A state that names its filter and sort
variables in `URL_PARAMS` keeps them, and the page, in the address bar: a
bookmark or a shared link opens the same view, and the back button returns to
the previous one. The page's loader calls `self._read_url()` first; a filter
handler does not reload itself, it returns `self._navigate(status=value)`,
which changes the URL, and the router runs the page's loader again (one way
in, whether the change came from a click, a bookmark or the back button).
A search box returns `await self._search(search=value)` instead (see there).
Values equal to their defaults stay out of the URL.

**Selection.** `selected` holds the ids of the ticked rows; `toggle_row`,
`toggle_page` (all rows on the page on or off) and `clear_selection` serve the
checkbox column (`components.ui.select_cell` / `select_all_cell`); a bulk
action reads `self.selected` and clears it when done. A new view (another
page, another filter) clears the selection, so an action never touches rows
the user no longer sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlencode

import reflex as rx

from state.base import StatePermission, guarded, mark_permissions

PAGER_HANDLERS = ("next_page", "prev_page", "first_page", "last_page", "toggle_row", "toggle_page", "clear_selection")
_PERMISSION = StatePermission("PAGE_PERMISSION")


class PagedFilter(Protocol):
    page: int
    page_size: int


_F = TypeVar("_F", bound=PagedFilter)
_R = TypeVar("_R")
_S = TypeVar("_S")


def last_page_index(total: int, page_size: int) -> int:
    """The index of the last page of `total` rows (0 when there are none)."""
    return max(0, -(-total // page_size) - 1)


def rows_of_page(list_rows: Callable[[_S, _F], tuple[list[_R], int]], session: _S, f: _F) -> tuple[list[_R], int]:
    """`list_rows(session, f)`: the rows of the filter's page and how many there are in all. A
    page past the end (rows went away since the link was made) reads the last page instead;
    `f.page` then says which page was read."""
    rows, total = list_rows(session, f)
    if f.page and not rows and total:
        f.page = last_page_index(total, f.page_size)
        rows, total = list_rows(session, f)
    return rows, total


def _coerce(raw: str, default: Any) -> Any:
    """A URL value as the type of the variable's default (a bad value: the default)."""
    if isinstance(default, bool):
        return raw in ("1", "true", "yes")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            return default
    return raw[:200]


def _as_param(value: Any) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


class PagedState(rx.State, mixin=True):
    PAGE_PERMISSION: ClassVar[str] = ""
    URL_PARAMS: ClassVar[tuple[str, ...]] = ()  # the filter and sort variables kept in the URL

    page: int = 0
    page_size: int = 20
    total: int = 0
    selected: list[str] = []  # ids of the ticked rows
    page_ids: list[str] = []  # ids of the rows on this page (the "select all" checkbox)

    if TYPE_CHECKING:  # for the type checker only: what the state mixing this in provides

        async def _refresh(self) -> None:
            """The state's reload (the default `_reload_page` calls it)."""
            ...

    def __init_subclass__(cls, mixin: bool = False, **kwargs):
        super().__init_subclass__(mixin=mixin, **kwargs)
        if not mixin:
            mark_permissions(cls, PAGER_HANDLERS, cls.PAGE_PERMISSION)

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    async def _reload_page(self) -> None:
        await self._refresh()

    # --- the URL -----------------------------------------------------------------------------

    def _defaults(self) -> dict[str, Any]:
        fields = type(self).get_fields()
        return {name: fields[name].default for name in self.URL_PARAMS}

    def _read_url(self) -> None:
        """Take the view (filters, sort, page) from the URL; what it leaves out
        is the default. The page's loader calls this first."""
        params = self.router.url.query_parameters
        for name, default in self._defaults().items():
            raw = params.get(name)
            setattr(self, name, default if raw is None else _coerce(raw, default))
        self.page = max(0, _coerce(params.get("page", "1"), 1) - 1)
        self.selected = []

    def _url(self, **changes: Any) -> str:
        """This page's URL with the current view and `changes` applied; a change
        of anything but the page starts again at the first page."""
        values = {name: getattr(self, name) for name in self.URL_PARAMS}
        page = changes.pop("page", None if changes else self.page)
        values.update(changes)
        query = {k: _as_param(v) for k, v in values.items() if v != self._defaults()[k]}
        if page:
            query["page"] = str(page + 1)
        path = self.router.url.path or "/"
        return f"{path}?{urlencode(query)}" if query else path

    def _navigate(self, replace: bool = False, **changes: Any) -> rx.event.EventSpec:
        """Show the view with `changes` by changing the URL (the loader follows)."""
        return rx.redirect(self._url(**changes), replace=replace)

    async def _search(self, **changes: Any) -> rx.event.EventSpec | None:
        """What a search box calls: show the view with `changes` at once and
        write it into the current history entry (one entry, not one per
        letter). A search box hands over its last letters when the user
        leaves the page (clicking a row's link), so this must not navigate:
        it rewrites the address only while the browser is still on this page."""
        if all(getattr(self, name) == value for name, value in changes.items()):
            return None  # the box handing over what it already sent (on leaving it): nothing to redo
        path = self.router.url.path or "/"
        url = self._url(**changes)
        for name, value in changes.items():
            setattr(self, name, value)
        self.page, self.selected = 0, []
        await self._reload_page()
        return rx.call_script(
            f"if (window.location.pathname === {json.dumps(path)}) "
            f"window.history.replaceState(window.history.state, '', {json.dumps(url)})"
        )

    async def _go(self, page: int):
        page = max(0, min(page, self.page_count - 1))
        if page == self.page:
            return None
        if self.URL_PARAMS:
            return self._navigate(page=page)
        self.page = page
        self.selected = []
        await self._reload_page()
        return None

    @guarded(_PERMISSION)
    async def next_page(self):
        return await self._go(self.page + 1)

    @guarded(_PERMISSION)
    async def prev_page(self):
        return await self._go(self.page - 1)

    @guarded(_PERMISSION)
    async def first_page(self):
        return await self._go(0)

    @guarded(_PERMISSION)
    async def last_page(self):
        return await self._go(self.page_count - 1)

    # --- selection ----------------------------------------------------------------------------

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.page_ids) and all(i in self.selected for i in self.page_ids)

    @guarded(_PERMISSION)
    def toggle_row(self, row_id: str, on: bool):
        if on and row_id not in self.selected:
            self.selected = [*self.selected, row_id]
        elif not on:
            self.selected = [i for i in self.selected if i != row_id]

    @guarded(_PERMISSION)
    def toggle_page(self, on: bool):
        self.selected = list(self.page_ids) if on else []

    @guarded(_PERMISSION)
    def clear_selection(self):
        self.selected = []
