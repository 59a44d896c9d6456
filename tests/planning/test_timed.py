"""The time-dependent planner against an exhaustive time-expanded Dijkstra on the same
discretisation, closed-form cases, and the constraint each unreachable goal is blamed on."""

from __future__ import annotations

import numpy as np
import pytest

from lupex.planning.lattice import build_lattice, move_headings_deg
from lupex.planning.node_sky import NodeSky
from lupex.planning.timed import Model, PlanConfig, model_for, plan_route
from lupex.rover.model import RoverConfig
from lupex.rover.power import battery_step, panel_facing

from .timed_reference import exhaustive_arrival

SMALL_ROVER = RoverConfig.model_validate({"battery": {"capacity_wh": 600.0}, "thermal": {"max_shadow_h": 3.0}})
COARSE = PlanConfig(tick_min=30.0, soc_quantum_wh=10.0, node_spacing_m=100.0)


def sky_of(rover: RoverConfig, sun_fraction, earth_visible, solar_w_full: float = 400.0,
           sun_drift_deg: float = 30.0) -> NodeSky:
    steps = sun_fraction.shape[0]
    sun_azimuth = np.linspace(0.0, sun_drift_deg, steps)
    return NodeSky(times=np.arange(steps), step_h=1.0, sun_fraction=sun_fraction.astype(np.float32),
                   solar_w=solar_w_full * sun_fraction, earth_visible=earth_visible,
                   facing_moves=panel_facing(rover, sun_azimuth[:, None] - move_headings_deg()[None, :]),
                   facing_parked=float(np.max(panel_facing(rover, np.arange(0.0, 360.0, 0.5)))))


