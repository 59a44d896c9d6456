"""Terrain horizons: the elevation angle of the skyline around every DEM pixel.

Geometry
    Heights ``h`` [m] lie above the 1737.4 km sphere on a square-pixel map grid (row 0 at the
    top, the largest y). A ray leaves a pixel centre along grid azimuth ``a`` (clockwise from
    grid north, +y), i.e. ``(dx, dy) = (sin a, cos a)``. A target at ground distance ``d``
    subtends the central angle ``theta = d / R``; with the observer at radius
    ``r0 = R + h0 + mast`` and the target at ``r1 = R + h1`` the straight line of sight rises
    at ``e = atan2(r1 cos(theta) - r0, r1 sin(theta))`` above the observer's horizontal
    plane (:func:`tan_elevation`). Every kernel here uses this exact form; the curvature
    parabola ``tan(e) ~ (h1 - h0 - d^2 / (2R)) / d`` is not used (at 200 km it is 0.003 to
    0.02 deg too high for height differences up to 8 km; see the tests). Horizons can be
    negative: the curvature drop is 1.6 deg at 100 km. Inside a tile, map distance is taken
    as ground distance times a constant: :func:`ground_pixel_m` divides the map pixel by the
    polar stereographic scale factor at the tile centre (``k = 1 + rho^2 / (4 R^2)``, below
    1.0077 poleward of 80 S); its variation across a tile (< 0.2 % over 40 km at 80 S, which
    moves a 10 deg horizon by < 0.02 deg) is neglected.

Fast kernel (:func:`horizon_angles`)
    Per azimuth, two parts combined by max:

    * near field: the exact march of :func:`exact_march` (bilinear samples every half pixel
      from the true pixel centre, as :mod:`lupex.sky.horizon_reference`) out to
      ``near_field_px``. For a fixed azimuth every pixel shares the sample offsets and
      bilinear weights, so this is a set of fixed 4-tap stencils applied row by row
      (vectorised).
    * beyond it: the sweep of Dozier et al. (1981, IEEE Trans. Geosci. Remote Sens. 19(4),
      237-249). Parallel lines in the ray direction, one pixel apart across it, are sampled
      where they cross the grid lines of the dominant axis (linear interpolation across);
      walking each line against the ray, an upper convex hull holds the terrain farther out
      than the near field. The curvature is folded in exactly: each line is laid on its
      great circle, a sample at arc length ``s`` going to ``((R + h) sin(s/R),
      (R + h) cos(s/R))`` in the circle's plane, where the line of sight is straight, so the
      hull's tangent from the observer is its highest point; rotating the tangent by the
      observer's ``s/R`` gives the elevation. A pixel centre lies between two lines; its far
      horizon is the linear interpolation, by its offset across, of the tangents from its
      true position to the two hulls. Hull insertion is amortised O(1) and tangent queries
      walk from the previous answer, so the sweep costs O(pixels) per azimuth.

    Where the ray leaves the tile through a side, its two lines leave it up to ``1 / tau``
    steps apart; when the horizon of the longer line lies beyond the end of the shorter
    one, the short stretch in between is marched exactly from the pixel centre instead.

    Accuracy against the exact march and speed are measured in the tests and in
    ``benchmarks/bench_horizon.py`` (``docs/horizons.md``).

Edges and the far field
    A ray ends where it leaves the square spanned by the outermost pixel centres. A pixel
    with no terrain at all in a direction (an edge pixel facing out of the tile) gets
    ``NO_HORIZON_DEG`` (-90 deg). A coarse far-field DEM (:class:`FarField`) supplies the
    terrain beyond the tile: each sweep line continues along its great circle over it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.limits import MAX_HORIZON_AZIMUTHS, check_memory
from lupex.raster import check_polar, ground_pixel_m, pixel_size

__all__ = [
    "DEFAULT_NEAR_FIELD_PX",
    "NO_HORIZON_DEG",
    "DemHorizons",
    "FarField",
    "check_azimuth_count",
    "check_polar",
    "default_azimuths",
    "exact_march",
    "grid_directions",
    "ground_pixel_m",
    "half_step_arcs",
    "horizon_angles",
    "prepare_heights",
    "snap",
    "tan_elevation",
    "validate_horizon_inputs",
]

NO_HORIZON_DEG = -90.0
"""Horizon given to a direction with no terrain at all [deg]."""

DEFAULT_NEAR_FIELD_PX = 32
"""Distance up to which the fast kernel marches exactly [pixels]."""

FAR_STEP_PX = 0.125
"""Sampling step of the far-field DEM along a ray [far-DEM pixels]."""

MIN_AZIMUTHS = 8
"""Fewest azimuths a horizon cube may have."""

_DEG = 180.0 / np.pi


@numba.njit(cache=True, error_model="numpy", inline="always")
def tan_elevation(dz, r0, cos_t, sin_t, vers_t):
    """Tangent of the elevation angle of the straight line of sight on a sphere.

    ``tan(e) = (r1 cos(theta) - r0) / (r1 sin(theta))`` with ``r1 = r0 + dz``, written so
    that no large radii cancel.

    Parameters
    ----------
    dz : float
        Target height minus observer (eye) height [m].
    r0 : float
        Observer's distance from the sphere's centre [m].
    cos_t, sin_t, vers_t : float
        ``cos(theta)``, ``sin(theta)`` and ``1 - cos(theta)`` of the central angle between
        observer and target [-].
    """
    return (dz * cos_t - r0 * vers_t) / ((r0 + dz) * sin_t)


def check_azimuth_count(count: int) -> int:
    """``count`` itself, if a horizon cube may have that many azimuths (``MIN_AZIMUTHS`` to
    :data:`lupex.limits.MAX_HORIZON_AZIMUTHS`, 8 to 3600).

    Raises
    ------
    LupexError
        For fewer than 8 or more than 3600 azimuths.
    """
    if count < MIN_AZIMUTHS:
        raise LupexError(f"a horizon needs at least {MIN_AZIMUTHS} azimuths, got {count}")
    if count > MAX_HORIZON_AZIMUTHS:
        raise LupexError(f"a horizon takes at most {MAX_HORIZON_AZIMUTHS} azimuths (0.1 deg apart), got {count}; "
                         "use fewer azimuths (finer spacing resolves nothing the DEM can)")
    return count


def default_azimuths(count: int = 360) -> NDArray:
    """``count`` equally spaced grid azimuths starting at grid north [deg] (8 to 3600 of them)."""
    return np.arange(check_azimuth_count(count)) * (360.0 / count)


def grid_directions(azimuths_deg: NDArray) -> tuple[NDArray, NDArray]:
    """Unit steps along each grid azimuth in (column, row) index space.

    Columns grow with x and rows with -y, so azimuth ``a`` steps ``(sin a, -cos a)``.
    Components within 1e-12 of 0 are set to 0, so that the four axis directions stay
    exactly on grid lines.
    """
    a = np.radians(np.asarray(azimuths_deg, dtype=float))
    dc, dr = np.sin(a), -np.cos(a)
    dc[np.abs(dc) < 1e-12] = 0.0
    dr[np.abs(dr) < 1e-12] = 0.0
    return dc, dr


def prepare_heights(heights: ArrayLike) -> NDArray:
    """The DEM as a C-contiguous float64 array, checked to be 2-D, at least 2 x 2 and finite."""
    h = np.ascontiguousarray(heights, dtype=np.float64)
    if h.ndim != 2 or min(h.shape) < 2:
        raise LupexError(f"a horizon needs a 2-D DEM of at least 2 x 2 pixels, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise LupexError("the DEM has missing (NaN) or infinite heights; fill or crop them before computing horizons")
    return h


def validate_horizon_inputs(h: NDArray, pixel_m: float, azimuths_deg: ArrayLike, observer_height_m: float) -> NDArray:
    """Check pixel size, azimuths and observer height; return the azimuths as floats [deg]."""
    azimuths = np.atleast_1d(np.asarray(azimuths_deg, dtype=float))
    if azimuths.ndim != 1 or azimuths.size == 0 or not np.all(np.isfinite(azimuths)):
        raise LupexError("azimuths must be a non-empty 1-D list of finite angles [deg]")
    if not (np.isfinite(pixel_m) and pixel_m > 0):
        raise LupexError(f"the pixel size must be a positive number of metres, got {pixel_m}")
    if not (np.isfinite(observer_height_m) and observer_height_m >= 0):
        raise LupexError(f"the observer height must be >= 0 m, got {observer_height_m}")
    return azimuths


# --- small numerical helpers -------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy", inline="always")
def _atan(x):
    """arctan [rad], Cephes ``atan`` (Moshier 1989): range reduction and a (4, 5) rational fit."""
    a = abs(x)
    if a > 2.414213562373095:  # tan(3 pi / 8)
        base, t, extra = 0.5 * np.pi, -1.0 / a, 6.123233995736766e-17
    elif a > 0.66:
        base, t, extra = 0.25 * np.pi, (a - 1.0) / (a + 1.0), 3.061616997868383e-17
    else:
        base, t, extra = 0.0, a, 0.0
    z = t * t
    p = ((((-8.750608600031904e-1 * z - 1.615753718733365e1) * z - 7.500855792314705e1) * z
          - 1.228866684490136e2) * z - 6.485021904942025e1)
    q = (((((z + 2.485846490142306e1) * z + 1.650270098316988e2) * z + 4.328810604912903e2) * z
          + 4.853903996359137e2) * z + 1.945506571482614e2)
    r = base + (t * z * p / q + t + extra)
    return r if x >= 0 else -r


@numba.njit(cache=True, error_model="numpy", inline="always")
def _to_degrees(t):
    """Elevation [deg] from its tangent; ``NO_HORIZON_DEG`` for -inf (no terrain)."""
    if t == -np.inf:
        return NO_HORIZON_DEG
    return _atan(t) * _DEG


@numba.njit(cache=True, error_model="numpy", inline="always")
def snap(v):
    """``v`` rounded to the nearest integer when within 1e-9 of it (a grid position that
    lands on a grid line stays on it despite rounding)."""
    n = np.round(v)
    return n if abs(v - n) < 1e-9 else v


@numba.njit(cache=True, error_model="numpy")
def half_step_arcs(length_px, pixel_m):
    """cos, sin and 1 - cos of the central angles of half-pixel steps along a ray.

    Row ``k`` is for ``k / 2`` pixels of ``pixel_m`` metres, up to ``length_px`` pixels.
    """
    n = int(np.ceil(2.0 * length_px)) + 2
    arcs = np.empty((n, 3))
    for k in range(n):
        theta = 0.5 * k * pixel_m / MOON_RADIUS_M
        arcs[k, 0], arcs[k, 1], arcs[k, 2] = np.cos(theta), np.sin(theta), 2.0 * np.sin(0.5 * theta) ** 2
    return arcs


@numba.njit(cache=True, error_model="numpy")
def exact_march(h, r, c, dc, dr, arcs, mast_m, first_step=1, stop_step=1 << 62):
    """Largest tan(elevation) along one ray from the centre of pixel (r, c); -inf if none.

    The ray is sampled every half pixel (bilinear heights), from ``first_step`` half pixels
    out until it leaves the square spanned by the outermost pixel centres (or before
    ``stop_step``, if given).

    Parameters
    ----------
    h : ndarray
        Heights [m], float64, shape (ny, nx).
    r, c : int
        Row and column of the observer.
    dc, dr : float
        Unit step of the ray in (column, row) [pixels] (:func:`grid_directions`).
    arcs : ndarray
        :func:`half_step_arcs` of the tile.
    mast_m : float
        Eye height above the ground [m].
    first_step, stop_step : int
        First sample and the one not to reach, in half pixels from the centre.
    """
    ny, nx = h.shape
    h0 = h[r, c] + mast_m
    r0 = MOON_RADIUS_M + h0
    best = -np.inf
    k = first_step
    while k < stop_step:
        d = 0.5 * k
        x = c + snap(d * dc)
        y = r + snap(d * dr)
        if x < 0.0 or y < 0.0 or x > nx - 1 or y > ny - 1:
            return best
        ix = min(int(np.floor(x)), nx - 2)
        iy = min(int(np.floor(y)), ny - 2)
        fx = x - ix
        fy = y - iy
        z = ((1.0 - fy) * ((1.0 - fx) * h[iy, ix] + fx * h[iy, ix + 1])
             + fy * ((1.0 - fx) * h[iy + 1, ix] + fx * h[iy + 1, ix + 1]))
        best = max(best, tan_elevation(z - h0, r0, arcs[k, 0], arcs[k, 1], arcs[k, 2]))
        k += 1
    return best


# --- near field: the exact march as fixed stencils ---------------------------------------


@numba.njit(cache=True, error_model="numpy")
def _near_stencils(dc, dr, near_px, arcs):
    """Offsets, bilinear weights and arcs of the half-pixel samples out to ``near_px``."""
    n = 2 * near_px
    ints = np.empty((n, 4), dtype=np.int64)
    reals = np.empty((n, 7))
    for k in range(n):
        d = 0.5 * (k + 1)
        ox, oy = snap(d * dc), snap(d * dr)
        ix, iy = int(np.floor(ox)), int(np.floor(oy))
        fx, fy = ox - ix, oy - iy
        ints[k, 0], ints[k, 1] = ix, ix + (1 if fx > 0.0 else 0)
        ints[k, 2], ints[k, 3] = iy, iy + (1 if fy > 0.0 else 0)
        reals[k, 0] = (1.0 - fx) * (1.0 - fy)
        reals[k, 1] = fx * (1.0 - fy)
        reals[k, 2] = (1.0 - fx) * fy
        reals[k, 3] = fx * fy
        reals[k, 4], reals[k, 5], reals[k, 6] = arcs[k + 1, 0], arcs[k + 1, 1], arcs[k + 1, 2]
    return ints, reals


@numba.njit(cache=True, error_model="numpy", inline="always")
def _stencil_run(a0, a1, b0, b1, own, weights, mast_m, best):
    """One stencil along a run of pixels: ``a0, a1`` (``b0, b1``) are the left and right
    neighbours in the upper (lower) row of each sample, ``own`` the observers' heights."""
    w00, w01, w10, w11 = weights[0], weights[1], weights[2], weights[3]
    cos_t, sin_t, vers_t = weights[4], weights[5], weights[6]
    for i in range(own.size):
        z = w00 * a0[i] + w01 * a1[i] + w10 * b0[i] + w11 * b1[i]
        h0 = own[i] + mast_m
        best[i] = max(best[i], tan_elevation(z - h0, MOON_RADIUS_M + h0, cos_t, sin_t, vers_t))


