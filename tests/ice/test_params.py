"""Water-model settings: the published anchors of the defaults, and refusal of bad values."""

import math

import numpy as np
import pytest

from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.ice.params import IceParams


def test_lognormal_defaults_reproduce_lcross():
    # Colaprete et al. 2010 (Science 330): 5.6 +- 2.9 wt% water in the Cabeus plume.
    mean, mean_square = IceParams().concentration_moments()
    assert mean == pytest.approx(5.6, abs=0.05)
    assert math.sqrt(mean_square - mean**2) == pytest.approx(2.9, abs=0.05)
    assert IceParams().concentration_median_wt_pct == pytest.approx(5.0)


def test_defaults_sit_inside_the_published_ranges():
    params = IceParams()
    assert 0.01 <= params.background_wt_pct <= 0.1  # dry regolith (REFERENCES.md section 5)
    assert 0.1 <= params.patch_fraction <= 0.3
    assert 0.1 <= params.dry_layer_min_m <= params.dry_layer_max_m <= 0.5  # Feldman et al. 2001: <= 40-50 cm


def test_depth_bins_reach_the_drill():
    edges = IceParams().depth_edges()
    np.testing.assert_allclose(edges, np.arange(16) * 0.1, atol=1e-12)
    assert IceParams(depth_step_m=0.25, max_depth_m=2.0).depth_edges().size == 9


@pytest.mark.parametrize("values,fragment", [
    ({"background_wt_pct": -0.01}, "background_wt_pct"),
    ({"patch_fraction": 1.0}, "patch_fraction"),
    ({"patch_radius_m": -5}, "patch_radius_m"),
    ({"dry_layer_min_m": 0.4, "dry_layer_max_m": 0.2}, "dry_layer_max_m"),
    ({"max_depth_m": 1.0}, "max_depth_m"),
    ({"max_depth_m": 1.55}, "whole number"),
    ({"patch_size": 3}, "patch_size"),
])
def test_bad_settings_are_refused_with_the_field_named(tmp_path, values, fragment):
    toml = tmp_path / "ice.toml"
    toml.write_text("\n".join(f"{key} = {value}" for key, value in values.items()) + "\n")
    with pytest.raises(LupexError, match=fragment):
        build(IceParams, load_toml(toml), str(toml))


def test_settings_are_immutable():
    with pytest.raises(ValueError):
        IceParams().patch_fraction = 0.5
