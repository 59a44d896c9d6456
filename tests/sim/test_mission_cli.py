"""``lupex mission`` end to end on a small site: the files of the contract, byte-identical reruns,
interruption, and bad input refused before any work."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lupex.mission import MissionConfig, MissionInterrupted, run_mission

SMALL = """seed = 5
days = 3
landing_utc = "2028-09-01T00:00:00Z"
horizon_azimuths = 48
thermal_max_pixels = 20
[site]
size = 120
resolution_m = 20.0
center_lat = -89.45
center_lon = 222.7
"""

SUMMARY_KEYS = {"status", "reason", "days_simulated", "distance_km", "drills", "max_water_wt_pct",
                "mean_water_wt_pct_at_drills", "min_soc", "energy_in_kwh", "energy_out_kwh", "downlinked_mb",
                "hazards_avoided", "seed"}


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mission") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def first(config_file, tmp_path_factory):
    from lupex.cli.main import run
    out = tmp_path_factory.mktemp("first") / "out"
    assert run(["-q", "mission", "--config", str(config_file), "--out", str(out)]) == 0
    return out


def test_the_outputs_of_the_contract(first):
    summary = json.loads((first / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] in ("completed", "lost") and summary["seed"] == 5
    assert summary["days_simulated"] == pytest.approx(3.0) or summary["status"] == "lost"
    assert summary["stages_completed"] == ["terrain", "hazards", "sky", "thermal", "ice", "site", "plan",
                                           "simulation", "report"]
    for name in summary["outputs"]:
        assert (first / name).exists(), name
    for name in ("telemetry.parquet", "events.csv", "map.png", "timeline.png", "report.html", "holes.csv"):
        assert name in summary["outputs"]
    telemetry = pd.read_parquet(first / "telemetry.parquet")
    assert len(telemetry) == round(summary["days_simulated"] * 96)
    assert telemetry["soc"].min() == pytest.approx(summary["min_soc"]) or summary["min_soc"] == 1.0
    assert summary["energy_in_kwh"] == pytest.approx(telemetry["solar_w"].sum() * 0.25 / 1000, rel=1e-6)
    events = pd.read_csv(first / "events.csv")
    assert list(events.columns) == ["time", "kind", "x_m", "y_m", "detail"]
    assert events["kind"].iloc[0] == "landing" and events["kind"].iloc[-1] == "end"
    assert (events["kind"] == "drill").sum() == summary["drills"]
    html = (first / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "src='http" not in html


def test_the_same_config_gives_byte_identical_summary_and_telemetry(config_file, first, tmp_path):
    from lupex.cli.main import run
    again = tmp_path / "again"
    assert run(["-q", "mission", "--config", str(config_file), "--out", str(again)]) == 0
    for name in ("summary.json", "telemetry.parquet", "events.csv"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name


def test_an_interrupted_mission_keeps_valid_partial_outputs(config_file, tmp_path):
    from lupex.config import build, load_toml
    config = build(MissionConfig, load_toml(config_file))

    def interrupt(done: int, total: int) -> None:
        if done > 40:
            raise KeyboardInterrupt

    out = tmp_path / "cut"
    with pytest.raises(MissionInterrupted) as stop:
        run_mission(config, out, sim_progress=interrupt)
    summary = json.loads((out / "summary.json").read_text())
    assert summary == stop.value.summary
    assert summary["status"] == "interrupted" and "simulation" not in summary["stages_completed"]
    assert "sky" in summary["stages_completed"]
    for name in summary["outputs"]:
        assert (out / name).exists(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("extra,fragment", [
    ('landing_utc = "2070-01-01"', "outside the ephemeris"),
    ("[sim]\nstrategy = 'random'", "strategy"),
    ("[rover.battery]\ncapacity_wh = -5", "capacity_wh"),
    ("[site]\nsize = 20\nresolution_m = 20.0\ncenter_lat = -89.45", "too small"),
])
def test_bad_input_is_refused_before_any_work(cli, tmp_path, extra, fragment):
    from tests.conftest import assert_one_line_error
    path = tmp_path / "bad.toml"
    path.write_text("days = 3\n" + extra + "\n")
    assert_one_line_error(cli("mission", "--config", path, "--out", tmp_path / "o"), fragment)
    assert not (tmp_path / "o").exists()
