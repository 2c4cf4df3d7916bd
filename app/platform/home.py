"""The staff home page's pieces: tiles and recent activity.

Each domain contributes what it knows through its door (`Domain.home`,
`Domain.activity`); `app.domains.home_tiles` / `app.domains.activity` gather
them and drop what the signed-in user may not see. The platform adds its own
(outbound work that needs a person) here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.platform.auth import Principal
from app.platform.formatting import ShopFormat
from app.platform.models import EventLog, RetryEntry, utcnow

OWN_EVENTS = ("config.", "tenant.")


@dataclass(frozen=True)
class ChartPoint:
    """One bar of a tile's small chart: a day and its amount."""

    label: str  # "29 Nov", in the shop's words
    value: float  # what the bar's height compares
    text: str  # the value as people read it ("€1,234.00")


@dataclass(frozen=True)
class HomeItem:
    """One line under a tile of the user's own work (a build assigned to them)."""

    text: str
    link: str
    status: str = ""  # the status's words
    tone: str = "gray"  # its Radix colour


@dataclass(frozen=True)
class HomeTile:
    """A number on the home page that leads to the work behind it."""

    key: str  # stable name ("orders.to-ship"): tests and the page's test ids
    title: str
    value: str  # already formatted for the shop
    hint: str = ""
    link: str = ""
    permission: str | None = None  # needed to see the tile (None: anyone signed in)
    tone: str = "gray"  # Radix colour: red when something needs a person
    icon: str = "circle"
    chart: tuple[ChartPoint, ...] = ()
    mine: bool = False  # the signed-in user's own work: shown under "My work"
    items: tuple[HomeItem, ...] = ()


@dataclass(frozen=True)
class Activity:
    """Something that happened, as a sentence linking to what it names."""

    at: datetime
    text: str
    link: str = ""
    tone: str = "gray"
    permission: str | None = None


def visible(principal: Principal, permission: str | None) -> bool:
    return permission is None or principal.can(permission)


def local_days(fmt: ShopFormat, days: int, now: datetime | None = None) -> tuple[list[date], datetime]:
    """The last `days` days in the shop's time zone, oldest first, and the
    moment (UTC) the first of them began: "this week" as the shop lives it."""
    today = fmt.local(now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=fmt.local(now or utcnow()).tzinfo).astimezone(UTC)
    return [first + timedelta(days=i) for i in range(days)], start


# --- the platform's own contributions ---------------------------------------------------------


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can("admin.operations"):
        return []
    stuck = session.exec(
        select(func.count()).select_from(RetryEntry).where(RetryEntry.needs_attention, RetryEntry.status == "FAILED")
    ).one()
    return [
        HomeTile(
            key="platform.attention",
            title="Needs attention",
            value=str(stuck),
            hint="outbound work that gave up and waits for a person" if stuck else "no outbound work is stuck",
            link="/admin/queues",
            permission="admin.operations",
            tone="red" if stuck else "green",
            icon="life-buoy",
        )
    ]


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    """The platform's own happenings: settings changed, the shop opened (each
    domain tells its own)."""
    rows = session.exec(
        select(EventLog)
        .where(or_(*[col(EventLog.event_type).startswith(p) for p in OWN_EVENTS]))
        .order_by(col(EventLog.created_at).desc())
        .limit(limit)
    )
    return [
        Activity(
            at=e.created_at,
            text=sentence(e.message),
            link="/settings" if e.event_type.startswith("config.") else "",
            tone={"WARNING": "amber", "ERROR": "red"}.get(e.severity, "gray"),
            permission="settings.read" if e.event_type.startswith("config.") else None,
        )
        for e in rows
    ]


def sentence(text: str) -> str:
    """A message as a sentence: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return "Something happened."
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
