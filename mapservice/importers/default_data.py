"""The bundled data a fresh installation starts with."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.models import Site


def load_default_data_if_empty(session: Session, data_dir: str) -> str | None:
    """Load the bundled data when the database holds no site yet; return a summary."""
    if session.scalar(select(func.count()).select_from(Site)):
        return None
    return load_default_data(session, data_dir)


def load_default_data(session: Session, data_dir: str) -> str:
    """Load everything a fresh installation starts with; return a summary."""
    return "nothing loaded yet"
