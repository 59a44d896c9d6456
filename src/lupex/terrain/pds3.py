"""PDS3 labels: a small parser and the image geometry of LOLA GDR products.

The parser reads the ODL subset that planetary image labels use: ``KEY = VALUE`` lines,
``OBJECT``/``END_OBJECT`` nesting, quoted strings over several lines, ``{...}`` and
``(...)`` sets, ``<unit>`` suffixes, radix integers such as ``16#FF7FFFFB#``, and
``/* comments */`` (PDS Standards Reference, v3.8, chapter 12). It is enough for
LOLA/Kaguya/LROC DEM labels, not a full ODL grammar.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError

__all__ = ["Pds3Image", "Quantity", "image_geometry", "parse_label", "read_label"]



class Quantity(NamedTuple):
    """A label value with a unit, such as ``20 <m/pix>``."""

    value: Any
    unit: str


_BASED = re.compile(r"^([+-]?)(\d+)#([0-9A-Za-z]+)#$")
_MAX_NESTING = 16
"""Deepest nesting of ``(...)``/``{...}`` sets read in a value; labels use two levels at most."""


class _BasedInteger(int):
    """An integer written in ODL radix form, ``16#FF7FFFFB#``: in a MISSING_CONSTANT, a bit pattern."""


_SAMPLE_TYPES = {
    # (SAMPLE_TYPE, SAMPLE_BITS) -> numpy dtype string
    ("LSB_INTEGER", 8): "i1", ("MSB_INTEGER", 8): "i1",
    ("LSB_INTEGER", 16): "<i2", ("MSB_INTEGER", 16): ">i2",
    ("LSB_INTEGER", 32): "<i4", ("MSB_INTEGER", 32): ">i4",
    ("INTEGER", 16): ">i2", ("INTEGER", 32): ">i4",
    ("UNSIGNED_INTEGER", 8): "u1", ("LSB_UNSIGNED_INTEGER", 8): "u1", ("MSB_UNSIGNED_INTEGER", 8): "u1",
    ("LSB_UNSIGNED_INTEGER", 16): "<u2", ("MSB_UNSIGNED_INTEGER", 16): ">u2",
    ("UNSIGNED_INTEGER", 16): ">u2",
    ("PC_REAL", 32): "<f4", ("PC_REAL", 64): "<f8",
    ("IEEE_REAL", 32): ">f4", ("IEEE_REAL", 64): ">f8", ("REAL", 32): ">f4",
    ("MSB_IEEE_REAL", 32): ">f4", ("LSB_IEEE_REAL", 32): "<f4",
}


def _convert(raw: str, depth: int = 0) -> Any:
    """Turn one ODL value into a Python value; numbers with units stay (value, unit)."""
    raw = raw.strip()
    if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
        return " ".join(raw[1:-1].split())
    if raw.startswith("'") and raw.endswith("'") and len(raw) > 1:
        return raw[1:-1]
    if raw[:1] in "({" and raw[-1:] in ")}" and raw:
        if depth >= _MAX_NESTING:
            raise LupexError(f"malformed PDS3 label: a value nests sets more than {_MAX_NESTING} deep")
        return tuple(_convert(item, depth + 1) for item in _split_set(raw[1:-1]))
    unit = _split_unit(raw)
    if unit is not None:
        return Quantity(_convert(unit[0], depth), unit[1].strip())
    based = _BASED.match(raw)
    if based:
        try:
            magnitude = int(based.group(3), int(based.group(2)))
        except ValueError:
            return raw
        return _BasedInteger(-magnitude if based.group(1) == "-" else magnitude)
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def _split_unit(raw: str) -> tuple[str, str] | None:
    """``("20", "m/pix")`` for ``20 <m/pix>``: the text before the unit's ``<`` and the unit, or None.

    The ``<`` is the first one after the last ``>`` inside the value, found in one pass (a
    backtracking regular expression takes quadratic time on long runs of blanks).
    """
    if not raw.endswith(">"):
        return None
    opening = raw.find("<", raw.rfind(">", 0, len(raw) - 1) + 1)
    if opening < 0:
        return None
    return raw[:opening].rstrip(), raw[opening + 1:-1]


