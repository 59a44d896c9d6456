"""Science stops: the information of a hole in closed form, candidate spacing, static legs against the
route planner, and the orienteering solver against brute-force enumeration of every order of every subset."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from pydantic import ValidationError

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.planning.grid_search import least_cost_path, path_cost
from lupex.planning.targets import (
    StaticLegs,
    TargetConfig,
    _CachedLegs,
    _repair,
    _timeline,
    drill_information_bits,
    information_bits,
    plan_targets,
    select_candidates,
    service_cost,
    solve_orienteering,
)
from lupex.raster import grid_array, polar_crs
from lupex.rover.model import RoverConfig

# --- helpers -------------------------------------------------------------------------------


def sequential(order, leg, service_h, service_wh):
    """Duration [h] and energy [Wh] of visiting ``order`` leaving each stop right after its service,
    or None when a leg is missing: the true evaluation, written independently of the module."""
    t = energy = 0.0
    here = 0
    for stop in order:
        found = leg(here, stop, t)
        if found is None:
            return None
        t += found[0] + service_h
        energy += found[1] + service_wh
        here = stop
    return t, energy


def brute_force(values, leg, service_h, service_wh, hours, energy_wh=None):
    """Most value over every order of every subset, evaluated sequentially [bit]."""
    best = 0.0
    stops = range(1, len(values) + 1)
    for size in range(1, len(values) + 1):
        for order in itertools.permutations(stops, size):
            found = sequential(order, leg, service_h, service_wh)
            if found is None or found[0] > hours or (energy_wh is not None and found[1] > energy_wh):
                continue
            best = max(best, sum(values[k - 1] for k in order))
    return best


def euclidean_instance(seed):
    """A random instance of 3 to 7 candidates on a 1 km square, uniform or clustered, with legs at
    0.05 m/s and 100 W: (xy, values, leg, time budget [h], energy budget [Wh] or None)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    if seed % 2:
        xy = rng.uniform(0.0, 1000.0, (n + 1, 2))
    else:
        centres = rng.uniform(0.0, 1000.0, (3, 2))
        xy = centres[rng.integers(0, 3, n + 1)] + rng.normal(0.0, 40.0, (n + 1, 2))
    values = np.round(rng.uniform(1.0, 10.0, n), 3)
    distance = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))

    def leg(i, j, depart_h):
        hours = distance[i, j] / 0.05 / 3600.0
        return hours, 100.0 * hours

    energy_wh = float(rng.uniform(150.0, 1500.0)) if seed % 3 else None
    return xy, values, leg, float(rng.uniform(3.0, 20.0)), energy_wh


def rush_hour_instance(seed):
    """As :func:`euclidean_instance`, but legs leaving in the first half of every 6 h take three times
    as long, and legs over 700 m cannot be driven then."""
    xy, values, _, hours, energy_wh = euclidean_instance(seed)
    distance = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))

    def leg(i, j, depart_h):
        slow = depart_h % 6.0 < 3.0
        if slow and distance[i, j] > 700.0:
            return None
        duration = distance[i, j] / 0.05 / 3600.0 * (3.0 if slow else 1.0)
        return duration, 100.0 * duration

    return xy, values, leg, hours, energy_wh


SERVICE_H, SERVICE_WH = 1.0, 20.0


def assert_feasible(plan, leg, hours, energy_wh=None):
    """The plan's stops, times and totals agree with the independent sequential evaluation."""
    order = [stop.index for stop in plan.stops]
    found = sequential(order, leg, SERVICE_H, SERVICE_WH)
    assert found is not None
    assert plan.duration_h == pytest.approx(found[0], rel=1e-12, abs=1e-12)
    assert plan.energy_wh == pytest.approx(found[1], rel=1e-12, abs=1e-12)
    assert plan.duration_h <= hours
    assert energy_wh is None or plan.energy_wh <= energy_wh
    t = 0.0
    for here, stop in zip([0, *order], plan.stops, strict=False):
        assert stop.arrival_h == pytest.approx(t + leg(here, stop.index, t)[0], rel=1e-12)
        assert stop.departure_h == pytest.approx(stop.arrival_h + SERVICE_H, rel=1e-12)
        t = stop.departure_h
    assert sorted(order + list(plan.skipped)) == list(range(1, len(plan.stops) + len(plan.skipped) + 1))


# --- the value of a hole ---------------------------------------------------------------------


