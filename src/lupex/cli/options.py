"""Option decorators and output helpers shared by the command groups (as in rasterio's ``rio``)."""

from __future__ import annotations

import json
from typing import Any

import click

overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace existing output files instead of refusing."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout."""
    click.echo(json.dumps(payload, indent=2, sort_keys=False, allow_nan=False))
