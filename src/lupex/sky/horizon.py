"""Terrain horizons: the elevation angle of the skyline around every DEM pixel.

Geometry
    Heights ``h`` [m] lie above the 1737.4 km sphere on a square-pixel map grid (row 0 at the
    top, the largest y). A ray leaves a pixel centre along grid azimuth ``a`` (clockwise from
    grid north, +y), i.e. ``(dx, dy) = (sin a, cos a)``. A target at ground distance ``d``
    subtends the central angle ``theta = d / R``; with the observer at radius
    ``r0 = R + h0 + mast`` and the target at ``r1 = R + h1`` the straight line of sight rises
    at ``e = atan2(r1 cos(theta) - r0, r1 sin(theta))`` above the observer's horizontal
    plane (:func:`tan_elevation`). Every kernel here uses this exact form; the curvature
    parabola ``tan(e) ~ (h1 - h0 - d^2 / (2R)) / d`` is only quoted (it is 0.03 deg off at
    200 km, see the tests). Horizons can be negative (1.6 deg of curvature drop at 100 km).
    Map distance is taken as ground distance times a constant: :func:`ground_pixel_m` divides
    the map pixel by the polar stereographic scale factor at the tile centre
    (``k = 1 + rho^2 / (4 R^2)``, below 1.0077 poleward of 80 S); its variation across a
    tile (< 0.2 % over 40 km at 80 S) is neglected.

Fast kernel (:func:`horizon_angles`)
    Per azimuth, two parts combined by max:

    * near field: the exact march of :mod:`lupex.sky.horizon_reference` (bilinear samples
      every half pixel from the true pixel centre) up to ``near_field_px``. For a fixed
      azimuth every pixel shares the sample offsets and bilinear weights, so this is a set
      of fixed 4-tap stencils applied row by row (vectorised).
    * far field: Dozier et al. (1981, IEEE Trans. Geosci. Remote Sens. 19(4), 237-249)
      sweep. Parallel lines in the ray direction, one pixel apart across it, are sampled
      bilinearly every half step along the dominant grid axis; walking each line against
      the ray, an upper convex hull holds the terrain farther than the near field. The
      curvature is folded in exactly: each line is laid on its great circle, a sample at
      arc length ``s`` going to ``((R + h) sin(s/R), (R + h) cos(s/R))`` in the circle's
      plane, where the line of sight is straight, so the hull's tangent from the observer is
      the true horizon point; rotating it by the observer's ``s/R`` gives the elevation. A
      pixel centre lies between two lines; its far horizon is the linear interpolation, by
      its offset across, of the tangents from its true position on the two lines. Hull
      insertion is amortised O(1); tangent queries walk from the previous answer.

    Accuracy against the exact march and speed are measured in the tests and in
    ``benchmarks/bench_horizon.py`` (``docs/horizons.md``).

Edges
    A ray ends where it leaves the square spanned by the outermost pixel centres. A pixel
    with no terrain at all in a direction (an edge pixel facing out of the tile) gets
    ``NO_HORIZON_DEG`` (-90 deg); supply a far-field DEM to see beyond the tile.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError

__all__ = [
    "DEFAULT_NEAR_FIELD_PX",
    "NO_HORIZON_DEG",
    "default_azimuths",
    "grid_directions",
    "horizon_angles",
    "prepare_heights",
    "snap",
    "tan_elevation",
    "validate_horizon_inputs",
]

NO_HORIZON_DEG = -90.0
"""Horizon given to a direction with no terrain at all [deg]."""

DEFAULT_NEAR_FIELD_PX = 24
"""Distance up to which the fast kernel marches exactly [pixels]."""

MIN_AZIMUTHS = 8
"""Fewest azimuths a horizon cube may have."""

_SUBSTEPS = 2
"""Far-field samples per step along the dominant grid axis."""

_DEG = 180.0 / np.pi


@numba.njit(cache=True, inline="always")
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


def default_azimuths(count: int = 360) -> NDArray:
    """``count`` equally spaced grid azimuths starting at grid north [deg]."""
    if count < MIN_AZIMUTHS:
        raise LupexError(f"a horizon needs at least {MIN_AZIMUTHS} azimuths, got {count}")
    return np.arange(count) * (360.0 / count)


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


@numba.njit(cache=True, inline="always")
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


@numba.njit(cache=True, inline="always")
def _to_degrees(t):
    """Elevation [deg] from its tangent; ``NO_HORIZON_DEG`` for -inf (no terrain)."""
    if t == -np.inf:
        return NO_HORIZON_DEG
    return _atan(t) * _DEG


@numba.njit(cache=True, inline="always")
def snap(v):
    """``v`` rounded to the nearest integer when within 1e-9 of it (a grid position that
    lands on a grid line stays on it despite rounding)."""
    n = np.round(v)
    return n if abs(v - n) < 1e-9 else v


@numba.njit(cache=True, inline="always")
def _arc(distance_px, pixel_m):
    """cos, sin and 1 - cos of the central angle spanned by a distance in pixels."""
    theta = distance_px * pixel_m / MOON_RADIUS_M
    return np.cos(theta), np.sin(theta), 2.0 * np.sin(0.5 * theta) ** 2


# --- near field: the exact march as fixed stencils ---------------------------------------


@numba.njit(cache=True)
def _near_stencils(dc, dr, near_px, pixel_m):
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
        reals[k, 4], reals[k, 5], reals[k, 6] = _arc(d, pixel_m)
    return ints, reals


@numba.njit(cache=True)
def _near_row(h, r, mast_m, ints, reals, best):
    """Raise ``best`` (tan elevation per column of row ``r``) by the near-field samples."""
    ny, nx = h.shape
    for k in range(ints.shape[0]):
        ix, ix1, iy, iy1 = ints[k, 0], ints[k, 1], r + ints[k, 2], r + ints[k, 3]
        if iy < 0 or iy1 > ny - 1:
            continue
        w00, w01, w10, w11 = reals[k, 0], reals[k, 1], reals[k, 2], reals[k, 3]
        cos_t, sin_t, vers_t = reals[k, 4], reals[k, 5], reals[k, 6]
        c_lo = max(0, -ix)
        c_hi = min(nx, nx - ix1)
        for c in range(c_lo, c_hi):
            z = (w00 * h[iy, c + ix] + w01 * h[iy, c + ix1]
                 + w10 * h[iy1, c + ix] + w11 * h[iy1, c + ix1])
            h0 = h[r, c] + mast_m
            t = tan_elevation(z - h0, MOON_RADIUS_M + h0, cos_t, sin_t, vers_t)
            best[c] = max(best[c], t)


@numba.njit(cache=True)
def _finish_rows(h, mast_m, dc, dr, near_px, pixel_m, slab, best):
    """Merge the near field into the far-field tangents of ``slab`` and convert to degrees."""
    ints, reals = _near_stencils(dc, dr, near_px, pixel_m)
    ny, nx = h.shape
    for r in range(ny):
        for c in range(nx):
            best[c] = slab[r, c]
        _near_row(h, r, mast_m, ints, reals, best)
        for c in range(nx):
            slab[r, c] = _to_degrees(best[c])


# --- far field: the line sweep with an upper convex hull ---------------------------------


@numba.njit(cache=True)
def _canonical_frame(ny, nx, dc, dr):
    """Map an azimuth onto lines along the dominant axis with a cross drift 0 <= tau <= 1.

    Returns ``(n_cross, n_along, base, stride_cross, stride_along, tau)``: pixel
    ``(p, q)`` (``p`` across, ``q`` along the ray) is flat index
    ``base + p stride_cross + q stride_along`` and the ray moves by ``(tau, 1)`` in (p, q).
    """
    if abs(dc) >= abs(dr):
        col0 = 0 if dc > 0 else nx - 1
        row0 = 0 if dr >= 0 else ny - 1
        along = 1 if dc > 0 else -1
        cross = nx if dr >= 0 else -nx
        return ny, nx, row0 * nx + col0, cross, along, abs(dr) / abs(dc)
    row0 = 0 if dr > 0 else ny - 1
    col0 = 0 if dc >= 0 else nx - 1
    along = nx if dr > 0 else -nx
    cross = 1 if dc >= 0 else -1
    return nx, ny, row0 * nx + col0, cross, along, abs(dc) / abs(dr)


@numba.njit(cache=True)
def _line_samples(n_along, tau, pixel_m):
    """Per far-field sample position along a line: cross offset and its fraction, along
    index and its fraction, and the sine and cosine of the arc from the line's start."""
    n = _SUBSTEPS * (n_along - 1) + 1
    step = np.sqrt(1.0 + tau * tau) / _SUBSTEPS
    offset = np.empty(n, dtype=np.int64)
    column = np.empty(n, dtype=np.int64)
    reals = np.empty((n, 4))
    for i in range(n):
        q = i / _SUBSTEPS
        pos = tau * q
        offset[i] = int(np.floor(pos))
        reals[i, 0] = pos - offset[i]
        column[i] = i // _SUBSTEPS
        reals[i, 1] = q - column[i]
        theta = i * step * pixel_m / MOON_RADIUS_M
        reals[i, 2], reals[i, 3] = np.sin(theta), np.cos(theta)
    return offset, column, reals


