"""How the network keeps its own data: who may change what, revisions of every change,
providers' proposals and their review, freshness of offers, API tokens. Free of Flask.

* :mod:`~mapservice.editing.permissions`  roles × actions, checked here, not in the views
* :mod:`~mapservice.editing.states`       offers, sites and providers as plain JSON values
* :mod:`~mapservice.editing.revisions`    recording, reading and restoring revisions
* :mod:`~mapservice.editing.offer_input`  checking an offer as a form or the API sends it
* :mod:`~mapservice.editing.service`      saving, duplicating, ending offers; sites; providers
* :mod:`~mapservice.editing.proposals`    providers' proposals: approve, decline
* :mod:`~mapservice.editing.freshness`    last checked, overdue lists, "still correct"
* :mod:`~mapservice.editing.tokens`       per-account API tokens
"""
