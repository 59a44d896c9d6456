"""``lupex ice prior`` and ``lupex ice truth``: the files, their agreement, and bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from affine import Affine

from lupex.cli.main import run
from lupex.errors import LupexError
from lupex.files import MANIFEST_NAME
from lupex.ice import open_truth, truth_folder
from lupex.ice.prior import PRIOR_STYLES
from lupex.raster import grid_array, polar_crs, write_geotiff
from lupex.sky.horizon_store import dem_fingerprint
from lupex.terrain.readers import read_dem
from lupex.thermal.products import THERMAL_STYLES, write_manifest
from tests.conftest import assert_one_line_error

PIXEL_M = 20.0
LEFT, TOP = 40_000.0, -12_000.0
SHAPE = (20, 25)  # 400 m x 500 m


def lupex(*args) -> int:
    """Exit status of ``lupex -q ARGS...`` run in-process (for fixtures, which cannot use ``cli``)."""
    return run(["-q", *(str(a) for a in args)])


def make_site(folder: Path, seed: int) -> Path:
    """A DEM and its thermal folder (ice stable at the surface, at 0.3 m, and nowhere); returns the DEM."""
    folder.mkdir()
    transform = Affine(PIXEL_M, 0.0, LEFT, 0.0, -PIXEL_M, TOP)
    heights = np.random.default_rng(seed).normal(0.0, 10.0, SHAPE).astype(np.float32)
    dem_path = folder / "dem.tif"
    write_geotiff(grid_array(heights, transform, polar_crs(), "height", "m"), dem_path)
    depth = np.full(SHAPE, np.nan, dtype=np.float32)
    depth[:, :10], depth[:, 10:18] = 0.0, 0.3
    layers = {"tmax": np.full(SHAPE, 90.0, np.float32), "tmean": np.full(SHAPE, 60.0, np.float32),
              "ice_depth_m": depth, "cold_trap": (depth == 0).astype(np.uint8)}
    thermal = folder / "thermal"
    thermal.mkdir()
    for name in THERMAL_STYLES:
        write_geotiff(grid_array(layers[name], transform, polar_crs(), name, ""), thermal / f"{name}.tif")
    write_manifest(thermal, read_dem(dem_path), {"made_by": "tests/ice"})
    return dem_path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two sites on the same grid with different heights; a prior and a 2 m truth of the first."""
    root = tmp_path_factory.mktemp("ice")
    dem, other = make_site(root / "a", 1), make_site(root / "b", 2)
    assert lupex("ice", "prior", dem, "--thermal", dem.parent / "thermal", "--out", root / "prior") == 0
    assert lupex("ice", "truth", dem, "--prior", root / "prior", "--seed", 7, "--resolution", 2,
                "--out", root / "truth") == 0
    return root, dem, other


def test_prior_folder_contents(site):
    root, dem, _ = site
    prior_dir = root / "prior"
    expected = {"prior.nc", "prior.json", MANIFEST_NAME} | {
        f"{name}.{ext}" for name in PRIOR_STYLES for ext in ("tif", "png")}
    assert {p.name for p in prior_dir.iterdir()} == expected
    manifest = json.loads((prior_dir / "prior.json").read_text())
    assert manifest["dem_fingerprint"] == dem_fingerprint(read_dem(dem))
    assert manifest["params"]["patch_fraction"] == 0.2
    with xr.open_dataset(prior_dir / "prior.nc", decode_coords="all") as prior:
        assert prior["weh_mean_wt_pct"].dims == ("depth", "y", "x")
        assert prior.sizes["depth"] == 15 and prior["depth_bottom"].values[-1] == pytest.approx(1.5)
        assert prior.rio.crs is not None
        assert float(prior["ice_probability"].isel(y=0, x=0)) == pytest.approx(0.2)
        assert float(prior["ice_probability"].isel(y=0, x=-1)) == 0.0
    tif = xr.open_dataarray(prior_dir / "weh_top1m_mean.tif", engine="rasterio")
    assert tif.shape == (1, *SHAPE)


def test_truth_folder_rebuilds_its_own_grid(site):
    root, _, _ = site
    truth_dir = root / "truth"
    assert {p.name for p in truth_dir.iterdir()} == {"truth.nc", "truth.json", "truth.png", "generator.nc",
                                                     MANIFEST_NAME}
    manifest = json.loads((truth_dir / "truth.json").read_text())
    assert manifest["seed"] == 7 and manifest["resolution_m"] == 2.0
    assert manifest["shape"] == [15, 200, 250]
    generator = open_truth(truth_dir)
    with xr.open_dataset(truth_dir / "truth.nc", decode_coords="all") as truth:
        assert truth["weh_wt_pct"].dims == ("depth", "y", "x") and truth.rio.crs is not None
        x, y = np.meshgrid(truth["x"].values, truth["y"].values)
        np.testing.assert_array_equal(generator.layers(x, y).astype(np.float32), truth["weh_wt_pct"].values)
        assert truth["weh_wt_pct"].values[:, :, -20:].max() == pytest.approx(0.05)  # no stable ice there
        assert truth["weh_wt_pct"].values.max() > 1.0


