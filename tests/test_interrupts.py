"""Interrupts at any moment (issue 21): every long command, stopped by Ctrl-C or SIGKILL at several
points, leaves nothing that looks complete unless it is, no temporaries (resumable work is reused),
and a rerun that resumes to the bytes of an uninterrupted run, or refuses naming the reason and
the fix.

The interrupts are deterministic (``tests.hooks``): a hook the command calls (a progress bar's
update, a stage's message, the rename that finishes an output file) raises ``KeyboardInterrupt`` at
its Nth call, where Ctrl-C would land; for SIGKILL a child process patches the same hook to kill
itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from lupex.cli.main import run
from lupex.files import MANIFEST_NAME
from tests.conftest import assert_one_line_error
from tests.hooks import interrupt_at, stopped_at

START, END = "2028-03-01T00:00:00Z", "2028-03-11T00:00:00Z"
MISSION = """seed = 5
days = 1
landing_utc = "2028-09-01T00:00:00Z"
horizon_azimuths = 16
thermal_max_pixels = 20
[site]
size = 120
resolution_m = 20.0
center_lat = -89.45
center_lon = 222.7
"""
CAMPAIGN = """[campaign]
name = "interrupted"
seed = 3
runs = 2
days = 0.5
[base]
seed = 5
landing_utc = "2028-09-01T00:00:00Z"
horizon_azimuths = 16
thermal_max_pixels = 20
site = {size = 120, resolution_m = 20.0, center_lat = -89.45, center_lon = 222.7}
[grid]
"sim.strategy" = ["adaptive", "baseline"]
"""

# --- checks ---------------------------------------------------------------------------------------


def assert_interrupted(result) -> None:
    """Exit status 130 and one line on stderr saying the run was interrupted, no traceback."""
    assert result.code == 130, (result.code, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lupex: interrupted"), result.err
    assert "Traceback" not in result.err


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def debris(root: Path) -> list[str]:
    """Temporaries and locks of lupex runs anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if "~lupex~" in p.name or p.name.endswith(".lupex-lock"))


def assert_nothing_looks_done_unless_it_is(out: Path, reference: Path, resumable=(), differ=()) -> None:
    """Every file of ``out`` with a final name equals the uninterrupted run's (the manifest, the
    ``resumable`` work and the files that say they are partial, ``differ``, aside)."""
    held, done = tree(out), tree(reference)
    for name, data in held.items():
        if "~lupex~" in name or name.endswith(".lupex-lock"):  # debris, checked apart (``debris``)
            continue
        if name == MANIFEST_NAME or name in differ or any(name.startswith(r) for r in resumable):
            continue
        assert name in done, f"{name} is not an output of the command"
        assert data == done[name], f"{name} looks finished but differs from the uninterrupted run's"


def assert_same_tree(out: Path, reference: Path) -> None:
    """``out`` holds the files of the uninterrupted run, byte for byte, and nothing else."""
    held, done = tree(out), tree(reference)
    assert sorted(held) == sorted(done)
    for name in done:
        assert held[name] == done[name], f"{name} differs from the uninterrupted run's"


# --- inputs and uninterrupted runs ----------------------------------------------------------------


