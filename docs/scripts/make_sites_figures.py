"""Make the picture of docs/sites.md with 'lupex sites' itself, and print the figures the page quotes.

Run from the repository root:
    python docs/scripts/make_sites_figures.py
Builds the default mission site's terrain at half its size (512 x 512 px at 20 m, seed 2028,
centred on 89.45 S, 222.7 E), ranks the landing sites within 4 km of its centre for a
100-day surface mission starting 2028-08-01 (horizons at 360 azimuths, maps every hour), and
again for the default landing date 2028-03-01 (the same horizons, reused).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from lupex.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
REGION = "-89.45,222.7,4"


def _summary(label: str, table: pd.DataFrame, seconds: float) -> None:
    feasible = table[table["feasible"]]
    words = table["reason"].dropna().str.split("; ").explode().str.split(" ").str[0].value_counts()
    failures = {word: int(count) for word, count in words.items()}
    print(f"{label}: {len(feasible)} of {len(table)} feasible in {seconds:.0f} s; fails per limit: {failures}")
    print(f"  median over candidates: sun {table['sun_fraction_mean'].median():.3f}, "
          f"Earth {table['earth_visible_fraction'].median():.3f}, darkness {table['max_darkness_h'].median():.0f} h")
    columns = ["rank", "lat", "lon", "score", "sun_fraction_mean", "max_darkness_h", "earth_visible_fraction",
               "lander_slope_deg", "hazard_per_100m2", "ice_reachable_m2"]
    print(feasible[columns].head(5).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dem = tmp / "site.tif"
        assert run(["-q", "terrain", "synth", "--size", "512", "--resolution", "20", "--center-lat", "-89.45",
                    "--center-lon", "222.7", "--seed", "2028", "--out", str(dem), "--no-quicklook"]) == 0
        spring = tmp / "spring"
        started = time.perf_counter()
        assert run(["-q", "sites", str(dem), "--region", REGION, "--start", "2028-08-01T00:00:00Z",
                    "--out", str(spring)]) == 0
        _summary("start 2028-08-01", pd.read_csv(spring / "sites.csv"), time.perf_counter() - started)
        shutil.copy(spring / "sites.png", ROOT / "docs" / "images" / "sites_synthetic.png")
        winter = tmp / "winter"
        winter.mkdir()
        shutil.copy(spring / "horizon.nc", winter / "horizon.nc")  # resumed: same DEM and azimuths
        started = time.perf_counter()
        assert run(["-q", "sites", str(dem), "--region", REGION, "--out", str(winter)]) == 0
        _summary("default start 2028-03-01", pd.read_csv(winter / "sites.csv"), time.perf_counter() - started)


if __name__ == "__main__":
    main()
