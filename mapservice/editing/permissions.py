"""Who may do what. Every write of the editing package calls :func:`require` first, so a
view that forgot to hide a button still cannot change what the role may not."""

from __future__ import annotations

from dataclasses import dataclass

from mapservice.models import User

ACTIONS = (
    "offer.create",
    "offer.edit",
    "offer.end",
    "offer.restore",
    "offer.confirm",
    "site.edit",
    "site.restore",
    "provider.edit",
    "provider.details",
    "provider.restore",
    "proposal.review",
    "proposal.view",
    "history.view",
    "accounts.manage",
)
# What a provider account may do, and only for its own provider.
PROVIDER_ACTIONS = frozenset(
    {
        "offer.create",
        "offer.edit",
        "offer.end",
        "offer.confirm",
        "site.edit",
        "provider.details",
        "proposal.view",
        "history.view",
    }
)
EDITING_ROLES = ("admin", "editor", "provider")


class EditingError(Exception):
    """A change cannot be made; ``str()`` says why."""


class Forbidden(EditingError):
    """The account's role may not do this (or not for this provider)."""


class NotFound(EditingError):
    """The record does not exist."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the account name (its e-mail) and role, or an import run.

    Revisions keep only ``name``: no other personal data of staff."""

    name: str
    role: str
    provider_id: int | None = None
    trusted: bool = False

    @classmethod
    def of(cls, user: User) -> Actor:
        trusted = bool(user.provider is not None and user.provider.trusted)
        return cls(user.email, user.role, user.provider_id, trusted)

    @property
    def reviewed(self) -> bool:
        """Whether this actor's offer changes wait for an editor (a provider not trusted)."""
        return self.role == "provider" and not self.trusted


def can(actor: Actor, action: str, provider_id: int | None = None) -> bool:
    """Whether ``actor`` may do ``action`` (on something of ``provider_id``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if actor.role == "admin":
        return True
    if actor.role == "editor":
        return action != "accounts.manage"
    if actor.role == "provider":
        return (
            action in PROVIDER_ACTIONS
            and actor.provider_id is not None
            and provider_id == actor.provider_id
        )
    return False


def require(actor: Actor, action: str, provider_id: int | None = None) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may do ``action``."""
    if not can(actor, action, provider_id):
        raise Forbidden(f"{actor.role} may not {action.replace('.', ' ')} here")