@numba.njit(cache=True, error_model="numpy")
def _near_row(h, r, mast_m, ints, reals, best):
    """Raise ``best`` (tan elevation per column of row ``r``) by the near-field samples."""
    ny, nx = h.shape
    for k in range(ints.shape[0]):
        ix, ix1, iy, iy1 = ints[k, 0], ints[k, 1], r + ints[k, 2], r + ints[k, 3]
        lo = max(0, -ix)
        hi = min(nx, nx - ix1)
        if iy < 0 or iy1 > ny - 1 or lo >= hi:
            continue
        _stencil_run(h[iy, lo + ix:hi + ix], h[iy, lo + ix1:hi + ix1], h[iy1, lo + ix:hi + ix],
                     h[iy1, lo + ix1:hi + ix1], h[r, lo:hi], reals[k], mast_m, best[lo:hi])


@numba.njit(cache=True, error_model="numpy")
def _finish_rows(h, mast_m, dc, dr, near_px, arcs, slab, best):
    """Merge the near field into the far-field tangents of ``slab`` and convert to degrees."""
    ints, reals = _near_stencils(dc, dr, near_px, arcs)
    ny, nx = h.shape
    for r in range(ny):
        for c in range(nx):
            best[c] = slab[r, c]
        _near_row(h, r, mast_m, ints, reals, best)
        for c in range(nx):
            slab[r, c] = _to_degrees(best[c])


