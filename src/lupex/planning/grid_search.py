"""Least-cost routes on a raster costmap: a 16-connected grid searched with Dijkstra / A*.

The costmap holds a cost per metre of travel for every cell (for instance energy [J/m] or
time [s/m]); ``inf`` or ``NaN`` marks a forbidden cell. A route is a chain of cell centres
joined by *moves* to one of 16 neighbours: the 8 adjacent cells (length 1 or sqrt(2)
pixels) and the 8 knight moves (length sqrt(5) pixels). Knight moves bring the largest
excess of the shortest grid path over the straight line, ``1 / cos(a / 2) - 1`` for moves
``a`` apart in direction, from 8.2 % (8 neighbours, 45 deg apart) down to 2.8 % (26.6 deg
between an axial and the nearest knight move).

Edge rule (the same as scikit-image's ``MCP_Geometric``): a move of length ``L`` [m] from
cell ``u`` to cell ``v`` costs ``L (c_u + c_v) / 2``, half of it charged at each end cell's
cost per metre. The cells a knight move crosses in between add nothing to its cost.

Corner rule (lupex's, stricter than ``MCP_Geometric``, which only refuses to enter a
forbidden cell): a move is allowed only when the straight segment between the two cell
centres touches no forbidden cell, taking cells as closed squares. So

* an axial move needs its two end cells free;
* a diagonal move from ``(r, c)`` to ``(r + dr, c + dc)`` also needs the two cells it
  passes at the shared corner, ``(r + dr, c)`` and ``(r, c + dc)``: a rover never squeezes
  between two forbidden cells that touch at a corner, nor grazes a forbidden corner;
* a knight move also needs the two cells it crosses: for ``(dr, dc) = (+-1, +-2)`` the cells
  ``(r, c + dc/2)`` and ``(r + dr, c + dc/2)``, for ``(+-2, +-1)`` the cells
  ``(r + dr/2, c)`` and ``(r + dr/2, c + dc)``. (The segment runs through the middle of
  the edge those two share, through no corner, so no other cell is touched.)

``cut_corners=True`` drops the corner rule and keeps only the end cells, which is exactly
the graph of ``MCP_Geometric`` given the same 16 offsets; it exists to compare with
scikit-image, not to plan drives.

The search is Dijkstra's algorithm on a binary heap with decrease-key (Dijkstra 1959),
compiled with numba. Point-to-point searches use A* (Hart, Nilsson & Raphael 1968) with the
heuristic ``c_min * d``, ``c_min`` the cheapest cost per metre on the map and ``d`` the
straight-line distance to the goal [m]. Every move costs at least ``c_min`` times its
length, so the heuristic is consistent and the route stays optimal; a node whose cost
improves after it was expanded (only possible through rounding) is expanded again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupex.errors import LupexError

__all__ = ["CROSSED", "MOVES", "Route", "cost_to_go", "least_cost_path", "path_cost"]

MOVES = np.array(
    [(-1, 0), (1, 0), (0, -1), (0, 1),
     (-1, -1), (-1, 1), (1, -1), (1, 1),
     (-1, -2), (-1, 2), (1, -2), (1, 2), (-2, -1), (-2, 1), (2, -1), (2, 1)],
    dtype=np.int64,
)
"""The 16 moves (row step, column step) [cells]: 4 axial, 4 diagonal, 8 knight moves."""


def _crossed_cells(moves: NDArray) -> NDArray:
    """For each move, the two cells besides its ends that its segment touches, as offsets
    from the start cell (an axial move repeats its end cell), shape ``(16, 2, 2)``."""
    crossed = np.empty((len(moves), 2, 2), dtype=np.int64)
    for k, (dr, dc) in enumerate(moves):
        if abs(dr) + abs(dc) == 1:
            crossed[k] = ((dr, dc), (dr, dc))
        elif abs(dr) == abs(dc):
            crossed[k] = ((dr, 0), (0, dc))
        elif abs(dc) == 2:
            crossed[k] = ((0, dc // 2), (dr, dc // 2))
        else:
            crossed[k] = ((dr // 2, 0), (dr // 2, dc))
    return crossed


CROSSED = _crossed_cells(MOVES)
"""For each of :data:`MOVES`, the two cells besides its ends that its segment touches (the corner
rule), as offsets from the start cell, shape (16, 2, 2)."""
_MOVE_LENGTH_PX = np.hypot(MOVES[:, 0], MOVES[:, 1])

_MAX_CELLS = 2**31 - 1
"""Largest costmap the int32 heap indices can hold [cells]."""


@dataclass(frozen=True)
class Route:
    """A least-cost route over a costmap.

    Attributes
    ----------
    cost : float
        Accumulated cost [costmap unit x m], e.g. [J] for a map in [J/m].
    length_m : float
        Length of the chain of moves between cell centres [m].
    cells : numpy.ndarray
        Rows and columns of the cells visited, start to goal, shape ``(k, 2)``, int64.
    """

    cost: float
    length_m: float
    cells: NDArray


# --- the compiled search ---------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _sift_up(keys, nodes, where, i):
    """Move heap entry ``i`` towards the root until its parent's key is not larger."""
    key = keys[i]
    node = nodes[i]
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        where[nodes[i]] = i
        i = parent
    keys[i] = key
    nodes[i] = node
    where[node] = i


