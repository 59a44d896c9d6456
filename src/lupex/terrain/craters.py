"""Impact craters for synthetic terrain: how many, how big, what shape, how worn.

Population
    The cumulative density of *visible* craters is the smaller of the production
    function for the surface's age and the empirical equilibrium density:
    ``N(>D) = min(N_prod(D, T), f_eq * 1.54 D^-2)`` [km^-2, D in km]. ``N_prod`` is the
    Neukum et al. (2001, Space Sci. Rev. 96, 55-86, Table 1 and eq. 5) lunar production
    function scaled by their chronology ``N(1 km) = 5.44e-14 (exp(6.93 T) - 1) + 8.38e-4 T``;
    ``1.54 D^-2`` is geometric saturation (Gault 1970, Radio Sci. 5) and ``f_eq`` the fraction
    of it at which small lunar craters reach equilibrium (a few per cent; Xiao & Werner 2015,
    JGR Planets 120).

Morphology (fresh)
    Simple craters (D < 15 km): depth ``d = 0.196 D^1.010`` and rim height
    ``h = 0.036 D^1.014`` [km], a parabolic bowl. Complex craters: ``d = 1.044 D^0.301``,
    ``h = 0.236 D^0.399``, flat floor of diameter ``0.187 D^1.249`` [km] (Pike 1977, in
    *Impact and Explosion Cratering*, 489-509), central peak of height ``0.0049 D^1.297``
    [km] (Hale & Grieve 1982, JGR 87). Ejecta thin as ``h (r/R)^-3`` (McGetchin et al. 1973,
    EPSL 20), tapered to zero at 2.5 R.

Degradation
    A crater's age follows the cratering rate of the Neukum chronology over the time its
    size stays visible (all of ``T`` where the population is production-limited, so most
    large craters are old; the recent span that holds the ``N_eq`` youngest where it is in
    equilibrium, where the rate is nearly constant). Its degradation state is
    ``s = age / lifetime``, the lifetime being the time to wear down to the equilibrium limit
    (:func:`visible_lifetime`); it lowers depth/diameter from 0.2 to 0.04 as
    ``0.04 + 0.16 (1 - s)^2`` (fast at first, as diffusion does) and erases the rim, the
    range of lunar small craters (Fassett & Thomson 2014, JGR Planets 119). Craters are
    drawn oldest first and each new one resets the terrain inside its rim (full reset at
    the centre, none at the rim), so young craters cut old.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CraterSet",
    "crater_footprint",
    "crater_shape",
    "ejecta_rock_cover",
    "equilibrium_density",
    "neukum_production",
    "reference_height",
    "render_craters",
    "sample_craters",
    "visible_density",
]

NEUKUM_2001_COEFFS = (
    -3.0876, -3.557528, 0.781027, 1.021521, -0.156012, -0.444058,
    0.019977, 0.086850, -0.005874, -0.006809, 8.25e-4, 5.54e-5,
)
"""Lunar production function coefficients a0..a11, 1 Gyr (Neukum et al. 2001, Table 1)."""

NEUKUM_VALID_KM = (0.01, 300.0)
"""Diameter range of the production function [km]; extrapolated with its end slopes."""

SIMPLE_COMPLEX_TRANSITION_KM = 15.0
"""Lunar simple-to-complex transition diameter [km] (Pike 1977)."""

EJECTA_EXTENT = 2.5
"""Outer edge of the modelled ejecta blanket [crater radii]."""


def neukum_n1(age_gyr):
    """Cumulative crater density at 1 km for a surface of age T [km^-2] (Neukum 2001, eq. 5)."""
    return 5.44e-14 * (np.exp(6.93 * age_gyr) - 1.0) + 8.38e-4 * age_gyr


def neukum_production(diameter_km: NDArray, age_gyr: float) -> NDArray:
    """Cumulative production density N(>D) on a surface of the given age [km^-2].

    Parameters
    ----------
    diameter_km : ndarray
        Crater diameter [km]; outside 10 m - 300 km the end slopes are extended.
    age_gyr : float
        Surface age [Gyr].
    """
    d = np.clip(np.asarray(diameter_km, dtype=float), *NEUKUM_VALID_KM)
    log_n = np.polynomial.polynomial.polyval(np.log10(d), NEUKUM_2001_COEFFS)
    lo, hi = np.log10(NEUKUM_VALID_KM)
    eps = 1e-3
    poly = np.polynomial.polynomial.Polynomial(NEUKUM_2001_COEFFS)
    slope_lo = (poly(lo + eps) - poly(lo)) / eps
    slope_hi = (poly(hi) - poly(hi - eps)) / eps
    raw = np.log10(np.asarray(diameter_km, dtype=float))
    log_n = np.where(raw < lo, log_n + slope_lo * (raw - lo), log_n)
    log_n = np.where(raw > hi, log_n + slope_hi * (raw - hi), log_n)
    return 10.0**log_n * neukum_n1(age_gyr) / 10.0 ** NEUKUM_2001_COEFFS[0]


def _n1_table() -> tuple[NDArray, NDArray]:
    ages = np.linspace(0.0, 4.6, 4601)
    return ages, neukum_n1(ages)


def visible_lifetime(equilibrium_ratio: float, age_gyr: float) -> float:
    """Time a crater of some size takes to wear down to the equilibrium limit [Gyr].

    With ``f = N_eq / N_prod`` at that size: where ``f <= 1`` the visible craters are the
    youngest fraction ``f`` of all produced since ``age_gyr``, counted by the Neukum
    chronology (``N1(lifetime) = f N1(T)``); where ``f > 1`` no crater of that size has
    worn out yet and the lifetime is extrapolated as ``f T``.
    """
    if equilibrium_ratio > 1.0:
        return equilibrium_ratio * age_gyr
    ages, n1 = _n1_table()
    return float(np.interp(equilibrium_ratio * neukum_n1(age_gyr), n1, ages))


def _chronology_ages(lifetime_gyr: float, u: NDArray) -> NDArray:
    """Formation ages in [0, lifetime] distributed as the cratering rate, from uniforms ``u``."""
    ages, n1 = _n1_table()
    return np.interp(u * neukum_n1(lifetime_gyr), n1, ages)


def equilibrium_density(diameter_km: NDArray, fraction: float) -> NDArray:
    """Empirical equilibrium density ``fraction * 1.54 D^-2`` [km^-2] (Gault 1970)."""
    return fraction * 1.54 * np.asarray(diameter_km, dtype=float) ** -2.0


def visible_density(diameter_km: NDArray, age_gyr: float, eq_fraction: float) -> NDArray:
    """Cumulative density of craters still visible, ``min(production, equilibrium)`` [km^-2]."""
    return np.minimum(neukum_production(diameter_km, age_gyr), equilibrium_density(diameter_km, eq_fraction))


@dataclass(frozen=True)
class CraterSet:
    """A crater population, sorted oldest first.

    Attributes
    ----------
    x, y : ndarray
        Centres in map coordinates [m].
    diameter : ndarray
        Rim-to-rim diameter [m].
    degradation : ndarray
        State from 0 (fresh) to 1 (worn to the equilibrium limit) [-].
    age : ndarray
        Formation age before present [Gyr].
    """

    x: NDArray
    y: NDArray
    diameter: NDArray
    degradation: NDArray
    age: NDArray

    def __len__(self) -> int:
        return int(self.diameter.size)


def sample_craters(
    bounds: tuple[float, float, float, float],
    d_min_m: float,
    d_max_m: float,
    age_gyr: float,
    eq_fraction: float,
    rng: np.random.Generator,
    bins_per_decade: int = 20,
) -> CraterSet:
    """Draw the visible crater population over a map region.

    Craters are drawn per logarithmic diameter bin with Poisson counts; centres are
    uniform over the region grown by 1.5 crater diameters on every side, so craters
    partly outside still shape the region.

    Parameters
    ----------
    bounds : tuple of float
        Region (xmin, ymin, xmax, ymax) [m].
    d_min_m, d_max_m : float
        Smallest and largest diameter drawn [m].
    age_gyr : float
        Age of the surface [Gyr].
    eq_fraction : float
        Equilibrium density as a fraction of geometric saturation [-].
    rng : numpy.random.Generator
        Source of randomness.
    bins_per_decade : int
        Diameter bins per factor of ten.
    """
    xmin, ymin, xmax, ymax = bounds
    n_bins = max(1, int(np.ceil(np.log10(d_max_m / d_min_m) * bins_per_decade)))
    edges_km = np.geomspace(d_min_m, d_max_m, n_bins + 1) / 1000.0
    cumulative = visible_density(edges_km, age_gyr, eq_fraction)
    production = neukum_production(edges_km, age_gyr)
    parts: list[tuple[NDArray, ...]] = []
    for i in range(n_bins):
        per_km2 = cumulative[i] - cumulative[i + 1]
        if per_km2 <= 0:
            continue
        margin = 1.5 * edges_km[i + 1] * 1000.0
        area_km2 = (xmax - xmin + 2 * margin) * (ymax - ymin + 2 * margin) / 1e6
        count = rng.poisson(per_km2 * area_km2)
        if count == 0:
            continue
        u = rng.random(count)
        d_km = edges_km[i] * (edges_km[i + 1] / edges_km[i]) ** u
        ratio = equilibrium_density(edges_km[i], eq_fraction) / production[i]
        lifetime = visible_lifetime(ratio, age_gyr)
        age = _chronology_ages(min(lifetime, age_gyr), rng.random(count))
        parts.append((
            rng.uniform(xmin - margin, xmax + margin, count),
            rng.uniform(ymin - margin, ymax + margin, count),
            d_km * 1000.0,
            age / lifetime,
            age,
        ))
    if not parts:
        empty = np.zeros(0)
        return CraterSet(empty, empty, empty, empty, empty)
    x, y, diameter, degradation, age = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.argsort(-age, kind="stable")
    return CraterSet(x[order], y[order], diameter[order], degradation[order], age[order])


def crater_shape(diameter_m: NDArray, degradation: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Depth, rim height, floor fraction and central-peak height of craters.

    Parameters
    ----------
    diameter_m : ndarray
        Diameter [m].
    degradation : ndarray
        Degradation state 0..1 [-].

    Returns
    -------
    depth, rim, floor_fraction, peak : ndarray
        Rim-to-floor depth [m], rim height above the surroundings [m], flat-floor
        diameter / crater diameter [-], central peak height above the floor [m].
    """
    d_km = np.asarray(diameter_m, dtype=float) / 1000.0
    complex_ = d_km >= SIMPLE_COMPLEX_TRANSITION_KM
    depth = np.where(complex_, 1.044 * d_km**0.301, 0.196 * d_km**1.010) * 1000.0
    rim = np.where(complex_, 0.236 * d_km**0.399, 0.036 * d_km**1.014) * 1000.0
    floor = np.where(complex_, np.minimum(0.187 * d_km**1.249 / d_km, 0.7), 0.0)
    peak = np.where(complex_, 0.0049 * d_km**1.297 * 1000.0, 0.0)
    s = np.asarray(degradation, dtype=float)
    # Diffusive infilling is fastest while the crater is fresh: depth falls as (1 - s)^2.
    depth = depth * (0.2 + 0.8 * (1.0 - s) ** 2)
    rim = rim * (1.0 - s) ** 2
    peak = np.minimum(peak * (1.0 - s), 0.8 * (depth - rim).clip(0.0))
    return depth, rim, floor, peak


