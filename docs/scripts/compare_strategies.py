"""Adaptive against baseline drilling over many seeds on one site: the table and picture of docs/mission.md.

Each seed draws its own hidden water and metre-scale terrain; both strategies run on the same
seeds over the same world (``lupex.mission.load_world`` of a finished ``lupex mission`` folder).
Prints one row per seed and the means, and draws ``docs/images/strategies.png``. Run as::

    lupex mission --out lupex-out
    python docs/scripts/compare_strategies.py --from lupex-out --seeds 20 --days 30
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from lupex.mission import MissionConfig, holes_frame, load_world
from lupex.sim.engine import Simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", default="lupex-out")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "images" / "strategies.png"))
    args = parser.parse_args()
    config = MissionConfig(days=args.days)
    world = load_world(args.folder, config)
    threshold = config.sim.threshold_wt_pct
    table = {}
    print(f"{'seed':>4s} {'strategy':9s} {'holes':>5s} {'mean wt%':>8s} {'>=1 wt%':>7s} {'km':>5s} {'status':>9s}")
    for strategy in ("adaptive", "baseline"):
        rows = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            result = Simulation(world, config.rover, config.sim.model_copy(update={"strategy": strategy}), seed).run()
            holes = holes_frame(result)
            mean = float(holes["mean_wt_pct"].mean()) if len(holes) else np.nan
            hits = float((holes["max_wt_pct"] >= threshold).mean()) if len(holes) else np.nan
            rows.append((len(holes), mean, hits, result.distance_m / 1000, result.status == "lost"))
            print(f"{seed:4d} {strategy:9s} {len(holes):5d} {mean:8.3f} {hits:7.2f} {result.distance_m / 1000:5.2f} "
                  f"{result.status:>9s}  ({time.perf_counter() - t0:.1f} s)", flush=True)
        table[strategy] = np.array(rows, dtype=float)
    print("\n| strategy | holes per mission | water per hole [wt%, mean of core] | holes reaching >= 1 wt% | lost |")
    print("|---|---:|---:|---:|---:|")
    for strategy, rows in table.items():
        print(f"| {strategy} | {np.mean(rows[:, 0]):.1f} | {np.nanmean(rows[:, 1]):.2f} "
              f"| {100 * np.nanmean(rows[:, 2]):.0f} % | {int(rows[:, 4].sum())} of {len(rows)} |")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=110)
    for k, (label, column) in enumerate((("water per hole [wt%]", 1), ("holes reaching >= 1 wt% [-]", 2))):
        axes[k].boxplot([table[s][:, column][np.isfinite(table[s][:, column])] for s in table], tick_labels=list(table))
        axes[k].set_ylabel(label)
    fig.suptitle(f"{args.seeds} seeds, {args.days:g}-day missions on the default site")
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"\npicture: {args.out}")


if __name__ == "__main__":
    main()
