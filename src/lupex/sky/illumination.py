"""From horizons and a body's track across the sky to maps of light and line of sight.

A *track* is the path of the Sun (or the Earth) in the sky of one reference point of the
tile, sampled at regular epochs: grid azimuth, elevation and apparent radius. A pixel a
ground distance ``s`` from the reference sees the same distant body at the same grid
azimuth but at an elevation higher by ``(s . a_hat) / R`` [rad], where ``a_hat`` is the
horizontal unit vector toward the body: its local vertical is tilted by ``s / R``. So the
body is visible from the pixel when it stands above the pixel's horizon lowered by that
tilt, ``h'(a) = h(a) - (dx sin a + dy cos a) / R``.

Maps over long periods then cost nothing per epoch (Mazarico et al. 2011, Icarus 211, use
per-epoch horizons lookups; the binned form here is lupex's): each epoch is shared between
the two horizon azimuths around the body's azimuth (linear weights), and per azimuth a table
holds the time-averaged visibility as a function of the obstruction angle. A pixel's mean
visibility is the sum over azimuths of its table values at its own horizon angles, and it
is permanently shadowed when its horizon rises above the highest disk top the body ever
reaches at every azimuth (the *envelope*).

Visibility of a finite disk of angular radius ``r`` whose centre stands ``d`` above a
locally straight horizon is the area fraction above a chord,
``f = 1 - (acos(d / r) - (d / r) sqrt(1 - (d / r)^2)) / pi`` for ``|d| < r``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from lupex.constants import MOON_RADIUS_M

__all__ = [
    "BodyTrack",
    "VisibilityTable",
    "azimuth_split",
    "build_table",
    "disk_fraction_at",
    "disk_visible_fraction",
    "longest_darkness_hours",
    "mean_visibility",
    "never_visible",
    "pixel_major_blocks",
    "tilt_terms",
    "visibility_per_epoch",
]

_TABLE_STEP_DEG = 0.002
"""Obstruction-angle step of the visibility tables [deg]: 0.75 % of the Sun's radius."""


@dataclass(frozen=True)
class BodyTrack:
    """A body's path across the sky of a reference point, at regular epochs.

    Attributes
    ----------
    times : ndarray of datetime64[ns]
        Epochs (UTC), equally spaced.
    azimuth_deg : ndarray
        Grid azimuth of the body, clockwise from grid north (+y) [deg].
    elevation_deg : ndarray
        Elevation of the body's centre above the reference point's horizontal plane [deg].
    radius_deg : ndarray
        Apparent angular radius of the body [deg].
    reference_xy : tuple of float
        Map coordinates of the reference point [m].
    step_h : float
        Time between epochs [h].
    """

    times: NDArray
    azimuth_deg: NDArray
    elevation_deg: NDArray
    radius_deg: NDArray
    reference_xy: tuple[float, float]
    step_h: float


@dataclass(frozen=True)
class VisibilityTable:
    """Per-azimuth time-averaged visibility against obstruction angle, and the elevation envelope.

    Attributes
    ----------
    n_azimuths : int
        Horizon azimuths, equally spaced from 0 [deg] clockwise from grid north.
    h0_deg, step_deg : float
        Obstruction angle of the first table column and the column step [deg].
    table : ndarray, shape (n_azimuths, n_steps)
        Sum over epochs of (azimuth weight x visibility) / number of epochs [-].
    envelope_deg : ndarray, shape (n_azimuths,)
        Highest elevation of the disk top among epochs sharing each azimuth, plus half the
        largest change between consecutive epochs [deg]; -inf where no epoch falls.
    """

    n_azimuths: int
    h0_deg: float
    step_deg: float
    table: NDArray
    envelope_deg: NDArray


@numba.njit(cache=True, inline="always")
def disk_fraction_at(delta: float, radius: float) -> float:
    """Fraction of a disk of angular radius ``radius`` above a straight horizon ``delta``
    below its centre (compiled scalar form of :func:`disk_visible_fraction`) [-]."""
    if delta >= radius:
        return 1.0
    if delta <= -radius:
        return 0.0
    u = delta / radius
    return 1.0 - (np.arccos(u) - u * np.sqrt(1.0 - u * u)) / np.pi


