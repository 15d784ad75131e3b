"""Which history store the settings name: PostgreSQL when WINDVANE_DATABASE_URL is set (a fleet), else SQLite."""

from __future__ import annotations

from server.settings import Settings
from store.base import CoverageStore


def open_store(settings: Settings) -> CoverageStore:
    """A new store handle (it connects lazily on first use); the caller closes it."""
    if settings.database_url:
        from store.postgres import PostgresStore

        return PostgresStore(settings.database_url)
    from store.sqlite import SqliteStore

    return SqliteStore(settings.resolved_db_path())


def store_location(settings: Settings) -> str:
    """Where the history is, safe to print: the SQLite path, or the database's host and name (no password)."""
    if settings.database_url:
        from store.postgres import describe_url

        return describe_url(settings.database_url)
    return str(settings.resolved_db_path())