# --- far field: the line sweep with an upper convex hull ---------------------------------


@numba.njit(cache=True, error_model="numpy")
def _canonical_frame(ny, nx, dc, dr):
    """Map an azimuth onto lines along the dominant axis with a cross drift 0 <= tau <= 1.

    Returns ``(n_cross, n_along, base, stride_cross, stride_along, tau, frame)``: pixel
    ``(p, q)`` (``p`` across, ``q`` along the ray) is flat index
    ``base + p stride_cross + q stride_along``, the ray moves by ``(tau, 1)`` in (p, q), and
    a point (p, q) lies at column ``frame[0] + p frame[2] + q frame[4]`` and row
    ``frame[1] + p frame[3] + q frame[5]``.
    """
    if abs(dc) >= abs(dr):
        col0, row0 = (0 if dc > 0 else nx - 1), (0 if dr >= 0 else ny - 1)
        along, cross = (1 if dc > 0 else -1), (1 if dr >= 0 else -1)
        frame = np.array([col0, row0, 0.0, cross, along, 0.0])
        return ny, nx, row0 * nx + col0, cross * nx, along, abs(dr) / abs(dc), frame
    col0, row0 = (0 if dc >= 0 else nx - 1), (0 if dr > 0 else ny - 1)
    along, cross = (1 if dr > 0 else -1), (1 if dc >= 0 else -1)
    frame = np.array([col0, row0, cross, 0.0, 0.0, along])
    return nx, ny, row0 * nx + col0, cross, along * nx, abs(dc) / abs(dr), frame


