"""Make the picture of docs/planning.md with 'lupex plan' itself, and print the figures it quotes.

Run from the repository root:
    python docs/scripts/make_plan_figure.py
Builds a 300 x 300 px synthetic tile at 20 m (seed 7, centred on 89.45 S, 222.7 E), its
illumination over 2028-08-20 to 2028-09-05 (90 azimuths), and plans 14 days from 20 August
2028 from a sunny start through two sunny waypoints about 3 km apart each.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from lupex.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
START, WAYPOINTS = "-89.44711,231.0039", "-89.44975,221.0147;-89.43355,213.2182"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lupex-plan-doc-"))
    try:
        dem = work / "site.tif"
        assert run(["-q", "terrain", "synth", "--size", "300", "--resolution", "20", "--center-lat", "-89.45",
                    "--center-lon", "222.7", "--seed", "7", "--out", str(dem)]) == 0
        assert run(["-q", "illuminate", str(dem), "--start", "2028-08-20T00:00:00Z", "--end", "2028-09-05T00:00:00Z",
                    "--azimuths", "90", "--out", str(work / "sky")]) == 0
        started = time.perf_counter()
        assert run(["-q", "plan", str(dem), f"--start={START}", f"--waypoints={WAYPOINTS}", "--start-time",
                    "2028-08-20T00:00:00Z", "--days", "14", "--sky", str(work / "sky"), "--out",
                    str(work / "plan")]) == 0
        print(f"plan in {time.perf_counter() - started:.1f} s")
        print(json.dumps(json.loads((work / "plan" / "summary.json").read_text()), indent=1))
        target = ROOT / "docs" / "images" / "plan_synthetic.png"
        shutil.copyfile(work / "plan" / "plan.png", target)
        target.chmod(0o644)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
