"""Statistics of a campaign: many simulated missions, one row per run.

Pure functions of numpy arrays and pandas frames (no Dask). A campaign frame holds one row per
run with the varied parameters (dotted names such as ``sim.strategy``) and the mission summary
fields (``status``, ``drills``, ``mean_water_wt_pct_at_drills``, ...; see docs/mission.md).

Outcome statistics use the *finished* runs only, those whose status is ``completed`` or
``lost``: an interrupted run's fate and totals are unknown, so counting it would bias the
probability of loss and the totals low. Holes are clustered in runs (the holes of one run share
its site and route), so per-hole figures are ratio estimates over runs with the variance of
cluster sampling, never binomial counts of holes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FINISHED",
    "OUTCOMES",
    "Sensitivity",
    "finished_runs",
    "group_summary",
    "mean_interval",
    "numeric_parameter",
    "outcome_values",
    "ratio_interval",
    "sensitivity",
    "wilson_interval",
]

FINISHED = ("completed", "lost")

#: Outcomes a sensitivity can be asked for, with the label a person reads.
OUTCOMES = {
    "lost": "P(lost)",
    "mean_water_wt_pct_at_drills": "mean water per hole of a run [wt%]",
    "drills": "holes per run",
    "distance_km": "distance driven [km]",
}

_TABLE = ["level", "x", "n", "mean", "low", "high"]
_PER_HOLE = ("mean_water_wt_pct_at_drills", "max_water_wt_pct", "drills_at_threshold_fraction")


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion.

    Wilson (1927), JASA 22:209-212, the roots in p of (p_hat - p)^2 = z^2 p (1 - p) / n::

        (p_hat + z^2/2n -+ z sqrt(p_hat (1 - p_hat)/n + z^2/4n^2)) / (1 + z^2/n)

    Unlike the Wald interval it stays inside [0, 1] and has non-zero width at 0 and n
    successes (Newcombe 1998, Stat. Med. 17:857-872, method 3).

    Parameters
    ----------
    successes : array_like
        Number of successes [count].
    trials : array_like
        Number of trials [count]; where it is 0 the interval is NaN.
    confidence : float
        Two-sided confidence level [-].

    Returns
    -------
    low, high : numpy.ndarray or float
        Interval bounds [-].
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z2 = _z(confidence) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = p + z2 / (2 * n)
        half = np.sqrt(z2 * (p * (1 - p) / n + z2 / (4 * n * n)))
        denominator = 1 + z2 / n
        low = np.clip((centre - half) / denominator, 0.0, 1.0)
        high = np.clip((centre + half) / denominator, 0.0, 1.0)
    return low[()], high[()]


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its Student t confidence interval, x_bar -+ t_{n-1} s / sqrt(n).

    Parameters
    ----------
    values : array_like
        Sample [any unit]; NaN values are left out.
    confidence : float
        Two-sided confidence level [-].

    Returns
    -------
    mean, low, high : float
        The mean and the interval bounds [unit of ``values``]; all NaN for an empty sample, the
        bounds NaN for a sample of one.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size == 1:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def ratio_interval(numerators, denominators, confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of totals sum(y) / sum(x) over clusters, with its confidence interval.

    The ratio estimate of cluster sampling (Cochran 1977, Sampling Techniques, 3rd ed., ch. 6)
    with the large-sample variance v(R) = sum((y_i - R x_i)^2) / (m (m - 1) x_bar^2) over the
    m clusters, and a Student t_{m-1} interval. Here a cluster is a run, x_i its holes and y_i
    their sum of a per-hole quantity, so R is the mean over all holes. With equal x_i it is
    exactly the t interval of the per-cluster means y_i / x_i.

    Parameters
    ----------
    numerators : array_like
        Per-cluster totals y_i [any unit].
    denominators : array_like
        Per-cluster sizes x_i [count]; clusters with a NaN in either array are left out.
    confidence : float
        Two-sided confidence level [-].

    Returns
    -------
    ratio, low, high : float
        R and its interval bounds [unit of y per unit of x]; all NaN when the sizes sum to 0,
        the bounds NaN with one cluster.
    """
    y = np.asarray(numerators, dtype=float)
    x = np.asarray(denominators, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(x))
    y, x = y[keep], x[keep]
    if x.sum() <= 0:
        return np.nan, np.nan, np.nan
    ratio = float(y.sum() / x.sum())
    m = x.size
    if m < 2:
        return ratio, np.nan, np.nan
    variance = np.sum((y - ratio * x) ** 2) / (m * (m - 1) * x.mean() ** 2)
    half = float(stats.t.ppf(0.5 + confidence / 2, m - 1) * np.sqrt(variance))
    return ratio, ratio - half, ratio + half