def _strip_comments(text: str) -> str:
    """``text`` without its ``/* ... */`` comments (an unclosed one and what follows are kept)."""
    parts, position = [], 0
    while (start := text.find("/*", position)) >= 0:
        end = text.find("*/", start + 2)
        if end < 0:
            break
        parts.append(text[position:start])
        position = end + 2
    parts.append(text[position:])
    return "".join(parts)


def _split_set(body: str) -> list[str]:
    items, depth, quote, current = [], 0, "", []
    for ch in body:
        if quote:
            current.append(ch)
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif ch in "({":
            depth += 1
            current.append(ch)
        elif ch in ")}":
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        items.append("".join(current))
    return items


def _statements(text: str) -> list[tuple[str, str]]:
    """Split label text into (key, raw value) statements, joining continued values.

    Every character is looked at a bounded number of times, so a hostile label of a megabyte
    is parsed in well under a second.
    """
    statements: list[tuple[str, str]] = []
    key, parts, scanner = None, [], _ValueScanner()
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if key is not None and scanner.open:
            parts.append(stripped)
            scanner.feed(stripped)
            continue
        if key is not None:
            statements.append((key, "\n".join(parts)))
            key = None
        if stripped == "END":
            break
        if "=" not in stripped:
            raise LupexError(f"not a PDS3 label: cannot read the line {stripped[:60]!r}")
        key, value = (part.strip() for part in stripped.split("=", 1))
        parts, scanner = [value], _ValueScanner()
        scanner.feed(value)
    if key is not None:
        statements.append((key, "\n".join(parts)))
    return statements


class _ValueScanner:
    """Whether a value read so far continues on the next line: an unclosed ``"`` quote, or an
    unclosed ``(`` or ``{`` outside quoted text. Fed a line at a time; a ``'...'`` symbol
    literal never spans lines (PDS Standards Reference, 12.3.3)."""

    def __init__(self) -> None:
        self.in_text = False
        self.depth = 0

    @property
    def open(self) -> bool:
        return self.in_text or self.depth > 0

    def feed(self, line: str) -> None:
        in_symbol = False
        for ch in line:
            if ch == '"' and not in_symbol:
                self.in_text = not self.in_text
            elif self.in_text:
                continue
            elif ch == "'":
                in_symbol = not in_symbol
            elif in_symbol:
                continue
            elif ch in "({":
                self.depth += 1
            elif ch in ")}":
                self.depth -= 1


def parse_label(text: str) -> dict[str, Any]:
    """Parse PDS3 label text into nested dictionaries.

    Parameters
    ----------
    text : str
        The label, up to and including its ``END`` line.

    Returns
    -------
    dict
        Keywords at the top level; each ``OBJECT = NAME`` becomes a nested dict under
        ``NAME`` (a list if the name repeats). Values with units are ``(value, unit)``.
    """
    if "PDS_VERSION_ID" not in text[:2000]:
        raise LupexError("not a PDS3 label: PDS_VERSION_ID is missing")
    root: dict[str, Any] = {}
    stack = [root]
    for key, raw in _statements(_strip_comments(text)):
        if key in ("OBJECT", "GROUP"):
            child: dict[str, Any] = {}
            name = raw.strip()
            existing = stack[-1].get(name)
            if existing is None:
                stack[-1][name] = child
            elif isinstance(existing, list):
                existing.append(child)
            else:
                stack[-1][name] = [existing, child]
            stack.append(child)
        elif key in ("END_OBJECT", "END_GROUP"):
            if len(stack) == 1:
                raise LupexError(f"malformed PDS3 label: {key} without a matching OBJECT")
            stack.pop()
        else:
            stack[-1][key] = _convert(raw)
    if len(stack) != 1:
        raise LupexError("malformed PDS3 label: an OBJECT is never closed")
    return root


def read_label(path: Path) -> dict[str, Any]:
    """Read and parse a detached ``.LBL`` file or the label attached to an ``.IMG``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise LupexError(f"cannot read {path}: {exc.strerror}") from None
    if not head.strip():
        raise LupexError(f"{path} is empty")
    text = head.decode("latin-1")
    return parse_label(text[:_label_end(text)])


def _label_end(text: str) -> int:
    """Where the label's ``END`` line ends in ``text`` (all of it when there is none)."""
    position = 0
    for line in text.splitlines(keepends=True):
        position += len(line)
        if line.strip() == "END":
            return position
    return len(text)


