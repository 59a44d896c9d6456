"""Deterministic interrupts for the tests: stop a run at the Nth call of a hook it calls.

A hook is a function by dotted path (a module's, or a class's method), or a command module's
``progress_bar``, whose updates are counted instead. At the Nth call the run is stopped as a user
would stop it there: Ctrl-C (``KeyboardInterrupt`` raised in the hook), SIGTERM (sent to the
process, whose handler raises in the hook) or SIGKILL (nothing runs on the way out). A count of
calls, never a wall-clock delay, says where the run stops, so the same test stops it at the same
place on any machine (issue 21).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ACTIONS = ("interrupt", "term", "kill")


def _stop(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "term":
        from lupex.interrupts import requested

        os.kill(os.getpid(), signal.SIGTERM)
        while requested() is None:  # lupex's handler runs here and raises Terminated
            pass
    raise KeyboardInterrupt


def _owner(path: str):
    """The module, or the class in a module, that ``path`` names."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            owner = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # a module that exists failed to import: say so
                raise
            continue
        for attribute in parts[cut:]:
            owner = getattr(owner, attribute)
        return owner
    raise ImportError(path)


def install(target: str, n: int, action: str = "interrupt", setattr=setattr) -> list[int]:
    """Stop the run at the ``n``-th call of ``target`` with ``action`` (one of :data:`ACTIONS`).

    ``setattr`` may be a ``monkeypatch.setattr``, so the hook is removed after the test. Returns
    the list whose only item counts the calls so far.
    """
    if action not in ACTIONS:
        raise ValueError(action)
    owner_path, name = target.rsplit(".", 1)
    owner = _owner(owner_path)
    real = getattr(owner, name)
    calls = [0]

    def count() -> None:
        calls[0] += 1
        if calls[0] == n:
            _stop(action)

    if name == "progress_bar":
        @contextlib.contextmanager
        def hooked(description):
            def update(done, total):
                count()
            yield update
    else:
        def hooked(*args, **kwargs):
            count()
            return real(*args, **kwargs)
    setattr(owner, name, hooked)
    return calls


def interrupt_at(monkeypatch, target: str, n: int) -> list[int]:
    """Ctrl-C at the ``n``-th call of ``target`` in this process (undone after the test)."""
    return install(target, n, "interrupt", setattr=monkeypatch.setattr)


_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.hooks import install
import lupex.cli.main
install(sys.argv[2], int(sys.argv[3]), sys.argv[4])
sys.exit(lupex.cli.main.run(sys.argv[5:]))
"""


def child_command(target: str, n: int, action: str, *args) -> list[str]:
    """The command line of ``lupex ARGS`` in a child process stopped by ``action`` at the ``n``-th
    call of ``target`` (``python -c``, so that Dask's worker processes do not run it again)."""
    return [sys.executable, "-c", _CHILD, str(ROOT), target, str(n), action, *map(str, args)]


def stopped_at(target: str, n: int, action: str, *args, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run :func:`child_command` to its end; its exit status, stdout and stderr."""
    return subprocess.run(child_command(target, n, action, *args), capture_output=True, text=True,
                          timeout=timeout)
