"""The up-front estimate of a mission's time: its calibration, its scaling, and the CLI's notice."""

from __future__ import annotations

import pytest

from lupex import mission as mission_module
from lupex.mission import MissionConfig, site_grid
from lupex.mission_cost import LONG_RUN_S


def cost_of(**fields):
    config = MissionConfig(**fields)
    return config.cost(*site_grid(config, None))


def test_the_default_mission_is_estimated_at_its_measured_time():
    # 254 s measured stage by stage at commit 9b63f97 (2 cores), the calibration of the rates.
    cost = cost_of()
    assert cost.seconds == pytest.approx(254.0, rel=0.05)
    assert not cost.long and "estimated 4 min" in cost.describe()


def test_stages_scale_with_what_drives_them():
    base, long = cost_of(), cost_of(days=1000)
    assert long.stages["simulation"] == pytest.approx(10 * base.stages["simulation"], rel=0.01)
    assert long.stages["sky maps"] == pytest.approx(10 * base.stages["sky maps"], rel=0.01)
    assert long.stages["horizons"] == base.stages["horizons"]
    big = cost_of(site={"size": 2048, "resolution_m": 20.0, "center_lat": -89.45, "center_lon": 222.7})
    assert big.stages["horizons"] == pytest.approx(4 * base.stages["horizons"])
    assert big.stages["thermal"] == base.stages["thermal"]  # the coarse grid keeps its size


def test_a_ten_year_mission_is_announced_as_long_before_any_work(cli, tmp_path, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mission_module, "write_site", stop)  # the first long stage
    result = cli("mission", "--days", 3650, "--out", tmp_path / "m")
    assert cost_of(days=3650).seconds > LONG_RUN_S
    first = result.err.splitlines()[0]
    assert first.startswith("lupex: a long run: estimated") and " h on a 2-core machine" in first
    assert result.code == 130
