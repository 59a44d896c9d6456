"""Time series at points and along paths against the ephemeris and the maps."""

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from lupex.errors import LupexError
from lupex.geo import latlon_to_xy
from lupex.raster import grid_array, polar_crs
from lupex.sky.ephemeris import sun_earth_topocentric
from lupex.sky.illumination import disk_visible_fraction
from lupex.sky.maps import IlluminationConfig, illumination_maps
from lupex.sky.series import path_series, point_series
from lupex.sky.tracks import epochs


def _tile(size=5, pixel=200.0, lat=-89.45, lon=222.7):
    xc, yc = latlon_to_xy(lat, lon)
    half = size * pixel / 2
    transform = Affine(pixel, 0, float(xc) - half, 0, -pixel, float(yc) + half)
    return grid_array(np.zeros((size, size), np.float32), transform, polar_crs(), "height", "m")


def test_open_sky_point_follows_the_ephemeris():
    dem = _tile()
    times = epochs("2030-01-01", "2030-01-20", 3.0)
    x, y = float(dem.x[1]), float(dem.y[3])
    table = point_series(np.zeros((36, 5, 5)), dem, [x], [y], times)
    from lupex.geo import xy_to_latlon

    lat, lon = xy_to_latlon(x, y)
    sky = sun_earth_topocentric(float(lat), float(lon), times)
    np.testing.assert_allclose(table["sun_fraction"], disk_visible_fraction(sky.sun.elevation_deg,
                                                                             sky.sun.angular_radius_deg))
    np.testing.assert_array_equal(table["earth_visible"], sky.earth.elevation_deg > 0)
    np.testing.assert_allclose(table["earth_fraction"], disk_visible_fraction(sky.earth.elevation_deg,
                                                                               sky.earth.angular_radius_deg))
    walled = point_series(np.full((36, 5, 5), 3.0), dem, [x], [y], times)
    assert (walled["sun_fraction"] == 0).all()


def test_points_agree_with_the_maps_and_paths_with_points():
    dem = _tile()
    # Horizons smooth in azimuth, as terrain horizons sampled every degree are.
    rng = np.random.default_rng(5)
    azimuth = np.radians(np.arange(360.0))[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, (3, 5, 5))
    horizon = (0.6 + 0.5 * np.sin(azimuth + phase[0]) + 0.3 * np.sin(3 * azimuth + phase[1])
               + 0.2 * np.sin(7 * azimuth + phase[2])).astype(np.float32)
    config = IlluminationConfig(start="2030-01-01", end="2030-03-01", step_h=2.0)
    maps = illumination_maps(dem, horizon, config)
    times = epochs(config.start, config.end, config.step_h)
    series = point_series(horizon, dem, dem.x.values[[0, 4]], dem.y.values[[2, 1]], times)
    means = series.groupby("point")["sun_fraction"].mean().to_numpy()
    # The maps use the tile centre's sky and a tilt correction; the series the exact sky.
    np.testing.assert_allclose(means, maps["sun_fraction_mean"].values[[2, 1], [0, 4]], atol=5e-3)
    path = path_series(horizon, dem, series["x_m"][:40:7], series["y_m"][:40:7], series["time"][:40:7])
    np.testing.assert_allclose(path["sun_fraction"], series["sun_fraction"][:40:7])
    assert isinstance(path, pd.DataFrame) and list(path["point"]) == list(range(len(path)))


def test_places_off_the_dem_are_refused():
    dem = _tile()
    with pytest.raises(LupexError, match="lies outside the grid"):
        point_series(np.zeros((8, 5, 5)), dem, [0.0], [0.0], ["2030-01-01"])
    with pytest.raises(LupexError, match="as many times"):
        path_series(np.zeros((8, 5, 5)), dem, [dem.x[0], dem.x[1]], [dem.y[0], dem.y[0]], ["2030-01-01"])
