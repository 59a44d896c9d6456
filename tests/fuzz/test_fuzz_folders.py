"""Fuzzing the readers of lupex's own products: horizon cubes and thermal folders.

A horizon cube (``horizon.nc``) or a thermal folder that was damaged on disk, cut short by a
full disk or edited by hand is either read in full or refused with a LupexError, by
``lupex.sky.horizon_store.open_horizon`` and ``lupex.thermal.products.read_thermal``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from hypothesis import strategies as st

from lupex.errors import LupexError
from lupex.raster import grid_array, write_geotiff
from lupex.sky.horizon_store import open_horizon, write_horizon
from lupex.thermal.products import MANIFEST_NAME, THERMAL_STYLES, read_thermal, write_manifest
from tests.fuzz.conftest import fuzz, time_limit
from tests.fuzz.inputs import DEM_SHAPE, Fixed, apply_edits, byte_edits, small_dem, toml_values


@pytest.fixture(scope="module")
def dem() -> Fixed:
    return Fixed("the 12 x 12 DEM", small_dem())


@pytest.fixture(scope="module")
def horizon_bytes(dem, tmp_path_factory) -> Fixed:
    path = tmp_path_factory.mktemp("horizon") / "horizon.nc"
    azimuths = np.arange(8) * 45.0
    write_horizon(path, dem.value, azimuths, lambda az: np.stack([np.full(DEM_SHAPE, 2.0 + a / 90.0) for a in az]))
    return Fixed("a horizon cube of 8 azimuths", path.read_bytes())


def assert_nothing_printed(capsys) -> None:
    """The library prints nothing: no traceback of an ignored exception, no message of GDAL's."""
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == "", captured.err[-2000:]


def _read_horizon(path: Path, dem, observer_height_m: float | None = 0.0) -> None:
    """Open the cube and read every value of it: success, or a LupexError."""
    try:
        with time_limit():
            horizon = open_horizon(path, dem, observer_height_m)
            values = np.asarray(horizon.values)
        assert values.shape == (horizon.sizes["azimuth"], *DEM_SHAPE)
    except LupexError:
        pass


def check_horizon_bytes(capsys, dem, horizon_bytes, edits):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "horizon.nc"
        path.write_bytes(apply_edits(horizon_bytes.value, edits))
        _read_horizon(path, dem.value)
    assert_nothing_printed(capsys)


test_mutated_horizon_file, test_mutated_horizon_file_slow = fuzz(
    edits=byte_edits(15000, header=4096))(check_horizon_bytes)


attribute_values = st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(), st.text(max_size=8),
                             st.lists(st.integers(-3, 3), min_size=1, max_size=3))
"""Values a NetCDF attribute can hold: 64-bit integers, floats, text, short arrays."""


def check_horizon_attributes(capsys, dem, horizon_bytes, attributes, azimuths, observer_height_m):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "horizon.nc"
        path.write_bytes(horizon_bytes.value)
        with netCDF4.Dataset(path, "a") as nc:
            for key, value in attributes:
                nc.setncattr(key, np.asarray(value) if isinstance(value, list) else value)
            if azimuths is not None:
                nc["azimuth"][:] = np.asarray(azimuths, dtype=float)
        _read_horizon(path, dem.value, observer_height_m)
    assert_nothing_printed(capsys)


test_horizon_attributes, test_horizon_attributes_slow = fuzz(
    attributes=st.lists(st.tuples(st.sampled_from(["observer_height_m", "dem_fingerprint", "n_azimuths",
                                                   "lupex_horizon_format"]), attribute_values), max_size=3),
    azimuths=st.one_of(st.none(), st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=8, max_size=8)),
    observer_height_m=st.one_of(st.none(), st.sampled_from([0.0, 1.5])),
)(check_horizon_attributes)


# --- thermal folders --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def thermal_folder(dem, tmp_path_factory) -> Fixed:
    """A thermal folder of the small DEM: its four layers and thermal.json."""
    folder, dem = tmp_path_factory.mktemp("thermal"), dem.value
    ramp = np.linspace(60.0, 250.0, dem.size, dtype=np.float32).reshape(dem.shape)
    layers = {"tmax": ramp, "tmean": ramp * 0.6, "ice_depth_m": np.where(ramp < 110, 0.2, np.nan).astype(np.float32),
              "cold_trap": (ramp < 110).astype(np.uint8)}
    for name, values in layers.items():
        write_geotiff(grid_array(values, dem.rio.transform(), dem.rio.crs, name, ""), folder / f"{name}.tif")
    write_manifest(folder, dem, {"start": "2028-01-01", "step": "4h"})
    read_thermal(folder, dem)  # the folder as built is read
    return Fixed("a thermal folder of the 12 x 12 DEM", folder)


def _copy(folder: Fixed, into: Path) -> Path:
    target = into / "thermal"
    shutil.copytree(folder.value, target)
    return target


def _read_thermal(folder: Path, dem) -> None:
    try:
        with time_limit():
            read_thermal(folder, dem)
    except LupexError:
        pass


def check_thermal_manifest_bytes(capsys, dem, thermal_folder, edits):
    with tempfile.TemporaryDirectory() as name:
        folder = _copy(thermal_folder, Path(name))
        manifest = folder / MANIFEST_NAME
        manifest.write_bytes(apply_edits(manifest.read_bytes(), edits))
        _read_thermal(folder, dem.value)
    assert_nothing_printed(capsys)


test_thermal_manifest_bytes, test_thermal_manifest_bytes_slow = fuzz(
    edits=byte_edits(200, header=200))(check_thermal_manifest_bytes)


def check_thermal_manifest_values(capsys, dem, thermal_folder, document):
    with tempfile.TemporaryDirectory() as name:
        folder = _copy(thermal_folder, Path(name))
        manifest = folder / MANIFEST_NAME
        if isinstance(document, dict) and document.pop("keep_fingerprint", False):
            document["dem_fingerprint"] = json.loads(manifest.read_text())["dem_fingerprint"]
        manifest.write_text(json.dumps(document))
        _read_thermal(folder, dem.value)
    assert_nothing_printed(capsys)


test_thermal_manifest_values, test_thermal_manifest_values_slow = fuzz(
    document=st.one_of(toml_values, st.dictionaries(st.sampled_from(["dem_fingerprint", "keep_fingerprint", "step"]),
                                                    st.one_of(st.booleans(), toml_values), max_size=3)),
)(check_thermal_manifest_values)


def check_thermal_layer_bytes(capsys, dem, thermal_folder, layer, edits):
    with tempfile.TemporaryDirectory() as name:
        folder = _copy(thermal_folder, Path(name))
        path = folder / f"{layer}.tif"
        path.write_bytes(apply_edits(path.read_bytes(), edits))
        _read_thermal(folder, dem.value)
    assert_nothing_printed(capsys)


test_thermal_layer_bytes, test_thermal_layer_bytes_slow = fuzz(
    layer=st.sampled_from(sorted(THERMAL_STYLES)), edits=byte_edits(1400))(check_thermal_layer_bytes)
