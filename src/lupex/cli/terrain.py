"""``lupex terrain``: synthesise, describe, crop and derive hazard layers of DEMs."""

from __future__ import annotations

from pathlib import Path

import click

from lupex.cli.options import FINITE_FLOAT, POSITIVE_FLOAT, echo_json, json_option, overwrite_option, status
from lupex.config import build, load_toml
from lupex.files import atomic_outputs, check_writable
from lupex.raster import write_geotiff
from lupex.terrain.derive import HazardConfig, check_derive_size
from lupex.terrain.info import summarize
from lupex.terrain.outputs import rocks_path_for, write_layers
from lupex.terrain.readers import open_dem, read_dem
from lupex.terrain.reproject import crop_to_polar
from lupex.terrain.synth import SynthConfig, synthesize


@click.group()
def terrain() -> None:
    """Lunar DEMs: synthetic south-pole sites, LOLA products, hazard layers."""


@terrain.command()
@click.option("--size", type=int, required=True, help="Tile width and height [pixels].")
@click.option("--resolution", type=POSITIVE_FLOAT, required=True, help="Pixel size [m].")
@click.option("--center-lat", type=FINITE_FLOAT, required=True, help="Latitude of the tile centre [deg], -90..-45.")
@click.option("--center-lon", type=FINITE_FLOAT, default=0.0, show_default=True,
              help="East longitude of the centre [deg].")
@click.option("--seed", type=int, required=True, help="Seed; the same seed gives the same tile.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file with more model settings.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output GeoTIFF of heights.")
@click.option("--quicklook/--no-quicklook", default=True, show_default=True, help="Also write a PNG beside it.")
@overwrite_option
def synth(size, resolution, center_lat, center_lon, seed, config_file, out, quicklook, overwrite) -> None:
    """Make a synthetic south-pole tile: craters, fractal roughness and a rock layer.

    Writes OUT (heights [m]) and OUT_rocks.tif (fractional rock area k [-]).
    """
    values = load_toml(config_file) if config_file else {}
    values.update(size=size, resolution_m=resolution, center_lat=center_lat, center_lon=center_lon, seed=seed)
    config = build(SynthConfig, values, config_file or "")
    out = Path(out)
    outputs = [out, rocks_path_for(out)] + ([out.with_suffix(".png")] if quicklook else [])
    for path in outputs:
        check_writable(path, overwrite)
    with status(f"synthesising a {size} x {size} tile at {resolution:g} m"):
        site = synthesize(config)
    with atomic_outputs(outputs, overwrite) as temporaries:  # the DEM never lands without its rocks
        write_geotiff(site.dem, temporaries[0], overwrite=True)
        write_geotiff(site.rocks, temporaries[1], overwrite=True)
        if quicklook:
            from lupex.report.quicklook import save_quicklook

            save_quicklook(site.dem, temporaries[2], f"synthetic site, seed {seed}", "gist_earth",
                           "height [m]", relief=site.dem, overwrite=True)
    click.echo(str(out))


@terrain.command()
@click.argument("dem_path", metavar="FILE", type=click.Path())
@click.option("--no-slopes", is_flag=True, help="Skip the slope statistics (they read every pixel).")
@json_option
def info(dem_path, no_slopes, as_json) -> None:
    """Describe a DEM (GeoTIFF, or a PDS3 product by its .LBL or .IMG)."""
    summary = summarize(open_dem(dem_path), with_slopes=not no_slopes)
    if as_json:
        echo_json(summary)
        return
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        shown = f"{value:.6g}" if isinstance(value, float) else value
        click.echo(f"{key:<{width}}  {shown}")


@terrain.command()
@click.argument("dem_path", metavar="FILE", type=click.Path())
@click.option("--center-lat", type=FINITE_FLOAT, required=True, help="Tile centre latitude [deg].")
@click.option("--center-lon", type=FINITE_FLOAT, required=True, help="Tile centre east longitude [deg].")
@click.option("--size-km", type=POSITIVE_FLOAT, required=True, help="Tile width and height [km].")
@click.option("--resolution", type=POSITIVE_FLOAT, required=True, help="Tile pixel size [m].")
@click.option("--resampling", type=click.Choice(["bilinear", "nearest"]), default="bilinear", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output GeoTIFF.")
@overwrite_option
def crop(dem_path, center_lat, center_lon, size_km, resolution, resampling, out, overwrite) -> None:
    """Reproject any supported DEM onto a polar stereographic tile and crop it."""
    check_writable(out, overwrite)
    source = open_dem(dem_path)
    with status(f"resampling {Path(dem_path).name} onto a {size_km:g} km tile at {resolution:g} m"):
        tile = crop_to_polar(source, center_lat, center_lon, size_km, resolution, resampling)
    write_geotiff(tile, out, overwrite)
    click.echo(str(out))


@terrain.command()
@click.argument("dem_path", metavar="FILE", type=click.Path())
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option("--rocks", "rocks_file", type=click.Path(dir_okay=False),
              help="Rock-area map (default: FILE_rocks.tif when it exists, else a uniform background).")
@click.option("--max-slope", type=FINITE_FLOAT, help="Steepest traversable slope [deg] (default 25).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file of hazard thresholds.")
@overwrite_option
def derive(dem_path, out_dir, rocks_file, max_slope, config_file, overwrite) -> None:
    """Slope, roughness, rock hazard and traversable mask of a DEM, with quicklook PNGs."""
    values = load_toml(config_file) if config_file else {}
    values["max_slope_deg"] = max_slope
    config = build(HazardConfig, values, config_file or "")
    declared = open_dem(dem_path)  # its declared size is checked before any pixel is read
    check_derive_size((declared.height, declared.width))
    dem = read_dem(dem_path)
    sidecar = rocks_path_for(Path(dem_path))
    rocks_source = rocks_file or (sidecar if sidecar.exists() else None)
    rocks = read_dem(rocks_source) if rocks_source else None
    with status("deriving slope, roughness and hazard layers"):
        _, written = write_layers(dem, rocks, config, Path(out_dir), overwrite)
    for path in written:
        click.echo(str(path))
