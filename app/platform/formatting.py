"""Money, dates and times as the shop writes them: one place, from the shop's
locale, currency and time zone (CLDR data through Babel).

A principal carries its shop's `ShopFormat` (`principal.fmt`); states and
booklets format with it:

    fmt = current_principal().fmt
    fmt.money(order.total_price, order.currency)   # "€1,234.00" / "1.234,00 €"
    fmt.when(order.placed_at)                      # "29 Nov 2026, 14:05" in the shop's zone
    fmt.day(order.placed_at)                       # "29 Nov 2026"
    fmt.ago(build.started_at)                      # "3 days ago"

Every value shown to a person goes through here, so a shop in Germany sees
"1.234,00 €" and "29.11.2026, 14:05" without a page knowing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal

DEFAULT_LOCALE = "en_IE"  # English with day-month dates and the euro sign first
DEFAULT_CURRENCY = "EUR"
DEFAULT_TIMEZONE = "Europe/Amsterdam"

# The choices a shop admin picks from (Settings › Shop): value → what it reads as.
LOCALES = {
    "en_IE": "English (Ireland) — 1,234.56 · 29 Nov 2026",
    "en_GB": "English (UK) — 1,234.56 · 29 Nov 2026",
    "en_US": "English (US) — 1,234.56 · Nov 29, 2026",
    "nl_NL": "Nederlands — 1.234,56 · 29 nov 2026",
    "de_DE": "Deutsch — 1.234,56 · 29.11.2026",
    "fr_FR": "Français — 1 234,56 · 29 nov. 2026",
}
CURRENCIES = ("EUR", "GBP", "USD", "CHF", "SEK", "DKK", "PLN")
NOTHING = "—"


def valid_locale(value: str) -> bool:
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def valid_timezone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class ShopFormat:
    locale: str = DEFAULT_LOCALE
    currency: str = DEFAULT_CURRENCY
    timezone: str = DEFAULT_TIMEZONE

    # -- money ------------------------------------------------------------------

    def money(self, amount: Decimal | float | int | None, currency: str | None = None) -> str:
        """`amount` in `currency` (default: the shop's), or "—" when unknown."""
        if amount is None:
            return NOTHING
        return format_currency(amount, (currency or self.currency).upper(), locale=self.locale)

    def number(self, value: Decimal | float | int, digits: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    # -- dates and times --------------------------------------------------------

    def local(self, dt: datetime) -> datetime:
        """`dt` in the shop's time zone (a naive value is taken as UTC)."""
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(_zone(self.timezone))

    def when(self, dt: datetime | None, seconds: bool = False) -> str:
        """A moment: "29 Nov 2026, 14:05" (in the shop's zone)."""
        if dt is None:
            return NOTHING
        local = self.local(dt)
        time = format_time(local, "medium" if seconds else "short", locale=self.locale)
        return f"{format_date(local, 'medium', locale=self.locale)}, {time}"

    def day(self, value: datetime | date | None) -> str:
        """A day: "29 Nov 2026"."""
        if value is None:
            return NOTHING
        if isinstance(value, datetime):
            value = self.local(value).date()
        return format_date(value, "medium", locale=self.locale)

    def short_day(self, value: datetime | date) -> str:
        """A day on a chart's axis: "29 Nov"."""
        if isinstance(value, datetime):
            value = self.local(value).date()
        return format_date(value, "d MMM", locale=self.locale)

    def clock(self, dt: datetime | None, seconds: bool = False) -> str:
        """A time of day: "14:05"."""
        if dt is None:
            return NOTHING
        return format_time(self.local(dt), "medium" if seconds else "short", locale=self.locale)

    def ago(self, dt: datetime | None, now: datetime | None = None) -> str:
        """How long ago: "3 days ago", "5 minutes ago"; "just now" under a minute."""
        if dt is None:
            return NOTHING
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        delta = (now or datetime.now(UTC)) - dt
        if abs(delta.total_seconds()) < 60:
            return "just now"
        return format_timedelta(-delta, add_direction=True, threshold=1.5, locale=self.locale)

    def duration(self, seconds: float | int | None) -> str:
        """A length of time: "3 hours", "2 days"."""
        if seconds is None:
            return NOTHING
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=self.locale)


DEFAULT = ShopFormat()


def for_shop(tenant: object) -> ShopFormat:
    """The format of a shop (a `Tenant` row)."""
    return ShopFormat(
        locale=getattr(tenant, "locale", None) or DEFAULT_LOCALE,
        currency=getattr(tenant, "currency", None) or DEFAULT_CURRENCY,
        timezone=getattr(tenant, "timezone", None) or DEFAULT_TIMEZONE,
    )


def of_tenant(tenant_id: object) -> ShopFormat:
    """The format of the shop with this id (for jobs, booklets and customer
    pages, which have no signed-in principal)."""
    from app.platform.db import platform_session
    from app.platform.models import Tenant

    with platform_session() as s:
        tenant = s.get(Tenant, tenant_id)
        return for_shop(tenant) if tenant is not None else DEFAULT
