"""The fuzz suite's settings, its bounds on time and memory, and the error contract it checks.

Two hypothesis profiles: ``lupex-fuzz`` runs a few dozen examples a property, derandomized so that
CI sees the same inputs every run (the whole folder takes about a minute on 2 cores), and
``lupex-fuzz-slow`` runs many more, freshly drawn, in the tests marked ``slow`` (``-m slow``).
Every example runs with a 2 GiB memory budget (``LUPEX_MEMORY_LIMIT``), so a file that declares
a huge grid is refused by lupex's own checks instead of swapping the machine, and under a
wall-clock guard that fails the example if it hangs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from lupex.cli.main import run
from lupex.terrain.readers import gdal_warnings_held

FAST_EXAMPLES = 60
"""Examples a property runs in the default profile (CI)."""

SLOW_EXAMPLES = 1000
"""Examples a property runs in the slow profile."""

EXAMPLE_SECONDS = 60
"""An example still running after this long has hung: the inputs are tiny, and each finishes in
well under a second when lupex refuses it or a few seconds when it succeeds."""

_COMMON = dict(
    deadline=None,  # wall-clock limits on a shared 2-core machine are flaky; the guard below catches hangs
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("lupex-fuzz", max_examples=FAST_EXAMPLES, derandomize=True, **_COMMON)
settings.register_profile("lupex-fuzz-slow", max_examples=SLOW_EXAMPLES, derandomize=False, **_COMMON)


def fuzz(*strategies, **named_strategies) -> Callable[[Callable], tuple[Callable, Callable]]:
    """Make a property into two tests: the CI one (``lupex-fuzz``) and a slow one (``lupex-fuzz-slow``).

    Use as ``test_x, test_x_slow = fuzz(strategy)(body)``: hypothesis's ``given`` with each profile.
    """

    def make(body: Callable) -> tuple[Callable, Callable]:
        fast = settings(settings.get_profile("lupex-fuzz"))(given(*strategies, **named_strategies)(body))
        slow = settings(settings.get_profile("lupex-fuzz-slow"))(given(*strategies, **named_strategies)(body))
        return fast, pytest.mark.slow(slow)

    return make


@pytest.fixture(autouse=True)
def bounded_memory(monkeypatch):
    """Every example plans within 2 GiB, whatever the machine has."""
    monkeypatch.setenv("LUPEX_MEMORY_LIMIT", "2GiB")


class _Failed(Exception):
    """Raised to make gdal_warnings_held drop what it held."""


class ExampleHung(BaseException):
    """An example ran past EXAMPLE_SECONDS (a BaseException, so that no ``except Exception`` eats it)."""


@contextlib.contextmanager
def time_limit(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Fail the block with ExampleHung after ``seconds`` of wall-clock time (main thread, POSIX)."""

    def expire(signum, frame):
        raise ExampleHung(f"the example ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class _Warnings(logging.Handler):
    """Log records of WARNING and above: each would be one more line on stderr in a real run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"lupex: {record.levelname}: {record.getMessage()}")


@pytest.fixture
def lupex(capsys) -> Callable[..., Outcome]:
    """Run ``lupex ARGS...`` in-process under the time limit and check the error contract.

    The contract: exit status 0, or 2 with exactly one stderr line, starting ``lupex: error:``,
    no traceback, and no warning logged or issued on the way (a real run prints those on stderr
    too; Python's warnings are recorded under the filters of a plain ``python`` run).

    GDAL's warnings are held for the whole command, as ``lupex.cli.main.run`` should hold them
    (``lupex.terrain.readers.gdal_warnings_held``; see
    ``tests/cli/test_terrain_io_cli.py::test_gdal_warnings_do_not_precede_a_refusal``): a file
    may open with warnings and be refused later.
    """

    def invoke(*args) -> Outcome:
        capsys.readouterr()
        logged = _Warnings()
        logging.getLogger().addHandler(logged)
        try:
            with (time_limit(), warnings.catch_warnings(record=True) as caught, contextlib.suppress(_Failed),
                  gdal_warnings_held()):
                _python_default_filters()
                code = 2
                code = run([str(a) for a in args])
                if code != 0:
                    raise _Failed  # the command failed: GDAL's warnings are dropped
        finally:
            logging.getLogger().removeHandler(logged)
        captured = capsys.readouterr()
        outcome = Outcome(code, captured.out, captured.err)
        printed = [f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}" for w in caught]
        assert_contract(outcome, logged.lines + printed)
        return outcome

    return invoke


def _python_default_filters() -> None:
    """The warning filters of a plain ``python`` run (pytest's own would hide what a user sees)."""
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)


def assert_contract(outcome: Outcome, warning_lines: list[str] = ()) -> None:
    """Exit 0, or exit 2 with one ``lupex: error:`` line on stderr and nothing else there."""
    assert outcome.code in (0, 2), (outcome.code, outcome.err[-3000:])
    assert "Traceback" not in outcome.err, outcome.err[-3000:]
    if outcome.code == 2:
        lines = [line for line in outcome.err.splitlines() if line.strip()] + list(warning_lines)
        assert len(lines) == 1, lines
        assert lines[0].startswith("lupex: error: "), lines[0]


def entries(folder: Path) -> set[str]:
    """Every file and folder under ``folder``, relative, hidden ones included (temporaries)."""
    return {os.path.relpath(os.path.join(root, name), folder)
            for root, dirs, files in os.walk(folder) for name in dirs + files}
