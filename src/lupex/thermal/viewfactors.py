"""Terrain radiation: view factors between DEM facets, scattered sunlight and re-radiated infrared.

View factors (:func:`view_factors`)
    ``F[i, j]`` is the fraction of facet ``i``'s cosine-weighted hemisphere filled by facet
    ``j``: ``F_ij = (1/pi) * integral over the directions that hit j of cos(theta_i) dOmega``,
    ``theta_i`` measured from facet ``i``'s tilted normal. A Lambertian facet ``j`` of radiant
    exitance ``M_j`` [W m^-2] then gives ``i`` the irradiance ``E_i = sum_j F_ij M_j`` and
    ``1 - sum_j F_ij`` is ``i``'s sky view factor. Facets are the DEM pixels, flattened row by
    row (row 0 at the top, the largest y); a facet's normal comes from the central-difference
    height gradient (:func:`facet_areas` gives the areas).

    Method (lupex's own ray march, in the spirit of a horizon computation): from every pixel
    centre, rays leave at ``n_azimuths`` grid azimuths ``a`` (clockwise from grid north, +y),
    each standing for a sector ``dphi = 2 pi / n_azimuths`` (midpoint rule in azimuth). A ray
    samples the terrain every half pixel and where it ends, with bilinear heights, and takes the
    exact elevation angle of the straight line of sight on the 1737.4 km sphere
    (:func:`lupex.sky.horizon.tan_elevation`), so the Moon's curvature lowers distant terrain by
    about ``d^2 / (2R)``. The facet's slope comes from central differences over the horizontal
    length of a pixel at its radius, ``pixel (R + h) / R``, the same geometry, so a uniformly
    sloping tile sees nothing of itself. The running maximum elevation starts at the facet's own
    tangent plane, ``e0 = atan(g)``, ``g`` the facet's slope along ``a``; whenever a sample rises
    above it, the band of directions between the old maximum ``e1`` and the new elevation ``e2``
    is filled by the terrain between this sample and the previous one, and is credited to the
    pixel nearest the middle of that step. With the facet normal
    ``n = (-h_x, -h_y, 1) / sqrt(1 + h_x^2 + h_y^2)`` a direction ``(e, a)`` has
    ``cos(theta_i) = (sin e - g cos e) / sqrt(1 + h_x^2 + h_y^2)``, and the band's share is the
    exact integral

        ``dphi / pi * integral_e1^e2 cos(theta_i) cos(e) de = dphi / pi / sqrt(1 + |grad h|^2)
        * [G(e2) - G(e1)]``,  ``G(e) = sin^2(e) / 2 - g (e / 2 + sin(2e) / 4)``,

    (a horizontal facet: ``dphi / (2 pi) (sin^2 e2 - sin^2 e1)``); over the whole hemisphere
    above the tangent plane these shares sum to 1 for any tilt. Occlusion is handled by the
    running maximum, and the orientation of the far facet by the band it fills (a facet seen
    edge-on fills no band), which makes ``area_i F_ij = area_j F_ji`` hold in the limit of fine
    sampling. Samples whose step middle lies in the facet's own pixel are skipped (a plane facet
    does not see itself). A ray ends where it leaves the square spanned by the outermost pixel
    centres (terrain beyond the tile counts as sky), at ``max_distance_m``, or as soon as even
    the highest point of the DEM could no longer rise above the running maximum. A facet on the
    tile's edge counts the whole sector whose ray runs along the edge, half of which lies outside
    the tile: its view factors are too large by up to half a sector's share. The march runs
    twice (counting the pixels each facet sees, then filling the sparse rows), in parallel over
    facets with numba; memory grows with the number of facet pairs in view, which
    ``max_distance_m`` bounds.

    Accuracy (``tests/thermal/test_viewfactors.py``): within 0.15 % of Lambert's contour
    integral for tilted walls with 128 azimuths (0.9 % with 64); in a spherical bowl the view of
    the bowl is 1.8 % short of Ingersoll's ``f`` at 32 pixels per radius, because the bilinear
    rim is lower than the cap's, and the gap closes as the pixel shrinks.

Scattering and re-radiation (:func:`scattered_sunlight`, :func:`radiative_equilibrium`)
    Lambertian radiosity, sunlight and thermal infrared treated separately. In the visible,
    ``B = A (E_dir + F B)`` and the scattered irradiance is ``F B``; in the infrared, with
    emissivity ``eps`` and IR reflectivity ``1 - eps``, the outgoing exitance
    ``W = eps sigma T^4 + (1 - eps) F W`` and the energy balance without conduction
    ``eps sigma T^4 = (1 - A)(E_dir + F B) + eps F W`` give ``W = S + F W`` with
    ``S = (1 - A)(E_dir + F B)`` the absorbed sunlight: both are linear systems ``x = s + c F x``.
    They are solved by the fixed-point (Neumann series) iteration ``x <- s + c F x``, which
    costs one sparse product per step and takes many epochs (columns) at once. With
    ``q = max_i c_i sum_j F_ij < 1`` (every facet of a height field sees some sky) it
    contracts in the max norm by ``q`` per step, so the iteration stops when
    ``q / (1 - q) * max|x_new - x_old|``, a bound on the remaining error, falls below
    ``RTOL`` times the largest value of the column.

The spherical bowl (:func:`ingersoll_shadow_temperature`, :func:`spherical_bowl_f`)
    Ingersoll, Svitek & Murray (1992, "Stability of polar frosts in spherical bowl-shaped craters
    on the Moon, Mercury, and Mars", Icarus 100). Inside a sphere of radius
    ``R_s`` the view factor from any surface element to an element ``dA`` of the sphere is
    ``dA / (4 pi R_s^2)``, whatever their positions. A spherical cap (a bowl of depth ``d`` and
    opening radius ``a``, ``R_s = (a^2 + d^2) / (2d)``, half-angle ``beta``) therefore gives
    every one of its points the same view factor to itself,
    ``f = area / (4 pi R_s^2) = (1 - cos beta) / 2 = d^2 / (a^2 + d^2)``, and every point
    receives from the cap ``f`` times the cap's mean exitance. Let ``F`` be the solar flux on a
    horizontal plane, so ``F pi a^2`` enters the opening and the cap's mean direct flux is
    ``F pi a^2 / (pi (a^2 + d^2)) = F (1 - f)``.

    * Visible: the uniform scattered flux ``E_s`` satisfies ``E_s = f A (F (1 - f) + E_s)``, so
      ``E_s = A f F (1 - f) / (1 - A f)``, and the cap's mean absorbed sunlight is
      ``G = (1 - A)(F (1 - f) + E_s) = (1 - A) F (1 - f) / (1 - A f)``.
    * Infrared: every point absorbs as much as it emits, so on average
      ``eps sigma T^4 = G + eps Q`` and the mean exitance is ``mean(W) = G + eps Q + (1 - eps) Q
      = G + Q``; the uniform IR flux ``Q = f mean(W)`` is then ``Q = f G / (1 - f)``.
    * A shadowed point absorbs ``(1 - A) E_s + eps Q``, hence the paper's closed form

      ``sigma T^4 = F f (1 - A) / (1 - A f) * (1 + A (1 - f) / eps)``.

    The cavity effect is inside the formula: it takes the flat emissivity. (``F`` is the flux here,
    as in the paper, not the view-factor matrix.)
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.sky.horizon import grid_directions, half_step_arcs, snap, tan_elevation
from lupex.thermal.regolith import STEFAN_BOLTZMANN

__all__ = [
    "MAX_ITERATIONS",
    "MIN_AZIMUTHS",
    "RTOL",
    "facet_areas",
    "ingersoll_shadow_temperature",
    "radiative_equilibrium",
    "scattered_sunlight",
    "spherical_bowl_f",
    "view_factors",
]

MIN_AZIMUTHS = 8
"""Fewest azimuth sectors a view-factor computation may use."""

RTOL = 1e-10
"""Bound on the remaining error of the radiosity iteration, relative to the column's largest value."""

