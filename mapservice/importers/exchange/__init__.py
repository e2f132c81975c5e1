"""The exchange format: all sites and offers as GeoJSON or CSV, readable back without loss.

``format`` describes the fields and holds the shared column lists and format names;
``export`` writes the format, ``read`` imports it (all or nothing).
"""
