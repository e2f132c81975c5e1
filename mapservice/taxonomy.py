"""The life-phase taxonomy, read from ``data/taxonomy.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "data" / "taxonomy.toml"
MAX_AGE_MONTHS = 216  # 18 years: the end of childhood in German youth welfare law


@dataclass(frozen=True)
class Category:
    key: str
    label_de: str
    label_en: str
    min_months: int
    max_months: int


@dataclass(frozen=True)
class Phase:
    key: str
    label_de: str
    label_en: str
    min_months: int
    max_months: int


@cache
def _load() -> dict:
    with TAXONOMY_FILE.open("rb") as handle:
        return tomllib.load(handle)


@cache
def categories() -> dict[str, Category]:
    """All offer categories by key, in the taxonomy's order."""
    return {key: Category(key=key, **value) for key, value in _load()["categories"].items()}


@cache
def phases() -> dict[str, Phase]:
    """The life phases by key."""
    return {key: Phase(key=key, **value) for key, value in _load()["phases"].items()}


CATEGORY_KEYS: tuple[str, ...] = tuple(categories())
