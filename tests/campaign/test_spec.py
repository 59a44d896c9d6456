"""Campaign files: expansion into runs (grid x replicates x distributions), determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest

from lupex.campaign.spec import load_campaign
from lupex.campaign.tasks import site_key, world_key
from lupex.errors import LupexError
from tests.campaign.conftest import TINY, write_campaign


def test_runs_are_grid_points_times_replicates_replicate_major(tiny_file):
    campaign = load_campaign(tiny_file)
    assert campaign.varied == ["sim.strategy", "rover.battery.capacity_wh"]
    assert [run.replicate for run in campaign.runs] == [0, 0, 1, 1, 2, 2]
    assert [run.config.sim.strategy for run in campaign.runs] == ["adaptive", "baseline"] * 3
    assert [run.run_id[:5] for run in campaign.runs] == [f"r{k:04d}" for k in range(6)]
    # replicate r simulates with seed campaign.seed + r, at every grid point
    assert [run.config.seed for run in campaign.runs] == [3, 3, 4, 4, 5, 5]
    assert all(run.config.days == 1.0 for run in campaign.runs)


def test_draws_are_per_replicate_seeded_and_shared_by_its_grid_points(tiny_file):
    campaign = load_campaign(tiny_file)
    capacity = [run.params["rover.battery.capacity_wh"] for run in campaign.runs]
    assert capacity[0] == capacity[1] and capacity[2] == capacity[3] and capacity[0] != capacity[2]
    assert capacity[0] == np.random.default_rng([3, 0]).uniform(2500.0, 4000.0)
    assert all(2500.0 <= c < 4000.0 for c in capacity)
    assert [run.config.rover.battery.capacity_wh for run in campaign.runs] == capacity
    again = load_campaign(tiny_file)
    assert [(r.run_id, r.params) for r in again.runs] == [(r.run_id, r.params) for r in campaign.runs]


def test_more_runs_extend_the_campaign_and_keep_its_fingerprint(tiny_file):
    three, five = load_campaign(tiny_file), load_campaign(tiny_file, runs=5)
    assert len(five.runs) == 10 and five.fingerprint == three.fingerprint
    assert [r.run_id for r in five.runs[:6]] == [r.run_id for r in three.runs]
    assert load_campaign(tiny_file, days=2).fingerprint != three.fingerprint


def test_every_run_shares_one_site_unless_the_site_varies(tiny_file, tmp_path):
    campaign = load_campaign(tiny_file)
    assert {site_key(run.config) for run in campaign.runs} == {site_key(campaign.runs[0].config)}
    assert all(run.config.site_seed == 5 for run in campaign.runs)  # the base's seed, not the run's
    # the world depends on the rover (drawn battery) but not on the strategy
    assert world_key(campaign.runs[0].config) == world_key(campaign.runs[1].config)
    assert world_key(campaign.runs[0].config) != world_key(campaign.runs[2].config)
    sites = write_campaign(tmp_path, TINY.replace('"sim.strategy" = ["adaptive", "baseline"]',
                                                  'site_seed = [1, 2]\nlanding_utc = ["2028-09-01", "2028-09-02"]'))
    assert len({site_key(run.config) for run in load_campaign(sites).runs}) == 4


def test_discrete_distributions_and_a_base_file(tmp_path):
    (tmp_path / "mission.toml").write_text("days = 2\n[sim]\nstrategy = 'baseline'\nmax_drills = 7\n")
    path = write_campaign(tmp_path, """[campaign]
name = "discrete"
runs = 50
base = "mission.toml"
[base]
sim = {max_drills = 9}
[distributions]
"sim.command_latency_h" = {kind = "choice", values = [0.5, 2.0]}
"sim.min_drill_spacing_m" = {kind = "integers", low = 20, high = 22}
""")
    campaign = load_campaign(path)
    assert campaign.runs[0].config.sim.strategy == "baseline" and campaign.runs[0].config.sim.max_drills == 9
    assert campaign.runs[0].config.days == 2.0 and campaign.runs[0].config.site_seed == 2028
    assert {run.params["sim.command_latency_h"] for run in campaign.runs} == {0.5, 2.0}
    assert {run.params["sim.min_drill_spacing_m"] for run in campaign.runs} == {20, 21, 22}


@pytest.mark.parametrize("text,fragment", [
    (TINY.replace('"sim.strategy"', '"sim.strategyy"'), "sim.strategyy"),
    (TINY.replace('"adaptive", "baseline"', '"adaptive", "random"'), "sim.strategy"),
    (TINY.replace("low = 2500.0, high = 4000.0", "low = 4000.0, high = 2500.0"), "low must be below high"),
    (TINY.replace('kind = "uniform"', 'kind = "beta"'), "rover.battery.capacity_wh"),
    (TINY.replace('name = "tiny"', ""), "campaign.name"),
    (TINY.replace('["adaptive", "baseline"]', "[]"), "grid.sim.strategy"),
    (TINY + "[extra]\n", "extra"),
    (TINY.replace("[grid]", "[grid\n"), "not valid TOML"),
    (TINY.replace('"sim.strategy" = ', "days = [1, 2]\n#"), "days is varied"),
    (TINY.replace('"sim.strategy"', '"seed.x"'), "seed is a value"),
    # found by tests/fuzz: a dem that is not a string was joined to the folder (TypeError)
    (TINY.replace("seed = 5", "seed = 5\ndem = []"), "invalid dem"),
    (TINY.replace('"sim.strategy" = ["adaptive", "baseline"]', '"dem" = [3]'), "invalid dem"),
])
def test_a_malformed_campaign_is_refused_naming_the_problem(tmp_path, text, fragment):
    with pytest.raises(LupexError) as error:
        load_campaign(write_campaign(tmp_path, text))
    assert fragment in str(error.value)
