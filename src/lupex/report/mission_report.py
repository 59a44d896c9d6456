"""Pictures and the self-contained HTML report of a simulated mission."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from lupex.files import atomic_output
from lupex.report.quicklook import extent_km, hillshade

__all__ = ["mission_map", "mission_report_html", "mission_timeline"]

_ACTIVITY_COLOURS = {"drive": "tab:blue", "wait": "tab:green", "hibernate": "0.3", "drill": "tab:red",
                     "analyse": "tab:orange"}


def mission_map(dem: xr.DataArray, psr: xr.DataArray | None, telemetry: pd.DataFrame, holes: pd.DataFrame,
                path: Path) -> None:
    """Route over hillshade with permanent shadow, and the holes coloured by the water found."""
    extent = extent_km(dem)
    fig = Figure(figsize=(8, 7), dpi=110)
    ax = fig.subplots()
    ax.imshow(hillshade(dem), cmap="gray", extent=extent, interpolation="nearest")
    if psr is not None:
        shadow = np.ma.masked_where(np.asarray(psr.values) != 1, np.ones(psr.shape))
        ax.imshow(shadow, cmap="Blues", alpha=0.45, vmin=0, vmax=1.5, extent=extent, interpolation="nearest")
    ax.plot(telemetry["x_m"] / 1000, telemetry["y_m"] / 1000, color="gold", lw=1.2, label="route")
    ax.plot(telemetry["x_m"].iloc[0] / 1000, telemetry["y_m"].iloc[0] / 1000, "w^", ms=9,
            mec="k", label="landing")
    if len(holes):
        dots = ax.scatter(holes["x_m"] / 1000, holes["y_m"] / 1000, c=holes["max_wt_pct"],
                          cmap="viridis", vmin=0, vmax=max(5.0, float(holes["max_wt_pct"].max())), s=40,
                          edgecolors="k", zorder=3, label="holes")
        fig.colorbar(dots, ax=ax, shrink=0.8, label="highest water in the core [wt% WEH]")
    span = max(np.ptp(telemetry["x_m"]), np.ptp(telemetry["y_m"]), 500.0) / 1000
    cx, cy = telemetry["x_m"].mean() / 1000, telemetry["y_m"].mean() / 1000
    ax.set_xlim(cx - 0.7 * span, cx + 0.7 * span)
    ax.set_ylim(cy - 0.7 * span, cy + 0.7 * span)
    ax.set_xlabel("polar stereographic x [km]")
    ax.set_ylabel("polar stereographic y [km]")
    ax.set_title("route, holes and permanent shadow (blue)")
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def mission_timeline(telemetry: pd.DataFrame, path: Path) -> None:
    """Battery, power, the warm box's temperature, Sun, Earth and activity over the mission."""
    t = telemetry["time"]
    fig = Figure(figsize=(10, 9), dpi=110)
    charge, power, box, sky, activity = fig.subplots(5, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 2, 1, 1]})
    charge.plot(t, 100 * telemetry["soc"], color="tab:purple", lw=0.8)
    charge.set_ylabel("charge [%]")
    charge.set_ylim(0, 105)
    power.plot(t, telemetry["solar_w"], color="tab:orange", lw=0.6, label="array")
    power.plot(t, telemetry["load_w"], color="tab:blue", lw=0.6, label="load")
    power.plot(t, telemetry["heater_w"], color="tab:red", lw=0.6, label="heaters")
    power.set_ylabel("power [W]")
    power.legend(loc="upper right", fontsize=8)
    box.plot(t, telemetry["box_temp_c"], color="tab:red", lw=0.8)
    box.set_ylabel("warm box [degC]")
    sky.fill_between(t, 0, telemetry["sun_fraction"], color="gold", step="post", label="Sun")
    sky.fill_between(t, -1, -telemetry["earth_visible"].astype(float), color="tab:cyan", step="post",
                     label="Earth")
    sky.set_yticks([-0.5, 0.5], ["Earth", "Sun"])
    for name, colour in _ACTIVITY_COLOURS.items():
        on = (telemetry["activity"] == name).astype(float)
        activity.fill_between(t, 0, on, color=colour, step="post", label=name, lw=0)
    activity.set_yticks([])
    activity.legend(loc="upper right", fontsize=7, ncol=5)
    activity.set_xlabel("UTC")
    fig.autofmt_xdate()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def mission_report_html(summary: dict[str, Any], holes: pd.DataFrame, images: dict[str, Path], path: Path) -> None:
    """One HTML file, pictures embedded, that a person can open anywhere."""
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
                   for k, v in summary.items() if not isinstance(v, dict | list))
    hole_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in holes.round(3).itertuples(index=False))
    hole_head = "".join(f"<th>{html.escape(c)}</th>" for c in holes.columns)
    figures = "".join(f"<h2>{html.escape(title)}</h2><img src='{_image(p)}' alt='{html.escape(title)}'>"
                      for title, p in images.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lupex mission report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>lupex mission: {html.escape(str(summary.get('status')))}</h1>
<p>{html.escape(str(summary.get('reason') or ''))}</p>
<table>{rows}</table>
{figures}
<h2>Holes</h2><table><tr>{hole_head}</tr>{hole_rows}</table>
</body></html>
"""
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(page)
