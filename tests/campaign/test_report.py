"""Campaign statistics (lupex.campaign.stats) and the campaign report (lupex.campaign.report)."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lupex.campaign.report import write_campaign_report
from lupex.campaign.stats import (
    group_summary,
    mean_interval,
    numeric_parameter,
    ratio_interval,
    sensitivity,
    wilson_interval,
)
from lupex.errors import LupexError

Z95 = stats.norm.ppf(0.975)


# --- Wilson score interval -------------------------------------------------------------------

# Newcombe (1998), Stat. Med. 17:857-872, Table II, method 3 (score interval without continuity
# correction), printed to 4 decimals.
NEWCOMBE_1998 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_1998)
def test_wilson_matches_newcombe_table(k, n, low, high):
    got_low, got_high = wilson_interval(k, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_bounds_are_roots_of_the_score_equation():
    # Wilson (1927): the bounds solve (p_hat - p)^2 = z^2 p (1 - p) / n.
    k, n = np.array([3, 17, 40]), np.array([10, 50, 41])
    low, high = wilson_interval(k, n)
    for p in (low, high):
        np.testing.assert_allclose((k / n - p) ** 2, Z95**2 * p * (1 - p) / n, rtol=1e-12)


def test_wilson_at_zero_and_all_successes_closed_form():
    n = 12
    assert wilson_interval(0, n) == pytest.approx((0.0, Z95**2 / (n + Z95**2)), abs=1e-15)
    assert wilson_interval(n, n) == pytest.approx((n / (n + Z95**2), 1.0), abs=1e-15)


def test_wilson_without_trials_is_nan():
    assert np.isnan(wilson_interval(0, 0)).all()


# --- means and ratios --------------------------------------------------------------------------


def test_mean_interval_matches_scipy_t_interval():
    x = np.array([2.1, 3.4, 1.9, 5.0, 4.2, 3.3, np.nan])
    kept = x[~np.isnan(x)]
    expected = stats.t.interval(0.9, kept.size - 1, loc=kept.mean(), scale=stats.sem(kept))
    mean, low, high = mean_interval(x, confidence=0.9)
    assert mean == pytest.approx(kept.mean(), rel=1e-14)
    assert (low, high) == pytest.approx(expected, rel=1e-12)


def test_mean_interval_of_one_and_no_values():
    assert mean_interval([4.0])[0] == 4.0
    assert np.isnan(mean_interval([4.0])[1:]).all()
    assert np.isnan(mean_interval([np.nan])).all()


def test_ratio_interval_with_equal_sizes_is_t_interval_of_cluster_means():
    y, x = np.array([3.0, 7.0, 4.0, 10.0]), np.full(4, 5.0)
    expected = mean_interval(y / x)
    assert ratio_interval(y, x) == pytest.approx(expected, rel=1e-12)


def test_ratio_interval_by_hand():
    # R = 12 / 6 = 2; residuals y - R x = (-2, 2); v = 8 / (2 * 1 * 3^2) = 4/9.
    ratio, low, high = ratio_interval([2.0, 10.0], [2.0, 4.0])
    half = stats.t.ppf(0.975, 1) * 2 / 3
    assert (ratio, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half), rel=1e-12)


def test_ratio_interval_without_holes_is_nan():
    assert np.isnan(ratio_interval([0.0, 0.0], [0.0, 0.0])).all()
    assert np.isnan(ratio_interval([], [])).all()


# --- group summary -----------------------------------------------------------------------------


def _runs(**columns) -> pd.DataFrame:
    n = len(columns["status"])
    base = {"run_id": np.arange(n), "reason": [""] * n, "distance_km": np.arange(1.0, n + 1)}
    return pd.DataFrame(base | columns)


@pytest.fixture
def small() -> pd.DataFrame:
    return _runs(**{
        "sim.strategy": ["a", "a", "a", "b", "b"],
        "status": ["completed", "lost", "interrupted", "completed", "completed"],
        "drills": [2, 4, 1, 0, 3],
        "mean_water_wt_pct_at_drills": [1.0, 2.5, 9.0, 0.0, 3.0],
        "max_water_wt_pct": [1.5, 6.0, 9.0, 0.0, 4.0],
        "drills_at_threshold_fraction": [0.5, 0.75, 1.0, 0.0, 1 / 3],
    })


def test_group_summary_by_hand(small):
    table = group_summary(small, "sim.strategy")
    a, b = table.loc["a"], table.loc["b"]
    # a: the interrupted run is counted but left out of every outcome.
    assert (a["runs"], a["completed"], a["lost"], a["interrupted"]) == (3, 1, 1, 1)
    assert a["p_lost"] == 0.5
    assert (a["p_lost_low"], a["p_lost_high"]) == pytest.approx(wilson_interval(1, 2))
    assert a["holes"] == 6
    assert a["water_wt_pct"] == pytest.approx((2 * 1.0 + 4 * 2.5) / 6)
    assert a["fraction_at_threshold"] == pytest.approx((1 + 3) / 6)
    assert a["drills"] == 3.0
    assert a["distance_km"] == 1.5
    # b: no loss; the run without holes adds none (its summary's 0.0 is not a measurement).
    assert (b["runs"], b["lost"], b["p_lost"], b["p_lost_low"]) == (2, 0, 0.0, 0.0)
    assert b["p_lost_high"] == pytest.approx(Z95**2 / (2 + Z95**2))
    assert b["holes"] == 3
    assert (b["water_wt_pct"], b["water_wt_pct_low"], b["water_wt_pct_high"]) == pytest.approx((3.0, 3.0, 3.0))
    assert b["fraction_at_threshold"] == pytest.approx(1 / 3)
    assert b["drills"] == 1.5


def test_group_summary_of_the_whole_campaign(small):
    row = group_summary(small).loc["all"]
    assert (row["runs"], row["lost"], row["holes"]) == (5, 1, 9)
    assert row["p_lost"] == 0.25
    assert row["water_wt_pct"] == pytest.approx((2 + 10 + 9) / 9)


def test_group_summary_without_holes_or_finished_runs():
    frame = _runs(status=["interrupted"], drills=[0], mean_water_wt_pct_at_drills=[0.0], max_water_wt_pct=[0.0],
                  drills_at_threshold_fraction=[0.0])
    row = group_summary(frame).iloc[0]
    assert (row["runs"], row["interrupted"], row["holes"]) == (1, 1, 0)
    assert np.isnan(row[["p_lost", "p_lost_low", "water_wt_pct", "fraction_at_threshold", "drills"]]).all()


# --- sensitivity ---------------------------------------------------------------------------------


def _numeric_campaign(x, y) -> pd.DataFrame:
    n = len(x)
    return _runs(**{"rover.battery.capacity_wh": x, "status": ["completed"] * n, "drills": y,
                    "mean_water_wt_pct_at_drills": [1.0] * n, "max_water_wt_pct": [1.0] * n,
                    "drills_at_threshold_fraction": [1.0] * n})


def test_spearman_of_a_monotone_relation_is_one():
    x = np.linspace(1000, 5000, 10)
    result = sensitivity(_numeric_campaign(x, (x / 1000) ** 3), "rover.battery.capacity_wh", "drills")
    assert result.kind == "numeric"
    assert result.rho == pytest.approx(1.0)
    assert result.p_value < 1e-6


def test_spearman_with_one_swap_matches_the_rank_formula():
    # rho = 1 - 6 sum(d^2) / (n (n^2 - 1)); one adjacent swap gives sum(d^2) = 2.
    n = 10
    y = np.arange(n, dtype=float)
    y[[3, 4]] = y[[4, 3]]
    result = sensitivity(_numeric_campaign(np.arange(n) * 100.0, y), "rover.battery.capacity_wh", "drills")
    assert result.rho == pytest.approx(1 - 12 / (n * (n**2 - 1)), rel=1e-12)
    assert result.p_value == pytest.approx(stats.spearmanr(np.arange(n), y).pvalue)


def test_binned_means_in_equal_count_bins():
    x = np.arange(1.0, 11.0)
    table = sensitivity(_numeric_campaign(x, 2 * x), "rover.battery.capacity_wh", "drills", bins=5).table
    np.testing.assert_allclose(table["n"], 2)
    np.testing.assert_allclose(table["x"], [1.5, 3.5, 5.5, 7.5, 9.5])
    np.testing.assert_allclose(table["mean"], [3, 7, 11, 15, 19])


def test_few_values_are_their_own_bins_and_dates_are_days():
    frame = _numeric_campaign([0.0] * 6, [1] * 6)
    frame["landing_utc"] = ["2028-08-20T00:00Z", "2028-08-20T00:00Z", "2028-09-20T00:00Z",
                            "2028-09-20T00:00Z", "2028-10-20T12:00Z", "2028-10-20T12:00Z"]
    frame["status"] = ["lost", "completed", "lost", "lost", "completed", "completed"]
    result = sensitivity(frame, "landing_utc", "lost")
    assert result.label == "landing_utc [days after 2028-08-20 00:00]"
    np.testing.assert_allclose(result.table["x"], [0.0, 31.0, 61.5])
    np.testing.assert_allclose(result.table["mean"], [0.5, 1.0, 0.0])
    assert result.table["high"].iloc[2] == pytest.approx(Z95**2 / (2 + Z95**2))


def test_categorical_parameter_gets_levels_and_no_rho(small):
    result = sensitivity(small, "sim.strategy", "lost")
    assert result.kind == "categorical" and np.isnan(result.rho)
    assert list(result.table["level"]) == ["a", "b"]
    assert list(result.table["mean"]) == [0.5, 0.0]
    assert (result.table["low"].iloc[0], result.table["high"].iloc[0]) == pytest.approx(wilson_interval(1, 2))


def test_constant_parameter_has_undefined_rho():
    result = sensitivity(_numeric_campaign([5.0] * 4, [1, 2, 3, 4]), "rover.battery.capacity_wh", "drills")
    assert np.isnan(result.rho) and np.isnan(result.p_value)


def test_numeric_parameter_kinds():
    assert numeric_parameter(pd.Series(["adaptive", "baseline"], name="s"))[0] is None
    assert numeric_parameter(pd.Series([True, False], name="b"))[0] is None
    values, label = numeric_parameter(pd.Series([3, 1], name="n"))
    assert list(values) == [3.0, 1.0] and label == "n"


# --- the report ----------------------------------------------------------------------------------

VARIED = ["seed", "sim.strategy", "landing_utc", "site", "rover.battery.capacity_wh"]


def _campaign(n: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    capacity = rng.uniform(2000, 6000, n)
    lost = rng.uniform(size=n) < 1 / (1 + np.exp((capacity - 3500) / 500))
    drills = rng.integers(0, 25, n)
    return _runs(**{
        "seed": np.arange(n),
        "sim.strategy": np.where(np.arange(n) % 2, "adaptive", "baseline"),
        "landing_utc": rng.choice(["2028-08-20T00:00Z", "2028-09-20T00:00Z"], n),
        "site": rng.choice(["shackleton", "haworth", "nobile"], n),
        "rover.battery.capacity_wh": capacity,
        "status": np.where(lost, "lost", "completed"),
        "drills": drills,
        "mean_water_wt_pct_at_drills": np.where(drills > 0, rng.gamma(2, 1.5, n), 0.0),
        "max_water_wt_pct": np.where(drills > 0, rng.gamma(4, 2, n), 0.0),
        "drills_at_threshold_fraction": np.where(drills > 0, rng.uniform(0, 1, n), 0.0),
    })


def _sections(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", page)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    frame = _campaign()
    out = tmp_path_factory.mktemp("campaign")
    return frame, out, write_campaign_report(frame, VARIED, out)


def test_report_writes_every_picture_and_the_page(report):
    _, out, paths = report
    assert [p.name for p in paths] == [
        "water_distribution.png", "p_lost.png", "strategies.png", "sensitivity_seed.png",
        "sensitivity_sim_strategy.png", "sensitivity_landing_utc.png", "sensitivity_site.png",
        "sensitivity_rover_battery_capacity_wh.png", "campaign.html"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no temporary files left


def test_report_page_is_self_contained(report):
    _, _, paths = report
    page = paths[-1].read_text()
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) == len(paths) - 1
    for source, png in zip(sources, paths[:-1], strict=True):
        assert base64.b64decode(source.removeprefix("data:image/png;base64,")) == png.read_bytes()
    assert "http" not in page.replace("<!DOCTYPE html>", "")


def test_report_sections_and_numbers(report):
    frame, _, paths = report
    page = paths[-1].read_text()
    assert _sections(page) == ["Campaign", "Water found", "Probability of losing the rover", "Strategy comparison",
                               *(f"Sensitivity to {name}" for name in VARIED)]
    lost = int((frame["status"] == "lost").sum())
    low, high = wilson_interval(lost, len(frame))
    assert f"<td>{lost / len(frame):.3f} [{low:.3f}, {high:.3f}]</td>" in page
    rho = stats.spearmanr(frame["rover.battery.capacity_wh"], frame["status"] == "lost").statistic
    assert rho < -0.3
    assert f"<td>{rho:.3f}</td>" in page


def test_report_without_strategy_or_categories(tmp_path):
    frame = _campaign()
    paths = write_campaign_report(frame, ["rover.battery.capacity_wh"], tmp_path)
    assert [p.name for p in paths] == ["water_distribution.png", "sensitivity_rover_battery_capacity_wh.png",
                                       "campaign.html"]
    assert "Strategy comparison" not in _sections(paths[-1].read_text())


def test_report_of_one_run(tmp_path):
    frame = _campaign().head(1)
    paths = write_campaign_report(frame, ["seed", "sim.strategy"], tmp_path)
    assert [p.name for p in paths] == ["water_distribution.png", "campaign.html"]
    page = paths[-1].read_text()
    assert _sections(page) == ["Campaign", "Water found", "Sensitivity to seed", "Sensitivity to sim.strategy"]
    assert page.count("Takes a single value") == 2


def test_report_without_holes(tmp_path):
    frame = _campaign()
    frame[["drills", "mean_water_wt_pct_at_drills", "max_water_wt_pct", "drills_at_threshold_fraction"]] = 0
    paths = write_campaign_report(frame, ["rover.battery.capacity_wh"], tmp_path)
    page = paths[-1].read_text()
    assert "0 of 60 finished runs drilled at least one hole" in page
    assert "<tr><th>mean water per hole [wt%]</th><td>n/a</td></tr>" in page


def test_report_of_interrupted_runs_only(tmp_path):
    frame = _campaign(n=3).assign(status="interrupted")
    paths = write_campaign_report(frame, ["sim.strategy"], tmp_path)
    assert [p.name for p in paths] == ["campaign.html"]
    assert _sections(paths[0].read_text()) == ["Campaign", "No finished runs"]


def test_report_is_reproducible(tmp_path, report):
    frame, _, paths = report
    again = write_campaign_report(frame, VARIED, tmp_path)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_report_names_a_missing_column(tmp_path):
    with pytest.raises(LupexError, match=r"rover\.mass_kg"):
        write_campaign_report(_campaign(), ["rover.mass_kg"], tmp_path)
