"""Fuzzing the configuration readers: mission, rover and campaign TOML (and rover JSON).

A valid mission or campaign would run for minutes, so these properties call the library's
pre-flight (what ``lupex mission`` and ``lupex campaign run`` do before any work) and accept only
success or a LupexError; when the pre-flight refuses a file, the command line must refuse it too,
in one line, without creating its output folder.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from pydantic import BaseModel

from lupex.campaign.spec import load_campaign
from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.mission import MissionConfig, check_site
from lupex.rover.model import RoverConfig
from tests.fuzz.conftest import fuzz, time_limit
from tests.fuzz.inputs import (
    Fixed,
    apply_edits,
    byte_edits,
    toml_document,
    toml_values,
    write_small_geotiff,
    write_small_pds3,
)


def field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every settable key of a configuration model, dotted (``rover.battery.capacity_wh``)."""
    names = []
    for name, field in model.model_fields.items():
        inner = field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            names += field_names(inner, f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


MISSION_KEYS = [*field_names(MissionConfig), "site", "rover", "sim.plan", "unknown", "rover.battery.unknown"]
ROVER_KEYS = [*field_names(RoverConfig), "battery", "unknown"]

SMALL_MISSION = [("days", 1), ("landing_utc", "2028-09-01T00:00:00Z"), ("horizon_azimuths", 48),
                 ("thermal_max_pixels", 20), ("site.size", 120), ("site.resolution_m", 20.0),
                 ("site.center_lat", -89.45)]
"""A mission that passes the pre-flight (three days on a 2.4 km site)."""


@pytest.fixture(scope="module")
def dem_files(tmp_path_factory) -> Fixed:
    folder = tmp_path_factory.mktemp("dems")
    return Fixed("a GeoTIFF, a PDS3 label, a missing file and a folder",
                 [str(write_small_geotiff(folder / "dem.tif")), str(write_small_pds3(folder)),
                  str(folder / "missing.tif"), str(folder)])


def _entries(keys: list[str]) -> st.SearchStrategy:
    return st.lists(st.tuples(st.sampled_from(keys), toml_values), max_size=4)


def _preflight(path: Path) -> bool:
    """What ``lupex mission --config PATH`` does before any work; True when it refuses."""
    try:
        with time_limit():
            check_site(build(MissionConfig, load_toml(path), str(path)))
    except LupexError:
        return True
    return False


def _mission_cli_refuses(lupex, path: Path, folder: Path) -> None:
    result = lupex("mission", "--config", path, "--out", folder / "out")
    assert result.code == 2
    assert not (folder / "out").exists()


def check_mission_values(lupex, dem_files, entries, dem, keep_small):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "mission.toml"
        chosen = [*(SMALL_MISSION if keep_small else []), *entries]
        if dem is not None:
            chosen.append(("dem", dem_files.value[dem]))
        path.write_text(toml_document(chosen))
        if _preflight(path):
            _mission_cli_refuses(lupex, path, folder)


test_mission_config_values, test_mission_config_values_slow = fuzz(
    entries=_entries(MISSION_KEYS), dem=st.one_of(st.none(), st.integers(0, 3)), keep_small=st.booleans(),
)(check_mission_values)


def check_mission_bytes(lupex, edits):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "mission.toml"
        path.write_bytes(apply_edits(toml_document(SMALL_MISSION).encode(), edits))
        if _preflight(path):
            _mission_cli_refuses(lupex, path, folder)


test_mission_config_bytes, test_mission_config_bytes_slow = fuzz(edits=byte_edits(200, header=200))(check_mission_bytes)


def _nested(entries: list[tuple[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in entries:
        *tables, last = key.split(".")
        where = values
        for table in tables:
            where = where.setdefault(table, {}) if isinstance(where.get(table, {}), dict) else {}
        where[last] = value
    return values


def check_rover(lupex, entries, as_json):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / ("rover.json" if as_json else "rover.toml")
        path.write_text(json.dumps(_nested(entries)) if as_json else toml_document(entries))
        lupex("rover", "show", "--rover", path, "--json")


test_rover_file_values, test_rover_file_values_slow = fuzz(
    entries=_entries(ROVER_KEYS), as_json=st.booleans())(check_rover)


@pytest.fixture(scope="module")
def rover_template() -> Fixed:
    from lupex.rover.model import rover_toml

    return Fixed("the commented rover file of 'lupex rover init'", rover_toml(RoverConfig()).encode())


def check_rover_bytes(lupex, rover_template, edits):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "rover.toml"
        path.write_bytes(apply_edits(rover_template.value, edits))
        lupex("rover", "show", "--rover", path, "--json")


test_rover_file_bytes, test_rover_file_bytes_slow = fuzz(edits=byte_edits(4000, header=4000))(check_rover_bytes)


# --- campaigns --------------------------------------------------------------------------------

distributions = st.fixed_dictionaries(
    {"kind": st.sampled_from(["uniform", "normal", "integers", "choice", "gamma"])},
    optional={"low": toml_values, "high": toml_values, "mean": toml_values, "std": toml_values,
              "values": st.lists(toml_values, max_size=3)},
)


def _campaign_text(settings: list, base: list, grid: list, drawn: list, base_file: str | None) -> str:
    lines = ["[campaign]", 'name = "fuzz"'] + [f"{key} = {toml_document([(key, value)]).split(' = ', 1)[1].strip()}"
                                               for key, value in settings]
    if base_file is not None:
        lines.append(f"base = {json.dumps(base_file)}")
    lines += ["[base]"] + [line for line in toml_document(base).splitlines()]
    lines += ["[grid]"] + [f"{json.dumps(key)} = {toml_document([('v', values)])[4:].strip()}" for key, values in grid]
    lines += ["[distributions]"] + [f"{json.dumps(key)} = {toml_document([('v', dist)])[4:].strip()}"
                                    for key, dist in drawn]
    return "\n".join(lines) + "\n"


campaign_keys = st.sampled_from([*MISSION_KEYS, "", "a..b", "site.size.x"])


def check_campaign(lupex, settings, base, grid, drawn, base_file):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "base.toml").write_text(toml_document(SMALL_MISSION))
        path = folder / "campaign.toml"
        path.write_text(_campaign_text(settings, base, grid, drawn, base_file))
        try:
            with time_limit():
                load_campaign(path)
        except LupexError:
            result = lupex("campaign", "run", path, "--workers", "0", "--out", folder / "out")
            assert result.code == 2
            assert not (folder / "out").exists()


test_campaign_file, test_campaign_file_slow = fuzz(
    settings=st.lists(st.tuples(st.sampled_from(["seed", "runs", "days", "unknown"]),
                                st.one_of(st.integers(-2, 3), toml_values)), max_size=2, unique_by=lambda kv: kv[0]),
    base=st.lists(st.tuples(st.sampled_from(MISSION_KEYS), toml_values), max_size=3),
    grid=st.lists(st.tuples(campaign_keys, st.lists(toml_values, min_size=0, max_size=3)), max_size=2),
    drawn=st.lists(st.tuples(campaign_keys, distributions), max_size=2),
    base_file=st.one_of(st.none(), st.sampled_from(["base.toml", "missing.toml", ".", "a\u0000b.toml"])),
)(check_campaign)


@pytest.fixture(scope="module")
def campaign_example() -> Fixed:
    from lupex.cli.campaign import EXAMPLE

    return Fixed("the campaign of 'lupex campaign init'", EXAMPLE.encode())


def check_campaign_bytes(campaign_example, edits):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "campaign.toml"
        path.write_bytes(apply_edits(campaign_example.value, edits))
        try:
            with time_limit():
                load_campaign(path, runs=1)  # one replicate, however many the mutated file asks for
        except LupexError:
            pass


test_campaign_file_bytes, test_campaign_file_bytes_slow = fuzz(
    edits=byte_edits(1500, header=1500))(check_campaign_bytes)
