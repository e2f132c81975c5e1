"""Home-visit rounds for outreach workers (being split by responsibility; see form.py)."""

# Temporary, for this rename-only step: the split that follows imports from the modules.
from mapservice.outreach.form import *  # noqa: F403
