"""The vector base map: a PMTiles v3 archive of OpenStreetMap vector tiles that the service
serves itself, so a page draws streets without asking any other host. Free of Flask.

:func:`locate` turns the ``BASEMAP`` setting into a path (relative paths lie in the data
directory; an empty setting turns the base map off); :func:`read_archive` checks that the
file is a PMTiles v3 archive of vector tiles (MVT) and reads what the page needs from its
header and metadata: bounds, zoom range and the attribution the data asks for. The tiles
themselves are read by the browser with HTTP range requests (``static/js/basemap.js``).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pmtiles.reader import Reader
from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
MAX_METADATA_BYTES = 1 << 20


class BasemapError(Exception):
    """The archive is missing, unreadable, or not a PMTiles v3 archive of vector tiles."""


@dataclass(frozen=True)
class Basemap:
    """What a page needs to know about the archive (read once per file version)."""

    path: Path
    size: int
    mtime: float
    bounds: tuple[float, float, float, float]  # west, south, east, north
    center: tuple[float, float]  # lat, lon
    min_zoom: int
    max_zoom: int
    attribution: str
    layers: tuple[str, ...]

    @property
    def version(self) -> str:
        """Changes whenever the file does (cache-busting query for the archive's URL)."""
        return f"{int(self.mtime)}-{self.size}"


def locate(setting: str | os.PathLike[str] | None, data_dir: str | os.PathLike[str]) -> Path | None:
    """The archive's path from the setting, or ``None`` when the base map is turned off.

    A relative path is taken from the data directory (where the public data lives); the
    file is not required to exist here: :func:`read_archive` says what is wrong with it.
    """
    if setting is None or not str(setting).strip():
        return None
    path = Path(str(setting).strip()).expanduser()
    if not path.is_absolute():
        path = Path(data_dir) / path
    return path


def read_archive(path: Path) -> Basemap:
    """Check the archive and read its header and metadata.

    Cached per path, size and modification time, so a page costs one ``stat`` and a
    replaced file is read again.

    Raises :class:`BasemapError` for a missing file, a file that is not PMTiles v3, or one
    that holds raster rather than vector tiles.
    """
    try:
        stat = path.stat()
    except OSError as exc:
        raise BasemapError(f"base map archive {path} not found") from exc
    if not path.is_file():
        raise BasemapError(f"base map archive {path} is not a file")
    return _read_archive(path, stat.st_size, stat.st_mtime)


@lru_cache(maxsize=8)
def _read_archive(path: Path, size: int, mtime: float) -> Basemap:
    try:
        with path.open("rb") as handle:

            def get_bytes(offset: int, length: int) -> bytes:
                handle.seek(offset)
                return handle.read(length)

            reader = Reader(get_bytes)
            header = reader.header()
            if header["metadata_length"] > MAX_METADATA_BYTES:
                raise BasemapError(f"{path}: metadata larger than {MAX_METADATA_BYTES} bytes")
            raw = get_bytes(header["metadata_offset"], header["metadata_length"])
    except (MagicNumberNotFound, UnicodeDecodeError) as exc:
        raise BasemapError(f"{path} is not a PMTiles archive") from exc
    except SpecVersionUnsupported as exc:
        raise BasemapError(f"{path} is not a PMTiles archive of version 3") from exc
    except OSError as exc:
        raise BasemapError(f"{path} cannot be read: {exc}") from exc
    if header["tile_type"] != TileType.MVT:
        raise BasemapError(f"{path} holds {header['tile_type'].name} tiles, not vector tiles")
    metadata = _metadata(path, raw, header["internal_compression"])
    layers = tuple(
        str(layer.get("id")) for layer in metadata.get("vector_layers", []) if layer.get("id")
    )
    return Basemap(
        path=path,
        size=size,
        mtime=mtime,
        bounds=(
            header["min_lon_e7"] / 1e7,
            header["min_lat_e7"] / 1e7,
            header["max_lon_e7"] / 1e7,
            header["max_lat_e7"] / 1e7,
        ),
        center=(header["center_lat_e7"] / 1e7, header["center_lon_e7"] / 1e7),
        min_zoom=int(header["min_zoom"]),
        max_zoom=int(header["max_zoom"]),
        # The data's own credit (ODbL asks for it wherever the map is shown).
        attribution=str(metadata.get("attribution") or OSM_ATTRIBUTION),
        layers=layers,
    )


def _metadata(path: Path, raw: bytes, compression: Compression) -> dict[str, Any]:
    try:
        if compression == Compression.GZIP:
            raw = gzip.decompress(raw)
        elif compression not in (Compression.NONE, Compression.UNKNOWN):
            raise BasemapError(f"{path}: metadata compressed with {compression.name}")
        metadata = json.loads(raw) if raw else {}
    except (OSError, EOFError, ValueError) as exc:
        raise BasemapError(f"{path}: metadata is not readable JSON") from exc
    if not isinstance(metadata, dict):
        raise BasemapError(f"{path}: metadata is not a JSON object")
    return metadata
