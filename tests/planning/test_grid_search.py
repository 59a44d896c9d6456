"""The 16-connected least-cost planner against scikit-image's MCP_Geometric, a brute-force
graph built here with scipy's Dijkstra, and routes whose cost is known in closed form."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from skimage.graph import MCP, MCP_Geometric

from lupex.errors import LupexError
from lupex.planning.grid_search import MOVES, cost_to_go, least_cost_path, path_cost


def mcp_geometric_16(cost: np.ndarray, pixel_m: float, start, goal) -> float:
    """Cost of MCP_Geometric's route over the same 16 moves [unit].

    MCP_Geometric's constructor refuses offsets longer than one cell, but its travel cost
    (``L (c_from + c_to) / 2``) does not depend on that: the object is built through the
    base class's constructor, which accepts any offsets. The base constructor charges the
    start cell's own cost at the start, which is taken off again.
    """
    mcp = MCP_Geometric.__new__(MCP_Geometric)
    MCP.__init__(mcp, cost, offsets=MOVES.tolist(), sampling=(pixel_m, pixel_m))
    field, _ = mcp.find_costs([start], [goal])
    return float(field[goal] - cost[start])


def mcp_geometric_8(cost: np.ndarray, pixel_m: float, start, goal) -> float:
    """Cost of MCP_Geometric's route with its default 8 neighbours [unit]."""
    field, _ = MCP_Geometric(cost, sampling=(pixel_m, pixel_m)).find_costs([start], [goal])
    return float(field[goal])


