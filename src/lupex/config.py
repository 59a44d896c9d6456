"""Validated configuration: build pydantic models from TOML files and options, with one-line errors."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lupex.errors import LupexError

__all__ = ["build", "load_toml"]

Model = TypeVar("Model", bound=BaseModel)


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file into a dictionary.

    Raises
    ------
    LupexError
        When the file is missing, unreadable or not valid TOML.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise LupexError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise LupexError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LupexError(f"{path} is not valid TOML: {exc}") from None


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
    """
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or model.__name__
        prefix = f"{source}: " if source else ""
        raise LupexError(f"{prefix}invalid {where}: {first['msg']}") from None
