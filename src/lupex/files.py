"""Safe output files: refuse to clobber, write to a temporary name, then rename.

A run that is killed half-way never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lupex.errors import LupexError


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
    if path.exists() and not overwrite:
        raise LupexError(f"{path} already exists; pass --overwrite to replace it")
    if path.is_dir():
        raise LupexError(f"{path} is a folder, not a file name")
    if not path.parent.exists():
        raise LupexError(f"folder {path.parent} does not exist; create it first")
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed
    and ``path`` is left as it was.

    Parameters
    ----------
    path : path-like
        The final output file.
    overwrite : bool
        Whether an existing file may be replaced.
    """
    final = check_writable(path, overwrite)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=".part" + final.suffix, dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` that replaces ``path`` only on success.

    Parameters
    ----------
    path : path-like
        The final output folder.
    overwrite : bool
        Whether an existing non-empty folder may be replaced.
    """
    final = Path(path)
    if final.exists() and not final.is_dir():
        raise LupexError(f"{final} exists and is not a folder")
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise LupexError(f"{final} already holds files; pass --overwrite to replace them")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
