"""Horizon cubes on disk: quantisation, lazy reading, resume after interruption, identity checks."""

import numpy as np
import pytest
from affine import Affine

from lupex.errors import LupexError
from lupex.raster import grid_array, polar_crs
from lupex.sky.horizon_store import HORIZON_SCALE_DEG, open_horizon, write_horizon


def _dem(seed=0, shape=(20, 24)):
    heights = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return grid_array(heights, Affine(20, 0, 1000, 0, -20, 5000), polar_crs(), "height", "m")


def _fake_horizons(azimuths):
    a = np.asarray(azimuths)[:, None, None]
    rows, cols = np.mgrid[0:20, 0:24]
    return 3.0 * np.sin(np.radians(a)) + 0.01 * rows - 0.02 * cols + 0.001234


def test_round_trip_within_quantisation(tmp_path):
    dem = _dem()
    azimuths = np.arange(0, 360, 10.0)
    path = write_horizon(tmp_path / "h.nc", dem, azimuths, _fake_horizons, observer_height_m=2.0)
    horizon = open_horizon(path, dem)
    assert horizon.dims == ("azimuth", "y", "x")
    np.testing.assert_array_equal(horizon["azimuth"].values, azimuths)
    np.testing.assert_array_equal(horizon["x"].values, dem["x"].values)
    np.testing.assert_allclose(horizon.values, _fake_horizons(azimuths), atol=HORIZON_SCALE_DEG / 2 + 1e-6)
    assert not (tmp_path / "h.nc.part").exists()


def test_interrupted_run_resumes_from_the_last_chunk(tmp_path):
    dem = _dem()
    azimuths = np.arange(0, 360, 10.0)
    calls = []

    def failing(chunk):
        calls.append(chunk[0])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return _fake_horizons(chunk)

    with pytest.raises(KeyboardInterrupt):
        write_horizon(tmp_path / "h.nc", dem, azimuths, failing, chunk_azimuths=8)
    assert not (tmp_path / "h.nc").exists() and (tmp_path / "h.nc.part").exists()
    resumed = []

    def counting(chunk):
        resumed.append(chunk[0])
        return _fake_horizons(chunk)

    write_horizon(tmp_path / "h.nc", dem, azimuths, counting, chunk_azimuths=8)
    assert resumed == [160.0, 240.0, 320.0]   # chunks 0-1 were done before the interruption
    np.testing.assert_allclose(open_horizon(tmp_path / "h.nc", dem).values, _fake_horizons(azimuths),
                               atol=HORIZON_SCALE_DEG / 2 + 1e-6)


def test_a_part_file_for_other_settings_is_not_reused(tmp_path):
    dem = _dem()
    azimuths = np.arange(0, 360, 10.0)
    with pytest.raises(KeyboardInterrupt):
        write_horizon(tmp_path / "h.nc", dem, azimuths,
                      lambda c: (_ for _ in ()).throw(KeyboardInterrupt), observer_height_m=0.0)
    seen = []
    write_horizon(tmp_path / "h.nc", dem, azimuths, lambda c: seen.append(c[0]) or _fake_horizons(c),
                  observer_height_m=10.0)
    assert len(seen) == 5  # every chunk recomputed for the 10 m mast


def test_horizon_of_another_dem_is_refused(tmp_path):
    dem = _dem(seed=0)
    path = write_horizon(tmp_path / "h.nc", dem, np.arange(0, 360, 10.0), _fake_horizons)
    with pytest.raises(LupexError, match="other heights"):
        open_horizon(path, _dem(seed=1))
    with pytest.raises(LupexError, match="another grid"):
        open_horizon(path, _dem(seed=0, shape=(20, 25)))
    with pytest.raises(LupexError, match="already exists"):
        write_horizon(path, dem, np.arange(0, 360, 10.0), _fake_horizons)