def random_instance(seed: int, days: float = 2.0):
    """A 30 x 30 pixel site (6 x 6 nodes) with random obstacles, hills, blocks of shadow and
    Earth blackouts, a small battery and a 3 h darkness limit: the constraints bind."""
    rng = np.random.default_rng(seed)
    cost = np.where(rng.random((30, 30)) < 0.12, np.inf, 1.0)
    for r, c in ((1, 1), (28, 28), (1, 28)):
        cost[r - 1:r + 2, c - 1:c + 2] = 1.0
    heights = rng.normal(0.0, 3.0, (30, 30)).cumsum(axis=0)
    lattice = build_lattice(cost, heights, 20.0, 5, SMALL_ROVER, [(1, 1), (28, 28), (1, 28)])
    steps = int(days * 24) + 1
    lit = np.repeat(rng.random((steps // 3 + 1, lattice.size)) < 0.6, 3, axis=0)[:steps]
    fraction = lit * rng.uniform(0.3, 1.0, (steps, lattice.size))
    earth = np.repeat(rng.random((steps // 4 + 1, lattice.size)) < 0.7, 4, axis=0)[:steps]
    model = model_for(lattice, sky_of(SMALL_ROVER, fraction, earth), SMALL_ROVER, COARSE, days)
    return lattice, model, lattice.node_of((1, 1)), [lattice.node_of((28, 28)), lattice.node_of((1, 28))]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, pytest.param(6, marks=pytest.mark.slow), 7, 8])
def test_plans_equal_the_exhaustive_time_expanded_search(seed):
    lattice, model, start, waypoints = random_instance(seed)
    initial = 0.6
    plan = plan_route(lattice, model, start, waypoints, initial)
    expected, _ = exhaustive_arrival(lattice, model, start, waypoints, model.charge_q(initial))
    assert plan.dropped_labels == 0
    if expected is None:
        assert not plan.reached
        return
    assert plan.reached
    last = plan.steps[-1]
    assert (plan.arrival_tick, last.soc_q, last.dark_ticks) == (expected[0], expected[1], expected[2])


def test_the_random_instances_exercise_waiting_and_unreachable_goals():
    """The equality above is only worth something if the instances need the constraints."""
    plans = [plan_route(*random_instance(seed)[:3], random_instance(seed)[3], 0.6) for seed in range(1, 9)]
    reached = [p for p in plans if p.reached]
    assert any(not p.reached for p in plans)
    assert sum(any(s.action == "wait" for s in p.steps) for p in reached) >= 3
    assert any(s.dark_ticks > 0 for p in reached for s in p.steps)


def always_lit(rover, config, days=1.0, shape=(40, 40)):
    lattice = build_lattice(np.ones(shape), np.zeros(shape), 20.0, 5, rover, [(2, 2), (shape[0] - 3, shape[1] - 3)])
    steps = int(days * 24) + 1
    sky = sky_of(rover, np.ones((steps, lattice.size)), np.ones((steps, lattice.size), dtype=bool), sun_drift_deg=0.0)
    return lattice, model_for(lattice, sky, rover, config, days)


def test_with_sun_and_earth_everywhere_the_plan_drives_the_fastest_route():
    rover = RoverConfig()
    lattice, model = always_lit(rover, PlanConfig(tick_min=5.0, node_spacing_m=100.0))
    start, goal = lattice.node_of((2, 2)), lattice.node_of((37, 37))
    plan = plan_route(lattice, model, start, [goal], 1.0)
    assert plan.reached and all(s.action == "drive" for s in plan.steps)
    assert plan.arrival_tick == lattice.ticks_to(model.ticks, goal)[start]
    # 7 diagonal block moves of 100 sqrt(2) m at 0.05 m/s: 47.1 min each, 10 ticks of 5 min.
    assert plan.arrival_tick == 70


def test_the_charge_follows_the_battery_model_while_driving_in_constant_sun():
    rover = RoverConfig()
    config = PlanConfig(tick_min=10.0, soc_quantum_wh=1e-6, node_spacing_m=100.0)
    lattice, model = always_lit(rover, config)
    start, goal = lattice.node_of((2, 2)), lattice.node_of((37, 37))
    plan = plan_route(lattice, model, start, [goal], 0.5)
    soc_wh = 0.5 * rover.battery.capacity_wh
    for step in plan.steps:
        hours = (step.end_tick - step.start_tick) * config.tick_min / 60.0
        solar = 400.0 * float(model.facing_moves[step.start_tick // 6, step.move])
        load = lattice.drive_wh[step.node_from, step.move] / hours
        soc_wh = float(battery_step(soc_wh, solar, load, hours * 3600.0, rover))
        assert step.soc_q * 1e-6 == pytest.approx(soc_wh, abs=1e-3)


def dark_corridor(rover, dark_steps, earth=True, days=2.0):
    """A row of nodes, lit only at the ends; the middle is dark for ``dark_steps`` hours."""
    shape = (5, 100)
    lattice = build_lattice(np.ones(shape), np.zeros(shape), 20.0, 5, rover, [(2, 2), (2, 97)])
    steps = int(days * 24) + 1
    fraction = np.zeros((steps, lattice.size))
    columns = lattice.pixel[:, 1]
    fraction[:, (columns < 5) | (columns > 94)] = 1.0
    fraction[dark_steps:, :] = 1.0
    visible = np.full((steps, lattice.size), earth)
    return lattice, model_for(lattice, sky_of(rover, fraction, visible), rover, COARSE, days)


@pytest.mark.parametrize(("rover_update", "earth", "blocking"), [
    ({"battery": {"capacity_wh": 600.0}, "loads": {"hibernation_w": 5.0},
      "thermal": {"survival_heater_w": 5.0, "max_shadow_h": 24.0}}, True, "battery"),
    ({"battery": {"capacity_wh": 3000.0}, "thermal": {"max_shadow_h": 3.0}}, True, "shadow"),
    ({"battery": {"capacity_wh": 3000.0}, "thermal": {"max_shadow_h": 24.0}}, False, "time"),
])
def test_an_unreachable_goal_names_the_constraint_that_blocks_it(rover_update, earth, blocking):
    """18 dark edges of 100 m, an hour each at 30 min ticks, draw 18 x 55 Wh: beyond the 427 Wh a
    600 Wh battery gives above its reserve, and beyond 3 h of darkness; without the Earth the
    rover may not drive at all."""
    rover = RoverConfig.model_validate(rover_update)
    lattice, model = dark_corridor(rover, dark_steps=49, earth=earth)
    plan = plan_route(lattice, model, lattice.node_of((2, 2)), [lattice.node_of((2, 97))], 1.0)
    assert not plan.reached and plan.blocking == blocking


def test_the_rover_waits_in_the_sun_until_the_dark_corridor_can_be_crossed():
    """The corridor lights up at hour 10 and the rover may spend 7 h in the dark: leaving at
    once would strand it 9 h in the dark, so it waits at the lit end."""
    rover = RoverConfig.model_validate({"battery": {"capacity_wh": 600.0}, "thermal": {"max_shadow_h": 7.0}})
    lattice, model = dark_corridor(rover, dark_steps=10)
    start, goal = lattice.node_of((2, 2)), lattice.node_of((2, 97))
    plan = plan_route(lattice, model, start, [goal], 1.0)
    assert plan.reached
    assert plan.steps[0].action == "wait"
    assert max(s.dark_ticks for s in plan.steps) <= 14
    expected, _ = exhaustive_arrival(lattice, model, start, [goal], model.capacity_q)
    assert (plan.arrival_tick, plan.steps[-1].soc_q) == expected[:2]


def test_drives_start_only_with_the_earth_in_view():
    lattice, model, start, waypoints = random_instance(3)
    plan = plan_route(lattice, model, start, waypoints, 0.6)
    assert plan.reached
    for step in plan.steps:
        if step.action == "drive":
            assert model.earth_visible[step.start_tick // 2, step.node_from]


def test_the_goal_must_be_a_safe_haven_until_the_end():
    """The goal is dark over the whole 48 h period and the darkness limit is 24 h: the rover
    may only arrive in the last 24 h, and waits in the sun until then."""
    rover = RoverConfig()
    shape = (5, 40)
    lattice = build_lattice(np.ones(shape), np.zeros(shape), 20.0, 5, rover, [(2, 2), (2, 37)])
    steps = 49
    fraction = np.ones((steps, lattice.size))
    goal = lattice.node_of((2, 37))
    fraction[:, goal] = 0.0
    sky = sky_of(rover, fraction, np.ones((steps, lattice.size), dtype=bool))
    haven = plan_route(lattice, model_for(lattice, sky, rover, COARSE, 2.0), lattice.node_of((2, 2)), [goal], 1.0)
    anywhere = plan_route(lattice, model_for(lattice, sky, rover, COARSE.model_copy(update={"end_at_haven": False}),
                                             2.0), lattice.node_of((2, 2)), [goal], 1.0)
    assert anywhere.arrival_tick == 14  # 7 edges of 100 m, 2 ticks each
    assert haven.arrival_tick == 96 - 48


def test_model_refuses_a_sky_shorter_than_the_period():
    rover = RoverConfig()
    lattice = build_lattice(np.ones((10, 10)), np.zeros((10, 10)), 20.0, 5, rover)
    sky = sky_of(rover, np.ones((10, lattice.size)), np.ones((10, lattice.size), dtype=bool))
    with pytest.raises(Exception, match="sky samples cover"):
        model_for(lattice, sky, rover, COARSE, 2.0)
    assert isinstance(model_for(lattice, sky, rover, COARSE, 0.3), Model)


def test_legs_later_in_the_period_plan_over_the_sky_from_their_departure():
    """A leg leaving at hour 10.2 starts at the next sky step, 11 h: over the dark corridor that
    lights up at hour 10 it drives straight through, in the ticks of the fastest route."""
    from lupex.planning.legs import TimedLegs

    rover = RoverConfig.model_validate({"battery": {"capacity_wh": 600.0}, "thermal": {"max_shadow_h": 7.0}})
    lattice, model = dark_corridor(rover, dark_steps=10)
    start, goal = lattice.node_of((2, 2)), lattice.node_of((2, 97))
    legs = TimedLegs(lattice, model, [start, goal], 1.0)
    duration_h, energy_wh = legs(0, 1, 10.2)
    fastest = lattice.ticks_to(model.ticks, goal)[start] * COARSE.tick_min / 60.0
    assert duration_h == pytest.approx(0.8 + fastest)
    assert energy_wh == pytest.approx(lattice.drive_wh[lattice.target >= 0].mean() * 19, rel=0.05)
    early, _ = legs(0, 1, 0.0)
    assert early > duration_h - 10.2  # leaving at once, it must wait for the corridor to light up
    assert legs(0, 1, 47.0) is None  # too little of the period is left
