"""The Sun and the Earth at lattice nodes against the exact sky of each place
(:func:`lupex.sky.series.point_series`, ephemeris from the place itself), and the panel
facing factors against the rover's solar model."""

from __future__ import annotations

import numpy as np
import pytest

from lupex.planning.lattice import build_lattice, move_headings_deg
from lupex.planning.node_sky import node_sky
from lupex.rover.model import RoverConfig
from lupex.rover.power import panel_facing, solar_power_w
from lupex.sky.horizon import DemHorizons
from lupex.sky.series import point_series
from lupex.sky.tracks import epochs
from lupex.terrain.synth import SynthConfig, synthesize


def test_node_sky_matches_the_exact_sky_at_the_nodes():
    """Over 10 days from 2028-09-01 (Sun up), on a 4 km tile: the visible solar-disk fraction
    within 0.02 and the Earth flag on 98 % of the samples (the tile-centre track with a tilt
    correction against each place's own ephemeris)."""
    rover = RoverConfig()
    dem = synthesize(SynthConfig(size=200, resolution_m=20.0, center_lat=-89.45, center_lon=222.7, seed=3)).dem
    horizon = DemHorizons(dem)(np.arange(0.0, 360.0, 5.0))
    lattice = build_lattice(np.ones(dem.shape), dem.values, 20.0, 40, rover)
    times = epochs("2028-09-01T00:00:00Z", "2028-09-11T00:00:00Z", 2.0)
    sky = node_sky(horizon, dem, lattice, times, 2.0, rover)
    nodes = np.arange(0, lattice.size, 4)
    xs, ys = dem.x.values[lattice.pixel[nodes, 1]], dem.y.values[lattice.pixel[nodes, 0]]
    exact = point_series(horizon, dem, xs, ys, times, earth_mask_deg=rover.comms.earth_mask_deg)
    sun = exact["sun_fraction"].to_numpy().reshape(nodes.size, times.size).T
    earth = exact["earth_visible"].to_numpy().reshape(nodes.size, times.size).T
    assert sun.mean() > 0.2  # the Sun is up: the comparison means something
    assert np.abs(sky.sun_fraction[:, nodes] - sun).max() < 0.02
    assert (sky.earth_visible[:, nodes] == earth).mean() > 0.98


def test_facing_factors_reproduce_the_solar_model():
    rover = RoverConfig()
    relative = np.arange(0.0, 360.0, 7.0)
    one_panel_w = 1361.0 * rover.solar.efficiency * rover.solar.panel_area_m2
    np.testing.assert_allclose(panel_facing(rover, relative) * one_panel_w,
                               solar_power_w(rover, 1.0, 0.0, relative), rtol=1e-12)
    # Side panels at 90, 180 and 270 deg: at best two panels 45 deg off the Sun, sqrt(2).
    assert panel_facing(rover, np.array([135.0]))[0] == pytest.approx(np.sqrt(2.0))
    np.testing.assert_allclose(move_headings_deg()[:4], [0.0, 180.0, 270.0, 90.0])