@numba.njit(cache=True, inline="always")
def _cross(ox, oy, ax, ay, bx, by):
    """z of (A - O) x (B - O): > 0 when B is counter-clockwise of A seen from O."""
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


@numba.njit(cache=True, inline="always")
def _push(hx, hy, top, x, y):
    """Add a point nearer than all others to the upper hull; return the new top index."""
    while top >= 1 and _cross(x, y, hx[top], hy[top], hx[top - 1], hy[top - 1]) >= 0.0:
        top -= 1
    top += 1
    hx[top] = x
    hy[top] = y
    return top


@numba.njit(cache=True, inline="always")
def _tangent(hx, hy, top, hint, ox, oy):
    """Index of the hull vertex of largest elevation from O (nearer than the whole hull).

    The elevation is unimodal along the hull, so a walk from ``hint`` finds it.
    """
    k = min(hint, top)
    while k < top and _cross(ox, oy, hx[k], hy[k], hx[k + 1], hy[k + 1]) > 0.0:
        k += 1
    while k > 0 and _cross(ox, oy, hx[k], hy[k], hx[k - 1], hy[k - 1]) > 0.0:
        k -= 1
    return k


@numba.njit(cache=True, inline="always")
def _sample(hf, base, stride_cross, stride_along, p, n_cross, column, fp, fq):
    """Bilinear height at cross position ``p + fp`` and along position ``column + fq``."""
    p1 = p + 1 if fp > 0.0 else p
    c1 = column + 1 if fq > 0.0 else column
    i00 = base + p * stride_cross + column * stride_along
    i01 = base + p * stride_cross + c1 * stride_along
    i10 = base + p1 * stride_cross + column * stride_along
    i11 = base + p1 * stride_cross + c1 * stride_along
    return ((1.0 - fp) * ((1.0 - fq) * hf[i00] + fq * hf[i01])
            + fp * ((1.0 - fq) * hf[i10] + fq * hf[i11]))


