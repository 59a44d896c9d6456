"""Make the pictures of docs/terrain.md and the README from lupex itself.

Run from the repository root (needs ../shared/data for the LOLA tile):
    python docs/scripts/make_terrain_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from lupex.report.quicklook import hillshade
from lupex.terrain.readers import read_dem
from lupex.terrain.surface import slope
from lupex.terrain.synth import SynthConfig, synthesize

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
LOLA_TILE = ROOT.parent / "shared" / "data" / "lola" / "Shoemaker_final_adj_5mpp_surf_1k.tif"


def _panel(ax, dem, title):
    extent_km = np.array([dem.x.min() - 2.5, dem.x.max() + 2.5, dem.y.min() - 2.5, dem.y.max() + 2.5]) / 1000
    ax.imshow(hillshade(dem, azimuth_deg=300, altitude_deg=20), cmap="gray", extent=extent_km)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x [km]")
    ax.set_ylabel("y [km]")


def comparison_figure() -> None:
    real = read_dem(LOLA_TILE)
    synthetic = [synthesize(SynthConfig(size=512, resolution_m=5, center_lat=-87.18, center_lon=62.84, seed=s)).dem
                 for s in range(4)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained")
    _panel(axes[0], real, "LOLA 5 m, Shoemaker site (PGDA 78), 1.28 km")
    _panel(axes[1], synthetic[0], "lupex synthetic 5 m, seed 0, 2.56 km")
    bins = np.linspace(0, 40, 81)
    real_slopes = slope(real).ravel()
    synth_slopes = np.concatenate([slope(d).ravel() for d in synthetic])
    for values, label, colour in ((real_slopes, "LOLA 5 m tile", "k"), (synth_slopes, "synthetic, seeds 0-3", "C1")):
        axes[2].hist(values, bins=bins, density=True, histtype="step", lw=2, color=colour,
                     label=f"{label}: median {np.median(values):.1f}, p95 {np.percentile(values, 95):.1f} deg")
    axes[2].set_xlabel("slope [deg] (Horn, 5 m)")
    axes[2].set_ylabel("probability density")
    axes[2].legend(fontsize=8)
    axes[2].set_title("slope distributions", fontsize=10)
    fig.savefig(IMAGES / "terrain_comparison.png", dpi=90)
    plt.close(fig)


def site_figure() -> None:
    site = synthesize(SynthConfig(size=1024, resolution_m=20, center_lat=-89.45, center_lon=222.7, seed=2028))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), layout="constrained")
    dem = site.dem
    extent = np.array([dem.x.min() - 10, dem.x.max() + 10, dem.y.min() - 10, dem.y.max() + 10]) / 1000
    axes[0].imshow(hillshade(dem), cmap="gray", extent=extent)
    shown = axes[0].imshow(dem.values, cmap="gist_earth", alpha=0.55, extent=extent)
    fig.colorbar(shown, ax=axes[0], label="height above 1737.4 km [m]", shrink=0.8)
    axes[0].set_title("default mission site (synthetic, seed 2028, 20 m)")
    axes[1].imshow(hillshade(dem), cmap="gray", extent=extent)
    rocks = axes[1].imshow(site.rocks.values, cmap="magma", alpha=0.6, extent=extent, vmin=0, vmax=0.15)
    fig.colorbar(rocks, ax=axes[1], label="rock area fraction k", shrink=0.8)
    axes[1].set_title("rock cover (Golombek & Rapp k)")
    for ax in axes:
        ax.set_xlabel("x [km]")
        ax.set_ylabel("y [km]")
    fig.savefig(IMAGES / "default_site.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    comparison_figure()
    site_figure()