def finished_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs whose fate is known: status ``completed`` or ``lost``."""
    return frame[frame["status"].isin(FINISHED)]


def _hole_totals(runs: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-run sum of a per-hole quantity and the run's holes (0, not the summary's 0.0, when none)."""
    holes = runs["drills"].to_numpy(dtype=float)
    values = runs[column].to_numpy(dtype=float)
    return np.where(holes > 0, values * holes, 0.0), holes


def _row(runs: pd.DataFrame, confidence: float) -> dict[str, float]:
    done = finished_runs(runs)
    lost = int((done["status"] == "lost").sum())
    p_low, p_high = wilson_interval(lost, len(done), confidence)
    water, holes = _hole_totals(done, "mean_water_wt_pct_at_drills")
    at_threshold, _ = _hole_totals(done, "drills_at_threshold_fraction")
    row = {
        "runs": len(runs),
        "completed": int((runs["status"] == "completed").sum()),
        "lost": lost,
        "interrupted": int((runs["status"] == "interrupted").sum()),
        "p_lost": lost / len(done) if len(done) else np.nan,
        "p_lost_low": float(p_low),
        "p_lost_high": float(p_high),
        "holes": int(np.nansum(holes)),
    }
    for name, values in (("water_wt_pct", water), ("fraction_at_threshold", at_threshold)):
        row[name], row[f"{name}_low"], row[f"{name}_high"] = ratio_interval(values, holes, confidence)
    for name, column in (("drills", "drills"), ("distance_km", "distance_km")):
        row[name], row[f"{name}_low"], row[f"{name}_high"] = mean_interval(done[column], confidence)
    return row


def group_summary(frame: pd.DataFrame, by: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """One row of campaign statistics per level of ``by`` (one row ``all`` when ``by`` is None).

    Parameters
    ----------
    frame : pandas.DataFrame
        The campaign, one row per run.
    by : str or None
        The grouping column (any varied parameter, e.g. ``sim.strategy``); NaN is a level.
    confidence : float
        Two-sided confidence level of every interval [-].

    Returns
    -------
    pandas.DataFrame
        Indexed by the level, with columns ``runs``, ``completed``, ``lost``, ``interrupted``;
        ``p_lost`` over the finished runs with its Wilson interval ``p_lost_low``/``_high``;
        ``holes``; ``water_wt_pct`` (mean water over all holes [wt%]) and
        ``fraction_at_threshold`` (fraction of holes >= the mission's threshold, 1 wt% by
        default [-]) with their cluster ratio intervals; ``drills`` (holes per run) and
        ``distance_km`` [km] with Student t intervals. A statistic with no data is NaN.
    """
    if by is None:
        return pd.DataFrame([_row(frame, confidence)], index=pd.Index(["all"], name="group"))
    rows = {level: _row(runs, confidence) for level, runs in frame.groupby(by, dropna=False, sort=True)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)


def numeric_parameter(values: pd.Series) -> tuple[pd.Series | None, str]:
    """A varied parameter as numbers when it has an order, with the axis label to show.

    Numbers stay numbers; date-time strings (``landing_utc``) become days after the earliest;
    anything else is categorical and gives ``(None, name)``.

    Parameters
    ----------
    values : pandas.Series
        The parameter's column, named by its dotted name.

    Returns
    -------
    numbers, label : pandas.Series of float or None, str
    """
    name = str(values.name)
    if pd.api.types.is_bool_dtype(values):
        return None, name
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), name
    times = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    if times.notna().sum() and times.notna().sum() == values.notna().sum():
        first = times.min()
        return (times - first) / pd.Timedelta(days=1), f"{name} [days after {first:%Y-%m-%d %H:%M}]"
    return None, name


