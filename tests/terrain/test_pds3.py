"""PDS3 labels: the ODL parser, ^IMAGE pointers, sample types and map geometry.

References: the PDS Standards Reference v3.8 (chapter 12, ODL) for the syntax, and GDAL's
own PDS driver (through rasterio) reading the same synthetic label for the geometry.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS, Transformer

from lupex.errors import LupexError
from lupex.terrain.pds3 import Quantity, image_geometry, parse_label, read_label
from lupex.terrain.readers import open_dem

MOON_R = 1_737_400.0


def pds3_label(
    image: str,
    lines: int,
    samples: int,
    *,
    sample_type: str = "LSB_INTEGER",
    bits: int = 16,
    pointer: str | None = None,
    record_bytes: int | None = None,
    image_keys: str = "  SCALING_FACTOR = 0.5\n  OFFSET = 1737400.\n",
    projection: str = "POLAR STEREOGRAPHIC",
    center_lat: float = -90,
    center_lon: float = 0,
    map_scale: str = "20 <m/pix>",
    line_offset: float = 1.5,
    sample_offset: float = 2.5,
    projection_keys: str = "",
) -> str:
    """A minimal PDS3 label of one image band with a map projection (as LOLA GDR labels are)."""
    record_bytes = record_bytes or samples * bits // 8
    return (
        'PDS_VERSION_ID = "PDS3"\n'
        "RECORD_TYPE = FIXED_LENGTH\n"
        f"RECORD_BYTES = {record_bytes}\n"
        f"^IMAGE = {pointer or repr(image).replace(chr(39), chr(34))}\n"
        "OBJECT = IMAGE\n"
        f"  LINES = {lines}\n"
        f"  LINE_SAMPLES = {samples}\n"
        f"  SAMPLE_TYPE = {sample_type}\n"
        f"  SAMPLE_BITS = {bits}\n"
        f"{image_keys}"
        "END_OBJECT = IMAGE\n"
        "OBJECT = IMAGE_MAP_PROJECTION\n"
        f'  MAP_PROJECTION_TYPE = "{projection}"\n'
        "  A_AXIS_RADIUS = 1737.4 <km>\n"
        "  B_AXIS_RADIUS = 1737.4 <km>\n"
        "  C_AXIS_RADIUS = 1737.4 <km>\n"
        f"  CENTER_LATITUDE = {center_lat} <deg>\n"
        f"  CENTER_LONGITUDE = {center_lon} <deg>\n"
        f"  MAP_SCALE = {map_scale}\n"
        f"  LINE_PROJECTION_OFFSET = {line_offset} <pix>\n"
        f"  SAMPLE_PROJECTION_OFFSET = {sample_offset} <pix>\n"
        f"{projection_keys}"
        "END_OBJECT = IMAGE_MAP_PROJECTION\n"
        "END\n"
    )


def write_pds3(folder: Path, name: str, values: np.ndarray, dtype: str, **label_keys) -> Path:
    """Write ``values`` as ``NAME.IMG`` with a detached ``NAME.LBL``; returns the label path."""
    values = np.asarray(values)
    sample_type, bits = label_keys.pop("sample_type", "LSB_INTEGER"), label_keys.pop("bits", 16)
    values.astype(dtype).tofile(folder / f"{name}.IMG")
    label = folder / f"{name}.LBL"
    label.write_text(pds3_label(f"{name}.IMG", *values.shape, sample_type=sample_type, bits=bits, **label_keys))
    return label


def gdal_reading(path: Path) -> tuple[Affine, CRS, np.ndarray, float | None]:
    """GDAL's PDS driver on the same label: transform, CRS, raw band 1 and its nodata."""
    with rasterio.open(path) as ds:
        return ds.transform, CRS.from_wkt(ds.crs.to_wkt()), ds.read(1), ds.nodata


