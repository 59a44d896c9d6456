"""Catalog of public LOLA terrain products that ``lupex data fetch`` can download.

All products are NASA data in the public domain:

* LOLA GDR polar stereographic and simple-cylindrical DEMs from the PDS Geosciences
  Node (Smith et al., LRO-L-LOLA-4-GDR-V1.0), each a detached PDS3 label (``.LBL``)
  plus a raw image (``.IMG``);
* GeoTIFF DEMs from NASA GSFC's Planetary Geodesy Data Archive (PGDA): product 90,
  the 20/40/80 m south-pole mosaics (Barker et al. 2023), and product 78, 5 m site DEMs
  (Barker et al. 2021).

Sizes of PDS3 images follow from their labels (LINES x LINE_SAMPLES x SAMPLE_BITS / 8);
where a size or a checksum cannot be known offline it is ``None`` and the downloader
derives or records it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from lupex.errors import LupexError

__all__ = [
    "CATALOG",
    "FAMILY_GDR_CYLINDRICAL",
    "FAMILY_GDR_POLAR",
    "FAMILY_PGDA_78",
    "FAMILY_PGDA_90",
    "Product",
    "RemoteFile",
    "get_product",
    "product_names",
]

FAMILY_GDR_POLAR = "lola-gdr-polar"
FAMILY_GDR_CYLINDRICAL = "lola-gdr-cylindrical"
FAMILY_PGDA_90 = "pgda-90"
FAMILY_PGDA_78 = "pgda-78"

_PDS_GDR = "https://pds-geosciences.wustl.edu/lro/lro-l-lola-3-rdr-v1/lrolol_1xxx/data/lola_gdr"
_PDS_POLAR = f"{_PDS_GDR}/polar/img/"
_PDS_CYLINDRICAL = f"{_PDS_GDR}/cylindrical/img/"
_PGDA_90 = "https://pgda.gsfc.nasa.gov/data/LOLA_20mpp/"
_PGDA_78 = "https://pgda.gsfc.nasa.gov/data/LOLA_5mpp/"

_INT16_BYTES = 2
_PGDA_MOVED = "PGDA paths change from time to time; if this one fails, pass --mirror."


@dataclass(frozen=True)
class RemoteFile:
    """One file of a product on its server.

    Attributes
    ----------
    path : str
        Path relative to the product's base URL (may contain a sub-folder).
    size_bytes : int or None
        Expected size [bytes]; ``None`` where it cannot be known offline.
    sha256 : str or None
        Expected SHA-256 digest (lower-case hex); ``None`` where it is not known.
    """

    path: str
    size_bytes: int | None = None
    sha256: str | None = None

    @property
    def name(self) -> str:
        """File name without folders, as stored in the cache."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Product:
    """A downloadable terrain product: one GeoTIFF, or a PDS3 label + image pair.

    Attributes
    ----------
    name : str
        Short lower-case name used on the command line, e.g. ``ldem_80s_20m``.
    description : str
        One or two sentences for people.
    resolution_m : float
        Pixel size [m/px] (at the pole for polar stereographic grids, at the equator
        for cylindrical ones).
    family : str
        Product family, one of the ``FAMILY_*`` constants.
    base_url : str
        URL of the folder the files are in (ends with ``/``).
    files : tuple of RemoteFile
        The files, in download order (a PDS3 label before its image).
    """

    name: str
    description: str
    resolution_m: float
    family: str
    base_url: str
    files: tuple[RemoteFile, ...]

    def url(self, remote: RemoteFile, base_url: str | None = None) -> str:
        """URL of one of the product's files.

        Parameters
        ----------
        remote : RemoteFile
            One of ``self.files``.
        base_url : str, optional
            Replaces ``self.base_url`` (a mirror holding the same folder layout).

        Returns
        -------
        str
            The full URL.
        """
        base = base_url if base_url is not None else self.base_url
        return f"{base.rstrip('/')}/{remote.path}"

    @property
    def size_bytes(self) -> int | None:
        """Total size of the image data [bytes], or ``None`` when an image size is unknown."""
        sizes = [f.size_bytes for f in self.files if not f.name.upper().endswith(".LBL")]
        return None if None in sizes else sum(s for s in sizes if s is not None)


def _pds3_pair(
    product_id: str,
    base_url: str,
    family: str,
    resolution_m: float,
    description: str,
    shape: tuple[int, int] | None,
) -> Product:
    """A PDS3 product: ``<id>.LBL`` then ``<id>.IMG`` of int16 samples (lines x samples)."""
    size = shape[0] * shape[1] * _INT16_BYTES if shape is not None else None
    files = (RemoteFile(f"{product_id}.LBL"), RemoteFile(f"{product_id}.IMG", size_bytes=size))
    return Product(product_id.lower(), description, resolution_m, family, base_url, files)


