"""Logins and roles (planner, outreach worker, admin, editor, provider).

* Flask-Login keeps the session; passwords are hashed with werkzeug (scrypt).
* Flask-WTF's CSRFProtect guards every POST/PUT/PATCH/DELETE of the whole app (nothing is
  exempted); forms carry the token, JSON clients send it in the ``X-CSRFToken`` header
  (the planner page puts it in ``<meta name="csrf-token">``).
* ``limits`` (in-memory, one per app) limits login attempts per client address:
  ``LOGIN_RATE_LIMIT`` (default ``5 per minute``). Flask-Limiter would inspect every
  request of the app in its hooks (~0.1 ms each) for the one view that is limited.
* :func:`require_roles` answers 401 JSON (API) or a redirect to the login page (pages) to
  anonymous visitors, and 403 to a signed-in user without the role.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from mapservice.db import get_session
from mapservice.editing.tokens import user_for_token
from mapservice.models import USER_ROLES, Provider, User

PLANNING_ROLES = ("planner", "admin")
MIN_PASSWORD_LENGTH = 10
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked when the e-mail is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")

login_manager = LoginManager()
csrf = CSRFProtect()
bp = Blueprint("auth", __name__)


class AccountError(ValueError):
    """An account cannot be created as asked."""


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def create_user(
    session: Session, email: str, password: str, role: str, provider: Provider | None = None
) -> User:
    """A new account; the e-mail is stored lower-case. A ``provider`` account is bound to
    one provider (and only a provider account is)."""
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise AccountError("not an e-mail address")
    if role not in USER_ROLES:
        raise AccountError(f"role must be one of {', '.join(USER_ROLES)}")
    if (role == "provider") != (provider is not None):
        raise AccountError("a provider account needs its provider (and only it has one)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise AccountError("an account with this e-mail exists already")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        active=True,
        provider_id=provider.id if provider is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same work either way)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SessionOnlyWithCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signing machinery for requests
    that carry no session cookie (every family and API request): ~0.07 ms each."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _count_login_attempt() -> None:
    """Count a login attempt from this client; raise 429 when it is one too many."""
    counter: MovingWindowRateLimiter = current_app.extensions["mapservice.login_limiter"]
    limit = parse_limit(current_app.config["LOGIN_RATE_LIMIT"])
    client = request.remote_addr or "unknown"
    if not counter.hit(limit, "login", client):
        reset_at = counter.get_window_stats(limit, "login", client).reset_time
        retry_after = max(1, int(reset_at - time.time()) + 1)
        raise TooManyRequests(
            f"Too many login attempts ({limit}). Try again in {retry_after} s.",
            retry_after=retry_after,
        )


def _safe_next(target: str | None, role: str = "planner") -> str:
    """Only paths on this site (no scheme, no ``//host``) are followed after login; without
    one, each role lands on its own start page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    if role in ("editor", "provider"):
        return url_for("editing.index")
    return url_for("planners.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    form = LoginForm()
    if request.method == "POST":
        _count_login_attempt()
        if form.validate_on_submit():
            user = authenticate(get_session(), form.email.data or "", form.password.data or "")
            if user is not None:
                login_user(user)
                return redirect(_safe_next(request.args.get("next"), user.role))
        flash("E-Mail oder Passwort ist falsch.", "error")
        return render_template("planners/login.html", form=form), 401
    return render_template("planners/login.html", form=form)


@bp.post("/logout")
def logout() -> BaseResponse:
    logout_user()
    return redirect(url_for("auth.login"))


def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    return user if user is not None and user.active else None


def _wants_json() -> bool:
    return "/api/" in request.path or request.accept_mimetypes.best == "application/json"


def _unauthorized() -> BaseResponse | tuple[Response, int]:
    if _wants_json():
        return jsonify({"error": "login required"}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def check_roles(roles: tuple[str, ...]) -> BaseResponse | tuple[Response, int] | None:
    """None when the current user has one of ``roles``, else the answer to give instead."""
    if not current_user.is_authenticated:
        return _unauthorized()
    if current_user.role not in roles:
        if _wants_json():
            return jsonify({"error": "forbidden", "message": "your role may not use this"}), 403
        return Response("Your role may not use this page.", status=403, mimetype="text/plain")
    return None


def require_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`check_roles`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = check_roles(roles)
            return refused if refused is not None else view(*args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def _load_user_from_token(request: Request) -> User | None:
    """A reading client (QGIS on the planners' OGC API collections, a script) may send an
    account's API token (``Authorization: Bearer``, see ``mapservice create-token``) instead
    of logging in. Only for reading: forms keep their session and CSRF token, and the write
    API checks its token itself."""
    if request.method not in ("GET", "HEAD"):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(get_session(), token.strip())


def init_app(app: Flask) -> None:
    """Set up login handling, CSRF protection and rate limits."""
    app.config.setdefault("LOGIN_RATE_LIMIT", "5 per minute")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.session_interface = SessionOnlyWithCookie()
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_token)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    # One limiter per app: in-memory counters are not shared between app instances.
    app.extensions["mapservice.login_limiter"] = MovingWindowRateLimiter(MemoryStorage())
    app.register_blueprint(bp, url_prefix="/auth")
