"""``lupex illuminate``: Sun and Earth visibility maps of a DEM over a period."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import azimuths_option, overwrite_option, progress, progress_bar
from lupex.cluster import connect
from lupex.config import build
from lupex.errors import LupexError
from lupex.files import output_lock
from lupex.report.layers import prepare_folder, write_layer_files
from lupex.sky.horizon_map import check_request, compute_horizon_file
from lupex.sky.horizon_store import HORIZON_ENTRIES, open_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, check_maps_size, illumination_maps
from lupex.sky.tiled import TiledConfig, open_polar_dem, tiled_illumination
from lupex.sky.tracks import epochs, parse_step_hours
from lupex.terrain.readers import open_dem, read_dem

DEFAULT_WORKERS = 2
"""Local Dask workers of the tiled path."""


@click.command()
@click.argument("dem_path", metavar="DEM", type=click.Path())
@click.option("--start", required=True, help="First epoch, ISO 8601 UTC.")
@click.option("--end", required=True, help="Last epoch, ISO 8601 UTC.")
@click.option("--step", default="1h", show_default=True, help="Time step: 30min, 1h, 6h, 1d ...")
@click.option("--horizon", "horizon_file", type=click.Path(dir_okay=False),
              help="Horizon cube from 'lupex horizon' (computed into OUT/horizon.nc when absent).")
@azimuths_option
@click.option("--far-field", "far_field", type=click.Path(dir_okay=False),
              help="Coarser DEM around DEM for horizons beyond the tile (when computing horizons).")
@click.option("--observer-height", type=float, default=0.0, show_default=True, help="Eye height above ground [m].")
@click.option("--earth-mask", type=float, default=0.0, show_default=True,
              help="Clearance the Earth needs above the terrain for a link [deg].")
@click.option("--tile-px", type=int,
              help="Compute tile by tile on Dask, in core tiles of this many pixels (for DEMs larger than memory; "
                   "writes OUT/tiles/ and resumes from it).")
@click.option("--margin-km", type=float,
              help="With --tile-px: terrain read at full resolution around each tile [km] "
                   "(default from the relief; see docs/horizons.md).")
@click.option("--workers", type=int, help=f"With --tile-px: local Dask worker processes [default {DEFAULT_WORKERS}].")
@click.option("--scheduler", help="With --tile-px: address of a running Dask scheduler instead of local workers.")
@click.option("--keep-horizons", is_flag=True, help="With --tile-px: keep each tile's horizon cube in OUT/tiles/.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@overwrite_option
def illuminate(dem_path, start, end, step, horizon_file, azimuths, far_field, observer_height, earth_mask,
               tile_px, margin_km, workers, scheduler, keep_horizons, out_dir, overwrite) -> None:
    """Mean Sun, PSR, longest darkness, Earth visibility and blackout maps (GeoTIFF + PNG)."""
    config = build(IlluminationConfig, {"start": start, "end": end, "step_h": parse_step_hours(step),
                                        "observer_height_m": observer_height, "earth_mask_deg": earth_mask})
    epochs(config.start, config.end, config.step_h)  # a bad period fails before any work
    if tile_px is not None:
        tiled = build(TiledConfig, {"tile_px": tile_px, "n_azimuths": azimuths, "keep_horizons": keep_horizons,
                                    "margin_m": None if margin_km is None else margin_km * 1000.0})
        _illuminate_tiled(dem_path, config, tiled, horizon_file, far_field, workers, scheduler, Path(out_dir),
                          overwrite)
        return
    given = [name for name, value in (("--margin-km", margin_km), ("--workers", workers),
                                      ("--scheduler", scheduler), ("--keep-horizons", keep_horizons or None))
             if value is not None]
    if given:
        raise LupexError(f"{given[0]} only applies to the tiled path; add --tile-px N")
    declared = open_dem(dem_path)  # its declared size is checked before any pixel is read
    check_maps_size((declared.height, declared.width), azimuths)
    dem = read_dem(dem_path)
    far_dem = read_dem(far_field) if far_field and not horizon_file else None
    if not horizon_file:
        check_request(dem, azimuths, observer_height, far_dem)
    out = Path(out_dir)
    with output_lock(out):  # a second run writing OUT is refused at once
        prepare_folder(out, list(MAP_STYLES), overwrite, keep=HORIZON_ENTRIES)
        if horizon_file:
            horizon = open_horizon(horizon_file, dem, observer_height)
        else:
            # Resumes an interrupted cube for the same settings; one made otherwise needs --overwrite.
            cube = out / "horizon.nc"
            with progress_bar("horizons (azimuths)") as update:
                compute_horizon_file(dem, cube, azimuths, observer_height, overwrite=overwrite, progress=update,
                                     far_dem=far_dem, far_label=str(far_field or ""), reuse=True)
            horizon = open_horizon(cube, dem, observer_height)
        maps = illumination_maps(dem, horizon, config, step=progress)
        for name, style in MAP_STYLES.items():
            for path in write_layer_files(maps[name], style, out, dem, overwrite):
                click.echo(str(path))


def _illuminate_tiled(dem_path, config, tiled, horizon_file, far_field, workers, scheduler, out, overwrite) -> None:
    """The tiled Dask path: the checks before any work, then the cluster and :func:`tiled_illumination`."""
    if horizon_file or far_field:
        raise LupexError(f"{'--horizon' if horizon_file else '--far-field'} does not apply with --tile-px: the "
                         "tiled path computes each tile's horizons, with the DEM itself as far field")
    if scheduler is not None and workers is not None:
        raise LupexError("--workers starts local workers; with --scheduler the cluster's own workers are used")
    open_polar_dem(dem_path)
    with output_lock(out):  # a second run writing OUT is refused at once
        prepare_folder(out, list(MAP_STYLES), overwrite, keep=("tiles",))
        with (connect(workers=DEFAULT_WORKERS if workers is None else workers, scheduler=scheduler) as client,
              progress_bar("tiles") as update):
            paths = tiled_illumination(dem_path, config, tiled, out, client, overwrite, update, step=progress)
        for path in paths:
            click.echo(str(path))
