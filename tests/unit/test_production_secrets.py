"""Production refuses to start while any key, secret or password still has a
development value, wherever that value hides (a key rotation list included)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.settings import _DEV_FERNET, _DEV_SECRET, Settings

STRONG_SECRET = "f3b1c9e2a7d4-production-secret-8k2m5n7p9q"


@pytest.fixture
def production(monkeypatch):
    """A production environment with every secret set properly."""
    for name, value in {
        "SHOPFLOOR_ENV": "production",
        "SECRET_KEY": STRONG_SECRET,
        "INTEGRATION_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgresql+psycopg://shopfloor_app:Xq7-long-app-password@db:5432/shopfloor",
        "MIGRATIONS_DATABASE_URL": "postgresql+psycopg://shopfloor_owner:Zr9-long-owner-password@db:5432/shopfloor",
        "STORAGE_BACKEND": "s3",
        "S3_SECRET_ACCESS_KEY": "a-real-s3-secret-access-key",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OUTBOUND_ALLOW_PRIVATE", raising=False)
    return monkeypatch


def test_proper_secrets_start(production):
    Settings().check_production()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SECRET_KEY", _DEV_SECRET, "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("SECRET_KEY", "x" * 64, "SECRET_KEY"),
        ("INTEGRATION_ENCRYPTION_KEY", _DEV_FERNET, "INTEGRATION_ENCRYPTION_KEY"),
        # the development key kept "for rotation" still decrypts everything
        ("INTEGRATION_ENCRYPTION_KEY", f"{Fernet.generate_key().decode()},{_DEV_FERNET}", "INTEGRATION_ENCRYPTION_KEY"),
        ("INTEGRATION_ENCRYPTION_KEY", "not-a-fernet-key", "INTEGRATION_ENCRYPTION_KEY"),
        ("DATABASE_URL", "postgresql+psycopg://shopfloor_app:shopfloor_app@db:5432/shopfloor", "DATABASE_URL"),
        (
            "MIGRATIONS_DATABASE_URL",
            "postgresql+psycopg://shopfloor_owner:shopfloor_owner@db:5432/shopfloor",
            "MIGRATIONS_DATABASE_URL",
        ),
        ("S3_SECRET_ACCESS_KEY", "shopfloor-dev-only", "S3_SECRET_ACCESS_KEY"),
    ],
)
def test_a_development_or_weak_secret_stops_production(production, name, value, words):
    production.setenv(name, value)
    with pytest.raises(RuntimeError, match=words):
        Settings().check_production()


def test_every_default_secret_is_refused(monkeypatch):
    """With nothing set, production names every secret it still needs."""
    for name in ("SECRET_KEY", "INTEGRATION_ENCRYPTION_KEY", "DATABASE_URL", "MIGRATIONS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOPFLOOR_ENV", "production")
    monkeypatch.delenv("OUTBOUND_ALLOW_PRIVATE", raising=False)
    problems = Settings(_env_file=None).production_secret_problems()  # pyright: ignore[reportCallIssue]
    text = "; ".join(problems)
    for name in ("SECRET_KEY", "INTEGRATION_ENCRYPTION_KEY", "DATABASE_URL", "MIGRATIONS_DATABASE_URL"):
        assert name in text


def test_development_keeps_its_defaults(monkeypatch):
    monkeypatch.setenv("SHOPFLOOR_ENV", "dev")
    Settings().check_production()
