"""``lupex plan`` end to end on a small synthetic site: the files of the contract, the
constraints in the timeline, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lupex.cli.main import run
from lupex.files import MANIFEST_NAME
from lupex.geo import latlon_to_xy, xy_to_latlon
from lupex.planning.costmap import costmap
from lupex.rover.model import RoverConfig
from lupex.terrain.derive import derive_layers
from lupex.terrain.readers import read_dem

START = "2028-08-20T00:00:00Z"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A 300 x 300 px tile at 20 m, its sky over 15 days, and three sunny allowed places."""
    root = tmp_path_factory.mktemp("plan")
    dem_path = root / "site.tif"
    assert run(["-q", "terrain", "synth", "--size", "300", "--resolution", "20", "--center-lat", "-89.45",
                "--center-lon", "222.7", "--seed", "7", "--out", str(dem_path), "--no-quicklook"]) == 0
    assert run(["-q", "illuminate", str(dem_path), "--start", START, "--end", "2028-09-05T00:00:00Z",
                "--azimuths", "32", "--out", str(root / "sky")]) == 0
    dem = read_dem(dem_path)
    allowed = np.isfinite(costmap(derive_layers(dem, read_dem(root / "site_rocks.tif")), RoverConfig()).values)
    score = np.where(allowed, read_dem(root / "sky" / "sun_fraction_mean.tif").values
                     + read_dem(root / "sky" / "earth_visible_fraction.tif").values, -1.0)
    places = []
    for r, c in ((40, 40), (150, 150), (260, 250)):
        window = score[r - 25:r + 25, c - 25:c + 25]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        lat, lon = xy_to_latlon(dem.x.values[c - 25 + j], dem.y.values[r - 25 + i])
        places.append(f"{float(lat):.6f},{float(lon):.5f}")
    return {"dem": dem_path, "sky": root / "sky", "places": places, "root": root}


def plan_args(site, out: Path, *extra: str) -> list[str]:
    return ["-q", "plan", str(site["dem"]), f"--start={site['places'][0]}",
            f"--waypoints={site['places'][1]};{site['places'][2]}", "--start-time", START, "--days", "14",
            "--sky", str(site["sky"]), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def planned(site):
    out = site["root"] / "plan"
    assert run(plan_args(site, out)) == 0
    return out


def test_plan_writes_the_files_of_the_contract(planned):
    assert sorted(p.name for p in planned.iterdir()) == sorted(
        [MANIFEST_NAME, "plan.geojson", "plan.png", "summary.json", "timeline.csv"])
    summary = json.loads((planned / "summary.json").read_text())
    assert {"reached", "distance_m", "duration_h", "min_soc", "shadow_max_h"} <= set(summary)
    assert summary["reached"] is True and summary["distance_m"] > 1000.0
    table = pd.read_csv(planned / "timeline.csv")
    assert list(table.columns[:7]) == ["time", "x", "y", "activity", "soc", "sun_fraction", "earth_visible"]
    assert summary["duration_h"] == pytest.approx(len(table[1:]) * 0.25)
    route = json.loads((planned / "plan.geojson").read_text())["features"][0]
    assert route["geometry"]["type"] == "LineString"
    vertices = len(route["geometry"]["coordinates"])
    assert all(len(route["properties"][key]) == vertices for key in ("times", "soc", "sun_fraction", "earth_visible"))


def test_the_timeline_keeps_the_rover_within_its_limits_and_ends_at_the_goal(site, planned):
    summary = json.loads((planned / "summary.json").read_text())
    table = pd.read_csv(planned / "timeline.csv")
    rover = RoverConfig()
    assert table["soc"].min() >= rover.battery.min_soc
    assert summary["min_soc"] == pytest.approx(table["soc"].min(), abs=1e-6)
    assert summary["shadow_max_h"] <= rover.thermal.max_shadow_h
    # Every drive starts with the Earth in view.
    starts = (table["activity"] == "drive") & (table["activity"].shift() != "drive")
    assert table.loc[starts.shift(-1, fill_value=False), "earth_visible"].all()
    lat, lon = (float(v) for v in site["places"][2].split(","))
    x, y = latlon_to_xy(lat, lon)
    assert np.hypot(table["x"].iloc[-1] - x, table["y"].iloc[-1] - y) < 20.0
    distance = np.hypot(np.diff(table["x"]), np.diff(table["y"])).sum()
    assert distance == pytest.approx(summary["distance_m"], rel=0.01)


def test_an_unreachable_goal_names_the_blocking_constraint(site, tmp_path, capsys):
    out = tmp_path / "short"
    args = plan_args(site, out)
    args[args.index("14")] = "1"
    assert run(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lupex: error: the last waypoint cannot be reached within 1 days: blocked by time")
    assert not out.exists()


@pytest.mark.parametrize(("change", "message"), [
    (("--start=-80,0",), "lies outside the grid"),
    (("--waypoints=-89.45",), "is not LAT,LON"),
    (("--start-time", "2100-01-01"), "ephemeris"),
    (("--days", "-2"), "--days must be positive"),
])
def test_bad_input_gets_one_line_and_status_2(site, tmp_path, capsys, change, message):
    args = plan_args(site, tmp_path / "bad") + list(change)
    assert run(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lupex: error:") and message in err and "\n" not in err
    assert not (tmp_path / "bad").exists()


def test_an_invalid_rover_file_is_refused(site, tmp_path, capsys):
    rover = tmp_path / "rover.toml"
    rover.write_text("[battery]\ncapacity_wh = -5\n")
    assert run(plan_args(site, tmp_path / "bad", "--rover", str(rover))) == 2
    assert capsys.readouterr().err.startswith("lupex: error:")


def test_a_start_on_forbidden_ground_says_why(site, tmp_path, capsys):
    dem = read_dem(site["dem"])
    layers = derive_layers(dem, read_dem(site["root"] / "site_rocks.tif"))
    r, c = np.argwhere(layers["slope"].values > 25.0)[0]
    lat, lon = xy_to_latlon(dem.x.values[c], dem.y.values[r])
    args = plan_args(site, tmp_path / "bad")
    args[3] = f"--start={float(lat):.7f},{float(lon):.6f}"
    assert run(args) == 2
    assert "the start is on a forbidden cell: its slope" in capsys.readouterr().err