@numba.njit(cache=True)
def _interior(rho, depth, rim, floor, peak):
    """Height of the crater interior relative to the pre-impact surface [m]."""
    bottom = rim - depth
    if floor > 0.0:
        if rho <= floor:
            return bottom + peak * np.exp(-((rho / (0.35 * floor + 1e-9)) ** 2))
        t = (rho - floor) / (1.0 - floor)
        return bottom + depth * t**1.6 + peak * np.exp(-((rho / (0.35 * floor + 1e-9)) ** 2))
    return bottom + depth * rho * rho


@numba.njit(cache=True)
def crater_footprint(cx, cy, radius, x0, y0, pixel, ny, nx):
    """Grid position of a crater and the pixel box its ejecta reaches.

    Returns ``(col, row, radius_px, r0, r1, c0, c1)``: centre [fractional pixels], radius
    [pixels] and the half-open row and column ranges, clipped to the grid (empty when the
    crater lies wholly outside). ``x0``, ``y0`` are the map coordinates of pixel (0, 0)'s centre.
    """
    col = (cx - x0) / pixel
    row = (y0 - cy) / pixel
    r_px = radius / pixel
    reach = EJECTA_EXTENT * r_px
    c0 = max(int(np.floor(col - reach)), 0)
    c1 = min(int(np.ceil(col + reach)) + 1, nx)
    r0 = max(int(np.floor(row - reach)), 0)
    r1 = min(int(np.ceil(row + reach)) + 1, ny)
    return col, row, r_px, r0, r1, c0, c1


