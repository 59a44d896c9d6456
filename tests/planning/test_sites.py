"""Landing-site ranking: candidate grid, landing-disc statistics, reachable ice against brute force,
hard filters and their reasons, and the score's ordering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lupex.errors import LupexError
from lupex.geo import latlon_to_xy, xy_to_latlon
from lupex.planning.sites import (
    SKY_LAYERS,
    Candidates,
    Region,
    SiteConfig,
    candidate_sites,
    disc_offsets,
    feasibility,
    lander_criteria,
    parse_region,
    prepare_sites_folder,
    rank_sites,
    reach_budget_j,
    reachable_area_m2,
    read_illumination,
    site_scores,
)
from lupex.raster import centered_polar_transform, grid_array, polar_crs, write_geotiff
from lupex.rover.model import RoverConfig
from lupex.rover.power import drive_power_w
from lupex.terrain.derive import derive_layers
from tests.planning.test_grid_search import brute_force_field, random_costs

PIXEL = 10.0
SIZE = 41
CENTRE_LAT, CENTRE_LON = -89.9, 30.0


def grid(values, name="height", units="m", size=SIZE, pixel=PIXEL) -> xr.DataArray:
    transform = centered_polar_transform(CENTRE_LAT, CENTRE_LON, size, pixel)
    values = np.broadcast_to(np.asarray(values), (size, size)).copy()
    return grid_array(values, transform, polar_crs(), name, units)


def centre_region(dem: xr.DataArray, radius_km: float) -> Region:
    """A region centred on the middle pixel of ``dem``."""
    lat, lon = xy_to_latlon(float(dem.x[dem.sizes["x"] // 2]), float(dem.y[dem.sizes["y"] // 2]))
    return Region(float(lat), float(lon), radius_km)


def flat_sky(dem: xr.DataArray, sun=0.5, darkness=100.0, earth=0.5, psr=0) -> xr.Dataset:
    values = {"sun_fraction_mean": sun, "psr": psr, "max_darkness_h": darkness, "earth_visible_fraction": earth}
    return xr.Dataset({name: grid(np.asarray(values[name], dtype=np.float32), name, size=dem.sizes["x"])
                       for name in SKY_LAYERS})


# --- region and candidates -------------------------------------------------------------


def test_region_parsing():
    region = parse_region("-89.45,222.7,3")
    assert (region.lat, region.lon, region.radius_km) == (-89.45, 222.7, 3.0)
    assert parse_region("-89.5,-10,0.5").lon == 350.0
    for text, fragment in [("-89.5,0", "LAT,LON,RADIUS_KM"), ("a,b,c", "LAT,LON,RADIUS_KM"),
                           ("-89.5,0,0", "positive"), ("-89.5,0,-2", "positive"), ("-95,0,1", "latitude"),
                           ("-89.5,0,nan", "positive")]:
        with pytest.raises(LupexError, match=fragment):
            parse_region(text)


def test_candidates_fill_the_region_circle_at_the_spacing():
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    region = centre_region(dem, 0.1)
    found = candidate_sites(dem, region, 20.0)
    # Offsets (i, j) x 20 m within 100 m of the centre, i^2 + j^2 <= 25: the centre, 5 on each
    # half-axis, and (1, 1-4), (2, 1-4), (3, 1-4), (4, 1-3) = 15 in each quadrant.
    assert found.rows.size == 1 + 4 * 5 + 4 * 15
    xc, yc = (float(v) for v in latlon_to_xy(region.lat, region.lon))
    assert np.hypot(found.x_m - xc, found.y_m - yc).max() <= 100.0 + PIXEL / 2
    np.testing.assert_allclose(found.x_m, dem.x.values[found.cols])
    np.testing.assert_allclose(found.y_m, dem.y.values[found.rows])
    lat, lon = xy_to_latlon(found.x_m, found.y_m)
    np.testing.assert_allclose(found.lat, lat)
    np.testing.assert_allclose(found.lon, lon)
    assert len({(r, c) for r, c in zip(found.rows, found.cols, strict=True)}) == found.rows.size


def test_candidates_off_the_dem_are_dropped_and_refusals():
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    _, bottom, right, top = dem.rio.bounds()
    lat, lon = xy_to_latlon(right + 5.0, (bottom + top) / 2)  # just beyond the east edge
    half = candidate_sites(dem, Region(float(lat), float(lon), 0.1), 20.0)
    assert half.rows.size == (81 - 11) // 2  # the western half of the 81 points, without the middle column
    assert (half.x_m < right).all()
    with pytest.raises(LupexError, match="finer than the DEM's pixels"):
        candidate_sites(dem, centre_region(dem, 0.1), 5.0)
    far = xy_to_latlon(right + 500.0, top)
    with pytest.raises(LupexError, match="does not overlap the DEM"):
        candidate_sites(dem, Region(float(far[0]), float(far[1]), 0.2), 20.0)
    # The circle reaches the DEM but its only grid point (the centre) lies beyond the edge.
    near = xy_to_latlon(right + 50.0, (bottom + top) / 2)
    with pytest.raises(LupexError, match="no candidate site"):
        candidate_sites(dem, Region(float(near[0]), float(near[1]), 0.2), 1000.0)


def test_disc_offsets_by_hand():
    dr, dc = disc_offsets(25.0, 10.0)  # radius 2.5 pixels: 1 + 4 + 4 + 4 + 8 pixels
    assert dr.size == 21
    assert set(zip(dr.tolist(), dc.tolist(), strict=True)) == {
        (i, j) for i in range(-2, 3) for j in range(-2, 3) if i * i + j * j <= 6.25}
    assert disc_offsets(4.0, 10.0)[0].tolist() == [0]


# --- landing-disc statistics -----------------------------------------------------------


def test_lander_slope_is_the_safe_fraction_quantile_of_the_disc():
    config = SiteConfig(landing_radius_m=25.0, safe_fraction=0.95)  # 21-pixel disc: one may be bad
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    slope = np.full((SIZE, SIZE), 5.0, np.float32)
    slope[10, 10] = 30.0  # one steep pixel in the first disc
    slope[30, 30] = slope[30, 31] = 30.0  # two in the second
    hazard = np.zeros((SIZE, SIZE), np.float32)
    hazard[20, 18:23] = 9.0  # five rocky pixels in the third
    layers = xr.Dataset({"slope": grid(slope, "slope"), "hazard": grid(hazard, "hazard")})
    sun = np.tile(np.linspace(0, 1, SIZE, dtype=np.float32), (SIZE, 1))
    psr = np.zeros((SIZE, SIZE), np.uint8)
    psr[29:32, 29:32] = 1  # 9 of the second disc's 21 pixels
    sky = flat_sky(dem, sun=sun, psr=psr)
    rows = cols = np.array([10, 30, 20])
    x, y = dem.x.values[cols], dem.y.values[rows]
    picked = Candidates(rows, cols, x, y, *xy_to_latlon(x, y))
    criteria = lander_criteria(layers, sky, picked, config, PIXEL)
    np.testing.assert_allclose(criteria["lander_slope_deg"], [5.0, 30.0, 5.0])
    np.testing.assert_allclose(criteria["hazard_per_100m2"], [0.0, 0.0, 9.0])
    np.testing.assert_allclose(criteria["psr_fraction"], [0.0, 9 / 21, 0.0])
    np.testing.assert_allclose(criteria["sun_fraction_mean"], sun[0, [10, 30, 20]], rtol=1e-6)  # symmetric discs
    np.testing.assert_allclose(criteria["max_darkness_h"], 100.0)
    assert criteria["complete"].all()


def test_discs_leaving_the_dem_or_holding_nodata_are_incomplete():
    heights = np.zeros((SIZE, SIZE), np.float32)
    heights[5, 20] = np.nan
    dem = grid(heights)
    layers = derive_layers(dem)
    sky = flat_sky(dem)
    found = candidate_sites(dem, centre_region(dem, 0.2), 50.0)
    criteria = lander_criteria(layers, sky, found, SiteConfig(landing_radius_m=30.0), PIXEL)
    dr, dc = disc_offsets(30.0, PIXEL)
    r, c = found.rows[:, None] + dr, found.cols[:, None] + dc
    inside = ((r >= 0) & (r < SIZE) & (c >= 0) & (c < SIZE)).all(axis=1)
    hits_hole = ((r == 5) & (c == 20)).any(axis=1)
    np.testing.assert_array_equal(criteria["complete"], inside & ~hits_hole)
    assert (~criteria["complete"]).sum() > 0


# --- reachable ice ---------------------------------------------------------------------


def test_reachable_area_by_hand_on_a_uniform_grid():
    cost = np.ones((9, 9))
    targets = np.ones((9, 9), dtype=bool)
    # Unit cost and pixel: the 4 axial neighbours cost 1, the diagonals 1.41, two axial steps 2,
    # the knight moves 2.24.
    for budget, cells in [(0.5, 1), (1.0, 5), (1.5, 9), (2.1, 13), (2.3, 21)]:
        area = reachable_area_m2(cost, 1.0, [4], [4], targets, budget)
        assert area[0] == cells, budget
    assert reachable_area_m2(cost * 2.0, 3.0, [4], [4], targets, 6.0)[0] == 5 * 9.0  # m^2 of 3 m cells
    cost[4, 4] = np.inf
    assert reachable_area_m2(cost, 1.0, [4], [4], targets, 5.0)[0] == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reachable_area_matches_a_brute_force_graph(seed):
    cost = random_costs(seed, shape=(30, 34), forbidden=0.15)
    rng = np.random.default_rng(seed)
    targets = rng.random(cost.shape) < 0.3
    rows, cols = rng.integers(0, 30, 6), rng.integers(0, 34, 6)
    rows[0], cols[0] = 2, 3  # near a corner: the window is cut by the map's edge
    pixel = 7.0
    budgets = (40.0, 150.0, 1e6)  # a small window, a larger one, and the whole map
    areas = [reachable_area_m2(cost, pixel, rows, cols, targets, budget) for budget in budgets]
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        field = brute_force_field(cost, pixel, (r, c), cut_corners=False) if np.isfinite(cost[r, c]) else None
        for budget, area in zip(budgets, areas, strict=True):
            expected = 0 if field is None else np.count_nonzero((field <= budget) & targets)
            assert area[i] == expected * pixel**2, (r, c, budget)
    assert areas[0].max() > 0 and (areas[0] < areas[2]).any()


def test_the_drive_budget_is_the_energy_of_reach_m_on_level_ground():
    rover = RoverConfig()
    budget = reach_budget_j(rover, SiteConfig(reach_m=2000.0))
    assert budget == pytest.approx(2000.0 * float(drive_power_w(rover, 0.0)) / 0.05)
    assert budget / 3.6e6 == pytest.approx(1.095, abs=0.001)  # kWh, as SiteConfig's description says
    assert rover.battery.usable_energy_wh / 1000 == pytest.approx(2.14, abs=0.01)


# --- filters and score -----------------------------------------------------------------


def criteria_of(**changes) -> dict:
    base = {"complete": True, "lander_slope_deg": 5.0, "hazard_per_100m2": 1.0, "psr_fraction": 0.0,
            "sun_fraction_mean": 0.5, "max_darkness_h": 100.0, "earth_visible_fraction": 0.5,
            "ice_reachable_m2": 1000.0}
    rows = [base] + [{**base, name: value} for name, value in changes.items()]
    return {name: np.array([row[name] for row in rows]) for name in base}


def test_each_filter_rejects_for_its_own_reason():
    config = SiteConfig(min_sun_fraction=0.2, max_darkness_h=200.0, min_earth_visible_fraction=0.3)
    cases = {"complete": (False, "leaves the DEM"), "lander_slope_deg": (12.5, "slope 12.5 deg > 12 deg"),
             "hazard_per_100m2": (6.0, "rocks 6 > 5 per 100 m2"),
             "psr_fraction": (0.06, "permanent shadow over 6 %"), "sun_fraction_mean": (0.1, "mean Sun 0.100 < 0.2"),
             "max_darkness_h": (250.0, "darkness 250 h > 200 h"),
             "earth_visible_fraction": (0.2, "Earth in view 0.200 < 0.3"),
             "ice_reachable_m2": (0.0, "no ice-stable ground within reach")}
    criteria = criteria_of(**{name: value for name, (value, _) in cases.items()})
    feasible, reasons = feasibility(criteria, config)
    assert feasible.tolist() == [True] + [False] * len(cases)
    assert reasons[0] == ""
    for reason, (_, fragment) in zip(reasons[1:], cases.values(), strict=True):
        assert fragment in reason and ";" not in reason, (reason, fragment)
    # At the limits themselves a candidate passes; several failures are all named.
    edge = criteria_of(lander_slope_deg=12.0, hazard_per_100m2=5.0, psr_fraction=0.05, sun_fraction_mean=0.2,
                       max_darkness_h=200.0, earth_visible_fraction=0.3)
    assert feasibility(edge, config)[0].all()
    both = criteria_of(lander_slope_deg=20.0)
    both["ice_reachable_m2"][1] = 0.0
    assert feasibility(both, config)[1][1] == ("slope 20.0 deg > 12 deg over 95 % of the disc; "
                                               "no ice-stable ground within reach")
    assert "<= 500 m2" in feasibility(criteria_of(ice_reachable_m2=400.0), SiteConfig(min_ice_reachable_m2=500.0))[1][1]


def test_a_candidate_better_in_every_criterion_scores_higher():
    rng = np.random.default_rng(3)
    n = 200
    criteria = {"sun_fraction_mean": rng.random(n), "max_darkness_h": rng.uniform(0, 500, n),
                "earth_visible_fraction": rng.random(n), "lander_slope_deg": rng.uniform(0, 12, n),
                "hazard_per_100m2": rng.uniform(0, 5, n), "ice_reachable_m2": rng.uniform(0, 1e5, n)}
    feasible = rng.random(n) < 0.8
    for weights in ({}, {"weight_sun": 0.0, "weight_ice": 3.0}, {"weight_earth": 1.0, "weight_slope": 0.0}):
        score = site_scores(criteria, feasible, SiteConfig(**weights))
        assert np.isnan(score[~feasible]).all()
        assert ((score[feasible] >= 0) & (score[feasible] <= 1)).all()
        sign = {"sun_fraction_mean": 1, "max_darkness_h": -1, "earth_visible_fraction": 1,
                "lander_slope_deg": -1, "hazard_per_100m2": -1, "ice_reachable_m2": 1}
        good = np.flatnonzero(feasible)
        for i in good:
            better = np.all([sign[k] * (criteria[k][good] - criteria[k][i]) > 0 for k in criteria], axis=0)
            assert (score[good[better]] > score[i]).all()
    # The best value of every criterion scores 1 and the worst of every one 0.
    two = {k: np.array([1.0, 0.0]) if sign[k] > 0 else np.array([0.0, 1.0]) for k in criteria}
    np.testing.assert_allclose(site_scores(two, np.array([True, True]), SiteConfig()), [1.0, 0.0])
    # A criterion that does not vary gives everyone full marks for it.
    flat = {k: np.full(3, 2.0) for k in criteria}
    np.testing.assert_allclose(site_scores(flat, np.ones(3, bool), SiteConfig()), 1.0)


def test_weights_must_not_all_be_zero():
    zero = {f"weight_{k}": 0.0 for k in ("sun", "darkness", "earth", "slope", "hazard", "ice")}
    with pytest.raises(ValueError, match="weight"):
        SiteConfig(**zero)


# --- the whole ranking -----------------------------------------------------------------


def test_ranking_follows_the_sun_on_uniform_ground_and_infeasible_sites_come_last():
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    sun = np.tile(np.linspace(0.1, 0.9, SIZE, dtype=np.float32), (SIZE, 1))  # brighter toward +x
    psr = np.zeros((SIZE, SIZE), np.uint8)
    psr[:, :4] = 1  # a shadowed strip on the west edge: the only ice-stable ground (proxy)
    sky = flat_sky(dem, sun=sun, psr=psr)
    config = SiteConfig(spacing_m=50.0, landing_radius_m=20.0, reach_m=10_000.0)
    table = rank_sites(dem, centre_region(dem, 0.2), sky, config=config)
    feasible = table[table["feasible"]]
    assert 0 < len(feasible) < len(table)
    found = candidate_sites(dem, centre_region(dem, 0.2), 50.0)
    grid_order = {xy: i for i, xy in enumerate(zip(found.x_m, found.y_m, strict=True))}
    rejected = table[~table["feasible"]]
    positions = [grid_order[xy] for xy in zip(rejected["x_m"], rejected["y_m"], strict=True)]
    assert positions == sorted(positions)  # the rejected candidates follow in grid order
    assert table["ice_source"].eq("psr_proxy").all()
    assert feasible["rank"].tolist() == list(range(1, len(feasible) + 1))
    assert table["feasible"].tolist() == sorted(table["feasible"], reverse=True)
    assert table.loc[~table["feasible"], "rank"].isna().all() and table.loc[~table["feasible"], "score"].isna().all()
    assert (np.diff(feasible["score"].to_numpy()) <= 0).all()
    # Uniform terrain: the score follows the Sun, so x never increases down the table.
    assert (np.diff(feasible["x_m"].to_numpy()) <= 1e-6).all()
    np.testing.assert_allclose(feasible["ice_reachable_m2"], 4 * SIZE * PIXEL**2, rtol=1e-5)  # the whole strip
    assert (feasible["reason"] == "").all()
    # A tight budget leaves the eastern candidates without ice.
    short = rank_sites(dem, centre_region(dem, 0.2), sky, config=config.model_copy(update={"reach_m": 150.0}))
    far_east = short[short["x_m"] > float(dem.x[25])]
    assert not far_east["feasible"].any()
    assert far_east["reason"].str.contains("no ice-stable ground within reach").all()


def test_thermal_ice_replaces_the_psr_proxy():
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    sky = flat_sky(dem)  # no PSR at all: the proxy finds no ice
    depth = np.full((SIZE, SIZE), np.nan, np.float32)
    depth[18:23, 18:23] = 0.5
    thermal = xr.Dataset({"ice_depth_m": grid(depth, "ice_depth_m")})
    config = SiteConfig(spacing_m=100.0, landing_radius_m=10.0)
    proxy = rank_sites(dem, centre_region(dem, 0.1), sky, config=config)
    assert not proxy["feasible"].any() and proxy["ice_reachable_m2"].eq(0).all()
    found = rank_sites(dem, centre_region(dem, 0.1), sky, config=config, thermal=thermal)
    assert found["ice_source"].eq("thermal").all()
    assert found["feasible"].all()
    np.testing.assert_allclose(found["ice_reachable_m2"], 25 * PIXEL**2, rtol=1e-5)  # ground pixels, k ~ 1


def test_a_shadowed_region_is_refused_for_its_shadow():
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    sky = flat_sky(dem, psr=1)
    table = rank_sites(dem, centre_region(dem, 0.1), sky, config=SiteConfig(spacing_m=100.0))
    assert not table["feasible"].any()
    assert table["reason"].str.contains("permanent shadow over 100 %").all()


# --- files -----------------------------------------------------------------------------


def test_illumination_folders_are_checked(tmp_path):
    dem = grid(np.zeros((SIZE, SIZE), np.float32))
    sky = flat_sky(dem)
    for name in SKY_LAYERS:
        write_geotiff(sky[name], tmp_path / f"{name}.tif")
    read = read_illumination(tmp_path, dem)
    assert set(read) == set(SKY_LAYERS) and read["psr"].shape == dem.shape
    other = grid(np.zeros((SIZE + 2, SIZE + 2), np.float32), size=SIZE + 2)
    with pytest.raises(LupexError, match="not on the DEM's grid"):
        read_illumination(tmp_path, other)
    (tmp_path / "psr.tif").unlink()
    with pytest.raises(LupexError, match=r"has no psr\.tif"):
        read_illumination(tmp_path, dem)
    with pytest.raises(LupexError, match="does not exist"):
        read_illumination(tmp_path / "nope", dem)


def test_output_folder_rules(tmp_path):
    out = tmp_path / "out"
    assert prepare_sites_folder(out, False).is_dir()
    (out / "horizon.nc.part").write_bytes(b"")  # an interrupted run is resumed
    prepare_sites_folder(out, False)
    (out / "sites.csv").write_text("old")
    with pytest.raises(LupexError, match="--overwrite"):
        prepare_sites_folder(out, False)
    prepare_sites_folder(out, True)
    with pytest.raises(LupexError, match="not a folder"):
        prepare_sites_folder(out / "sites.csv", True)
    assert pd.read_csv(out / "sites.csv", header=None).iloc[0, 0] == "old"
