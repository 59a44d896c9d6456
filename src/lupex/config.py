"""Validated configuration: build pydantic models from TOML files and options, with one-line errors."""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lupex.errors import LupexError

__all__ = ["build", "load_toml", "not_text"]

Model = TypeVar("Model", bound=BaseModel)


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file into a dictionary.

    Raises
    ------
    LupexError
        When the file is missing, unreadable, not UTF-8 text or not valid TOML.
    """
    path = Path(path)
    if "\0" in str(path):
        raise LupexError(f"configuration file {str(path)!r} is not a valid file name (it holds a NUL character)")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise LupexError(f"configuration file {path} does not exist") from None
    except IsADirectoryError:
        raise LupexError(f"configuration file {path} is a folder; give a TOML file") from None
    except OSError as exc:
        raise LupexError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise LupexError(not_text(path, exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise LupexError(f"{path} is not valid TOML: {exc}") from None


def not_text(path: str | os.PathLike, exc: UnicodeDecodeError) -> str:
    """The message for a configuration file that is not UTF-8: where the first bad byte is, and the fix."""
    return (f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8, or check that it is the configuration file meant")


def build(model: type[Model], values: dict[str, Any], source: str = "") -> Model:
    """Validate ``values`` into ``model``, turning the first problem into a LupexError.

    Parameters
    ----------
    model : type
        The pydantic model class.
    values : dict
        Field values (``None`` values are dropped so defaults apply).
    source : str
        Where the values came from, for the message (e.g. a file name).

    Raises
    ------
    LupexError
        For the first invalid field, naming it; a ``nan`` or ``inf`` (TOML allows both) is
        refused in every field, since no lupex setting means anything by one.
    """
    prefix = f"{source}: " if source else ""
    where = _non_finite(values)
    if where is not None:
        raise LupexError(f"{prefix}invalid {where[0]}: {where[1]} is not a finite number")
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or model.__name__
        raise LupexError(f"{prefix}invalid {where}: {first['msg']}") from None


def _non_finite(values: Any, where: str = "") -> tuple[str, float] | None:
    """The dotted name and value of the first ``nan`` or ``inf`` in nested tables and arrays, or None."""
    if isinstance(values, float) and not math.isfinite(values):
        return where or "value", values
    if isinstance(values, dict):
        items = values.items()
    else:
        items = enumerate(values) if isinstance(values, list | tuple) else ()
    for key, value in items:
        found = _non_finite(value, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None
