"""What the family map asks and answers. Free of Flask.

A family gives the child's age, where they are (an address, a tap on the map, or the phone's
location) and a few filters; the answer is the fitting offers they reach on foot within the
chosen minutes, nearest first. Without a place the answer is every fitting offer, by
category. Also: an offer's next dates, its iCalendar file and its schema.org description.

- :mod:`~mapservice.family.query`: the question (filters, place, minutes, page) parsed from
  the URL, and the typed address looked up;
- :mod:`~mapservice.family.search`: the answer, the fitting offers reachable on foot, paged;
- :mod:`~mapservice.family.dates`: an offer's next meetings and its iCalendar file;
- :mod:`~mapservice.family.json_ld`: an offer's schema.org description for its page;
- :mod:`~mapservice.family.place`: an offer's place as both of the last two give it.
"""