@numba.njit(cache=True)
def _far_sweep(hf, ny, nx, mast_m, dc, dr, near_px, pixel_m, out, hx, hy):
    """Far-field tan(elevation) of every pixel for one azimuth into ``out`` (flat, -inf: none)."""
    n_cross, n_along, base, s_cross, s_along, tau = _canonical_frame(ny, nx, dc, dr)
    offset, column, reals = _line_samples(n_along, tau, pixel_m)
    last = offset.size - 1
    first_far = int(np.floor(near_px * _SUBSTEPS / np.sqrt(1.0 + tau * tau))) + 1
    for j in range(-offset[last] - 1, n_cross):
        top = -1
        hint = 0
        for q in range(n_along - 1, -1, -1):
            # the samples that are now beyond the near field of column q
            for i in range(min((q + 1) * _SUBSTEPS + first_far - 1, last), q * _SUBSTEPS + first_far - 1, -1):
                p = j + offset[i]
                fp = reals[i, 0]
                if p < 0 or p > n_cross - 1 or (p == n_cross - 1 and fp > 0.0):
                    continue
                z = MOON_RADIUS_M + _sample(hf, base, s_cross, s_along, p, n_cross, column[i], fp, reals[i, 1])
                top = _push(hx, hy, top, z * reals[i, 2], z * reals[i, 3])
            iq = q * _SUBSTEPS
            p = j + offset[iq]
            if p < -1:
                break
            fp = reals[iq, 0]
            sin_o, cos_o = reals[iq, 2], reals[iq, 3]
            # pixel p (this line passes fp above it) and pixel p + 1 (1 - fp below it)
            for pix, weight in ((p, 1.0 - fp), (p + 1, fp)):
                if pix < 0 or pix > n_cross - 1 or weight == 0.0:
                    continue
                t = -np.inf
                if top >= 0:
                    r0 = MOON_RADIUS_M + hf[base + pix * s_cross + q * s_along] + mast_m
                    ox, oy = r0 * sin_o, r0 * cos_o
                    hint = _tangent(hx, hy, top, hint, ox, oy)
                    dx, dy = hx[hint] - ox, hy[hint] - oy
                    t = (dx * sin_o + dy * cos_o) / (dx * cos_o - dy * sin_o)
                flat = base + pix * s_cross + q * s_along
                if pix == p + 1:
                    out[flat] = t  # first of its two lines
                else:
                    out[flat] = _blend(out[flat], t, fp)