@numba.njit(cache=True, inline="always")
def _sift_down(keys, nodes, where, i, size):
    """Move heap entry ``i`` towards the leaves until no child's key is smaller."""
    key = keys[i]
    node = nodes[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        nodes[i] = nodes[child]
        where[nodes[i]] = i
        i = child
    keys[i] = key
    nodes[i] = node
    where[node] = i


@numba.njit(cache=True)
def _search(cost, source, target, half_length, moves, crossed, cut_corners, weight):
    """Dijkstra / A* from ``source`` over the 16-connected grid of ``cost``.

    Parameters
    ----------
    cost : numpy.ndarray
        Cost per metre, 2-D float64, ``inf`` where forbidden [unit/m].
    source, target : int
        Flat (row-major) indices of the start cell and of the goal cell; ``target < 0``
        searches the whole map.
    half_length : numpy.ndarray
        Half the length of each move [m].
    moves, crossed : numpy.ndarray
        The moves ``(16, 2)`` and the cells each one touches ``(16, 2, 2)`` [cells].
    cut_corners : bool
        Whether to check only the end cells of a move.
    weight : float
        A* heuristic per pixel of straight-line distance to ``target`` [unit]; 0 for Dijkstra.

    Returns
    -------
    dist : numpy.ndarray
        Accumulated cost from ``source``, flat [unit]: final on every cell when ``target < 0``,
        else final on the cells expanded before ``target`` (an upper bound on the other
        reached cells); ``inf`` on cells never reached.
    came_by : numpy.ndarray
        Index of the move that reached each cell, -1 for the source and unreached cells, flat.
    """
    rows, cols = cost.shape
    n = rows * cols
    flat = cost.ravel()
    dist = np.full(n, np.inf)
    came_by = np.full(n, -1, dtype=np.int8)
    keys = np.empty(n, dtype=np.float64)
    nodes = np.empty(n, dtype=np.int32)
    where = np.full(n, -1, dtype=np.int32)
    step = np.empty(16, dtype=np.int64)
    cross_a = np.empty(16, dtype=np.int64)
    cross_b = np.empty(16, dtype=np.int64)
    for k in range(16):
        step[k] = moves[k, 0] * cols + moves[k, 1]
        cross_a[k] = crossed[k, 0, 0] * cols + crossed[k, 0, 1]
        cross_b[k] = crossed[k, 1, 0] * cols + crossed[k, 1, 1]
    goal_r = target // cols if target >= 0 else 0
    goal_c = target % cols if target >= 0 else 0

    dist[source] = 0.0
    keys[0] = 0.0
    nodes[0] = source
    where[source] = 0
    size = 1
    while size > 0:
        u = nodes[0]
        where[u] = -1
        size -= 1
        if size > 0:
            keys[0] = keys[size]
            nodes[0] = nodes[size]
            _sift_down(keys, nodes, where, 0, size)
        if u == target:
            break
        r = u // cols
        c = u - r * cols
        inner = r >= 2 and r < rows - 2 and c >= 2 and c < cols - 2
        g = dist[u]
        cu = flat[u]
        for k in range(16):
            if not inner:
                rr = r + moves[k, 0]
                cc = c + moves[k, 1]
                if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                    continue
            v = u + step[k]
            cv = flat[v]
            if cv == np.inf:
                continue
            new = g + half_length[k] * (cu + cv)
            if new >= dist[v]:
                continue
            if not cut_corners and (flat[u + cross_a[k]] == np.inf or flat[u + cross_b[k]] == np.inf):
                continue
            dist[v] = new
            came_by[v] = k
            key = new
            if weight > 0.0:
                dr = v // cols - goal_r
                dc = v % cols - goal_c
                key += weight * np.sqrt(dr * dr + dc * dc)
            i = where[v]
            if i < 0:
                i = size
                size += 1
            keys[i] = key
            nodes[i] = v
            _sift_up(keys, nodes, where, i)
    return dist, came_by


@numba.njit(cache=True)
def _trace(came_by, moves, cols, source, target):
    """Indices of the moves from ``source`` to ``target`` (flat cells), start first, following
    ``came_by`` backwards."""
    count = 0
    node = target
    while node != source:
        k = came_by[node]
        node -= moves[k, 0] * cols + moves[k, 1]
        count += 1
    out = np.empty(count, dtype=np.int64)
    node = target
    for i in range(count - 1, -1, -1):
        k = came_by[node]
        out[i] = k
        node -= moves[k, 0] * cols + moves[k, 1]
    return out


# --- the Python interface --------------------------------------------------------------


def _prepare(cost_per_m: ArrayLike, pixel_m: float) -> NDArray:
    """The costmap as C-ordered float64 with ``inf`` for forbidden cells, after checks."""
    cost = np.array(cost_per_m, dtype=np.float64, order="C")
    if cost.ndim != 2 or min(cost.shape) < 1:
        raise LupexError(f"a costmap must be a 2-D grid, got shape {cost.shape}")
    if cost.size > _MAX_CELLS:
        raise LupexError(f"the costmap has {cost.size} cells, more than the {_MAX_CELLS} the planner handles; "
                         "crop it or coarsen it first")
    if not (np.isfinite(pixel_m) and pixel_m > 0.0):
        raise LupexError(f"the pixel size must be a positive number of metres, got {pixel_m}")
    cost[np.isnan(cost)] = np.inf
    if (cost < 0.0).any():
        raise LupexError(f"the costmap holds negative costs (lowest {cost.min():g} per m); costs per metre "
                         "must be >= 0, with inf or nodata for forbidden cells")
    return cost


def _check_cell(cost: NDArray, rc: ArrayLike, what: str) -> tuple[int, int]:
    """``rc`` as a (row, column) pair inside ``cost`` on an allowed cell, or LupexError naming ``what``."""
    r, c = (int(v) for v in rc)
    rows, cols = cost.shape
    if not (0 <= r < rows and 0 <= c < cols):
        raise LupexError(f"the {what} (row {r}, column {c}) is outside the {rows} x {cols} costmap")
    if not np.isfinite(cost[r, c]):
        raise LupexError(f"the {what} (row {r}, column {c}) is on a forbidden cell (cost inf or nodata); "
                         "choose a cell the rover may drive on")
    return r, c


def _half_lengths(pixel_m: float) -> NDArray:
    """Half the length of each of the 16 moves [m]."""
    return 0.5 * pixel_m * _MOVE_LENGTH_PX


def least_cost_path(cost_per_m: ArrayLike, pixel_m: float, start_rc: ArrayLike, goal_rc: ArrayLike, *,
                    cut_corners: bool = False) -> Route:
    """The cheapest route between two cells on the 16-connected grid.

    Parameters
    ----------
    cost_per_m : array_like
        Cost of travel per metre in each cell, 2-D, ``>= 0``; ``inf`` or ``NaN`` where the
        rover may not go [unit/m].
    pixel_m : float
        Side of a square cell [m].
    start_rc, goal_rc : tuple of int
        Row and column of the start and of the goal cell.
    cut_corners : bool
        Drop the corner rule (see the module's notes) and only refuse forbidden end cells,
        as scikit-image's ``MCP_Geometric`` does; for comparisons only.

    Returns
    -------
    Route
        The optimal route (one of them when there are ties) with its cost [unit] and length [m].

    Raises
    ------
    LupexError
        For a costmap that is not 2-D or holds negative costs, a start or goal outside the
        map or on a forbidden cell, and a goal no allowed chain of moves reaches.
    """
    cost = _prepare(cost_per_m, pixel_m)
    start = _check_cell(cost, start_rc, "start")
    goal = _check_cell(cost, goal_rc, "goal")
    cols = cost.shape[1]
    source, target = start[0] * cols + start[1], goal[0] * cols + goal[1]
    weight = float(cost[np.isfinite(cost)].min()) * pixel_m
    dist, came_by = _search(cost, source, target, _half_lengths(pixel_m), MOVES, CROSSED, cut_corners, weight)
    if not np.isfinite(dist[target]):
        raise LupexError(f"no route from the start (row {start[0]}, column {start[1]}) to the goal (row {goal[0]}, "
                         f"column {goal[1]}): the goal is cut off by forbidden cells")
    moves = _trace(came_by, MOVES, cols, source, target)
    cells = np.empty((len(moves) + 1, 2), dtype=np.int64)
    cells[0] = start
    cells[1:] = start + np.cumsum(MOVES[moves], axis=0)
    return Route(cost=float(dist[target]), length_m=float(pixel_m * _MOVE_LENGTH_PX[moves].sum()), cells=cells)


def cost_to_go(cost_per_m: ArrayLike, pixel_m: float, goal_rc: ArrayLike, *, cut_corners: bool = False) -> NDArray:
    """Accumulated cost of the cheapest route from every cell to the goal.

    Moves cost the same both ways, so this is also the cost from the goal to every cell.
    From any reachable cell, repeatedly taking the allowed move that minimises the move's
    cost plus the value at its end retraces an optimal route to the goal.

    Parameters
    ----------
    cost_per_m : array_like
        Cost of travel per metre in each cell, 2-D, ``>= 0``; ``inf`` or ``NaN`` where the
        rover may not go [unit/m].
    pixel_m : float
        Side of a square cell [m].
    goal_rc : tuple of int
        Row and column of the goal cell.
    cut_corners : bool
        As in :func:`least_cost_path`.

    Returns
    -------
    numpy.ndarray
        Cost to go [unit], float64, the costmap's shape; 0 at the goal, ``inf`` on forbidden
        cells and on cells cut off from the goal.
    """
    cost = _prepare(cost_per_m, pixel_m)
    goal = _check_cell(cost, goal_rc, "goal")
    source = goal[0] * cost.shape[1] + goal[1]
    dist, _ = _search(cost, source, -1, _half_lengths(pixel_m), MOVES, CROSSED, cut_corners, 0.0)
    return dist.reshape(cost.shape)


def path_cost(cost_per_m: ArrayLike, pixel_m: float, cells: ArrayLike, *, cut_corners: bool = False) -> float:
    """Cost of a given chain of cells under the planner's edge and corner rules.

    Parameters
    ----------
    cost_per_m : array_like
        Cost of travel per metre in each cell, 2-D [unit/m]; ``inf`` or ``NaN`` forbidden.
    pixel_m : float
        Side of a square cell [m].
    cells : array_like
        Rows and columns of the cells in order, shape ``(k, 2)``; each step must be one of
        the 16 moves.
    cut_corners : bool
        As in :func:`least_cost_path`.

    Returns
    -------
    float
        Sum over the moves of ``L (c_from + c_to) / 2``, added start to goal [unit].

    Raises
    ------
    LupexError
        When a cell is outside the map or forbidden, a step is not one of the 16 moves, or a
        move touches a forbidden cell.
    """
    cost = _prepare(cost_per_m, pixel_m)
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    half = _half_lengths(pixel_m)
    for r, c in cells:
        _check_cell(cost, (r, c), "route cell")
    total = 0.0
    for i in range(len(cells) - 1):
        (r, c), step = cells[i], cells[i + 1] - cells[i]
        shown = f"step {i} of the route, from (row {r}, column {c}) by ({step[0]}, {step[1]}),"
        match = np.flatnonzero((MOVES == step).all(axis=1))
        if match.size == 0:
            raise LupexError(f"{shown} is not one of the 16 moves")
        k = int(match[0])
        if not cut_corners and not all(np.isfinite(cost[r + dr, c + dc]) for dr, dc in CROSSED[k]):
            raise LupexError(f"{shown} touches a forbidden cell")
        total += half[k] * (cost[r, c] + cost[r + step[0], c + step[1]])
    return float(total)