def _value(entry: Any) -> Any:
    """The bare value of a label entry, without its unit."""
    return entry.value if isinstance(entry, Quantity) else entry


def _number(holder: dict[str, Any], key: str, source: str, *, whole: bool = False, positive: bool = False,
            default: float | None = None) -> Any:
    """The finite number a label gives for ``key`` in ``holder`` (an ``int`` when ``whole``).

    Parameters
    ----------
    holder : dict
        The label object that holds the keyword.
    key : str
        The keyword, e.g. ``LINES``.
    source : str
        The label's file name, for the message.
    whole, positive : bool
        Whether the value must be a whole number, and greater than zero.
    default : float, optional
        The value when the keyword is absent; without one, an absent keyword is refused.

    Raises
    ------
    LupexError
        Naming the keyword and its value, when it is absent (without a default), not a number
        (text, a set), not finite, not whole or not positive as asked.
    """
    if key not in holder:
        if default is None:
            raise LupexError(f"PDS3 label {source} lacks the keyword {key}")
        return default
    value = _value(holder[key])
    usable = isinstance(value, int | float) and not isinstance(value, bool)
    if usable:
        try:
            usable = math.isfinite(float(value)) and (not whole or float(value).is_integer()) and (
                not positive or value > 0)
        except OverflowError:  # an integer of hundreds of digits
            usable = False
    if not usable:
        kind = "whole number" if whole else "finite number"
        raise LupexError(f"PDS3 label {source} gives {key} = {_shown(value)}, not a {'positive ' * positive}{kind}; "
                         "correct the label, or download the product again")
    return int(value) if whole else float(value)


def _shown(value: Any) -> str:
    """A label value as a message shows it: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _find_image_object(label: dict[str, Any]) -> dict[str, Any]:
    if isinstance(label.get("IMAGE"), dict):
        return label["IMAGE"]
    for value in label.values():
        if isinstance(value, dict) and isinstance(value.get("IMAGE"), dict):
            return value["IMAGE"]
    raise LupexError("PDS3 label has no IMAGE object; only image products are supported")


def _find_pointer(label: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``^IMAGE`` pointer and the object that holds it (and its RECORD_BYTES)."""
    if "^IMAGE" in label:
        return label["^IMAGE"], label
    for value in label.values():
        if isinstance(value, dict) and "^IMAGE" in value:
            return value["^IMAGE"], value
    raise LupexError("PDS3 label has no ^IMAGE pointer")


def _missing_value(entry: Any, dtype: str) -> float | None:
    """The stored value that marks missing data; a radix constant is the sample's bit pattern."""
    value = _value(entry)
    if isinstance(value, _BasedInteger) and 0 <= value < 1 << (8 * np.dtype(dtype).itemsize):
        kind = np.dtype(dtype).newbyteorder("=")
        return float(np.array(int(value), dtype=f"u{kind.itemsize}").view(kind))
    if not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits marks no stored sample
        return None


@dataclass(frozen=True)
class Pds3Image:
    """What a PDS3 label says about its image: file, layout, scaling and map geometry.

    Attributes
    ----------
    image_path : Path
        The file holding the pixels.
    byte_offset : int
        Where the pixels start in that file [bytes].
    lines, samples : int
        Image height and width [pixels].
    dtype : str
        numpy dtype of a sample, with byte order.
    scaling_factor, offset : float
        ``value = DN * scaling_factor + offset`` as the label defines it.
    missing : float or None
        The DN that marks missing data, if the label names one.
    proj4 : str
        PROJ string of the map projection.
    transform : tuple of 6 floats
        Affine geotransform (a, b, c, d, e, f) of the pixel corners, rasterio order [m].
    radius_m : float
        The A axis radius of the projection [m].
    """

    image_path: Path
    byte_offset: int
    lines: int
    samples: int
    dtype: str
    scaling_factor: float
    offset: float
    missing: float | None
    proj4: str
    transform: tuple[float, float, float, float, float, float]
    radius_m: float

    @property
    def expected_bytes(self) -> int:
        """Bytes the image needs in its file, label offset included [bytes]."""
        return self.byte_offset + self.lines * self.samples * np.dtype(self.dtype).itemsize

    def height_offset_m(self) -> float:
        """Offset to add to ``DN * scaling_factor`` to get height above the 1737.4 km sphere [m].

        LOLA labels put the reference radius in OFFSET (``PLANETARY_RADIUS = DN * SCALING_FACTOR
        + OFFSET``), so an OFFSET within 100 km of the Moon's radius is taken as the reference
        radius; any other OFFSET is a plain additive height offset.
        """
        if abs(self.offset - MOON_RADIUS_M) < 100_000.0:
            return self.offset - MOON_RADIUS_M
        return self.offset