def same_crs(a: CRS, b: CRS) -> bool:
    """Two CRSs map a spread of points identically (to 1 mm)."""
    x = np.array([0.0, 1.0e5, -2.5e5, 3.0e5, 5.0e4])
    y = np.array([0.0, 2.0e5, 1.0e5, -3.0e5, -4.0e4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xb, yb = Transformer.from_crs(a, b, always_xy=True).transform(x, y)
    return bool(np.allclose(xb, x, atol=1e-3) and np.allclose(yb, y, atol=1e-3))


# --- the ODL parser -------------------------------------------------------------------------


def parse(body: str) -> dict:
    return parse_label('PDS_VERSION_ID = "PDS3"\n' + body + "END\n")


def test_multiline_quoted_string_is_joined_and_the_next_key_survives():
    label = parse(
        'DESCRIPTION = "This data product is a shape map (radius)\n'
        "   of the Moon at a resolution\n"
        '   of 20m/pix = 20 m."\n'
        "LINES = 5\n"
    )
    assert label["DESCRIPTION"] == (
        "This data product is a shape map (radius) of the Moon at a resolution of 20m/pix = 20 m."
    )
    assert label["LINES"] == 5


def test_unbalanced_bracket_inside_a_quoted_string_does_not_swallow_the_label():
    label = parse('NOTE = "a list: (1 see below"\nLINES = 5\nITEMS = "1) first, 2) second"\nSAMPLES = 7\n')
    assert label["NOTE"] == "a list: (1 see below"
    assert label["LINES"] == 5
    assert label["ITEMS"] == "1) first, 2) second"
    assert label["SAMPLES"] == 7


def test_sets_and_sequences_over_several_lines():
    label = parse(
        'MISSION_PHASE_NAME = {"COMMISSIONING","SCIENCE\n'
        '                      MISSION", "THIRD EXTENDED\n'
        '                      SCIENCE MISSION"}\n'
        "BANDS_USED = (1, 2,\n 3)\n"
        "MATRIX = ((1, 2), (3, 4.5))\n"
        "NAMES = (MOON, 'N/A')\n"
    )
    assert label["MISSION_PHASE_NAME"] == ("COMMISSIONING", "SCIENCE MISSION", "THIRD EXTENDED SCIENCE MISSION")
    assert label["BANDS_USED"] == (1, 2, 3)
    assert label["MATRIX"] == ((1, 2), (3, 4.5))
    assert label["NAMES"] == ("MOON", "N/A")


def test_units_numbers_and_symbols():
    label = parse(
        "MAP_SCALE = 20 <m/pix>\n"
        "A_AXIS_RADIUS = 1737.4 <km>\n"
        "MAP_RESOLUTION = 1516.17 <pix/deg>\n"
        "OFFSET = 1737400.\n"
        "MINIMUM = -17758\n"
        "FIRST_STANDARD_PARALLEL = 'N/A'\n"
        "TARGET_NAME = MOON\n"
        "START_TIME = 2009-07-13T17:33:17\n"
        "MISSING_CONSTANT = 16#FF7FFFFB#\n"
        "MASK = 2#1010#\n"
    )
    assert label["MAP_SCALE"] == Quantity(20, "m/pix")
    assert isinstance(label["MAP_SCALE"].value, int)
    assert label["A_AXIS_RADIUS"] == Quantity(1737.4, "km")
    assert label["MAP_RESOLUTION"] == Quantity(1516.17, "pix/deg")
    assert label["OFFSET"] == 1737400.0 and isinstance(label["OFFSET"], float)
    assert label["MINIMUM"] == -17758
    assert label["FIRST_STANDARD_PARALLEL"] == "N/A"
    assert label["TARGET_NAME"] == "MOON"
    assert label["START_TIME"] == "2009-07-13T17:33:17"
    assert label["MISSING_CONSTANT"] == 0xFF7FFFFB
    assert label["MASK"] == 10


def test_comments_are_ignored_wherever_they_are():
    label = parse(
        "/*** GENERAL DATA DESCRIPTION PARAMETERS ***/\n"
        "LINES = 720 /* trailing comment with = and \"quote */\n"
        "/* NOTE:                                  */\n"
        "/* HEIGHT = (DN * SCALING_FACTOR).        */\n"
        "/* a comment over\n   two lines = 3 */\n"
        "LINE_SAMPLES = 1440\n"
    )
    assert label == {"PDS_VERSION_ID": "PDS3", "LINES": 720, "LINE_SAMPLES": 1440}


def test_nested_objects_and_groups():
    label = parse(
        "OBJECT = UNCOMPRESSED_FILE\n"
        '  FILE_NAME = "LDEM_4.IMG"\n'
        "  OBJECT = IMAGE\n"
        "    LINES = 720\n"
        "    GROUP = STATS\n"
        "      MAXIMUM = 21008\n"
        "    END_GROUP = STATS\n"
        "  END_OBJECT = IMAGE\n"
        "END_OBJECT = UNCOMPRESSED_FILE\n"
        "TAIL = 1\n"
    )
    assert label["UNCOMPRESSED_FILE"]["FILE_NAME"] == "LDEM_4.IMG"
    assert label["UNCOMPRESSED_FILE"]["IMAGE"]["LINES"] == 720
    assert label["UNCOMPRESSED_FILE"]["IMAGE"]["STATS"] == {"MAXIMUM": 21008}
    assert label["TAIL"] == 1


def test_repeated_objects_become_a_list_in_order():
    label = parse(
        "OBJECT = COLUMN\n NAME = A\nEND_OBJECT = COLUMN\n"
        "OBJECT = COLUMN\n NAME = B\nEND_OBJECT = COLUMN\n"
        "OBJECT = COLUMN\n NAME = C\nEND_OBJECT = COLUMN\n"
    )
    assert [column["NAME"] for column in label["COLUMN"]] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("LINES = 3\nEND\n", "PDS_VERSION_ID is missing"),
        ('PDS_VERSION_ID = "PDS3"\nEND_OBJECT = IMAGE\nEND\n', "without a matching OBJECT"),
        ('PDS_VERSION_ID = "PDS3"\nOBJECT = IMAGE\nLINES = 3\nEND\n', "never closed"),
        ('PDS_VERSION_ID = "PDS3"\nthis is not odl\nEND\n', "cannot read the line"),
    ],
)
def test_malformed_labels_are_named(text, fragment):
    with pytest.raises(LupexError, match=fragment):
        parse_label(text)


