"""Caches of what only changes with the data, keyed by the database's data version.

The data version (migration 0007, extended to areas by 0008) is a number drawn from a
sequence whenever offers, sites, providers, schedules or areas change, and never reused.
A request reads it first and then builds what it misses, so an entry holds data at least
as new as its key: after a change, the next request reads the new number and misses. Every
cache is a bounded LRU (count or bytes): old versions fall out as new ones come in.
Free of Flask; one set of caches per process (each gunicorn worker has its own).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

# The data version: one number the database bumps on every change of the data that answers
# depend on (see migration 0007). Every reader reads it with this statement.
DATA_VERSION_SQL = "SELECT n FROM data_version WHERE id = 1"
VERSION_SQL = text(DATA_VERSION_SQL)
T = TypeVar("T")


def data_version(session: Session) -> int:
    """The data version the session sees now."""
    return int(session.execute(VERSION_SQL).scalar_one())


# Engine -> its URL as text: rendering the URL costs ~13 µs, and a page asks for a key per
# list entry.
_database_keys: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_key(session: Session) -> str:
    """Which database a session talks to (an app may use several in tests and benchmarks)."""
    engine = session.get_bind().engine
    key = _database_keys.get(engine)
    if key is None:
        key = engine.url.render_as_string(hide_password=True)
        _database_keys[engine] = key
    return key


class VersionedCache(Generic[T]):
    """A bounded LRU of values built from the data, keyed by (database, data version, key).

    ``maxsize`` counts entries, or bytes when ``getsizeof`` is given (then a value larger
    than the whole cache is built and returned but not kept).
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[T], int] | None = None) -> None:
        self._entries: LRUCache[Hashable, T] = LRUCache(maxsize, getsizeof=getsizeof)
        self._getsizeof = getsizeof
        self._lock = threading.Lock()
        self.builds = 0  # how many times a value was built (for tests and benchmarks)

    def get(
        self, session: Session, key: Hashable, build: Callable[[], T], *, version: int | None = None
    ) -> T:
        if version is None:
            version = data_version(session)
        full_key = (database_key(session), version, key)
        with self._lock:
            found = self._entries.get(full_key)
        if found is not None:
            return found
        value = build()
        self.builds += 1
        if self._getsizeof is None or self._getsizeof(value) <= self._entries.maxsize:
            with self._lock:
                self._entries[full_key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def currsize(self) -> Any:
        return self._entries.currsize
