"""The rover's local planner: D* Lite replanning around hazards it perceives while driving a leg.

The strategic planner hands the rover a straight leg between two parking nodes of the orbital
map. The rover drives it on the fine cells of the truth world (:mod:`lupex.sim.truth_terrain`)
inside a corridor (the leg's bounding box grown by ``corridor_margin_m``), knowing nothing of
the rocks and small craters at first (the free-space assumption). Obstacles are inflated by the
rover's half-width: a cell is forbidden when its centre lies within ``inflation_m`` of a hazard's
footprint (or the footprint touches it), the configuration-space obstacle of the rover's body
(:meth:`TruthTerrain.blocked` with ``clearance_m``). Every ``sensing_interval_m`` the rover
perceives the forbidden cells whose centres lie within ``sensor_range_m`` of its own.

Search (Koenig & Likhachev 2002, "D* Lite", AAAI-02, Fig. 4, the optimised version): a
goal-rooted incremental search over the 8-connected grid. ``g`` and ``rhs`` estimate each cell's
distance to the goal; the priority queue (a binary heap with decrease-key) orders cells by the
key ``[min(g, rhs) + h(s_start, s) + k_m; min(g, rhs)]`` with the octile distance ``h`` and the
offset ``k_m`` that grows by ``h(s_last, s_start)`` whenever edge costs change after the rover
moved, so the search tree is reused rather than rebuilt. A move costs its length; a move
touching a forbidden cell is impossible, and a diagonal move also needs both cells beside it
free (the corner rule of :mod:`lupex.planning.grid_search`), so the rover never squeezes
between two forbidden cells that meet at a corner. Every goal cell (within
``goal_tolerance_m`` of the leg's end) holds ``rhs = 0``.

Move costs are whole numbers, 1,000,000 per axial and 1,414,214 per diagonal move: D* Lite
relies on exact ties of the key's first component being broken by the second, and with
``sqrt(2)`` in floating point two keys that are equal in exact arithmetic can differ in the last
bit, end the search early and leave a stale ``g``. With whole numbers every sum is exact (below
2^53); the diagonal's relative error, 1.3e-7, changes no route but ties.

The rover keeps its plan until newly perceived hazards cross it (a cell of the plan, or a
corner cell of one of its diagonal moves): costs only rise, so a plan untouched by the changes
stays a shortest path of the known map. The changed cells are always entered into the queue at
once, but the search runs again only when the plan is crossed; that is what
:attr:`LegDrive.replans` counts.

The rover already stands at its start, so the cells within ``inflation_m`` plus one cell of
the start are forbidden only by a hazard in the cell itself (the start cell never); otherwise
a rock beside a parking node would trap it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.errors import LupexError
from lupex.sim.mobility import SlipConfig
from lupex.sim.truth_terrain import TruthTerrain

__all__ = ["AutonomyConfig", "DStarLite", "LegDrive", "drive_leg"]

_DR = np.array([-1, 1, 0, 0, -1, -1, 1, 1], dtype=np.int64)
_DC = np.array([0, 0, -1, 1, -1, 1, -1, 1], dtype=np.int64)
_UNIT = 1_000_000.0
_DIAGONAL = 1_414_214.0
_STEP = np.array([_UNIT] * 4 + [_DIAGONAL] * 4)
"""Move costs [1e-6 cells]: whole numbers, so sums and key ties stay exact in float64 (see the module notes)."""

_REACHED, _ENCLOSED, _STEP_LIMIT = 0, 1, 2
_REASONS = {
    _REACHED: "",
    _ENCLOSED: "no path to the goal: perceived hazards enclose it within the corridor",
    _STEP_LIMIT: "the rover drove more cells than the corridor holds without reaching the goal",
}


class AutonomyConfig(BaseModel):
    """Perception, local planning and traction of the rover (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sensor_range_m: float = Field(
        10.0, gt=0.0,
        description="Range within which hazards are perceived [m]. Assumption: 10 m; VIPER's mast navigation "
        "cameras resolve 10 cm features out to ~15 m (NASA VIPER mast description), and stereo hazard maps "
        "degrade with range.",
    )
    sensing_interval_m: float = Field(
        1.0, gt=0.0,
        description="Distance driven between two perceptions [m]. Assumption: 1 m (stop-and-look every "
        "couple of cells).",
    )
    inflation_m: float = Field(
        0.75, ge=0.0,
        description="Obstacle inflation, the rover's half-width [m]: half of the 1.46 m stowed width (JAXA "
        "system table), rounded up.",
    )
    corridor_margin_m: float = Field(
        30.0, gt=0.0,
        description="Margin around the leg's bounding box that bounds the local search [m]. Assumption: 30 m, "
        "room for detours around the largest small craters (15 m) several times over.",
    )
    goal_tolerance_m: float = Field(
        1.0, ge=0.0,
        description="Distance from the leg's end within which the rover may stop [m]. Assumption: 1 m, well "
        "inside the 20 m map pixel of the parking node.",
    )
    mobility: SlipConfig = Field(default_factory=SlipConfig, description="Slip of the tracks on slopes.")

    @model_validator(mode="after")
    def _consistent(self) -> AutonomyConfig:
        if self.sensor_range_m <= self.inflation_m + self.sensing_interval_m:
            raise ValueError(f"sensor_range_m ({self.sensor_range_m:g}) must exceed inflation_m + "
                             f"sensing_interval_m ({self.inflation_m + self.sensing_interval_m:g}), or the rover "
                             "drives into hazards before it sees them")
        return self


@dataclass(frozen=True)
class LegDrive:
    """The outcome of driving one leg.

    Attributes
    ----------
    x, y : ndarray
        Centres of the cells visited, start to end [m].
    length_m : float
        Length driven, the sum of the cell-to-cell moves [m].
    hazards_avoided : int
        Distinct truth hazards (rocks, steep-walled craters) whose footprint, grown by the rover's
        half-width, crosses the straight line of the leg: the ones a straight drive would have hit
        and the rover drove around. When the goal is not reached, only those up to the point of
        the line nearest where the rover stopped.
    replans : int
        Perceptions whose newly forbidden cells crossed the current plan and forced a new search.
    reached : bool
        Whether the rover stopped within the goal tolerance.
    reason : str
        Why the goal was not reached; empty when it was.
    """

    x: NDArray
    y: NDArray
    length_m: float
    hazards_avoided: int
    replans: int
    reached: bool
    reason: str


# --- the compiled D* Lite --------------------------------------------------------------
#
# Grids are padded with a one-cell border of forbidden cells, so a neighbour is ``u + off[d]``
# with no bounds check: a forbidden cell's moves all cost inf before its neighbours are read.


@numba.njit(cache=True, inline="always")
def _octile(a, b, nxp):
    dr = abs(a // nxp - b // nxp)
    dc = abs(a % nxp - b % nxp)
    return _UNIT * max(dr, dc) + (_DIAGONAL - _UNIT) * min(dr, dc)


@numba.njit(cache=True, inline="always")
def _move_cost(blocked, u, d, nxp):
    """Cost of the move from ``u`` in direction ``d`` [cells]; inf when impossible (corner rule included)."""
    if blocked[u] or blocked[u + _DR[d] * nxp + _DC[d]]:
        return np.inf
    if d >= 4 and (blocked[u + _DC[d]] or blocked[u + _DR[d] * nxp]):
        return np.inf
    return _STEP[d]


@numba.njit(cache=True, inline="always")
def _less(a1, a2, b1, b2):
    return a1 < b1 or (a1 == b1 and a2 < b2)


@numba.njit(cache=True, inline="always")
def _swap(k1, k2, node, pos, i, j):
    k1[i], k1[j] = k1[j], k1[i]
    k2[i], k2[j] = k2[j], k2[i]
    node[i], node[j] = node[j], node[i]
    pos[node[i]] = i
    pos[node[j]] = j


@numba.njit(cache=True)
def _sift(k1, k2, node, pos, size, i):
    """Restore the heap order around entry ``i`` (up, then down)."""
    while i > 0:
        parent = (i - 1) >> 1
        if not _less(k1[i], k2[i], k1[parent], k2[parent]):
            break
        _swap(k1, k2, node, pos, i, parent)
        i = parent
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and _less(k1[child + 1], k2[child + 1], k1[child], k2[child]):
            child += 1
        if not _less(k1[child], k2[child], k1[i], k2[i]):
            break
        _swap(k1, k2, node, pos, i, child)
        i = child


@numba.njit(cache=True)
def _heap_set(k1, k2, node, pos, hsize, u, a, b):
    """Insert ``u`` with key (a, b), or change its key if it is queued."""
    i = pos[u]
    if i < 0:
        i = hsize[0]
        hsize[0] += 1
        node[i] = u
        pos[u] = i
    k1[i] = a
    k2[i] = b
    _sift(k1, k2, node, pos, hsize[0], i)


@numba.njit(cache=True)
def _heap_remove(k1, k2, node, pos, hsize, u):
    i = pos[u]
    last = hsize[0] - 1
    if i != last:
        _swap(k1, k2, node, pos, i, last)
    hsize[0] = last
    pos[u] = -1
    if i < last:
        _sift(k1, k2, node, pos, last, i)


@numba.njit(cache=True)
def _requeue(u, g, rhs, k1, k2, node, pos, hsize, nxp, start, km):
    """UpdateVertex of the optimised D* Lite (Koenig & Likhachev 2002, Fig. 4, lines 07'-09')."""
    if g[u] != rhs[u]:
        m = min(g[u], rhs[u])
        _heap_set(k1, k2, node, pos, hsize, u, m + _octile(start, u, nxp) + km, m)
    elif pos[u] >= 0:
        _heap_remove(k1, k2, node, pos, hsize, u)


@numba.njit(cache=True)
def _best_successor(u, g, blocked, nxp):
    """``min over s' of c(u, s') + g(s')`` [cells]."""
    best = np.inf
    for d in range(8):
        cost = _move_cost(blocked, u, d, nxp)
        if cost < np.inf:
            best = min(best, cost + g[u + _DR[d] * nxp + _DC[d]])
    return best


@numba.njit(cache=True)
def _cells_changed(cells, count, g, rhs, k1, k2, node, pos, hsize, blocked, goal, nxp, start, km):
    """Newly forbidden ``cells``: recompute ``rhs`` of every cell one of whose moves changed (the cell
    and its 8 neighbours, corner rule included) and requeue them (Fig. 4, lines 33'-38')."""
    for n in range(count):
        w = cells[n]
        for d in range(9):
            s = w if d == 8 else w + _DR[d] * nxp + _DC[d]
            if not goal[s] or blocked[s]:
                rhs[s] = _best_successor(s, g, blocked, nxp)
            _requeue(s, g, rhs, k1, k2, node, pos, hsize, nxp, start, km)


@numba.njit(cache=True)
def _compute_shortest_path(g, rhs, k1, k2, node, pos, hsize, blocked, goal, nxp, start, km):
    """ComputeShortestPath of the optimised D* Lite (Fig. 4, lines 10'-28'); moves are symmetric."""
    while hsize[0] > 0:
        top1, top2 = k1[0], k2[0]
        ms = min(g[start], rhs[start])
        if not (_less(top1, top2, ms + km, ms) or rhs[start] > g[start]):
            break
        u = node[0]
        m = min(g[u], rhs[u])
        new1 = m + _octile(start, u, nxp) + km
        if _less(top1, top2, new1, m):
            _heap_set(k1, k2, node, pos, hsize, u, new1, m)
        elif g[u] > rhs[u]:
            g[u] = rhs[u]
            _heap_remove(k1, k2, node, pos, hsize, u)
            for d in range(8):
                cost = _move_cost(blocked, u, d, nxp)
                if cost == np.inf:
                    continue
                s = u + _DR[d] * nxp + _DC[d]
                if cost + g[u] < rhs[s] and not goal[s]:
                    rhs[s] = cost + g[u]
                    _requeue(s, g, rhs, k1, k2, node, pos, hsize, nxp, start, km)
        else:
            g_old = g[u]
            g[u] = np.inf
            for d in range(8):
                cost = _move_cost(blocked, u, d, nxp)
                if cost == np.inf:
                    continue
                s = u + _DR[d] * nxp + _DC[d]
                if rhs[s] == cost + g_old and not goal[s]:
                    rhs[s] = _best_successor(s, g, blocked, nxp)
                    _requeue(s, g, rhs, k1, k2, node, pos, hsize, nxp, start, km)
            _requeue(u, g, rhs, k1, k2, node, pos, hsize, nxp, start, km)


@numba.njit(cache=True)
def _extract(start, g, blocked, goal, nxp, plan):
    """Follow ``argmin c(s, s') + g(s')`` from ``start`` to a free goal cell into ``plan``; its length, or -1."""
    u = start
    n = 0
    plan[0] = u
    while not goal[u] or blocked[u]:
        best = np.inf
        best_v = -1
        for d in range(8):
            cost = _move_cost(blocked, u, d, nxp)
            if cost < np.inf:
                v = u + _DR[d] * nxp + _DC[d]
                if cost + g[v] < best:
                    best = cost + g[v]
                    best_v = v
        n += 1
        if best_v < 0 or n >= plan.size:
            return -1
        u = best_v
        plan[n] = u
    return n + 1


@numba.njit(cache=True)
def _init_search(goal, start, nxp):
    """Fresh D* Lite state with every goal cell queued (Fig. 4, lines 02'-06')."""
    n = goal.size
    g = np.full(n, np.inf)
    rhs = np.full(n, np.inf)
    k1 = np.empty(n)
    k2 = np.empty(n)
    node = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    hsize = np.zeros(1, dtype=np.int64)
    for u in range(n):
        if goal[u]:
            rhs[u] = 0.0
            _heap_set(k1, k2, node, pos, hsize, u, _octile(start, u, nxp), 0.0)
    return g, rhs, k1, k2, node, pos, hsize


@numba.njit(cache=True)
def _sense(rover, forbidden, known, keep_free, nyp, nxp, sense_dr, sense_dc, changes):
    """Perceive the forbidden cells within range of ``rover``; the new ones go to ``changes``; their count."""
    count = 0
    r0 = rover // nxp
    c0 = rover % nxp
    for s in range(sense_dr.size):
        r = r0 + sense_dr[s]
        c = c0 + sense_dc[s]
        if r < 1 or r >= nyp - 1 or c < 1 or c >= nxp - 1:
            continue
        w = r * nxp + c
        if forbidden[w] and not known[w] and not keep_free[w]:
            known[w] = True
            changes[count] = w
            count += 1
    return count


@numba.njit(cache=True)
def _mark_plan(plan, length, nxp, stamp, mark_stamp, mark_index):
    """Stamp the plan's cells, and the corner cells of its diagonal moves, with their move index."""
    for i in range(length):
        u = plan[i]
        mark_stamp[u] = stamp
        mark_index[u] = i
        if i + 1 < length:
            v = plan[i + 1]
            if u // nxp != v // nxp and u % nxp != v % nxp:
                for w in (u // nxp * nxp + v % nxp, v // nxp * nxp + u % nxp):
                    mark_stamp[w] = stamp
                    mark_index[w] = i


@numba.njit(cache=True)
def _drive(forbidden, keep_free, goal, start, nxp, sense_dr, sense_dc, sense_every):
    """Drive from ``start`` to a goal cell over padded flat grids; returns (path, its length, replans, status).

    ``forbidden`` is the truth grown by the inflation, ``keep_free`` the cells never forbidden
    (the start's surroundings that hold no hazard themselves).
    """
    n = forbidden.size
    nyp = n // nxp
    known = np.zeros(n, dtype=np.bool_)
    for c in range(nxp):
        known[c] = True
        known[n - 1 - c] = True
    for r in range(nyp):
        known[r * nxp] = True
        known[r * nxp + nxp - 1] = True
    changes = np.empty(n, dtype=np.int64)
    plan = np.empty(n, dtype=np.int64)
    mark_stamp = np.zeros(n, dtype=np.int64)
    mark_index = np.zeros(n, dtype=np.int64)
    max_steps = 2 * n
    path = np.empty(max_steps + 1, dtype=np.int64)
    path[0] = start
    g, rhs, k1, k2, node, pos, hsize = _init_search(goal, start, nxp)
    km = 0.0
    count = _sense(start, forbidden, known, keep_free, nyp, nxp, sense_dr, sense_dc, changes)
    _cells_changed(changes, count, g, rhs, k1, k2, node, pos, hsize, known, goal, nxp, start, km)
    _compute_shortest_path(g, rhs, k1, k2, node, pos, hsize, known, goal, nxp, start, km)
    length = _extract(start, g, known, goal, nxp, plan) if rhs[start] < np.inf else -1
    if length < 0:
        return path, 1, 0, _ENCLOSED
    stamp = 1
    _mark_plan(plan, length, nxp, stamp, mark_stamp, mark_index)
    idx = 0
    steps = 0
    replans = 0
    rover = start
    last = start
    since = 0.0
    while not goal[rover] or known[rover]:
        if steps >= max_steps or idx + 1 >= length:
            return path, steps + 1, replans, _STEP_LIMIT
        nxt = plan[idx + 1]
        since += 1.0 if (nxt // nxp == rover // nxp or nxt % nxp == rover % nxp) else math.sqrt(2.0)
        rover = nxt
        idx += 1
        steps += 1
        path[steps] = rover
        if since + 1e-9 < sense_every:
            continue
        since = 0.0
        count = _sense(rover, forbidden, known, keep_free, nyp, nxp, sense_dr, sense_dc, changes)
        if count == 0:
            continue
        km += _octile(last, rover, nxp)
        last = rover
        crossed = False
        for i in range(count):
            w = changes[i]
            if mark_stamp[w] == stamp and mark_index[w] >= idx:
                crossed = True
        _cells_changed(changes, count, g, rhs, k1, k2, node, pos, hsize, known, goal, nxp, rover, km)
        if not crossed:
            continue
        replans += 1
        _compute_shortest_path(g, rhs, k1, k2, node, pos, hsize, known, goal, nxp, rover, km)
        length = _extract(rover, g, known, goal, nxp, plan) if rhs[rover] < np.inf else -1
        if length < 0:
            return path, steps + 1, replans, _ENCLOSED
        stamp += 1
        _mark_plan(plan, length, nxp, stamp, mark_stamp, mark_index)
        idx = 0
    return path, steps + 1, replans, _REACHED


def _pad(grid: NDArray, value: bool) -> NDArray:
    """A grid with a one-cell border of ``value``, flattened."""
    return np.pad(np.asarray(grid, dtype=bool), 1, constant_values=value).ravel()


# --- the public interface ---------------------------------------------------------------


class DStarLite:
    """Incremental shortest paths to a set of goal cells on an 8-connected grid (D* Lite).

    The same compiled kernels as :func:`drive_leg`, driven step by step: forbid cells as they
    become known, move the start, ask for the current shortest plan.

    Parameters
    ----------
    blocked : ndarray of bool
        Cells forbidden from the outset, shape ``(rows, cols)``.
    goal : ndarray of bool
        Goal cells, same shape.
    start : tuple of int
        Row and column of the start cell.
    """

    def __init__(self, blocked: NDArray, goal: NDArray, start: tuple[int, int]):
        blocked = np.asarray(blocked, dtype=bool)
        goal = np.asarray(goal, dtype=bool)
        if blocked.ndim != 2 or goal.shape != blocked.shape:
            raise LupexError("blocked and goal must be 2-D arrays of one shape")
        if not goal.any():
            raise LupexError("the goal mask holds no cell; mark at least one goal cell")
        self.shape = blocked.shape
        self._nxp = self.shape[1] + 2
        self._blocked = _pad(np.zeros(self.shape, dtype=bool), True)
        self._goal = _pad(goal, False)
        self._start = self._flat(start)
        self._last = self._start
        self._km = 0.0
        self._state = _init_search(self._goal, self._start, self._nxp)
        self.block(*np.nonzero(blocked))

    def _flat(self, cell: tuple[int, int]) -> int:
        r, c = int(cell[0]), int(cell[1])
        if not (0 <= r < self.shape[0] and 0 <= c < self.shape[1]):
            raise LupexError(f"cell ({r}, {c}) lies off the {self.shape[0]} x {self.shape[1]} grid")
        return (r + 1) * self._nxp + c + 1

    def move_to(self, cell: tuple[int, int]) -> None:
        """Move the start (the rover) to another cell (row, column)."""
        self._start = self._flat(cell)

    def _catch_up(self) -> None:
        """Raise ``k_m`` by the heuristic distance the start moved, keeping queued keys lower bounds."""
        self._km += float(_octile(self._last, self._start, self._nxp))
        self._last = self._start

    def block(self, rows: NDArray, cols: NDArray) -> None:
        """Forbid cells (rows, columns) and update the search (D* Lite, Fig. 4, lines 29'-38')."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if ((rows < 0) | (rows >= self.shape[0]) | (cols < 0) | (cols >= self.shape[1])).any():
            raise LupexError("cells to block lie off the grid")
        flat = (rows + 1) * self._nxp + cols + 1
        new = np.unique(flat[~self._blocked[flat]])
        if new.size == 0:
            return
        self._catch_up()
        self._blocked[new] = True
        _cells_changed(new, new.size, *self._state, self._blocked, self._goal, self._nxp, self._start, self._km)

    def plan(self) -> tuple[NDArray, NDArray, float]:
        """The shortest plan from the start to a goal cell in the known grid.

        Returns
        -------
        rows, cols : ndarray
            Cells of the plan, start to goal; empty when no path exists.
        cost : float
            Its length [cells] (moves of 1 and 1.414214); inf when no path exists.
        """
        self._catch_up()
        _compute_shortest_path(*self._state, self._blocked, self._goal, self._nxp, self._start, self._km)
        g, rhs = self._state[0], self._state[1]
        plan = np.empty(self._blocked.size, dtype=np.int64)
        length = _extract(self._start, g, self._blocked, self._goal, self._nxp, plan) if rhs[self._start] < np.inf \
            else -1
        if length < 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), math.inf
        rows, cols = np.divmod(plan[:length], self._nxp)
        return rows - 1, cols - 1, float(rhs[self._start]) / _UNIT


def _disc_offsets(radius_cells: float) -> tuple[NDArray, NDArray]:
    """Row and column offsets of the cells whose centre lies within ``radius_cells`` of a cell's centre."""
    reach = int(math.floor(radius_cells))
    dr, dc = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    inside = dr**2 + dc**2 <= radius_cells**2 + 1e-9
    return dr[inside].astype(np.int64), dc[inside].astype(np.int64)


def _cell_of(point: NDArray, transform: Affine, cell: float) -> tuple[int, int]:
    """Row and column of the window cell holding a point, on the truth's global lattice (``floor(x / cell)``)."""
    row = round(transform.f / cell) - 1 - math.floor(point[1] / cell)
    return row, math.floor(point[0] / cell) - round(transform.c / cell)


def _hazards_on_line(truth: TruthTerrain, window: tuple[float, float, float, float], a: NDArray, b: NDArray,
                     margin: float) -> int:
    """Distinct hazards whose footprint grown by ``margin`` crosses the segment a-b [m]."""
    found = truth.hazards(*window)
    if len(found) == 0:
        return 0
    ab = b - a
    span = float(ab @ ab)
    centres = np.stack([found.x, found.y], axis=1)
    t = np.clip((centres - a) @ ab / span, 0.0, 1.0) if span > 0 else np.zeros(len(found))
    gap = np.hypot(*(centres - (a + t[:, None] * ab)).T)
    return int((gap < found.outer_m + margin).sum())


def drive_leg(start_xy: tuple[float, float], goal_xy: tuple[float, float], truth: TruthTerrain,
              config: AutonomyConfig | None = None) -> LegDrive:
    """Drive one straight leg of a strategic plan through the truth world, replanning locally.

    Parameters
    ----------
    start_xy, goal_xy : tuple of float
        Map coordinates of the leg's start and end [m].
    truth : TruthTerrain
        The world the rover drives in (its cells are the planning grid).
    config : AutonomyConfig, optional
        Perception and planning settings; defaults when absent.

    Returns
    -------
    LegDrive
        The cells driven, length, hazards avoided, replans, and whether (or why not) the goal was reached.
    """
    config = config or AutonomyConfig()
    start = np.asarray(start_xy, dtype=float)
    goal = np.asarray(goal_xy, dtype=float)
    if start.shape != (2,) or goal.shape != (2,) or not (np.isfinite(start).all() and np.isfinite(goal).all()):
        raise LupexError("start_xy and goal_xy must be finite (x, y) pairs in metres")
    margin = config.corridor_margin_m
    window = (min(start[0], goal[0]) - margin, min(start[1], goal[1]) - margin,
              max(start[0], goal[0]) + margin, max(start[1], goal[1]) + margin)
    forbidden, transform = truth.blocked(*window, clearance_m=config.inflation_m)
    hazard_cells, _ = truth.blocked(*window)
    cell = truth.cell_m
    ny, nx = forbidden.shape
    x = transform.c + cell * (np.arange(nx) + 0.5)
    y = transform.f - cell * (np.arange(ny) + 0.5)
    near_goal = (x[None, :] - goal[0]) ** 2 + (y[:, None] - goal[1]) ** 2 <= config.goal_tolerance_m**2
    gr, gc = _cell_of(goal, transform, cell)
    near_goal[gr, gc] = True
    sr, sc = _cell_of(start, transform, cell)
    escape = (x[None, :] - x[sc]) ** 2 + (y[:, None] - y[sr]) ** 2 <= (config.inflation_m + cell) ** 2
    keep_free = escape & ~hazard_cells
    keep_free[sr, sc] = True
    sense_dr, sense_dc = _disc_offsets(config.sensor_range_m / cell)
    nxp = nx + 2
    path, steps, replans, status = _drive(_pad(forbidden, True), _pad(keep_free, False), _pad(near_goal, False),
                                          (sr + 1) * nxp + sc + 1, nxp, sense_dr, sense_dc,
                                          config.sensing_interval_m / cell)
    rows, cols = np.divmod(path[:steps], nxp)
    rows, cols = rows - 1, cols - 1
    moves = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    length = cell * float((moves == 1).sum() + math.sqrt(2.0) * (moves == 2).sum())
    end = np.array([x[cols[-1]], y[rows[-1]]])
    if status == _REACHED:
        reach_end = goal
    else:
        ab = goal - start
        span = float(ab @ ab)
        reach_end = start + (np.clip((end - start) @ ab / span, 0.0, 1.0) if span > 0 else 0.0) * ab
    avoided = _hazards_on_line(truth, window, start, reach_end, config.inflation_m)
    return LegDrive(x=x[cols], y=y[rows], length_m=length, hazards_avoided=avoided, replans=int(replans),
                    reached=status == _REACHED, reason=_REASONS[int(status)])