def test_real_ldem_4_label(lola_dir):
    label = read_label(lola_dir / "LDEM_4.LBL")
    assert label["MISSION_PHASE_NAME"] == (
        "COMMISSIONING", "NOMINAL MISSION", "SCIENCE MISSION", "EXTENDED SCIENCE MISSION",
        "SECOND EXTENDED SCIENCE MISSION", "THIRD EXTENDED SCIENCE MISSION",
    )
    image = label["UNCOMPRESSED_FILE"]["IMAGE"]
    assert (image["LINES"], image["LINE_SAMPLES"], image["SAMPLE_TYPE"]) == (720, 1440, "LSB_INTEGER")
    assert (image["SCALING_FACTOR"], image["OFFSET"]) == (0.5, 1737400.0)
    assert label["UNCOMPRESSED_FILE"]["^IMAGE"] == "LDEM_4.IMG"
    projection = label["IMAGE_MAP_PROJECTION"]
    assert projection["MAP_RESOLUTION"] == Quantity(4, "pix/deg")
    assert projection["MAP_SCALE"] == Quantity(7580.84, "m/pix")
    assert projection["LINE_PROJECTION_OFFSET"] == Quantity(359.5, "pix")
    assert projection["^DATA_SET_MAP_PROJECTION"] == "DSMAP.CAT"


# --- ^IMAGE pointers ------------------------------------------------------------------------

DN = np.array([[-300, -200, -100, 0], [100, 200, 300, 400], [-32767, 32767, 7, -7]], dtype=np.int16)


def test_pointer_to_a_plain_file_found_whatever_its_case(tmp_path):
    DN.astype("<i2").tofile(tmp_path / "dem.img")
    label = tmp_path / "DEM.LBL"
    label.write_text(pds3_label("DEM.IMG", 3, 4))
    dem = open_dem(label)
    assert dem.pds3_image.image_path == tmp_path / "dem.img"
    np.testing.assert_array_equal(dem.read().values, DN * 0.5)


def test_pointer_file_and_record(tmp_path):
    record = 8  # the image starts at record 3: two records of header before it
    (tmp_path / "DEM.IMG").write_bytes(b"\xff" * 2 * record + DN.astype("<i2").tobytes())
    label = tmp_path / "DEM.LBL"
    label.write_text(pds3_label("DEM.IMG", 3, 4, pointer='("DEM.IMG", 3)', record_bytes=record))
    assert image_geometry(read_label(label), label).byte_offset == 16
    np.testing.assert_array_equal(open_dem(label).read().values, DN * 0.5)
    assert np.array_equal(gdal_reading(label)[2], DN)


