"""The exchange format: all sites and offers as GeoJSON or CSV, readable back without loss
(``read``: export and import)."""
