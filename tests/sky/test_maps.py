"""Illumination maps of a smooth sphere against the ephemeris at every pixel's own position."""

import numpy as np
import pytest
from affine import Affine

from lupex.errors import LupexError
from lupex.geo import latlon_to_xy, xy_to_latlon
from lupex.raster import grid_array, polar_crs
from lupex.sky.ephemeris import sun_earth_topocentric
from lupex.sky.illumination import disk_visible_fraction
from lupex.sky.maps import IlluminationConfig, illumination_maps
from lupex.sky.tracks import epochs


def _flat_tile(center_lat, center_lon, size_px, pixel_m):
    xc, yc = latlon_to_xy(center_lat, center_lon)
    half = size_px * pixel_m / 2
    transform = Affine(pixel_m, 0, float(xc) - half, 0, -pixel_m, float(yc) + half)
    return grid_array(np.zeros((size_px, size_px), np.float32), transform, polar_crs(), "height", "m")


def test_smooth_sphere_matches_the_ephemeris_at_each_pixel():
    # A 60 km tile at 85 S: the local vertical tilts by 1 deg across it, more than the Sun's
    # elevation changes in hours. A flat horizon (0 deg) at every pixel; the maps' tilt
    # correction must reproduce the Sun's disk seen from each pixel's own place.
    dem = _flat_tile(-85.0, 30.0, 5, 15_000.0)
    config = IlluminationConfig(start="2031-03-01", end="2031-05-01", step_h=2.0)
    horizon = np.zeros((360, 5, 5), np.float32)
    maps = illumination_maps(dem, horizon, config)
    times = epochs(config.start, config.end, config.step_h)
    for i, j in [(0, 0), (2, 2), (4, 1), (1, 4)]:
        lat, lon = xy_to_latlon(dem.x.values[j], dem.y.values[i])
        sky = sun_earth_topocentric(float(lat), float(lon), times)
        sun = disk_visible_fraction(sky.sun.elevation_deg, sky.sun.angular_radius_deg).mean()
        earth = (sky.earth.elevation_deg > 0).mean()
        assert maps["sun_fraction_mean"].values[i, j] == pytest.approx(sun, abs=2e-3)
        assert maps["earth_visible_fraction"].values[i, j] == pytest.approx(earth, abs=0.01)
    assert 0.1 < maps["sun_fraction_mean"].values.mean() < 0.9
    assert not maps["psr"].values.any()


def test_psr_and_darkness_near_the_pole():
    dem = _flat_tile(-89.45, 222.7, 3, 100.0)
    config = IlluminationConfig(start="2030-01-01", end="2030-03-01", step_h=1.0)
    walled = illumination_maps(dem, np.full((72, 3, 3), 3.0, np.float32), config)
    assert walled["psr"].values.all()                       # the Sun never tops 2.4 deg here
    assert (walled["sun_fraction_mean"].values == 0).all()
    span_h = (np.datetime64("2030-03-01") - np.datetime64("2030-01-01")) / np.timedelta64(1, "h")
    assert walled["max_darkness_h"].values == pytest.approx(np.full((3, 3), span_h + 1))
    open_sky = illumination_maps(dem, np.full((72, 3, 3), 1.0, np.float32), config)
    assert not open_sky["psr"].values.any()                  # its disk top clears 1.3 deg at every azimuth


def test_azimuths_must_be_equally_spaced_from_zero():
    import xarray as xr

    dem = _flat_tile(-89.0, 0.0, 3, 100.0)
    horizon = xr.DataArray(np.zeros((8, 3, 3)), dims=("azimuth", "y", "x"), coords={"azimuth": np.arange(8) * 40.0})
    with pytest.raises(LupexError, match="equally spaced"):
        illumination_maps(dem, horizon, IlluminationConfig(start="2030-01-01", end="2030-01-02"))
