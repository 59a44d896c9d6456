"""``lupex campaign``: many simulated missions, on a local Dask cluster or a running scheduler."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.campaign.runner import CampaignInterrupted, run_campaign
from lupex.campaign.spec import load_campaign
from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.errors import LupexError
from lupex.files import atomic_output
from lupex.interrupts import exit_status

EXIT_FAILED = 1
DEFAULT_WORKERS = 2

EXAMPLE = '''\
# A lupex campaign: many simulated missions that differ in the parameters below.
#   lupex campaign run campaign.toml --out campaign-out [--runs N] [--days D] [--workers W]
# A rerun of the same command resumes: finished runs (campaign-out/runs/RUN_ID.json) are kept.
# docs/campaign.md explains every table.

[campaign]
name = "adaptive-vs-baseline"
seed = 1      # seeds the draws of [distributions] and the runs' seeds (seed + replicate index)
runs = 10     # replicates of every grid point (--runs N instead)
days = 30     # length of every mission [days] (--days D instead; drop it to use [base]'s)
# base = "mission.toml"   # a 'lupex mission --config' file under [base], relative to this file

[base]
# Any key of a 'lupex mission' configuration (docs/mission.md), as tables or dotted names.
# 'seed' is also the synthetic site's seed: every run lands on this one site (computed once)
# unless the grid or the distributions vary 'site_seed', 'dem' or what the site depends on
# (landing_utc, days, sky_step_h, horizon_azimuths, hazards, ice, thermal_max_pixels).
seed = 2028
landing_utc = "2028-08-20T00:00:00Z"
# dem = "site.tif"        # real terrain instead of the synthetic site, relative to this file

[grid]
# Dotted parameter = list of values; every combination is a grid point, run 'runs' times.
# The grid points of one replicate share its seed and its draws (a paired comparison).
"sim.strategy" = ["adaptive", "baseline"]
# site_seed = [2028, 7]   # two synthetic sites
# landing_utc = ["2028-08-20T00:00:00Z", "2028-09-20T00:00:00Z"]

[distributions]
# Dotted parameter = a distribution, drawn once per replicate:
#   {kind = "uniform", low, high}   {kind = "normal", mean, std}
#   {kind = "integers", low, high}  (both included)   {kind = "choice", values = [...]}
"rover.battery.capacity_wh" = {kind = "uniform", low = 2500.0, high = 4000.0}
"sim.command_latency_h" = {kind = "choice", values = [0.5, 1.0, 2.0]}
'''
"""What ``lupex campaign init`` writes."""


@click.group()
def campaign() -> None:
    """Many simulated missions: grids and distributions of parameters, run on Dask."""


@campaign.command()
@click.argument("file", type=click.Path(dir_okay=False))
@overwrite_option
def init(file, overwrite) -> None:
    """Write a commented example campaign to FILE (a TOML file)."""
    with atomic_output(file, overwrite) as tmp:
        tmp.write_text(EXAMPLE)
    click.echo(f"wrote {file}; run it with: lupex campaign run {file} --out campaign-out")


@campaign.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--runs", type=int, help="Replicates of every grid point, instead of the file's [campaign] runs.")
@click.option("--days", type=float, help="Length of every mission [days], instead of the file's.")
@click.option("--workers", type=int,
              help="Worker processes of the local Dask cluster (default 2); 0 runs serially in this process.")
@click.option("--scheduler", help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a "
              "local cluster; its workers must see --out at the same path.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Campaign folder: new, or holding this campaign (resumed).")
@click.pass_context
def run(ctx, file, runs, days, workers, scheduler, out_dir) -> None:
    """Run every mission of the campaign in FILE and write OUT/runs/RUN_ID.json as each finishes, then
    OUT/campaign.parquet (one row per run) and the report."""
    if scheduler is not None and workers is not None:
        raise LupexError("--workers sizes a local cluster; with --scheduler the scheduler's workers run the "
                         "campaign: give one or the other")
    spec = load_campaign(file, runs, days)
    workers = DEFAULT_WORKERS if workers is None else workers
    try:
        with progress_bar("campaign runs") as update:
            result = run_campaign(spec, Path(out_dir), workers, scheduler, on_run=update, step=progress)
    except CampaignInterrupted as stop:
        click.echo(f"lupex: interrupted; {stop.finished} of {stop.total} runs finished and kept in {out_dir}/runs; "
                   "run the same command again to resume", err=True)
        ctx.exit(exit_status())
    new = result.total - result.resumed - len(result.failed)
    if result.failed:
        first = next(iter(result.failed.items()))
        click.echo(f"lupex: {len(result.failed)} of {result.total} runs failed (first: {first[0]}: {first[1]}); "
                   f"the {result.total - len(result.failed)} finished are kept in {out_dir}/runs; run the same "
                   "command again to retry the others", err=True)
        ctx.exit(EXIT_FAILED)
    click.echo(f"{result.total} runs ({new} run now, {result.resumed} finished before): {result.table}")
    if result.reports:
        click.echo(f"report: {', '.join(str(p) for p in result.reports)}")
