"""Make the picture of docs/ice.md from lupex itself.

Run from the repository root:
    python docs/scripts/make_ice_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from affine import Affine

from lupex.ice import IceParams, WaterTruth, water_prior
from lupex.raster import grid_array, polar_crs

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
PIXEL_M = 10.0
SIZE_PX = 100
LEFT, TOP = 20_000.0, 31_000.0


def cold_trap_site() -> xr.Dataset:
    """A 1 km site around a round cold trap: ice stable at the surface within 150 m of its centre,
    deeper outward (0.5 m per 100 m), and nowhere beyond 1.5 m."""
    centre = (np.arange(SIZE_PX) + 0.5) * PIXEL_M - SIZE_PX * PIXEL_M / 2
    r = np.hypot(*np.meshgrid(centre, centre))
    depth = np.clip((r - 150.0) / 200.0, 0.0, None)
    depth = np.where(depth < 1.5, depth, np.nan).astype(np.float32)
    transform = Affine(PIXEL_M, 0.0, LEFT, 0.0, -PIXEL_M, TOP)
    return xr.Dataset({"ice_depth_m": grid_array(depth, transform, polar_crs(), "ice_depth_m", "m")})


def _map(ax, values, title, label, cmap, vmax=None):
    extent = (0, SIZE_PX * PIXEL_M, 0, SIZE_PX * PIXEL_M)
    image = ax.imshow(values, extent=extent, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    plt.colorbar(image, ax=ax, shrink=0.85, label=label)


def ice_figure() -> None:
    thermal = cold_trap_site()
    params = IceParams()
    prior = water_prior(thermal, params)
    truth = WaterTruth.from_prior(prior, params, seed=1)
    cells = LEFT + np.arange(0.5, SIZE_PX * PIXEL_M, 1.0)
    x, y = np.meshgrid(cells, TOP - np.arange(0.5, SIZE_PX * PIXEL_M, 1.0))
    fig, axes = plt.subplots(2, 2, figsize=(12, 10), layout="constrained")
    _map(axes[0, 0], thermal["ice_depth_m"], "ice-stability depth (synthetic cold trap)", "depth [m]", "viridis_r", 1.5)
    _map(axes[0, 1], prior["weh_top1m_mean"], "prior: expected WEH, top 1 m", "WEH [wt%]", "YlGnBu")
    _map(axes[1, 0], truth.column(x, y), "one ground truth (seed 1) at 1 m: WEH, top 1 m", "WEH [wt%]", "YlGnBu", 8)

    ax = axes[1, 1]
    row, col = 50, 68  # a pixel where ice is stable at ~0.2 m
    edges = np.append(prior["depth_top"].values, prior["depth_bottom"].values[-1])
    mean = prior["weh_mean_wt_pct"].isel(y=row, x=col).values
    std = prior["weh_std_wt_pct"].isel(y=row, x=col).values
    s = float(prior["ice_depth_m"].isel(y=row, x=col))
    px, py = float(prior["x"][col]), float(prior["y"][row])
    ax.stairs(mean + std, edges, baseline=np.maximum(mean - std, 0), orientation="horizontal", fill=True,
              color="C0", alpha=0.2, label="prior mean +- 1 sd")
    ax.stairs(mean, edges, baseline=None, orientation="horizontal", color="C0", lw=2, label="prior mean")
    offsets = np.arange(-14.5, 15.0, 1.0)  # drill sites 1 m apart in the pixel and its neighbours
    gx, gy = np.meshgrid(px + offsets, py + offsets)
    found = truth.sample(gx.ravel(), gy.ravel())
    _, first = np.unique(found.concentration_wt_pct, return_index=True)  # one core per patch
    first = first[np.isfinite(found.concentration_wt_pct[first])]
    cores = truth.layers(gx.ravel()[first], gy.ravel()[first])
    for k in range(min(cores.shape[1], 4)):
        ax.stairs(cores[:, k], edges, baseline=None, orientation="horizontal", color="0.4", lw=1,
                  label="cores within 15 m, one per patch" if k == 0 else None)
    ax.axhline(s, color="k", ls=":", label=f"ice-stability depth {s:.2f} m")
    ax.set_ylim(1.5, 0)
    ax.set_xlabel("WEH [wt%]")
    ax.set_ylabel("depth [m]")
    ax.set_title("one pixel: prior profile and cores from the truth", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.savefig(IMAGES / "ice_prior_truth.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    ice_figure()
