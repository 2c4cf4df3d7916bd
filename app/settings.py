"""All runtime configuration, read from the environment (and an optional `.env`).

Every variable is documented in README.md; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Development-only defaults. `Settings.check_production()` refuses to start in
# production while any of these is still in use.
_DEV_SECRET = "dev-only-secret-key-change-me-0123456789abcdef"
_DEV_FERNET = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE="
# Passwords the development setups use (the defaults below, docker/compose.yaml).
_DEV_PASSWORDS = frozenset({"", "shopfloor_app", "shopfloor_owner", "shopfloor-dev-only", "postgres", "minioadmin"})
MIN_SECRET_KEY_LENGTH = 32


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    env: str = Field(default="dev", alias="SHOPFLOOR_ENV")

    # PostgreSQL: the app connects as a role without ownership or BYPASSRLS;
    # migrations run as the owner role.
    database_url: str = Field(
        default="postgresql+psycopg://shopfloor_app:shopfloor_app@127.0.0.1:5432/shopfloor",
        alias="DATABASE_URL",
    )
    migrations_database_url: str = Field(
        default="postgresql+psycopg://shopfloor_owner:shopfloor_owner@127.0.0.1:5432/shopfloor",
        alias="MIGRATIONS_DATABASE_URL",
    )
    # Superuser connection used only by `python -m app.cli db-setup` to create
    # the database and the two roles. Falls back to `runuser -u postgres psql`.
    postgres_admin_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/postgres", alias="POSTGRES_ADMIN_URL")
    db_pool_size: int = Field(default=10, alias="DB_POOL_SIZE")

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", alias="REDIS_URL")

    secret_key: str = Field(default=_DEV_SECRET, alias="SECRET_KEY")
    # One or more Fernet keys, comma-separated; the first encrypts, all decrypt.
    integration_encryption_key: str = Field(default=_DEV_FERNET, alias="INTEGRATION_ENCRYPTION_KEY")

    # Web
    app_url: str = Field(default="http://127.0.0.1:3000", alias="APP_URL")
    api_url: str = Field(default="http://127.0.0.1:8000", alias="API_URL")
    frontend_port: int = Field(default=3000, alias="FRONTEND_PORT")
    backend_port: int = Field(default=8000, alias="BACKEND_PORT")
    cors_origins: str = Field(default="http://127.0.0.1:3000,http://localhost:3000", alias="CORS_ORIGINS")
    max_body_bytes: int = Field(default=25 * 1024 * 1024, alias="MAX_BODY_BYTES")

    # Sessions and sign-in throttling
    session_cookie_name: str = Field(default="shopfloor_session", alias="SESSION_COOKIE_NAME")
    session_ttl_hours: float = Field(default=12, alias="SESSION_TTL_HOURS")
    cookie_secure: bool = Field(default=False, alias="COOKIE_SECURE")
    # Sign-in throttling (app/platform/throttle.py): this many attempts of one account from one
    # address go through freely, then each next one waits 2, 4, 8, … seconds, at most
    # LOGIN_LOCKOUT_MINUTES; an address, or an account from unfamiliar addresses, gets four times as many.
    login_max_failures: int = Field(default=5, alias="LOGIN_MAX_FAILURES")
    login_lockout_minutes: int = Field(default=15, alias="LOGIN_LOCKOUT_MINUTES")

    # Storefront (the public PC builder): the shop it sells for; the default tenant when empty
    storefront_shop: str | None = Field(default=None, alias="STOREFRONT_SHOP")

    # Object storage
    storage_backend: str = Field(default="local", alias="STORAGE_BACKEND")  # local | s3
    storage_local_path: Path = Field(default=ROOT / "var" / "storage", alias="STORAGE_LOCAL_PATH")
    s3_endpoint_url: str | None = Field(default=None, alias="S3_ENDPOINT_URL")
    s3_bucket: str = Field(default="shopfloor", alias="S3_BUCKET")
    s3_region: str = Field(default="us-east-1", alias="S3_REGION")
    s3_access_key_id: str | None = Field(default=None, alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str | None = Field(default=None, alias="S3_SECRET_ACCESS_KEY")

    # Keep Reflex page state in Redis (needed for several web backends/hosts).
    reflex_state_in_redis: bool = Field(default=True, alias="REFLEX_STATE_IN_REDIS")

    # Parts catalog: the BuildCores OpenDB files (`python -m app.cli catalog-import`)
    catalog_data_path: Path = Field(default=ROOT.parent / "shared" / "data" / "pc-parts", alias="CATALOG_DATA_PATH")

    # Jobs
    jobs_sync: bool = Field(default=False, alias="JOBS_SYNC")
    # Per-shop fairness: at most this many jobs of one shop in each queue at a time; the
    # rest wait their turn, so one shop's burst never starves another's work.
    shop_job_cap: int = Field(default=2, alias="SHOP_JOB_CAP", ge=1)
    outbox_sweep_seconds: int = Field(default=30, alias="OUTBOX_SWEEP_SECONDS")

    # Integrations may call addresses inside a private network (the local stand-ins of
    # Shopify and SimplyPrint, over plain http). Development and tests only: refused in production.
    outbound_allow_private: bool = Field(default=False, alias="OUTBOUND_ALLOW_PRIVATE")
    # A worker says it is alive this often (also while it runs a job); one silent for three
    # beats is dead: its job is taken back (retried, or failed with the reason).
    worker_heartbeat_seconds: int = Field(default=10, alias="WORKER_HEARTBEAT_SECONDS", ge=1)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_production(self) -> None:
        """Refuse to run in production with development secrets."""
        if not self.is_production:
            return
        if self.outbound_allow_private:
            raise RuntimeError("OUTBOUND_ALLOW_PRIVATE lets integrations call private networks: unset it in production")
        problems = self.production_secret_problems()
        if problems:
            raise RuntimeError("Not starting in production: " + "; ".join(problems))

    def production_secret_problems(self) -> list[str]:
        """Every key, secret and password that still has a development value
        (here, in docker/compose.yaml or README.md) or is too weak to keep
        anything safe. A development key anywhere in a key list counts: a
        rotation list that still holds it still decrypts with it."""
        problems = []
        secret = self.secret_key.strip()
        if secret == _DEV_SECRET or len(secret) < MIN_SECRET_KEY_LENGTH or len(set(secret)) < 10:
            problems.append(f"set SECRET_KEY to a random value of at least {MIN_SECRET_KEY_LENGTH} characters")
        keys = [k.strip() for k in self.integration_encryption_key.split(",") if k.strip()]
        if not keys or _DEV_FERNET in keys:
            problems.append("set INTEGRATION_ENCRYPTION_KEY without the development key")
        elif not all(_is_fernet_key(k) for k in keys):
            problems.append("INTEGRATION_ENCRYPTION_KEY must hold Fernet keys only")
        for name, url in (
            ("DATABASE_URL", self.database_url),
            ("MIGRATIONS_DATABASE_URL", self.migrations_database_url),
        ):
            if (urlsplit(url).password or "") in _DEV_PASSWORDS:
                problems.append(f"{name} uses a development password")
        if self.storage_backend == "s3" and (self.s3_secret_access_key or "") in _DEV_PASSWORDS:
            problems.append("S3_SECRET_ACCESS_KEY is empty or a development value")
        return problems


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.check_production()
    return settings
