"""Storefront customers: sign-up, sign-in, sign-out and the customer cookie.

Customers are not staff. Their sessions live in `customer_sessions`, staff
sessions in `user_sessions`, so a customer cookie never opens a staff session
and a staff cookie never opens a customer one. The cookie `shopfloor_customer`
holds `<tenant id>.<random token>` like the staff cookie; only SHA-256 of the
token is stored. Passwords use the staff hasher (`app.platform.auth`), and
failed sign-ins are throttled per email the same way (audit log entries
`customer.login.failed|success|throttled`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.customers.models import Customer, CustomerSession
from app.platform import audit, auth
from app.platform.db import platform_session, session_tenant_id, tenant_session
from app.platform.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from app.platform.models import Tenant, utcnow
from app.settings import get_settings

CUSTOMER_COOKIE = "shopfloor_customer"
SESSION_DAYS = 30
SESSION_MAX_AGE_SECONDS = SESSION_DAYS * 24 * 3600
MIN_PASSWORD_LENGTH = auth.MIN_PASSWORD_LENGTH
LOGIN_ACTION = "customer.login"  # audit actions: customer.login.failed / .success / .throttled

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


@dataclass(frozen=True)
class CustomerPrincipal:
    """A signed-in storefront customer (never a staff principal)."""

    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    email: str
    name: str
    session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class SignInResult:
    cookie_value: str  # `<tenant id>.<token>` for the `shopfloor_customer` cookie
    expires_at: datetime
    principal: CustomerPrincipal


# --- the storefront's shop ----------------------------------------------------------


def storefront_tenant() -> Tenant:
    """The shop the public storefront sells for: STOREFRONT_SHOP's slug, else the default shop."""
    return auth.find_tenant(get_settings().storefront_shop or None)


# --- helpers --------------------------------------------------------------------------


def normalise_email(email: str | None) -> str:
    value = (email or "").strip().lower()
    if not value or len(value) > 254 or not _EMAIL.match(value):
        raise ValidationFailed("enter a valid email address")
    return value


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _principal(customer: Customer, session_id: uuid.UUID | None = None) -> CustomerPrincipal:
    return CustomerPrincipal(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        email=customer.email,
        name=customer.name,
        session_id=session_id,
    )


def _split_cookie(value: str | None) -> tuple[uuid.UUID, str] | None:
    if not value or "." not in value:
        return None
    tid, token = value.split(".", 1)
    try:
        return uuid.UUID(tid), token
    except ValueError:
        return None


def get_customer(session: Session, customer: CustomerPrincipal | uuid.UUID) -> Customer:
    cid = customer.customer_id if isinstance(customer, CustomerPrincipal) else customer
    row = session.get(Customer, cid)
    if row is None or not row.is_active:
        raise NotFound("no such customer")
    return row


# --- sign-up, sign-in, sign-out ---------------------------------------------------------


def sign_up(session: Session, *, email: str, name: str, password: str, ip: str = "") -> Customer:
    """Create a customer account (not signed in yet: see `open_session`).
    Raises ValidationFailed (bad email/name, password under 10 characters)
    or Conflict (the email has an account)."""
    email = normalise_email(email)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("enter your name (up to 200 characters)")
    if len(password or "") > 500:
        raise ValidationFailed("a password has at most 500 characters")
    password_hash = auth.hash_password(password or "")
    if session.exec(select(Customer.id).where(Customer.email == email)).first() is not None:
        raise Conflict("an account with this email address already exists; sign in instead")
    customer = Customer(tenant_id=session_tenant_id(session), email=email, name=name, password_hash=password_hash)
    try:
        with session.begin_nested():  # two sign-ups racing for one email: one wins, one gets 409
            session.add(customer)
            session.flush()
    except IntegrityError:
        raise Conflict("an account with this email address already exists; sign in instead") from None
    audit.record(
        session,
        "customer.signed-up",
        target_type="customer",
        target_id=email[:100],
        ip=ip,
        meta={"customerId": str(customer.id)},
    )
    return customer


def open_session(session: Session, customer: Customer, *, ip: str = "") -> SignInResult:
    """Start a 30-day session for this customer (after sign-up or a checked sign-in)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=SESSION_DAYS)
    row = CustomerSession(
        tenant_id=customer.tenant_id, customer_id=customer.id, token_hash=_sha256(token), expires_at=expires
    )
    customer.last_login_at = utcnow()
    session.add(row)
    session.add(customer)
    audit.record(
        session,
        f"{LOGIN_ACTION}.success",
        target_type="customer",
        target_id=customer.email[:100],
        ip=ip,
        meta={"customerId": str(customer.id)},
    )
    session.flush()
    return SignInResult(
        cookie_value=f"{customer.tenant_id}.{token}", expires_at=expires, principal=_principal(customer, row.id)
    )


def sign_in(session: Session, email: str, password: str, *, ip: str = "") -> SignInResult:
    """Check the credentials and open a session. Failed attempts are audited
    and committed (so they count even though this raises); after
    LOGIN_MAX_FAILURES of them for the email, sign-in answers 429 for a while."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        raise Unauthorized("wrong email address or password") from None
    if not password:
        raise ValidationFailed("enter your email address and password")
    target = email[:100]
    usual = auth.check_throttle(session, target, action=LOGIN_ACTION, target_type="customer", ip=ip)
    customer = session.exec(select(Customer).where(Customer.email == email)).first()
    ok = auth.verify_password(customer.password_hash if customer else None, password)
    if not ok or customer is None or not customer.is_active:
        audit.record(
            session,
            f"{LOGIN_ACTION}.failed",
            target_type="customer",
            target_id=target,
            ip=ip,
            meta={"reason": "inactive" if customer and ok else "bad_credentials"},
        )
        session.commit()
        raise Unauthorized("wrong email address or password")
    auth.sign_in_passed(session, target, action=LOGIN_ACTION, ip=ip, usual=usual)
    if auth.needs_rehash(customer.password_hash):
        customer.password_hash = auth.hash_password(password)
    return open_session(session, customer, ip=ip)


def authenticate_customer(cookie_value: str | None) -> CustomerPrincipal | None:
    """The customer behind a `shopfloor_customer` cookie, or None (missing,
    malformed, unknown, expired, a staff cookie, an inactive account)."""
    found = _split_cookie(cookie_value)
    if found is None:
        return None
    tenant_id, token = found
    with platform_session() as ps:
        if ps.get(Tenant, tenant_id) is None:
            return None
    with tenant_session(tenant_id) as s:
        row = s.exec(select(CustomerSession).where(CustomerSession.token_hash == _sha256(token))).first()
        if row is None:
            return None
        if row.expires_at <= utcnow():
            s.delete(row)
            s.commit()
            return None
        customer = s.get(Customer, row.customer_id)
        if customer is None or not customer.is_active:
            return None
        return _principal(customer, row.id)


def sign_out(cookie_value: str | None, *, ip: str = "") -> None:
    """End the session behind the cookie (nothing happens for an unknown one)."""
    found = _split_cookie(cookie_value)
    if found is None:
        return
    tenant_id, token = found
    with platform_session() as ps:
        if ps.get(Tenant, tenant_id) is None:
            return
    with tenant_session(tenant_id) as s:
        row = s.exec(select(CustomerSession).where(CustomerSession.token_hash == _sha256(token))).first()
        if row is not None:
            customer = s.get(Customer, row.customer_id)
            s.delete(row)
            audit.record(
                s, "customer.logout", target_type="customer", target_id=customer.email[:100] if customer else "", ip=ip
            )
            s.commit()
