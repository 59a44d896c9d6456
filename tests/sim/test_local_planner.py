"""D* Lite and the leg drive: the closed-form grid optimum on open ground, a plain Dijkstra on the
known map after every incremental update, enclosed goals, and paths that never touch a hazard."""

import heapq
import math

import numpy as np
import pytest
from pydantic import ValidationError

from lupex.errors import LupexError
from lupex.sim.local_planner import AutonomyConfig, DStarLite, drive_leg
from lupex.sim.truth_terrain import TruthTerrain, TruthTerrainConfig

AXIAL, DIAGONAL = 1_000_000, 1_414_214  # the planner's whole-number move costs [1e-6 cells]


def dijkstra(blocked: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Distance to the nearest free goal cell [1e-6 cells]: 8 moves, a diagonal needs both side cells free."""
    ny, nx = blocked.shape
    dist = np.full(blocked.shape, np.inf)
    queue = []
    for r, c in zip(*np.nonzero(goal & ~blocked), strict=True):
        dist[r, c] = 0
        queue.append((0, r, c))
    heapq.heapify(queue)
    while queue:
        d, r, c = heapq.heappop(queue)
        if d > dist[r, c]:
            continue
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr, dc) == (0, 0) or not (0 <= rr < ny and 0 <= cc < nx) or blocked[rr, cc]:
                    continue
                if dr and dc and (blocked[r, cc] or blocked[rr, c]):
                    continue
                nd = d + (DIAGONAL if dr and dc else AXIAL)
                if nd < dist[rr, cc]:
                    dist[rr, cc] = nd
                    heapq.heappush(queue, (nd, rr, cc))
    return dist


def assert_valid_path(rows, cols, blocked):
    steps = np.stack([np.diff(rows), np.diff(cols)])
    assert (np.abs(steps).max(axis=0) == 1).all()
    assert not blocked[rows, cols].any()
    diagonal = (steps[0] != 0) & (steps[1] != 0)
    assert not blocked[rows[:-1][diagonal], cols[1:][diagonal]].any()
    assert not blocked[rows[1:][diagonal], cols[:-1][diagonal]].any()


@pytest.mark.parametrize("seed", range(40))
def test_dstar_lite_matches_dijkstra_after_every_incremental_update(seed):
    rng = np.random.default_rng(seed)
    ny, nx = rng.integers(6, 28, 2)
    hidden = rng.random((ny, nx)) < rng.uniform(0.05, 0.4)
    goal = np.zeros((ny, nx), dtype=bool)
    goal[rng.integers(ny), rng.integers(nx)] = True
    here = (int(rng.integers(ny)), int(rng.integers(nx)))
    known = np.zeros((ny, nx), dtype=bool)
    search = DStarLite(known, goal, here)
    for step in range(7):
        rows, cols, cost = search.plan()
        reference = dijkstra(known, goal)[here] / AXIAL
        assert cost == pytest.approx(reference, rel=1e-12, abs=0.0) if math.isfinite(reference) else cost == math.inf
        if math.isfinite(cost):
            assert_valid_path(rows, cols, known)
            assert (rows[0], cols[0]) == here and goal[rows[-1], cols[-1]]
        # reveal more obstacles (the last round: all of them), then move the start somewhere free
        reveal = hidden & ((rng.random((ny, nx)) < 0.3) | (step == 5))
        reveal[here] = False
        known |= reveal
        free = np.argwhere(~known)
        here = tuple(int(v) for v in free[rng.integers(len(free))])
        search.move_to(here)
        search.block(*np.nonzero(reveal))


def open_world() -> TruthTerrain:
    return TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.0, crater_equilibrium_fraction=0.0), seed=0)


@pytest.mark.parametrize("goal", [(200.0, 0.0), (0.0, -150.0), (120.0, 120.0), (-170.0, 60.0), (33.0, 187.0)])
def test_open_ground_path_is_the_grid_optimum(goal):
    start = (0.25, 0.25)  # a cell centre
    leg = drive_leg(start, goal, open_world(), AutonomyConfig(goal_tolerance_m=0.0))
    cell = 0.5
    dx = abs(math.floor(goal[0] / cell) - math.floor(start[0] / cell))
    dy = abs(math.floor(goal[1] / cell) - math.floor(start[1] / cell))
    optimum = cell * (max(dx, dy) - min(dx, dy) + math.sqrt(2.0) * min(dx, dy))
    assert leg.reached and leg.reason == ""
    assert leg.length_m == pytest.approx(optimum, rel=1e-12)
    assert (leg.replans, leg.hazards_avoided) == (0, 0)
    assert (leg.x[0], leg.y[0]) == start


@pytest.fixture(scope="module")
def rocky():
    return TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.03), seed=7)


def test_drive_never_enters_a_forbidden_cell(rocky):
    config = AutonomyConfig()
    start, goal = (1000.25, 2000.25), (1160.0, 2110.0)
    window = (start[0] - 40, start[1] - 40, goal[0] + 40, goal[1] + 40)
    forbidden, t = rocky.blocked(*window, clearance_m=config.inflation_m)
    cols = ((np.array([start[0]]) - t.c) // t.a).astype(int)
    rows = ((t.f - np.array([start[1]])) // t.a).astype(int)
    assert not forbidden[rows[0] - 4:rows[0] + 5, cols[0] - 4:cols[0] + 5].any()  # no escape needed at the start
    leg = drive_leg(start, goal, rocky, config)
    assert leg.reached
    assert leg.replans > 0 and leg.hazards_avoided > 0
    rows = ((t.f - leg.y) // t.a).astype(int)
    cols = ((leg.x - t.c) // t.a).astype(int)
    assert_valid_path(rows, cols, forbidden)
    assert math.hypot(leg.x[-1] - goal[0], leg.y[-1] - goal[1]) <= config.goal_tolerance_m
    straight = math.hypot(goal[0] - start[0], goal[1] - start[1])
    assert straight < leg.length_m < 1.5 * straight
    again = drive_leg(start, goal, rocky, config)
    assert np.array_equal(again.x, leg.x) and np.array_equal(again.y, leg.y)
    assert (again.replans, again.hazards_avoided, again.length_m) == (leg.replans, leg.hazards_avoided, leg.length_m)


def test_goal_enclosed_by_a_steep_crater_is_not_reached():
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.0), seed=12)
    config = AutonomyConfig()
    craters = truth.hazards(0.0, 0.0, 3000.0, 3000.0)
    floor = craters.is_crater & (craters.inner_m - config.inflation_m > config.goal_tolerance_m + 1.0)
    assert floor.any()
    i = int(np.argmax(floor))
    centre = (float(craters.x[i]), float(craters.y[i]))
    leg = drive_leg((centre[0] - 60.0, centre[1] + 45.0), centre, truth, config)
    assert not leg.reached
    assert "enclose" in leg.reason
    assert math.hypot(leg.x[-1] - centre[0], leg.y[-1] - centre[1]) > craters.inner_m[i]


def test_a_start_beside_a_rock_can_leave_it():
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.03, crater_equilibrium_fraction=0.0), seed=3)
    rocks = truth.hazards(0.0, 0.0, 400.0, 400.0)
    i = int(np.argmax(rocks.outer_m < 0.25))
    start = (float(rocks.x[i]) + 0.6, float(rocks.y[i]))
    assert truth.blocked(start[0] - 1, start[1] - 1, start[0] + 1, start[1] + 1, clearance_m=0.75)[0].any()
    leg = drive_leg(start, (start[0] + 80.0, start[1] + 30.0), truth)
    assert leg.reached


def test_bad_input_is_refused():
    with pytest.raises(ValidationError, match="sensor_range_m"):
        AutonomyConfig(sensor_range_m=1.5)
    with pytest.raises(LupexError, match="finite"):
        drive_leg((0.0, np.nan), (10.0, 0.0), open_world())
    with pytest.raises(LupexError, match="no cell"):
        DStarLite(np.zeros((3, 3), dtype=bool), np.zeros((3, 3), dtype=bool), (0, 0))
