"""Alembic runs as the owner role (MIGRATIONS_DATABASE_URL)."""

from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

from alembic import context
from app import domains
from app.settings import get_settings

domains.load_models()  # every domain's tables on SQLModel.metadata

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().migrations_database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.attributes.get("url") or get_settings().migrations_database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
