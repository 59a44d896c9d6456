"""``lupex illuminate``: Sun and Earth visibility maps of a DEM over a period."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import overwrite_option, progress, progress_bar
from lupex.config import build
from lupex.report.layers import prepare_folder, write_layer_files
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps
from lupex.sky.tracks import epochs, parse_step_hours
from lupex.terrain.readers import read_dem


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--start", required=True, help="First epoch, ISO 8601 UTC.")
@click.option("--end", required=True, help="Last epoch, ISO 8601 UTC.")
@click.option("--step", default="1h", show_default=True, help="Time step: 30min, 1h, 6h, 1d ...")
@click.option("--horizon", "horizon_file", type=click.Path(dir_okay=False),
              help="Horizon cube from 'lupex horizon' (computed into OUT/horizon.nc when absent).")
@click.option("--azimuths", type=int, default=360, show_default=True, help="Azimuths when computing horizons.")
@click.option("--far-field", "far_field", type=click.Path(dir_okay=False),
              help="Coarser DEM around DEM for horizons beyond the tile (when computing horizons).")
@click.option("--observer-height", type=float, default=0.0, show_default=True, help="Eye height above ground [m].")
@click.option("--earth-mask", type=float, default=0.0, show_default=True,
              help="Clearance the Earth needs above the terrain for a link [deg].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def illuminate(dem_path, start, end, step, horizon_file, azimuths, far_field, observer_height, earth_mask,
               out_dir, overwrite) -> None:
    """Mean Sun, PSR, longest darkness, Earth visibility and blackout maps (GeoTIFF + PNG)."""
    config = build(IlluminationConfig, {"start": start, "end": end, "step_h": parse_step_hours(step),
                                        "observer_height_m": observer_height, "earth_mask_deg": earth_mask})
    epochs(config.start, config.end, config.step_h)  # a bad period fails before any work
    dem = read_dem(dem_path)
    far_dem = read_dem(far_field) if far_field and not horizon_file else None
    if not horizon_file:
        check_request(dem, azimuths, observer_height, far_dem)
    out = Path(out_dir)
    prepare_folder(out, list(MAP_STYLES), overwrite)
    if horizon_file:
        horizon = open_horizon(horizon_file, dem, observer_height)
    else:
        # Resumes an interrupted cube for the same settings; recomputes one made otherwise.
        cube = out / "horizon.nc"
        with progress_bar("horizons (azimuths)") as update:
            compute_horizon_file(dem, cube, azimuths, observer_height, overwrite=True, progress=update,
                                 far_dem=far_dem, far_label=str(far_field or ""), reuse=True)
        horizon = open_horizon(cube, dem, observer_height)
    maps = illumination_maps(dem, horizon, config, step=progress)
    for name, style in MAP_STYLES.items():
        for path in write_layer_files(maps[name], style, out, dem, overwrite):
            click.echo(str(path))
