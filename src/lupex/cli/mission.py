"""``lupex mission``: run every available stage on the default site or a given configuration."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress
from lupex.config import build, load_toml
from lupex.mission import MissionConfig, run_mission


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Mission TOML file.")
@click.option("--dem", type=click.Path(dir_okay=False), help="Real terrain instead of the synthetic site.")
@click.option("--seed", type=int, help="Seed of the run (default 2028).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="lupex-out", show_default=True,
              help="Output folder.")
@overwrite_option
def mission(config_file, dem, seed, out_dir, overwrite) -> None:
    """Run the mission pipeline (today: site and hazard layers) and write OUT/summary.json."""
    values = load_toml(config_file) if config_file else {}
    values.update({k: v for k, v in {"dem": dem, "seed": seed}.items() if v is not None})
    config = build(MissionConfig, values, config_file or "")
    if config.dem is not None:
        from lupex.terrain.readers import open_dem

        open_dem(config.dem)  # fail on bad terrain before any long work
    summary = run_mission(config, Path(out_dir), overwrite, step=progress)
    click.echo(f"site: {summary['terrain']['width']} x {summary['terrain']['height']} px at "
               f"{summary['terrain']['resolution_m']:g} m, centred {summary['terrain']['center_lat']:.3f}, "
               f"{summary['terrain']['center_lon']:.3f}")
    click.echo(f"traversable: {100 * summary['traversable_fraction']:.1f} % of the site; "
               f"stages done: {', '.join(summary['stages_completed'])}; "
               f"not yet available: {', '.join(summary['stages_pending'])}")
    click.echo(f"outputs in {out_dir}/ (summary.json)")
