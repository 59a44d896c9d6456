"""Option decorators and output helpers shared by the command groups (as in rasterio's ``rio``)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace existing output files instead of refusing."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _azimuth_count(ctx: click.Context, param: click.Parameter, value: int) -> int:
    from lupex.sky.horizon import check_azimuth_count

    return check_azimuth_count(value)


azimuths_option = click.option(
    "--azimuths", type=int, default=360, show_default=True, callback=_azimuth_count,
    help="Azimuths when computing horizons (8 to 3600, lupex.limits.MAX_HORIZON_AZIMUTHS).",
)
"""``--azimuths`` of the commands that compute horizon cubes, refused at once outside 8 to 3600."""


class FiniteFloat(click.ParamType):
    """A number option that must be finite (``nan``, ``inf`` and overflowing values such as ``1e999``
    are refused at once, naming the option), and optionally positive.

    Parameters
    ----------
    positive : bool
        Whether the value must also be greater than zero.
    """

    name = "float"

    def __init__(self, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.positive and not number > 0.0:
            self.fail(f"{number:g} must be positive", param, ctx)
        return number

    def __repr__(self) -> str:
        return "POSITIVE_FLOAT" if self.positive else "FINITE_FLOAT"


FINITE_FLOAT = FiniteFloat()
"""``type=`` of a float option whose value must be a finite number [any unit]."""

POSITIVE_FLOAT = FiniteFloat(positive=True)
"""``type=`` of a float option whose value must be a finite number above zero (sizes, steps)."""


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout."""
    click.echo(json.dumps(payload, indent=2, sort_keys=False, allow_nan=False))


def is_quiet() -> bool:
    """True when the global -q flag asked for silence."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().obj and ctx.find_root().obj.get("quiet"))


def progress(message: str) -> None:
    """Report the start of a stage on stderr (silent with ``-q``)."""
    if not is_quiet():
        click.echo(f"lupex: {message}", err=True)


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """Show a spinner with ``message`` on stderr while the block runs (hidden with ``-q``)."""
    if is_quiet():
        yield
        return
    console = Console(stderr=True)
    with console.status(message):
        yield
    console.print(f"[green]done[/green] {message}")


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields ``update(done, total)``.

    Silent with ``-q`` and when stderr is not a terminal (logs and tests stay clean).
    """
    console = Console(stderr=True)
    if is_quiet() or not console.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