def random_costs(seed: int, shape=(40, 50), forbidden: float = 0.0) -> np.ndarray:
    """Costs per metre from 0.5 to 3, a fraction ``forbidden`` of them inf."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.5, 3.0, shape)
    cost[rng.random(shape) < forbidden] = np.inf
    return cost


def touched_offsets(dr: int, dc: int) -> set[tuple[int, int]]:
    """Cells (as offsets from the start) whose closed square the segment between the cell
    centres meets, in exact arithmetic: the parameter intervals of the row and column
    slabs ``|r0 + t dr - i| <= 1/2`` must overlap inside [0, 1]."""

    def interval(d: int, i: int) -> tuple[Fraction, Fraction]:
        if d == 0:
            return (Fraction(0), Fraction(1)) if abs(i) * 2 <= 1 else (Fraction(1), Fraction(0))
        a, b = Fraction(2 * i - 1, 2 * d), Fraction(2 * i + 1, 2 * d)
        return min(a, b), max(a, b)

    touched = set()
    for i in range(-2, 3):
        for j in range(-2, 3):
            (a0, a1), (b0, b1) = interval(dr, i), interval(dc, j)
            if max(a0, b0, Fraction(0)) <= min(a1, b1, Fraction(1)):
                touched.add((i, j))
    return touched


def brute_force_field(cost: np.ndarray, pixel_m: float, goal, cut_corners: bool) -> np.ndarray:
    """Cost to go to ``goal`` from every cell, by scipy's Dijkstra on an explicit graph of
    the 16 moves (the corner rule from exact segment/square intersections)."""
    rows, cols = cost.shape
    free = np.isfinite(cost)
    heads, tails, weights = [], [], []
    for dr, dc in MOVES:
        touched = {(dr, dc), (0, 0)} if cut_corners else touched_offsets(dr, dc)
        length = pixel_m * np.hypot(dr, dc)
        for r in range(rows):
            for c in range(cols):
                cells = [(r + i, c + j) for i, j in touched]
                if all(0 <= a < rows and 0 <= b < cols and free[a, b] for a, b in cells):
                    heads.append(r * cols + c)
                    tails.append((r + dr) * cols + c + dc)
                    weights.append(length * (cost[r, c] + cost[r + dr, c + dc]) / 2)
    graph = csr_matrix((weights, (heads, tails)), shape=(rows * cols, rows * cols))
    return dijkstra(graph, indices=goal[0] * cols + goal[1]).reshape(rows, cols)


def test_sixteen_moves_and_their_touched_cells():
    assert len({tuple(m) for m in MOVES}) == 16
    lengths = sorted(np.hypot(MOVES[:, 0], MOVES[:, 1]))
    assert lengths == pytest.approx([1] * 4 + [np.sqrt(2)] * 4 + [np.sqrt(5)] * 8)
    assert touched_offsets(1, 1) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert touched_offsets(1, 2) == {(0, 0), (0, 1), (1, 1), (1, 2)}
    assert touched_offsets(-2, 1) == {(0, 0), (-1, 0), (-1, 1), (-2, 1)}


@pytest.mark.parametrize("seed", range(6))
def test_equals_mcp_geometric_with_the_16_moves_without_forbidden_cells(seed):
    cost = random_costs(seed)
    start, goal = (seed, 3), (39 - seed, 47)
    route = least_cost_path(cost, 5.0, start, goal)
    assert route.cost == pytest.approx(mcp_geometric_16(cost, 5.0, start, goal), rel=1e-9)
    assert route.cost <= mcp_geometric_8(cost, 5.0, start, goal)
    assert route.cost == pytest.approx(cost_to_go(cost, 5.0, goal)[start], rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_cutting_corners_gives_mcp_geometrics_graph_with_forbidden_cells(seed):
    cost = random_costs(100 + seed, forbidden=0.15)
    start, goal = (0, 0), (39, 49)
    cost[start] = cost[goal] = 1.0
    route = least_cost_path(cost, 2.0, start, goal, cut_corners=True)
    assert route.cost == pytest.approx(mcp_geometric_16(cost, 2.0, start, goal), rel=1e-9)
    assert route.cost <= mcp_geometric_8(cost, 2.0, start, goal)
    assert cost_to_go(cost, 2.0, goal)[start] >= route.cost  # the corner rule only removes moves


@pytest.mark.parametrize("cut_corners", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_reported_cost_is_the_cost_of_the_returned_cells(seed, cut_corners):
    cost = random_costs(200 + seed, forbidden=0.1)
    cost[2, 2] = cost[37, 46] = 1.5
    route = least_cost_path(cost, 3.0, (2, 2), (37, 46), cut_corners=cut_corners)
    assert tuple(route.cells[0]) == (2, 2) and tuple(route.cells[-1]) == (37, 46)
    assert route.cells.dtype == np.int64 and route.cells.shape[1] == 2
    assert path_cost(cost, 3.0, route.cells, cut_corners=cut_corners) == pytest.approx(route.cost, rel=1e-12)
    steps = np.diff(route.cells, axis=0)
    assert route.length_m == pytest.approx(3.0 * np.hypot(steps[:, 0], steps[:, 1]).sum(), rel=1e-12)


@pytest.mark.parametrize("cut_corners", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_optimal_against_a_brute_force_graph(seed, cut_corners):
    cost = random_costs(300 + seed, shape=(11, 13), forbidden=0.25)
    goal = (5, 6)
    cost[goal] = 1.0
    expected = brute_force_field(cost, 4.0, goal, cut_corners)
    field = cost_to_go(cost, 4.0, goal, cut_corners=cut_corners)
    np.testing.assert_array_equal(np.isinf(field), np.isinf(expected))
    np.testing.assert_allclose(field[np.isfinite(field)], expected[np.isfinite(expected)], rtol=1e-12)
    reachable = np.argwhere(np.isfinite(expected) & (expected > 0))
    for start in reachable[:: max(1, len(reachable) // 8)]:
        route = least_cost_path(cost, 4.0, start, goal, cut_corners=cut_corners)
        assert route.cost == pytest.approx(expected[tuple(start)], rel=1e-12)


def test_a_star_and_dijkstra_agree_on_a_map_with_a_wide_cost_range():
    rng = np.random.default_rng(7)
    cost = np.exp(rng.normal(0.0, 1.5, (80, 90)))
    cost[rng.random(cost.shape) < 0.2] = np.nan
    cost[0, 0] = cost[79, 89] = 1.0
    field = cost_to_go(cost, 1.0, (79, 89))
    assert least_cost_path(cost, 1.0, (0, 0), (79, 89)).cost == pytest.approx(field[0, 0], rel=1e-12)
    assert least_cost_path(cost, 1.0, (79, 89), (0, 0)).cost == pytest.approx(field[0, 0], rel=1e-12)


@pytest.mark.parametrize(("goal", "distance_px"), [
    ((5, 45), 40.0),                  # axial
    ((35, 35), 30 * np.sqrt(2)),      # diagonal
    ((20, 35), 15 * np.sqrt(5)),      # a knight move's direction
])
def test_a_representable_straight_line_on_a_uniform_map_costs_c_times_distance(goal, distance_px):
    cost = np.full((40, 50), 2.5)
    route = least_cost_path(cost, 10.0, (5, 5), goal)
    assert route.length_m == pytest.approx(10.0 * distance_px, rel=1e-12)
    assert route.cost == pytest.approx(2.5 * 10.0 * distance_px, rel=1e-12)


def test_diagonals_do_not_squeeze_between_forbidden_corners():
    cost = np.ones((3, 3))
    cost[0, 1] = cost[1, 0] = np.inf
    with pytest.raises(LupexError, match="cut off by forbidden cells"):
        least_cost_path(cost, 1.0, (0, 0), (2, 2))
    assert least_cost_path(cost, 1.0, (0, 0), (1, 1), cut_corners=True).cost == pytest.approx(np.sqrt(2))


def test_diagonal_and_knight_moves_do_not_graze_a_forbidden_cell():
    cost = np.ones((2, 3))
    cost[0, 1] = np.inf
    # (0,0) -> (1,1) would touch (0,1) at a corner; (0,0) -> (1,2) would cross it.
    assert least_cost_path(cost, 1.0, (0, 0), (1, 1)).cost == pytest.approx(2.0)
    assert least_cost_path(cost, 1.0, (0, 0), (1, 2)).cost == pytest.approx(3.0)
    assert least_cost_path(cost, 1.0, (0, 0), (1, 2), cut_corners=True).cost == pytest.approx(np.sqrt(5))
    with pytest.raises(LupexError, match="touches a forbidden cell"):
        path_cost(cost, 1.0, [(0, 0), (1, 2)])


def test_nan_is_forbidden_like_inf():
    cost = random_costs(9, forbidden=0.2)
    cost[0, 0] = cost[39, 49] = 1.0
    with_nan = np.where(np.isinf(cost), np.nan, cost)
    a = least_cost_path(cost, 1.0, (0, 0), (39, 49))
    b = least_cost_path(with_nan, 1.0, (0, 0), (39, 49))
    assert a.cost == b.cost
    np.testing.assert_array_equal(a.cells, b.cells)


def test_zero_cost_and_start_equal_to_goal():
    assert least_cost_path(np.zeros((5, 5)), 1.0, (0, 0), (4, 4)).cost == 0.0
    same = least_cost_path(np.ones((5, 5)), 1.0, (2, 3), (2, 3))
    assert same.cost == same.length_m == 0.0
    np.testing.assert_array_equal(same.cells, [[2, 3]])


@pytest.mark.parametrize(("start", "goal", "fragment"), [
    ((-1, 0), (3, 3), "start (row -1, column 0) is outside the 5 x 6 costmap"),
    ((0, 0), (5, 0), "goal (row 5, column 0) is outside"),
    ((1, 1), (3, 3), "start (row 1, column 1) is on a forbidden cell"),
    ((0, 0), (2, 2), "goal (row 2, column 2) is on a forbidden cell"),
    ((0, 0), (4, 5), "no route from the start (row 0, column 0) to the goal (row 4, column 5): the goal is cut off"),
])
def test_bad_start_goal_and_unreachable_goal(start, goal, fragment):
    cost = np.ones((5, 6))
    cost[1, 1] = np.inf
    cost[2, 2] = np.nan
    cost[3:, 4] = cost[3, 5] = np.inf
    with pytest.raises(LupexError, match=re.escape(fragment)):
        least_cost_path(cost, 1.0, start, goal)


def test_bad_costmaps_and_paths():
    with pytest.raises(LupexError, match="negative costs"):
        least_cost_path([[1.0, -1.0]], 1.0, (0, 0), (0, 0))
    with pytest.raises(LupexError, match="2-D"):
        cost_to_go(np.ones(5), 1.0, (0,))
    with pytest.raises(LupexError, match="pixel size"):
        least_cost_path(np.ones((3, 3)), 0.0, (0, 0), (1, 1))
    with pytest.raises(LupexError, match="not one of the 16 moves"):
        path_cost(np.ones((5, 5)), 1.0, [(0, 0), (0, 3)])
    with pytest.raises(LupexError, match="route cell"):
        path_cost(np.ones((5, 5)), 1.0, [(0, 0), (-1, 0)])
