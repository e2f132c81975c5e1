"""Offline address search for the family map and the outreach planner. Free of Flask.

Nothing leaves the server: a typed street, house number or place name is matched against
what the database already holds (:mod:`mapservice.geocode.matching`): the streets of the
imported walking networks (the street index, :mod:`mapservice.walking.streets`), house
addresses from OpenStreetMap extracts (:mod:`mapservice.geocode.addresses`) and from the
sites, the sites by name, and the quarter and sub-districts by name.

Matching uses pg_trgm and the Levenshtein distance on text folded by the SQL function
``mapservice_fold`` (revision 0006): lower case, ß -> ss, umlauts and accents dropped,
"ae"/"oe"/"ue" folded like the umlauts, "str." spelled out. So "Brunenstrasse 12",
"Münsterstr" and "Munsterstraße" all find their street, and a family that types without
German letters is not lost. Only a certain match is taken as the answer; anything else is
offered as a choice ("did you mean …?"), nearest to the quarter first.
"""

from mapservice.geocode.addresses import (
    OSM_DATASET_PREFIX,
    import_address_points,
    load_address_points,
)
from mapservice.geocode.matching import (
    MAX_QUERY_LENGTH,
    MIN_QUERY_LENGTH,
    Lookup,
    Place,
    TypedAddress,
    allowed_edits,
    lookup,
    search,
    split_query,
)

__all__ = [
    "MAX_QUERY_LENGTH",
    "MIN_QUERY_LENGTH",
    "OSM_DATASET_PREFIX",
    "Lookup",
    "Place",
    "TypedAddress",
    "allowed_edits",
    "import_address_points",
    "load_address_points",
    "lookup",
    "search",
    "split_query",
]
