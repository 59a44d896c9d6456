"""The rover's belief about water: a Gaussian process of the column WEH over the map plane.

The column WEH ``f(s)`` [wt%] at a map point ``s`` is modelled as

    f(s) = m(s) + sd(s) g(s),    Cov(g(s), g(s')) = rho(|s - s'|),

with ``m`` and ``sd`` the ice prior's mean and standard deviation of the pixel holding ``s`` and
``rho`` the circular correlation function of range ``c``,

    rho(r) = (2 / pi) (acos(r / c) - (r / c) sqrt(1 - (r / c)^2))   for r < c, else 0,

the overlap fraction of two discs of diameter ``c`` whose centres lie ``r`` apart, a covariance
with compact support valid in one and two dimensions (Chilès & Delfiner 1999, *Geostatistics:
Modeling Spatial Uncertainty*, Wiley, p. 82). The ground truth's ice patches are a Boolean model of discs
of radius ``R`` (:mod:`lupex.ice.truth`), so ``c = 2 R`` makes points farther apart than a patch
diameter independent, as they are in the truth.

Observations ``y_i = f(s_i) + e_i``, ``e_i ~ N(0, sigma_i^2)`` independent, update it by Gaussian-process
regression (Rasmussen & Williams 2006, *Gaussian Processes for Machine Learning*, eqs. 2.22-2.24):

    mean(q) = m(q) + k_q^T (K + N)^-1 (y - m_obs),    var(q) = sd(q)^2 - k_q^T (K + N)^-1 k_q.

Two approximations keep it fast, both documented in docs/water_map.md:

- Observations in one cell (a sub-division of a prior pixel, about ``cell_m`` on a side) are
  replaced by their precision-weighted mean at their precision-weighted centroid, with precision
  the sum of theirs. For co-located observations this is exact (their mean is a sufficient statistic).
- Each query conditions only on the nearest ``max_cells`` cells within ``1.5 c`` of it: the exact
  posterior given that subset of the data, so means and variances stay calibrated, only less sharp
  than with every observation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import ndtr

from lupex.errors import LupexError
from lupex.raster import grid_array, same_grid

__all__ = ["DrillScore", "WaterBelief", "WaterMapConfig", "circular_correlation"]

MAX_MAP_PIXELS = 25_000_000
"""Most pixels :meth:`WaterBelief.mean_map` makes in one call (two float64 layers: 400 MB)."""


class WaterMapConfig(BaseModel):
    """Settings of the water belief (validated, immutable; loadable from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_range_m: float = Field(
        10.0, gt=0.0, le=1000.0,
        description="Range c of the circular correlation function [m]: beyond it the WEH of two points is "
        "independent. 10 m = the diameter 2R of the truth's ice patches (IceParams.patch_radius_m = 5 m): in the "
        "Boolean disc model of lupex.ice.truth two points share a patch only if closer than 2R (Chiu et al. 2013, "
        "Stochastic Geometry, ch. 3). The circular function of this range matches the truth's column-WEH "
        "correlogram within 0.025 at every lag (docs/water_map.md).")
    cell_m: float = Field(
        1.0, gt=0.0, le=20.0,
        description="Target side of the cells whose observations are merged by precision weighting [m]; the "
        "prior pixel is split into the fewest equal cells no larger than this. Assumption: at or below the 1-2 m "
        "footprint of a rover neutron spectrometer (REFERENCES.md section 5), so merging moves an observation by "
        "less than a footprint, and by under 0.1 of the correlation range.")
    neighbourhood_ranges: float = Field(
        1.5, ge=1.0, le=5.0,
        description="Radius of the neighbourhood a query conditions on, in correlation ranges [-]. Cells farther "
        "than one range do not covary with the query but sharpen the cells that do. Measured on parallel drive "
        "passes (docs/water_map.md): 1.0 leaves the variance up to 6 % above the exact posterior's, 1.5 within "
        "0.3 %, at about twice the cells per solve.")
    max_cells: int = Field(
        64, ge=1, le=1024,
        description="Most observation cells one query conditions on, the nearest in its neighbourhood [-]. "
        "Assumption: a solve costs max_cells^3 / 6 operations; a drive with a reading every 2-3 m puts 10-15 cells "
        "within 15 m per pass, so 64 is reached only where the rover has criss-crossed; there the nearest 64 1 m "
        "cells fill a disc of ~4.5 m radius, whose readings screen off the farther ones.")
    drill_sigma_wt_pct: float = Field(
        0.1, gt=0.0, le=10.0,
        description="Absolute part of a drill column's WEH uncertainty [wt%]: sample analysis by heating, "
        "~0.1 wt% absolute (REFERENCES.md section 5). Assumption: the column value inherits one bin's error "
        "(calibration errors are shared by the bins of a core, so they do not average down).")
    drill_sigma_relative: float = Field(
        0.075, ge=0.0, le=1.0,
        description="Relative part of a drill column's WEH uncertainty [-]: 5-10 % of the value (REFERENCES.md "
        "section 5), added in quadrature to the absolute part (Assumption).")


@dataclass(frozen=True)
class DrillScore:
    """What drilling at candidate points is expected to give.

    Attributes
    ----------
    expected_weh_wt_pct : ndarray
        Posterior mean of the column WEH [wt%].
    sd_wt_pct : ndarray
        Posterior standard deviation of the column WEH [wt%].
    probability_above : ndarray
        Posterior probability that the column WEH is at least the threshold [-].
    information_gain_bits : ndarray
        Entropy reduction of the column WEH at the point by the drill's own measurement [bit].
    """

    expected_weh_wt_pct: NDArray
    sd_wt_pct: NDArray
    probability_above: NDArray
    information_gain_bits: NDArray


@numba.njit(cache=True)
def _circular(r, c):
    """Circular correlation at distance ``r`` for range ``c`` (Chilès & Delfiner 1999, p. 82) [-]."""
    u = r / c
    if u >= 1.0:
        return 0.0
    return (2.0 / math.pi) * (math.acos(u) - u * math.sqrt(1.0 - u * u))


def circular_correlation(r: ArrayLike, range_m: float) -> NDArray:
    """The circular correlation function: overlap fraction of two discs of diameter ``range_m``.

    ``rho(r) = (2/pi) (acos(u) - u sqrt(1 - u^2))`` with ``u = r / range_m`` for ``u < 1``, else 0
    (Chilès & Delfiner 1999, *Geostatistics: Modeling Spatial Uncertainty*, p. 82). Positive
    definite in one and two dimensions.

    Parameters
    ----------
    r : array_like
        Distance between two points [m].
    range_m : float
        Range, the distance beyond which the correlation is 0 [m].
    """
    u = np.minimum(np.abs(np.asarray(r, dtype=float)) / range_m, 1.0)
    return (2.0 / np.pi) * (np.arccos(u) - u * np.sqrt(1.0 - u * u))


@numba.njit(cache=True)
def _query_one(qx, qy, qm, qs, cx, cy, resid, noise, csd, keys, starts, left, bottom, nbx, radius, c, max_cells):
    """Posterior mean and variance at one point from the nearest cells within ``radius`` (also the side of the
    search buckets); ``c`` is the correlation range. ok is False if the solve failed."""
    if qs == 0.0 or not math.isfinite(qs) or not math.isfinite(qm):
        return qm, qs * qs, True
    bi = int(math.floor((qx - left) / radius))
    bj = int(math.floor((qy - bottom) / radius))
    near = np.empty(0, dtype=np.int64)
    dist = np.empty(0)
    for sweep in range(2):  # count, then fill
        n = 0
        for a in range(-1, 2):
            for b in range(-1, 2):
                i, j = bi + a, bj + b
                if i < 0 or j < 0 or i >= nbx:
                    continue
                key = j * nbx + i
                p = np.searchsorted(keys, key)
                if p >= keys.size or keys[p] != key:
                    continue
                for k in range(starts[p], starts[p + 1]):
                    d = math.hypot(cx[k] - qx, cy[k] - qy)
                    if d < radius:
                        if sweep == 1:
                            near[n] = k
                            dist[n] = d
                        n += 1
        if sweep == 0:
            if n == 0:
                return qm, qs * qs, True
            near = np.empty(n, dtype=np.int64)
            dist = np.empty(n)
    if near.size > max_cells:
        keep = np.argsort(dist, kind="mergesort")[:max_cells]
        near, dist = near[keep], dist[keep]
    m = near.size
    chol = np.zeros((m, m))
    for i in range(m):
        ki = near[i]
        for j in range(i + 1):
            kj = near[j]
            chol[i, j] = csd[ki] * csd[kj] * _circular(math.hypot(cx[ki] - cx[kj], cy[ki] - cy[kj]), c)
        chol[i, i] += noise[ki]
    for j in range(m):  # Cholesky, lower triangle in place
        s = chol[j, j]
        for k in range(j):
            s -= chol[j, k] * chol[j, k]
        if not s > 0.0:
            return np.nan, np.nan, False
        chol[j, j] = math.sqrt(s)
        for i in range(j + 1, m):
            t = chol[i, j]
            for k in range(j):
                t -= chol[i, k] * chol[j, k]
            chol[i, j] = t / chol[j, j]
    z = np.empty(m)  # L^-1 k_q
    u = np.empty(m)  # L^-1 (y - m_obs)
    for i in range(m):
        zi = qs * csd[near[i]] * _circular(dist[i], c)
        ui = resid[near[i]]
        for k in range(i):
            zi -= chol[i, k] * z[k]
            ui -= chol[i, k] * u[k]
        z[i] = zi / chol[i, i]
        u[i] = ui / chol[i, i]
    return qm + np.dot(z, u), max(qs * qs - np.dot(z, z), 0.0), True


@numba.njit(parallel=True, cache=True)
def _query(qx, qy, qm, qs, cx, cy, resid, noise, csd, keys, starts, left, bottom, nbx, radius, c, max_cells):
    mean = np.empty(qx.size)
    var = np.empty(qx.size)
    ok = np.empty(qx.size, dtype=np.bool_)
    for n in numba.prange(qx.size):
        mean[n], var[n], ok[n] = _query_one(qx[n], qy[n], qm[n], qs[n], cx, cy, resid, noise, csd, keys, starts,
                                            left, bottom, nbx, radius, c, max_cells)
    return mean, var, ok


def _flat(*arrays: ArrayLike) -> tuple[tuple[int, ...], list[NDArray]]:
    """Broadcast arrays together; their common shape and float64 copies flattened to 1-D."""
    try:
        broadcast = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    except ValueError as err:
        raise LupexError(f"observation or query arrays do not broadcast together: {err}") from None
    return broadcast[0].shape, [b.reshape(-1).copy() for b in broadcast]


class WaterBelief:
    """Gaussian-process belief of the column WEH, updated by neutron readings and drill holes.

    Parameters
    ----------
    prior_mean : xarray.DataArray
        Expected column WEH per pixel [wt%] (the ice prior's ``weh_top1m_mean``), dims ``(y, x)`` with a
        rioxarray transform and CRS; NaN where the prior is undefined.
    prior_sd : xarray.DataArray
        Standard deviation of the column WEH at a point per pixel [wt%] (``weh_top1m_std``), same grid.
    config : WaterMapConfig, optional
        Correlation range, cell size and drill uncertainty.
    """

    def __init__(self, prior_mean: xr.DataArray, prior_sd: xr.DataArray, config: WaterMapConfig | None = None):
        self.config = config or WaterMapConfig()
        if prior_mean.ndim != 2 or not same_grid(prior_mean, prior_sd):
            raise LupexError("prior_mean and prior_sd must be 2-D grids with the same shape and transform; "
                             "pass the weh_top1m_mean and weh_top1m_std layers of one ice prior")
        t = prior_mean.rio.transform()
        if t.b != 0 or t.d != 0:
            raise LupexError("rotated prior grids are not supported; warp the prior to a north-up grid first")
        mean = np.asarray(prior_mean.values, dtype=float)
        sd = np.asarray(prior_sd.values, dtype=float)
        if (sd < 0).any():
            raise LupexError(f"prior_sd has negative values (down to {np.nanmin(sd):g} wt%); "
                             "a standard deviation must be at least 0")
        defined = np.isfinite(mean) & np.isfinite(sd)
        self._mean = np.where(defined, mean, np.nan)
        self._sd = np.where(defined, sd, np.nan)
        self._transform = t
        self._crs = prior_mean.rio.crs
        ny, nx = mean.shape
        xs, ys = (t.c, t.c + t.a * nx), (t.f, t.f + t.e * ny)
        self._bounds = (min(xs), min(ys), max(xs), max(ys))
        self._split = (math.ceil(abs(t.e) / self.config.cell_m), math.ceil(abs(t.a) / self.config.cell_m))
        self._cell_cols = nx * self._split[1]
        self._radius = self.config.neighbourhood_ranges * self.config.correlation_range_m
        self._keys = np.empty(0, dtype=np.int64)
        self._sums = np.empty((5, 0))  # per cell: count, sum w, sum w y, sum w x, sum w y-coordinate
        self._pending: list[tuple[NDArray, NDArray]] = []  # (cell keys, the five terms) of unmerged observations
        self._cells: tuple | None = None

    @property
    def n_observations(self) -> int:
        """Number of observations added so far."""
        self._merge_pending()
        return int(self._sums[0].sum())

    @property
    def n_cells(self) -> int:
        """Number of cells holding observations."""
        self._merge_pending()
        return self._keys.size

    def _pixel(self, x: NDArray, y: NDArray, what: str) -> tuple[NDArray, NDArray]:
        """Fractional row and column of points in the prior grid [pixels]; raises for points off it."""
        t = self._transform
        col, row = (x - t.c) / t.a, (y - t.f) / t.e
        ny, nx = self._mean.shape
        off = ~((col >= 0) & (col < nx) & (row >= 0) & (row < ny))
        if off.any():
            left, bottom, right, top = self._bounds
            k = int(np.argmax(off))
            raise LupexError(f"{off.sum()} {what} lie outside the prior grid, e.g. x = {x[k]:.1f} m, y = {y[k]:.1f} m "
                             f"(grid: x {left:.0f} to {right:.0f} m, y {bottom:.0f} to {top:.0f} m)")
        return row, col

    def add_neutron(self, x: ArrayLike, y: ArrayLike, weh_wt_pct: ArrayLike, sigma_wt_pct: ArrayLike) -> None:
        """Add neutron-spectrometer readings of the column WEH.

        Parameters
        ----------
        x, y : array_like
            Map coordinates of the readings [m] (the prior's CRS).
        weh_wt_pct : array_like
            Column WEH inferred from each reading [wt%]; may be negative from counting noise.
        sigma_wt_pct : array_like
            Its one-sigma uncertainty [wt%], > 0; all four broadcast together.
        """
        self._add(x, y, weh_wt_pct, sigma_wt_pct, "neutron readings")

    def add_drill(self, x: ArrayLike, y: ArrayLike, weh_wt_pct: ArrayLike, sigma_wt_pct: ArrayLike) -> None:
        """Add drill holes: the mean WEH of each core over the prior's column (top 1 m).

        Parameters
        ----------
        x, y : array_like
            Map coordinates of the holes [m].
        weh_wt_pct : array_like
            Column WEH of each core [wt%].
        sigma_wt_pct : array_like
            Its one-sigma uncertainty [wt%], > 0 (e.g. :meth:`drill_sigma`).
        """
        self._add(x, y, weh_wt_pct, sigma_wt_pct, "drill holes")

    def _add(self, x: ArrayLike, y: ArrayLike, weh: ArrayLike, sigma: ArrayLike, what: str) -> None:
        _, (x, y, weh, sigma) = _flat(x, y, weh, sigma)
        if x.size == 0:
            return
        if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(weh).all()):
            raise LupexError(f"{what}: positions and WEH must be finite numbers; drop NaN or infinite entries")
        if not (np.isfinite(sigma) & (sigma > 0)).all():
            raise LupexError(f"{what}: sigma_wt_pct must be finite and > 0 (got {sigma.min():g}); "
                             "give every observation its uncertainty")
        row, col = self._pixel(x, y, what)
        if not np.isfinite(self._sd[row.astype(np.int64), col.astype(np.int64)]).all():
            raise LupexError(f"{what} lie on prior pixels without a value (NaN); observe only where the prior "
                             "is defined")
        sy, sx = self._split
        cell_row = np.minimum(np.floor(row * sy), self._mean.shape[0] * sy - 1).astype(np.int64)
        cell_col = np.minimum(np.floor(col * sx), self._cell_cols - 1).astype(np.int64)  # rounding at the edge
        keys = cell_row * self._cell_cols + cell_col
        w = sigma**-2
        self._pending.append((keys, np.stack([np.ones_like(w), w, w * weh, w * x, w * y])))
        self._cells = None

    def _merge_pending(self) -> None:
        """Fold the observations added since the last query into their cells, by precision weighting."""
        if not self._pending:
            return
        keys = np.concatenate([k for k, _ in self._pending])
        terms = np.concatenate([t for _, t in self._pending], axis=1)
        self._pending = []
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = np.stack([np.bincount(inverse, weights=t, minlength=unique.size) for t in terms])
        pos = np.minimum(np.searchsorted(self._keys, unique), max(self._keys.size - 1, 0))
        old = self._keys[pos] == unique if self._keys.size else np.zeros(unique.size, dtype=bool)
        self._sums[:, pos[old]] += sums[:, old]
        keys = np.concatenate([self._keys, unique[~old]])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._sums = np.concatenate([self._sums, sums[:, ~old]], axis=1)[:, order]

    def _cell_arrays(self) -> tuple:
        """The merged cells, sorted by neighbour-search bucket, with the bucket index (built when stale)."""
        if self._cells is None:
            self._merge_pending()
            _, w, wv, wx, wy = self._sums
            cx, cy = wx / w, wy / w
            sy, sx = self._split
            rows = self._keys // self._cell_cols // sy
            cols = self._keys % self._cell_cols // sx
            radius = self._radius
            left, bottom, right, _ = self._bounds
            nbx = int(math.floor((right - left) / radius)) + 1
            bucket = (np.floor((cy - bottom) / radius).astype(np.int64) * nbx
                      + np.floor((cx - left) / radius).astype(np.int64))
            order = np.argsort(bucket, kind="stable")
            keys, starts = np.unique(bucket[order], return_index=True)
            mean, sd = self._mean[rows, cols], self._sd[rows, cols]
            self._cells = (cx[order], cy[order], (wv / w - mean)[order], (1.0 / w)[order], sd[order],
                           keys, np.append(starts, order.size).astype(np.int64), left, bottom, nbx, radius)
        return self._cells

    def posterior(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Posterior mean and standard deviation of the column WEH at points.

        Parameters
        ----------
        x, y : array_like
            Map coordinates [m]; broadcast together. Points must lie on the prior grid.

        Returns
        -------
        mean, sd : ndarray
            Posterior mean and standard deviation [wt%], NaN on prior pixels without a value.
        """
        shape, (x, y) = _flat(x, y)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise LupexError("query points must be finite numbers; drop NaN or infinite entries")
        row, col = self._pixel(x, y, "query points")
        row, col = row.astype(np.int64), col.astype(np.int64)
        qm, qs = self._mean[row, col], self._sd[row, col]
        if self.n_cells == 0:
            return qm.reshape(shape), qs.reshape(shape)
        mean, var, ok = _query(x, y, qm, qs, *self._cell_arrays(), self.config.correlation_range_m,
                               self.config.max_cells)
        if not ok.all():
            k = int(np.argmin(ok))
            raise LupexError(f"the observations near x = {x[k]:.1f} m, y = {y[k]:.1f} m are too precise for their "
                             "spacing to be solved; give them a larger sigma_wt_pct")
        return mean.reshape(shape), np.sqrt(var).reshape(shape)

    def probability_above(self, x: ArrayLike, y: ArrayLike, threshold_wt_pct: float) -> NDArray:
        """Posterior probability that the column WEH is at least a threshold, ``Phi((mean - t) / sd)`` [-].

        Parameters
        ----------
        x, y : array_like
            Map coordinates [m].
        threshold_wt_pct : float
            WEH threshold [wt%].
        """
        return _exceedance(*self.posterior(x, y), threshold_wt_pct)

    def drill_sigma(self, weh_wt_pct: ArrayLike) -> NDArray:
        """Uncertainty of a drill core's column WEH, ``sqrt(a^2 + (r max(weh, 0))^2)`` [wt%].

        Parameters
        ----------
        weh_wt_pct : array_like
            Column WEH [wt%].
        """
        weh = np.maximum(np.asarray(weh_wt_pct, dtype=float), 0.0)
        return np.hypot(self.config.drill_sigma_wt_pct, self.config.drill_sigma_relative * weh)

    def drill_score(self, x: ArrayLike, y: ArrayLike, threshold_wt_pct: float = 1.0,
                    drill_sigma_wt_pct: ArrayLike | None = None) -> DrillScore:
        """Expected yield and information gain of drilling at candidate points.

        The information gain is the entropy reduction of the Gaussian at the point by one drill
        measurement of noise ``s``: ``0.5 log2(v / v') = 0.5 log2(1 + v / s^2)`` with ``v`` the posterior
        variance and ``v' = v s^2 / (v + s^2)`` the variance after drilling (Cover & Thomas 2006,
        *Elements of Information Theory*, 2nd ed., Example 8.1.2; Rasmussen & Williams 2006, eq. 2.24).

        Parameters
        ----------
        x, y : array_like
            Map coordinates of the candidates [m].
        threshold_wt_pct : float
            WEH worth finding [wt%].
        drill_sigma_wt_pct : array_like, optional
            Drill uncertainty [wt%]; default :meth:`drill_sigma` of the posterior mean.
        """
        mean, sd = self.posterior(x, y)
        if drill_sigma_wt_pct is None:
            s = self.drill_sigma(mean)
        else:
            s = np.asarray(drill_sigma_wt_pct, dtype=float)
            if not (np.isfinite(s) & (s > 0)).all():
                raise LupexError("drill_sigma_wt_pct must be finite and > 0")
        gain = 0.5 * np.log2(1.0 + sd**2 / s**2)
        return DrillScore(mean, sd, _exceedance(mean, sd, threshold_wt_pct), gain)

    def mean_map(self, resolution_m: float = 1.0,
                 bounds: tuple[float, float, float, float] | None = None) -> xr.Dataset:
        """Posterior mean and standard deviation on a grid, for a picture.

        Parameters
        ----------
        resolution_m : float
            Pixel size [m].
        bounds : tuple of float, optional
            (left, bottom, right, top) [m]; default: the observations' extent plus one correlation range.
            Clipped to the prior grid.

        Returns
        -------
        xarray.Dataset
            ``weh_mean_wt_pct`` and ``weh_sd_wt_pct`` [wt%] with the prior's CRS.
        """
        if not resolution_m > 0:
            raise LupexError(f"resolution_m must be > 0, got {resolution_m:g}")
        if bounds is None:
            if self.n_cells == 0:
                raise LupexError("no observations yet; pass bounds to map the prior")
            cx, cy = self._cell_arrays()[:2]
            c = self.config.correlation_range_m
            bounds = (cx.min() - c, cy.min() - c, cx.max() + c, cy.max() + c)
        left, bottom = max(bounds[0], self._bounds[0]), max(bounds[1], self._bounds[1])
        right, top = min(bounds[2], self._bounds[2]), min(bounds[3], self._bounds[3])
        nx, ny = math.floor((right - left) / resolution_m), math.floor((top - bottom) / resolution_m)
        if nx < 1 or ny < 1:
            raise LupexError("the map bounds do not overlap the prior grid by a pixel; pass other bounds")
        if nx * ny > MAX_MAP_PIXELS:
            raise LupexError(f"a {nx} x {ny} map is too large; pass a coarser resolution_m or smaller bounds")
        xs = left + resolution_m * (np.arange(nx) + 0.5)
        ys = top - resolution_m * (np.arange(ny) + 0.5)
        mean, sd = self.posterior(xs[None, :], ys[:, None])
        transform = Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top)
        layers = [grid_array(mean, transform, self._crs, "weh_mean_wt_pct", "wt%", "posterior mean column WEH"),
                  grid_array(sd, transform, self._crs, "weh_sd_wt_pct", "wt%", "posterior sd of column WEH")]
        return xr.merge(layers, compat="override", join="exact", combine_attrs="drop_conflicts")


def _exceedance(mean: NDArray, sd: NDArray, threshold: float) -> NDArray:
    """``P(f >= t)`` for ``f ~ N(mean, sd^2)``; a step where ``sd`` is 0, NaN where the mean is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr((mean - threshold) / sd)
    step = np.where(mean >= threshold, 1.0, 0.0)
    return np.where(np.isnan(mean), np.nan, np.where(sd > 0, p, step))