@numba.njit(cache=True, error_model="numpy")
def _line_geometry(n_along, tau, pixel_m):
    """Per step ``q`` along a line (where it crosses a grid line of the dominant axis): its
    whole cross offset ``floor(tau q)``, the next step at which that offset grows, and rows
    of (cross fraction, sine and cosine of the arc from the line's start)."""
    offset = np.empty(n_along, dtype=np.int64)
    rise = np.empty(n_along, dtype=np.int64)
    reals = np.empty((n_along, 3))
    step_m = np.sqrt(1.0 + tau * tau) * pixel_m
    for q in range(n_along):
        pos = snap(tau * q)
        offset[q] = int(np.floor(pos))
        reals[q, 0] = pos - offset[q]
        theta = q * step_m / MOON_RADIUS_M
        reals[q, 1], reals[q, 2] = np.sin(theta), np.cos(theta)
    rise[n_along - 1] = n_along
    for q in range(n_along - 2, -1, -1):
        rise[q] = q + 1 if offset[q + 1] > offset[q] else rise[q + 1]
    return offset, rise, reals


@numba.njit(cache=True, error_model="numpy")
def _line_exits(offset, frac, n_cross, first_line):
    """Last step at which each line (from ``first_line`` up) is still inside the tile,
    -1 if never: a line ``j`` sits at cross position ``j + offset + frac``, which must stay
    <= ``n_cross - 1``."""
    exits = np.empty(n_cross - first_line + 1, dtype=np.int64)
    q = offset.size - 1
    for n in range(exits.size):
        j = first_line + n
        while q >= 0 and (j + offset[q] > n_cross - 1 or (j + offset[q] == n_cross - 1 and frac[q] > 0.0)):
            q -= 1
        exits[n] = q
    return exits


@numba.njit(cache=True, error_model="numpy", inline="always")
def _cross(ox, oy, ax, ay, bx, by):
    """z of (A - O) x (B - O): > 0 when B is counter-clockwise of A seen from O."""
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _push(hull, top, x, y, q):
    """Add a point nearer than all others to the upper hull; return the new top index.

    ``hull`` rows are (x, y, step) of the vertices, farthest first.
    """
    while top >= 1 and _cross(x, y, hull[top, 0], hull[top, 1], hull[top - 1, 0], hull[top - 1, 1]) >= 0.0:
        top -= 1
    top += 1
    hull[top, 0] = x
    hull[top, 1] = y
    hull[top, 2] = q
    return top


