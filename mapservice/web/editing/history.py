"""A record's history page and the restore of one of its revisions, the same for offers,
sites and providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from mapservice.db import get_session
from mapservice.editing import revisions
from mapservice.editing.permissions import EditingError, Forbidden, NotFound
from mapservice.web.editing import actor

T = TypeVar("T")


def history_page(entity: str, record_id: int, heading: str, id_arg: str, back_label: str) -> str:
    """The revisions of ``entity`` ``record_id``, newest first, with a restore button for
    editors; the record's edit page is ``editing.<entity>_edit`` and its restore view
    ``editing.<entity>_restore``, both taking the id as ``id_arg``."""
    args: dict[str, Any] = {id_arg: record_id}
    return render_template(
        "editing/history.html",
        heading=heading,
        back_url=url_for(f"editing.{entity}_edit", **args),
        back_label=back_label,
        history=revisions.history(get_session(), entity, record_id),
        restore_endpoint=f"editing.{entity}_restore",
        restore_args=args,
        can_restore=actor().role in ("admin", "editor"),
    )


def restore_and_report(
    restore: Callable[[], T], history_url: str, done: Callable[[T], str]
) -> BaseResponse:
    """Run ``restore`` and commit, flashing ``done(record)``; a refusal (the revision does
    not fit the record) is rolled back and flashed. Back to the history either way;
    403/404 stay the blueprint's."""
    session = get_session()
    try:
        record = restore()
    except (Forbidden, NotFound):
        raise  # 403 / 404 by the blueprint's handlers
    except EditingError as error:
        session.rollback()
        flash(f"Nicht wiederhergestellt: {error}", "error")
        return redirect(history_url)
    session.commit()
    flash(done(record), "ok")
    return redirect(history_url)