MAX_ITERATIONS = 100_000
"""Most steps the radiosity iteration may take before giving up."""


# --- the ray march -----------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy", inline="always")
def _band_primitive(t, g):
    """``G(e) = sin^2(e) / 2 - g (e / 2 + sin(2e) / 4)`` for ``tan(e) = t`` [-]."""
    u = 1.0 / (1.0 + t * t)
    return 0.5 * t * t * u - g * (0.5 * np.arctan(t) + 0.5 * t * u)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _nearest(v):
    """Nearest integer offset, halves rounded away from 0 (away from the facet)."""
    return np.floor(v + 0.5) if v >= 0.0 else -np.floor(0.5 - v)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _ray_length(r, c, dc, dr, ny, nx, reach_px):
    """Distance from pixel (r, c) along (dc, dr) to the square of pixel centres, at most ``reach_px`` [pixels]."""
    length = reach_px
    if dc > 0.0:
        length = min(length, (nx - 1 - c) / dc)
    elif dc < 0.0:
        length = min(length, c / -dc)
    if dr > 0.0:
        length = min(length, (ny - 1 - r) / dr)
    elif dr < 0.0:
        length = min(length, r / -dr)
    return length


@numba.njit(cache=True, error_model="numpy")
def _facet_row(h, hx, hy, r, c, dcs, drs, arcs, reach_px, pixel_m, hmax, acc, mark, touched):
    """Add facet (r, c)'s view factors to ``acc`` (dense, length ny * nx); return how many
    pixels it sees, listed in ``touched[:count]``; ``mark`` flags them with ``i + 1``."""
    ny, nx = h.shape
    i = r * nx + c
    stamp = i + 1
    h0 = h[r, c]
    r0 = MOON_RADIUS_M + h0
    cos_slope = 1.0 / np.sqrt(1.0 + hx[r, c] ** 2 + hy[r, c] ** 2)
    weight = 2.0 / dcs.size * cos_slope  # dphi / pi, times the 1 / sqrt(1 + |grad h|^2) of cos(theta_i)
    top = hmax - h0
    count = 0
    for a in range(dcs.size):
        dc, dr = dcs[a], drs[a]
        g = hx[r, c] * dc - hy[r, c] * dr
        best = g
        g_best = _band_primitive(g, g)
        end = _ray_length(r, c, dc, dr, ny, nx, reach_px)
        previous = 0.0
        k = 0
        while previous < end:
            k += 1
            d = 0.5 * k
            if d < end - 1e-9:
                cos_t, sin_t, vers_t = arcs[k, 0], arcs[k, 1], arcs[k, 2]
            else:  # the last sample, where the ray leaves the tile or reaches its length
                d = end
                theta = d * pixel_m / MOON_RADIUS_M
                cos_t, sin_t, vers_t = np.cos(theta), np.sin(theta), 2.0 * np.sin(0.5 * theta) ** 2
            middle = 0.5 * (previous + d)
            previous = d
            if tan_elevation(top, r0, cos_t, sin_t, vers_t) <= best:
                break
            jc = c + int(_nearest(snap(middle * dc)))
            jr = r + int(_nearest(snap(middle * dr)))
            if jc == c and jr == r:
                continue
            x, y = c + snap(d * dc), r + snap(d * dr)
            ix = min(int(np.floor(x)), nx - 2)
            iy = min(int(np.floor(y)), ny - 2)
            fx, fy = x - ix, y - iy
            z = ((1.0 - fy) * ((1.0 - fx) * h[iy, ix] + fx * h[iy, ix + 1])
                 + fy * ((1.0 - fx) * h[iy + 1, ix] + fx * h[iy + 1, ix + 1]))
            t = tan_elevation(z - h0, r0, cos_t, sin_t, vers_t)
            if t > best:
                g_new = _band_primitive(t, g)
                j = jr * nx + jc
                if mark[j] != stamp:
                    mark[j] = stamp
                    touched[count] = j
                    count += 1
                acc[j] += weight * (g_new - g_best)
                best, g_best = t, g_new
    return count


