"""Alembic environment: async engine from the app's settings, or a connection handed in."""

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import taskflow.models  # noqa: F401  (registers every table on SQLModel.metadata)
from taskflow.config import get_settings
from taskflow.database import create_engine
from taskflow.schema_drift import PLUGIN_NAME as CHECK_VALUES_PLUGIN

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata

# Added by hand in migrations and guarded by dialect; the models cannot express them
# portably, so autogenerate must not propose to drop them.
POSTGRES_ONLY_INDEXES = frozenset(
    {"ix_tasks_title_trgm", "ix_tasks_description_trgm", "ix_tags_project_id_lower_name"}
)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    return not (type_ == "index" and reflected and name in POSTGRES_ONLY_INDEXES)


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
        # Named CHECK constraints are compared (added, removed, and the values they allow),
        # so a new enum value without a migration is drift.
        autogenerate_plugins=[
            "alembic.autogenerate.*",
            "alembic.ext.checkconstraint_byname",
            CHECK_VALUES_PLUGIN,
        ],
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Render SQL instead of running it (`alembic upgrade A:B --sql`)."""
    url = get_settings().database_url
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    # A batch migration copies and drops tables; with foreign keys on, SQLite would
    # cascade that drop into the child tables. The pragma only works outside a
    # transaction, so it goes straight to the driver, before BEGIN and after COMMIT.
    toggle_foreign_keys = is_sqlite and not connection.in_transaction()
    if toggle_foreign_keys:
        _sqlite_pragma(connection, "foreign_keys=OFF")
    # taskflow.database gives SQLite a real BEGIN, which makes its DDL transactional too.
    _configure(connection=connection, render_as_batch=is_sqlite, transactional_ddl=True)
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if toggle_foreign_keys:
            if connection.in_transaction():
                connection.commit()
            _sqlite_pragma(connection, "foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


async def run_migrations_online() -> None:
    settings = get_settings().model_copy(update={"database_null_pool": True})
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (handed_in := config.attributes.get("connection")) is not None:
    run_migrations(handed_in)
else:
    asyncio.run(run_migrations_online())