def test_pointer_file_and_byte_offset(tmp_path):
    (tmp_path / "DEM.IMG").write_bytes(b"\x01" * 10 + DN.astype("<i2").tobytes())
    label = tmp_path / "DEM.LBL"
    label.write_text(pds3_label("DEM.IMG", 3, 4, pointer='("DEM.IMG", 11 <BYTES>)'))
    np.testing.assert_array_equal(open_dem(label).read().values, DN * 0.5)


def test_record_bytes_of_the_file_object_holding_the_pointer(tmp_path):
    """LOLA-style labels keep RECORD_BYTES inside UNCOMPRESSED_FILE, next to ^IMAGE."""
    (tmp_path / "DEM.IMG").write_bytes(b"\0" * 8 + DN.astype("<i2").tobytes())
    label = tmp_path / "DEM.LBL"
    label.write_text(
        'PDS_VERSION_ID = "PDS3"\n'
        "OBJECT = UNCOMPRESSED_FILE\n"
        '  FILE_NAME = "DEM.IMG"\n  RECORD_TYPE = FIXED_LENGTH\n  RECORD_BYTES = 8\n  FILE_RECORDS = 4\n'
        '  ^IMAGE = ("DEM.IMG", 2)\n'
        "  OBJECT = IMAGE\n    LINES = 3\n    LINE_SAMPLES = 4\n"
        "    SAMPLE_TYPE = LSB_INTEGER\n    SAMPLE_BITS = 16\n  END_OBJECT = IMAGE\n"
        "END_OBJECT = UNCOMPRESSED_FILE\n"
        "OBJECT = IMAGE_MAP_PROJECTION\n"
        '  MAP_PROJECTION_TYPE = "POLAR STEREOGRAPHIC"\n'
        "  A_AXIS_RADIUS = 1737.4 <km>\n  B_AXIS_RADIUS = 1737.4 <km>\n  C_AXIS_RADIUS = 1737.4 <km>\n"
        "  CENTER_LATITUDE = -90 <deg>\n  CENTER_LONGITUDE = 0 <deg>\n  MAP_SCALE = 20 <m/pix>\n"
        "  LINE_PROJECTION_OFFSET = 1.5 <pix>\n  SAMPLE_PROJECTION_OFFSET = 2.5 <pix>\n"
        "END_OBJECT = IMAGE_MAP_PROJECTION\nEND\n"
    )
    np.testing.assert_array_equal(open_dem(label).read().values, DN)
    assert np.array_equal(gdal_reading(label)[2], DN)


def attached_product(path: Path, pointer_for) -> None:
    """An IMG whose label is attached: label padded to two whole 400-byte records, then pixels."""
    record = 400
    text = pds3_label(path.name, 3, 4, pointer=pointer_for(3, record), record_bytes=record)
    head = text.encode("ascii")
    assert len(head) <= 2 * record
    path.write_bytes(head.ljust(2 * record, b" ") + DN.astype("<i2").tobytes())


@pytest.mark.parametrize(
    "pointer_for",
    [lambda first, record: str(first), lambda first, record: f"{(first - 1) * record + 1} <BYTES>"],
    ids=["record", "bytes"],
)
def test_attached_label(tmp_path, pointer_for):
    path = tmp_path / "ATTACHED.IMG"
    attached_product(path, pointer_for)
    dem = open_dem(path)
    assert (dem.pds3_image.image_path, dem.pds3_image.byte_offset) == (path, 800)
    assert (dem.width, dem.height) == (4, 3)
    np.testing.assert_array_equal(dem.read().values, DN * 0.5)


