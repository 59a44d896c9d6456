"""``lupex targets``: the files it writes, their agreement with each other, and bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from lupex.cli.main import run
from lupex.geo import xy_to_latlon
from lupex.ice import IceParams, water_prior, write_prior
from lupex.ice.prior_folder import read_prior
from lupex.planning.costmap import costmap
from lupex.planning.targets import TargetConfig, TargetSky, drill_information_bits, plan_targets, service_cost
from lupex.raster import like, write_geotiff
from lupex.rover.model import RoverConfig
from lupex.sky.horizon_store import open_horizon
from lupex.terrain.derive import derive_layers
from lupex.terrain.outputs import rocks_path_for
from lupex.terrain.readers import read_dem
from tests.conftest import assert_one_line_error
from tests.planning.timed_reference import exhaustive_arrival


def make_prior(dem_path: Path, folder: Path) -> None:
    """A prior over a synthetic DEM: ice stable at the surface on the lowest tenth of the ground,
    deeper with height, and nowhere above the 45th percentile."""
    dem = read_dem(dem_path)
    low, high = np.nanpercentile(dem.values, [10, 45])
    depth = np.clip((dem.values - low) / (high - low) * 1.5, 0.0, None)
    depth = np.where(depth < 1.5, depth, np.nan).astype(np.float32)
    params = IceParams()
    prior = water_prior(xr.Dataset({"ice_depth_m": like(dem, depth, "ice_depth_m", "m")}), params)
    folder.mkdir()
    write_prior(prior, params, dem, folder, "synthetic")


def place(dem, rc) -> str:
    lat, lon = xy_to_latlon(float(dem["x"][rc[1]]), float(dem["y"][rc[0]]))
    return f"{float(lat):.7f},{float(lon):.7f}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("targets")
    dem_path = folder / "dem.tif"
    assert run(["-q", "terrain", "synth", "--size", "80", "--resolution", "20", "--center-lat", "-89.5",
                "--seed", "3", "--out", str(dem_path), "--no-quicklook"]) == 0
    make_prior(dem_path, folder / "prior")
    dem = read_dem(dem_path)
    cost = costmap(derive_layers(dem, read_dem(rocks_path_for(dem_path))), RoverConfig()).values
    allowed = np.argwhere(np.isfinite(cost))
    forbidden = np.argwhere(~np.isfinite(cost))
    centre = np.array(cost.shape) // 2
    start = allowed[np.argmin(((allowed - centre) ** 2).sum(axis=1))]
    blocked = forbidden[np.argmin(((forbidden - centre) ** 2).sum(axis=1))]
    return {"dem": dem_path, "prior": folder / "prior", "start": place(dem, start), "start_rc": tuple(start),
            "forbidden": place(dem, blocked), "grid": dem}


def targets(cli, site, out, *extra):
    return cli("-q", "targets", site["dem"], "--prior", site["prior"], "--start", site["start"], "--hours", 30,
               "--out", out, *extra)


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_files_agree_with_each_other_and_with_the_budget(cli, site, tmp_path):
    result = targets(cli, site, tmp_path / "out", "--count", 6, "--energy-wh", 6000)
    assert result.code == 0, result.err
    assert result.err == ""
    out = tmp_path / "out"
    rows = read_rows(out / "targets.csv")
    assert list(rows[0]) == ["order", "stop", "lat", "lon", "x_m", "y_m", "value_bits", "arrival_h", "departure_h",
                             "weh_top1m_mean_wt_pct", "weh_top1m_std_wt_pct", "ice_probability"]
    # The start first, at the centre of the cell holding the given place.
    dem = site["grid"]
    r, c = site["start_rc"]
    assert float(rows[0]["x_m"]) == pytest.approx(float(dem["x"][c]))
    assert float(rows[0]["y_m"]) == pytest.approx(float(dem["y"][r]))
    assert [int(row["order"]) for row in rows] == list(range(len(rows)))
    stops = rows[1:]
    assert 1 <= len(stops) <= 6
    times = [(float(row["arrival_h"]), float(row["departure_h"])) for row in stops]
    for (arrive, leave), (next_arrive, _) in zip(times, [*times[1:], (np.inf, 0.0)], strict=True):
        assert leave == pytest.approx(arrive + 3.5, abs=1e-3)  # drill 1.5 m and one analysis
        assert next_arrive > leave
    assert times[-1][1] <= 30.0
    # Every stop is worth something: it lies on ground where ice may be, and the summary adds them up.
    assert all(float(row["value_bits"]) > 0 and float(row["ice_probability"]) > 0 for row in stops)
    total = sum(float(row["value_bits"]) for row in stops)
    assert f"{len(stops)} of " in result.out and f"{total:.1f} bit" in result.out

    collection = json.loads((out / "targets.geojson").read_text())
    features = collection["features"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    line = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert len(line) == 1 and len(points) <= 7
    assert [f["properties"]["role"] for f in points].count("stop") == len(stops)
    route = np.array(line[0]["geometry"]["coordinates"])
    assert ((-180.0 <= route[:, 0]) & (route[:, 0] < 180.0)).all() and (route[:, 1] < -89.0).all()
    lon_lat = {(round(f["geometry"]["coordinates"][0], 5), round(f["geometry"]["coordinates"][1], 5)) for f in points
               if f["properties"]["role"] != "skipped"}
    assert lon_lat <= {(round(a, 5), round(b, 5)) for a, b in route}  # the route passes through every stop
    start = next(f for f in points if f["properties"]["role"] == "start")
    assert list(route[0]) == start["geometry"]["coordinates"]
    start_lat, start_lon = (float(v) for v in site["start"].split(","))
    assert start["geometry"]["coordinates"][1] == pytest.approx(start_lat, abs=1e-3)  # within the 20 m cell
    assert np.mod(start["geometry"]["coordinates"][0] - start_lon + 180.0, 360.0) - 180.0 == pytest.approx(0.0, abs=0.1)
    assert (out / "targets.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_same_input_gives_the_same_files(cli, site, tmp_path):
    for name in ("a", "b"):
        assert targets(cli, site, tmp_path / name, "--count", 5).code == 0
    for name in ("targets.csv", "targets.geojson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_psr_layer_from_an_illumination_folder_is_used(cli, site, tmp_path):
    dem = site["grid"]
    folder = tmp_path / "illumination"
    folder.mkdir()
    write_geotiff(like(dem, np.zeros(dem.shape, dtype=np.uint8), "psr", "1"), folder / "psr.tif")
    result = targets(cli, site, tmp_path / "out", "--count", 4, "--illumination", folder)
    assert result.code == 0, result.err


def test_outputs_are_kept_unless_overwrite(cli, site, tmp_path):
    assert targets(cli, site, tmp_path / "out", "--count", 3).code == 0
    before = (tmp_path / "out" / "targets.csv").read_bytes()
    assert_one_line_error(targets(cli, site, tmp_path / "out", "--count", 4), "already exists", "--overwrite")
    assert (tmp_path / "out" / "targets.csv").read_bytes() == before
    assert targets(cli, site, tmp_path / "out", "--count", 4, "--overwrite").code == 0


@pytest.mark.parametrize("change,fragment", [
    ({"--start": "-89.0,0"}, "outside the grid"),
    ({"--start": "forbidden"}, "may not drive on"),
    ({"--start": "north"}, "LAT,LON"),
    ({"--start": "-95,0"}, "latitude"),
    ({"--hours": "0"}, "time_budget_h"),
    ({"--hours": "-3"}, "time_budget_h"),
    ({"--energy-wh": "0"}, "energy_budget_wh"),
    ({"--count": "0"}, "count"),
    ({"--rover": "bad_rover"}, "bogus"),
    ({"--config": "bad_config"}, "bin edge"),
    ({"--illumination": "empty"}, "psr.tif"),
    ({"--illumination": "small_psr"}, "not on the grid"),
    ({"--prior": "other_prior"}, "another DEM"),
    ({"--prior": "empty"}, "not a prior folder"),
])
def test_bad_input_is_one_line_and_writes_nothing(cli, site, tmp_path, change, fragment):
    empty = tmp_path / "empty"
    empty.mkdir()
    bad_rover = tmp_path / "rover.toml"
    bad_rover.write_text("bogus = 1\n")
    bad_config = tmp_path / "targets.toml"
    bad_config.write_text("drill_depth_m = 0.75\n")
    small = tmp_path / "small_psr"
    small.mkdir()
    write_geotiff(like(site["grid"][:10, :10], np.zeros((10, 10), dtype=np.uint8), "psr", "1"), small / "psr.tif")
    named = {"forbidden": site["forbidden"], "bad_rover": bad_rover, "bad_config": bad_config, "empty": empty,
             "small_psr": small}
    if change.get("--prior") == "other_prior":
        other = tmp_path / "other.tif"
        assert run(["-q", "terrain", "synth", "--size", "80", "--resolution", "20", "--center-lat", "-89.5",
                    "--seed", "4", "--out", str(other), "--no-quicklook"]) == 0
        make_prior(other, tmp_path / "other_prior")
        named["other_prior"] = tmp_path / "other_prior"
    options = {"--prior": site["prior"], "--start": site["start"], "--hours": "30"}
    options.update({key: named.get(value, value) for key, value in change.items()})
    args = [part for key, value in options.items() for part in (key, value)]
    out = tmp_path / "out"
    assert_one_line_error(cli("-q", "targets", site["dem"], *args, "--out", out), fragment)
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def sky_dir(site, tmp_path_factory):
    folder = tmp_path_factory.mktemp("targets-sky")
    assert run(["-q", "horizon", str(site["dem"]), "--azimuths", "32", "--out", str(folder / "horizon.nc")]) == 0
    return folder


@pytest.fixture(scope="module")
def open_start(site, sky_dir):
    """The allowed cell with the lowest highest horizon (the centre lies in a shadowed hollow)."""
    dem = read_dem(site["dem"])
    highest = np.asarray(open_horizon(sky_dir / "horizon.nc", dem)).max(axis=0)
    cost = costmap(derive_layers(dem, read_dem(rocks_path_for(site["dem"]))), RoverConfig()).values
    rc = np.unravel_index(np.argmin(np.where(np.isfinite(cost), highest, np.inf)), cost.shape)
    return tuple(int(v) for v in rc)


def test_time_dependent_legs_are_the_exhaustive_earliest_arrivals(site, sky_dir, open_start):
    """With the sky, every leg of the plan arrives at the tick the exhaustive time-expanded Dijkstra
    finds from the leg's departure step, and the candidates are nodes of distinct lattice blocks."""
    dem = read_dem(site["dem"])
    rover = RoverConfig()
    config = TargetConfig(time_budget_h=40.0, count=5)
    cost = costmap(derive_layers(dem, read_dem(rocks_path_for(site["dem"]))), rover)
    prior, _, _ = read_prior(site["prior"], dem)
    value = drill_information_bits(prior, config.drill_depth_m, config.noise_wt_pct)
    sky = TargetSky(dem, open_horizon(sky_dir / "horizon.nc", dem), "2028-09-01T00:00:00Z",
                    rocks=read_dem(rocks_path_for(site["dem"])))
    start_xy = (float(dem["x"][open_start[1]]), float(dem["y"][open_start[0]]))
    found = plan_targets(value, cost, start_xy, rover, config, 20.0, sky)
    block = sky.plan.node_spacing_px(20.0)
    cells = np.vstack([[found.start_rc], np.column_stack([found.candidates.rows, found.candidates.cols])])
    assert len({(r // block, c // block) for r, c in cells}) == len(cells)
    assert found.plan.stops, "the plan should drill somewhere"

    cand = found.candidates
    legs = sky.legs(np.column_stack([[start_xy[0], *cand.x], [start_xy[1], *cand.y]]), rover, config.time_budget_h)
    service_h, _ = service_cost(rover, config)
    step_h, tick_h = legs.step_h, legs.model.tick_h
    depart, here = 0.0, 0
    for stop in found.plan.stops:
        first_step = math.ceil(depart / step_h - 1e-9)
        (ticks, _, _), _ = exhaustive_arrival(legs.lattice, legs.model.from_step(first_step), legs.nodes[here],
                                              [legs.nodes[stop.index]], legs.model.charge_q(rover.battery.initial_soc))
        assert stop.arrival_h == pytest.approx(first_step * step_h + ticks * tick_h)
        assert stop.departure_h == pytest.approx(stop.arrival_h + service_h)
        depart, here = stop.departure_h, stop.index
    route = [tuple(rc) for rc in found.route]
    assert route[0] == tuple(found.start_rc) and route[-1] == (cand.rows[here - 1], cand.cols[here - 1])


def test_targets_with_the_sky_from_the_command_line(cli, site, sky_dir, open_start, tmp_path):
    result = cli("-q", "targets", site["dem"], "--prior", site["prior"], "--start", place(site["grid"], open_start),
                 "--hours", 40, "--count", 4, "--sky", sky_dir, "--start-time", "2028-09-01", "--out", tmp_path / "out")
    assert result.code == 0, result.err
    rows = read_rows(tmp_path / "out" / "targets.csv")
    arrivals = [float(row["arrival_h"]) for row in rows[1:]]
    assert arrivals == sorted(arrivals) and len(rows) >= 2
    bad = cli("-q", "targets", site["dem"], "--prior", site["prior"], "--start", site["start"], "--hours", 30,
              "--sky", tmp_path, "--out", tmp_path / "other")
    assert_one_line_error(bad, "holds no horizon.nc")
    late = targets(cli, site, tmp_path / "late", "--sky", sky_dir, "--start-time", "2199-01-01")
    assert_one_line_error(late, "")
