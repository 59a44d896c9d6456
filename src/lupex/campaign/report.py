"""Pictures and the self-contained HTML report of a campaign (many simulated missions).

The statistics come from `lupex.campaign.stats`; this module only draws and writes. Every
picture is a PNG in the output folder and is embedded (base64) in ``campaign.html``, so the
page opens anywhere on its own.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lupex.campaign.stats import (
    OUTCOMES,
    Sensitivity,
    finished_runs,
    group_summary,
    numeric_parameter,
    outcome_values,
    sensitivity,
)
from lupex.errors import LupexError
from lupex.files import atomic_output

__all__ = ["report_files", "write_campaign_report"]

STRATEGY = "sim.strategy"
_REQUIRED = ("status", "drills", "mean_water_wt_pct_at_drills", "max_water_wt_pct",
             "drills_at_threshold_fraction", "distance_km")
_SENSITIVITY_OUTCOMES = ("lost", "mean_water_wt_pct_at_drills", "drills")
_STATUS_COLOURS = {"completed": "tab:blue", "lost": "tab:red"}
_THRESHOLD_WT_PCT = 1.0  # the mission's default drilling threshold, drawn for orientation only
# (drills_at_threshold_fraction itself counts against each run's own sim.threshold_wt_pct)


@dataclass(frozen=True)
class _Section:
    title: str
    body: str
    image: Path | None = None


def report_files(varied: list[str]) -> list[str]:
    """Names of every file :func:`write_campaign_report` may write for a campaign varying ``varied``."""
    return ["campaign.html", "water_distribution.png", "p_lost.png", "strategies.png",
            *(_sensitivity_file(name) for name in varied)]


def _sensitivity_file(name: str) -> str:
    return f"sensitivity_{re.sub(r'[^A-Za-z0-9]+', '_', name)}.png"


def write_campaign_report(frame: pd.DataFrame, varied: list[str], out_dir: Path) -> list[Path]:
    """Write the campaign's pictures and ``campaign.html`` into ``out_dir``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The campaign, one row per run: the varied parameters and the mission summary fields.
    varied : list of str
        The varied parameters' columns (dotted names such as ``sim.strategy``).
    out_dir : pathlib.Path
        Output folder; created when missing, files in it replaced.

    Returns
    -------
    list of pathlib.Path
        The PNGs written, then ``campaign.html``.

    Raises
    ------
    LupexError
        When a varied parameter or a summary field is not a column of ``frame``.
    """
    missing = [c for c in (*_REQUIRED, *varied) if c not in frame.columns]
    if missing:
        raise LupexError(f"campaign table lacks the column(s) {', '.join(missing)}; "
                         "pass the varied parameters as named in campaign.parquet")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = [_headline(frame)]
    if len(finished_runs(frame)):
        sections += [_distributions(frame, out_dir), *_p_lost_by_category(frame, varied, out_dir),
                     *_strategies(frame, varied, out_dir), *_sensitivities(frame, varied, out_dir)]
    else:
        sections.append(_Section("No finished runs", "<p>No run completed or was lost; nothing to compare.</p>"))
    page = out_dir / "campaign.html"
    _write_html(sections, len(frame), page)
    return [s.image for s in sections if s.image is not None] + [page]


def _headline(frame: pd.DataFrame) -> _Section:
    row = group_summary(frame).iloc[0]
    cells = {
        "runs": f"{int(row['runs'])}",
        "completed / lost / interrupted": f"{int(row['completed'])} / {int(row['lost'])} / {int(row['interrupted'])}",
        "P(lost) [95 % Wilson CI]": _ci(row, "p_lost", 3),
        "holes": f"{int(row['holes'])}",
        "mean water per hole [wt%]": _ci(row, "water_wt_pct", 2),
        "fraction of holes >= threshold": _ci(row, "fraction_at_threshold", 3),
        "holes per run": _ci(row, "drills", 1),
        "distance per run [km]": _ci(row, "distance_km", 2),
    }
    body = "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                               for k, v in cells.items()) + "</table>"
    note = ("<p>Statistics over the finished runs (completed or lost); brackets hold 95 % intervals: "
            "Wilson for P(lost), cluster ratio over runs for per-hole figures, Student t for per-run means.</p>")
    return _Section("Campaign", body + note)


def _ci(row: pd.Series, name: str, digits: int) -> str:
    value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if np.isnan(value):
        return "n/a"
    if np.isnan(low):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _distributions(frame: pd.DataFrame, out_dir: Path) -> _Section:
    runs = finished_runs(frame)
    with_holes = runs[runs["drills"] > 0]
    fig = Figure(figsize=(13, 3.8), dpi=110)
    axes = fig.subplots(1, 3)
    panels = ((with_holes, "mean_water_wt_pct_at_drills", "mean water per hole of a run [wt% WEH]"),
              (with_holes, "max_water_wt_pct", "highest water in a run's cores [wt% WEH]"),
              (runs, "drills", "holes per run"))
    for ax, (data, column, label) in zip(axes, panels, strict=True):
        _stacked_histogram(ax, data, column, integer=column == "drills")
        ax.set_xlabel(label)
        if column != "drills":
            ax.axvline(_THRESHOLD_WT_PCT, color="k", ls=":", lw=1)
    axes[0].set_ylabel("runs")
    axes[-1].legend(fontsize=8)
    path = out_dir / "water_distribution.png"
    _save(fig, path)
    text = (f"<p>{len(with_holes)} of {len(runs)} finished runs drilled at least one hole; the water panels "
            "show those runs, stacked by fate. The dotted line marks 1 wt%.</p>")
    return _Section("Water found", text, path)


def _stacked_histogram(ax, data: pd.DataFrame, column: str, integer: bool) -> None:
    values = data[column].astype(float).dropna()
    if values.empty:
        ax.text(0.5, 0.5, "no holes drilled", ha="center", va="center", transform=ax.transAxes)
        return
    top = float(values.max())
    edges = np.arange(-0.5, top + 1.5) if integer else np.histogram_bin_edges(values, bins=min(30, max(5, len(values))))
    groups = [values[data.loc[values.index, "status"] == status] for status in _STATUS_COLOURS]
    ax.hist(groups, bins=edges, stacked=True, color=list(_STATUS_COLOURS.values()),
            label=list(_STATUS_COLOURS))


def _categorical(frame: pd.DataFrame, varied: list[str]) -> list[str]:
    """Varied parameters without an order that take at least two values, the strategy first."""
    names = [n for n in varied if numeric_parameter(frame[n])[0] is None and frame[n].nunique() > 1]
    return sorted(names, key=lambda n: n != STRATEGY)


def _p_lost_by_category(frame: pd.DataFrame, varied: list[str], out_dir: Path) -> list[_Section]:
    names = _categorical(frame, varied)
    if not names:
        return []
    fig = Figure(figsize=(4.5 * len(names), 3.8), dpi=110)
    axes = fig.subplots(1, len(names), squeeze=False)
    tables = []
    for ax, name in zip(axes[0], names, strict=True):
        table = group_summary(frame, name)
        _interval_points(ax, table, "p_lost")
        ax.set_ylim(0, 1)
        ax.set_xlabel(name)
        if name != STRATEGY:  # its table is in the strategy comparison
            tables.append(f"<h3>{html.escape(name)}</h3>" + _group_table(table))
    axes[0][0].set_ylabel("P(lost), 95 % Wilson interval")
    path = out_dir / "p_lost.png"
    _save(fig, path)
    return [_Section("Probability of losing the rover", "".join(tables), path)]


def _interval_points(ax, table: pd.DataFrame, name: str) -> None:
    """Values per level with their interval as error bars (none where the interval is NaN)."""
    x = np.arange(len(table))
    value = table[name].to_numpy(dtype=float)
    low = np.nan_to_num(value - table[f"{name}_low"].to_numpy(dtype=float))
    high = np.nan_to_num(table[f"{name}_high"].to_numpy(dtype=float) - value)
    ax.errorbar(x, value, yerr=[low, high], fmt="o", capsize=4, color="tab:purple")
    ax.set_xticks(x, [str(v) for v in table.index], rotation=30 if len(x) > 4 else 0)
    ax.set_xlim(-0.5, len(x) - 0.5)


def _group_table(table: pd.DataFrame) -> str:
    columns = {"runs": None, "lost": None, "p_lost": 3, "holes": None, "water_wt_pct": 2,
               "fraction_at_threshold": 3, "drills": 1, "distance_km": 2}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in (table.index.name or "group", *columns))
    rows = []
    for level, row in table.iterrows():
        cells = [str(level)] + [f"{int(row[c])}" if d is None else _ci(row, c, d) for c, d in columns.items()]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _strategies(frame: pd.DataFrame, varied: list[str], out_dir: Path) -> list[_Section]:
    if STRATEGY not in varied or frame[STRATEGY].nunique() < 2:
        return []
    table = group_summary(frame, STRATEGY)
    panels = (("water_wt_pct", "mean water per hole [wt%]"),
              ("fraction_at_threshold", "fraction of holes >= threshold"),
              ("drills", "holes per run"), ("p_lost", "P(lost)"))
    fig = Figure(figsize=(14, 3.8), dpi=110)
    axes = fig.subplots(1, len(panels))
    for ax, (name, label) in zip(axes, panels, strict=True):
        _interval_points(ax, table, name)
        ax.set_title(label, fontsize=10)
        ax.set_ylim(bottom=0)
    path = out_dir / "strategies.png"
    _save(fig, path)
    return [_Section("Strategy comparison", _group_table(table), path)]


def _sensitivities(frame: pd.DataFrame, varied: list[str], out_dir: Path) -> list[_Section]:
    sections = []
    runs = finished_runs(frame)
    for name in varied:
        if runs[name].nunique() < 2:
            sections.append(_Section(f"Sensitivity to {name}",
                                     "<p>Takes a single value over the finished runs: no sensitivity.</p>"))
            continue
        results = [sensitivity(frame, name, outcome) for outcome in _SENSITIVITY_OUTCOMES]
        path = out_dir / _sensitivity_file(name)
        _sensitivity_figure(frame, results, path)
        sections.append(_Section(f"Sensitivity to {name}", _sensitivity_table(results), path))
    return sections


def _sensitivity_figure(frame: pd.DataFrame, results: list[Sensitivity], path: Path) -> None:
    fig = Figure(figsize=(4.6 * len(results), 3.8), dpi=110)
    axes = fig.subplots(1, len(results))
    for ax, result in zip(axes, results, strict=True):
        table = result.table
        ax.set_ylabel(OUTCOMES[result.outcome])
        if table.empty:
            ax.text(0.5, 0.5, "no data (no holes)", ha="center", va="center", transform=ax.transAxes)
        elif result.kind == "numeric":
            if result.outcome != "lost":
                y = outcome_values(frame, result.outcome)
                x, _ = numeric_parameter(finished_runs(frame).loc[y.index, result.parameter])
                ax.scatter(x, y, s=8, color="0.6", alpha=0.6, lw=0)
            ax.errorbar(table["x"], table["mean"], yerr=_yerr(table), fmt="o-", capsize=4, color="tab:purple")
            ax.set_xlabel(result.label)
            ax.set_title(f"Spearman rho = {result.rho:.2f}, p = {result.p_value:.2g} (n = {result.n})"
                         if not np.isnan(result.rho) else f"rho undefined (n = {result.n})", fontsize=9)
        else:
            x = np.arange(len(table))
            ax.errorbar(x, table["mean"], yerr=_yerr(table), fmt="o", capsize=4, color="tab:purple")
            ax.set_xticks(x, [str(v) for v in table["level"]], rotation=30 if len(x) > 4 else 0)
            ax.set_xlim(-0.5, len(x) - 0.5)
            ax.set_xlabel(result.label)
            ax.set_title(f"per level (n = {result.n})", fontsize=9)
        if result.outcome == "lost":
            ax.set_ylim(0, 1)
    _save(fig, path)


def _yerr(table: pd.DataFrame) -> list[np.ndarray]:
    mean = table["mean"].to_numpy(dtype=float)
    return [np.nan_to_num(mean - table["low"].to_numpy(dtype=float)),
            np.nan_to_num(table["high"].to_numpy(dtype=float) - mean)]


def _sensitivity_table(results: list[Sensitivity]) -> str:
    """Spearman rho and p per outcome (numeric parameter), or the mean per level (categorical)."""
    if results[0].kind == "numeric":
        head = ("outcome", "runs", "Spearman rho", "p")
        rows = [(OUTCOMES[r.outcome], str(r.n), _number(r.rho, ".3f"), _number(r.p_value, ".3g")) for r in results]
    else:
        head = ("outcome", "level", "runs", "mean [95 % CI]")
        rows = [(OUTCOMES[r.outcome], str(t.level), str(t.n),
                 f"{_number(t.mean, '.3g')} [{_number(t.low, '.3g')}, {_number(t.high, '.3g')}]")
                for r in results for t in r.table.itertuples()]
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{cells}</table>"


def _number(value: float, form: str) -> str:
    return "n/a" if np.isnan(value) else format(value, form)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _write_html(sections: list[_Section], runs: int, path: Path) -> None:
    parts = []
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.image is not None:
            parts.append(f"<img src='{_image(s.image)}' alt='{html.escape(s.title)}'>")
        parts.append(s.body)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lupex campaign report</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>lupex campaign: {runs} runs</h1>
{''.join(parts)}
</body></html>
"""
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(page)
