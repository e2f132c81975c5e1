"""The parts of ``bench/load.py``: the servers it starts (:mod:`.servers`), the traffic mix
(:mod:`.traffic`), wrk and its Lua counter script (:mod:`.wrk`) and the database restart in
the middle of a run with its recovery probe (:mod:`.restart`)."""