@numba.njit(cache=True, error_model="numpy", parallel=True)
def _view_factor_kernel(h, hx, hy, dcs, drs, arcs, reach_px, pixel_m, workers, fill, indptr, indices, data):
    """March every facet: with ``fill`` False, store each row's length in ``indptr[i + 1]``;
    with ``fill`` True, write the rows (sorted columns) at the offsets ``indptr`` gives."""
    ny, nx = h.shape
    n = ny * nx
    hmax = h.max()
    for w in numba.prange(workers):
        acc = np.zeros(n)
        mark = np.zeros(n, dtype=np.int64)
        touched = np.empty(n, dtype=np.int64)
        for i in range(w, n, workers):
            count = _facet_row(h, hx, hy, i // nx, i % nx, dcs, drs, arcs, reach_px, pixel_m, hmax, acc, mark,
                               touched)
            if fill:
                seen = np.sort(touched[:count])
                start = indptr[i]
                for q in range(count):
                    indices[start + q] = seen[q]
                    data[start + q] = acc[seen[q]]
            else:
                indptr[i + 1] = count
            for q in range(count):
                acc[touched[q]] = 0.0


def _validated_heights(heights: ArrayLike, pixel_m: float) -> NDArray:
    """The DEM as C-contiguous float64, checked to be 2-D, >= 2 x 2 and finite, with a valid pixel size."""
    h = np.ascontiguousarray(heights, dtype=np.float64)
    if h.ndim != 2 or min(h.shape) < 2:
        raise LupexError(f"view factors need a 2-D DEM of at least 2 x 2 pixels, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise LupexError("the DEM has missing (NaN) or infinite heights; "
                         "fill or crop them before computing view factors")
    if not (np.isfinite(pixel_m) and pixel_m > 0):
        raise LupexError(f"the pixel size must be a positive number of metres, got {pixel_m}")
    return h