def test_information_of_a_gaussian_measurement_in_closed_form():
    # 1/2 log2(1 + s^2 / n^2) per bin (Cover & Thomas 2006, section 9.1): s = 3, 4 and n = 1 give
    # 1/2 log2 10 + 1/2 log2 17 = 3.7047 bit; a bin the prior knows exactly gives nothing.
    std = np.array([[3.0, 0.0], [4.0, 0.0]])
    np.testing.assert_allclose(information_bits(std, 1.0), [0.5 * np.log2(10.0) + 0.5 * np.log2(17.0), 0.0],
                               rtol=1e-12)
    assert information_bits(std, 1.0)[0] == pytest.approx(3.70470, abs=1e-5)
    # Halving the noise adds about one bit per bin when the prior is much wider than the noise.
    assert information_bits([100.0], 0.05) - information_bits([100.0], 0.1) == pytest.approx(1.0, abs=1e-6)


def one_row_prior(depths):
    s = np.array([depths], dtype=np.float32)
    grid = grid_array(s, Affine(20.0, 0.0, 0.0, 0.0, -20.0, 20.0), polar_crs(), "ice_depth_m", "m")
    return water_prior(xr.Dataset({"ice_depth_m": grid}), IceParams())


def test_hole_value_from_the_prior_in_closed_form():
    # Ice stable from 0.8 m (deeper than the thickest dry lag, 0.5 m): every patch's ice top is at 0.8 m,
    # so the 7 bins below hold the full mixture and the 8 above are dry; with no stable ice, nothing.
    params = IceParams()
    mean_c, mean_c2 = params.concentration_moments()
    b, p = params.background_wt_pct, params.patch_fraction
    variance = p * (mean_c2 - 2 * b * mean_c + b * b) - (p * (mean_c - b)) ** 2
    per_bin = 0.5 * np.log2(1.0 + variance / 0.1**2)
    value = drill_information_bits(one_row_prior([0.8, np.nan]), 1.5, 0.1)
    assert value.attrs["units"] == "bit" and value.shape == (1, 2)
    np.testing.assert_allclose(value.values[0], [7 * per_bin, 0.0], rtol=1e-5)
    shallow = drill_information_bits(one_row_prior([0.8]), 1.0, 0.1)  # bins 0.8-0.9 and 0.9-1.0
    assert float(shallow[0, 0]) == pytest.approx(2 * per_bin, rel=1e-5)
    assert float(drill_information_bits(one_row_prior([0.8]), 0.8, 0.1)[0, 0]) == 0.0


def test_a_drill_depth_between_bin_edges_is_refused():
    with pytest.raises(LupexError, match="not a bin edge"):
        drill_information_bits(one_row_prior([0.0]), 0.75, 0.1)


def test_service_of_a_stop_with_the_default_rover():
    # 1.5 m at 1 h/m plus one 2 h analysis; drill 150 W x 1.5 h, ovens 100 W x 2 h, idle 60 W x 3.5 h.
    hours, energy = service_cost(RoverConfig(), TargetConfig(time_budget_h=10.0))
    assert hours == pytest.approx(3.5)
    assert energy == pytest.approx(225.0 + 200.0 + 210.0)


@pytest.mark.parametrize("values", [{"time_budget_h": 0.0}, {"time_budget_h": -1.0},
                                    {"time_budget_h": 5.0, "energy_budget_wh": 0.0}, {"time_budget_h": 5.0, "count": 0},
                                    {"time_budget_h": 5.0, "bogus": 1}])
def test_bad_settings_are_refused(values):
    with pytest.raises(ValidationError):
        TargetConfig(**values)


# --- candidates ------------------------------------------------------------------------------


def greedy_reference(value, allowed, pixel_m, count, spacing):
    """Non-maximum suppression cell by cell, in Python: the definition the vectorised code must meet."""
    flat = [(-value[r, c], r, c) for r in range(value.shape[0]) for c in range(value.shape[1])
            if allowed[r, c] and value[r, c] > 0]
    chosen = []
    for _, r, c in sorted(flat):
        if all(np.hypot(r - rr, c - cc) * pixel_m >= spacing for rr, cc in chosen):
            chosen.append((r, c))
        if len(chosen) == count:
            break
    return chosen


