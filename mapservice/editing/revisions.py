"""Revisions: who changed which fields of an offer, site or provider, from what to what.

A revision keeps only the fields that changed (``{field: [old, new]}``). The state after
an earlier revision is the current state with every later revision undone, newest first;
a restore writes that state back as a revision of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mapservice.editing.states import State, diff, offer_state, provider_state, site_state
from mapservice.models import Revision


def import_author(label: str) -> str:
    """The author of an import run's revisions."""
    return f"import:{label}"


@dataclass(frozen=True)
class Change:
    """A revision to be written."""

    entity: str
    entity_id: int
    action: str
    changes: dict[str, list[Any]]


def record(
    session: Session,
    entity: str,
    entity_id: int,
    author: str,
    changes: dict[str, list[Any]],
    action: str = "update",
) -> Revision | None:
    """Write one revision; None (nothing written) when nothing changed."""
    if not changes and action == "update":
        return None
    revision = Revision(
        entity=entity, entity_id=entity_id, action=action, author=author, changes=changes
    )
    session.add(revision)
    session.flush()
    return revision


def record_many(session: Session, author: str, changes: Iterable[Change]) -> int:
    """Write many revisions in one INSERT (imports); how many."""
    rows = [
        {
            "entity": change.entity,
            "entity_id": change.entity_id,
            "action": change.action,
            "author": author,
            "changes": change.changes,
        }
        for change in changes
        if change.changes or change.action != "update"
    ]
    if rows:
        session.execute(insert(Revision), rows)
    return len(rows)


def latest_id(session: Session) -> int | None:
    """The newest revision of any record (revision ids only grow): a version mark."""
    return session.scalar(select(func.max(Revision.id)))


def since(session: Session, entity: str, entity_id: int, after: int | None) -> list[Revision]:
    """Revisions of one record written after revision ``after`` (all when None), oldest first."""
    query = select(Revision).where(Revision.entity == entity, Revision.entity_id == entity_id)
    if after is not None:
        query = query.where(Revision.id > after)
    return list(session.scalars(query.order_by(Revision.id)))


def history(session: Session, entity: str, entity_id: int) -> list[Revision]:
    """Revisions of one record, newest first."""
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.entity == entity, Revision.entity_id == entity_id)
            .order_by(Revision.id.desc())
        )
    )


def state_after(current: State, revisions: Sequence[Revision], revision_id: int) -> State:
    """The record as it was right after revision ``revision_id``.

    ``revisions`` are the record's revisions newest first (as :func:`history` returns
    them); raises ``LookupError`` when ``revision_id`` is not among them.
    """
    if not any(revision.id == revision_id for revision in revisions):
        raise LookupError(f"revision {revision_id} is not one of this record's")
    state = dict(current)
    for revision in revisions:
        if revision.id == revision_id:
            break
        for field, (old, _new) in revision.changes.items():
            if field in state:
                state[field] = old
    return state


class ChangeTracker:
    """Collects the revisions of a bulk write (an import): :meth:`watch` each row before
    values are assigned, then, after the flush, :meth:`write` the revisions in one INSERT."""

    def __init__(self) -> None:
        self._watched: list[tuple[str, Any, State | None]] = []
        self._seen: set[int] = set()
        self._deleted: list[Change] = []

    def watch(self, entity: str, row: Any, *, created: bool) -> None:
        if id(row) in self._seen:  # the state before the first assignment is the one kept
            return
        self._seen.add(id(row))
        self._watched.append((entity, row, None if created else _state_of(entity, row)))

    def deleted(self, entity: str, ids: Iterable[int]) -> None:
        self._deleted.extend(Change(entity, entity_id, "delete", {}) for entity_id in ids)

    def changes(self) -> list[Change]:
        found = []
        for entity, row, before in self._watched:
            after = _state_of(entity, row)
            if before is None:
                created = {key: [None, value] for key, value in after.items() if value is not None}
                found.append(Change(entity, row.id, "create", created))
            else:
                changed = diff(before, after)
                if changed:
                    found.append(Change(entity, row.id, "update", changed))
        return found + self._deleted

    def write(self, session: Session, author: str) -> int:
        return record_many(session, author, self.changes())


def _state_of(entity: str, row: Any) -> State:
    if entity == "offer":
        return offer_state(row)
    if entity == "site":
        return site_state(row)
    return provider_state(row)
