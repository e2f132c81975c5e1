"""Paging of long answers: ``limit``/``offset`` parameters and OGC API-style links. Free of Flask.

``GET /api/offers`` answers at most ``limit`` features (default :data:`DEFAULT_LIMIT`, at most
:data:`MAX_LIMIT`) starting at ``offset`` (default 0), and says ``numberMatched`` (all that
fit the filter), ``numberReturned`` and ``links`` with ``rel`` ``self``, ``next`` (while more
follow) and ``prev`` (unless at the start), as OGC API - Features does. An offset past the
end answers an empty page, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mapservice.validation import parse_int

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def window(self, items: list[Any]) -> list[Any]:
        return items[self.offset : self.offset + self.limit]


def parse_page(
    args: Mapping[str, str], *, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> Page:
    """``limit`` (1…``max_limit``) and ``offset`` (0…1,000,000); raises ``ParameterError``."""
    limit = parse_int(args, "limit", low=1, high=max_limit)
    offset = parse_int(args, "offset", low=0, high=MAX_OFFSET)
    return Page(default_limit if limit is None else limit, offset or 0)


def page_members(
    page: Page,
    matched: int,
    returned: int,
    url_for_page: Callable[[int, int], str],
    media_type: str,
) -> dict[str, Any]:
    """``numberMatched``, ``numberReturned`` and ``links`` for a FeatureCollection.
    ``url_for_page(limit, offset)`` gives the address of another page of the same answer."""

    def link(rel: str, offset: int, title: str) -> dict[str, str]:
        href = url_for_page(page.limit, offset)
        return {"href": href, "rel": rel, "type": media_type, "title": title}

    links = [link("self", page.offset, "this page")]
    if page.offset + page.limit < matched:
        links.append(link("next", page.offset + page.limit, "next page"))
    if page.offset > 0:
        links.append(link("prev", max(0, page.offset - page.limit), "previous page"))
    return {"numberMatched": matched, "numberReturned": returned, "links": links}
