"""A provider's own details (Träger: name, kind, contact, website): checked, then saved by an
editor or a trusted provider, or proposed by a provider account that is not trusted.

Whether a provider is trusted is the editors' decision, never the provider's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.editing import revisions
from mapservice.editing.permissions import Actor, Forbidden, require
from mapservice.editing.states import diff, provider_etag, provider_state
from mapservice.importers import records
from mapservice.importers.records import RowInvalid
from mapservice.models import PROVIDER_KINDS, Proposal, Provider

# What a provider account may change of its own provider (``trusted`` is the editors').
DETAIL_FIELDS = ("name", "kind", "contact", "website")
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)


def _website(value: Any) -> str | None:
    text = records.text(value, "website", max_length=500)
    if text is None:
        return None
    if "://" not in text:
        text = "https://" + text
    if not _WEBSITE.match(text):
        raise RowInvalid(f"website {value!r} is not a web address like https://example.org")
    return text


PARSERS = {
    "name": lambda v: records.required_text(v, "name", max_length=300),
    "kind": lambda v: records.choice(v, "kind", PROVIDER_KINDS),
    "contact": lambda v: records.text(v, "contact", max_length=2000),
    "website": _website,
    "trusted": lambda v: records.boolean(v, "trusted"),
}


@dataclass(frozen=True)
class ProviderOutcome:
    """What a save did: changed the live ``provider``, or filed a ``proposal``."""

    provider: Provider
    proposal: Proposal | None = None

    @property
    def live(self) -> bool:
        return self.proposal is None


def check_provider(
    session: Session, data: Mapping[str, Any], provider: Provider
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of ``data`` that differ from ``provider``, and an error per bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in data.items():
        parser = PARSERS.get(name)
        if parser is None:
            errors[name] = f"unknown field {name!r}"
            continue
        try:
            values[name] = parser(raw)
        except RowInvalid as exc:
            errors[name] = str(exc)
    if "name" in values and values["name"] != provider.name:
        taken = session.scalar(
            select(Provider.id).where(
                func.lower(Provider.name) == func.lower(values["name"]), Provider.id != provider.id
            )
        )
        if taken is not None:
            errors["name"] = f"another provider is called {values['name']!r}"
    current = provider_state(provider)
    return {key: value for key, value in values.items() if current.get(key) != value}, errors


def apply_provider_values(
    session: Session, provider: Provider, values: Mapping[str, Any], author: str, action: str
) -> Provider:
    before = provider_state(provider)
    for name, value in values.items():
        setattr(provider, name, value)
    session.flush()
    revisions.record(
        session, "provider", provider.id, author, diff(before, provider_state(provider)), action
    )
    return provider


def save_provider_details(
    session: Session, actor: Actor, provider: Provider, data: Mapping[str, Any]
) -> ProviderOutcome:
    """Change a provider's details from form or API ``data``.

    Editors change any provider (and ``trusted``); a provider account only its own, as a
    proposal unless it is trusted. Raises ``Forbidden`` or ``InvalidInput`` (nothing written).
    """
    from mapservice.editing.service import InvalidInput  # the one error type of all saves

    if actor.role == "provider":
        require(actor, "provider.details", provider.id)
        if "trusted" in data:
            raise Forbidden("only the coordinators decide whether a provider is trusted")
    else:
        require(actor, "provider.edit")
    values, errors = check_provider(session, data, provider)
    if errors:
        raise InvalidInput(errors)
    if not values:
        return ProviderOutcome(provider)
    if actor.reviewed:
        proposal = Proposal(
            entity="provider",
            offer_id=None,
            provider_id=provider.id,
            author=actor.name,
            data=values,
            base_etag=provider_etag(provider),
            base_revision_id=revisions.latest_id(session),
            status="pending",
        )
        session.add(proposal)
        session.flush()
        return ProviderOutcome(provider, proposal)
    return ProviderOutcome(apply_provider_values(session, provider, values, actor.name, "update"))
