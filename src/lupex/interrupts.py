"""Ctrl-C and SIGTERM: one way to stop a long run, and a record that it was asked to stop.

The command line installs :func:`handle_signals`: SIGINT and SIGTERM both raise
``KeyboardInterrupt`` (SIGTERM as its subclass :class:`Terminated`) where the program is, so
every stage that keeps its finished outputs on Ctrl-C does the same on SIGTERM. The signal is
also recorded: Python drops an exception raised inside a weakref callback or a ``__del__``
method, and a run whose interrupt was dropped there still learns of it through
:func:`requested` (the simulation polls it every tick) and ends as interrupted.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

__all__ = ["Terminated", "deferred", "exit_status", "handle_signals", "requested"]


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by SIGTERM (handled like Ctrl-C)."""


_requested: int | None = None
_deferring = 0
_deferred: int | None = None


def requested() -> int | None:
    """The number of the signal that asked this process to stop, or None."""
    return _requested


def exit_status() -> int:
    """The shell's exit status for a run stopped by the recorded signal: 130 for Ctrl-C, 143 for
    SIGTERM (128 + the signal's number)."""
    return 128 + (_requested or signal.SIGINT)


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _on_signal(signum: int, frame) -> None:
    global _requested, _deferred
    _requested = signum
    if _deferring:
        _deferred = signum
        return
    raise _interrupt(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM (under :func:`handle_signals`) are recorded but raise
    only when it ends: for the renames that commit outputs that land together or not at all.

    The block must be short: a Ctrl-C waits for it. Blocks may nest; the outermost raises.
    """
    global _deferring, _deferred
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _deferred is not None:
            signum, _deferred = _deferred, None
            raise _interrupt(signum)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise ``KeyboardInterrupt`` and are recorded; the
    previous handlers and a clear record come back afterwards."""
    global _requested, _deferred
    _requested = _deferred = None
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
