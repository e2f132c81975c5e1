"""NRW school holidays, read from ``data/nrw-school-holidays.toml`` (with its source).

For offers marked "not during NRW school holidays": which days they pause, and where the
dates are not known. Only the school years in the file are known; outside them
:meth:`SchoolHolidays.is_holiday` answers None (not known), never "no holiday".
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "nrw-school-holidays.toml"


@dataclass(frozen=True)
class Break:
    """One holiday period; ``first`` and ``last`` are both holidays."""

    name: str
    school_year: str
    first: dt.date
    last: dt.date

    def days(self) -> Iterator[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


@dataclass(frozen=True)
class SchoolHolidays:
    breaks: tuple[Break, ...]
    known_from: dt.date
    known_until: dt.date
    source: str

    def known(self, day: dt.date) -> bool:
        return self.known_from <= day <= self.known_until

    def is_holiday(self, day: dt.date) -> bool | None:
        """Whether ``day`` is a school holiday; None where the dates are not known."""
        if any(item.first <= day <= item.last for item in self.breaks):
            return True
        return False if self.known(day) else None

    def current_or_next(self, today: dt.date) -> Break | None:
        """The break ``today`` falls in, or the next one (None: none known)."""
        return next((item for item in self.breaks if item.last >= today), None)


def _date(value: object, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{HOLIDAYS_FILE.name}: {name} must be a date, got {value!r}")
    return value


def read(path: Path) -> SchoolHolidays:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    breaks = tuple(
        sorted(
            (
                Break(
                    str(entry["name"]),
                    str(entry["school_year"]),
                    _date(entry["first"], "first"),
                    _date(entry["last"], "last"),
                )
                for entry in raw["breaks"]
            ),
            key=lambda item: item.first,
        )
    )
    for item in breaks:
        if item.last < item.first:
            raise ValueError(f"{path.name}: {item.name} {item.school_year} ends before it starts")
    return SchoolHolidays(
        breaks,
        _date(raw["known_from"], "known_from"),
        _date(raw["known_until"], "known_until"),
        str(raw["source"]),
    )


@lru_cache(maxsize=1)
def nrw() -> SchoolHolidays:
    return read(HOLIDAYS_FILE)
