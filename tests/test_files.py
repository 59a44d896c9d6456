"""Safe outputs (lupex.files): lupex replaces only what it wrote, and cleans only dead runs' debris."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from lupex.errors import LupexError
from lupex.files import (
    MANIFEST_NAME,
    atomic_folder,
    atomic_output,
    atomic_outputs,
    check_folder,
    claim_folder,
    output_lock,
    remove_stale_temporaries,
)


def write_folder(path, names=("a.txt", "b.txt")):
    with atomic_folder(path) as work:
        for name in names:
            (work / name).write_text(name)


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_folder_carries_the_list_of_what_lupex_wrote(tmp_path):
    write_folder(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert manifest["files"] == ["a.txt", "b.txt"] and manifest["written_by"] == "lupex"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left beside it


def test_an_earlier_lupex_folder_is_replaced_only_with_overwrite(tmp_path):
    out = tmp_path / "out"
    write_folder(out)
    with pytest.raises(LupexError, match="earlier lupex output; pass --overwrite"), atomic_folder(out):
        pass
    with atomic_folder(out, overwrite=True) as work:
        (work / "c.txt").write_text("c")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "c.txt"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_with_a_file_lupex_did_not_write_is_never_replaced(tmp_path, overwrite):
    out = tmp_path / "out"
    write_folder(out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(LupexError, match=r"notes\.txt.*new or empty folder"), atomic_folder(out, overwrite):
        pass
    assert (out / "notes.txt").read_text() == "mine" and (out / "a.txt").exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_foreign_folder_is_refused_whatever_its_content(tmp_path, overwrite):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("years of work")
    (tmp_path / "home" / MANIFEST_NAME).write_text("not json")  # a broken manifest proves nothing
    with pytest.raises(LupexError, match="lupex did not write"), atomic_folder(tmp_path / "home", overwrite):
        pass
    assert (tmp_path / "home" / "thesis.tex").read_text() == "years of work"


def test_a_file_added_during_the_run_stops_the_replacement(tmp_path):
    out = tmp_path / "out"
    write_folder(out)
    with pytest.raises(LupexError, match=r"late\.txt"), atomic_folder(out, overwrite=True) as work:
        (work / "new.txt").write_text("new")
        (out / "late.txt").write_text("the user's")
    assert (out / "late.txt").read_text() == "the user's" and (out / "a.txt").exists()


@pytest.mark.parametrize("name", [".", "", ".."])
def test_the_working_folder_and_empty_names_are_refused(tmp_path, monkeypatch, name):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(LupexError, match="new folder"), atomic_folder(name, overwrite=True):
        pass
    assert (tmp_path / "sub").is_dir()


def test_a_folder_above_the_working_folder_is_refused(tmp_path, monkeypatch):
    write_folder(tmp_path / "out")
    (tmp_path / "out" / "inner").mkdir()
    monkeypatch.chdir(tmp_path / "out" / "inner")
    with pytest.raises(LupexError, match="working folder or one above it"), atomic_folder(tmp_path / "out", True):
        pass


def test_claim_folder_lists_files_and_refuses_existing_ones_without_overwrite(tmp_path):
    out = tmp_path / "out"
    claim_folder(out, ["x.tif"], overwrite=False, keep=["horizon.nc"])
    (out / "x.tif").write_text("x")
    (out / "horizon.nc").write_text("cube")
    with pytest.raises(LupexError, match=r"x\.tif already exists; pass --overwrite"):
        check_folder(out, ["x.tif"], overwrite=False)
    claim_folder(out, ["y.tif"], overwrite=False, keep=["horizon.nc"])  # another command, same folder
    claim_folder(out, ["x.tif"], overwrite=True)
    assert json.loads((out / MANIFEST_NAME).read_text())["files"] == ["horizon.nc", "x.tif", "y.tif"]
    (out / "mine.csv").write_text("1")
    for overwrite in (False, True):
        with pytest.raises(LupexError, match=r"mine\.csv"):
            claim_folder(out, ["x.tif"], overwrite)


def test_temporaries_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    import socket

    host = socket.gethostname()
    dead = tmp_path / f".out~lupex~{host}~{dead_pid()}~abc.part"
    live = tmp_path / f".out~lupex~{host}~{os.getpid()}~def.part"
    other_host = tmp_path / f".out~lupex~elsewhere~{dead_pid()}~ghi.part"
    user = tmp_path / ".out.part"
    for folder in (dead, live, other_host):
        folder.mkdir()
        (folder / "big.nc").write_bytes(b"0" * 100)
    user.write_text("not lupex's")
    assert remove_stale_temporaries(tmp_path, "out") == [dead]
    assert live.exists() and other_host.exists() and user.exists()


def test_a_new_folder_removes_a_dead_runs_folder_beside_it(tmp_path):
    import socket

    debris = tmp_path / f".out~lupex~{socket.gethostname()}~{dead_pid()}~x.part"
    debris.mkdir()
    write_folder(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_files_that_belong_together_land_together_or_not_at_all(tmp_path):
    paths = [tmp_path / "dem.tif", tmp_path / "dem_rocks.tif"]
    with pytest.raises(OSError, match="No space"), atomic_outputs(paths) as temporaries:
        temporaries[0].write_text("heights")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(paths[1]))
    assert list(tmp_path.iterdir()) == []
    with atomic_outputs(paths) as temporaries:
        for tmp in temporaries:
            tmp.write_text(tmp.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "dem_rocks.tif"]


def test_an_interrupted_file_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "a.csv") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_one_writer_at_a_time_and_a_dead_writers_lock_is_taken_over(tmp_path):
    out = tmp_path / "out"
    with output_lock(out):
        with pytest.raises(LupexError, match=rf"another lupex run \(process {os.getpid()} on .*\) is writing"):
            with output_lock(out):
                pass
    assert list(tmp_path.iterdir()) == []  # released and removed
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from lupex.files import output_lock
with output_lock({str(out)!r}):
    print("held", flush=True)
    time.sleep(600)
"""], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(LupexError, match=f"process {holder.pid}"), output_lock(out):
        pass
    holder.kill()
    holder.wait(timeout=60)
    assert [p.name for p in tmp_path.iterdir()] == [".out.lupex-lock"]  # SIGKILL left the file, not the lock
    with output_lock(out):
        pass
    assert list(tmp_path.iterdir()) == []