def test_a_region_is_a_window_of_the_whole_truth(site, tmp_path):
    root, dem, _ = site
    region = f"{LEFT + 100},{TOP - 300},{LEFT + 160},{TOP - 200}"
    assert lupex("ice", "truth", dem, "--prior", root / "prior", "--seed", 7, "--resolution", 2,
                "--region", region, "--out", tmp_path / "part") == 0
    with xr.open_dataset(tmp_path / "part" / "truth.nc") as part, xr.open_dataset(root / "truth" / "truth.nc") as whole:
        assert part.sizes["x"] == 30 and part.sizes["y"] == 50
        np.testing.assert_array_equal(part["weh_wt_pct"].values, whole["weh_wt_pct"].values[:, 100:150, 50:80])


def test_outputs_are_not_replaced_without_overwrite(site, cli):
    root, dem, _ = site
    args = ["ice", "prior", dem, "--thermal", dem.parent / "thermal", "--out", root / "prior"]
    assert_one_line_error(cli(*args), "--overwrite")
    assert cli("-q", *args, "--overwrite").code == 0


def test_an_interrupted_truth_leaves_no_half_written_file(site, tmp_path, monkeypatch):
    root, dem, _ = site

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(truth_folder, "save_quicklook", interrupt)
    out = tmp_path / "cut"
    assert lupex("ice", "truth", dem, "--prior", root / "prior", "--seed", 1, "--resolution", 5,
                "--out", out) == 130
    # finished files only (no truth.json), and the list of what lupex writes there
    assert {p.name for p in out.iterdir()} == {"truth.nc", "generator.nc", MANIFEST_NAME}


@pytest.mark.parametrize("case,fragment", [
    ("thermal of another DEM", "another DEM"),
    ("missing thermal folder", "not a thermal folder"),
    ("negative setting", "background_wt_pct"),
    ("unknown setting", "patch_size"),
])
def test_bad_prior_input(site, cli, tmp_path, case, fragment):
    _, dem, other = site
    toml = tmp_path / "ice.toml"
    toml.write_text({"negative setting": "background_wt_pct = -0.1\n", "unknown setting": "patch_size = 3\n"}.get(
        case, "patch_fraction = 0.25\n"))
    thermal = {"thermal of another DEM": other.parent / "thermal", "missing thermal folder": tmp_path / "nowhere"}.get(
        case, dem.parent / "thermal")
    result = cli("ice", "prior", dem, "--thermal", thermal, "--config", toml, "--out", tmp_path / "out")
    assert_one_line_error(result, fragment)


@pytest.mark.parametrize("options,fragment", [
    (["--seed", -1], "--seed"),
    (["--seed", "x"], "--seed"),
    (["--resolution", 0], "--resolution"),
    (["--resolution", -2], "--resolution"),
    (["--resolution", 25], "coarser"),
    (["--resolution", 0.01], "more than"),
    (["--region", "1,2,3"], "X0,Y0,X1,Y1"),
    (["--region", f"{LEFT - 50},{TOP - 100},{LEFT + 50},{TOP}"], "not inside the DEM"),
    (["--region", f"{LEFT + 50},{TOP - 100},{LEFT + 10},{TOP}"], "empty"),
])
def test_bad_truth_input(site, cli, tmp_path, options, fragment):
    root, dem, _ = site
    values = {"--seed": 3, "--resolution": 1, **dict(zip(options[::2], options[1::2], strict=True))}
    args = [item for pair in values.items() for item in pair]
    result = cli("ice", "truth", dem, "--prior", root / "prior", *args, "--out", tmp_path / "out")
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out" / "truth.json").exists()


def test_truth_refuses_a_prior_of_another_dem_or_none(site, cli, tmp_path):
    root, _, other = site
    result = cli("ice", "truth", other, "--prior", root / "prior", "--seed", 1, "--resolution", 1, "--out", tmp_path)
    assert_one_line_error(result, "another DEM")
    result = cli("ice", "truth", other, "--prior", tmp_path / "none", "--seed", 1, "--resolution", 1, "--out", tmp_path)
    assert_one_line_error(result, "not a prior folder")


def test_open_truth_refuses_a_folder_without_manifest(tmp_path):
    with pytest.raises(LupexError, match="not a truth folder"):
        open_truth(tmp_path)
