"""``lupex campaign init`` and ``run`` through the command line: a resumed and an extended campaign,
and bad input (malformed file, unreachable scheduler, another campaign's folder) refused with
one line, exit status 2 and no run lost."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import lupex.cluster
from lupex.campaign.spec import load_campaign
from tests.campaign.conftest import TINY, snapshot, write_campaign
from tests.conftest import assert_one_line_error


@pytest.fixture
def copy_of_serial(serial, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    return out


def test_init_writes_a_campaign_that_run_accepts(cli, tmp_path, monkeypatch):
    path = tmp_path / "example.toml"
    assert cli("campaign", "init", path).code == 0
    campaign = load_campaign(path)  # every run's configuration is valid
    assert campaign.varied == ["sim.strategy", "rover.battery.capacity_wh", "sim.command_latency_h"]
    assert len(campaign.runs) == 20 and {run.config.days for run in campaign.runs} == {30.0}
    assert_one_line_error(cli("campaign", "init", path), "already exists")
    # the command accepts the file: it stops only at the scheduler, before any work
    monkeypatch.setattr(lupex.cluster, "CONNECT_TIMEOUT_S", 1.0)
    result = cli("campaign", "run", path, "--runs", "1", "--days", "1", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", tmp_path / "out")
    assert_one_line_error(result, "cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()


def test_a_rerun_resumes_and_more_runs_extend_the_campaign(cli, tiny_file, serial, copy_of_serial):
    before = snapshot(copy_of_serial / "runs")
    result = cli("-q", "campaign", "run", tiny_file, "--workers", "0", "--out", copy_of_serial)
    assert result.code == 0 and "6 runs (0 run now, 6 finished before)" in result.out
    assert snapshot(copy_of_serial / "runs") == before
    assert (copy_of_serial / "campaign.parquet").read_bytes() == (serial / "campaign.parquet").read_bytes()
    result = cli("-q", "campaign", "run", tiny_file, "--runs", "4", "--workers", "0", "--out", copy_of_serial)
    assert result.code == 0 and "8 runs (2 run now, 6 finished before)" in result.out
    table = pd.read_parquet(copy_of_serial / "campaign.parquet")
    assert len(table) == 8 and list(table["replicate"][6:]) == [3, 3]
    pd.testing.assert_frame_equal(table.iloc[:6], pd.read_parquet(serial / "campaign.parquet"))
    assert len(list((copy_of_serial / "sites").iterdir())) == 1


@pytest.mark.parametrize("text,fragment", [
    (TINY.replace('"adaptive", "baseline"', '"adaptive", "random"'), "invalid sim.strategy"),
    (TINY.replace("[grid]", "[grid\n"), "not valid TOML"),
    (TINY.replace('landing_utc = "2028-09-01T00:00:00Z"', 'landing_utc = "2070-01-01"'), "ephemeris"),
    (TINY.replace("seed = 5\n", 'seed = 5\ndem = "no-such-site.tif"\n'), "no-such-site.tif does not exist"),
])
def test_a_malformed_campaign_file_is_refused_before_any_work(cli, tmp_path, text, fragment):
    path = write_campaign(tmp_path, text)
    assert_one_line_error(cli("campaign", "run", path, "--workers", "0", "--out", tmp_path / "out"), fragment)
    assert not (tmp_path / "out").exists()


def test_another_campaigns_folder_is_refused_and_left_alone(cli, tmp_path, copy_of_serial):
    before = snapshot(copy_of_serial)
    other = write_campaign(tmp_path, TINY.replace("seed = 3", "seed = 4"), "other.toml")
    result = cli("campaign", "run", other, "--workers", "0", "--out", copy_of_serial)
    assert_one_line_error(result, "holds another campaign ('tiny'", "use another --out")
    assert snapshot(copy_of_serial) == before


def test_an_unreachable_scheduler_is_refused_and_no_run_is_lost(cli, tiny_file, copy_of_serial, monkeypatch):
    monkeypatch.setattr(lupex.cluster, "CONNECT_TIMEOUT_S", 1.0)
    before = snapshot(copy_of_serial)
    result = cli("campaign", "run", tiny_file, "--scheduler", "tcp://127.0.0.1:9", "--out", copy_of_serial)
    assert_one_line_error(result, "cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert snapshot(copy_of_serial) == before


def test_workers_and_a_scheduler_together_are_refused(cli, tiny_file, tmp_path):
    result = cli("campaign", "run", tiny_file, "--workers", "3", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", tmp_path / "out")
    assert_one_line_error(result, "give one or the other")
    assert not (tmp_path / "out").exists()
