"""URL converters, registered app-wide before any route is added.

``<int:...>`` is bounded to PostgreSQL's ``integer`` (every id column is one): a larger
number, like ``/offer/99999999999999999999``, does not match the route and answers 404
instead of reaching the database.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, ValidationError

from mapservice.validation import DATABASE_ID_MAX as PG_INTEGER_MAX

_MAX_DIGITS = len(str(PG_INTEGER_MAX))


class DatabaseIdConverter(IntegerConverter):
    """Werkzeug's ``int`` (digits only, no sign), at most :data:`PG_INTEGER_MAX`.

    Longer digit strings do not even match the rule's pattern. (A number of ten digits
    above the bound that matches another method's rule answers 405, as Werkzeug checks
    the method before converting.)
    """

    regex = rf"\d{{1,{_MAX_DIGITS}}}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.max = PG_INTEGER_MAX if self.max is None else min(self.max, PG_INTEGER_MAX)

    def to_python(self, value: str) -> Any:
        if len(value) > _MAX_DIGITS:  # with fixed_digits or a wider pattern in a subclass
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Must run before the blueprints are registered (rules bind their converters then)."""
    app.url_map.converters["int"] = DatabaseIdConverter
