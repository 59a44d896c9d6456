"""Make the picture of docs/targets.md with 'lupex targets' itself.

Run from the repository root:
    python docs/scripts/make_targets_figures.py

A synthetic 6 km tile at 20 m; its water prior comes from a stand-in for the thermal maps (ice
stable at the surface on the lowest tenth of the ground, deeper with height, none above the
45th percentile), since a thermal map of the tile takes minutes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from lupex.cli.main import run
from lupex.geo import xy_to_latlon
from lupex.ice import IceParams, water_prior, write_prior
from lupex.planning.costmap import costmap
from lupex.raster import like
from lupex.rover.model import RoverConfig
from lupex.terrain.derive import derive_layers
from lupex.terrain.outputs import rocks_path_for
from lupex.terrain.readers import read_dem

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dem_path = folder / "site.tif"
        assert run(["-q", "terrain", "synth", "--size", "300", "--resolution", "20", "--center-lat", "-89.5",
                    "--seed", "2028", "--out", str(dem_path), "--no-quicklook"]) == 0
        dem = read_dem(dem_path)
        low, high = np.nanpercentile(dem.values, [10, 45])
        depth = np.clip((dem.values - low) / (high - low) * 1.5, 0.0, None)
        depth = np.where(depth < 1.5, depth, np.nan).astype(np.float32)
        params = IceParams()
        prior = water_prior(xr.Dataset({"ice_depth_m": like(dem, depth, "ice_depth_m", "m")}), params)
        (folder / "prior").mkdir()
        write_prior(prior, params, dem, folder / "prior", "stand-in")
        # Start on drivable ground nearest the tile's centre.
        cost = costmap(derive_layers(dem, read_dem(rocks_path_for(dem_path))), RoverConfig()).values
        allowed = np.argwhere(np.isfinite(cost))
        row, col = allowed[np.argmin(((allowed - np.array(cost.shape) // 2) ** 2).sum(axis=1))]
        lat, lon = xy_to_latlon(float(dem.x[col]), float(dem.y[row]))
        (folder / "targets.toml").write_text("min_spacing_m = 400.0\n")
        args = ["targets", str(dem_path), "--prior", str(folder / "prior"), "--start", f"{lat:.6f},{lon:.6f}",
                "--hours", "72", "--count", "15", "--config", str(folder / "targets.toml"),
                "--out", str(folder / "out")]
        print("lupex " + " ".join(args))
        assert run(args) == 0
        shutil.copy(folder / "out" / "targets.png", IMAGES / "targets_synthetic.png")


if __name__ == "__main__":
    main()
