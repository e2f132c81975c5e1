"""The data model: typed SQLAlchemy 2 models on one declarative :class:`Base` (one metadata,
the target of the Alembic migrations), split by responsibility:

- :mod:`.base`: ``Base``, the SRIDs ``WGS84`` (where geometries meet the web) and
  ``METRIC_SRID`` (EPSG:25832, where metres matter);
- :mod:`.offers`: providers, sites, offers and their schedule slots;
- :mod:`.places`: areas and house addresses;
- :mod:`.walking`: the walking network and where sites meet it;
- :mod:`.accounts`: accounts and their API tokens;
- :mod:`.planning`: planners' scenarios and the census grid;
- :mod:`.editing`: revisions and providers' proposals.

Import models from here (``from mapservice.models import Offer``): importing the package
registers every table on ``Base.metadata``.
"""

from mapservice.models.accounts import USER_ROLES, ApiToken, User
from mapservice.models.base import METRIC_SRID, WGS84, Base
from mapservice.models.editing import (
    PROPOSAL_ENTITIES,
    PROPOSAL_STATUSES,
    REVISION_ACTIONS,
    REVISION_ENTITIES,
    Proposal,
    Revision,
)
from mapservice.models.offers import (
    OFFER_STATUSES,
    PROVIDER_KINDS,
    WHEELCHAIR_VALUES,
    Offer,
    Provider,
    ScheduleSlot,
    Site,
)
from mapservice.models.places import AREA_KINDS, AddressPoint, Area
from mapservice.models.planning import HYPOTHETICAL_ACTIONS, CensusCell, HypotheticalOffer, Scenario
from mapservice.models.walking import WalkEdge, WalkNetwork, WalkNode, WalkSiteSnap, WalkStreet

__all__ = [
    "AREA_KINDS",
    "HYPOTHETICAL_ACTIONS",
    "METRIC_SRID",
    "OFFER_STATUSES",
    "PROPOSAL_ENTITIES",
    "PROPOSAL_STATUSES",
    "PROVIDER_KINDS",
    "REVISION_ACTIONS",
    "REVISION_ENTITIES",
    "USER_ROLES",
    "WGS84",
    "WHEELCHAIR_VALUES",
    "AddressPoint",
    "ApiToken",
    "Area",
    "Base",
    "CensusCell",
    "HypotheticalOffer",
    "Offer",
    "Proposal",
    "Provider",
    "Revision",
    "Scenario",
    "ScheduleSlot",
    "Site",
    "User",
    "WalkEdge",
    "WalkNetwork",
    "WalkNode",
    "WalkSiteSnap",
    "WalkStreet",
]