def _geotiff(
    name: str, path: str, base_url: str, family: str, resolution_m: float, description: str
) -> Product:
    """A single-file GeoTIFF product of unknown size."""
    return Product(name, description, resolution_m, family, base_url, (RemoteFile(path),))


def _polar(
    product_id: str, resolution_m: float, limit: str, shape: tuple[int, int] | None
) -> Product:
    """A LOLA GDR south-polar stereographic product reaching latitude ``limit``."""
    description = (
        f"LOLA GDR polar stereographic DEM of the south pole to {limit}, "
        f"{resolution_m:g} m/px, int16 heights x 0.5 m (PDS3 LBL + IMG)."
    )
    return _pds3_pair(product_id, _PDS_POLAR, FAMILY_GDR_POLAR, resolution_m, description, shape)


def _cylindrical(product_id: str, pixels_per_degree: int, resolution_m: float) -> Product:
    """A LOLA GDR global simple-cylindrical product of 180 x 360 degrees."""
    description = (
        f"LOLA GDR global simple-cylindrical DEM, {pixels_per_degree} px/deg "
        f"(~{resolution_m:g} m/px at the equator), int16 heights x 0.5 m (PDS3 LBL + IMG)."
    )
    shape = (180 * pixels_per_degree, 360 * pixels_per_degree)
    return _pds3_pair(
        product_id, _PDS_CYLINDRICAL, FAMILY_GDR_CYLINDRICAL, resolution_m, description, shape
    )


def _pgda_90(resolution_m: int) -> Product:
    """A PGDA product 90 south-pole GeoTIFF mosaic."""
    file_name = f"LDEM_80S_{resolution_m}MPP_ADJ.TIF"
    description = (
        f"PGDA product 90 (Barker et al. 2023): adjusted LOLA south-pole DEM to 80°S, "
        f"{resolution_m} m/px, GeoTIFF. {_PGDA_MOVED}"
    )
    return _geotiff(
        file_name.removesuffix(".TIF").lower(), file_name, _PGDA_90, FAMILY_PGDA_90,
        float(resolution_m), description,
    )


def _build_catalog() -> dict[str, Product]:
    """All known products by short name."""
    products = [
        _polar("LDEM_80S_20M", 20.0, "80°S", (30400, 30400)),
        _polar("LDEM_80S_40M", 40.0, "80°S", (15200, 15200)),
        _polar("LDEM_80S_80M", 80.0, "80°S", (7600, 7600)),
        _polar("LDEM_80S_240M", 240.0, "80°S", None),
        _polar("LDEM_75S_240M", 240.0, "75°S", None),
        _polar("LDEM_875S_5M", 5.0, "87.5°S", (30336, 30336)),
        _cylindrical("LDEM_4", 4, 7580.84),
        _cylindrical("LDEM_16", 16, 1895.21),
        _cylindrical("LDEM_64", 64, 473.80),
        _pgda_90(20),
        _pgda_90(40),
        _pgda_90(80),
        _geotiff(
            "shoemaker_5mpp",
            "Shoemaker/Shoemaker_final_adj_5mpp_surf.tif",
            _PGDA_78,
            FAMILY_PGDA_78,
            5.0,
            "PGDA product 78 (Barker et al. 2021): 5 m/px LOLA site DEM of Shoemaker crater, "
            f"GeoTIFF. {_PGDA_MOVED}",
        ),
    ]
    return {product.name: product for product in products}


CATALOG: dict[str, Product] = _build_catalog()


def product_names() -> list[str]:
    """Short names of all catalog products, in catalog order."""
    return list(CATALOG)


def get_product(name: str) -> Product:
    """Look up a product by short name (case-insensitive; ``LDEM_80S_20M.IMG`` also works).

    Parameters
    ----------
    name : str
        Short name such as ``ldem_80s_20m``.

    Returns
    -------
    Product
        The catalog entry.

    Raises
    ------
    LupexError
        When no product has that name; the message lists the known names.
    """
    key = name.strip().lower()
    for suffix in (".lbl", ".img", ".tif"):
        key = key.removesuffix(suffix)
    if key in CATALOG:
        return CATALOG[key]
    known = ", ".join(CATALOG)
    raise LupexError(f"unknown product {name!r}; known products: {known}")
