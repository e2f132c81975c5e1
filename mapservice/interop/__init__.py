"""Open interfaces: OGC API – Features, HSDS 3.0 (Open Referral) and the OpenAPI description.

Framework-free cores modelled on pygeoapi's ``pygeoapi/api``: each takes parsed request data
(arguments, the absolute base URL, the caller's role) and returns an :class:`ApiAnswer`
(status, headers, content); thin Flask blueprints in ``mapservice/web/`` adapt them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiAnswer:
    """What an interface answers: status, headers and content (JSON-able data).

    ``template`` names the HTML template for the same content where the caller asked for
    HTML; the web adapter renders it.
    """

    status: int
    content: Any
    headers: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    # Further values for the HTML template only (not part of the JSON content).
    context: dict[str, Any] = field(default_factory=dict)