def _gradients(h: NDArray, pixel_m: float) -> tuple[NDArray, NDArray]:
    """Slope of the terrain toward +x (columns) and +y (up the rows) [m m^-1].

    Central differences inside the tile, one-sided at its edges, divided by the horizontal
    length of a pixel at the facet's own radius, ``pixel (R + h) / R``: the geometry of
    :func:`lupex.sky.horizon.tan_elevation`, in which a uniformly sloping tile sees nothing of itself.
    """
    d_row, d_col = np.gradient(h, pixel_m)
    shrink = MOON_RADIUS_M / (MOON_RADIUS_M + h)
    return np.ascontiguousarray(d_col * shrink), np.ascontiguousarray(-d_row * shrink)


def facet_areas(heights: ArrayLike, pixel_m: float) -> NDArray:
    """Area of every facet [m^2], shape (ny * nx,), in the row-major order of :func:`view_factors`.

    The pixel at the facet's radius, tilted by its slope: ``(pixel (R + h) / R)^2 sqrt(1 + |grad h|^2)``,
    the areas for which ``area_i F_ij = area_j F_ji``.

    Parameters
    ----------
    heights : array_like
        Heights above the 1737.4 km sphere [m], shape (ny, nx), row 0 at the top (largest y).
    pixel_m : float
        Ground size of a pixel on the 1737.4 km sphere [m].
    """
    h = _validated_heights(heights, pixel_m)
    hx, hy = _gradients(h, pixel_m)
    side = pixel_m * (MOON_RADIUS_M + h) / MOON_RADIUS_M
    return (side**2 * np.sqrt(1.0 + hx**2 + hy**2)).ravel()