def _locate_file(label_path: Path, name: str) -> Path:
    """Find ``name`` beside the label, ignoring case (labels name files in upper case)."""
    folder = label_path.parent
    if not name or name != Path(name).name or "\0" in name or name in (".", ".."):
        raise LupexError(f"{label_path.name} names the image file {_shown(name)}, not a file name; "
                         "a PDS3 label names a file beside it")
    direct = folder / name
    if direct.is_file():
        return direct
    for candidate in folder.iterdir():
        if candidate.name.lower() == name.lower() and candidate.is_file():
            return candidate
    raise LupexError(f"the image file {name} named by {label_path.name} is not in {folder}")


def _resolve_pointer(pointer: Any, label_path: Path, record_bytes: int) -> tuple[Path, int]:
    """Interpret ``^IMAGE``: a file, a (file, record) pair, a record or a byte offset."""
    def start(entry: Any) -> int:  # records and bytes count from 1
        return _number({"^IMAGE": entry}, "^IMAGE", label_path.name, whole=True, positive=True) - 1

    if isinstance(pointer, str):
        return _locate_file(label_path, pointer), 0
    if isinstance(pointer, Quantity) and pointer.unit.upper() == "BYTES":
        return label_path, start(pointer)
    if isinstance(pointer, tuple) and len(pointer) == 2 and isinstance(pointer[0], str):
        in_bytes = isinstance(pointer[1], Quantity) and pointer[1].unit.upper() == "BYTES"
        offset = start(pointer[1])
        return _locate_file(label_path, pointer[0]), offset if in_bytes else offset * record_bytes
    if isinstance(pointer, int) and not isinstance(pointer, bool):
        return label_path, start(pointer) * record_bytes
    raise LupexError(f"cannot interpret the ^IMAGE pointer {pointer!r}")


def _projection(proj: dict[str, Any], source: str) -> tuple[str, float, float]:
    """PROJ string, pixel size [m] and radius [m] from an IMAGE_MAP_PROJECTION object."""
    kind = str(proj.get("MAP_PROJECTION_TYPE", "")).upper().replace("_", " ")
    radius = _number(proj, "A_AXIS_RADIUS", source, positive=True) * 1000.0
    b_radius = _number(proj, "C_AXIS_RADIUS", source, positive=True, default=radius / 1000.0) * 1000.0
    if abs(radius - b_radius) > 1e-6 * radius:
        raise LupexError("PDS3 map projection on an ellipsoid is not supported; only spheres")
    center_lat = _number(proj, "CENTER_LATITUDE", source, default=0.0)
    center_lon = _number(proj, "CENTER_LONGITUDE", source, default=0.0)
    if abs(center_lat) > 90.0:
        raise LupexError(f"PDS3 label {source} gives CENTER_LATITUDE = {center_lat:g}, outside -90 to 90; "
                         "correct the label")
    scale = _number(proj, "MAP_SCALE", source, positive=True)
    if isinstance(proj["MAP_SCALE"], Quantity) and proj["MAP_SCALE"].unit.upper().startswith("KM"):
        scale *= 1000.0  # some labels give <KM/PIXEL>
    if kind == "POLAR STEREOGRAPHIC":
        if abs(abs(center_lat) - 90.0) > 1e-9:
            raise LupexError(f"polar stereographic label centred at latitude {center_lat}, not a pole")
        proj4 = (f"+proj=stere +lat_0={center_lat:g} +lon_0={center_lon:g} +k=1 +x_0=0 +y_0=0 "
                 f"+R={radius:.10g} +units=m +no_defs")
    elif kind in ("SIMPLE CYLINDRICAL", "EQUIRECTANGULAR", "EQUIDISTANT"):
        resolution = _value(proj.get("MAP_RESOLUTION"))
        if isinstance(resolution, int | float) and not isinstance(resolution, bool) and resolution > 0:
            scale = 2.0 * np.pi * radius / (360.0 * _number(proj, "MAP_RESOLUTION", source, positive=True))
        proj4 = (f"+proj=eqc +lat_ts={center_lat:g} +lat_0=0 +lon_0={center_lon:g} +x_0=0 +y_0=0 "
                 f"+R={radius:.10g} +units=m +no_defs")
    else:
        raise LupexError(f"PDS3 map projection {kind!r} is not supported "
                         "(polar stereographic and simple cylindrical are)")
    if not (math.isfinite(scale) and scale > 0.0 and math.isfinite(radius)):
        raise LupexError(f"PDS3 label {source} gives a pixel size of {scale:g} m, not a positive finite number; "
                         "correct its MAP_SCALE or MAP_RESOLUTION")
    return proj4, scale, radius


