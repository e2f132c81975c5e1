"""Walking profiles and the engine's settings. Free of Flask.

A profile is a walking speed and whether steps can be used. Profiles that share
the step rule walk the same graph; only the speed differs.

Settings can be overridden in the app config (see :func:`settings_from_config`):

``WALK_PROFILES``
    ``{"adult": {"speed_kmh": 5.0, "steps": True, "label_de": ..., "label_en": ...}, ...}``
``WALK_MAX_MINUTES``
    The largest time a request may ask for; the precomputation covers it.
``WALK_MAX_SNAP_M``
    How far a point may lie from the nearest usable path to be routed.
``WALK_DETOUR_FACTOR``
    Straight-line distance times this factor estimates the walked distance
    where no network covers a place.
``WALK_ISOCHRONE_BUFFER_M``
    Half-width of the band drawn around each reached path.

Changing profiles or ``WALK_MAX_MINUTES`` needs ``mapservice refresh-reach`` afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WalkProfile:
    """How one kind of walker moves."""

    key: str
    speed_kmh: float
    steps: bool  # False: stairs are not usable (pram, wheelchair)
    label_de: str
    label_en: str

    @property
    def speed_mps(self) -> float:
        return self.speed_kmh / 3.6


DEFAULT_PROFILES: dict[str, WalkProfile] = {
    "adult": WalkProfile("adult", 5.0, True, "Zu Fuß", "Walking adult"),
    "pram": WalkProfile(
        "pram", 3.5, False, "Mit Kinderwagen oder kleinem Kind", "With pram or small child"
    ),
    "wheelchair": WalkProfile("wheelchair", 3.5, False, "Mit Rollstuhl", "Wheelchair"),
}
DEFAULT_PROFILE = "adult"

# Pedestrian route directness (network distance / straight-line distance) of connected
# urban street grids lies around 1.2-1.5 (Randall & Baetz 2001, J. Urban Plann. Dev.
# 127(1)); 1.3 is the middle. On the Witten-Stockum network the measured median is
# printed by bench/walking.py. Configurable as WALK_DETOUR_FACTOR.
DEFAULT_DETOUR_FACTOR = 1.3


@dataclass(frozen=True)
class WalkSettings:
    """Everything the walking engine reads from configuration."""

    profiles: dict[str, WalkProfile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    max_minutes: int = 30
    max_snap_m: float = 300.0
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    isochrone_buffer_m: float = 30.0
    # The isochrone's raster: its cells trace the buffered paths (a third of the buffer).
    isochrone_cell_m: float = 10.0

    def profile(self, key: str) -> WalkProfile:
        return self.profiles[key]

    @property
    def max_seconds(self) -> float:
        return self.max_minutes * 60.0


def parse_profiles(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, WalkProfile]:
    """Profiles from a config mapping; raises ``ValueError`` on nonsense."""
    profiles: dict[str, WalkProfile] = {}
    for key, spec in raw.items():
        speed = float(spec["speed_kmh"])
        if not 0.5 <= speed <= 10:
            raise ValueError(f"walking profile {key!r}: speed_kmh {speed} is not a walking speed")
        if len(key) > 20:
            raise ValueError(f"walking profile key {key!r} is longer than 20 characters")
        profiles[key] = WalkProfile(
            key=key,
            speed_kmh=speed,
            steps=bool(spec.get("steps", True)),
            label_de=str(spec.get("label_de", key)),
            label_en=str(spec.get("label_en", key)),
        )
    if not profiles:
        raise ValueError("WALK_PROFILES must define at least one profile")
    return profiles


def settings_from_config(config: Mapping[str, Any]) -> WalkSettings:
    """Settings from an app config (any mapping), defaults where a key is missing."""
    raw_profiles = config.get("WALK_PROFILES")
    defaults = WalkSettings()

    def number(key: str, default: float, kind: Callable[[Any], float] = float) -> float:
        value = config.get(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            wanted = "a whole number" if kind is int else "a number"
            raise ValueError(f"{key} must be {wanted}, not {value!r}") from None

    buffer_m = number("WALK_ISOCHRONE_BUFFER_M", defaults.isochrone_buffer_m)
    cell_m = number("WALK_ISOCHRONE_CELL_M", defaults.isochrone_cell_m)
    # Coarser than the buffer, the buffer's disc has no cells left; much finer, a long
    # walk's raster grows into the millions of cells.
    if not buffer_m / 5 <= cell_m <= buffer_m:
        raise ValueError(
            f"WALK_ISOCHRONE_CELL_M is {cell_m:g} m; it must lie between a fifth of "
            f"WALK_ISOCHRONE_BUFFER_M and all of it ({buffer_m / 5:g} to {buffer_m:g} m)"
        )
    return WalkSettings(
        profiles=parse_profiles(raw_profiles) if raw_profiles else dict(DEFAULT_PROFILES),
        max_minutes=int(number("WALK_MAX_MINUTES", defaults.max_minutes, int)),
        max_snap_m=number("WALK_MAX_SNAP_M", defaults.max_snap_m),
        detour_factor=number("WALK_DETOUR_FACTOR", defaults.detour_factor),
        isochrone_buffer_m=buffer_m,
        isochrone_cell_m=cell_m,
    )