def disk_visible_fraction(delta_deg: NDArray, radius_deg: NDArray) -> NDArray:
    """Fraction of a disk above a straight horizon [-].

    Parameters
    ----------
    delta_deg : array_like
        Height of the disk centre above the horizon [deg].
    radius_deg : array_like
        Angular radius of the disk [deg], > 0.
    """
    u = np.clip(np.asarray(delta_deg, dtype=float) / np.asarray(radius_deg, dtype=float), -1.0, 1.0)
    return 1.0 - (np.arccos(u) - u * np.sqrt(1.0 - u * u)) / np.pi


def azimuth_split(azimuth_deg: NDArray, n_azimuths: int) -> tuple[NDArray, NDArray]:
    """Index of the horizon azimuth just below each azimuth, and the linear weight [-] of the
    one above, for ``n_azimuths`` equally spaced from 0 deg."""
    position = np.mod(azimuth_deg, 360.0) / (360.0 / n_azimuths)
    lower = np.floor(position).astype(np.int64) % n_azimuths
    return lower, position - np.floor(position)


@numba.njit(cache=True)
def _accumulate(table, full_below, lower, upper_weight, elevation, radius, centre_only, mask, h0, step):
    n_az, n_h = table.shape
    for k in range(elevation.size):
        for side in range(2):
            a = (lower[k] + side) % n_az
            weight = upper_weight[k] if side == 1 else 1.0 - upper_weight[k]
            if weight == 0.0:
                continue
            reach = 0.0 if centre_only else radius[k]
            top = elevation[k] - mask
            # Columns whose obstruction lies below the disk's bottom see all of it.
            first = int(np.ceil((top - reach - h0) / step))
            last = int(np.floor((top + reach - h0) / step))
            full_below[a, max(min(first, n_h), 0)] += weight
            for j in range(max(first, 0), min(last + 1, n_h)):
                delta = top - (h0 + j * step)
                if centre_only:
                    table[a, j] += weight * (1.0 if delta > 0.0 else 0.0)
                else:
                    table[a, j] += weight * disk_fraction_at(delta, radius[k])


def build_table(track: BodyTrack, n_azimuths: int, centre_only: bool = False,
                mask_deg: float = 0.0) -> VisibilityTable:
    """Tabulate a track's visibility per horizon azimuth.

    Parameters
    ----------
    track : BodyTrack
        The body's track at the reference point.
    n_azimuths : int
        Number of horizon azimuths (as in the horizon cube).
    centre_only : bool
        Count the body as visible when its centre clears the horizon (the Earth for
        communication) instead of by the visible fraction of its disk (the Sun).
    mask_deg : float
        Extra clearance required above the horizon [deg] (an antenna mask angle).

    Returns
    -------
    VisibilityTable
    """
    elevation = np.asarray(track.elevation_deg, dtype=float)
    radius = np.asarray(track.radius_deg, dtype=float)
    reach = np.zeros_like(radius) if centre_only else radius
    h0 = float(np.min(elevation - reach) - mask_deg) - 1.0
    h1 = float(np.max(elevation + reach) - mask_deg) + 1.0
    n_h = int(np.ceil((h1 - h0) / _TABLE_STEP_DEG)) + 1
    table = np.zeros((n_azimuths, n_h))
    full_below = np.zeros((n_azimuths, n_h + 1))
    lower, upper_weight = azimuth_split(track.azimuth_deg, n_azimuths)
    _accumulate(table, full_below, lower, upper_weight, elevation, radius, centre_only, mask_deg,
                h0, _TABLE_STEP_DEG)
    # An epoch counts fully in every column below its first partial one: a reversed cumsum.
    table += np.cumsum(full_below[:, ::-1], axis=1)[:, ::-1][:, 1:]
    table /= elevation.size
    top = elevation + reach - mask_deg
    margin = 0.5 * float(np.max(np.abs(np.diff(top)))) if top.size > 1 else 0.0
    envelope = np.full(n_azimuths, -np.inf)
    for side, weight in ((0, 1.0 - upper_weight), (1, upper_weight)):
        touched = weight > 0
        np.maximum.at(envelope, (lower[touched] + side) % n_azimuths, top[touched] + margin)
    return VisibilityTable(n_azimuths, h0, _TABLE_STEP_DEG, table, envelope)


