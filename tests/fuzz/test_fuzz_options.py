"""Fuzzing the command line's numeric options with any number: nan, inf, huge, tiny, negative.

``lupex sky``, ``lupex geo``, ``lupex thermal point``, ``lupex terrain synth`` and ``lupex
terrain crop`` either succeed or exit 2 with one ``lupex: error:`` line; the two that write
files leave them all on success and none on failure.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import event
from hypothesis import strategies as st

from tests.fuzz.conftest import entries, fuzz
from tests.fuzz.inputs import Fixed, numbers, write_small_geotiff

option_numbers = st.one_of(
    numbers.map(lambda value: repr(value) if isinstance(value, int) or math.isfinite(value) else str(value)),
    st.sampled_from(["1e999", "-1e999", "NaN", "-nan", "Infinity", "1_000", "0x10", "", " 5", "1e-400", "-0"]),
)
"""A numeric option's text: any number as Python writes it, and some that only parse as one by luck."""


def plausible(low: float, high: float) -> st.SearchStrategy:
    """Option text that is mostly a number in [low, high] (so that commands also succeed), else any."""
    inside = st.floats(low, high, allow_nan=False).map(repr)
    return st.one_of(*[inside] * 6, option_numbers)


def check_sky(lupex, lat, lon, height, time):
    _ran(lupex("sky", "--lat", lat, "--lon", lon, "--height", height, "--time", time, "--json"))


test_sky_options, test_sky_options_slow = fuzz(
    lat=plausible(-90, 90), lon=plausible(-720, 720), height=plausible(-2e6, 1e8),
    time=st.sampled_from(["2030-01-01T00:00:00Z", "1850-01-01", "2028-02-30", "now"]),
)(check_sky)


def check_geo(lupex, first, second, to_xy):
    if to_xy:
        _ran(lupex("geo", "to-xy", "--lat", first, "--lon", second, "--json"))
    else:
        _ran(lupex("geo", "to-latlon", "--x", first, "--y", second, "--json"))


test_geo_options, test_geo_options_slow = fuzz(
    first=plausible(-9e6, 9e6), second=plausible(-9e6, 9e6), to_xy=st.booleans())(check_geo)


def check_thermal_point(lupex, lat, lon, albedo, slope, aspect, years):
    args = ["thermal", "point", "--lat", lat, "--lon", lon, "--slope", slope, "--aspect", aspect, "--years", years]
    _ran(lupex(*args, *(["--albedo", albedo] if albedo is not None else []), "--json"))


test_thermal_point_options, test_thermal_point_options_slow = fuzz(
    lat=plausible(-90, 90), lon=plausible(-720, 720), albedo=st.one_of(st.none(), plausible(0.01, 0.9)),
    slope=plausible(0, 60), aspect=plausible(-720, 720), years=st.sampled_from(["1"] * 6 + ["-1", "0", "1e3", "x"]),
)(check_thermal_point)


def _ran(result) -> None:
    event("succeeded" if result.code == 0 else "refused: " + result.err[14:60])


def _outputs_all_or_none(result, folder: Path, before: set[str], written: set[str]) -> None:
    _ran(result)
    after = entries(folder)
    if result.code == 0:
        assert after == before | written, (after - before, written)
    else:
        assert after == before, after - before


def check_synth(lupex, size, resolution, lat, lon):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        result = lupex("-q", "terrain", "synth", "--size", size, "--resolution", resolution, "--center-lat", lat,
                       "--center-lon", lon, "--seed", "1", "--no-quicklook", "--out", folder / "dem.tif")
        _outputs_all_or_none(result, folder, set(), {"dem.tif", "dem_rocks.tif"})


test_synth_options, test_synth_options_slow = fuzz(
    size=st.one_of(*[st.integers(16, 40).map(str)] * 4, st.integers(-4, 15).map(str),
                   st.sampled_from(["16385", "1000000000", "-99", "1.5", "nan"])),
    resolution=plausible(1.0, 200.0),
    lat=plausible(-90, -45),
    lon=plausible(-400, 400),
)(check_synth)


@pytest.fixture(scope="module")
def small_geotiff(tmp_path_factory) -> Fixed:
    return Fixed("the 12 x 12 GeoTIFF", write_small_geotiff(tmp_path_factory.mktemp("crop") / "dem.tif"))


def check_crop(lupex, monkeypatch, small_geotiff, lat, lon, size_km, resolution):
    monkeypatch.setenv("LUPEX_MEMORY_LIMIT", "256MiB")  # at most about 1400 x 1400 pixels: seconds, not minutes
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        result = lupex("-q", "terrain", "crop", small_geotiff.value, "--center-lat", lat, "--center-lon", lon,
                       "--size-km", size_km, "--resolution", resolution, "--out", folder / "tile.tif")
        _outputs_all_or_none(result, folder, set(), {"tile.tif"})


test_crop_options, test_crop_options_slow = fuzz(
    lat=st.one_of(plausible(-90, -89.997), st.just("-90")), lon=plausible(-400, 400),
    size_km=st.one_of(plausible(0.05, 0.3), st.sampled_from(["327", "1e308"])),
    resolution=st.one_of(plausible(5.0, 50.0), st.sampled_from(["0.02", "1e-300"])),
)(check_crop)
