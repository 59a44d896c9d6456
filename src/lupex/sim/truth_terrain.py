"""The fine "truth" world the rover drives in: rocks and small craters the 20 m orbital map never saw.

Rocks
    Rocks at least ``obstacle_diameter_m`` across (about the rover's ground clearance) are
    obstacles. They form a Poisson process whose intensity is the Golombek & Rapp (1997, JGR 102,
    4117-4129) density ``N(>D_min; k)`` (:func:`lupex.terrain.rocks.rock_density`) for the rock
    area fraction ``k`` of the 20 m pixel beneath, and their diameters follow the same law: the
    number density ``dN/dD = k q e^{-q D} / (pi D^2 / 4)`` with ``q = 1.79 + 0.152 / k`` [m^-1],
    truncated to ``[D_min, D_max]``. A varying ``k`` is handled by thinning (Lewis & Shedler 1979,
    Naval Res. Logist. Q. 26): candidates are drawn at the tile's largest intensity and each is
    kept with probability ``N(>D_min; k(x)) / max``.

Craters
    Craters of ``crater_min_diameter_m`` - ``crater_max_diameter_m`` (below the map's resolution)
    are drawn from the project's crater model (:mod:`lupex.terrain.craters`): the visible density
    ``min(Neukum 2001 production, f_eq 1.54 D^-2)``, ages from the Neukum chronology over each
    size's visible lifetime and the Pike (1977) depth worn down with the degradation state. A
    simple crater is a parabolic bowl ``z = depth (r / R)^2``, whose wall slope ``2 depth r / R^2``
    exceeds the rover's ``max_slope_deg`` beyond ``r_c = tan(max_slope) R^2 / (2 depth)``; the
    annulus ``r_c <= r <= R`` is impassable (the floor inside it is reachable only across it).
    Worn craters whose rim slope stays below the limit are no hazard.

Tiles
    The plane is cut into square tiles of ``tile_m`` anchored at the projection origin. The
    hazards *centred* in tile ``(i, j)`` come from ``numpy.random.default_rng([seed, stream, i', j'])``
    (``i'``, ``j'`` the zig-zag codes of the signed indices), so every answer depends only on
    the seed and the place, never on which windows were asked for before or in which order.
    A hazard reaches at most ``tile_m`` from its centre, so a window needs only its own tiles
    and their neighbours. Tiles are generated on demand and kept in a bounded cache.

Cells
    Blocked cells lie on a global lattice of ``cell_m`` squares anchored at the projection
    origin. A cell is blocked when a hazard's footprint (a rock's disc, a crater's steep
    annulus) overlaps its square, so even a rock smaller than a cell blocks the cell it lies
    in. The rover's own width is *not* added here: the local planner inflates obstacles.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.errors import LupexError
from lupex.rover.model import MobilityConfig
from lupex.terrain.craters import (
    crater_shape,
    equilibrium_density,
    neukum_n1,
    neukum_production,
    visible_density,
    visible_lifetime,
)
from lupex.terrain.rocks import q_of_k, rock_density

__all__ = ["Hazards", "TruthTerrain", "TruthTerrainConfig"]

_ROCK_STREAM, _CRATER_STREAM = 0, 1
"""Stream numbers of the per-tile generators: never renumber them, or seeds give other worlds."""

_CACHE_TILES = 2048
"""Tiles whose hazards stay cached (least recently used dropped first)."""

_MAX_WINDOW_CELLS = 50_000_000
"""Largest window :meth:`TruthTerrain.blocked` rasterises [cells]."""

_TABLE_K = np.geomspace(1e-4, 0.6, 257)
"""Rock area fractions of the size tables (the range :func:`rock_density` tabulates) [-]."""

_TABLE_POINTS = 2049
"""Samples of each tabulated size distribution."""

_CRATER_BINS_PER_DECADE = 20

_AGE_TABLE = np.linspace(0.0, 4.6, 4601)
_N1_TABLE = neukum_n1(_AGE_TABLE)
"""Neukum chronology N(1 km) [km^-2] against age [Gyr], to invert for formation ages."""


class TruthTerrainConfig(BaseModel):
    """What the fine truth world holds and how finely it is gridded (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cell_m: float = Field(
        0.5, gt=0.0,
        description="Side of a blocked/free cell [m]. Assumption: 0.5 m, a third of the ~1.46 m rover width.",
    )
    tile_m: float = Field(
        64.0, gt=0.0,
        description="Side of a generation tile [m], a whole number of cells and at least the largest hazard "
        "radius. Assumption: 64 m (128 cells of 0.5 m).",
    )
    obstacle_diameter_m: float = Field(
        0.3, gt=0.0,
        description="Smallest rock that is an obstacle [m]. Assumption: about the ground clearance of a "
        "LUPEX-class tracked rover (not published; the value of lupex.terrain.derive.HazardConfig).",
    )
    max_rock_diameter_m: float = Field(
        10.0, gt=0.0,
        description="Largest rock drawn [m]. Assumption: the Golombek & Rapp law leaves a negligible area "
        "fraction above 10 m (below 1e-12 for k <= 0.2), and such boulders are mapped from orbit.",
    )
    default_rock_k: float = Field(
        0.01, ge=0.0, lt=1.0,
        description="Rock area fraction where no rock map is given or it has no data [-]: about 1 %, lunar "
        "Surveyor sites (Golombek & Rapp 1997), as lupex.terrain.derive.HazardConfig.background_rock_k.",
    )
    crater_min_diameter_m: float = Field(
        2.0, gt=0.0,
        description="Smallest crater drawn [m]. Assumption: smaller pits are shallower than the rover's "
        "clearance and are crossed.",
    )
    crater_max_diameter_m: float = Field(
        15.0, gt=0.0,
        description="Largest crater drawn [m]. Assumption: 15 m, below the 20 m pixels of the orbital map "
        "that already holds the larger craters.",
    )
    surface_age_gyr: float = Field(
        3.9, gt=0.0, le=4.5,
        description="Age of the cratered surface [Gyr]. Assumption: south-polar highlands, about 3.9-4.2 Ga "
        "(Spudis et al. 2008, GRL 35), as lupex.terrain.synth.",
    )
    crater_equilibrium_fraction: float = Field(
        0.02, ge=0.0, le=1.0,
        description="Equilibrium crater density as a fraction of geometric saturation [-]; small lunar craters "
        "equilibrate at 1-5 % (Xiao & Werner 2015, JGR Planets 120); 2 % as lupex.terrain.synth. 0 draws no "
        "craters.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TruthTerrainConfig:
        cells = self.tile_m / self.cell_m
        if abs(cells - round(cells)) > 1e-9 * cells:
            raise ValueError(f"tile_m ({self.tile_m:g}) must be a whole number of cells of {self.cell_m:g} m")
        if self.obstacle_diameter_m >= self.max_rock_diameter_m:
            raise ValueError("obstacle_diameter_m must be below max_rock_diameter_m")
        if self.crater_min_diameter_m >= self.crater_max_diameter_m:
            raise ValueError("crater_min_diameter_m must be below crater_max_diameter_m")
        if max(self.max_rock_diameter_m, self.crater_max_diameter_m) / 2.0 > self.tile_m:
            raise ValueError(f"tile_m ({self.tile_m:g}) must be at least the largest hazard radius; "
                             "raise tile_m or lower max_rock_diameter_m / crater_max_diameter_m")
        return self


@dataclass(frozen=True)
class Hazards:
    """Obstacles of the truth world: rocks (discs) and steep-walled craters (annuli).

    Attributes
    ----------
    x, y : ndarray
        Centres in map coordinates [m].
    inner_m : ndarray
        Inner radius of the impassable ring [m]: 0 for a rock, ``r_c`` for a crater.
    outer_m : ndarray
        Outer radius [m]: half the rock's diameter, the crater's rim radius.
    is_crater : ndarray of bool
        Whether each hazard is a crater.
    """

    x: NDArray
    y: NDArray
    inner_m: NDArray
    outer_m: NDArray
    is_crater: NDArray

    def __len__(self) -> int:
        return int(self.x.size)

    def take(self, which: NDArray) -> Hazards:
        """The hazards selected by a boolean mask or index array."""
        return Hazards(self.x[which], self.y[which], self.inner_m[which], self.outer_m[which],
                       self.is_crater[which])

    @staticmethod
    def concat(parts: list[Hazards]) -> Hazards:
        """All hazards of several sets, in order."""
        return Hazards(*(np.concatenate(cols) for cols in zip(
            *((p.x, p.y, p.inner_m, p.outer_m, p.is_crater) for p in parts), strict=True)))


def _zigzag(i: int) -> int:
    """A signed tile index as a non-negative integer, as seed sequences need."""
    return 2 * i if i >= 0 else -2 * i - 1


@numba.njit(cache=True)
def _touches(col, row, cell, hx, hy, inner, outer):
    """Whether the ring ``inner <= r < outer`` about (hx, hy) overlaps the square of global cell (col, row)."""
    xa = col * cell
    xb = xa + cell
    ya = row * cell
    yb = ya + cell
    nx_ = max(xa - hx, 0.0, hx - xb)
    ny_ = max(ya - hy, 0.0, hy - yb)
    if nx_ * nx_ + ny_ * ny_ >= outer * outer:
        return False
    if inner <= 0.0:
        return True
    fx = max(abs(hx - xa), abs(hx - xb))
    fy = max(abs(hy - ya), abs(hy - yb))
    return fx * fx + fy * fy > inner * inner


@numba.njit(cache=True)
def _rasterise(out, col0, row_top, cell, hx, hy, inner, outer, clearance):
    """Mark in ``out`` (row 0 = global row ``row_top``, column 0 = global column ``col0``) the cells a
    hazard touches, or whose centre lies within ``clearance`` of its footprint."""
    ny, nx = out.shape
    for h in range(hx.size):
        reach = outer[h] + clearance
        c0 = max(int(math.floor((hx[h] - reach) / cell)) - col0, 0)
        c1 = min(int(math.floor((hx[h] + reach) / cell)) - col0 + 1, nx)
        r0 = max(row_top - int(math.floor((hy[h] + reach) / cell)), 0)
        r1 = min(row_top - int(math.floor((hy[h] - reach) / cell)) + 1, ny)
        hole = inner[h] - clearance
        for r in range(r0, r1):
            for c in range(c0, c1):
                if out[r, c]:
                    continue
                col, row = col0 + c, row_top - r
                if _touches(col, row, cell, hx[h], hy[h], inner[h], outer[h]):
                    out[r, c] = True
                elif clearance > 0.0:
                    dx = (col + 0.5) * cell - hx[h]
                    dy = (row + 0.5) * cell - hy[h]
                    d2 = dx * dx + dy * dy
                    out[r, c] = d2 < reach * reach and (hole <= 0.0 or d2 > hole * hole)


@numba.njit(cache=True)
def _points_blocked(cols, rows, cell, hx, hy, inner, outer):
    """For each global cell (cols[n], rows[n]), whether any hazard touches it."""
    out = np.zeros(cols.size, dtype=np.bool_)
    for n in range(cols.size):
        for h in range(hx.size):
            if _touches(cols[n], rows[n], cell, hx[h], hy[h], inner[h], outer[h]):
                out[n] = True
                break
    return out


@numba.njit(cache=True)
def _rock_sizes(u, log_k, table_log_k, table_d, table_cdf):
    """Inverse-transform rock diameters [m] from uniforms ``u``, interpolating the tables in log k."""
    out = np.empty(u.size)
    last = table_log_k.size - 1
    for n in range(u.size):
        pos = (min(max(log_k[n], table_log_k[0]), table_log_k[last]) - table_log_k[0]) / (
            table_log_k[1] - table_log_k[0])
        i = min(int(pos), last - 1)
        w = pos - i
        d_lo = np.interp(u[n], table_cdf[i], table_d[i])
        d_hi = np.interp(u[n], table_cdf[i + 1], table_d[i + 1])
        out[n] = math.exp((1.0 - w) * math.log(d_lo) + w * math.log(d_hi))
    return out


def _size_tables(d_min: float, d_max: float) -> tuple[NDArray, NDArray]:
    """Diameters and cumulative probabilities of the truncated size law for each ``_TABLE_K``.

    The density ``e^{-q D} / D^2`` on ``[d_min, d_max]`` is integrated by the trapezoid rule in
    ``t = q (D - d_min)`` up to ``t = 60`` (beyond, ``e^{-t}`` is negligible).
    """
    q = q_of_k(_TABLE_K)[:, None]
    t_max = np.minimum(q * (d_max - d_min), 60.0)
    t = np.linspace(0.0, 1.0, _TABLE_POINTS)[None, :] * t_max
    d = d_min + t / q
    f = np.exp(-t) / d**2
    cum = np.concatenate([np.zeros((q.size, 1)), np.cumsum(0.5 * (f[:, 1:] + f[:, :-1]) * np.diff(t, axis=1),
                                                           axis=1)], axis=1)
    return d, cum / cum[:, -1:]


class TruthTerrain:
    """The rocks and small craters of one seeded world, evaluated lazily by tile.

    Parameters
    ----------
    rocks_k : xarray.DataArray or None
        Rock area fraction ``k`` per pixel [-] (the site's ``rocks.tif``), on any grid with a
        transform; NaN pixels and places off the grid take ``config.default_rock_k``. ``None``
        uses the default everywhere.
    config : TruthTerrainConfig, optional
        What the world holds; defaults when absent.
    seed : int
        Non-negative seed; the same inputs and seed give the same world everywhere.
    max_slope_deg : float, optional
        Steepest crater wall the rover can drive [deg]: the rover's
        (``lupex.rover.model.MobilityConfig.max_slope_deg``, also its default).
    """

    def __init__(self, rocks_k: xr.DataArray | None, config: TruthTerrainConfig | None = None, seed: int = 0,
                 max_slope_deg: float | None = None):
        if int(seed) < 0:
            raise LupexError(f"seed {seed} is negative; use a non-negative integer")
        self.config = config or TruthTerrainConfig()
        self.max_slope_deg = (MobilityConfig.model_fields["max_slope_deg"].default if max_slope_deg is None
                              else float(max_slope_deg))
        self.seed = int(seed)
        cfg = self.config
        self._k_default = cfg.default_rock_k
        if rocks_k is None:
            self._k = np.full((1, 1), cfg.default_rock_k)
            self._k_transform = None
        else:
            k = np.asarray(rocks_k.values, dtype=float)
            if k.ndim != 2:
                raise LupexError(f"the rock map must be 2-D, got shape {k.shape}")
            finite = np.isfinite(k)
            if ((k[finite] < 0) | (k[finite] >= 1)).any():
                raise LupexError("the rock map holds values outside 0 <= k < 1; give the rock area fraction, "
                                 "as 'lupex terrain' writes it")
            self._k = np.where(finite, k, cfg.default_rock_k)
            self._k_transform = rocks_k.rio.transform()
        density = rock_density(cfg.obstacle_diameter_m, np.append(self._k.ravel(), cfg.default_rock_k),
                               cfg.max_rock_diameter_m)
        self._lam = density[:-1].reshape(self._k.shape)
        self._lam_default = float(density[-1])
        self._size_d, self._size_cdf = _size_tables(cfg.obstacle_diameter_m, cfg.max_rock_diameter_m)
        self._crater_bins = self._crater_population()
        self._reach = max(cfg.max_rock_diameter_m, cfg.crater_max_diameter_m) / 2.0
        self._tiles: OrderedDict[tuple[int, int], Hazards] = OrderedDict()

    @property
    def cell_m(self) -> float:
        """Side of a cell [m]."""
        return self.config.cell_m

    # --- generation -------------------------------------------------------------------

    def _crater_population(self) -> tuple[NDArray, ...]:
        """Per diameter bin: edges [m], density [m^-2] and visible lifetime [Gyr]; empty without craters."""
        cfg = self.config
        if cfg.crater_equilibrium_fraction == 0.0:
            return (np.zeros(0),) * 4
        n_bins = max(1, math.ceil(np.log10(cfg.crater_max_diameter_m / cfg.crater_min_diameter_m)
                                  * _CRATER_BINS_PER_DECADE))
        edges_km = np.geomspace(cfg.crater_min_diameter_m, cfg.crater_max_diameter_m, n_bins + 1) / 1000.0
        cumulative = visible_density(edges_km, cfg.surface_age_gyr, cfg.crater_equilibrium_fraction)
        per_m2 = (cumulative[:-1] - cumulative[1:]) / 1e6
        ratio = (equilibrium_density(edges_km[:-1], cfg.crater_equilibrium_fraction)
                 / neukum_production(edges_km[:-1], cfg.surface_age_gyr))
        lifetime = np.array([visible_lifetime(r, cfg.surface_age_gyr) for r in ratio])
        return edges_km[:-1] * 1000.0, edges_km[1:] * 1000.0, per_m2, lifetime

    def _k_and_intensity(self, x: NDArray, y: NDArray) -> tuple[NDArray, NDArray]:
        """Rock area fraction [-] and obstacle-rock intensity [m^-2] at points."""
        if self._k_transform is None:
            return np.full(x.shape, self._k_default), np.full(x.shape, self._lam_default)
        t = self._k_transform
        col = np.floor((x - t.c) / t.a)
        row = np.floor((y - t.f) / t.e)
        ny, nx = self._k.shape
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        r = np.where(inside, row, 0).astype(np.int64)
        c = np.where(inside, col, 0).astype(np.int64)
        return (np.where(inside, self._k[r, c], self._k_default),
                np.where(inside, self._lam[r, c], self._lam_default))

    def _max_intensity(self, x0: float, y0: float, size: float) -> float:
        """Largest obstacle-rock intensity over a square [m^-2] (the thinning bound)."""
        if self._k_transform is None:
            return self._lam_default
        t = self._k_transform
        cols = np.floor((np.array([x0, x0 + size]) - t.c) / t.a)
        rows = np.floor((np.array([y0, y0 + size]) - t.f) / t.e)
        ny, nx = self._k.shape
        c0, c1 = int(cols.min()), int(cols.max())
        r0, r1 = int(rows.min()), int(rows.max())
        best = 0.0
        if c0 < 0 or r0 < 0 or c1 >= nx or r1 >= ny:
            best = self._lam_default
        sub = self._lam[max(r0, 0):min(r1, ny - 1) + 1, max(c0, 0):min(c1, nx - 1) + 1]
        return max(best, float(sub.max(initial=0.0)))

    def _rocks(self, i: int, j: int) -> Hazards:
        tile = self.config.tile_m
        x0, y0 = i * tile, j * tile
        rng = np.random.default_rng([self.seed, _ROCK_STREAM, _zigzag(i), _zigzag(j)])
        lam_max = self._max_intensity(x0, y0, tile)
        n = int(rng.poisson(lam_max * tile * tile)) if lam_max > 0 else 0
        u = rng.random((4, n))
        x, y = x0 + tile * u[0], y0 + tile * u[1]
        k, lam = self._k_and_intensity(x, y)
        keep = u[2] * lam_max < lam
        radius = 0.5 * _rock_sizes(u[3][keep], np.log(np.maximum(k[keep], 1e-300)), np.log(_TABLE_K),
                                   self._size_d, self._size_cdf)
        return Hazards(x[keep], y[keep], np.zeros(radius.size), radius, np.zeros(radius.size, dtype=bool))

    def _craters(self, i: int, j: int) -> Hazards:
        cfg, tile = self.config, self.config.tile_m
        d_lo, d_hi, per_m2, lifetime = self._crater_bins
        rng = np.random.default_rng([self.seed, _CRATER_STREAM, _zigzag(i), _zigzag(j)])
        counts = rng.poisson(per_m2 * tile * tile)
        which = np.repeat(np.arange(counts.size), counts)
        u = rng.random((4, which.size))
        diameter = d_lo[which] * (d_hi[which] / d_lo[which]) ** u[0]
        # Formation ages spread as the Neukum cratering rate over each size's visible lifetime.
        span = np.minimum(lifetime[which], cfg.surface_age_gyr)
        age = np.interp(u[1] * neukum_n1(span), _N1_TABLE, _AGE_TABLE)
        depth = crater_shape(diameter, age / lifetime[which])[0]
        radius = diameter / 2.0
        inner = math.tan(math.radians(self.max_slope_deg)) * radius**2 / (2.0 * depth)
        steep = inner < radius
        return Hazards(i * tile + tile * u[2][steep], j * tile + tile * u[3][steep], inner[steep], radius[steep],
                       np.ones(int(steep.sum()), dtype=bool))

    def _tile(self, i: int, j: int) -> Hazards:
        key = (i, j)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        found = Hazards.concat([self._rocks(i, j), self._craters(i, j)])
        self._tiles[key] = found
        if len(self._tiles) > _CACHE_TILES:
            self._tiles.popitem(last=False)
        return found

    def _gather(self, x0: float, y0: float, x1: float, y1: float) -> Hazards:
        """Every hazard centred in a tile that can reach the rectangle."""
        tile = self.config.tile_m
        i0, i1 = math.floor((x0 - self._reach) / tile), math.floor((x1 + self._reach) / tile)
        j0, j1 = math.floor((y0 - self._reach) / tile), math.floor((y1 + self._reach) / tile)
        return Hazards.concat([self._tile(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)])

    # --- queries ----------------------------------------------------------------------

    def _window(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        if not (np.isfinite([x0, y0, x1, y1]).all() and x0 < x1 and y0 < y1):
            raise LupexError(f"window ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is not a rectangle; give x0 < x1 and y0 < y1")
        cell = self.cell_m
        col0, col1 = math.floor(x0 / cell), math.ceil(x1 / cell)
        row_bottom, row_top = math.floor(y0 / cell), math.ceil(y1 / cell)
        if (col1 - col0) * (row_top - row_bottom) > _MAX_WINDOW_CELLS:
            raise LupexError(f"window of {(x1 - x0):.0f} x {(y1 - y0):.0f} m is too large to grid at "
                             f"{cell:g} m; ask for a smaller window")
        return col0, col1, row_bottom, row_top

    def hazards(self, x0: float, y0: float, x1: float, y1: float) -> Hazards:
        """The hazards whose footprint reaches a rectangle.

        Parameters
        ----------
        x0, y0, x1, y1 : float
            Left, bottom, right and top of the rectangle [m].
        """
        self._window(x0, y0, x1, y1)
        found = self._gather(x0, y0, x1, y1)
        dx = np.maximum(np.maximum(x0 - found.x, found.x - x1), 0.0)
        dy = np.maximum(np.maximum(y0 - found.y, found.y - y1), 0.0)
        return found.take(dx * dx + dy * dy < found.outer_m**2)

    def blocked(self, x0: float, y0: float, x1: float, y1: float,
                clearance_m: float = 0.0) -> tuple[NDArray, Affine]:
        """Impassable cells over a rectangle, snapped outwards to the cell lattice.

        A cell is impassable when a hazard's footprint overlaps its square, or, with a clearance,
        when its centre lies within ``clearance_m`` of a footprint: the configuration-space
        obstacles of a rover of that half-width whose centre stands on the cell centre.

        Parameters
        ----------
        x0, y0, x1, y1 : float
            Left, bottom, right and top of the rectangle [m].
        clearance_m : float
            Distance every footprint is grown by, for cell centres [m]; 0 gives the truth itself.

        Returns
        -------
        blocked : ndarray of bool
            Shape ``(rows, cols)``, row 0 at the top (largest y).
        transform : affine.Affine
            Affine transform of the cell corners [m] (rasterio convention).
        """
        if not (np.isfinite(clearance_m) and clearance_m >= 0):
            raise LupexError(f"clearance_m ({clearance_m:g}) must be a non-negative distance in metres")
        col0, col1, row_bottom, row_top = self._window(x0, y0, x1, y1)
        cell = self.cell_m
        out = np.zeros((row_top - row_bottom, col1 - col0), dtype=bool)
        grow = clearance_m + cell
        found = self._gather(col0 * cell - grow, row_bottom * cell - grow, col1 * cell + grow, row_top * cell + grow)
        _rasterise(out, col0, row_top - 1, cell, found.x, found.y, found.inner_m, found.outer_m, float(clearance_m))
        return out, Affine(cell, 0.0, col0 * cell, 0.0, -cell, row_top * cell)

    def is_blocked(self, x: ArrayLike, y: ArrayLike) -> NDArray:
        """Whether the cell holding each point is impassable (the value :meth:`blocked` gives it).

        Parameters
        ----------
        x, y : array_like
            Map coordinates [m], broadcast together.
        """
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if not np.isfinite(x).all() or not np.isfinite(y).all():
            raise LupexError("points must have finite coordinates")
        cols = np.floor(x.ravel() / self.cell_m).astype(np.int64)
        rows = np.floor(y.ravel() / self.cell_m).astype(np.int64)
        out = np.zeros(cols.size, dtype=bool)
        per_tile = math.floor(self.config.tile_m / self.cell_m + 0.5)
        ti, tj = np.floor_divide(cols, per_tile), np.floor_divide(rows, per_tile)
        tiles, which = np.unique(np.stack([ti, tj]), axis=1, return_inverse=True)
        tile = self.config.tile_m
        for n, (i, j) in enumerate(tiles.T):
            mine = which.ravel() == n
            found = self._gather(i * tile, j * tile, (i + 1) * tile, (j + 1) * tile)
            out[mine] = _points_blocked(cols[mine], rows[mine], self.cell_m, found.x, found.y, found.inner_m,
                                        found.outer_m)
        return out.reshape(x.shape)
