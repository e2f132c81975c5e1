"""Finding the provider a provider account is bound to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.models import Provider


def find_provider(session: Session, name_or_id: str) -> Provider | None:
    """A provider by id, by exact name, or by the one name that matches case-insensitively."""
    reference = name_or_id.strip()
    if reference.isdigit():
        found = session.get(Provider, int(reference))
        if found is not None:
            return found
    exact = session.scalar(select(Provider).where(Provider.name == reference))
    if exact is not None:
        return exact
    matches = list(
        session.scalars(select(Provider).where(func.lower(Provider.name) == reference.lower()))
    )
    return matches[0] if len(matches) == 1 else None
