"""Which history store the settings name: PostgreSQL when WINDVANE_DATABASE_URL is set (a fleet), else SQLite.

The handle is guarded (store/guarded.py): whatever the location does wrong surfaces as one `StoreError` with a
one-line reason, which commands print as `windvane: history store unavailable: <reason>`.
"""

from __future__ import annotations

from server.settings import Settings
from store.base import CoverageStore, StoreError
from store.guarded import GuardedStore


def open_store(settings: Settings) -> GuardedStore:
    """A new store handle (it connects lazily on first use); the caller closes it."""
    inner: CoverageStore
    if settings.database_url:
        from store.postgres import PostgresStore

        inner = PostgresStore(settings.database_url)
    else:
        from store.sqlite import SqliteStore

        inner = SqliteStore(settings.resolved_db_path())
    return GuardedStore(inner, store_location(settings))


def unavailable(exc: StoreError | str) -> str:
    """The one line a command prints when the history store failed it."""
    return f"windvane: history store unavailable: {exc}"


def store_location(settings: Settings) -> str:
    """Where the history is, safe to print: the SQLite path, or the database's host and name (no password)."""
    if settings.database_url:
        from store.postgres import describe_url

        return describe_url(settings.database_url)
    return str(settings.resolved_db_path())
