"""Benchmark: campaign throughput, runs per minute, serially and on a local Dask cluster of 1 and 2 workers.

One campaign (a synthetic site, both strategies, ``--runs`` replicates of each, one rover, so one
world per process) is run three times into fresh folders that already hold its site, so the
shared precomputation (terrain, horizons, Sun and Earth, thermal and prior; timed once and
reported separately) is excluded:

* serial (``--workers 0``): in this process, the reference;
* a LocalCluster of 1 worker, then of 2 workers (one thread each).

Runs per minute count from the moment the cluster is up to the last run recorded (the world's
landing, lattice and sky are built inside the first run of each process, as in a real campaign); cluster start-up is
reported beside. The ratio of 2 workers to 1 is set against 2, the limit on 2 cores; every
configuration must give the same ``campaign.parquet``. Run as::

    python benchmarks/bench_campaign.py [--size 256] [--days 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import dask
from machine import cpu_model, load_average, source_state

import lupex
from lupex.campaign.runner import run_campaign
from lupex.campaign.spec import load_campaign
from lupex.campaign.store import CampaignFolder
from lupex.campaign.tasks import ensure_site

CAMPAIGN = """[campaign]
name = "bench"
seed = 1
runs = {runs}
days = {days}

[base]
seed = 2028
landing_utc = "2028-09-01T00:00:00Z"
site = {{size = {size}, resolution_m = 20.0, center_lat = -89.45, center_lon = 222.7}}

[grid]
"sim.strategy" = ["adaptive", "baseline"]
"""


def timed_campaign(campaign, site_folder: Path, out: Path, workers: int) -> tuple[float, float]:
    """Run ``campaign`` into ``out`` (its site copied in); return the start-up and the runs' time [s]."""
    CampaignFolder(out, campaign).open()
    shutil.copytree(site_folder, out / "sites", dirs_exist_ok=True)
    marks: list[float] = []
    t0 = time.perf_counter()
    run_campaign(campaign, out, workers=workers, on_run=lambda finished, total: marks.append(time.perf_counter()))
    return marks[0] - t0, marks[-1] - marks[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="Side of the synthetic site [pixels of 20 m].")
    parser.add_argument("--days", type=float, default=5.0, help="Length of every mission [days].")
    parser.add_argument("--runs", type=int, default=5, help="Replicates of each strategy.")
    args = parser.parse_args()
    print(f"lupex {lupex.__version__} ({source_state()}), Python {platform.python_version()}, "
          f"dask {dask.__version__}, {cpu_model()}, {os.cpu_count()} CPUs, load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
        tmp = Path(tmp)
        path = tmp / "bench.toml"
        path.write_text(CAMPAIGN.format(runs=args.runs, days=args.days, size=args.size))
        campaign = load_campaign(path)
        n = len(campaign.runs)
        t0 = time.perf_counter()
        ensure_site(campaign.runs[0].config, tmp / "site")
        print(f"campaign: {args.size} x {args.size} px site, {args.days:g}-day missions, {n} runs; "
              f"site precomputation (once, not counted): {time.perf_counter() - t0:.1f} s")
        tables, rows = [], {}
        for workers in (0, 1, 2):
            out = tmp / f"w{workers}"
            rows[workers] = timed_campaign(campaign, tmp / "site", out, workers)
            tables.append((out / "campaign.parquet").read_bytes())
    rate = {workers: n / seconds * 60.0 for workers, (_, seconds) in rows.items()}
    print(f"{'workers':>8s} {'start-up [s]':>13s} {'runs [s]':>9s} {'runs/min':>9s} {'vs 1 worker':>12s}")
    for workers, (startup, seconds) in rows.items():
        print(f"{workers or 'serial':>8} {startup:13.1f} {seconds:9.1f} {rate[workers]:9.2f} "
              f"{rate[workers] / rate[1]:12.2f}")
    print(f"2 workers / 1 worker: {rate[2] / rate[1]:.2f} (the limit on 2 cores: 2.00); "
          f"campaign.parquet identical in all three: {len(set(tables)) == 1}")


if __name__ == "__main__":
    main()
