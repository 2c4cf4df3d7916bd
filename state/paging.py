"""PagedState: the page / page_size / total of a paged table and its pager
handlers (`components.ui.pager(S.page, S.page_count, S.prev_page, S.next_page)`).

A state mixes it in (`class OrdersState(PagedState, AppState)`), names the
permission the pager needs in `PAGE_PERMISSION`, sets its own `page_size`
default, keeps `total` current and reloads in `_reload_page` (default:
`self._refresh()`; a table paged in the browser reloads nothing and overrides
`page_count`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import reflex as rx

from state.base import StatePermission, guarded, mark_permissions

PAGER_HANDLERS = ("next_page", "prev_page", "first_page", "last_page")
_PERMISSION = StatePermission("PAGE_PERMISSION")


class PagedState(rx.State, mixin=True):
    PAGE_PERMISSION: ClassVar[str] = ""

    page: int = 0
    page_size: int = 20
    total: int = 0

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

    async def _go(self, page: int) -> None:
        page = max(0, min(page, self.page_count - 1))
        if page != self.page:
            self.page = page
            await self._reload_page()

    @guarded(_PERMISSION)
    async def next_page(self):
        await self._go(self.page + 1)

    @guarded(_PERMISSION)
    async def prev_page(self):
        await self._go(self.page - 1)

    @guarded(_PERMISSION)
    async def first_page(self):
        await self._go(0)

    @guarded(_PERMISSION)
    async def last_page(self):
        await self._go(self.page_count - 1)