def tilt_terms(x: NDArray, y: NDArray, reference_xy: tuple[float, float], n_azimuths: int):
    """Per-azimuth coefficients of the tilt correction: tilt = dx cx[a] + dy cy[a] [deg]."""
    azimuths = np.radians(np.arange(n_azimuths) * 360.0 / n_azimuths)
    to_deg = np.degrees(1.0 / MOON_RADIUS_M)
    return (np.asarray(x, float) - reference_xy[0], np.asarray(y, float) - reference_xy[1],
            np.sin(azimuths) * to_deg, np.cos(azimuths) * to_deg)


@numba.njit(parallel=True, cache=True)
def _mean_kernel(horizon, dx, dy, cx, cy, table, h0, step, out):
    ny, nx, n_az = horizon.shape
    n_h = table.shape[1]
    for i in numba.prange(ny):
        for j in range(nx):
            total = 0.0
            for a in range(n_az):
                h = horizon[i, j, a] - (dx[j] * cx[a] + dy[i] * cy[a])
                position = (h - h0) / step
                if position <= 0.0:
                    total += table[a, 0]
                elif position >= n_h - 1:
                    total += table[a, n_h - 1]
                else:
                    k = int(position)
                    w = position - k
                    total += (1.0 - w) * table[a, k] + w * table[a, k + 1]
            out[i, j] = total


@numba.njit(parallel=True, cache=True)
def _never_kernel(horizon, dx, dy, cx, cy, envelope, out):
    ny, nx, n_az = horizon.shape
    for i in numba.prange(ny):
        for j in range(nx):
            dark = True
            for a in range(n_az):
                if envelope[a] > horizon[i, j, a] - (dx[j] * cx[a] + dy[i] * cy[a]):
                    dark = False
                    break
            out[i, j] = dark


