"""Nothing lost, nothing half-written: every command that writes a folder leaves a file it did not
write alone (with and without --overwrite), reuses a horizon cube only when it matches, turns OS
errors into the error contract, and stops cleanly on SIGTERM or an interrupt Python dropped."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from lupex import interrupts
from lupex.cli.main import run
from lupex.files import MANIFEST_NAME, output_lock
from lupex.geo import xy_to_latlon
from lupex.terrain.readers import read_dem
from tests.campaign.conftest import TINY
from tests.conftest import assert_one_line_error
from tests.hooks import stopped_at
from tests.ice.test_ice_cli import make_site
from tests.sim.test_mission_cli import SMALL

START, END = "2028-03-01T00:00:00Z", "2028-03-11T00:00:00Z"
LUPEX = [sys.executable, "-c", "import sys; from lupex.cli.main import run; sys.exit(run(sys.argv[1:]))"]


def lupex(*args) -> int:
    return run(["-q", *(str(a) for a in args)])


def centre(dem_path: Path) -> str:
    dem = read_dem(dem_path)
    lat, lon = xy_to_latlon(float(dem.x.mean()), float(dem.y.mean()))
    return f"{float(lat)},{float(lon)}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A small DEM with its sky, an ice site with its thermal folder and prior, a mission and a
    campaign file: the inputs of every command that writes a folder."""
    root = tmp_path_factory.mktemp("safety")
    dem = root / "s.tif"
    assert lupex("terrain", "synth", "--size", 40, "--resolution", 40, "--center-lat", -89.5, "--seed", 2,
                 "--out", dem, "--no-quicklook") == 0
    assert lupex("illuminate", dem, "--start", START, "--end", END, "--step", "12h", "--azimuths", 16,
                 "--out", root / "sky") == 0
    ice_dem = make_site(root / "ice", 1)
    assert lupex("ice", "prior", ice_dem, "--thermal", ice_dem.parent / "thermal", "--out", root / "prior") == 0
    (root / "mission.toml").write_text(SMALL)
    (root / "campaign.toml").write_text(TINY)
    return {"root": root, "dem": dem, "sky": root / "sky", "ice_dem": ice_dem, "prior": root / "prior"}


COMMANDS = {
    "terrain derive": lambda i, out: ["terrain", "derive", i["dem"], "--out", out],
    "illuminate": lambda i, out: ["illuminate", i["dem"], "--start", START, "--end", END, "--step", "12h",
                                  "--azimuths", 16, "--out", out],
    "illuminate --tile-px": lambda i, out: ["illuminate", i["dem"], "--start", START, "--end", END, "--step", "12h",
                                            "--azimuths", 16, "--tile-px", 32, "--workers", 1, "--out", out],
    "thermal map": lambda i, out: ["thermal", "map", i["dem"], "--illumination", i["sky"], "--out", out],
    "ice prior": lambda i, out: ["ice", "prior", i["ice_dem"], "--thermal", i["ice_dem"].parent / "thermal",
                                 "--out", out],
    "ice truth": lambda i, out: ["ice", "truth", i["ice_dem"], "--prior", i["prior"], "--seed", 1,
                                 "--resolution", 5, "--out", out],
    "sites": lambda i, out: ["sites", i["dem"], "--region", centre(i["dem"]) + ",0.6", "--illumination", i["sky"],
                             "--out", out],
    "targets": lambda i, out: ["targets", i["ice_dem"], "--prior", i["prior"], "--start", centre(i["ice_dem"]),
                               "--hours", 30, "--out", out],
    "plan": lambda i, out: ["plan", i["dem"], f"--start={centre(i['dem'])}", f"--waypoints={centre(i['dem'])}",
                            "--start-time", START, "--days", 1, "--sky", i["sky"], "--out", out],
    "mission": lambda i, out: ["mission", "--config", i["root"] / "mission.toml", "--out", out],
    "campaign run": lambda i, out: ["campaign", "run", i["root"] / "campaign.toml", "--workers", 0, "--out", out],
}


