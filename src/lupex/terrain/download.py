"""Download public LOLA products into a per-user cache, with resume and checksums.

Each file is written to ``<file>.part`` first. An interrupted download keeps the part and
the next attempt asks the server for the rest (``Range: bytes=N-``). Only a complete file
whose size and SHA-256 match what is known about it is renamed to its final name, next to
a ``<file>.sha256`` sidecar in ``sha256sum`` format (with the size on a ``#`` comment line)
that later fetches check the cached file against.

Only the standard library speaks HTTP here; ``file://`` URLs and plain folders work as
mirrors too.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from lupex import __version__
from lupex.errors import LupexError
from lupex.terrain.catalog import Product, RemoteFile, get_product

__all__ = [
    "CACHE_ENV",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "MIRROR_ENV",
    "ProgressCallback",
    "cached_paths",
    "download_file",
    "fetch_product",
    "image_size_from_label",
    "is_cached",
    "local_paths",
    "product_folder",
    "resolve_cache_dir",
    "resolve_mirror",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
"""``progress(done_bytes, total_bytes_or_None)``, called as each file's bytes arrive."""

CACHE_ENV = "LUPEX_CACHE_DIR"
MIRROR_ENV = "LUPEX_DATA_MIRROR"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRIES = 2

_CHUNK_BYTES = 1 << 20
_SUBFOLDER = "lola"
_MIRROR_HINT = f"check the network, or pass --mirror URL (or set {MIRROR_ENV}) to use a copy"
_CACHE_HINT = f"pass --cache-dir or set {CACHE_ENV} to a writable folder"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+|\*)(?:-\d+)?/(\d+|\*)")


class _Interrupted(Exception):
    """The transfer stopped part-way; the ``.part`` file is kept so that it can resume."""


@dataclass
class _Reply:
    """An open server response, or ``None`` when the part on disk is already complete."""

    response: Any | None
    start: int
    total: int | None


# --- where things live -------------------------------------------------------------------


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The per-user cache folder (not created here).

    Parameters
    ----------
    cache_dir : path-like, optional
        Explicit folder; otherwise ``$LUPEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/lupex``,
        else ``~/.cache/lupex``.

    Returns
    -------
    pathlib.Path
        The cache folder.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "lupex"
    return Path.home() / ".cache" / "lupex"


