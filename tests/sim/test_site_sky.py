"""The rover's sky at any place and tick against the exact sky of the place
(:func:`lupex.sky.series.point_series`, ephemeris from the place itself)."""

from __future__ import annotations

import numpy as np

from lupex.rover.model import RoverConfig
from lupex.sim.site_sky import SiteSky
from lupex.sky.horizon import DemHorizons
from lupex.sky.series import point_series
from lupex.terrain.synth import SynthConfig, synthesize


def test_site_sky_matches_the_exact_sky_of_each_place():
    """Over 5 days from 2028-09-01 at 1 h ticks, at four places of a 4 km tile: the visible solar-disk
    fraction within 0.02 and the Earth flag on 98 % of the samples."""
    rover = RoverConfig()
    dem = synthesize(SynthConfig(size=200, resolution_m=20.0, center_lat=-89.45, center_lon=222.7, seed=3)).dem
    horizon = DemHorizons(dem)(np.arange(0.0, 360.0, 5.0))
    sky = SiteSky(horizon, dem, "2028-09-01T00:00:00Z", 120, 1.0, rover)
    xs, ys = dem.x.values[[10, 60, 120, 190]], dem.y.values[[180, 40, 100, 15]]
    exact = point_series(horizon, dem, xs, ys, sky.times, earth_mask_deg=rover.comms.earth_mask_deg)
    sun_all, earth_all = [], []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        here = exact[exact["point"] == k]
        sample = sky.at(float(x), float(y), 0, 120)
        assert sample.sun_fraction.shape == (121,)
        sun_all.append(np.abs(sample.sun_fraction - here["sun_fraction"].to_numpy()).max())
        earth_all.append((sample.earth_visible == here["earth_visible"].to_numpy()).mean())
        np.testing.assert_allclose(sample.sun_elevation_deg, here["sun_elevation_deg"].to_numpy(), atol=0.01)
    assert exact["sun_fraction"].mean() > 0.2  # the Sun is up: the comparison means something
    assert max(sun_all) < 0.02
    assert min(earth_all) > 0.98
    one = sky.at(float(xs[0]), float(ys[0]), 7)
    assert one.sun_fraction.shape == (1,)
    assert one.sun_fraction[0] == sky.at(float(xs[0]), float(ys[0]), 0, 120).sun_fraction[7]