def lupex(*args) -> int:
    return run(["-q", *map(str, args)])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 40 x 40 synthetic DEM at 40 m, a 1-day mission on a 120 px site, a campaign of 4 half-day runs."""
    root = tmp_path_factory.mktemp("inputs")
    assert lupex("terrain", "synth", "--size", 40, "--resolution", 40, "--center-lat", -89.5, "--seed", 2,
                 "--out", root / "s.tif", "--no-quicklook") == 0
    (root / "mission.toml").write_text(MISSION)
    (root / "campaign.toml").write_text(CAMPAIGN)
    return root


def horizon_args(inputs, out):
    return ["horizon", inputs / "s.tif", "--azimuths", 32, "--out", out]


def illuminate_args(inputs, out):
    return ["illuminate", inputs / "s.tif", "--start", START, "--end", END, "--step", "12h", "--azimuths", 16,
            "--out", out]


def tiled_args(inputs, out):
    return [*illuminate_args(inputs, out), "--tile-px", 32, "--workers", 1]


def thermal_args(inputs, out):
    return ["thermal", "map", inputs / "s.tif", "--step", "12h", "--terrain-cells", 5, "--azimuths", 16,
            "--out", out]


def mission_args(inputs, out):
    return ["mission", "--config", inputs / "mission.toml", "--out", out]


def campaign_args(inputs, out, workers=0):
    return ["campaign", "run", inputs / "campaign.toml", "--workers", workers, "--out", out]


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    """The uninterrupted run of each command, by name, computed on first use."""
    root = tmp_path_factory.mktemp("reference")
    made: dict[str, Path] = {}
    commands = {"horizon": (horizon_args, "h.nc"), "illuminate": (illuminate_args, "sky"),
                "tiled": (tiled_args, "tiled"), "thermal": (thermal_args, "thermal"),
                "mission": (mission_args, "mission"), "campaign": (campaign_args, "campaign")}

    def get(name: str) -> Path:
        if name not in made:
            make, out = commands[name]
            assert lupex(*make(inputs, root / out)) == 0
            made[name] = root / out
        return made[name]

    return get


# --- the commit of atomic outputs: a Ctrl-C between two renames ----------------------------------

def test_ctrl_c_while_a_folder_is_swapped_in_loses_neither_folder(tmp_path, monkeypatch):
    from lupex.files import atomic_folder
    from lupex.interrupts import handle_signals

    out = tmp_path / "out"
    with atomic_folder(out) as work:
        (work / "a.txt").write_text("old")
    real = os.replace

    def replace(src, dst):
        real(src, dst)
        if str(dst).endswith(".old"):  # the old folder moved aside, the new one not yet in its place
            signal.raise_signal(signal.SIGINT)  # to this thread: lupex's handler runs at the next call

    monkeypatch.setattr(os, "replace", replace)
    with handle_signals(), contextlib.suppress(KeyboardInterrupt), atomic_folder(out, overwrite=True) as work:
        (work / "a.txt").write_text("new")
    monkeypatch.undo()
    assert (out / "a.txt").read_text() in ("old", "new")


def test_ctrl_c_between_files_that_belong_together_lands_none_or_both(tmp_path, monkeypatch):
    from lupex.files import atomic_outputs
    from lupex.interrupts import handle_signals

    real = os.replace

    def replace(src, dst):
        real(src, dst)
        if Path(dst).name == "dem.tif":
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace)
    with handle_signals(), contextlib.suppress(KeyboardInterrupt), \
            atomic_outputs([tmp_path / "dem.tif", tmp_path / "dem_rocks.tif"]) as (dem, rocks):
        dem.write_text("dem")
        rocks.write_text("rocks")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["dem.tif", "dem_rocks.tif"])


# --- lupex horizon --------------------------------------------------------------------------------


@pytest.mark.parametrize("target,n", [
    ("lupex.cli.horizon.progress_bar", 1),  # after the first chunk of 8 azimuths
    ("lupex.cli.horizon.progress_bar", 3),
    ("lupex.cli.horizon.progress_bar", 4),  # every chunk done, the file not yet renamed
    ("os.replace", 1),  # at the rename itself
])
def test_horizon_resumes_to_the_same_bytes(cli, inputs, reference, tmp_path, monkeypatch, target, n):
    out = tmp_path / "h.nc"
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, target, n)
        assert_interrupted(cli("-q", *horizon_args(inputs, out)))
    assert calls[0] == n
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.nc.part"]  # the resumable work, nothing else
    result = cli(*horizon_args(inputs, out))
    assert result.code == 0, result.err
    assert [p.name for p in tmp_path.iterdir()] == ["h.nc"]
    assert out.read_bytes() == reference("horizon").read_bytes()


@pytest.mark.parametrize("target,n", [("lupex.cli.horizon.progress_bar", 2), ("os.replace", 1)])
def test_a_killed_horizon_run_resumes_to_the_same_bytes(cli, inputs, reference, tmp_path, target, n):
    out = tmp_path / "h.nc"
    killed = stopped_at(target, n, "kill", "-q", *horizon_args(inputs, out))
    assert killed.returncode == -9, killed.stderr
    assert not out.exists() and (tmp_path / "h.nc.part").exists()
    result = cli(*horizon_args(inputs, out))
    assert result.code == 0, result.err
    assert out.read_bytes() == reference("horizon").read_bytes()
    assert debris(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["h.nc"]


def test_a_part_whose_flags_outran_its_data_is_recomputed_where_needed(cli, inputs, reference, tmp_path,
                                                                       monkeypatch):
    """HDF5 is not crash-safe: a run killed while its chunk was being flushed can leave an azimuth
    chunk flagged done whose data never reached the disk (or a file HDF5 cannot open at all)."""
    import netCDF4

    out = tmp_path / "h.nc"
    with monkeypatch.context() as patch:
        interrupt_at(patch, "lupex.cli.horizon.progress_bar", 1)
        assert_interrupted(cli("-q", *horizon_args(inputs, out)))
    part = tmp_path / "h.nc.part"
    with netCDF4.Dataset(part, "a") as nc:
        nc["azimuth_done"][8:16] = 1  # the flag on disk, the data not
    result = cli(*horizon_args(inputs, out))
    assert result.code == 0, result.err
    assert out.read_bytes() == reference("horizon").read_bytes()
    out.unlink()
    part.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(4000))  # a header and nothing HDF5 can use
    result = cli(*horizon_args(inputs, out))
    assert result.code == 0, result.err
    assert out.read_bytes() == reference("horizon").read_bytes()


# --- lupex illuminate, lupex thermal map (folders of maps and a resumable horizon cube) --------------


def rerun_folder(cli, args, out: Path) -> None:
    """Rerun an interrupted folder command: it resumes when no map was written yet; otherwise it
    refuses, naming a written map and --overwrite, and resumes with --overwrite."""
    maps = sorted(p.name for p in out.iterdir() if p.suffix in (".tif", ".png", ".nc", ".json")
                  and p.name not in ("horizon.nc", MANIFEST_NAME)) if out.exists() else []
    result = cli(*args)
    if maps:
        assert_one_line_error(result, "already exists", "--overwrite")
        assert any(name in result.err for name in maps), result.err
        result = cli(*args, "--overwrite")
    assert result.code == 0, result.err


@pytest.mark.parametrize("target,n", [
    ("lupex.cli.illuminate.progress_bar", 1),  # computing the horizon cube
    ("lupex.cli.illuminate.progress", 2),  # computing the maps
    ("os.replace", 4),  # the first map's quicklook written, not yet renamed
])
def test_illuminate_resumes_or_refuses_then_gives_the_same_bytes(cli, inputs, reference, tmp_path, monkeypatch,
                                                                  target, n):
    out = tmp_path / "sky"
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, target, n)
        assert_interrupted(cli("-q", *illuminate_args(inputs, out)))
    assert calls[0] == n
    assert_nothing_looks_done_unless_it_is(out, reference("illuminate"), resumable=["horizon.nc.part"])
    assert debris(tmp_path) == []
    rerun_folder(cli, illuminate_args(inputs, out), out)
    assert_same_tree(out, reference("illuminate"))
    assert debris(tmp_path) == []


def test_a_thermal_folder_being_overwritten_is_marked_unfinished_until_it_is_whole(cli, inputs, reference, tmp_path,
                                                                                   monkeypatch):
    """--overwrite over a finished thermal folder, stopped after one new layer: the folder must not
    keep the old thermal.json, which would vouch for a mix of new and old layers."""
    out = tmp_path / "thermal"
    shutil.copytree(reference("thermal"), out)
    with monkeypatch.context() as patch:
        interrupt_at(patch, "lupex.thermal.products.write_layer_files", 2)
        assert_interrupted(cli("-q", *thermal_args(inputs, out), "--terrain-cells", 4, "--overwrite"))
    assert (out / "tmax.tif").read_bytes() != (reference("thermal") / "tmax.tif").read_bytes()  # a new layer
    assert not (out / "thermal.json").exists()
    assert_one_line_error(cli("ice", "prior", inputs / "s.tif", "--thermal", out, "--out", tmp_path / "prior"),
                          "thermal.json")


@pytest.mark.parametrize("target,n", [
    ("lupex.cli.thermal.progress_bar", 4),  # the regolith columns done, the maps not yet written
    ("lupex.thermal.products.write_layer_files", 2),  # one layer written
    ("lupex.thermal.products.write_manifest", 1),  # every layer and subsurface.nc written, not thermal.json
])
def test_thermal_map_resumes_or_refuses_then_gives_the_same_bytes(cli, inputs, reference, tmp_path, monkeypatch,
                                                                   target, n):
    out = tmp_path / "thermal"
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, target, n)
        assert_interrupted(cli("-q", *thermal_args(inputs, out)))
    assert calls[0] == n
    assert_nothing_looks_done_unless_it_is(out, reference("thermal"), resumable=["horizon.nc.part"])
    assert not (out / "thermal.json").exists()  # the mark of a finished thermal folder
    assert debris(tmp_path) == []
    rerun_folder(cli, thermal_args(inputs, out), out)
    assert_same_tree(out, reference("thermal"))
    assert debris(tmp_path) == []


def test_tiled_illuminate_stopped_in_its_mosaic_refuses_then_gives_the_same_bytes(cli, inputs, reference, tmp_path,
                                                                                  monkeypatch):
    # Every tile done (an earlier run's, to save computing them again): the run stops in its mosaic,
    # after one map's GeoTIFF and PNG and the next GeoTIFF. Stops among the tiles are SIGKILL's below.
    out = tmp_path / "tiled"
    shutil.copytree(reference("tiled") / "tiles", out / "tiles")
    shutil.copy(reference("tiled") / MANIFEST_NAME, out)
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, "lupex.sky.tiled.save_quicklook", 2)
        assert_interrupted(cli("-q", *tiled_args(inputs, out)))
    assert calls[0] == 2
    assert_nothing_looks_done_unless_it_is(out, reference("tiled"))
    assert debris(tmp_path) == []
    rerun_folder(cli, tiled_args(inputs, out), out)
    assert_same_tree(out, reference("tiled"))
    assert debris(tmp_path) == []


def test_tiles_a_run_stopped_before_stamping_them_are_not_taken_for_another_dems(inputs, tmp_path, monkeypatch):
    """A run stopped between making OUT/tiles and writing tiles/tiling.json left an empty folder:
    the next run uses it, instead of refusing it as the tiles of another DEM."""
    from lupex.sky.maps import IlluminationConfig
    from lupex.sky.tiled import TiledConfig, plan_tiled, prepare_tiled_folder

    plan = plan_tiled(inputs / "s.tif", IlluminationConfig(start=START, end=END, step_h=12.0),
                      TiledConfig(tile_px=32, n_azimuths=16))
    with monkeypatch.context() as patch:
        interrupt_at(patch, "lupex.sky.tiled.atomic_output", 1)
        with pytest.raises(KeyboardInterrupt):
            prepare_tiled_folder(plan, tmp_path, overwrite=False)
    assert [p.name for p in (tmp_path / "tiles").iterdir()] == []
    prepare_tiled_folder(plan, tmp_path, overwrite=False)
    assert (tmp_path / "tiles" / "tiling.json").read_text() == plan.job.identity


# --- lupex mission (one folder, swapped in whole; an interrupted one keeps its finished stages) ----


@pytest.mark.parametrize("target,n", [
    ("lupex.cli.mission.progress_bar", 1),  # the horizon cube half computed
    ("lupex.sim.engine.Simulation._follow", 2),  # the rover's second drive
    ("lupex.mission.mission_timeline", 1),  # the simulation done, its report being written
])
def test_an_interrupted_mission_keeps_what_is_finished_and_a_rerun_says_how_to_redo_it(
        cli, inputs, reference, tmp_path, monkeypatch, target, n):
    # With --overwrite a mission starts again from scratch, whatever the point it was stopped at: that
    # rerun (to the uninterrupted run's bytes) is tried once, after SIGKILL, below.
    out = tmp_path / "mission"
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, target, n)
        assert_interrupted(cli("-q", *mission_args(inputs, out)))
    assert calls[0] == n
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    # The folder holds exactly what summary.json lists, each file as the uninterrupted run wrote it.
    assert sorted(p.name for p in out.iterdir()) == sorted([*summary["outputs"], MANIFEST_NAME])
    assert_nothing_looks_done_unless_it_is(out, reference("mission"), differ=["summary.json"])
    assert debris(tmp_path) == []
    assert_one_line_error(cli(*mission_args(inputs, out)), "interrupted", "--overwrite")


# --- lupex campaign run (resumes from its runs/ and sites/) ----------------------------------------


@pytest.mark.parametrize("target,n", [
    ("lupex.mission.illumination_maps", 1),  # the site being computed
    ("lupex.cli.campaign.progress_bar", 3),  # two of the four runs recorded
    ("lupex.campaign.report.atomic_output", 2),  # every run done, the report being written
])
def test_an_interrupted_campaign_resumes_to_the_same_bytes(cli, inputs, reference, tmp_path, monkeypatch, target, n):
    out = tmp_path / "campaign"
    with monkeypatch.context() as patch:
        calls = interrupt_at(patch, target, n)
        assert_interrupted(cli("-q", *campaign_args(inputs, out)))
    assert calls[0] == n
    assert_nothing_looks_done_unless_it_is(out, reference("campaign"))
    assert debris(tmp_path) == []
    runs = sorted(p.name for p in (out / "runs").iterdir())
    result = cli(*campaign_args(inputs, out))
    assert result.code == 0, result.err
    assert f"{len(runs)} finished before" in result.out
    assert_same_tree(out, reference("campaign"))
    assert debris(tmp_path) == []


def test_a_campaign_stopped_while_it_grows_keeps_no_table_of_the_smaller_one(cli, inputs, reference, tmp_path,
                                                                             monkeypatch):
    """--runs 3 on a finished campaign of 2 replicates, stopped after one new run: the table and the
    report of the 4 earlier runs must not stay beside the campaign.json of 6."""
    out = tmp_path / "campaign"
    shutil.copytree(reference("campaign"), out)
    with monkeypatch.context() as patch:
        interrupt_at(patch, "lupex.cli.campaign.progress_bar", 2)
        assert_interrupted(cli("-q", *campaign_args(inputs, out), "--runs", 3))
    assert json.loads((out / "campaign.json").read_text())["runs"] == 6
    assert len(list((out / "runs").iterdir())) == 5
    assert not (out / "campaign.parquet").exists() and not (out / "campaign.html").exists()
    assert not list(out.glob("*.png"))


# --- SIGKILL: nothing runs on the way out; the next run cleans up and resumes ------------------------


@pytest.mark.parametrize("command,target,n", [
    ("illuminate", "os.replace", 4),  # a quicklook written to its temporary, not renamed
    ("tiled", "lupex.cli.illuminate.progress_bar", 2),  # one tile finished
    ("mission", "lupex.mission.illumination_maps", 1),  # the folder being built beside OUT
    ("campaign", "lupex.mission.illumination_maps", 1),  # the site being built in OUT/sites
])
def test_after_sigkill_a_rerun_cleans_up_and_gives_the_same_bytes(cli, inputs, reference, tmp_path, command,
                                                                   target, n):
    make = {"illuminate": illuminate_args, "tiled": tiled_args, "mission": mission_args,
            "campaign": campaign_args}[command]
    out = tmp_path / "out"
    killed = stopped_at(target, n, "kill", "-q", *make(inputs, out))
    assert killed.returncode == -9, killed.stderr
    if out.exists():  # temporaries aside (removed by the rerun), what is there is whole
        assert_nothing_looks_done_unless_it_is(out, reference(command), resumable=["horizon.nc.part"])
    if command == "mission":
        assert not out.exists() and debris(tmp_path)  # its folder, half built, beside OUT
    if command == "campaign":  # it has no --overwrite: it resumes its folder
        result = cli(*make(inputs, out))
        assert result.code == 0, result.err
    else:
        rerun_folder(cli, make(inputs, out), out)
    assert_same_tree(out, reference(command))
    assert debris(tmp_path) == []