@numba.njit(cache=True)
def reference_height(height, col, row, radius_px):
    """Mean of the pre-impact height at the centre and at four points half a radius out."""
    ny, nx = height.shape
    total = 0.0
    for dc, dr in ((0.0, 0.0), (0.5, 0.0), (-0.5, 0.0), (0.0, 0.5), (0.0, -0.5)):
        c = min(max(int(round(col + dc * radius_px)), 0), nx - 1)
        r = min(max(int(round(row + dr * radius_px)), 0), ny - 1)
        total += height[r, c]
    return total / 5.0


@numba.njit(cache=True)
def _render(height, rocks, x0, y0, pixel, cx, cy, radius, depth, rim, floor, peak, rock_k):
    ny, nx = height.shape
    taper = EJECTA_EXTENT**-3
    for i in range(cx.size):
        col, row, r_px, r0, r1, c0, c1 = crater_footprint(cx[i], cy[i], radius[i], x0, y0, pixel, ny, nx)
        if c0 >= c1 or r0 >= r1:
            continue
        href = reference_height(height, col, row, r_px)
        for r in range(r0, r1):
            for c in range(c0, c1):
                rho = np.hypot(c - col, r - row) / r_px
                if rho >= EJECTA_EXTENT:
                    continue
                if rho < 1.0:
                    keep = rho * rho
                    height[r, c] = href + keep * (height[r, c] - href) + _interior(
                        rho, depth[i], rim[i], floor[i], peak[i]
                    )
                else:
                    height[r, c] += rim[i] * (rho**-3 - taper) / (1.0 - taper)
                if rock_k[i] > 0.0 and rho > 0.6:
                    k = rock_k[i] * np.exp(-abs(rho - 1.0) / 0.4)
                    if k > rocks[r, c]:
                        rocks[r, c] = k


