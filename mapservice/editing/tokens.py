"""Per-account API tokens: shown once when made, stored only as a SHA-256 digest.

Tokens are 256-bit random strings, so a fast digest is enough (no password hashing needed:
there is nothing to guess from a dictionary) and lookups stay one indexed query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mapservice.models import ApiToken, User

PREFIX = "ms_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User) -> str:
    """A new token for ``user``; the only time it is readable."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active account holding this token, unless it was revoked."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = session.scalar(
        select(ApiToken).where(ApiToken.digest == _digest(token), ApiToken.revoked_at.is_(None))
    )
    if found is None or not found.user.active:
        return None
    return found.user


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every token of ``user``; how many were valid."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)
