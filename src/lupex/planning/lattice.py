"""The planning lattice: a coarse graph of parking places laid over the fine costmap.

Strategic plans over days cannot afford a state per 20 m pixel and per minute, so the
time-dependent planner (:mod:`lupex.planning.timed`) works on a lattice: the DEM is cut into
square blocks of ``spacing_px`` pixels, and each block holds one node, the allowed pixel
nearest its centre (a block without an allowed pixel has no node). Places the user names
(start, waypoints) replace the node of their block, so a plan starts and ends exactly there.

Nodes are joined by the 16 moves of :data:`lupex.planning.grid_search.MOVES` on the lattice
(axial, diagonal and knight moves between blocks). A move is an *edge* when the straight
segment between the two nodes' pixels crosses only allowed pixels, sampled every
``1 / SAMPLES_PER_PX`` pixel. Along the segment the heights are interpolated bilinearly every
half pixel; each half-pixel piece costs the driving power on its own grade
(:func:`lupex.rover.power.drive_power_w`, uphill dearer, downhill floored at the avionics load)
for the time it takes at the nominal speed. Strategic planners of planetary rovers work on
such coarse graphs and leave the metre scale to onboard navigation (Tompkins, Stentz &
Wettergreen 2004, "Mission-level path planning and re-planning for rover exploration",
Robotics and Autonomous Systems 54).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lupex.errors import LupexError
from lupex.planning.grid_search import MOVES
from lupex.rover.model import RoverConfig
from lupex.rover.power import drive_power_w

__all__ = ["Lattice", "build_lattice", "move_headings_deg"]

SAMPLES_PER_PX = 5
"""Samples per pixel of an edge's segment when checking it crosses only allowed pixels."""

_PIECE_PX = 0.5
"""Length of the pieces an edge's energy is summed over [pixels]."""


def move_headings_deg() -> NDArray:
    """Grid azimuth of each of the 16 moves, clockwise from grid north (-row) [deg]."""
    return np.mod(np.degrees(np.arctan2(MOVES[:, 1], -MOVES[:, 0])), 360.0)


