"""``lupex mission``: terrain -> sky -> thermal/ice -> site -> plan -> simulate -> report, in one folder."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.config import build, load_toml
from lupex.interrupts import exit_status
from lupex.mission import MissionConfig, MissionInterrupted, run_mission


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Mission TOML file: seed, dem, landing_utc, days, and [rover], [sim], [ice], [site] tables.")
@click.option("--dem", type=click.Path(dir_okay=False), help="Real terrain instead of the synthetic site.")
@click.option("--seed", type=int, help="Seed of the run (default 2028).")
@click.option("--days", type=float, help="Surface mission length [days] (default 100).")
@click.option("--strategy", type=click.Choice(["adaptive", "baseline"]), help="Science strategy (default adaptive).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="lupex-out", show_default=True,
              help="Output folder.")
@overwrite_option
@click.pass_context
def mission(ctx, config_file, dem, seed, days, strategy, out_dir, overwrite) -> None:
    """Simulate a whole surface mission and write OUT/summary.json, telemetry.parquet, events.csv,
    holes.csv, map.png, timeline.png and report.html (plus the site, sky and prior layers)."""
    values = load_toml(config_file) if config_file else {}
    values.update({k: v for k, v in {"dem": dem, "seed": seed, "days": days}.items() if v is not None})
    if strategy:
        values["sim"] = {**values.get("sim", {}), "strategy": strategy}
    config = build(MissionConfig, values, config_file or "")
    try:
        with progress_bar("horizon azimuths, then mission ticks") as update:
            summary = run_mission(config, Path(out_dir), overwrite, step=progress, horizon_progress=update,
                                  sim_progress=update)
    except MissionInterrupted as stop:
        click.echo(f"lupex: interrupted; partial outputs in {out_dir}/ ({stop.summary['reason']}; "
                   "summary.json status 'interrupted')", err=True)
        ctx.exit(exit_status())
    click.echo(f"{summary['status']}: {summary['days_simulated']:.1f} days, {summary['distance_km']:.2f} km driven, "
               f"{summary['drills']} holes ({100 * summary['drills_at_threshold_fraction']:.0f} % reaching "
               f">= {config.sim.threshold_wt_pct:g} wt%, highest {summary['max_water_wt_pct']:.2f} wt%), "
               f"lowest charge {100 * summary['min_soc']:.0f} %, {summary['downlinked_mb']:.0f} MB sent"
               + (f"; {summary['reason']}" if summary["reason"] else ""))
    click.echo(f"outputs in {out_dir}/ (summary.json, telemetry.parquet, events.csv, report.html)")
