"""What admins do besides editing (see :mod:`mapservice.editing` for changes of offers and
sites): the offer overview, imports and exports in the exchange format. Free of Flask."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from mapservice.importers.exchange.export import export_file
from mapservice.importers.exchange.format import format_of
from mapservice.importers.exchange.read import import_file
from mapservice.importers.records import ImportCounts
from mapservice.models import Offer, User
from mapservice.walking.precompute import RefreshSummary, refresh_stale_reach
from mapservice.walking.profiles import WalkSettings

MAX_LISTED = 500


@dataclass(frozen=True)
class OfferListing:
    offers: list[Offer]
    total: int  # matching offers, of which at most MAX_LISTED are listed


def list_offers(
    session: Session, *, status: str = "", category: str = "", source: str = ""
) -> OfferListing:
    """Offers of any status for the admin list, filtered; empty filters do not filter."""
    conditions = []
    if status:
        conditions.append(Offer.status == status)
    if category:
        conditions.append(Offer.category == category)
    if source:
        conditions.append(Offer.source_dataset == source)
    total = session.scalar(select(func.count()).select_from(Offer).where(*conditions)) or 0
    query = (
        select(Offer)
        .where(*conditions)
        .options(joinedload(Offer.site), joinedload(Offer.provider))
        .order_by(Offer.title, Offer.id)
        .limit(MAX_LISTED)
    )
    return OfferListing(list(session.scalars(query)), total)


def offer_sources(session: Session) -> list[str]:
    return list(
        session.scalars(select(Offer.source_dataset).distinct().order_by(Offer.source_dataset))
    )


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


@dataclass(frozen=True)
class ImportResult:
    counts: ImportCounts
    walking: RefreshSummary | None


def import_upload(
    session: Session, filename: str, content: bytes, settings: WalkSettings
) -> ImportResult:
    """Import an uploaded exchange file, then refresh walking times, in the session's
    transaction. Raises :class:`~mapservice.importers.records.ImportFailed` (every bad row)
    or ``ValueError`` (unknown format); the caller rolls back then."""
    kind = format_of(filename)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload.{kind}"
        path.write_bytes(content)
        counts = import_file(session, path, kind)
    return ImportResult(counts, refresh_stale_reach(session, settings))


def export_bytes(session: Session, kind: str) -> bytes:
    """All sites and offers in the exchange format (``geojson`` or ``csv``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{kind}"
        export_file(session, path, kind)
        return path.read_bytes()
