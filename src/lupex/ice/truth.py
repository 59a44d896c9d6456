"""The stochastic ground truth: one seeded realisation of the prior, evaluated anywhere on demand.

The ice patches are a Boolean model of discs (Chiu, Stoyan, Kendall & Mecke 2013, *Stochastic
Geometry and its Applications*, ch. 3): disc centres form a Poisson process of intensity
``lambda`` on the map plane, every disc has radius ``R`` and its own marks (WEH ``C``, dry lag
``d``, and three uniform numbers). A point is covered with probability
``1 - exp(-lambda pi R^2)``. To let the patch fraction ``p(x)`` follow the prior, a disc counts at
a point only when its thinning mark is below ``q(x) = ln(1 - p(x)) / ln(1 - p_max)``, with
``lambda pi R^2 = -ln(1 - p_max)``; the counted discs are again a Poisson process, so the point
is in a patch with probability exactly ``p(x)``. Where discs overlap, the one with the lowest
rank mark gives its marks; ranks are independent of the other marks, so ``C`` and ``d`` at a
covered point keep their own distributions. Points in patches, ``C``, ``d`` and the frost draw
are therefore distributed exactly as :func:`lupex.ice.prior.water_prior` assumes.

The map plane is cut into square tiles of side ``10 R`` anchored at the projection origin;
the discs of tile ``(i, j)`` are drawn from counter-based random numbers keyed by
``(seed, i, j, disc, quantity)`` (:mod:`lupex.ice.streams`). Every disc that can cover a point
lies in the point's tile or one of its eight neighbours, so a query draws only those tiles and
the answer never depends on which region, or in which order, was asked for.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri
from scipy.stats import poisson

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.prior import NEUTRON_DEPTH_M
from lupex.ice.streams import MAX_SEED, uniform
from lupex.raster import grid_array

__all__ = ["TILE_RADII", "PatchSample", "WaterTruth"]

TILE_RADII = 10
"""Side of a generator tile in patch radii [-] (at least 1, so 3 x 3 tiles hold every covering disc)."""

_KEY_OFFSET = 2**30
"""Shift that makes tile indices non-negative before packing (i, j) into one int64 key."""

_PARALLEL_POINTS = 20_000
"""Queries of at least this many points use the multi-threaded kernel (thread start-up costs more below)."""

# Quantity numbers of the random streams: never renumber them, or seeds give other truths.
_COUNT, _X, _Y, _RANK, _THIN, _CONC, _LAG, _FROST = range(8)


@dataclass(frozen=True)
class PatchSample:
    """The ice at a set of points.

    Attributes
    ----------
    concentration_wt_pct : ndarray
        WEH of the ice patch at the point [wt%]; NaN where the point is in no patch.
    ice_top_m : ndarray
        Depth of the top of the patch's ice [m]; NaN where the point is in no patch.
    inside : ndarray of bool
        Whether the point lies on the prior's grid (elsewhere the truth is undefined).
    """

    concentration_wt_pct: NDArray
    ice_top_m: NDArray
    inside: NDArray


@dataclass(frozen=True)
class _Discs:
    """The discs of a sorted set of tiles: discs of tile ``keys[n]`` are ``starts[n]:starts[n + 1]``."""

    keys: NDArray
    starts: NDArray
    x: NDArray
    y: NDArray
    rank: NDArray
    thin: NDArray
    concentration: NDArray
    lag: NDArray
    frost: NDArray


@numba.njit(cache=True)
def _tile_key(i, j):
    """Tile indices (i, j) packed into one sortable int64 (scalars or arrays)."""
    return (i + _KEY_OFFSET) * 2**32 + (j + _KEY_OFFSET)


@numba.njit(cache=True)
def _covering_disc_at(x, y, q, keys, starts, dx, dy, rank, thin, tile_m, radius_m):
    """Index of the lowest-ranked disc that covers (x, y) and counts there (thinning mark below q), or -1."""
    found = -1
    if q <= 0.0:
        return found
    ti = int(math.floor(x / tile_m))
    tj = int(math.floor(y / tile_m))
    best_rank = 2.0
    for a in range(-1, 2):
        for b in range(-1, 2):
            key = _tile_key(ti + a, tj + b)
            pos = np.searchsorted(keys, key)
            if pos >= keys.size or keys[pos] != key:
                continue
            for k in range(starts[pos], starts[pos + 1]):
                if thin[k] < q and rank[k] < best_rank:
                    ex, ey = dx[k] - x, dy[k] - y
                    if ex * ex + ey * ey <= radius_m * radius_m:
                        best_rank = rank[k]
                        found = k
    return found


@numba.njit(cache=True)
def _covering_serial(px, py, q, keys, starts, dx, dy, rank, thin, tile_m, radius_m):
    out = np.empty(px.size, dtype=np.int64)
    for n in range(px.size):
        out[n] = _covering_disc_at(px[n], py[n], q[n], keys, starts, dx, dy, rank, thin, tile_m, radius_m)
    return out


@numba.njit(parallel=True, cache=True)
def _covering_parallel(px, py, q, keys, starts, dx, dy, rank, thin, tile_m, radius_m):
    out = np.empty(px.size, dtype=np.int64)
    for n in numba.prange(px.size):
        out[n] = _covering_disc_at(px[n], py[n], q[n], keys, starts, dx, dy, rank, thin, tile_m, radius_m)
    return out


class WaterTruth:
    """One seeded realisation of the water prior, evaluated at any point of the prior's grid.

    Parameters
    ----------
    patch_fraction : xarray.DataArray
        Ice-patch area fraction per pixel [-], at most ``params.patch_fraction`` and 0 where ice is
        not stable (the prior's layer).
    ice_depth_m : xarray.DataArray
        Ice-stability depth per pixel [m], NaN where ice is not stable (the prior's layer).
    params : IceParams
        The water model.
    seed : int
        Non-negative seed; the same inputs and seed give the same truth everywhere.
    """

    def __init__(self, patch_fraction: xr.DataArray, ice_depth_m: xr.DataArray, params: IceParams, seed: int):
        if not 0 <= seed <= MAX_SEED:
            raise LupexError(f"seed {seed} is out of range; use an integer from 0 to {MAX_SEED}")
        p = np.asarray(patch_fraction.values, dtype=float)
        s = np.asarray(ice_depth_m.values, dtype=float)
        if p.shape != s.shape:
            raise LupexError("patch_fraction and ice_depth_m are not on one grid")
        stable = np.isfinite(s)
        if not ((p >= 0) & (p <= params.patch_fraction * (1 + 1e-6)) & (stable | (p == 0))).all():
            raise LupexError(f"patch_fraction must lie in 0..{params.patch_fraction:g} and be 0 where ice is "
                             "not stable; rebuild the prior with 'lupex ice prior'")
        self.params = params
        self.seed = int(seed)
        self.transform = patch_fraction.rio.transform()
        self.crs = patch_fraction.rio.crs
        self.shape = p.shape
        self._fraction = p
        self.tile_m = TILE_RADII * params.patch_radius_m
        saturated = -math.log1p(-params.patch_fraction)  # lambda pi R^2 at the largest fraction
        self._per_tile = saturated * self.tile_m**2 / (math.pi * params.patch_radius_m**2)
        # q = ln(1 - p) / ln(1 - p_max): the share of discs that count where the fraction is p.
        if saturated > 0:
            self._thin_threshold = np.log1p(-np.minimum(p, params.patch_fraction)) / -saturated
        else:
            self._thin_threshold = np.zeros_like(p)
        self._stability = s
        self._frost = np.where(s == 0.0, params.exposed_frost_probability, 0.0)

    @classmethod
    def from_prior(cls, prior: xr.Dataset, params: IceParams, seed: int) -> WaterTruth:
        """The truth of a prior (:func:`lupex.ice.prior.water_prior`) for a seed."""
        return cls(prior["patch_fraction"], prior["ice_depth_m"], params, seed)

    def inputs(self) -> xr.Dataset:
        """The two prior layers the generator reads, ``patch_fraction`` [-] and ``ice_depth_m`` [m], with the CRS."""
        layers = [grid_array(values.astype(np.float32), self.transform, self.crs, name, units)
                  for values, name, units in ((self._fraction, "patch_fraction", "1"),
                                              (self._stability, "ice_depth_m", "m"))]
        merged = xr.merge(layers, compat="override", join="exact", combine_attrs="override")
        merged.attrs = {"title": "inputs of the lupex water-truth generator"}
        return merged

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Extent of the prior's grid, (left, bottom, right, top) [m]."""
        t, (ny, nx) = self.transform, self.shape
        xs, ys = (t.c, t.c + t.a * nx), (t.f, t.f + t.e * ny)
        return min(xs), min(ys), max(xs), max(ys)

    def _pixels(self, x: NDArray, y: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """Row and column of the prior pixel holding each point, and whether it is on the grid."""
        t = self.transform
        col = np.floor((x - t.c) / t.a)
        row = np.floor((y - t.f) / t.e)
        inside = (col >= 0) & (col < self.shape[1]) & (row >= 0) & (row < self.shape[0])
        return np.where(inside, row, 0).astype(np.int64), np.where(inside, col, 0).astype(np.int64), inside

    def _discs(self, x: NDArray, y: NDArray) -> _Discs:
        """Draw the discs of every tile that can cover one of the points."""
        ti = np.floor(x / self.tile_m).astype(np.int64)
        tj = np.floor(y / self.tile_m).astype(np.int64)
        if max(np.abs(ti).max(initial=0), np.abs(tj).max(initial=0)) >= _KEY_OFFSET - 1:
            raise LupexError("points lie too far from the map origin for the ice generator")
        own = np.unique(_tile_key(ti, tj))
        neighbours = np.array([_tile_key(a, b) - _tile_key(0, 0) for a in (-1, 0, 1) for b in (-1, 0, 1)])
        keys = np.unique(own[:, None] + neighbours)  # sorted, as the kernel's binary search needs
        ti, tj = keys // 2**32 - _KEY_OFFSET, keys % 2**32 - _KEY_OFFSET
        counts = (poisson.ppf(uniform(self.seed, ti, tj, 0, _COUNT), self._per_tile).astype(np.int64)
                  if self._per_tile > 0 else np.zeros(keys.size, dtype=np.int64))
        starts = np.concatenate([[0], np.cumsum(counts)])
        tile = np.repeat(np.arange(keys.size), counts)
        di, dj, k = ti[tile], tj[tile], np.arange(starts[-1]) - starts[tile]

        def draw(quantity: int) -> NDArray:
            return uniform(self.seed, di, dj, k, quantity)

        params = self.params
        return _Discs(
            keys=keys, starts=starts,
            x=(di + draw(_X)) * self.tile_m, y=(dj + draw(_Y)) * self.tile_m,
            rank=draw(_RANK), thin=draw(_THIN),
            concentration=params.concentration_median_wt_pct * np.exp(params.concentration_sigma * ndtri(draw(_CONC))),
            lag=params.dry_layer_min_m + (params.dry_layer_max_m - params.dry_layer_min_m) * draw(_LAG),
            frost=draw(_FROST),
        )

    def sample(self, x: ArrayLike, y: ArrayLike) -> PatchSample:
        """The ice patch at each point.

        Parameters
        ----------
        x, y : array_like
            Map coordinates [m] in the prior's CRS; broadcast together.
        """
        x, y = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(x, y))
        shape = x.shape
        x, y = x.reshape(-1), y.reshape(-1)
        row, col, inside = self._pixels(x, y)
        q = np.where(inside, self._thin_threshold[row, col], 0.0)
        concentration = np.full(x.size, np.nan)
        top = np.full(x.size, np.nan)
        if (q > 0).any():
            discs = self._discs(x[q > 0], y[q > 0])
            kernel = _covering_parallel if x.size >= _PARALLEL_POINTS else _covering_serial
            hit = kernel(x, y, q, discs.keys, discs.starts, discs.x, discs.y, discs.rank, discs.thin,
                         self.tile_m, self.params.patch_radius_m)
            covered = hit >= 0
            k, s = hit[covered], self._stability[row[covered], col[covered]]
            bare = discs.frost[k] < self._frost[row[covered], col[covered]]
            concentration[covered] = discs.concentration[k]
            top[covered] = np.where(bare, s, np.maximum(discs.lag[k], s))
        return PatchSample(concentration.reshape(shape), top.reshape(shape), inside.reshape(shape))

    def weh(self, x: ArrayLike, y: ArrayLike, depth: ArrayLike) -> NDArray:
        """WEH at points and depths [wt%]; NaN off the prior's grid.

        Parameters
        ----------
        x, y : array_like
            Map coordinates [m].
        depth : array_like
            Depth below the surface [m]; broadcast with ``x`` and ``y``.
        """
        x, y, depth = np.broadcast_arrays(x, y, depth)
        found = self.sample(x, y)
        value = np.where(depth >= found.ice_top_m, found.concentration_wt_pct, self.params.background_wt_pct)
        return np.where(found.inside, value, np.nan)

    def mean_between(self, found: PatchSample, top_m: float, bottom_m: float) -> NDArray:
        """Mean WEH between two depths at sampled points [wt%]; NaN off the grid.

        Parameters
        ----------
        found : PatchSample
            The points, from :meth:`sample`.
        top_m, bottom_m : float
            Depth interval [m], ``top_m < bottom_m``.
        """
        below = np.clip((bottom_m - np.nan_to_num(found.ice_top_m, nan=bottom_m)) / (bottom_m - top_m), 0.0, 1.0)
        background = self.params.background_wt_pct
        value = background + np.nan_to_num(found.concentration_wt_pct - background) * below
        return np.where(found.inside, value, np.nan)

    def bin_means(self, found: PatchSample) -> NDArray:
        """Mean WEH of each depth bin of ``params`` at sampled points [wt%], shape ``(bins,) + points``."""
        return np.stack([self.mean_between(found, a, b) for a, b in itertools.pairwise(self.params.depth_edges())])

    def layers(self, x: ArrayLike, y: ArrayLike) -> NDArray:
        """Mean WEH of each depth bin of ``params`` at points [wt%], shape ``(bins,) + x.shape``."""
        return self.bin_means(self.sample(x, y))

    def column(self, x: ArrayLike, y: ArrayLike, depth_m: float = NEUTRON_DEPTH_M) -> NDArray:
        """Mean WEH of the top ``depth_m`` at points [wt%] (default: the 1 m a neutron spectrometer senses)."""
        return self.mean_between(self.sample(x, y), 0.0, depth_m)
