"""All runtime configuration, read from the environment (and an optional `.env`).

Every variable is documented in README.md; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Development-only defaults. `Settings.check_production()` refuses to start in
# production while any of these is still in use.
_DEV_SECRET = "dev-only-secret-key-change-me-0123456789abcdef"
_DEV_FERNET = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE="


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
        bad = [
            name
            for name, value, dev in (
                ("SECRET_KEY", self.secret_key, _DEV_SECRET),
                ("INTEGRATION_ENCRYPTION_KEY", self.integration_encryption_key, _DEV_FERNET),
            )
            if value == dev
        ]
        if bad:
            raise RuntimeError(f"Set {', '.join(bad)} before running in production")


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.check_production()
    return settings