def outcome_values(frame: pd.DataFrame, outcome: str) -> pd.Series:
    """An outcome per finished run: ``lost`` as booleans, a summary field as floats.

    Per-hole fields (``mean_water_wt_pct_at_drills``, ``max_water_wt_pct``,
    ``drills_at_threshold_fraction``) are NaN for runs without holes.
    """
    runs = finished_runs(frame)
    if outcome == "lost":
        return (runs["status"] == "lost").rename("lost")
    values = runs[outcome].astype(float)
    if outcome in _PER_HOLE:
        values = values.where(runs["drills"] > 0)
    return values


@dataclass(frozen=True)
class Sensitivity:
    """How an outcome varies with one varied parameter.

    Attributes
    ----------
    parameter, outcome : str
        Column names.
    kind : {"numeric", "categorical"}
        How the parameter was treated.
    label : str
        Axis label of the parameter (with its unit of days for date-times).
    rho, p_value : float
        Spearman rank correlation and its two-sided p-value (numeric parameters with at least
        3 runs and some spread in both; NaN otherwise).
    n : int
        Runs used (finished, both values present).
    table : pandas.DataFrame
        One row per bin or level: ``level``, ``x`` (median parameter value in the bin; NaN for
        levels), ``n``, ``mean`` and its interval ``low``, ``high`` (Wilson for ``lost``,
        Student t otherwise).
    """

    parameter: str
    outcome: str
    kind: Literal["numeric", "categorical"]
    label: str
    rho: float
    p_value: float
    n: int
    table: pd.DataFrame


def _level_row(level, x: float, y: pd.Series, confidence: float) -> dict:
    if pd.api.types.is_bool_dtype(y):
        low, high = wilson_interval(int(y.sum()), len(y), confidence)
        mean = float(y.mean()) if len(y) else np.nan
        return {"level": level, "x": x, "n": len(y), "mean": mean, "low": float(low), "high": float(high)}
    mean, low, high = mean_interval(y, confidence)
    return {"level": level, "x": x, "n": len(y), "mean": mean, "low": low, "high": high}


def _bins(x: pd.Series, bins: int) -> pd.Series:
    """Equal-count bins, or each value its own bin when there are no more values than bins."""
    if x.nunique() <= bins:
        return x
    return pd.qcut(x, bins, duplicates="drop")


def sensitivity(frame: pd.DataFrame, parameter: str, outcome: str = "lost", bins: int = 5,
                confidence: float = 0.95) -> Sensitivity:
    """Sensitivity of an outcome to a varied parameter over the finished runs.

    A numeric (or date-time) parameter gets the Spearman rank correlation (scipy.stats.spearmanr,
    ties ranked by their mean) and the outcome's mean in equal-count bins of the parameter; a
    categorical one gets the outcome's mean per level.

    Parameters
    ----------
    frame : pandas.DataFrame
        The campaign, one row per run.
    parameter : str
        The varied parameter's column.
    outcome : str
        ``lost`` or a numeric summary field (see `outcome_values`).
    bins : int
        Number of equal-count bins of a numeric parameter [-].
    confidence : float
        Two-sided confidence level of the intervals [-].

    Returns
    -------
    Sensitivity
    """
    y = outcome_values(frame, outcome).dropna()
    raw = finished_runs(frame).loc[y.index, parameter]
    numbers, label = numeric_parameter(raw)
    if numbers is None:
        keep = raw.notna()
        y, raw = y[keep], raw[keep]
        rows = [_level_row(level, np.nan, y[raw == level], confidence) for level in sorted(raw.unique(), key=str)]
        return Sensitivity(parameter, outcome, "categorical", label, np.nan, np.nan, len(y),
                           pd.DataFrame(rows, columns=_TABLE))
    keep = numbers.notna()
    x, y = numbers[keep], y[keep]
    rho = p_value = np.nan
    if len(x) >= 3 and x.nunique() > 1 and y.nunique() > 1:
        result = stats.spearmanr(x, y.astype(float))
        rho, p_value = float(result.statistic), float(result.pvalue)
    rows = [_level_row(level, float(x[group.index].median()), group, confidence)
            for level, group in y.groupby(_bins(x, bins), observed=True, sort=True)]
    return Sensitivity(parameter, outcome, "numeric", label, rho, p_value, len(x), pd.DataFrame(rows, columns=_TABLE))
