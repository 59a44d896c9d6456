"""Make the sky pictures of docs/sky.md from the real LOLA global DEM (LDEM_4, 4 px/deg).

Run from the repository root (needs ../shared/data):
    python docs/scripts/make_sky_figures.py
Crops LDEM_4 onto a 700 km polar stereographic tile at 2.5 km, computes its horizons at 360
azimuths and the Sun / Earth maps over 2025-2026 every 3 h (PSR over a full 18.61-year cycle).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from lupex.report.quicklook import hillshade
from lupex.sky.horizon_map import compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.maps import IlluminationConfig, illumination_maps
from lupex.terrain.readers import open_dem
from lupex.terrain.reproject import crop_to_polar

ROOT = Path(__file__).resolve().parents[2]
LDEM_4 = ROOT.parent / "shared" / "data" / "lola" / "LDEM_4.LBL"


def main() -> None:
    dem = crop_to_polar(open_dem(LDEM_4), -90.0, 0.0, 700.0, 2500.0)
    with tempfile.TemporaryDirectory() as tmp:
        cube = compute_horizon_file(dem, Path(tmp) / "h.nc", 360)
        maps = illumination_maps(dem, open_horizon(cube, dem),
                                 IlluminationConfig(start="2025-01-01", end="2027-01-01", step_h=3.0)).load()
    extent = np.array([dem.x.min(), dem.x.max(), dem.y.min(), dem.y.max()]) / 1000
    shade = hillshade(dem, azimuth_deg=300, altitude_deg=25)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.4), layout="constrained")
    panels = [
        ("sun_fraction_mean", "mean visible Sun, 2025-2026", "inferno", (0, 0.8)),
        ("psr", "permanently shadowed (18.61-year cycle)", "Blues", (0, 1)),
        ("earth_visible_fraction", "Earth in view, 2025-2026", "viridis", (0, 1)),
    ]
    for ax, (name, title, cmap, (vmin, vmax)) in zip(axes, panels, strict=True):
        ax.imshow(shade, cmap="gray", extent=extent)
        values = maps[name].values.astype(float)
        if name == "psr":
            values = np.where(values > 0, 1.0, np.nan)
        image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.75, extent=extent)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title)
        ax.set_xlabel("x [km]")
        ax.set_ylabel("y [km]")
    fig.suptitle("LOLA LDEM_4 (7.6 km/px) cropped onto the south polar map at 2.5 km, 700 km square")
    fig.savefig(ROOT / "docs" / "images" / "sky_ldem4_south_cap.png", dpi=80)
    plt.close(fig)
    psr_km2 = float(maps["psr"].values.sum()) * 2.5**2
    mean_sun = float(maps["sun_fraction_mean"].mean())
    print(f"PSR area on this tile: {psr_km2:.0f} km2; mean Sun over the tile {mean_sun:.3f}")


if __name__ == "__main__":
    main()
