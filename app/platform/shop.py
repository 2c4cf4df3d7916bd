"""Shops: creating one, and its own settings (how it writes money and time:
locale, currency, time zone). One function changes them, whichever door asks
(the settings page, PATCH /api/v1/tenant), and the audit log records who did
and what.

The app's database role cannot write the `tenants` table: a shop is created
by the `create_tenant()` database function and its format changed by
`set_shop_format()`, which changes only the shop the transaction runs for.
So even an injected query cannot rename, re-point or create another shop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.platform import audit
from app.platform.auth import Principal
from app.platform.db import platform_session, session_tenant_id
from app.platform.errors import NotFound, ValidationFailed
from app.platform.formatting import CURRENCIES, LOCALES, valid_timezone
from app.platform.models import Tenant

PERMISSION = "settings.write"


@dataclass(frozen=True)
class ShopSettings:
    name: str
    locale: str
    currency: str
    timezone: str


def create_tenant(slug: str, name: str, *, is_default: bool = False) -> uuid.UUID:
    """The id of the shop with this code, created when there is none (so
    running it again changes nothing). `is_default` only holds when no other
    shop is the default yet. A code is lower-case letters, digits and dashes."""
    try:
        with platform_session() as s:
            tenant_id = s.execute(
                text("SELECT create_tenant(:slug, :name, :is_default)"),
                {"slug": slug, "name": name, "is_default": is_default},
            ).scalar_one()
            s.commit()
    except DBAPIError as exc:
        refusal = exc.orig
        if isinstance(refusal, psycopg.Error) and refusal.sqlstate == "22023":  # the function's own check
            raise ValidationFailed(refusal.diag.message_primary or "not a valid shop code or name") from exc
        raise
    return tenant_id


def _tenant(session: Session) -> Tenant:
    tenant = session.get(Tenant, session_tenant_id(session))
    if tenant is None:
        raise NotFound("this shop no longer exists")
    return tenant


def shop_settings(session: Session) -> ShopSettings:
    t = _tenant(session)
    return ShopSettings(name=t.name, locale=t.locale, currency=t.currency, timezone=t.timezone)


def problems(locale: str | None, currency: str | None, timezone: str | None) -> dict[str, str]:
    """What is wrong with each given value, by field (empty: all good)."""
    found: dict[str, str] = {}
    if locale is not None and locale not in LOCALES:
        found["locale"] = "Pick one of the offered languages and formats."
    if currency is not None and currency.upper() not in CURRENCIES:
        found["currency"] = f"Pick one of {', '.join(CURRENCIES)}."
    if timezone is not None and not timezone.strip():
        found["timezone"] = "Enter the shop's time zone, e.g. Europe/Amsterdam."
    elif timezone is not None and not valid_timezone(timezone.strip()):
        found["timezone"] = "Unknown time zone: write it as Region/City, e.g. Europe/Amsterdam."
    return found


def update_shop_format(
    session: Session,
    *,
    actor: Principal,
    locale: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
) -> ShopSettings:
    """Change how the shop writes money and time (None: leave it). Refused as
    a whole with every field's problem when one value is wrong; audited with
    what changed. Commits."""
    actor.require(PERMISSION)
    wrong = problems(locale, currency, timezone)
    if wrong:
        raise ValidationFailed(" ".join(wrong.values()), details=wrong)
    tenant = _tenant(session)
    wanted = {
        "locale": locale,
        "currency": currency.upper() if currency is not None else None,
        "timezone": timezone.strip() if timezone is not None else None,
    }
    before, after = {}, {}
    for field, value in wanted.items():
        if value is not None and getattr(tenant, field) != value:
            before[field], after[field] = getattr(tenant, field), value
    if after:
        session.execute(
            text("SELECT set_shop_format(:locale, :currency, :timezone)"),
            {f: after.get(f) for f in ("locale", "currency", "timezone")},
        )
        session.expire(tenant)  # read back what the database now holds
        audit.record(
            session,
            "tenant.format-changed",
            actor_user_id=actor.user_id,
            target_type="tenant",
            target_id=tenant.slug,
            meta={"before": before, "after": after},
        )
        session.commit()
    return shop_settings(session)
