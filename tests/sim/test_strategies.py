"""Adaptive drilling against the baseline of sites fixed before landing, over 20 seeds of the hidden
water: the adaptive rover, which surveys with its neutron spectrometer and drills where its water
map is most promising, must find more water per hole and reach >= 1 wt% more often."""

from __future__ import annotations

import numpy as np
import pytest

from lupex.ice import IceParams
from lupex.mission import holes_frame
from lupex.rover.model import RoverConfig
from lupex.sim.config import SimConfig
from lupex.sim.engine import Simulation
from lupex.sim.world import build_world
from lupex.sky.horizon import DemHorizons
from lupex.terrain.synth import SynthConfig, synthesize
from tests.sim.test_engine import START, icy_prior

SEEDS = range(20)


@pytest.fixture(scope="module")
def outcomes():
    site = synthesize(SynthConfig(size=128, resolution_m=20.0, center_lat=-89.45, center_lon=222.7, seed=4))
    dem = site.dem
    horizon = DemHorizons(dem)(np.arange(0.0, 360.0, 8.0))
    rows, cols = np.mgrid[40:88, 40:88]
    k = np.argmin(np.where(site.rocks.values[rows, cols] < 0.05, horizon.max(axis=0)[rows, cols], np.inf))
    landing = (float(dem.x.values[cols.ravel()[k]]), float(dem.y.values[rows.ravel()[k]]))
    params = IceParams()
    world = build_world(dem, horizon, site.rocks, icy_prior(dem, params), params, RoverConfig(), SimConfig(), START,
                        8.0, landing)
    found = {}
    for strategy in ("adaptive", "baseline"):
        holes = [holes_frame(Simulation(world, RoverConfig(), SimConfig(strategy=strategy), seed).run())
                 for seed in SEEDS]
        found[strategy] = np.concatenate([h["mean_wt_pct"].to_numpy() for h in holes]), \
            np.concatenate([h["max_wt_pct"].to_numpy() for h in holes])
    return found


def test_adaptive_finds_more_water_per_hole_than_the_baseline(outcomes):
    adaptive, baseline = outcomes["adaptive"][0], outcomes["baseline"][0]
    assert len(adaptive) >= 15 and len(baseline) >= 15
    assert adaptive.mean() > 1.5 * baseline.mean()


def test_adaptive_reaches_one_percent_more_often(outcomes):
    adaptive, baseline = outcomes["adaptive"][1], outcomes["baseline"][1]
    assert (adaptive >= 1.0).mean() > (baseline >= 1.0).mean() + 0.15
