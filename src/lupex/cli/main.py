"""Entry point of the ``lupex`` command: the group, logging, and the one-line error contract.

Every failure caused by the user's input ends as a single ``lupex: error: ...`` line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import errno
import logging
import sys

import click

from lupex import __version__
from lupex.cli import campaign as campaign_cli
from lupex.cli import data as data_cli
from lupex.cli import geo as geo_cli
from lupex.cli import horizon as horizon_cli
from lupex.cli import ice as ice_cli
from lupex.cli import illuminate as illuminate_cli
from lupex.cli import mission as mission_cli
from lupex.cli import plan as plan_cli
from lupex.cli import route as route_cli
from lupex.cli import rover as rover_cli
from lupex.cli import sites as sites_cli
from lupex.cli import sky as sky_cli
from lupex.cli import targets as targets_cli
from lupex.cli import terrain as terrain_cli
from lupex.cli import thermal as thermal_cli
from lupex.cli import timeseries as timeseries_cli
from lupex.errors import LupexError
from lupex.interrupts import exit_status, handle_signals, requested

EXIT_BAD_INPUT = 2

INTERRUPTED = "lupex: interrupted; finished outputs are kept, unfinished ones removed"
"""The line a run stopped by Ctrl-C or SIGTERM ends with (exit status 130 or 143)."""

_OS_ERROR_FIXES = {
    errno.ENOSPC: "free some space or write to another disk",
    errno.EDQUOT: "free some space or write to another disk",
    errno.EFBIG: "the file outgrew what this disk or process may write; write to another disk",
    errno.EACCES: "choose a path you may write to, or change its permissions",
    errno.EPERM: "choose a path you may write to, or change its permissions",
    errno.EROFS: "the disk is read-only; choose a path on a writable disk",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "choose a shorter path",
}
"""What to do about the operating-system errors a user can meet, by errno."""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lupex")
@click.option("-v", "--verbose", count=True, help="More log messages on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """lupex: plan and simulate a LUPEX-class rover mission at the lunar south pole."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="lupex: %(levelname)s: %(message)s", stream=sys.stderr)
    ctx.obj = {"quiet": quiet}


cli.add_command(terrain_cli.terrain)
cli.add_command(geo_cli.geo)
cli.add_command(data_cli.data)
cli.add_command(mission_cli.mission)
cli.add_command(sky_cli.sky)
cli.add_command(horizon_cli.horizon)
cli.add_command(illuminate_cli.illuminate)
cli.add_command(timeseries_cli.timeseries)
cli.add_command(thermal_cli.thermal)
cli.add_command(route_cli.route)
cli.add_command(plan_cli.plan)
cli.add_command(sites_cli.sites)
cli.add_command(rover_cli.rover)
cli.add_command(ice_cli.ice)
cli.add_command(targets_cli.targets)
cli.add_command(campaign_cli.campaign)


def _fail(message: str) -> int:
    first_line = " ".join(str(message).split())
    click.echo(f"lupex: error: {first_line}", err=True)
    return EXIT_BAD_INPUT


def _os_error(exc: OSError) -> str:
    where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    reason = exc.strerror or str(exc)
    fix = _OS_ERROR_FIXES.get(exc.errno)
    return f"{where + ': ' if where else ''}{reason}" + (f"; {fix}" if fix else "")


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status (used by ``main`` and the tests).

    SIGINT and SIGTERM stop the run like Ctrl-C (exit 130 or 143; finished outputs are kept,
    unfinished ones removed); an interrupt that Python dropped on the way still ends the run as
    interrupted, never as a success.
    """
    with handle_signals():
        code = _run(argv)
        stopped = requested()
    if stopped is not None and code == 0:
        click.echo(INTERRUPTED, err=True)
        return exit_status()
    return code


def _run(argv: list[str] | None) -> int:
    try:
        result = cli.main(args=argv, prog_name="lupex", standalone_mode=False)
    except LupexError as exc:
        return _fail(str(exc))
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.ClickException as exc:
        return _fail(exc.format_message())
    except OSError as exc:  # permissions, a full disk, a bad path: the user's to fix, not a traceback
        return _fail(_os_error(exc))
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns a Ctrl-C in a command into Abort
        click.echo(INTERRUPTED, err=True)
        return exit_status()
    # Without standalone mode click returns the exit code of --help / --version itself.
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