@pytest.mark.parametrize("command,overwrite", [
    (command, overwrite) for command in COMMANDS for overwrite in ([], ["--overwrite"])
    if not (command == "campaign run" and overwrite)  # it has no --overwrite: it resumes its own folder
])
def test_a_file_lupex_did_not_write_survives_every_command(cli, inputs, tmp_path, command, overwrite):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("-q", *COMMANDS[command](inputs, out), *overwrite)
    assert_one_line_error(result, "notes.txt", "lupex did not write", "new or empty folder")
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_an_earlier_mission_folder_but_not_a_file_added_to_it(cli, inputs, tmp_path):
    out = tmp_path / "m"
    args = [*COMMANDS["mission"](inputs, out), "--days", 0.5]
    assert cli("-q", *args).code == 0
    first = json.loads((out / MANIFEST_NAME).read_text())["files"]
    assert "summary.json" in first and set(first) == {p.name for p in out.iterdir()} - {MANIFEST_NAME}
    assert_one_line_error(cli("-q", *args), "earlier lupex output", "--overwrite")
    assert cli("-q", *args, "--overwrite").code == 0
    (out / "my_notes.md").write_text("mine")
    assert_one_line_error(cli("-q", *args, "--overwrite"), "my_notes.md", "lupex did not write")
    assert (out / "my_notes.md").read_text() == "mine" and (out / "summary.json").exists()