# --- sample types, scaling, missing data -------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_type", "bits", "dtype"),
    [
        ("LSB_INTEGER", 16, "<i2"),
        ("MSB_INTEGER", 16, ">i2"),
        ("LSB_INTEGER", 32, "<i4"),
        ("MSB_INTEGER", 32, ">i4"),
        ("MSB_UNSIGNED_INTEGER", 16, ">u2"),
        ("LSB_UNSIGNED_INTEGER", 16, "<u2"),
        ("UNSIGNED_INTEGER", 8, "u1"),
        ("PC_REAL", 32, "<f4"),
        ("IEEE_REAL", 32, ">f4"),
    ],
)
def test_sample_types_read_back_exactly(tmp_path, sample_type, bits, dtype):
    rng = np.random.default_rng(bits)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        values = rng.normal(0.0, 3000.0, (5, 6)).astype(dtype)
    else:
        low, high = max(info.min, -(2**20)), min(info.max, 2**20)
        values = rng.integers(low, high, (5, 6), endpoint=True).astype(dtype)
    label = write_pds3(tmp_path, "S", values, dtype, sample_type=sample_type, bits=bits, image_keys="")
    heights = open_dem(label).read().values
    assert heights.dtype == np.float32
    np.testing.assert_array_equal(heights, values.astype(np.float32))
    if bits == 32 and "INTEGER" in sample_type:
        return  # GDAL's PDS driver takes every 32-bit sample for a float, so it is no reference here
    # GDAL's PDS driver decodes the same bytes to the same numbers
    assert np.array_equal(gdal_reading(label)[2].astype(np.float64), values.astype(np.float64))


def test_msb_bytes_read_as_lsb_are_different(tmp_path):
    """The byte order in the label matters: the same file under the wrong order gives other heights."""
    values = np.array([[1, 256, -2]], dtype=">i2")
    label = write_pds3(tmp_path, "BE", values, ">i2", sample_type="LSB_INTEGER", image_keys="")
    np.testing.assert_array_equal(open_dem(label).read().values, [[256, 1, -257]])


def test_missing_constant_becomes_nan(tmp_path):
    values = DN.copy()
    values[1, 2] = -32768
    keys = "  MISSING_CONSTANT = -32768\n  SCALING_FACTOR = 0.5\n  OFFSET = 1737400.\n"
    label = write_pds3(tmp_path, "M", values, "<i2", image_keys=keys)
    heights = open_dem(label).read().values
    assert np.isnan(heights[1, 2]) and np.isnan(heights).sum() == 1
    expected = values * 0.5
    expected[1, 2] = np.nan
    np.testing.assert_array_equal(heights, expected)


def test_radix_missing_constant_of_a_float_product_is_its_bit_pattern(tmp_path):
    """LROC/ISIS float products mark gaps with MISSING_CONSTANT = 16#FF7FFFFB# (a float bit pattern)."""
    null3 = np.frombuffer(np.uint32(0xFF7FFFFB).tobytes(), dtype=np.float32)[0]
    values = np.array([[null3, 1.5, -2.25], [3.0, null3, 1e3]], dtype="<f4")
    keys = "  MISSING_CONSTANT = 16#FF7FFFFB#\n"
    label = write_pds3(tmp_path, "F", values, "<f4", sample_type="PC_REAL", bits=32, image_keys=keys)
    dem = open_dem(label)
    assert dem.nodata == float(null3) == gdal_reading(label)[3]
    np.testing.assert_array_equal(dem.read().values, [[np.nan, 1.5, -2.25], [3.0, np.nan, 1e3]])


@pytest.mark.parametrize(
    ("offset_line", "expected_offset"),
    [
        ("  OFFSET = 1737400.\n", 0.0),  # LOLA: OFFSET is the reference radius, height = DN * scale
        ("  OFFSET = 1737400\n", 0.0),
        ("  OFFSET = 100\n", 100.0),  # a plain additive offset
        ("  OFFSET = -25.5\n", -25.5),
        ("", 0.0),
    ],
)
def test_offset_is_the_reference_radius_or_a_height_offset(tmp_path, offset_line, expected_offset):
    label = write_pds3(tmp_path, "O", DN, "<i2", image_keys="  SCALING_FACTOR = 0.25\n" + offset_line)
    heights = open_dem(label).read().values
    np.testing.assert_array_equal(heights, (DN * 0.25 + expected_offset).astype(np.float32))


