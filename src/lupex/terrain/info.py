"""Summaries of DEM files: grid, place, height range and slope statistics.

Large products are read in strips of rows, so a 30400 x 30400 polar DEM is summarised
without holding it in memory; slope percentiles come from a 0.01 deg histogram.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pyproj import CRS, Transformer

from lupex.constants import MOON_GEOGRAPHIC_CRS, SOUTH_POLAR_STEREOGRAPHIC_CRS
from lupex.errors import LupexError
from lupex.raster import is_south_polar
from lupex.terrain.readers import DemFile
from lupex.terrain.surface import slope

__all__ = ["crs_label", "summarize"]

_STRIP_ROWS = 1024
_SLOPE_BIN_DEG = 0.01


def crs_label(crs: CRS) -> str:
    """A short name of a CRS: the lunar south polar code, an authority code, or a PROJ string."""
    if is_south_polar(crs):
        return SOUTH_POLAR_STEREOGRAPHIC_CRS
    authority = crs.to_authority(min_confidence=90)
    if authority:
        return ":".join(authority)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return crs.to_proj4()


def _center_latlon(dem: DemFile) -> tuple[float, float]:
    t = dem.transform
    cx = t.c + t.a * dem.width / 2.0
    cy = t.f + t.e * dem.height / 2.0
    if dem.crs.is_geographic:
        return float(cy), float(np.mod(cx, 360.0))
    lon, lat = Transformer.from_crs(dem.crs, CRS(MOON_GEOGRAPHIC_CRS), always_xy=True).transform(cx, cy)
    return float(lat), float(np.mod(lon, 360.0))


def _percentile_from_histogram(counts: np.ndarray, q: float) -> float:
    cumulative = np.cumsum(counts)
    index = int(np.searchsorted(cumulative, q / 100.0 * cumulative[-1]))
    return round((index + 0.5) * _SLOPE_BIN_DEG, 3)


def summarize(dem: DemFile, with_slopes: bool = True) -> dict[str, Any]:
    """Describe a DEM: the keys of ``lupex terrain info --json``.

    Parameters
    ----------
    dem : DemFile
        The opened DEM.
    with_slopes : bool
        Whether to compute the slope statistics (a full read of the file).

    Returns
    -------
    dict
        ``width``, ``height`` [px]; ``resolution_m`` [m]; ``crs``; ``bounds_m`` (xmin, ymin,
        xmax, ymax in CRS units); ``center_lat``, ``center_lon`` [deg]; ``height_min_m``,
        ``height_max_m`` [m]; ``slope_median_deg``, ``slope_p95_deg`` [deg] (None for a
        geographic grid); ``nodata_fraction``; ``format``.
    """
    t = dem.transform
    xs = (t.c, t.c + t.a * dem.width)
    ys = (t.f, t.f + t.e * dem.height)
    resolution_m = dem.pixel_size_m()
    counts = np.zeros(int(90.0 / _SLOPE_BIN_DEG) + 1, dtype=np.int64)
    lo, hi, missing = np.inf, -np.inf, 0
    slopes_possible = with_slopes and dem.crs.is_projected and np.isclose(abs(t.a), abs(t.e), rtol=1e-6)
    for start in range(0, dem.height, _STRIP_ROWS):
        stop = min(start + _STRIP_ROWS, dem.height)
        first, last = max(start - 1, 0), min(stop + 1, dem.height)
        strip = dem.read((slice(first, last), slice(0, dem.width)))
        core = strip.values[start - first: strip.shape[0] - (last - stop)]
        finite = core[np.isfinite(core)]
        missing += core.size - finite.size
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        if slopes_possible:
            s = slope(strip)[start - first: strip.shape[0] - (last - stop)]
            s = s[np.isfinite(s) & np.isfinite(core)]
            counts += np.bincount((s / _SLOPE_BIN_DEG).astype(np.int64), minlength=counts.size)[: counts.size]
    if not np.isfinite(lo):
        raise LupexError(f"{dem.path} holds no valid height (every pixel is nodata)")
    center_lat, center_lon = _center_latlon(dem)
    has_slopes = slopes_possible and counts.sum() > 0
    return {
        "path": str(dem.path),
        "format": dem.format,
        "width": dem.width,
        "height": dem.height,
        "resolution_m": float(resolution_m),
        "crs": crs_label(dem.crs),
        "bounds_m": [float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))],
        "center_lat": center_lat,
        "center_lon": center_lon,
        "height_min_m": lo,
        "height_max_m": hi,
        "slope_median_deg": _percentile_from_histogram(counts, 50.0) if has_slopes else None,
        "slope_p95_deg": _percentile_from_histogram(counts, 95.0) if has_slopes else None,
        "nodata_fraction": missing / float(dem.width * dem.height),
    }
