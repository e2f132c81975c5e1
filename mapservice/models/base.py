"""The one declarative base every model shares (one metadata, one Alembic target), the
spatial reference systems, and the helper that spells a column's allowed values as a check.

Geometries are stored in WGS84 (EPSG:4326) where they meet the web, and in
ETRS89 / UTM 32N (EPSG:25832, the official CRS of NRW) where metres matter
(the walking network and the planners' grid).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

METRIC_SRID = 25832
WGS84 = 4326


def in_values(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a check constraint: ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSONB}
