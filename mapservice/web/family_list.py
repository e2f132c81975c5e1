"""The family list's entries, rendered from cached parts.

An entry (``templates/_entry.html``) is mostly the offer in the page's language: its title,
description and facts, which change only with the data. Those parts are rendered once per
offer, language and data version (:mod:`mapservice.data_cache`); each request only adds its
own link (the view's parameters) and walking time, whose few wordings are kept per language.
The result is the same markup the template alone would give, at a fraction of the cost
(gettext through Flask-Babel per entry was most of the family page's time).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from flask import current_app, url_for
from markupsafe import Markup, escape

from mapservice.data_cache import VersionedCache
from mapservice.db import get_session
from mapservice.family.search import Listed
from mapservice.i18n import current_language
from mapservice.models import Offer

EntryParts = tuple[Markup, Markup, Markup]

# An entry's parts are 1-2 KB: 16 MB hold every offer of the whole city in all languages.
parts: VersionedCache[EntryParts] = VersionedCache(
    16 * 1024 * 1024, getsizeof=lambda found: sum(len(part) for part in found)
)
# The walking line's wordings: language x minutes x profile x estimated; not data.
_walks: LRUCache[tuple[Any, ...], Markup] = LRUCache(4096)
_walks_lock = threading.Lock()


def clear_walks() -> None:
    """Forget the walking lines' wordings (for benchmarks measuring without caches)."""
    with _walks_lock:
        _walks.clear()


def _macros() -> Any:
    return current_app.jinja_env.get_template("_entry.html").module


@dataclass(frozen=True)
class _Walk:
    """What ``entry_walk`` reads of an item."""

    minutes: int | None
    estimated: bool
    comes_home: bool


class ListEntries:
    """Renders the entries of one list (one request): ``entries(item, "h3", profile_label)``
    in a template."""

    def __init__(self, link_args: Mapping[str, str], located: bool, version: int | None) -> None:
        self.link_args: dict[str, Any] = dict(link_args)
        self.located = located
        self.version = version
        self.lang = current_language()
        self._link: tuple[str, str] | None = None

    def _href(self, offer_id: int) -> Markup:
        # url_for once per list: every entry's link differs only in the offer's id.
        if self._link is None:
            url = url_for("public.offer_page", offer_id=offer_id, **self.link_args)
            path, mark, query = url.partition("?")
            self._link = (path[: -len(str(offer_id))], mark + query)
        prefix, query = self._link
        return escape(f"{prefix}{offer_id}{query}")

    def _parts(self, offer: Offer, heading: str) -> EntryParts:
        def render() -> EntryParts:
            macros = _macros()
            return (
                macros.entry_start(offer, heading),
                macros.entry_title(offer, heading, self.lang),
                macros.entry_end(offer, self.located, self.lang),
            )

        if self.version is None:
            return render()
        key = ("entry", offer.id, self.lang, heading, self.located)
        return parts.get(get_session(), key, render, version=self.version)

    def _walk(self, item: Listed, profile_label: str) -> Markup:
        minutes = None
        if item.minutes is not None:
            minutes = max(1, int(-(-item.minutes // 1)))  # the template's round(0, "ceil")
        walk = _Walk(minutes, item.estimated, item.comes_home)
        key = (self.lang, walk, self.located, profile_label)
        with _walks_lock:
            found = _walks.get(key)
        if found is None:
            found = _macros().entry_walk(walk, self.located, profile_label)
            with _walks_lock:
                _walks[key] = found
        return found

    def __call__(self, item: Listed, heading: str, profile_label: str) -> Markup:
        start, title, end = self._parts(item.offer, heading)
        href = self._href(item.offer.id)
        walk = self._walk(item, profile_label)
        return Markup("".join((start, href, title, walk, end)))  # noqa: S704 - all escaped