@numba.njit(cache=True, error_model="numpy", inline="always")
def _tangent(hull, top, hint, ox, oy):
    """Index of the hull vertex of largest elevation from O (nearer than the whole hull).

    The elevation is unimodal along the hull, so a walk from ``hint`` finds it.
    """
    k = min(hint, top)
    while k < top and _cross(ox, oy, hull[k, 0], hull[k, 1], hull[k + 1, 0], hull[k + 1, 1]) > 0.0:
        k += 1
    while k > 0 and _cross(ox, oy, hull[k, 0], hull[k, 1], hull[k - 1, 0], hull[k - 1, 1]) > 0.0:
        k -= 1
    return k


@numba.njit(cache=True, error_model="numpy", inline="always")
def _polar_unit_vector(x, y):
    """Moon-fixed unit vector of a south polar stereographic map point (x, y) [m]: the
    inverse of ``x = 2R Y / (1 - Z)``, ``y = 2R X / (1 - Z)``."""
    u = (x * x + y * y) / (4.0 * MOON_RADIUS_M**2)
    f = 1.0 / (MOON_RADIUS_M * (u + 1.0))
    return np.array([y * f, x * f, (u - 1.0) / (u + 1.0)])


@numba.njit(cache=True, error_model="numpy")
def _great_circle_start(x, y, dc, dr):
    """Unit vectors of a map point and of the great circle leaving it along the map step
    ``(dc, -dr)`` (the map is conformal, so grid azimuths carry over)."""
    origin = _polar_unit_vector(x, y)
    ahead = _polar_unit_vector(x + dc, y - dr) - _polar_unit_vector(x - dc, y + dr)
    ahead -= np.dot(ahead, origin) * origin
    return origin, ahead / np.sqrt(np.dot(ahead, ahead))


@numba.njit(cache=True, error_model="numpy")
def _far_profile(origin, ahead, far, heights):
    """Far-DEM heights along a great circle at the arcs of ``far.arcs`` into ``heights``
    (NaN where unused: inside the tile's box, or missing); returns how many arcs it takes
    to leave the far DEM for good."""
    grid, tile, arcs = far.grid, far.tile, far.arcs
    ny, nx = far.heights.shape
    count = 0
    for k in range(arcs.shape[0]):
        px = arcs[k, 0] * origin[0] + arcs[k, 1] * ahead[0]
        py = arcs[k, 0] * origin[1] + arcs[k, 1] * ahead[1]
        scale = 2.0 * MOON_RADIUS_M / (1.0 - arcs[k, 0] * origin[2] - arcs[k, 1] * ahead[2])
        x, y = scale * py, scale * px
        col, row = (x - grid[0]) / grid[2], (grid[1] - y) / grid[2]
        if not (0.0 <= col <= nx - 1 and 0.0 <= row <= ny - 1):
            if count > 0:
                return count
            heights[k] = np.nan
            continue
        count = k + 1
        inside = tile[3] <= x <= tile[4] and tile[5] <= y <= tile[6]
        heights[k] = np.nan if inside else _bilinear_or_nan(far.heights, col, row)
    return count


@numba.njit(cache=True, error_model="numpy")
def _push_far_field(hull, j, tau, n_cross, n_along, frame, step_m, dc, dr, far, heights):
    """Start line ``j``'s hull with the far-field DEM beyond the tile; return its top index.

    From the point where the line leaves the tile the ray follows the great circle in the
    same grid azimuth, sampled at the arcs of ``far.arcs`` (:func:`_far_steps`,
    :func:`_far_profile`, into the scratch ``heights``). Sample ``k`` gets step number
    ``n_along + k`` (beyond every tile step) and arc ``theta_exit + arc_k`` on the line's
    circle (``step_m``: ground length of a step along the line).
    """
    top = -1
    q_exit = n_along - 1.0 if tau == 0.0 else min(n_along - 1.0, (n_cross - 1.0 - j) / tau)
    p_exit = j + tau * q_exit
    if p_exit < 0.0 or far.heights.shape[0] < 2:
        return top
    tile = far.tile
    col = frame[0] + p_exit * frame[2] + q_exit * frame[4]
    row = frame[1] + p_exit * frame[3] + q_exit * frame[5]
    origin, ahead = _great_circle_start(tile[0] + col * tile[2], tile[1] - row * tile[2], dc, dr)
    theta = q_exit * step_m / MOON_RADIUS_M
    sin_e, cos_e = np.sin(theta), np.cos(theta)
    for k in range(_far_profile(origin, ahead, far, heights) - 1, -1, -1):
        if not np.isnan(heights[k]):
            cos_k, sin_k = far.arcs[k, 0], far.arcs[k, 1]
            r = MOON_RADIUS_M + heights[k]
            top = _push(hull, top, r * (sin_e * cos_k + cos_e * sin_k), r * (cos_e * cos_k - sin_e * sin_k),
                        n_along + k)
    return top