# --- map geometry, against GDAL's reading of the same label -----------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"line_offset": -1000.5, "sample_offset": 4321.5, "map_scale": "240 <m/pix>"},
        {"map_scale": "0.02 <KM/PIXEL>"},  # some labels state the scale in km
        {"projection": "EQUIRECTANGULAR", "center_lat": -85, "center_lon": 30, "line_offset": -70000.5},
        {"projection": "SIMPLE CYLINDRICAL", "center_lat": 0, "center_lon": 180, "map_scale": "7580.84 <m/pix>"},
    ],
    ids=["polar", "polar-offsets", "km-per-pixel", "equirectangular-lat-ts", "simple-cylindrical"],
)
def test_geometry_matches_gdal(tmp_path, keys):
    label = write_pds3(tmp_path, "G", DN, "<i2", **keys)
    dem = open_dem(label)
    transform, crs, raw, _ = gdal_reading(label)
    np.testing.assert_allclose(dem.transform, transform, rtol=1e-12, atol=1e-6)
    assert same_crs(dem.crs, crs)
    np.testing.assert_array_equal(dem.read().values, raw * 0.5)


def test_equirectangular_uses_the_centre_latitude_as_standard_parallel(tmp_path):
    """x = R (lon - lon0) cos(lat_ts): at 85 S, one degree of longitude is 2 pi R cos(85) / 360."""
    label = write_pds3(tmp_path, "E", DN, "<i2", projection="EQUIRECTANGULAR", center_lat=-85)
    dem = open_dem(label)
    x, _ = Transformer.from_crs(CRS("IAU_2015:30100"), dem.crs, always_xy=True).transform(1.0, -85.0)
    assert x == pytest.approx(2 * np.pi * MOON_R * np.cos(np.radians(85.0)) / 360.0, rel=1e-12)


def test_polar_pixel_centres_follow_the_pds_convention(tmp_path):
    """Centre of 0-based column i at x = (i - SAMPLE_PROJECTION_OFFSET) * MAP_SCALE (and rows alike)."""
    label = write_pds3(tmp_path, "P", DN, "<i2", line_offset=1.5, sample_offset=2.5, map_scale="20 <m/pix>")
    dem = open_dem(label)
    xs = dem.read()["x"].values
    ys = dem.read()["y"].values
    np.testing.assert_array_equal(xs, (np.arange(4) - 2.5) * 20.0)
    np.testing.assert_array_equal(ys, (1.5 - np.arange(3)) * 20.0)


# --- labels that lupex must refuse ------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ({"projection": "SINUSOIDAL"}, "map projection 'SINUSOIDAL' is not supported"),
        ({"projection": "POLAR STEREOGRAPHIC", "center_lat": -85}, "not a pole"),
        ({"sample_type": "VAX_REAL", "bits": 32}, "unsupported PDS3 sample type VAX_REAL"),
        ({"image_keys": "  BANDS = 3\n"}, "3 bands"),
    ],
)
def test_unsupported_labels(tmp_path, keys, fragment):
    label = write_pds3(tmp_path, "U", DN, "<i2", **keys)
    with pytest.raises(LupexError, match=fragment):
        open_dem(label)


def test_ellipsoidal_projection_is_refused(tmp_path):
    label = write_pds3(tmp_path, "U", DN, "<i2")
    label.write_text(label.read_text().replace("C_AXIS_RADIUS = 1737.4", "C_AXIS_RADIUS = 1735.9"))
    with pytest.raises(LupexError, match="ellipsoid"):
        open_dem(label)


@pytest.mark.parametrize("keyword", ["LINES", "LINE_SAMPLES", "SAMPLE_TYPE", "LINE_PROJECTION_OFFSET"])
def test_label_missing_a_keyword(tmp_path, keyword):
    label = write_pds3(tmp_path, "K", DN, "<i2")
    text = "\n".join(line for line in label.read_text().splitlines() if line.split("=")[0].strip() != keyword)
    label.write_text(text + "\n")
    with pytest.raises(LupexError, match=f"lacks the keyword {keyword}"):
        open_dem(label)


def test_label_naming_an_absent_image(tmp_path):
    label = write_pds3(tmp_path, "A", DN, "<i2")
    (tmp_path / "A.IMG").unlink()
    with pytest.raises(LupexError, match=r"the image file A\.IMG named by A\.LBL is not in"):
        open_dem(label)
