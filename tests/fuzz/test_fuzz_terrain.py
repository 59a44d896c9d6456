"""Fuzzing the DEM readers: GeoTIFF bytes, PDS3 label and image bytes, and PDS3 label keywords.

For any of these files ``lupex terrain info`` and ``lupex terrain crop`` either succeed or exit 2
with one ``lupex: error:`` line, and a failed crop leaves nothing behind.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import strategies as st

from tests.fuzz.conftest import entries, fuzz
from tests.fuzz.inputs import (
    Fixed,
    apply_edits,
    byte_edits,
    label_keys,
    label_values,
    write_small_geotiff,
    write_small_pds3,
)

LABEL_ALPHABET = b'=" (){}<>#/*\n\r\t.,-+0123456789eEABCDEFINOSXYZ_abc\'\x00\xff'
"""Bytes that mean something in an ODL label, and two that never should be there."""


@pytest.fixture(scope="module")
def geotiff_bytes(tmp_path_factory) -> Fixed:
    path = write_small_geotiff(tmp_path_factory.mktemp("geotiff") / "dem.tif")
    return Fixed("the 12 x 12 GeoTIFF", path.read_bytes())


@pytest.fixture(scope="module")
def pds3_files(tmp_path_factory) -> Fixed:
    label = write_small_pds3(tmp_path_factory.mktemp("pds3"))
    return Fixed("the 6 x 5 PDS3 label and image", (label.read_text(), label.with_suffix(".IMG").read_bytes()))


def _crop(lupex, dem: Path, folder: Path) -> None:
    """``terrain crop`` of a 100 m tile over the pole: a tile, or an error and no file at all."""
    before = entries(folder)
    out = folder / "tile.tif"
    result = lupex("-q", "terrain", "crop", dem, "--center-lat", "-90", "--center-lon", "0", "--size-km", "0.1",
                   "--resolution", "20", "--out", out)
    after = entries(folder)
    if result.code == 0:
        assert after == before | {"tile.tif"}, after - before
    else:
        assert after == before, after - before


def check_geotiff(lupex, geotiff_bytes, edits):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dem.tif"
        path.write_bytes(apply_edits(geotiff_bytes.value, edits))
        lupex("terrain", "info", path, "--json")


test_mutated_geotiff, test_mutated_geotiff_slow = fuzz(edits=byte_edits(1400))(check_geotiff)


def check_geotiff_crop(lupex, geotiff_bytes, edits):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dem.tif"
        path.write_bytes(apply_edits(geotiff_bytes.value, edits))
        _crop(lupex, path, Path(folder))


test_mutated_geotiff_crop, test_mutated_geotiff_crop_slow = fuzz(edits=byte_edits(1400))(check_geotiff_crop)


def check_pds3_bytes(lupex, pds3_files, label_edits, image_edits, by_image):
    text, image = pds3_files.value
    with tempfile.TemporaryDirectory() as folder:
        label = Path(folder) / "DEM.LBL"
        label.write_bytes(apply_edits(text.encode("latin-1"), label_edits))
        label.with_suffix(".IMG").write_bytes(apply_edits(image, image_edits) if image_edits else image)
        lupex("terrain", "info", label.with_suffix(".IMG") if by_image else label, "--json")


test_mutated_pds3, test_mutated_pds3_slow = fuzz(
    label_edits=byte_edits(900, header=900, alphabet=LABEL_ALPHABET),
    image_edits=st.one_of(st.just([]), byte_edits(60, header=60)),
    by_image=st.booleans(),
)(check_pds3_bytes)


def _edit_label(text: str, edits: list[tuple[str, int, str]]) -> str:
    lines = text.splitlines()
    for action, index, value in edits:
        keyed = [i for i, line in enumerate(lines) if "=" in line]
        if not keyed:
            break
        i = keyed[index % len(keyed)]
        key = lines[i].split("=")[0].strip()
        if action == "set":
            lines[i] = f"  {key} = {value}"
        elif action == "drop":
            del lines[i]
        else:  # the keyword twice, the second time with the new value
            lines.insert(i + 1, f"  {key} = {value}")
    return "\n".join(lines) + "\n"


label_edits = st.lists(
    st.tuples(st.sampled_from(["set", "set", "set", "drop", "repeat"]), st.integers(0, 40), label_values),
    min_size=1, max_size=4,
)


def check_label_keywords(lupex, pds3_files, edits):
    text, image = pds3_files.value
    assert len(label_keys(text)) > 15
    with tempfile.TemporaryDirectory() as folder:
        label = Path(folder) / "DEM.LBL"
        label.write_text(_edit_label(text, edits), encoding="latin-1")
        label.with_suffix(".IMG").write_bytes(image)
        lupex("terrain", "info", label, "--json")
        _crop(lupex, label, Path(folder))


test_pds3_label_keywords, test_pds3_label_keywords_slow = fuzz(edits=label_edits)(check_label_keywords)
