"""The mission orchestrator: runs every stage lupex has, in order, into one output folder.

Stages available today: the site (a synthetic south-pole tile, or a DEM given by the user)
and its hazard layers. Later stages (sky, thermal and ice, planning, simulation) join here
as they are built; ``summary.json`` lists which stages ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lupex import __version__
from lupex.files import atomic_folder
from lupex.raster import write_geotiff
from lupex.report.quicklook import save_quicklook
from lupex.terrain.derive import HazardConfig
from lupex.terrain.info import summarize
from lupex.terrain.outputs import write_layers
from lupex.terrain.readers import open_dem, read_dem
from lupex.terrain.synth import SynthConfig, synthesize

__all__ = ["MissionConfig", "run_mission"]

PENDING_STAGES = ("sky", "thermal", "ice", "planning", "simulation")


class MissionConfig(BaseModel):
    """Everything a mission run needs (validated, immutable; loaded from TOML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(2028, ge=0, description="Seed of every random draw in the run.")
    dem: Path | None = Field(None, description="Real terrain to use instead of a synthetic site.")
    site: SynthConfig = Field(
        default_factory=lambda: SynthConfig(size=1024, resolution_m=20.0, center_lat=-89.45, center_lon=222.7),
        description="The synthetic site (used when no DEM is given): 20.5 km square at 20 m near "
        "the south pole, large enough for the >= 10 km traverse JAXA plans.",
    )
    hazards: HazardConfig = Field(default_factory=HazardConfig, description="Traversability limits.")


def run_mission(config: MissionConfig, out_dir: Path, overwrite: bool = False,
                step: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Run the available stages and write their products into ``out_dir``.

    Parameters
    ----------
    config : MissionConfig
        The run's configuration.
    out_dir : Path
        Output folder; replaced only when the whole run succeeds.
    overwrite : bool
        Whether an existing folder with files may be replaced.
    step : callable, optional
        Called with a short description as each stage starts (progress display).

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    step = step or (lambda message: None)
    with atomic_folder(out_dir, overwrite) as work:
        step("terrain: building the site")
        if config.dem is not None:
            dem, rocks, craters = read_dem(config.dem), None, None
            site = {"source": str(config.dem)}
        else:
            synthetic = synthesize(config.site.model_copy(update={"seed": config.seed}))
            dem, rocks, craters = synthetic.dem, synthetic.rocks, len(synthetic.craters)
            site = {"source": "synthetic", **synthetic.config.model_dump()}
            write_geotiff(rocks, work / "rocks.tif")
        write_geotiff(dem, work / "dem.tif")
        save_quicklook(dem, work / "site.png", "mission site: heights over hillshade", "gist_earth",
                       "height above 1737.4 km sphere [m]", relief=dem)
        step("terrain: slope, roughness, rock hazard, traversability")
        layers, written = write_layers(dem, rocks, config.hazards, work)
        summary = {
            "lupex_version": __version__,
            "status": "terrain-only",
            "stages_completed": ["terrain", "hazards"],
            "stages_pending": list(PENDING_STAGES),
            "seed": config.seed,
            "site": site,
            "terrain": summarize(open_dem(work / "dem.tif")) | {"path": "dem.tif"},
            "craters": craters,
            "traversable_fraction": float(np.mean(layers["traversable"].values)),
            "hazard_median_per_100m2": float(np.nanmedian(layers["hazard"].values)),
            "outputs": sorted(["dem.tif", "site.png", "summary.json"] + [p.name for p in written]
                              + (["rocks.tif"] if rocks is not None else [])),
        }
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
