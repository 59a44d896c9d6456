"""What a campaign's worker does: compute a site once, and simulate runs on a cached world.

A site's precomputation (terrain, hazards, horizons, Sun and Earth maps, thermal run and water
prior; :func:`lupex.mission.write_site`) depends on a few fields of the mission configuration
only (:data:`SITE_FIELDS`); runs that agree on them share one site folder ``sites/KEY``. The
world built on a site (landing, the planner's lattice and node sky, the rover's sky) depends
on the rover and the planner as well (:func:`world_key`), and costs more than a short
simulation, so each process keeps the last few worlds it built; a world is never changed by a
run (the engine copies what it edits), so a cached one gives the same results as a fresh one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from lupex import __version__
from lupex.campaign.spec import digest
from lupex.errors import LupexError
from lupex.files import atomic_folder
from lupex.mission import (
    MissionConfig,
    check_site,
    choose_site_landing,
    read_site,
    sim_summary,
    site_world,
    write_site,
)
from lupex.sim.engine import Simulation
from lupex.sim.world import World

__all__ = ["SITE_FIELDS", "WORLD_CACHE_SIZE", "ensure_site", "run_one", "site_key", "world_key"]

SITE_FIELDS = ("hazards", "landing_utc", "days", "sky_step_h", "horizon_azimuths", "ice", "thermal_max_pixels")
"""Fields of :class:`MissionConfig` the site stages read, besides the terrain (``dem``, or ``site`` and its seed)."""

WORLD_CACHE_SIZE = 2
"""Worlds each process keeps [-]; a default-site world is large (its lattice's sky over the whole mission)."""

_worlds: OrderedDict[str, World] = OrderedDict()
_worlds_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def site_key(config: MissionConfig) -> str:
    """The key of the run's site: a digest of the terrain (the DEM file's bytes, or the synthetic
    site with its seed) and of :data:`SITE_FIELDS`."""
    fields: dict[str, Any] = {name: getattr(config, name) for name in SITE_FIELDS}
    if config.dem is not None:
        if not Path(config.dem).is_file():
            raise LupexError(f"the DEM {config.dem} does not exist or is not a file")
        stat = Path(config.dem).stat()
        fields["dem"] = _file_digest(str(config.dem), stat.st_size, stat.st_mtime_ns)
    else:
        fields["site"] = config.synth_config()
    return digest({name: _plain(value) for name, value in fields.items()})[:16]


def world_key(config: MissionConfig) -> str:
    """The key of the run's world: its site, and what the landing and :func:`lupex.sim.world.build_world`
    read besides (rover, landing radius, the planner, the roaming radius)."""
    sim = config.sim
    return site_key(config) + "-" + digest({
        "rover": _plain(config.rover), "landing_radius_m": config.landing_radius_m, "plan": _plain(sim.plan),
        "search_radius_m": sim.search_radius_m, "survey_size_m": sim.survey_size_m})[:16]


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def ensure_site(config: MissionConfig, sites_dir: str | Path) -> str:
    """Compute the run's site into ``sites_dir/KEY`` unless it is there already; return KEY.

    The folder appears whole or not at all (``site.json`` last); a worker killed half-way leaves
    only a hidden temporary folder, and the retried task starts again.
    """
    key = site_key(config)
    folder = Path(sites_dir) / key
    if (folder / "site.json").is_file():
        return key
    given_dem = check_site(config)
    summary: dict[str, Any] = {"lupex_version": __version__, "key": key, "stages_completed": [],
                               "landing_utc": config.landing_utc, "days": config.days}
    outputs: list[str] = ["site.json"]
    with atomic_folder(folder, overwrite=True) as work:
        write_site(config, given_dem, work, summary, outputs)
        summary["outputs"] = sorted(outputs)
        (work / "site.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return key


def _world(config: MissionConfig, sites_dir: Path) -> World:
    key = f"{sites_dir.resolve()}/{world_key(config)}"
    with _worlds_lock:  # a worker of a remote scheduler may run several threads
        if key in _worlds:
            _worlds.move_to_end(key)
            return _worlds[key]
        site = read_site(sites_dir / site_key(config), config.ice)
        world = site_world(config, site, choose_site_landing(config, site))
        _worlds[key] = world
        while len(_worlds) > WORLD_CACHE_SIZE:
            _worlds.popitem(last=False)
        return world


def run_one(config: MissionConfig, sites_dir: str | Path, site_ready: str | None = None) -> dict[str, Any]:
    """Simulate one run on its site (computed by :func:`ensure_site`) and return its summary fields
    (:func:`lupex.mission.sim_summary`).

    Parameters
    ----------
    config : MissionConfig
        The run.
    sites_dir : path-like
        The campaign's ``sites`` folder.
    site_ready : str, optional
        The site's key as returned by :func:`ensure_site`; unused, it makes a Dask task wait for the site.
    """
    world = _world(config, Path(sites_dir))
    result = Simulation(world, config.rover, config.sim, config.seed).run()
    return sim_summary(result, config.seed, config.sim.threshold_wt_pct)