@pytest.mark.parametrize("spacing", [0.0, 45.0, 100.0, 250.0])
def test_candidates_are_the_greedy_best_and_keep_their_spacing(spacing):
    rng = np.random.default_rng(7)
    value = rng.uniform(-1.0, 10.0, (40, 50))
    allowed = rng.uniform(size=value.shape) > 0.2
    rows, cols = select_candidates(value, allowed, 20.0, 15, spacing)
    assert len(rows) == (15 if spacing <= 100.0 else 12)  # an 800 x 1000 m map holds only 12 at 250 m
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == greedy_reference(value, allowed, 20.0, 15, spacing)
    distance = np.hypot(rows[:, None] - rows[None], cols[:, None] - cols[None]) * 20.0
    assert (distance[np.triu_indices(len(rows), 1)] >= spacing).all()
    assert allowed[rows, cols].all() and (np.diff(value[rows, cols]) <= 0).all()


def test_candidates_stop_when_no_valuable_cell_is_left_and_ties_go_to_the_cheapest():
    value = np.zeros((10, 10))
    value[2, 2] = value[2, 8] = value[8, 5] = 3.0
    cost_from_start = np.tile(np.arange(10.0)[::-1], (10, 1))  # cheaper to the right
    rows, cols = select_candidates(value, np.ones_like(value, bool), 10.0, 5, 0.0, tiebreak=cost_from_start)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(2, 8), (8, 5), (2, 2)]


# --- static legs over a costmap -------------------------------------------------------------------


def rough_costmap(seed=3, shape=(40, 50)):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1500.0, 4000.0, shape)
    cost[rng.uniform(size=shape) < 0.12] = np.inf
    cost[10:30, 25] = np.inf  # a wall to go around
    return cost


def test_static_legs_follow_the_least_cost_routes():
    cost = rough_costmap()
    cells = np.array([(5, 5), (35, 45), (20, 40), (3, 30)])
    cost[tuple(cells.T)] = 2000.0
    legs = StaticLegs(cost, 20.0, cells, 0.05)
    for i, j in itertools.permutations(range(4), 2):
        hours, energy = legs(i, j, 0.0)
        route = least_cost_path(cost, 20.0, cells[i], cells[j])
        assert energy == pytest.approx(route.cost / 3600.0, rel=1e-12)
        cells_ij = legs.route(i, j)
        assert tuple(cells_ij[0]) == tuple(cells[i]) and tuple(cells_ij[-1]) == tuple(cells[j])
        assert path_cost(cost, 20.0, cells_ij) == pytest.approx(energy * 3600.0, rel=1e-12)
        length = 20.0 * np.hypot(*np.diff(cells_ij, axis=0).T).sum()
        assert hours == pytest.approx(length / 0.05 / 3600.0, rel=1e-12)
        assert legs(j, i, 5.0) == (hours, energy)  # the same both ways and at any time
    assert legs.searches == 3 + 12  # one search per source for all legs, one per route drawn


def test_static_legs_on_uniform_ground_cost_the_rover_energy_per_metre():
    legs = StaticLegs(np.full((30, 30), 1970.6), 20.0, [(0, 0), (0, 20), (20, 0)], 0.05)
    hours, energy = legs(0, 1, 0.0)
    assert hours == pytest.approx(400.0 / 0.05 / 3600.0)  # 20 axial moves of 20 m
    assert energy == pytest.approx(1970.6 * 400.0 / 3600.0)
    # From row 0 to row 20 along a column, as from column 0 to 20: the grid is symmetric.
    assert legs(0, 2, 0.0) == pytest.approx(legs(0, 1, 0.0))


def test_unreachable_stops_have_no_leg():
    cost = np.full((10, 10), 1000.0)
    cost[:, 5] = np.inf
    legs = StaticLegs(cost, 10.0, [(0, 0), (9, 9)], 0.05)
    assert legs(0, 1, 0.0) is None and legs(1, 0, 0.0) is None
    with pytest.raises(LupexError, match="cannot be reached"):
        legs.route(0, 1)


# --- the orienteering solver --------------------------------------------------------------------

STATIC_SEEDS = [0, 1, 2, 3, 4, 5, 6, 9, 12, 17, 23, 59, 90]


@pytest.mark.parametrize("seed", STATIC_SEEDS)
def test_static_legs_give_the_brute_force_optimum(seed):
    xy, values, leg, hours, energy_wh = euclidean_instance(seed)
    config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
    plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
    assert plan.value_bits == pytest.approx(brute_force(values, leg, SERVICE_H, SERVICE_WH, hours, energy_wh),
                                            abs=1e-9)
    assert_feasible(plan, leg, hours, energy_wh)
    assert plan.solves == 1  # static legs: the re-evaluation changes nothing


