"""Safe output files and folders: never clobber what lupex did not write, write to a temporary
name, then rename.

A run that is killed half-way never leaves a file that looks finished, and a later run removes
the temporaries a dead run left. Every output folder carries a manifest (:data:`MANIFEST_NAME`)
of the entries lupex wrote into it; a folder holding anything else is never written into, with or
without ``--overwrite``, so ``--overwrite`` can only ever replace lupex's own outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from lupex import __version__
from lupex.errors import LupexError
from lupex.interrupts import deferred

__all__ = [
    "MANIFEST_NAME",
    "atomic_folder",
    "atomic_output",
    "atomic_outputs",
    "check_folder",
    "check_writable",
    "claim_folder",
    "output_lock",
    "read_manifest",
    "remove_stale_temporaries",
]

MANIFEST_NAME = ".lupex-outputs.json"
"""The manifest in every output folder: the entries lupex wrote (or will write) there."""

_TEMP_TAG = "~lupex~"
_TEMP_RE = re.compile(r"~lupex~(?P<host>[^~]+)~(?P<pid>\d+)~[^~]*\.(part|old)")
"""Temporaries are named ``.NAME~lupex~HOST~PID~RANDOM.part[.ext]`` (``.old`` for a folder being
replaced), so a later run can tell a dead run's debris from a live run's work."""


def _temp_prefix(final: Path) -> str:
    return f".{final.name}{_TEMP_TAG}{socket.gethostname().replace('~', '-')}~{os.getpid()}~"


_LOCK_SUFFIX = ".lupex-lock"


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and (_TEMP_RE.search(name) is not None or name.endswith(_LOCK_SUFFIX))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporaries of runs on this host that are no longer alive.

    Parameters
    ----------
    folder : path-like
        The folder to clean.
    name : str, optional
        Only the temporaries of this output name (all when omitted).

    Returns
    -------
    list of Path
        What was removed.
    """
    folder, host = Path(folder), socket.gethostname().replace("~", "-")
    prefix = f".{name}{_TEMP_TAG}" if name is not None else "."
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _TEMP_RE.search(entry.name)
            if not entry.name.startswith(prefix) or match is None or match["host"] != host:
                continue
            if _process_alive(int(match["pid"])):
                continue
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def check_writable(path: str | os.PathLike, overwrite: bool) -> Path:
    """Check that ``path`` may be written, before any long work starts.

    Parameters
    ----------
    path : path-like
        The output file.
    overwrite : bool
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The output path.

    Raises
    ------
    LupexError
        When the file exists and ``overwrite`` is false, or its folder does not exist.
    """
    path = Path(path)
    if not path.name or path.name in (".", ".."):
        raise LupexError(f"'{path}' names no file; give an output file name")
    if path.exists() and not overwrite:
        raise LupexError(f"{path} already exists; pass --overwrite to replace it")
    if path.is_dir():
        raise LupexError(f"{path} is a folder, not a file name")
    if not path.parent.exists():
        raise LupexError(f"folder {path.parent} does not exist; create it first")
    if not path.parent.is_dir():
        raise LupexError(f"{path.parent} is not a folder")
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed
    and ``path`` is left as it was; temporaries of dead runs beside it are removed first.

    Parameters
    ----------
    path : path-like
        The final output file.
    overwrite : bool
        Whether an existing file may be replaced.
    """
    with _temporary_beside(path, overwrite) as (tmp, final):
        yield tmp
        os.replace(tmp, final)


@contextlib.contextmanager
def _temporary_beside(path: str | os.PathLike, overwrite: bool) -> Iterator[tuple[Path, Path]]:
    """A temporary file beside ``path`` (removed on exit unless renamed), and the checked ``path``."""
    final = check_writable(path, overwrite)
    remove_stale_temporaries(final.parent, final.name)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(final), suffix=".part" + final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _naming(final):
            yield tmp, final
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _naming(output: Path) -> Iterator[None]:
    """Name ``output`` in an ``OSError`` that names no file (a write that found the disk full)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(output)
        raise