@numba.njit(cache=True, inline="always")
def _blend(lower, upper, w_lower):
    """Interpolate two tangents with weight ``w_lower`` on the first; a missing one (-inf)
    leaves the other."""
    if w_lower == 0.0 or lower == -np.inf:
        return upper
    if upper == -np.inf:
        return lower
    return w_lower * lower + (1.0 - w_lower) * upper


# --- the kernel ---------------------------------------------------------------------------


@numba.njit(parallel=True, cache=True)
def _horizon_kernel(h, mast_m, dcs, drs, near_px, pixel_m, out):
    ny, nx = h.shape
    hf = h.reshape(ny * nx)
    n_az = dcs.size
    workers = min(numba.get_num_threads(), n_az)
    capacity = _SUBSTEPS * max(ny, nx) + 1
    for w in numba.prange(workers):
        hx = np.empty(capacity)
        hy = np.empty(capacity)
        best = np.empty(nx)
        for a in range(w, n_az, workers):
            slab = out[a]
            _far_sweep(hf, ny, nx, mast_m, dcs[a], drs[a], near_px, pixel_m, slab.reshape(ny * nx), hx, hy)
            _finish_rows(h, mast_m, dcs[a], drs[a], near_px, pixel_m, slab, best)


def horizon_angles(
    heights: ArrayLike,
    pixel_m: float,
    azimuths_deg: ArrayLike,
    observer_height_m: float = 0.0,
    near_field_px: int = DEFAULT_NEAR_FIELD_PX,
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

    Returns
    -------
    ndarray
        Horizon elevation angles [deg], float32, shape (n_azimuths, ny, nx);
        ``NO_HORIZON_DEG`` where a direction has no terrain inside the tile.
    """
    h = prepare_heights(heights)
    azimuths = validate_horizon_inputs(h, pixel_m, azimuths_deg, observer_height_m)
    if int(near_field_px) != near_field_px or near_field_px < 1:
        raise LupexError(f"near_field_px must be a positive whole number of pixels, got {near_field_px}")
    dcs, drs = grid_directions(azimuths)
    out = np.empty((azimuths.size, *h.shape), dtype=np.float32)
    _horizon_kernel(h, float(observer_height_m), dcs, drs, int(near_field_px), float(pixel_m), out)
    return out