def pixel_major_blocks(horizon, budget_bytes: int = 128 << 20):
    """Yield (first row, end row, block) with the block as float32 (rows, nx, A).

    Reading the cube a band of rows at a time keeps memory bounded for lazily loaded
    cubes; putting azimuth last makes each pixel's horizon contiguous for the kernels.
    """
    n_az, ny, nx = horizon.shape
    rows = max(1, budget_bytes // max(1, 4 * nx * n_az))
    for start in range(0, ny, rows):
        stop = min(start + rows, ny)
        band = np.asarray(horizon[:, start:stop, :], dtype=np.float32)
        yield start, stop, np.ascontiguousarray(band.transpose(1, 2, 0))


def mean_visibility(horizon, x: NDArray, y: NDArray, track: BodyTrack, table: VisibilityTable) -> NDArray:
    """Time-mean visibility of a body at every pixel [-].

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        Horizon elevation angles [deg] at A azimuths from 0 clockwise from grid north;
        a NumPy array or a lazily loaded xarray/netCDF variable (read in row blocks).
    x, y : ndarray
        Pixel-centre map coordinates [m] (lengths nx and ny).
    track : BodyTrack
        The track the table was built from (for its reference point).
    table : VisibilityTable
        From :func:`build_table`.

    Returns
    -------
    ndarray, shape (ny, nx)
        Mean visible fraction of the disk (or of the time the centre is visible) [-].
    """
    n_az, ny, nx = horizon.shape
    dx, dy, cx, cy = tilt_terms(x, y, track.reference_xy, n_az)
    out = np.empty((ny, nx))
    for r0, r1, block in pixel_major_blocks(horizon):
        _mean_kernel(block, dx, dy[r0:r1], cx, cy, table.table, table.h0_deg, table.step_deg, out[r0:r1])
    return out


def never_visible(horizon, x: NDArray, y: NDArray, track: BodyTrack, table: VisibilityTable) -> NDArray:
    """Pixels from which no part of the body ever clears the horizon (for the Sun: PSRs).

    The test is against the envelope of the track (:class:`VisibilityTable`): a pixel is
    shadowed when, at every horizon azimuth, its horizon (tilt-corrected) stands at or above
    the highest disk top the body reaches there. Linear interpolation of the horizon between
    azimuths cannot then let the body through, so the test never calls a lit pixel dark.

    Returns
    -------
    ndarray of bool, shape (ny, nx)
    """
    n_az, ny, nx = horizon.shape
    dx, dy, cx, cy = tilt_terms(x, y, track.reference_xy, n_az)
    out = np.empty((ny, nx), dtype=np.bool_)
    for r0, r1, block in pixel_major_blocks(horizon):
        _never_kernel(block, dx, dy[r0:r1], cx, cy, table.envelope_deg, out[r0:r1])
    return out


@numba.njit(parallel=True, cache=True)
def _darkness_kernel(horizon, dx, dy, cx, cy, lower, upper_weight, top, out):
    """Longest run of epochs with the body wholly hidden, per pixel [epochs]."""
    ny, nx, n_az = horizon.shape
    for i in numba.prange(ny):
        for j in range(nx):
            run = 0
            best = 0
            for k in range(top.size):
                a0 = lower[k]
                a1 = (a0 + 1) % n_az
                w = upper_weight[k]
                h = (1.0 - w) * (horizon[i, j, a0] - (dx[j] * cx[a0] + dy[i] * cy[a0])) + w * (
                    horizon[i, j, a1] - (dx[j] * cx[a1] + dy[i] * cy[a1]))
                if top[k] <= h:
                    run += 1
                    if run > best:
                        best = run
                else:
                    run = 0
            out[i, j] = best


def longest_darkness_hours(horizon, x: NDArray, y: NDArray, track: BodyTrack, centre_only: bool = False,
                           mask_deg: float = 0.0) -> NDArray:
    """Longest continuous time the body is wholly hidden at every pixel [h].

    This one needs every epoch at every pixel (its cost grows with the period), so it
    streams the horizon in row blocks.

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        Horizon elevation angles [deg].
    x, y : ndarray
        Pixel-centre map coordinates [m].
    track : BodyTrack
        The body's track.
    centre_only : bool
        Hidden means the centre is below the horizon (plus mask) instead of the whole disk.
    mask_deg : float
        Extra clearance required above the horizon [deg].

    Returns
    -------
    ndarray, shape (ny, nx)
        Longest run of hidden epochs times the step [h]: each epoch stands for one step
        (sample and hold), so a pixel dark at every epoch of a period sampled at both ends
        gets the period plus one step.
    """
    n_az, ny, nx = horizon.shape
    dx, dy, cx, cy = tilt_terms(x, y, track.reference_xy, n_az)
    lower, upper_weight = azimuth_split(track.azimuth_deg, n_az)
    radius = np.asarray(track.radius_deg, dtype=float)
    # Hidden when the disk's top (or the centre) is at or below the horizon plus mask.
    top = np.asarray(track.elevation_deg, dtype=float) + (0.0 if centre_only else 1.0) * radius - mask_deg
    out = np.empty((ny, nx), dtype=np.int64)
    for r0, r1, block in pixel_major_blocks(horizon):
        _darkness_kernel(block, dx, dy[r0:r1], cx, cy, lower, upper_weight, top, out[r0:r1])
    return out * track.step_h


def visibility_per_epoch(horizon: NDArray, x: NDArray, y: NDArray, track: BodyTrack, centre_only: bool = False,
                         mask_deg: float = 0.0) -> NDArray:
    """Visibility at every epoch and pixel, evaluated directly: the reference for the tables.

    The horizon is interpolated linearly at the body's azimuth and lowered by each pixel's
    tilt. Memory grows as epochs x pixels: meant for tests, benchmarks and small areas.

    Parameters
    ----------
    horizon : ndarray, shape (A, ny, nx)
        Horizon angles [deg].
    x, y : ndarray
        Pixel-centre map coordinates [m].
    track : BodyTrack
        The body's track.
    centre_only : bool
        1 when the centre clears horizon plus mask, else 0, instead of the visible disk fraction.
    mask_deg : float
        Extra clearance required above the horizon [deg].

    Returns
    -------
    ndarray, shape (epochs, ny, nx)
        Visible fraction [-].
    """
    n_az = horizon.shape[0]
    lower, w = azimuth_split(track.azimuth_deg, n_az)
    upper = (lower + 1) % n_az
    dx, dy, cx, cy = tilt_terms(x, y, track.reference_xy, n_az)
    dx, dy = dx[None, None, :], dy[None, :, None]

    def lowered(a):
        return horizon[a] - (dx * cx[a][:, None, None] + dy * cy[a][:, None, None])

    h = (1 - w)[:, None, None] * lowered(lower) + w[:, None, None] * lowered(upper)
    delta = np.asarray(track.elevation_deg, dtype=float)[:, None, None] - mask_deg - h
    if centre_only:
        return (delta > 0).astype(float)
    return disk_visible_fraction(delta, np.asarray(track.radius_deg, dtype=float)[:, None, None])