@contextlib.contextmanager
def atomic_outputs(paths: Sequence[str | os.PathLike], overwrite: bool = False) -> Iterator[list[Path]]:
    """:func:`atomic_output` for files that belong together: temporaries for all of ``paths``, all
    renamed into place only when the block succeeds, so a failure leaves none of them new.

    Parameters
    ----------
    paths : sequence of path-like
        The final output files.
    overwrite : bool
        Whether existing files may be replaced.
    """
    with contextlib.ExitStack() as stack:
        temporaries = [stack.enter_context(_temporary_beside(path, overwrite)) for path in paths]
        yield [tmp for tmp, _ in temporaries]
        with deferred():  # a Ctrl-C waits for the renames: all of them land, or none
            for tmp, final in temporaries:
                os.replace(tmp, final)


def _read_manifest(folder: Path) -> dict:
    """The folder's manifest: ``files`` (a list of names) and ``whole`` (true in the temporary
    folder of :func:`atomic_folder`, all of which is lupex's); empty when it has none or an
    unreadable one."""
    try:
        held = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return {}
    files = held.get("files") if isinstance(held, dict) else None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return {}
    return {"files": files, "whole": held.get("whole") is True}


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of ``folder`` that lupex did not write: not in its manifest, not a lupex temporary."""
    manifest = _read_manifest(folder)
    if manifest.get("whole"):
        return []
    listed = set(manifest.get("files", ()))
    entries = [entry.name for entry in folder.iterdir()]
    return sorted(n for n in entries if n != MANIFEST_NAME and n not in listed and not _is_temporary(n))


def _refuse_foreign(folder: Path) -> None:
    foreign = _foreign_entries(folder)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise LupexError(f"{folder} holds files lupex did not write ({shown}); lupex writes only into a new "
                         "or empty folder or one it made itself, so choose another --out")


def _write_manifest(folder: Path, entries: Iterable[str], whole: bool = False) -> None:
    manifest = {"written_by": "lupex", "lupex_version": __version__, "files": sorted(set(entries))}
    if whole:
        manifest["whole"] = True
    with atomic_output(folder / MANIFEST_NAME, overwrite=True) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")


def _check_folder_path(folder: Path) -> None:
    if str(folder) == "" or folder.name in ("", ".", ".."):
        raise LupexError(f"'{folder}' is not a usable output folder; name a new folder")
    if folder.exists() and not folder.is_dir():
        raise LupexError(f"{folder} exists and is not a folder")
    above = next((p for p in folder.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise LupexError(f"{above} is a file, so {folder} cannot be a folder; choose another --out")


def check_folder(out_dir: str | os.PathLike, files: Iterable[str], overwrite: bool) -> Path:
    """Check, before any work, that ``files`` may be written into ``out_dir`` (nothing is created).

    The folder must be new, empty, or hold only what lupex wrote there (its manifest says what).

    Parameters
    ----------
    out_dir : path-like
        The output folder.
    files : iterable of str
        Names of the files the command writes there; one that exists needs ``overwrite``.
    overwrite : bool
        Whether the command's own earlier outputs may be replaced.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    LupexError
        When the folder is a file, holds anything lupex did not write, or holds one of ``files``
        already and ``overwrite`` is false.
    """
    folder = Path(out_dir)
    _check_folder_path(folder)
    if folder.is_dir():
        _refuse_foreign(folder)
    for name in files:
        path = folder / name
        if path.is_dir():
            raise LupexError(f"{path} is a folder, not a file name")
        if path.exists() and not overwrite:
            raise LupexError(f"{path} already exists; pass --overwrite to replace it")
    return folder


def claim_folder(out_dir: str | os.PathLike, files: Iterable[str], overwrite: bool,
                 keep: Iterable[str] = ()) -> Path:
    """:func:`check_folder`, then create the folder and list ``files`` and ``keep`` in its manifest,
    so a run killed half-way leaves a folder that the next run recognises as lupex's.

    Parameters
    ----------
    out_dir, files, overwrite
        As for :func:`check_folder`.
    keep : iterable of str
        Names of entries the command may find there and resume from or reuse (a resumable
        ``.part``, a horizon cube it checks itself, a subfolder of records).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    files, keep = list(files), list(keep)
    folder = check_folder(out_dir, files, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    held = _read_manifest(folder)
    _write_manifest(folder, [*held.get("files", ()), *files, *keep], whole=held.get("whole", False))
    return folder


def _contains_working_folder(folder: Path) -> bool:
    cwd = Path.cwd().resolve()
    target = folder.resolve()
    return target == cwd or target in cwd.parents


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` that replaces ``path`` only on success.

    The new folder carries a manifest of everything in it. An existing folder is replaced only
    when ``overwrite`` is given and it holds nothing but what lupex wrote there; the working
    folder and the folders above it are never replaced. Checks run before the caller's work,
    and once more just before the replacement.

    Parameters
    ----------
    path : path-like
        The final output folder.
    overwrite : bool
        Whether an earlier lupex output folder may be replaced.
    """
    final = Path(path)
    _check_folder_path(final)
    if _contains_working_folder(final):
        raise LupexError(f"'{path}' is the working folder or one above it, which lupex never replaces; "
                         "name a new folder for --out")

    def check_existing() -> None:
        if final.is_dir() and any(final.iterdir()):
            _refuse_foreign(final)
            if not overwrite:
                raise LupexError(f"{final} holds an earlier lupex output; pass --overwrite to replace it")

    check_existing()
    final.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(final):
        yield from _replace_folder(final, check_existing)


def _replace_folder(final: Path, check_existing: Callable[[], None]) -> Iterator[Path]:
    """The body of :func:`atomic_folder`, run while it holds the folder's lock."""
    remove_stale_temporaries(final.parent, final.name)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(final), suffix=".part", dir=final.parent))
    try:
        _write_manifest(tmp, [], whole=True)
        with _naming(final):
            yield tmp
        _write_manifest(tmp, [e.name for e in tmp.iterdir() if e.name != MANIFEST_NAME and not _is_temporary(e.name)])
        check_existing()
        old = final.with_name(f"{_temp_prefix(final)}.old")
        with deferred():  # a Ctrl-C waits for the swap: the old folder or the new one, never neither
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def output_lock(path: str | os.PathLike) -> Iterator[None]:
    """Be the only lupex run writing ``path`` (a file or a folder) while the block runs.

    The lock is an advisory ``flock`` on ``.NAME.lupex-lock`` beside ``path``, which records its
    owner for the message; the operating system releases it when the owner ends, however it
    ends (SIGKILL included), so a dead run's lock is taken over without any clean-up.

    Raises
    ------
    LupexError
        At once, when another process holds the lock, naming it and the fix.
    """
    target = Path(path)
    target.absolute().parent.mkdir(parents=True, exist_ok=True)
    lock = target.absolute().parent / f".{target.absolute().name}{_LOCK_SUFFIX}"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LupexError(f"another lupex run ({owner}) is writing {path}; wait for it to end, or choose "
                             "another output") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file its previous owner removed while this run opened it
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} on {socket.gethostname()}".encode())
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def read_manifest(folder: str | os.PathLike, name: str, kind: str, command: str) -> tuple[Path, dict]:
    """Read the JSON manifest that marks a finished output folder.

    Parameters
    ----------
    folder : path-like
        The output folder.
    name : str
        File name of its manifest (e.g. ``thermal.json``).
    kind, command : str
        What the folder is and the command that makes one, for the messages.

    Returns
    -------
    path : Path
        The manifest's path.
    manifest : dict
        Its contents.

    Raises
    ------
    LupexError
        When the manifest is missing (the folder is not one, or is unfinished) or unreadable.
    """
    folder = Path(folder)
    path = folder / name
    if not path.is_file():
        raise LupexError(f"{folder} is not a {kind} folder (no {name}); make one with '{command}'")
    try:
        return path, json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LupexError(f"cannot read {path}: {exc}") from None