def image_geometry(label: dict[str, Any], label_path: Path) -> Pds3Image:
    """Collect the image layout, scaling and map geometry a PDS3 label describes.

    Pixel centres follow the PDS convention: the centre of 0-based column ``i`` lies at
    ``x = (i - SAMPLE_PROJECTION_OFFSET) * MAP_SCALE`` and of row ``j`` at
    ``y = (LINE_PROJECTION_OFFSET - j) * MAP_SCALE`` (PDS Standards Reference, appendix on
    map projections; the LOLA GDR labels use this form).

    Parameters
    ----------
    label : dict
        Parsed label (:func:`parse_label`).
    label_path : Path
        Where the label was read (to find the image file).
    """
    source = label_path.name
    image = _find_image_object(label)
    proj = label.get("IMAGE_MAP_PROJECTION")
    if proj is None:
        raise LupexError(f"PDS3 label {source} lacks the keyword IMAGE_MAP_PROJECTION")
    if not isinstance(proj, dict):
        raise LupexError(f"PDS3 label {source} has no single IMAGE_MAP_PROJECTION object; lupex reads map-projected "
                         "images with one")
    lines = _number(image, "LINES", source, whole=True)
    samples = _number(image, "LINE_SAMPLES", source, whole=True)
    if "SAMPLE_TYPE" not in image:
        raise LupexError(f"PDS3 label {source} lacks the keyword SAMPLE_TYPE")
    sample_type = str(image["SAMPLE_TYPE"]).upper()
    bits = _number(image, "SAMPLE_BITS", source, whole=True)
    bands = _number(image, "BANDS", source, whole=True, default=1)
    line_offset = _number(proj, "LINE_PROJECTION_OFFSET", source)
    sample_offset = _number(proj, "SAMPLE_PROJECTION_OFFSET", source)
    if bands != 1:
        raise LupexError(f"PDS3 image has {bands} bands; a DEM must have one")
    if lines <= 0 or samples <= 0:
        raise LupexError(f"PDS3 label gives an empty image ({lines} x {samples})")
    dtype = _SAMPLE_TYPES.get((sample_type, bits))
    if dtype is None:
        raise LupexError(f"unsupported PDS3 sample type {sample_type[:40]} with {bits} bits")
    pointer, holder = _find_pointer(label)
    record_bytes = _number(holder if "RECORD_BYTES" in holder else label, "RECORD_BYTES", source, whole=True,
                           positive=True, default=1)
    image_path, byte_offset = _resolve_pointer(pointer, label_path, record_bytes)
    proj4, scale, radius = _projection(proj, source)
    x_left = (-0.5 - sample_offset) * scale
    y_top = (line_offset + 0.5) * scale
    if not (math.isfinite(x_left) and math.isfinite(y_top)):
        raise LupexError(f"PDS3 label {source} places its image beyond any map (projection offsets "
                         f"{line_offset:g}, {sample_offset:g} pixels of {scale:g} m); correct the label")
    return Pds3Image(
        image_path=image_path,
        byte_offset=byte_offset,
        lines=lines,
        samples=samples,
        dtype=dtype,
        scaling_factor=_number(image, "SCALING_FACTOR", source, default=1.0),
        offset=_number(image, "OFFSET", source, default=0.0),
        missing=_missing_value(image.get("MISSING_CONSTANT", image.get("NULL")), dtype),
        proj4=proj4,
        transform=(scale, 0.0, x_left, 0.0, -scale, y_top),
        radius_m=radius,
    )
