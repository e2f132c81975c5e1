"""Home-visit rounds for outreach workers (e.g. welcome visits to newborns). Free of Flask.

A worker enters the day's visits and a start point (:mod:`~mapservice.outreach.form`); the
answer (:mod:`~mapservice.outreach.plan`) is the visiting order with the least total walking
time (:mod:`~mapservice.outreach.order`), the legs between the stops
(:mod:`~mapservice.outreach.walks`), each family's offers nearby, and the route's map
(:mod:`~mapservice.outreach.route_map`). :mod:`~mapservice.outreach.sites` offers the
network's anchor sites as starts.

Privacy: nothing here writes to the database or logs; the plan lives only in the answer.
"""
