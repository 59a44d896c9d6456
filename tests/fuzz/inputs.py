"""Small valid inputs for the fuzz suite and the hypothesis strategies that break them.

Each builder writes a file or folder of a few kilobytes that lupex accepts; the strategies
describe edits to it (bytes overwritten, words of 4 bytes set to extreme values, the file cut
short, label keywords given other values, TOML keys given values of any type).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from hypothesis import strategies as st

from lupex.raster import grid_array, polar_crs, write_geotiff
from tests.terrain.test_pds3 import pds3_label

# --- files ------------------------------------------------------------------------------------


class Fixed:
    """A fixture's value that hypothesis reports by name, not by its content (bytes, a DEM)."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __repr__(self) -> str:
        return f"<{self.name}>"


DEM_SHAPE = (12, 12)
DEM_TRANSFORM = Affine(20.0, 0.0, -120.0, 0.0, -20.0, 120.0)
"""A 240 m square DEM of 20 m pixels centred on the south pole."""


def small_dem():
    """A 12 x 12 DEM on the polar stereographic grid, heights 0-200 m [m]."""
    yy, xx = np.mgrid[0:DEM_SHAPE[0], 0:DEM_SHAPE[1]]
    heights = (40.0 * np.sin(xx / 3.0) + 30.0 * np.cos(yy / 4.0) + 100.0).astype(np.float32)
    return grid_array(heights, DEM_TRANSFORM, polar_crs(), "height", "m", "height above the 1737.4 km lunar sphere")


def write_small_geotiff(path: Path) -> Path:
    """The small DEM as lupex writes GeoTIFFs (tiled, compressed, with nodata)."""
    write_geotiff(small_dem(), path)
    return path


PDS3_SHAPE = (6, 5)


def write_small_pds3(folder: Path, name: str = "DEM") -> Path:
    """A 6 x 5 LSB_INTEGER PDS3 image with a detached label at the south pole; returns the label."""
    dn = (np.arange(30).reshape(PDS3_SHAPE) * 7 % 23).astype("<i2")
    dn.tofile(folder / f"{name}.IMG")
    label = folder / f"{name}.LBL"
    label.write_text(pds3_label(f"{name}.IMG", *PDS3_SHAPE, line_offset=2.5, sample_offset=2.0))
    return label


def label_keys(text: str) -> list[str]:
    """The keywords of a label, in order (OBJECT lines included)."""
    return [line.split("=")[0].strip() for line in text.splitlines() if "=" in line]


# --- byte mutations ---------------------------------------------------------------------------

EXTREME_WORDS = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                 0xFFFFFFFF]


def byte_edits(size: int, header: int = 512, alphabet: bytes | None = None) -> st.SearchStrategy:
    """Edits of a file of ``size`` bytes: bytes set, 4-byte words set (little and big endian) to
    extreme values, a cut; positions mostly in the first ``header`` bytes, where formats keep
    their sizes, offsets and tags."""
    position = st.one_of(st.integers(0, max(min(size, header) - 1, 0)), st.integers(0, max(size - 1, 0)))
    value = st.sampled_from(list(alphabet)) if alphabet else st.integers(0, 255)
    set_byte = st.tuples(st.just("byte"), position, value)
    set_word = st.tuples(st.just("word"), position,
                         st.one_of(st.sampled_from(EXTREME_WORDS), st.integers(0, 2**32 - 1)), st.booleans())
    cut = st.tuples(st.just("cut"), st.integers(0, size))
    insert = st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=8) if alphabet is None
                       else st.text(alphabet=alphabet.decode("latin-1"), min_size=1, max_size=8).map(
                           lambda t: t.encode("latin-1")))
    return st.lists(st.one_of(set_byte, set_byte, set_word, cut, insert), min_size=1, max_size=6)


def apply_edits(data: bytes, edits: list[tuple]) -> bytes:
    """``data`` with ``edits`` (from :func:`byte_edits`) applied in order."""
    out = bytearray(data)
    for edit in edits:
        kind, position = edit[0], min(edit[1], len(out))
        if kind == "byte" and position < len(out):
            out[position] = edit[2]
        elif kind == "word":
            word = struct.pack("<I" if edit[3] else ">I", edit[2])
            out[position:position + 4] = word[:max(len(out) - position, 0)] if position + 4 > len(out) else word
        elif kind == "cut":
            del out[position:]
        elif kind == "insert":
            out[position:position] = edit[2]
    return bytes(out)


# --- values -----------------------------------------------------------------------------------

SPECIAL_FLOATS = [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 1e308, math.nan, math.inf, -math.inf, 5e-324]

numbers = st.one_of(
    st.integers(-10, 100_000),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SPECIAL_FLOATS),
)
"""Any number: small and huge integers, floats including nan, inf, subnormals and signed zero."""


def label_number(value: int | float) -> str:
    """A number as a PDS3 label writes it (``nan`` and ``inf`` as their words)."""
    return repr(value) if isinstance(value, int) or math.isfinite(value) else str(value).upper()


LABEL_WORDS = ["", "abc", "N/A", '"UNK"', "'X'", "()", "(1, 2)", "{A, B}", "(((1)))", "16#FF7FFFFB#", "2#101#",
               "8#777#", "-16#1#", "1" * 400, "1e309", "NaN", "INF", '"', "(", "{", "<m>", "20 <KM/PIXEL>",
               "1 <BYTES>", '("DEM.IMG", 1)', '("DEM.IMG", 1 <BYTES>)', '("../DEM.IMG", 2)', '"../../etc/passwd"',
               '"DEM.LBL"', '"."', '""', "POLAR_STEREOGRAPHIC", '"EQUIRECTANGULAR"', "PC_REAL", "MSB_INTEGER",
               "/* c */ 5", "5 /* c"]

label_values = st.one_of(
    numbers.map(label_number),
    st.tuples(numbers.map(label_number), st.sampled_from(["m/pix", "km", "KM/PIXEL", "deg", "BYTES", "pix", ""])).map(
        lambda pair: f"{pair[0]} <{pair[1]}>"),
    st.sampled_from(LABEL_WORDS),
    st.text(alphabet='abcXYZ019.-+_"(){},<>#=/* \'\n', max_size=24),
)
"""Values a PDS3 label keyword may be given: numbers of any size, units, sets, radix
integers, strings, broken quotes and brackets, comments."""


def toml_scalars() -> st.SearchStrategy:
    return st.one_of(
        numbers,
        st.booleans(),
        st.text(max_size=12),
        st.sampled_from(["2028-08-20T00:00:00Z", "2070-01-01", "1800-01-01T00:00:00Z", "adaptive", "baseline",
                         "tracking", "fixed", "", "nowhere.tif", "."]),
    )


toml_values = st.recursive(
    toml_scalars(),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "low", "kind", "size"]),
                                                                         inner, max_size=3)),
    max_leaves=6,
)
"""Values of any TOML type: numbers (nan and inf included), booleans, strings, arrays, inline tables."""


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(key))} = {toml_value(item)}" for key, item in value.items()) + "}"


def toml_document(entries: list[tuple[str, Any]]) -> str:
    """A TOML document of dotted keys (``site.size = 5``) and their values, one a line."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in entries)