def product_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder that holds the downloaded LOLA files: ``<cache>/lola``."""
    return resolve_cache_dir(cache_dir) / _SUBFOLDER


def resolve_mirror(mirror: str | None = None) -> str | None:
    """The base URL that replaces each product's own, if any.

    Parameters
    ----------
    mirror : str, optional
        URL or local folder; otherwise ``$LUPEX_DATA_MIRROR``.

    Returns
    -------
    str or None
        A URL (a folder becomes a ``file://`` URL), or ``None`` for the original servers.

    Raises
    ------
    LupexError
        When a mirror given as a folder does not exist.
    """
    value = mirror or os.environ.get(MIRROR_ENV) or None
    if value is None or "://" in value:
        return value
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise LupexError(f"mirror folder {folder} does not exist; pass a URL or an existing folder")
    return folder.resolve().as_uri()


def _as_product(product: str | Product) -> Product:
    """A catalog entry from a short name, or the product itself."""
    return product if isinstance(product, Product) else get_product(product)


def local_paths(product: str | Product, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the product's files are (or would be) in the cache, in download order."""
    folder = product_folder(cache_dir)
    return [folder / remote.name for remote in _as_product(product).files]


def is_cached(product: str | Product, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether every file of the product is cached with a sidecar whose size matches.

    This is the quick check (no hashing); ``fetch_product(..., verify=True)`` hashes.
    """
    for path in local_paths(product, cache_dir):
        record = _read_sidecar(path)
        if record is None or not path.is_file() or path.stat().st_size != record[1]:
            return False
    return True


def cached_paths(product: str | Product, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Paths of a product's cached files.

    Raises
    ------
    LupexError
        When the product is not (completely) in the cache.
    """
    entry = _as_product(product)
    if not is_cached(entry, cache_dir):
        raise LupexError(
            f"{entry.name} is not in the cache {product_folder(cache_dir)}; "
            f"run `lupex data fetch {entry.name}` first"
        )
    return local_paths(entry, cache_dir)


# --- fetching a product ------------------------------------------------------------------


def fetch_product(
    product: str | Product,
    *,
    cache_dir: str | os.PathLike | None = None,
    mirror: str | None = None,
    verify: bool = False,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
) -> list[Path]:
    """Download a product into the cache, or reuse the cached copy.

    Parameters
    ----------
    product : str or Product
        Catalog short name (e.g. ``"ldem_80s_20m"``) or a ``Product``.
    cache_dir : path-like, optional
        Cache folder; see `resolve_cache_dir`. Files go to ``<cache>/lola/``.
    mirror : str, optional
        URL or folder replacing each product's base URL; see `resolve_mirror`.
    verify : bool
        Hash cached files fully against their sidecars (always done for new downloads);
        without it only the size of a cached file is checked.
    progress : callable, optional
        ``progress(done_bytes, total_bytes_or_None)``, per file, as bytes arrive.
    timeout : float
        Socket timeout [s].
    retries : int
        How many times a dropped transfer is resumed before giving up.

    Returns
    -------
    list of pathlib.Path
        The local files (a PDS3 label before its image).

    Raises
    ------
    LupexError
        Unknown product, network or HTTP failure, unwritable cache, size or checksum
        mismatch.
    """
    entry = _as_product(product)
    folder = _writable_folder(product_folder(cache_dir))
    base_url = resolve_mirror(mirror)
    paths = []
    for remote in entry.files:
        dest = folder / remote.name
        size = _expected_size(remote, folder)
        if not _reuse_cached(dest, size, remote.sha256, verify):
            logger.info("downloading %s to %s", entry.url(remote, base_url), dest)
            download_file(
                entry.url(remote, base_url), dest, expected_size=size,
                expected_sha256=remote.sha256, progress=progress, timeout=timeout,
                retries=retries,
            )
        paths.append(dest)
    return paths


def _writable_folder(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LupexError(
            f"cannot create the cache folder {folder} ({exc.strerror}); {_CACHE_HINT}"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LupexError(f"no write permission in the cache folder {folder}; {_CACHE_HINT}")
    return folder


def _expected_size(remote: RemoteFile, folder: Path) -> int | None:
    """Catalog size of a file, else for a PDS3 image the size its cached label implies."""
    if remote.size_bytes is not None:
        return remote.size_bytes
    stem, ext = os.path.splitext(remote.name)
    if ext.lower() != ".img":
        return None
    label = folder / (stem + (".LBL" if ext.isupper() else ".lbl"))
    if not label.is_file():
        return None
    return image_size_from_label(label.read_text(encoding="latin-1"))


def image_size_from_label(text: str) -> int | None:
    """Size of the image a PDS3 label describes, LINES x LINE_SAMPLES x SAMPLE_BITS / 8 x BANDS.

    Parameters
    ----------
    text : str
        Label text.

    Returns
    -------
    int or None
        Image size [bytes], or ``None`` when the label lacks one of the keywords.
    """
    lines, samples, bits, bands = (
        _label_integer(text, key) for key in ("LINES", "LINE_SAMPLES", "SAMPLE_BITS", "BANDS")
    )
    if lines is None or samples is None or bits is None:
        return None
    return lines * samples * bits // 8 * (bands or 1)


def _label_integer(text: str, key: str) -> int | None:
    """The first integer value of ``key`` in a PDS3 label, or ``None``."""
    match = re.search(rf"^\s*{key}\s*=\s*(\d+)", text, re.MULTILINE)
    return int(match[1]) if match else None


# --- the cache and its sidecars ----------------------------------------------------------


def _sidecar(path: Path) -> Path:
    """``<file>.sha256`` beside ``path``."""
    return path.with_name(path.name + ".sha256")


def _write_sidecar(path: Path, digest: str, size: int) -> None:
    """Record the digest and size [bytes] of ``path`` atomically."""
    sidecar = _sidecar(path)
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(f"# size_bytes={size}\n{digest}  {path.name}\n", encoding="ascii")
    os.replace(tmp, sidecar)


def _read_sidecar(path: Path) -> tuple[str, int] | None:
    """The (digest, size [bytes]) recorded for ``path``, or ``None`` if missing or unreadable."""
    try:
        text = _sidecar(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    size = re.search(r"^# size_bytes=(\d+)$", text, re.MULTILINE)
    digest = re.search(r"^([0-9a-f]{64})  ", text, re.MULTILINE)
    return (digest[1], int(size[1])) if size and digest else None


def _hash_into(path: Path, hasher: Any) -> int:
    """Feed the bytes of ``path`` (if it exists) to ``hasher``; return their number."""
    if not path.is_file():
        return 0
    done = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            hasher.update(chunk)
            done += len(chunk)
    return done


def _mismatch(
    expected_size: int | None, size: int, expected_sha256: str | None, digest: str
) -> str | None:
    """Say how a file differs from what was expected, or ``None`` if it does not."""
    if expected_size is not None and size != expected_size:
        return f"size: expected {expected_size} bytes, got {size}"
    if expected_sha256 is not None and digest != expected_sha256.lower():
        return f"sha256: expected {expected_sha256.lower()}, got {digest}"
    return None


def _cache_problem(
    path: Path, expected_size: int | None, expected_sha256: str | None, verify: bool
) -> str | None:
    """What is wrong with a cached file, or ``None``; adopts a file that has no sidecar."""
    size = path.stat().st_size
    record = _read_sidecar(path)
    if record is None:
        hasher = hashlib.sha256()
        _hash_into(path, hasher)
        problem = _mismatch(expected_size, size, expected_sha256, hasher.hexdigest())
        if problem is None:
            _write_sidecar(path, hasher.hexdigest(), size)
        return problem
    recorded_digest, recorded_size = record
    if size != recorded_size:
        return f"size: recorded {recorded_size} bytes, found {size}"
    digest = recorded_digest
    if verify:
        hasher = hashlib.sha256()
        _hash_into(path, hasher)
        digest = hasher.hexdigest()
        if digest != recorded_digest:
            return f"sha256: recorded {recorded_digest}, found {digest}"
    return _mismatch(expected_size, size, expected_sha256, digest)


def _reuse_cached(
    path: Path, expected_size: int | None, expected_sha256: str | None, verify: bool
) -> bool:
    """Whether a sound cached copy exists; a damaged one is removed so it is fetched again."""
    if not path.is_file():
        return False
    problem = _cache_problem(path, expected_size, expected_sha256, verify)
    if problem is None:
        logger.info("using cached %s", path)
        return True
    logger.warning("cached %s is damaged (%s); downloading it again", path, problem)
    path.unlink()
    _sidecar(path).unlink(missing_ok=True)
    return False


# --- one file over HTTP ------------------------------------------------------------------


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
) -> str:
    """Download ``url`` to ``dest`` through ``<dest>.part``, resuming an existing part.

    Parameters
    ----------
    url : str
        Source URL (``http(s)://`` or ``file://``).
    dest : path-like
        Final file; its folder must exist.
    expected_size : int, optional
        Required size [bytes].
    expected_sha256 : str, optional
        Required SHA-256 digest (hex).
    progress : callable, optional
        ``progress(done_bytes, total_bytes_or_None)``.
    timeout : float
        Socket timeout [s].
    retries : int
        How many times a dropped transfer is resumed before giving up.

    Returns
    -------
    str
        SHA-256 digest (hex) of the file, also written to ``<dest>.sha256``.

    Raises
    ------
    LupexError
        On HTTP or network failure (the part is kept for a later resume), or when the
        size or checksum does not match (the part is deleted).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    attempts = max(retries, 0) + 1
    for attempt in range(1, attempts + 1):
        try:
            digest, size = _transfer(url, part, expected_size, progress, timeout)
            break
        except _Interrupted as exc:
            if attempt == attempts:
                raise LupexError(
                    f"could not download {url} ({exc}); run again to resume, or {_MIRROR_HINT}"
                ) from None
            logger.warning("download of %s stopped (%s); resuming", url, exc)
    problem = _mismatch(expected_size, size, expected_sha256, digest)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise LupexError(
            f"{dest.name} from {url} is damaged or another version ({problem}); "
            f"the partial file was removed: run again, or {_MIRROR_HINT}"
        )
    _write_sidecar(dest, digest, size)
    os.replace(part, dest)
    return digest


def _transfer(
    url: str, part: Path, expected_size: int | None, progress: ProgressCallback | None,
    timeout: float,
) -> tuple[str, int]:
    """Append the rest of ``url`` to ``part``; return the digest and size [bytes] of it all."""
    hasher = hashlib.sha256()
    offset = _hash_into(part, hasher)
    reply = _request(url, offset, timeout)
    if reply.response is None:
        return hasher.hexdigest(), offset
    if reply.start == 0 and offset > 0:
        logger.info("server sent %s from the start; discarding the partial file", url)
        hasher = hashlib.sha256()
    total = reply.total if reply.total is not None else expected_size
    done = reply.start
    with reply.response as response, _open_part(part, reply.start) as out:
        if progress is not None:
            progress(done, total)
        while chunk := _read_chunk(response):
            _write_chunk(out, chunk, part)
            hasher.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if reply.total is not None and done < reply.total:
        raise _Interrupted(f"connection closed after {done} of {reply.total} bytes")
    return hasher.hexdigest(), done


def _request(url: str, offset: int, timeout: float) -> _Reply:
    """Ask for ``url`` from byte ``offset`` on; restart from zero where resuming fails."""
    headers = {"User-Agent": f"lupex/{__version__}"}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset > 0:
            return _unsatisfiable_range(url, offset, exc.headers.get("Content-Range"), timeout)
        raise LupexError(
            f"HTTP error {exc.code} ({exc.reason}) for {url}; {_MIRROR_HINT}"
        ) from None
    except (URLError, OSError, http.client.HTTPException) as exc:
        raise _Interrupted(_reason(exc)) from exc
    start = 0
    if (response.getcode() or 200) == 206:  # file:// responses have no status code
        first, _ = _parse_content_range(response.headers.get("Content-Range"))
        if first != offset:
            response.close()
            return _request(url, 0, timeout)
        start = offset
    length = response.headers.get("Content-Length")
    total = start + int(length) if length is not None else None
    return _Reply(response, start, total)


def _unsatisfiable_range(
    url: str, offset: int, content_range: str | None, timeout: float
) -> _Reply:
    """Handle HTTP 416: the part is complete already, or it is stale and is fetched afresh."""
    _, total = _parse_content_range(content_range)
    if total == offset:
        return _Reply(None, offset, total)
    logger.info("server cannot resume %s at byte %d; starting again", url, offset)
    return _request(url, 0, timeout)


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, full size) from a ``Content-Range`` header; ``None`` where absent."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None, None
    first, total = match.groups()
    return (None if first == "*" else int(first)), (None if total == "*" else int(total))


def _reason(exc: BaseException) -> str:
    """A short reason for a network failure."""
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


def _read_chunk(response: Any) -> bytes:
    """The next chunk of the body; a broken connection becomes `_Interrupted`."""
    try:
        return response.read(_CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise _Interrupted(_reason(exc)) from exc


def _open_part(part: Path, start: int) -> IO[bytes]:
    """Open the part file to append at ``start`` (truncating it when ``start`` is 0)."""
    try:
        return part.open("ab" if start > 0 else "wb")
    except OSError as exc:
        raise LupexError(f"cannot write {part} ({exc.strerror}); {_CACHE_HINT}") from None


def _write_chunk(out: IO[bytes], chunk: bytes, part: Path) -> None:
    """Write one chunk; a full disk becomes a `LupexError` (the part is kept)."""
    try:
        out.write(chunk)
    except OSError as exc:
        raise LupexError(
            f"cannot write {part} ({exc.strerror}); free some space or {_CACHE_HINT}"
        ) from None
