"""``lupex data``: list, download and locate the public LOLA terrain products."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from lupex.cli.options import echo_json, is_quiet, json_option
from lupex.terrain.catalog import CATALOG, Product, get_product
from lupex.terrain.download import (
    ProgressCallback,
    cached_paths,
    fetch_product,
    is_cached,
    local_paths,
    resolve_mirror,
)

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache folder (default: $LUPEX_CACHE_DIR, $XDG_CACHE_HOME/lupex or ~/.cache/lupex).",
)
mirror_option = click.option(
    "--mirror",
    metavar="URL",
    default=None,
    help="Base URL or folder replacing the products' own servers (default: $LUPEX_DATA_MIRROR).",
)


@click.group()
def data() -> None:
    """Public LOLA terrain products: list, download (resumable, checksummed) and locate them."""


@data.command("list")
@json_option
@cache_dir_option
@mirror_option
def list_products(as_json: bool, cache_dir: Path | None, mirror: str | None) -> None:
    """List the known products, their resolution and size, and whether they are cached."""
    base_url = resolve_mirror(mirror)
    rows = [_describe(product, cache_dir, base_url) for product in CATALOG.values()]
    if as_json:
        echo_json(rows)
        return
    Console(soft_wrap=True).print(_table(rows))


@data.command("fetch")
@click.argument("name")
@cache_dir_option
@mirror_option
@click.option("--verify", is_flag=True, help="Hash cached files fully, not only their size.")
def fetch(name: str, cache_dir: Path | None, mirror: str | None, verify: bool) -> None:
    """Download product NAME into the cache (or reuse it) and print its local file paths."""
    product = get_product(name)
    with _progress_bar(product.name) as progress:
        paths = fetch_product(
            product, cache_dir=cache_dir, mirror=mirror, verify=verify, progress=progress
        )
    for path in paths:
        click.echo(str(path))


@data.command("path")
@click.argument("name")
@cache_dir_option
def path(name: str, cache_dir: Path | None) -> None:
    """Print the local file paths of cached product NAME (exit status 2 if not cached)."""
    for local in cached_paths(name, cache_dir):
        click.echo(str(local))


def _describe(product: Product, cache_dir: Path | None, base_url: str | None) -> dict[str, Any]:
    """JSON-ready summary of one product."""
    return {
        "name": product.name,
        "description": product.description,
        "family": product.family,
        "resolution_m": product.resolution_m,
        "size_bytes": product.size_bytes,
        "files": [
            {
                "name": remote.name,
                "url": product.url(remote, base_url),
                "size_bytes": remote.size_bytes,
                "sha256": remote.sha256,
            }
            for remote in product.files
        ],
        "cached": is_cached(product, cache_dir),
        "paths": [os.fspath(local) for local in local_paths(product, cache_dir)],
    }


def _table(rows: list[dict[str, Any]]) -> Table:
    """The product list as a rich table."""
    table = Table(title="LOLA terrain products")
    table.add_column("name")
    table.add_column("m/px", justify="right")
    table.add_column("size", justify="right")
    table.add_column("cached")
    table.add_column("family")
    for row in rows:
        table.add_row(
            row["name"],
            f"{row['resolution_m']:g}",
            _human_size(row["size_bytes"]),
            "yes" if row["cached"] else "no",
            row["family"],
        )
    return table


def _human_size(size_bytes: int | None) -> str:
    """A size such as ``1.85 GB`` (decimal units), or ``?`` when unknown."""
    if size_bytes is None:
        return "?"
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.2f} {unit}"
    return f"{size_bytes} B"


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback]:
    """A download bar on stderr (a terminal only; hidden by ``-q``); yields its callback."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    hidden = is_quiet() or not console.is_terminal
    with Progress(*columns, console=console, transient=True, disable=hidden) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