def view_factors(
    heights: ArrayLike,
    pixel_m: float,
    n_azimuths: int = 64,
    max_distance_m: float | None = None,
) -> sp.csr_matrix:
    """View factors between the facets (pixels) of a DEM tile, by a ray march.

    Parameters
    ----------
    heights : array_like
        Heights above the 1737.4 km sphere [m], shape (ny, nx), row 0 at the top (largest y).
    pixel_m : float
        Ground size of a pixel [m] (:func:`lupex.raster.ground_pixel_m` for a
        georeferenced DEM).
    n_azimuths : int
        Number of azimuth sectors, the first centred on grid north (+y), clockwise [-].
    max_distance_m : float, optional
        Farthest ground distance a ray looks [m]; default: across the whole tile.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``F`` of shape (ny * nx, ny * nx) [-], rows and columns in row-major pixel order:
        ``F[i, j]`` is the fraction of facet i's cosine-weighted hemisphere (about its own
        tilted normal) filled by facet j, so that ``F @ M`` is the irradiance from the terrain
        of Lambertian exitances ``M`` [W m^-2]; ``1 - F.sum(axis=1)`` is the sky view factor.
    """
    h = _validated_heights(heights, pixel_m)
    if int(n_azimuths) != n_azimuths or n_azimuths < MIN_AZIMUTHS:
        raise LupexError(f"view factors need a whole number of at least {MIN_AZIMUTHS} azimuths, got {n_azimuths}")
    pixel_m = float(pixel_m)
    ny, nx = h.shape
    reach_px = float(np.hypot(ny - 1, nx - 1))
    if max_distance_m is not None:
        if not (np.isfinite(max_distance_m) and max_distance_m > 0):
            raise LupexError(f"max_distance_m must be a positive number of metres, got {max_distance_m}")
        reach_px = min(reach_px, max_distance_m / pixel_m)
    arcs = half_step_arcs(reach_px, pixel_m)
    hx, hy = _gradients(h, pixel_m)
    dcs, drs = grid_directions(np.arange(int(n_azimuths)) * (360.0 / n_azimuths))
    n = ny * nx
    workers = max(1, min(numba.get_num_threads(), n))
    indptr = np.zeros(n + 1, dtype=np.int64)
    none_i, none_f = np.empty(0, dtype=np.int64), np.empty(0)
    _view_factor_kernel(h, hx, hy, dcs, drs, arcs, reach_px, pixel_m, workers, False, indptr, none_i, none_f)
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], dtype=np.int64)
    data = np.empty(indptr[-1])
    _view_factor_kernel(h, hx, hy, dcs, drs, arcs, reach_px, pixel_m, workers, True, indptr, indices, data)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


# --- radiosity ----------------------------------------------------------------------------


def _as_matrix(view_factor_matrix: sp.spmatrix | ArrayLike) -> sp.csr_matrix:
    """``F`` as CSR, checked to be square, finite and non-negative."""
    F = sp.csr_matrix(view_factor_matrix, dtype=np.float64)
    if F.shape[0] != F.shape[1]:
        raise LupexError(f"the view-factor matrix must be square, got shape {F.shape}")
    if not np.all(np.isfinite(F.data)) or np.any(F.data < 0):
        raise LupexError("the view-factor matrix has negative or non-finite entries; build it with view_factors")
    return F


def _as_flux(incident_w_m2: ArrayLike, n: int) -> NDArray:
    """Incident flux as float64 (n, k), checked to be finite and >= 0."""
    e = np.asarray(incident_w_m2, dtype=np.float64)
    if e.ndim not in (1, 2) or e.shape[0] != n:
        raise LupexError(f"the incident flux must have shape ({n},) or ({n}, k) for {n} facets, got {e.shape}")
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise LupexError("the incident flux must be finite and >= 0 W m^-2")
    return e.reshape(n, -1)


def _check_fraction(value: NDArray, name: str, low_open: bool, high_open: bool) -> None:
    """Raise unless every entry of ``value`` lies in [0, 1], ends excluded as asked."""
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not np.all(np.isfinite(value) & low_ok & high_ok):
        interval = ("(0" if low_open else "[0") + ", " + ("1)" if high_open else "1]")
        raise LupexError(f"the {name} must lie in {interval}")


