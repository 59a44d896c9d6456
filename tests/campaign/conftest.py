"""A tiny campaign (a 2.4 km synthetic site, 1-day missions) and its serial reference run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lupex.campaign.runner import run_campaign
from lupex.campaign.spec import load_campaign

TINY = """[campaign]
name = "tiny"
seed = 3
runs = 3
days = 1

[base]
seed = 5
landing_utc = "2028-09-01T00:00:00Z"
horizon_azimuths = 48
thermal_max_pixels = 20
site = {size = 120, resolution_m = 20.0, center_lat = -89.45, center_lon = 222.7}

[grid]
"sim.strategy" = ["adaptive", "baseline"]

[distributions]
"rover.battery.capacity_wh" = {kind = "uniform", low = 2500.0, high = 4000.0}
"""


def write_campaign(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    """Write a campaign file into ``folder`` and return its path."""
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory) -> Path:
    return write_campaign(tmp_path_factory.mktemp("campaign"))


@pytest.fixture(scope="session")
def serial(tiny_file, tmp_path_factory) -> Path:
    """The campaign run serially in this process (the reference), its folder."""
    out = tmp_path_factory.mktemp("serial") / "out"
    result = run_campaign(load_campaign(tiny_file), out, workers=0)
    assert result.total == 6 and result.resumed == 0 and not result.failed
    return out


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time [ns]."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}