@pytest.mark.parametrize("out", [".", ""])
def test_the_working_folder_is_refused_before_any_work(cli, inputs, tmp_path, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    result = cli("-q", "mission", "--config", inputs["root"] / "mission.toml", "--out", out, "--overwrite")
    assert_one_line_error(result, "new folder")
    assert list(tmp_path.iterdir()) == []


def test_an_output_path_through_a_file_is_refused(cli, inputs, tmp_path):
    (tmp_path / "f.txt").write_text("a file")
    result = cli("-q", *COMMANDS["mission"](inputs, tmp_path / "f.txt" / "out"))
    assert_one_line_error(result, "f.txt is a file", "choose another --out")


def horizon_only_copy(sky: Path, out: Path) -> None:
    """A folder lupex made that holds only a horizon cube (16 azimuths)."""
    out.mkdir()
    for name in ("horizon.nc", MANIFEST_NAME):
        shutil.copy(sky / name, out / name)


@pytest.mark.parametrize("command", ["illuminate", "thermal map", "sites"])
def test_a_horizon_cube_made_otherwise_is_replaced_only_with_overwrite(cli, inputs, tmp_path, command):
    out = tmp_path / "out"
    horizon_only_copy(inputs["sky"], out)
    before = (out / "horizon.nc").read_bytes()
    args = {"illuminate": ["illuminate", inputs["dem"], "--start", START, "--end", END, "--step", "12h"],
            "thermal map": ["thermal", "map", inputs["dem"]],
            "sites": ["sites", inputs["dem"], "--region", centre(inputs["dem"]) + ",0.6", "--start", START,
                      "--days", 10, "--step", "12h"]}[command]
    result = cli("-q", *args, "--azimuths", 24, "--out", out)
    assert_one_line_error(result, "horizon.nc was computed for another DEM or other settings", "--overwrite")
    assert (out / "horizon.nc").read_bytes() == before


def test_a_matching_horizon_cube_is_reused(cli, inputs, tmp_path):
    out = tmp_path / "out"
    horizon_only_copy(inputs["sky"], out)
    before = (out / "horizon.nc").stat().st_mtime_ns
    result = cli("-q", *COMMANDS["illuminate"](inputs, out))
    assert result.code == 0, result.err
    assert (out / "horizon.nc").stat().st_mtime_ns == before


def test_a_full_disk_is_one_line_and_leaves_no_file(tmp_path):
    """RLIMIT_FSIZE makes every write past 16 kB fail with EFBIG, as a full disk fails with ENOSPC."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))

    args = ["-q", "terrain", "synth", "--size", 256, "--resolution", 20, "--center-lat", -89.5, "--seed", 1,
            "--out", "site.tif"]
    result = subprocess.run([*LUPEX, *map(str, args)], cwd=tmp_path, capture_output=True, text=True,
                            preexec_fn=limit_file_size, timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("lupex: error: ") and "File too large" in lines[0] and "site.tif" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_the_dem_never_lands_without_its_rocks(cli, tmp_path, monkeypatch):
    from lupex.cli import terrain as terrain_cli

    written = []

    def full_after_one(grid, path, overwrite=False):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        Path(path).write_bytes(b"a whole GeoTIFF")

    monkeypatch.setattr(terrain_cli, "write_geotiff", full_after_one)
    result = cli("-q", "terrain", "synth", "--size", 64, "--resolution", 20, "--center-lat", -89.5, "--seed", 1,
                 "--out", tmp_path / "site.tif")
    assert_one_line_error(result, "No space left on device", "free some space")
    assert list(tmp_path.iterdir()) == []


def test_a_permission_error_is_one_line_naming_the_path(cli, tmp_path, monkeypatch):
    from lupex.cli import rover as rover_cli

    def denied(path, overwrite=False):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(rover_cli, "atomic_output", denied)
    result = cli("rover", "init", tmp_path / "rover.toml")
    assert_one_line_error(result, "rover.toml", "Permission denied", "choose a path you may write to")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped interrupt
def test_an_interrupt_python_dropped_still_ends_the_run_as_interrupted(cli, monkeypatch):
    """A Ctrl-C that lands in a weakref callback is printed and dropped by Python; lupex still
    reports the run as interrupted, never as a success."""
    from lupex.cli import geo as geo_cli

    real = geo_cli.latlon_to_xy

    class Resource:
        pass

    def interrupted_in_a_callback(reference):
        os.kill(os.getpid(), signal.SIGINT)
        while interrupts.requested() is None:  # the handler runs here, inside the callback, and its exception
            pass                               # is dropped (waiting for its record, not a count of loops)

    def convert(*args, **kwargs):
        held = Resource()
        keep = weakref.ref(held, interrupted_in_a_callback)
        del held
        assert keep() is None
        return real(*args, **kwargs)

    monkeypatch.setattr(geo_cli, "latlon_to_xy", convert)
    result = cli("geo", "to-xy", "--lat", -89.5, "--lon", 0, "--json")
    assert result.code == 130, result.err
    assert "interrupted" in result.err


def test_sigterm_stops_a_mission_like_ctrl_c_and_leaves_no_debris(inputs, tmp_path):
    # Deterministic: the child sends itself SIGTERM when its first horizon chunk is done (a signal
    # sent from here once its folder appeared could land before its stages began, or after its end).
    out = tmp_path / "m"
    result = stopped_at("lupex.cli.mission.progress_bar", 1, "term", "-q", *COMMANDS["mission"](inputs, out))
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr and "interrupted" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "SIGTERM" in summary["reason"]
    for name in summary["outputs"]:
        assert (out / name).exists(), name
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_a_killed_missions_debris_is_removed_by_the_next_run(cli, inputs, tmp_path):
    out = tmp_path / "m"
    killed = stopped_at("lupex.cli.mission.progress_bar", 1, "kill", "-q", *COMMANDS["mission"](inputs, out))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".m~lupex~")]  # SIGKILL leaves it behind
    assert cli("-q", *COMMANDS["mission"](inputs, out), "--days", 0.5).code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_quiet_means_quiet_even_with_dask_workers(inputs, tmp_path):
    args = ["-q", *COMMANDS["illuminate --tile-px"](inputs, tmp_path / "tiled")]
    result = subprocess.run([*LUPEX, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


LOCKED = {
    "horizon": lambda i, out: ["horizon", i["dem"], "--azimuths", 16, "--out", out / "h.nc"],
    **{name: COMMANDS[name] for name in ("illuminate", "illuminate --tile-px", "thermal map", "mission",
                                         "campaign run")},
}


@pytest.mark.parametrize("command", list(LOCKED))
def test_a_second_run_on_the_same_output_is_refused_at_once(cli, inputs, tmp_path, command):
    args = LOCKED[command](inputs, tmp_path / "out")
    target = args[-1]
    with output_lock(target):  # another run holds it (flock: any other open of the lock file conflicts)
        result = cli("-q", *args)
    assert_one_line_error(result, "another lupex run", f"is writing {target}", "wait for it to end")
    assert not Path(target).exists()