def _as_fraction(value: ArrayLike, n: int, name: str, low_open: bool, high_open: bool) -> NDArray:
    """A scalar or per-facet fraction as a float64 (n, 1) column, checked to lie in its interval."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
        raise LupexError(f"the {name} must be a number or one value per facet ({n}), got shape {v.shape}")
    _check_fraction(v, name, low_open, high_open)
    return np.broadcast_to(v, (n,)).reshape(n, 1)


def _neumann_solve(F: sp.csr_matrix, source: NDArray, gain: NDArray) -> NDArray:
    """Solve ``x = source + gain * (F @ x)`` column by column by fixed-point iteration.

    ``gain`` is (n, 1); the contraction ``q = max_i gain_i sum_j F_ij`` must be < 1. Stops when
    ``q / (1 - q) * max|step|``, which bounds the remaining error, is below ``RTOL`` times the
    column's largest value.
    """
    q = float(np.max(gain[:, 0] * np.asarray(F.sum(axis=1)).ravel(), initial=0.0))
    if q >= 1.0:
        raise LupexError(f"the view-factor matrix traps all radiation (a row sums to {q:.6g} >= 1); "
                         "every facet of a terrain must see some sky")
    factor = q / (1.0 - q)
    x = source.copy()
    for _ in range(MAX_ITERATIONS):
        new = source + gain * (F @ x)
        step = np.max(np.abs(new - x), axis=0)
        x = new
        if np.all(factor * step <= RTOL * np.max(np.abs(x), axis=0)):
            return x
    raise LupexError(f"the radiosity iteration did not converge in {MAX_ITERATIONS} steps "
                     f"(contraction {q:.6g}); the terrain traps radiation too strongly")


def _scattered(F: sp.csr_matrix, e: NDArray, albedo: NDArray) -> NDArray:
    """Scattered visible irradiance ``F B`` for checked (n, k) flux and (n, 1) albedo [W m^-2]."""
    radiosity = _neumann_solve(F, albedo * e, albedo)
    return F @ radiosity


def scattered_sunlight(F: sp.spmatrix | ArrayLike, incident_w_m2: ArrayLike, albedo: ArrayLike) -> NDArray:
    """Sunlight each facet receives from the terrain, all orders of scattering included.

    Solves the Lambertian radiosity ``B = albedo (incident + F B)`` by fixed-point iteration
    (see the module notes) and returns ``F B``.

    Parameters
    ----------
    F : scipy.sparse matrix or array_like
        View factors of n facets, shape (n, n) [-] (:func:`view_factors`).
    incident_w_m2 : array_like
        Direct solar irradiance on each facet, shape (n,) or (n, k) for k epochs [W m^-2].
    albedo : float or array_like
        Bond albedo, one value or one per facet, shape (n,) [-], in [0, 1).

    Returns
    -------
    ndarray
        Scattered irradiance [W m^-2], the shape of ``incident_w_m2``.
    """
    F = _as_matrix(F)
    n = F.shape[0]
    e = _as_flux(incident_w_m2, n)
    a = _as_fraction(albedo, n, "albedo", low_open=False, high_open=True)
    return _scattered(F, e, a).reshape(np.shape(incident_w_m2))


def radiative_equilibrium(
    F: sp.spmatrix | ArrayLike, incident_w_m2: ArrayLike, albedo: ArrayLike, emissivity: ArrayLike
) -> NDArray:
    """Surface temperatures with no conduction: emitted infrared balances absorbed radiation.

    Each facet absorbs ``(1 - albedo)`` of its direct and scattered sunlight and
    ``emissivity`` of the infrared from the terrain, and reflects ``1 - emissivity`` of that
    infrared: ``eps sigma T^4 = (1 - A)(E_dir + E_scat) + eps Q``, ``Q = F W`` with the
    outgoing infrared exitance ``W = eps sigma T^4 + (1 - eps) Q`` (module notes). A facet
    that receives nothing is at 0 K (no geothermal flux, no thermal inertia).

    Parameters
    ----------
    F : scipy.sparse matrix or array_like
        View factors of n facets, shape (n, n) [-] (:func:`view_factors`).
    incident_w_m2 : array_like
        Direct solar irradiance on each facet, shape (n,) or (n, k) for k epochs [W m^-2].
    albedo : float or array_like
        Bond albedo, one value or one per facet, shape (n,) [-], in [0, 1).
    emissivity : float or array_like
        Infrared emissivity, one value or one per facet, shape (n,) [-], in (0, 1].

    Returns
    -------
    ndarray
        Temperatures [K], the shape of ``incident_w_m2``.
    """
    F = _as_matrix(F)
    n = F.shape[0]
    e = _as_flux(incident_w_m2, n)
    a = _as_fraction(albedo, n, "albedo", low_open=False, high_open=True)
    eps = _as_fraction(emissivity, n, "emissivity", low_open=True, high_open=False)
    absorbed = (1.0 - a) * (e + _scattered(F, e, a))
    exitance = _neumann_solve(F, absorbed, np.ones((n, 1)))
    emitted = absorbed + eps * (F @ exitance)
    return ((emitted / (eps * STEFAN_BOLTZMANN)) ** 0.25).reshape(np.shape(incident_w_m2))


# --- the spherical bowl of Ingersoll et al. (1992) ----------------------------------------


def spherical_bowl_f(depth_m: ArrayLike, radius_m: ArrayLike) -> float | NDArray:
    """View factor of a spherical bowl to itself, ``f = d^2 / (a^2 + d^2) = (1 - cos beta) / 2`` [-].

    Ingersoll, Svitek & Murray (1992, Icarus 100): the same for every point of the bowl.

    Parameters
    ----------
    depth_m : float or array_like
        Depth d of the bowl below its rim [m], >= 0.
    radius_m : float or array_like
        Radius a of the bowl's opening (the rim) [m], > 0.
    """
    d = np.asarray(depth_m, dtype=np.float64)
    a = np.asarray(radius_m, dtype=np.float64)
    if not (np.all(np.isfinite(d) & (d >= 0)) and np.all(np.isfinite(a) & (a > 0))):
        raise LupexError("a spherical bowl needs a depth >= 0 m and an opening radius > 0 m")
    f = d**2 / (a**2 + d**2)
    return float(f) if f.ndim == 0 else f


def ingersoll_shadow_temperature(
    flux_horizontal_w_m2: ArrayLike,
    view_factor_f: ArrayLike,
    albedo: ArrayLike,
    emissivity: ArrayLike,
) -> float | NDArray:
    """Temperature of any shadowed point of a spherical bowl in radiative equilibrium [K].

    Ingersoll, Svitek & Murray (1992, Icarus 100), derived in the module notes:
    ``sigma T^4 = F f (1 - A) / (1 - A f) * (1 + A (1 - f) / eps)``. It assumes the Sun lights
    the bowl through its whole opening, no conduction and no geothermal flux.

    Parameters
    ----------
    flux_horizontal_w_m2 : float or array_like
        Solar flux on a horizontal plane, the bowl's opening, ``F = S sin(elevation)`` [W m^-2].
    view_factor_f : float or array_like
        The bowl's view factor to itself, :func:`spherical_bowl_f` [-], in [0, 1).
    albedo : float or array_like
        Bond albedo A [-], in [0, 1).
    emissivity : float or array_like
        Infrared emissivity eps [-], in (0, 1]; the flat value (the cavity effect is in the formula).
    """
    flux = np.asarray(flux_horizontal_w_m2, dtype=np.float64)
    f = np.asarray(view_factor_f, dtype=np.float64)
    a = np.asarray(albedo, dtype=np.float64)
    eps = np.asarray(emissivity, dtype=np.float64)
    if not np.all(np.isfinite(flux) & (flux >= 0)):
        raise LupexError("the horizontal solar flux must be finite and >= 0 W m^-2")
    _check_fraction(f, "view factor f", low_open=False, high_open=True)
    _check_fraction(a, "albedo", low_open=False, high_open=True)
    _check_fraction(eps, "emissivity", low_open=True, high_open=False)
    sigma_t4 = flux * f * (1.0 - a) / (1.0 - a * f) * (1.0 + a * (1.0 - f) / eps)
    t = (sigma_t4 / STEFAN_BOLTZMANN) ** 0.25
    return float(t) if t.ndim == 0 else t
