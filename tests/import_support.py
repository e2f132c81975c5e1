"""What an admin would notice of an import besides its counts (imported by
tests/test_import_*.py and tests/test_admin.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapservice.models import Site
from mapservice.walking.precompute import refresh_stale_reach


def data_version(session: Session) -> int:
    """The number the in-memory offer snapshot is keyed by (revision 0007)."""
    return session.execute(text("SELECT n FROM data_version WHERE id = 1")).scalar_one()


def site_stamps(session: Session) -> dict[int, dt.datetime]:
    """``updated_at`` of every site, as stored."""
    return dict(session.execute(select(Site.id, Site.updated_at)).tuples().all())


@contextmanager
def nothing_written(session: Session) -> Iterator[None]:
    """Check that the block leaves the data as it was: the data version stays (the offer
    snapshot is not rebuilt), no site's ``updated_at`` moves, and no walking times need a
    refresh afterwards."""
    assert refresh_stale_reach(session) is None  # up to date to begin with
    version, stamps = data_version(session), site_stamps(session)
    yield
    assert data_version(session) == version
    assert site_stamps(session) == stamps
    assert refresh_stale_reach(session) is None