@numba.njit(cache=True, error_model="numpy")
def _far_sweep(h, mast_m, dc, dr, near_px, pixel_m, arcs, far, out, hull, scratch):
    """Tangent of the horizon beyond the near field of every pixel, for one azimuth, into
    ``out`` (flat; -inf: no terrain there). ``far`` is the far field (:class:`FarField`);
    ``hull`` and ``scratch`` are work space."""
    ny, nx = h.shape
    hf = h.reshape(ny * nx)
    n_cross, n_along, base, s_cross, s_along, tau, frame = _canonical_frame(ny, nx, dc, dr)
    offset, rise, reals = _line_geometry(n_along, tau, pixel_m)
    step_px = np.sqrt(1.0 + tau * tau)
    first_far = int(np.floor(near_px / step_px)) + 1
    first_line = -offset[n_along - 1] - 1
    exits = _line_exits(offset, reals[:, 0], n_cross, first_line)
    for j in range(first_line, n_cross):
        exit_here = exits[j - first_line]
        exit_above = exits[j - first_line + 1]
        top = _push_far_field(hull, j, tau, n_cross, n_along, frame, step_px * pixel_m, dc, dr, far, scratch)
        hint = 0
        for q in range(n_along - 1, -1, -1):
            qs = q + first_far  # the sample that is now beyond the near field of step q
            p = j + offset[qs] if qs <= exit_here else -1
            if p >= 0:
                fp = reals[qs, 0]
                i0 = base + p * s_cross + qs * s_along
                r = MOON_RADIUS_M + (hf[i0] if fp == 0.0 else (1.0 - fp) * hf[i0] + fp * hf[i0 + s_cross])
                top = _push(hull, top, r * reals[qs, 1], r * reals[qs, 2], qs)
            p = j + offset[q]
            if p < -1:
                break
            fp, sin_o, cos_o = reals[q, 0], reals[q, 1], reals[q, 2]
            # pixel p (the line passes fp beyond it) and pixel p + 1 (1 - fp short of it)
            for pix, weight in ((p, 1.0 - fp), (p + 1, fp)):
                if pix < 0 or pix > n_cross - 1 or weight == 0.0:
                    continue
                flat = base + pix * s_cross + q * s_along
                t = -np.inf
                if top >= 0:
                    r0 = MOON_RADIUS_M + hf[flat] + mast_m
                    ox, oy = r0 * sin_o, r0 * cos_o
                    hint = _tangent(hull, top, hint, ox, oy)
                    dx, dy = hull[hint, 0] - ox, hull[hint, 1] - oy
                    t = (dx * sin_o + dy * cos_o) / (dx * cos_o - dy * sin_o)
                if pix == p + 1:  # the first of its two lines: NaN if its horizon lies beyond
                    beyond = top >= 0 and exit_above < hull[hint, 2] < n_along  # the other's end
                    out[flat] = np.nan if beyond else t
                elif weight == 1.0:
                    out[flat] = t
                else:
                    out[flat] = _two_lines(h, flat, out[flat], t, fp, pix == 0, dc, dr, arcs, mast_m, 2 * near_px + 1,
                                           2.0 * (exit_here - q) * step_px, 2.0 * (rise[q] - q) * step_px)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _two_lines(h, flat, first, second, w_first, first_edge, dc, dr, arcs, mast_m, far_start, end_second, start_first):
    """Far horizon (tangent) of a pixel from the horizons of its two lines.

    Normally their interpolation by distance across. Two cases near a tile edge get exact
    samples: the first line's horizon lies beyond the end of the second (NaN), so the second
    line's horizon is topped up by marching the ray from where the second line ends
    (``end_second``, in half pixels); or, for the first row of the sweep, the first line only
    enters the tile ``start_first`` half pixels out and the ray is marched up to there.
    """
    nx = h.shape[1]
    if np.isnan(first):
        return max(second, exact_march(h, flat // nx, flat % nx, dc, dr, arcs, mast_m, max(far_start, int(end_second))))
    blend = second if first == -np.inf else w_first * first + (1.0 - w_first) * second
    if first_edge:
        return max(blend, exact_march(h, flat // nx, flat % nx, dc, dr, arcs, mast_m, far_start, int(start_first) + 1))
    return blend


# --- the kernel ---------------------------------------------------------------------------


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _horizon_kernel(h, mast_m, dcs, drs, near_px, pixel_m, far, workers, out):
    ny, nx = h.shape
    n_az = dcs.size
    arcs = half_step_arcs(max(np.hypot(ny - 1, nx - 1), near_px + 1.0), pixel_m)
    for w in numba.prange(workers):
        hull = np.empty((max(ny, nx) + far.arcs.shape[0], 3))
        scratch = np.empty(far.arcs.shape[0])
        best = np.empty(nx)
        for a in range(w, n_az, workers):
            slab = out[a]
            _far_sweep(h, mast_m, dcs[a], drs[a], near_px, pixel_m, arcs, far, slab.reshape(ny * nx), hull, scratch)
            _finish_rows(h, mast_m, dcs[a], drs[a], near_px, arcs, slab, best)


def horizon_angles(
    heights: ArrayLike,
    pixel_m: float,
    azimuths_deg: ArrayLike,
    observer_height_m: float = 0.0,
    near_field_px: int = DEFAULT_NEAR_FIELD_PX,
    far_field: FarField | None = None,
) -> NDArray:
    """Horizon elevation angles of every pixel of a DEM tile (fast kernel).

    Parameters
    ----------
    heights : array_like
        Heights above the 1737.4 km sphere [m], shape (ny, nx), row 0 at the top (largest y).
    pixel_m : float
        Ground size of a pixel [m] (:func:`ground_pixel_m` for a georeferenced DEM).
    azimuths_deg : array_like
        Grid azimuths, clockwise from grid north (+y) [deg].
    observer_height_m : float
        Eye height above the ground [m] (0 for the surface, 2 for a mast).
    near_field_px : int
        Distance marched exactly from each pixel centre [pixels]; beyond it the convex-hull
        sweep takes over.
    far_field : FarField, optional
        Terrain beyond the tile (:meth:`FarField.around`); ``heights`` must then be that
        tile's heights.

    Returns
    -------
    ndarray
        Horizon elevation angles [deg], float32, shape (n_azimuths, ny, nx);
        ``NO_HORIZON_DEG`` where a direction has no terrain.
    """
    h = prepare_heights(heights)
    azimuths = validate_horizon_inputs(h, pixel_m, azimuths_deg, observer_height_m)
    if int(near_field_px) != near_field_px or near_field_px < 1:
        raise LupexError(f"near_field_px must be a positive whole number of pixels, got {near_field_px}")
    check_memory(4.0 * azimuths.size * h.size, f"the horizons of a {h.shape[1]} x {h.shape[0]} pixel DEM at "
                 f"{azimuths.size} azimuths at once", "compute fewer azimuths at a time (DemHorizons.chunks) "
                 "or write them to a file with 'lupex horizon'")
    dcs, drs = grid_directions(azimuths)
    out = np.empty((azimuths.size, *h.shape), dtype=np.float32)
    far = _NO_FAR_FIELD if far_field is None else far_field.arrays
    workers = min(numba.get_num_threads(), azimuths.size)
    _horizon_kernel(h, float(observer_height_m), dcs, drs, int(near_field_px), float(pixel_m), far, workers, out)
    return out


# --- far field: a coarse DEM beyond the tile ------------------------------------------------


class _FarArrays(NamedTuple):
    """The far field as the kernel takes it (empty ``heights``: none)."""

    heights: NDArray  # far DEM [m], NaN where missing
    grid: NDArray  # its first pixel centre x, y and pixel size [m]
    tile: NDArray  # the tile's first pixel centre x, y, map pixel size; xmin, xmax, ymin, ymax
    # of its box of pixel centres grown by half a far pixel, where the far DEM is not used [m]
    arcs: NDArray  # cos, sin, 1 - cos of the arcs sampled beyond the tile (_far_steps)


_NO_FAR_FIELD = _FarArrays(np.empty((0, 0)), np.zeros(3), np.zeros(7), np.zeros((1, 3)))


@numba.njit(cache=True, error_model="numpy", inline="always")
def _bilinear_or_nan(z, col, row):
    """Bilinear value of grid ``z`` at fractional (col, row); NaN outside it."""
    ny, nx = z.shape
    if col < 0.0 or row < 0.0 or col > nx - 1 or row > ny - 1:
        return np.nan
    ic = min(int(col), nx - 2)
    ir = min(int(row), ny - 2)
    fc = col - ic
    fr = row - ir
    return ((1.0 - fr) * ((1.0 - fc) * z[ir, ic] + fc * z[ir, ic + 1])
            + fr * ((1.0 - fc) * z[ir + 1, ic] + fc * z[ir + 1, ic + 1]))


@dataclass(frozen=True)
class FarField:
    """A coarse DEM around a tile, whose terrain beyond the tile adds to its horizons.

    Build it with :meth:`around`. In the sweep, every line of the tile continues past the
    tile's edge along the great circle of its grid azimuth, sampling the far DEM bilinearly
    every ``FAR_STEP_PX`` of its pixels, with the exact elevation of :func:`tan_elevation`;
    those samples join the line's hull, so the far field costs a few hundred samples per
    line rather than per pixel. The far DEM is not used inside the tile, nor within half a
    far pixel of it, where its cells overlap the tile; choose a tile that reaches a few far
    pixels beyond the area whose horizons matter.
    """

    arrays: _FarArrays

    @classmethod
    def around(cls, dem: xr.DataArray, far_dem: xr.DataArray) -> FarField:
        """The far field of ``far_dem`` around the tile ``dem``.

        Parameters
        ----------
        dem : xarray.DataArray
            The tile, on the south polar stereographic map.
        far_dem : xarray.DataArray
            Heights above the 1737.4 km sphere [m] on the same map, covering the terrain that
            can show above the tile's horizon: at the poles >= 200 km beyond the tile (the
            curvature sinks a target by ``d / (2R)``, 3.3 deg at 200 km). NaN where missing.
        """
        tile_px = pixel_size(check_polar(dem, "DEM"))
        step = pixel_size(check_polar(far_dem, "far-field DEM"))
        x, y = dem["x"].values, dem["y"].values
        fx, fy = far_dem["x"].values, far_dem["y"].values
        reach = np.hypot(fx.max() - fx.min(), fy.max() - fy.min()) + np.hypot(x.max() - x.min(), y.max() - y.min())
        margin = 0.5 * step
        heights = np.ascontiguousarray(far_dem.values, dtype=np.float64)
        if heights.ndim != 2 or min(heights.shape) < 2 or not np.isfinite(heights).any():
            raise LupexError("the far-field DEM must be a 2-D grid of at least 2 x 2 pixels with some heights")
        return cls(_FarArrays(
            heights, np.array([fx[0], fy[0], step]),
            np.array([x[0], y[0], tile_px, x.min() - margin, x.max() + margin, y.min() - margin, y.max() + margin]),
            _far_steps(step, reach),
        ))


def _far_steps(far_px_m: float, reach_m: float) -> NDArray:
    """cos, sin and 1 - cos of the arcs at which a ray samples the far DEM beyond the tile:
    every ``FAR_STEP_PX`` far pixels from half a far pixel out to ``reach_m`` [m]."""
    step = FAR_STEP_PX * far_px_m
    arc = np.arange(0.5 * far_px_m, reach_m + step, step) / MOON_RADIUS_M
    return np.stack([np.cos(arc), np.sin(arc), 2.0 * np.sin(0.5 * arc) ** 2], axis=1)


# --- georeferenced DEMs -------------------------------------------------------------------


@dataclass(frozen=True)
class DemHorizons:
    """Horizons of a georeferenced DEM tile, computed a chunk of azimuths at a time.

    Calling it with azimuths gives the ``(n_azimuths, ny, nx)`` float32 cube [deg] (the
    ``compute`` that :func:`lupex.sky.horizon_store.write_horizon` expects) from the fast
    kernel (:func:`horizon_angles`), with the terrain of a far-field DEM beyond the tile
    when one is given (:class:`FarField`).

    Attributes
    ----------
    dem : xarray.DataArray
        Heights above the 1737.4 km sphere [m] on the south polar stereographic map.
    observer_height_m : float
        Eye height above the ground [m].
    near_field_px : int
        Exactly marched distance of the fast kernel [pixels].
    far_dem : xarray.DataArray or None
        Coarser DEM around the tile on the same map, or None for the tile alone.
    """

    dem: xr.DataArray
    observer_height_m: float = 0.0
    near_field_px: int = DEFAULT_NEAR_FIELD_PX
    far_dem: xr.DataArray | None = None

    @functools.cached_property
    def _far_field(self) -> FarField | None:
        """The far field wrapped around the tile, built once for every chunk of azimuths."""
        return None if self.far_dem is None else FarField.around(self.dem, self.far_dem)

    def __call__(self, azimuths_deg: ArrayLike) -> NDArray:
        """Horizon elevation angles [deg], float32, shape (n_azimuths, ny, nx)."""
        return horizon_angles(self.dem.values, ground_pixel_m(self.dem), azimuths_deg,
                              self.observer_height_m, self.near_field_px, self._far_field)

    def chunks(self, azimuths_deg: ArrayLike, size: int = 8) -> Iterator[tuple[slice, NDArray]]:
        """Yield ``(azimuth index slice, horizons of those azimuths)``, ``size`` at a time,
        so a cube too large for memory can be written out as it is computed."""
        azimuths = np.atleast_1d(np.asarray(azimuths_deg, dtype=float))
        for start in range(0, azimuths.size, size):
            part = slice(start, min(start + size, azimuths.size))
            yield part, self(azimuths[part])

    def cube(self, azimuths_deg: ArrayLike | None = None) -> xr.DataArray:
        """The whole cube as a DataArray ``horizon_deg`` with dims (azimuth, y, x).

        Parameters
        ----------
        azimuths_deg : array_like, optional
            Grid azimuths, clockwise from grid north (+y) [deg]; default 360 at 1 deg.
        """
        azimuths = default_azimuths() if azimuths_deg is None else np.asarray(azimuths_deg, dtype=float)
        if azimuths.size < MIN_AZIMUTHS:
            raise LupexError(f"a horizon cube needs at least {MIN_AZIMUTHS} azimuths, got {azimuths.size}")
        cube = xr.DataArray(
            self(azimuths), dims=("azimuth", "y", "x"),
            coords={"azimuth": azimuths, "y": self.dem["y"].values, "x": self.dem["x"].values},
            name="horizon_deg",
            attrs={"units": "degree", "long_name": "elevation angle of the terrain horizon",
                   "observer_height_m": float(self.observer_height_m)},
        )
        cube["azimuth"].attrs.update(units="degree", long_name="grid azimuth, clockwise from grid north (+y)")
        return cube.rio.write_crs(self.dem.rio.crs).rio.write_transform(self.dem.rio.transform())