def ejecta_rock_cover(craters: CraterSet, blocky_min_diameter_m: float, fresh_ejecta_rock_k: float) -> NDArray:
    """Rock area fraction on each crater's rim [-]: blocky craters only, fading as ``(1 - s)^3``.

    Parameters
    ----------
    craters : CraterSet
        The craters.
    blocky_min_diameter_m : float
        Craters at least this large excavate bedrock and throw out boulders [m].
    fresh_ejecta_rock_k : float
        Rock area fraction on the rim of a fresh blocky crater [-].
    """
    return np.where(
        craters.diameter >= blocky_min_diameter_m,
        fresh_ejecta_rock_k * (1.0 - craters.degradation) ** 3,
        0.0,
    )


def render_craters(
    height: NDArray,
    rocks: NDArray,
    origin: tuple[float, float],
    pixel_m: float,
    craters: CraterSet,
    blocky_min_diameter_m: float,
    fresh_ejecta_rock_k: float,
) -> None:
    """Carve craters into ``height`` and add their blocky ejecta to ``rocks``, in place.

    Parameters
    ----------
    height : ndarray
        Heights [m], float64, modified in place.
    rocks : ndarray
        Fractional rock area [-], float64, raised in place where ejecta is rockier.
    origin : tuple of float
        Map coordinates (x, y) of the upper-left pixel corner [m].
    pixel_m : float
        Pixel size [m].
    craters : CraterSet
        Craters, oldest first.
    blocky_min_diameter_m : float
        Craters at least this large excavate bedrock and throw out boulders [m].
    fresh_ejecta_rock_k : float
        Rock area fraction on the rim of a fresh blocky crater [-]; it fades as
        ``(1 - s)^3`` with the degradation state ``s``.
    """
    depth, rim, floor, peak = crater_shape(craters.diameter, craters.degradation)
    rock_k = ejecta_rock_cover(craters, blocky_min_diameter_m, fresh_ejecta_rock_k)
    x0 = origin[0] + 0.5 * pixel_m
    y0 = origin[1] - 0.5 * pixel_m
    _render(height, rocks, x0, y0, pixel_m, craters.x, craters.y, craters.diameter / 2.0,
            depth, rim, floor, peak, rock_k)
