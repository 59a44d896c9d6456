"""Campaigns on a real LocalCluster with 2 workers: equal to the serial run, a worker killed
mid-campaign, an interrupted campaign resumed."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pandas as pd
import pytest

from lupex.campaign.runner import CampaignInterrupted, run_campaign
from lupex.campaign.spec import load_campaign
from lupex.files import MANIFEST_NAME
from tests.campaign.conftest import snapshot


def assert_same_table(folder, reference):
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "campaign.parquet"),
                                  pd.read_parquet(reference / "campaign.parquet"))
    assert (folder / "campaign.parquet").read_bytes() == (reference / "campaign.parquet").read_bytes()


def test_the_serial_run_writes_one_record_and_one_row_per_run(tiny_file, serial):
    campaign = load_campaign(tiny_file)
    table = pd.read_parquet(serial / "campaign.parquet")
    assert list(table["run_id"]) == [run.run_id for run in campaign.runs]
    assert list(table.columns[:4]) == ["run_id", "replicate", "sim.strategy", "rover.battery.capacity_wh"]
    assert {"status", "drills", "distance_km", "min_soc", "seed"} <= set(table.columns)
    assert list(table["seed"]) == [run.config.seed for run in campaign.runs]
    assert set(table["status"]) <= {"completed", "lost"} and (table["days_simulated"] > 0).all()
    record = json.loads((serial / "runs" / f"{campaign.runs[3].run_id}.json").read_text())
    assert record["params"] == campaign.runs[3].params and record["summary"]["seed"] == campaign.runs[3].config.seed
    assert len(list((serial / "sites").iterdir())) == 1  # one site, computed once for the six runs
    assert json.loads((serial / "campaign.json").read_text())["fingerprint"] == campaign.fingerprint
    assert (serial / "campaign.html").is_file()


def test_a_worker_killed_mid_campaign_loses_no_run(tiny_file, serial, tmp_path):
    """Deterministic: the worker that starts the first simulation kills itself there (SIGKILL), so a
    run is in flight on it whatever the timing (picking a busy worker from outside could find none)."""
    from distributed import default_client

    marker = tmp_path / "killed"

    def die_in_the_first_simulation(marker: str) -> None:  # run on every worker before any task
        from lupex.campaign import tasks

        real = tasks.Simulation.run

        def run(self, *args, **kwargs):
            try:  # exactly one worker, once: the one that creates the marker
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return real(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)

        tasks.Simulation.run = run

    def arm(finished: int, total: int) -> None:
        if finished == 0:  # called once before any task is submitted
            default_client().run(die_in_the_first_simulation, str(marker))

    result = run_campaign(load_campaign(tiny_file), tmp_path / "out", workers=2, on_run=arm)
    assert marker.exists(), "no worker was killed"
    assert result.total == 6 and result.resumed == 0 and not result.failed
    assert len(list((tmp_path / "out" / "runs").glob("*.json"))) == 6
    assert_same_table(tmp_path / "out", serial)


def test_an_interrupted_campaign_resumes_and_skips_its_finished_runs(tiny_file, serial, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial / "sites", out / "sites")  # the site is done: this test is about the runs
    shutil.copy(serial / "campaign.json", out)
    shutil.copy(serial / MANIFEST_NAME, out)

    def interrupt_after_two(finished: int, total: int) -> None:
        if finished >= 2:
            raise KeyboardInterrupt

    with pytest.raises(CampaignInterrupted) as stop:
        run_campaign(load_campaign(tiny_file), out, workers=2, on_run=interrupt_after_two)
    assert (stop.value.finished, stop.value.total) == (2, 6)
    kept = snapshot(out / "runs")
    assert len(kept) == 2 and not (out / "campaign.parquet").exists()
    result = run_campaign(load_campaign(tiny_file), out, workers=0)
    assert result.resumed == 2 and not result.failed
    after = snapshot(out / "runs")
    assert len(after) == 6 and all(after[name] == kept[name] for name in kept)
    assert_same_table(out, serial)
