"""``lupex mission``: run every available stage on the default site or a given configuration."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.config import build, load_toml
from lupex.mission import MissionConfig, run_mission


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Mission TOML file.")
@click.option("--dem", type=click.Path(dir_okay=False), help="Real terrain instead of the synthetic site.")
@click.option("--seed", type=int, help="Seed of the run (default 2028).")
@click.option("--days", type=float, help="Surface mission length [days] (default 100).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="lupex-out", show_default=True,
              help="Output folder.")
@overwrite_option
def mission(config_file, dem, seed, days, out_dir, overwrite) -> None:
    """Run the mission pipeline (today: site, hazards, sky) and write OUT/summary.json."""
    values = load_toml(config_file) if config_file else {}
    values.update({k: v for k, v in {"dem": dem, "seed": seed, "days": days}.items() if v is not None})
    config = build(MissionConfig, values, config_file or "")
    with progress_bar("horizons (azimuths)") as update:
        summary = run_mission(config, Path(out_dir), overwrite, step=progress, horizon_progress=update)
    click.echo(f"site: {summary['terrain']['width']} x {summary['terrain']['height']} px at "
               f"{summary['terrain']['resolution_m']:g} m, centred {summary['terrain']['center_lat']:.3f}, "
               f"{summary['terrain']['center_lon']:.3f}")
    click.echo(f"traversable: {100 * summary['traversable_fraction']:.1f} % of the site; "
               f"stages done: {', '.join(summary['stages_completed'])}; "
               f"not yet available: {', '.join(summary['stages_pending'])}")
    sky = summary["sky"]
    click.echo(f"sky over {config.days:g} days from {config.landing_utc}: "
               f"mean Sun {100 * sky['sun_fraction_mean_site']:.1f} % "
               f"(best pixel {100 * sky['sun_fraction_best_pixel']:.1f} %), Earth in view "
               f"{100 * sky['earth_visible_fraction_site']:.1f} %, PSR {100 * sky['psr_fraction']:.1f} % of the site")
    click.echo(f"outputs in {out_dir}/ (summary.json)")