@dataclass(frozen=True)
class Lattice:
    """Nodes and edges of the planning lattice.

    Attributes
    ----------
    spacing_px : int
        Block size [pixels].
    index : ndarray of int64, shape (bi, bj)
        Node number of each block, -1 where the block has no allowed pixel.
    block : ndarray of int64, shape (N, 2)
        Block row and column of each node.
    pixel : ndarray of int64, shape (N, 2)
        DEM row and column of each node.
    target : ndarray of int64, shape (N, 16)
        Node reached by each move, -1 where the move is not an edge.
    length_m : ndarray, shape (N, 16)
        Ground length of each edge [m] (0 where none).
    drive_wh : ndarray, shape (N, 16)
        Battery energy the drive along each edge draws, before any sunlight [Wh].
    pixel_m : float
        Ground size of a DEM pixel [m].
    """

    spacing_px: int
    index: NDArray
    block: NDArray
    pixel: NDArray
    target: NDArray
    length_m: NDArray
    drive_wh: NDArray
    pixel_m: float

    @property
    def size(self) -> int:
        """Number of nodes."""
        return int(self.block.shape[0])

    def source(self) -> NDArray:
        """Node each move arrives from, shape (N, 16): ``source[n, k]`` reaches ``n`` by move
        ``k``, -1 where no edge does."""
        bi, bj = self.index.shape
        rows = self.block[:, 0:1] - MOVES[None, :, 0]
        cols = self.block[:, 1:2] - MOVES[None, :, 1]
        inside = (rows >= 0) & (rows < bi) & (cols >= 0) & (cols < bj)
        src = np.where(inside, self.index[np.clip(rows, 0, bi - 1), np.clip(cols, 0, bj - 1)], -1)
        ok = src >= 0
        ok[ok] = self.target[src[ok], np.nonzero(ok)[1]] == np.nonzero(ok)[0]
        return np.where(ok, src, -1)

    def block_nodes(self, rows: ArrayLike, cols: ArrayLike) -> NDArray:
        """The node of the block holding each DEM pixel, -1 where the block has none (or is a partial
        block along the edge)."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        bi, bj = self.index.shape
        r, c = rows // self.spacing_px, cols // self.spacing_px
        inside = (r >= 0) & (r < bi) & (c >= 0) & (c < bj)
        return np.where(inside, self.index[np.clip(r, 0, bi - 1), np.clip(c, 0, bj - 1)], -1)

    def node_of(self, pixel_rc: ArrayLike) -> int:
        """The node at a DEM pixel (a place given to :func:`build_lattice`)."""
        r, c = (int(v) for v in pixel_rc)
        node = int(self.index[r // self.spacing_px, c // self.spacing_px])
        if node < 0 or tuple(self.pixel[node]) != (r, c):
            raise LupexError(f"pixel {r},{c} is not a node of the planning lattice")
        return node

    def ticks_to(self, duration_ticks: NDArray, goal: int) -> NDArray:
        """Fewest driving ticks from every node to ``goal`` (inf where it cannot be reached)."""
        n, k = np.nonzero(self.target >= 0)
        graph = csr_matrix((duration_ticks[n, k].astype(float), (self.target[n, k], n)),
                           shape=(self.size, self.size))
        return dijkstra(graph, indices=[goal], min_only=True)


def _blocks(grid: NDArray, spacing: int, fill) -> NDArray:
    """A grid cut into blocks, shape (bi, bj, spacing^2), padded with ``fill``."""
    ny, nx = grid.shape
    bi, bj = -(-ny // spacing), -(-nx // spacing)
    padded = np.full((bi * spacing, bj * spacing), fill, dtype=grid.dtype)
    padded[:ny, :nx] = grid
    return padded.reshape(bi, spacing, bj, spacing).transpose(0, 2, 1, 3).reshape(bi, bj, spacing * spacing)


def _representatives(allowed: NDArray, spacing: int, preference: NDArray | None) -> NDArray:
    """For each block, the flat index of its allowed pixel with the highest preference, the
    nearest its centre among equals (-1 where the block has no allowed pixel)."""
    nx = allowed.shape[1]
    blocks = _blocks(allowed, spacing, False)
    if preference is not None:
        score = _blocks(np.where(allowed, np.nan_to_num(preference, nan=-np.inf), -np.inf), spacing, -np.inf)
        best = score.max(axis=2, keepdims=True)
        blocks = blocks & (score >= best - 1e-9 * np.abs(best))
    bi, bj = blocks.shape[:2]
    centre = (spacing - 1) / 2.0
    dr, dc = np.divmod(np.arange(spacing * spacing), spacing)
    order = np.lexsort((np.arange(dr.size), (dr - centre) ** 2 + (dc - centre) ** 2))
    ranked = blocks[:, :, order]
    first = np.argmax(ranked, axis=2)
    found = np.take_along_axis(ranked, first[..., None], axis=2)[..., 0]
    local = order[first]
    rows = np.arange(bi)[:, None] * spacing + local // spacing
    cols = np.arange(bj)[None, :] * spacing + local % spacing
    return np.where(found, rows * nx + cols, -1)


def _segment_allowed(allowed: NDArray, r0, c0, r1, c1) -> NDArray:
    """Whether each straight segment from pixel (r0, c0) to (r1, c1) meets only allowed pixels."""
    steps = int(np.ceil(float(np.max(np.hypot(r1 - r0, c1 - c0), initial=0.0)) * SAMPLES_PER_PX)) + 1
    t = np.linspace(0.0, 1.0, steps)[None, :]
    rows = np.rint(r0[:, None] + (r1 - r0)[:, None] * t).astype(np.int64)
    cols = np.rint(c0[:, None] + (c1 - c0)[:, None] * t).astype(np.int64)
    return allowed[rows, cols].all(axis=1)


def _segment_energy_wh(heights: NDArray, r0, c0, r1, c1, pixel_m: float, rover: RoverConfig) -> NDArray:
    """Driving energy along straight segments, summed over half-pixel pieces of their own grade [Wh]."""
    length_px = np.hypot(r1 - r0, c1 - c0)
    pieces = max(1, int(np.ceil(float(np.max(length_px, initial=0.0)) / _PIECE_PX)))
    t = np.linspace(0.0, 1.0, pieces + 1)[None, :]
    rows = r0[:, None] + (r1 - r0)[:, None] * t
    cols = c0[:, None] + (c1 - c0)[:, None] * t
    z = ndimage.map_coordinates(heights, [rows.ravel(), cols.ravel()], order=1, mode="nearest").reshape(rows.shape)
    piece_m = (length_px * pixel_m / pieces)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        grade_deg = np.degrees(np.arctan2(np.diff(z, axis=1), piece_m))
    seconds = piece_m / rover.mobility.nominal_speed_m_s
    return (drive_power_w(rover, grade_deg) * seconds).sum(axis=1) / 3600.0


def build_lattice(cost_per_m: NDArray, heights: NDArray, pixel_m: float, spacing_px: int, rover: RoverConfig,
                  places_rc: ArrayLike = (), preference: NDArray | None = None) -> Lattice:
    """Lay the planning lattice over a costmap.

    Parameters
    ----------
    cost_per_m : ndarray, shape (ny, nx)
        Costmap; finite = allowed (:func:`lupex.planning.costmap.costmap`).
    heights : ndarray, shape (ny, nx)
        Heights [m] for the grades along the edges.
    pixel_m : float
        Ground size of a pixel [m].
    spacing_px : int
        Block size [pixels], >= 1.
    rover : RoverConfig
        The rover (speed, driving power).
    places_rc : array_like of int, shape (p, 2)
        Pixels that must be nodes (start, waypoints); each must be allowed, at most one per block.
    preference : ndarray, shape (ny, nx), optional
        Each block's node is its allowed pixel where this is highest (e.g. the mean visible
        fraction of the Sun, so the rover parks in the sunniest spot); the one nearest the
        block's centre when absent.

    Returns
    -------
    Lattice
    """
    allowed = np.isfinite(np.asarray(cost_per_m, dtype=float))
    nx = allowed.shape[1]
    flat = _representatives(allowed, spacing_px, preference)
    places = np.asarray(places_rc, dtype=np.int64).reshape(-1, 2)
    claimed: dict[tuple[int, int], int] = {}
    for i, (r, c) in enumerate(places):
        if not allowed[r, c]:
            raise LupexError(f"place {i} (pixel {r},{c}) is on a forbidden cell")
        key = (r // spacing_px, c // spacing_px)
        if key in claimed and tuple(places[claimed[key]]) != (r, c):
            raise LupexError(f"places {claimed[key]} and {i} fall in the same {spacing_px * pixel_m:g} m block of "
                             "the planning lattice; move them apart or plan with a finer node spacing")
        claimed[key] = i
        flat[key] = r * nx + c
    index = np.full(flat.shape, -1, dtype=np.int64)
    has_node = flat >= 0
    index[has_node] = np.arange(int(has_node.sum()))
    block = np.argwhere(has_node)
    pixel = np.stack(np.divmod(flat[has_node], nx), axis=1)
    n_nodes = block.shape[0]
    target = np.full((n_nodes, len(MOVES)), -1, dtype=np.int64)
    length_m = np.zeros((n_nodes, len(MOVES)))
    drive_wh = np.zeros((n_nodes, len(MOVES)))
    bi, bj = index.shape
    heights = np.asarray(heights, dtype=float)
    heights = np.where(np.isfinite(heights), heights, np.nanmedian(heights))  # nodata pixels are never crossed
    for k, (di, dj) in enumerate(MOVES):
        to_i, to_j = block[:, 0] + di, block[:, 1] + dj
        inside = (to_i >= 0) & (to_i < bi) & (to_j >= 0) & (to_j < bj)
        to = np.where(inside, index[np.clip(to_i, 0, bi - 1), np.clip(to_j, 0, bj - 1)], -1)
        cand = np.nonzero(to >= 0)[0]
        r0, c0 = pixel[cand, 0].astype(float), pixel[cand, 1].astype(float)
        r1, c1 = pixel[to[cand], 0].astype(float), pixel[to[cand], 1].astype(float)
        ok = _segment_allowed(allowed, r0, c0, r1, c1)
        cand, r0, c0, r1, c1 = cand[ok], r0[ok], c0[ok], r1[ok], c1[ok]
        target[cand, k] = to[cand]
        length_m[cand, k] = np.hypot(r1 - r0, c1 - c0) * pixel_m
        drive_wh[cand, k] = _segment_energy_wh(heights, r0, c0, r1, c1, pixel_m, rover)
    return Lattice(spacing_px, index, block, pixel, target, length_m, drive_wh, float(pixel_m))