def test_the_same_input_gives_the_same_plan():
    xy, values, leg, hours, energy_wh = rush_hour_instance(41)
    config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
    first = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
    again = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
    assert first == again and first.stops


@pytest.mark.parametrize("seed", [14, 24])
def test_time_dependent_legs_give_a_feasible_plan_with_the_brute_force_value(seed):
    # 3 and 4 candidates where the hour matters: with every leg priced at its departure-0 (slow) cost the
    # best sequence is worth much less than with the true legs.
    xy, values, leg, hours, energy_wh = rush_hour_instance(seed)
    config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
    plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
    best = brute_force(values, leg, SERVICE_H, SERVICE_WH, hours, energy_wh)
    frozen = brute_force(values, lambda i, j, t: leg(i, j, 0.0), SERVICE_H, SERVICE_WH, hours, energy_wh)
    assert frozen < best - 5.0
    assert plan.value_bits == pytest.approx(best, abs=1e-9)
    assert_feasible(plan, leg, hours, energy_wh)


@pytest.mark.parametrize("seed", [2, 3, 12, 39, 45])
def test_rush_hour_plans_are_feasible_and_optimal_on_these_instances(seed):
    xy, values, leg, hours, energy_wh = rush_hour_instance(seed)
    config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
    plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
    assert_feasible(plan, leg, hours, energy_wh)
    assert plan.value_bits == pytest.approx(brute_force(values, leg, SERVICE_H, SERVICE_WH, hours, energy_wh),
                                            abs=1e-9)


@pytest.mark.slow
def test_rush_hour_gap_to_the_brute_force_optimum():
    # The time-dependent scheme is a heuristic. Over these 100 instances it was measured (OR-Tools 9.15) to
    # miss the sequential optimum on 10, by at most 25.8 % of the value (13.2 % on average where it misses);
    # every plan stays feasible.
    gaps = []
    for seed in range(100):
        xy, values, leg, hours, energy_wh = rush_hour_instance(seed)
        config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
        plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
        assert_feasible(plan, leg, hours, energy_wh)
        best = brute_force(values, leg, SERVICE_H, SERVICE_WH, hours, energy_wh)
        assert plan.value_bits <= best + 1e-9
        gaps.append(1.0 - plan.value_bits / best if best > 0.0 else 0.0)
    gaps = np.array(gaps)
    print(f"missed {(gaps > 1e-9).sum()} of 100, largest gap {gaps.max():.3f}, mean gap where missed "
          f"{gaps[gaps > 1e-9].mean():.3f}")
    assert (gaps > 1e-9).sum() <= 10
    assert gaps.max() <= 0.26


@pytest.mark.slow
def test_static_misses_over_many_random_instances():
    # Measured (OR-Tools 9.15): the optimum on all of these 300 instances.
    for seed in range(300):
        xy, values, leg, hours, energy_wh = euclidean_instance(seed)
        config = TargetConfig(time_budget_h=hours, energy_budget_wh=energy_wh)
        plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, config)
        assert plan.value_bits == pytest.approx(
            brute_force(values, leg, SERVICE_H, SERVICE_WH, hours, energy_wh), abs=1e-9), seed


def test_unreachable_candidates_are_skipped():
    xy = np.array([(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (300.0, 0.0)])
    values = np.array([1.0, 5.0, 2.0])

    def leg(i, j, depart_h):
        if 2 in (i, j):
            return None
        return abs(xy[i, 0] - xy[j, 0]) / 180.0, 1.0

    plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, TargetConfig(time_budget_h=10.0))
    assert [stop.index for stop in plan.stops] in ([1, 3], [3, 1])
    assert plan.skipped == (2,)
    assert plan.value_bits == pytest.approx(3.0)


def test_a_budget_too_short_for_any_stop_gives_an_empty_plan():
    xy, values, leg, _, _ = euclidean_instance(4)
    plan = solve_orienteering(xy, values, leg, SERVICE_H, SERVICE_WH, TargetConfig(time_budget_h=0.5))
    assert plan.stops == () and plan.value_bits == 0.0 and plan.duration_h == 0.0
    assert plan.skipped == tuple(range(1, len(values) + 1))


