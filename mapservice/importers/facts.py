"""The taxonomy's general rules ("a day-care place needs registration") applied to offers.

A source that says nothing about cost or registration leaves the field None (not known).
Where the category has a rule that holds for every such offer in NRW
(``data/taxonomy.toml``, each with its source), the rule fills the gap and the offer
records that the value is the taxonomy's (``taxonomy_facts``), so that pages and exports
can tell a general rule from what the provider said. A value the source states always wins.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from mapservice.importers.fields import RowInvalid
from mapservice.importers.records import OfferRecord
from mapservice.taxonomy import FACT_FIELDS, categories


def parse_taxonomy_facts(value: Any) -> frozenset[str]:
    """Field names from a list or a ``cost_free;registration_required`` string."""
    if value is None or value == "":
        return frozenset()
    if isinstance(value, str):
        items: list[Any] = [item for item in re.split(r"[;,\s]+", value.strip()) if item]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise RowInvalid(f"taxonomy_facts must be a list of field names, got {value!r}")
    unknown = [item for item in items if item not in FACT_FIELDS]
    if unknown:
        raise RowInvalid(
            f"taxonomy_facts names unknown field(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(FACT_FIELDS)}"
        )
    return frozenset(items)


def check_stated_facts(record: OfferRecord) -> OfferRecord:
    """An exchange file that marks fields as the taxonomy's (our own export does): the
    category must have that rule, and the value must be the rule's (empty takes it)."""
    if not record.taxonomy_facts:
        return record
    category = categories()[record.category]
    values: dict[str, bool] = {}
    for name in sorted(record.taxonomy_facts):
        rule = category.facts.get(name)
        if rule is None:
            raise RowInvalid(
                f"{name} is marked as a taxonomy fact, but the taxonomy has no rule "
                f"for {name} in category {record.category!r}"
            )
        given = getattr(record, name)
        if given is not None and given != rule.value:
            raise RowInvalid(
                f"{name} is marked as a taxonomy fact, but the taxonomy says "
                f"{str(rule.value).lower()} for category {record.category!r}, "
                f"not {str(given).lower()}"
            )
        values[name] = rule.value
    return replace(record, **values)  # type: ignore[arg-type]


def with_category_facts(record: OfferRecord) -> OfferRecord:
    """``record`` with every field its source left unknown filled from the category's
    rules that hold for it, and those fields listed in ``taxonomy_facts``."""
    category = categories()[record.category]
    values: dict[str, bool] = {}
    for name in FACT_FIELDS:
        if getattr(record, name) is not None:
            continue
        rule = category.fact(name, record.source_kind)
        if rule is not None:
            values[name] = rule.value
    if not values:
        return record
    return replace(
        record,
        taxonomy_facts=record.taxonomy_facts | frozenset(values),
        **values,  # type: ignore[arg-type]
    )
