"""The life-phase taxonomy, read from ``data/taxonomy.toml``.

Besides labels and default age ranges, a category may state *facts* that hold for every
offer of the category in NRW (a day-care place needs registration), each with its source;
importers apply them where a source says nothing (see the file's header).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "data" / "taxonomy.toml"
MAX_AGE_MONTHS = 216  # 18 years: the end of childhood in German youth welfare law
# The offer fields a category fact may set (three-valued booleans on Offer).
FACT_FIELDS = ("cost_free", "registration_required")


@dataclass(frozen=True)
class CategoryFact:
    """A general rule for every offer of a category in NRW, with where it comes from.

    ``kinds``: if given, the rule holds only for records the source itself classifies as
    one of these (the city's open data ``objektart``), e.g. public playgrounds but not water
    playgrounds inside parks with admission.
    """

    field: str
    value: bool
    source: str
    kinds: tuple[str, ...] | None = None

    def applies_to(self, kind: str | None) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True)
class Category:
    key: str
    label_de: str
    label_en: str
    min_months: int
    max_months: int
    ages_source: str = ""
    facts: Mapping[str, CategoryFact] = field(default_factory=dict)

    def fact(self, name: str, kind: str | None = None) -> CategoryFact | None:
        """The rule for field ``name`` that holds for a record of ``kind``, if any."""
        found = self.facts.get(name)
        return found if found is not None and found.applies_to(kind) else None


@dataclass(frozen=True)
class Phase:
    key: str
    label_de: str
    label_en: str
    min_months: int
    max_months: int


@cache
def _load() -> dict[str, Any]:
    with TAXONOMY_FILE.open("rb") as handle:
        return tomllib.load(handle)


def _fact(category: str, name: str, entry: Any) -> CategoryFact:
    where = f"{TAXONOMY_FILE.name}: categories.{category}.facts.{name}"
    if name not in FACT_FIELDS:
        raise ValueError(f"{where}: unknown fact; known: {', '.join(FACT_FIELDS)}")
    if not isinstance(entry, Mapping) or set(entry) - {"value", "source", "kinds"}:
        raise ValueError(f"{where}: a fact has value, source and optionally kinds")
    value, source, kinds = entry.get("value"), entry.get("source"), entry.get("kinds")
    if not isinstance(value, bool):
        raise ValueError(f"{where}: value must be true or false")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{where}: every fact needs its source")
    if kinds is not None and (
        not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds)
    ):
        raise ValueError(f"{where}: kinds must be a list of names")
    return CategoryFact(name, value, source.strip(), tuple(kinds) if kinds else None)


def _category(key: str, value: Mapping[str, Any]) -> Category:
    fields = dict(value)
    facts = fields.pop("facts", {})
    return Category(
        key=key,
        **fields,
        facts={name: _fact(key, name, entry) for name, entry in facts.items()},
    )


@cache
def categories() -> dict[str, Category]:
    """All offer categories by key, in the taxonomy's order."""
    return {key: _category(key, value) for key, value in _load()["categories"].items()}


@cache
def phases() -> dict[str, Phase]:
    """The life phases by key."""
    return {key: Phase(key=key, **value) for key, value in _load()["phases"].items()}


CATEGORY_KEYS: tuple[str, ...] = tuple(categories())