def test_repair_drops_the_stop_that_loses_least_value_per_hour_saved():
    # Legs of 1 h and 10 Wh, stops of 1 h and 5 Wh: dropping any stop saves 2 h and 15 Wh, so the value per
    # hour (or Wh) saved is 1.5, 0.5 and 2.0 for stops 1, 2, 3, and stop 2 goes.
    values = np.array([0.0, 3.0, 1.0, 4.0])
    legs = _CachedLegs(lambda i, j, t: (1.0, 10.0))
    service_h, service_wh = np.array([0.0, 1.0, 1.0, 1.0]), np.array([0.0, 5.0, 5.0, 5.0])
    line = _timeline((1, 2, 3), legs, service_h, service_wh)
    assert line.duration_h == pytest.approx(6.0)
    fixed = _repair(line, legs, values, service_h, service_wh, TargetConfig(time_budget_h=5.0))
    assert fixed.order == (1, 3) and fixed.duration_h == pytest.approx(4.0)
    energy = _repair(line, legs, values, service_h, service_wh, TargetConfig(time_budget_h=10.0,
                                                                             energy_budget_wh=40.0))
    assert energy.order == (1, 3) and energy.energy_wh == pytest.approx(30.0)


def test_a_leg_function_returning_nonsense_is_refused():
    xy = np.zeros((2, 2))
    with pytest.raises(ValueError, match="finite time"):
        solve_orienteering(xy, [1.0], lambda i, j, t: (float("nan"), 1.0), 1.0, 1.0, TargetConfig(time_budget_h=5.0))


# --- a whole site ----------------------------------------------------------------------------------


def grid(values, name, units):
    return grid_array(np.asarray(values, dtype=float), Affine(20.0, 0.0, 1000.0, 0.0, -20.0, 30000.0), polar_crs(),
                      name, units)


def test_plan_over_a_costmap():
    cost = rough_costmap(seed=5)
    cost[20, 10] = 2000.0
    value = np.random.default_rng(1).uniform(0.0, 50.0, cost.shape)
    config = TargetConfig(time_budget_h=30.0, count=6, min_spacing_m=150.0)
    rover = RoverConfig()
    start_xy = (1000.0 + 10.5 * 20.0, 30000.0 - 20.5 * 20.0)
    site = plan_targets(grid(value, "value_bits", "bit"), grid(cost, "cost", "J/m"), start_xy, rover, config, 20.0)
    assert site.start_rc == (20, 10)
    cand = site.candidates
    assert len(cand.x) == 6
    distance = np.hypot(cand.x[:, None] - cand.x[None], cand.y[:, None] - cand.y[None])
    assert (distance[np.triu_indices(6, 1)] >= 150.0).all()
    plan = site.plan
    assert plan.stops and plan.duration_h <= 30.0
    assert plan.value_bits == pytest.approx(sum(cand.value_bits[stop.index - 1] for stop in plan.stops))
    # The route starts at the start and passes through every stop in order.
    route = [tuple(rc) for rc in site.route]
    assert route[0] == (20, 10)
    positions = [route.index((cand.rows[s.index - 1], cand.cols[s.index - 1])) for s in plan.stops]
    assert positions == sorted(positions) and positions[-1] == len(route) - 1
    assert np.isfinite(cost[site.route[:, 0], site.route[:, 1]]).all()


@pytest.mark.parametrize("start_xy,message", [((0.0, 0.0), "outside the grid"),
                                              ((1000.0 + 25.5 * 20, 30000.0 - 15.5 * 20), "may not drive")])
def test_plan_refuses_bad_starts(start_xy, message):
    cost = rough_costmap(seed=5)
    value = np.ones(cost.shape)
    with pytest.raises(LupexError, match=message):
        plan_targets(grid(value, "v", "bit"), grid(cost, "c", "J/m"), start_xy, RoverConfig(),
                     TargetConfig(time_budget_h=5.0), 20.0)


def test_plan_refuses_a_value_map_on_another_grid():
    cost = rough_costmap(seed=5)
    with pytest.raises(LupexError, match="not on the costmap's grid"):
        plan_targets(grid(np.ones((20, 20)), "v", "bit"), grid(cost, "c", "J/m"), (1210.0, 29590.0), RoverConfig(),
                     TargetConfig(time_budget_h=5.0), 20.0)
