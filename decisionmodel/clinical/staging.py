"""AJCC M1 subcategory of metastatic colorectal cancer from the metastatic sites.

AJCC Cancer Staging Manual, 8th edition (Amin MB et al., eds. Springer 2017), colon and
rectum chapter (Jessup JM et al.):

* **M1a**: metastasis confined to one organ or site (e.g. liver, lung, ovary, non-regional
  lymph node) without peritoneal metastasis;
* **M1b**: metastases to two or more organs or sites, without peritoneal metastasis;
* **M1c**: metastasis to the peritoneal surface, alone or with other site or organ
  metastases.

Distant (non-regional) lymph nodes count as one site. The survival evidence model of
colorectal liver metastases (:mod:`decisionmodel.evidence.models.crlm_survival`) uses
*extrahepatic disease* (Kanas 2012; Fong 1999: an independent predictor not in the score):
any metastatic site other than the liver (:func:`is_extrahepatic`).

Site names (:data:`SITES`) are lower-case identifiers; spaces and hyphens in a given name
are read as underscores.

Examples
--------
>>> m1_category(["liver"]), m1_category(["liver", "lung"]), m1_category(["peritoneum"])
('M1a', 'M1b', 'M1c')
>>> is_extrahepatic(["liver", "distant_nodes"])
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from decisionmodel.clinical.fong import ClinicalInputError

__all__ = [
    "M1_CATEGORIES",
    "PERITONEAL_SITE",
    "SITES",
    "StagingError",
    "UnknownSiteError",
    "extrahepatic_sites",
    "is_extrahepatic",
    "m1_category",
    "normalise_sites",
]

#: metastatic sites accepted by :func:`normalise_sites`
SITES: tuple[str, ...] = (
    "liver",
    "lung",
    "pleura",
    "distant_nodes",
    "peritoneum",
    "ovary",
    "bone",
    "brain",
    "adrenal",
    "spleen",
    "kidney",
    "skin",
    "soft_tissue",
    "other",
)
#: the site that makes the disease M1c
PERITONEAL_SITE = "peritoneum"
#: AJCC 8th-edition M1 subcategories of colorectal cancer
M1_CATEGORIES: tuple[str, ...] = ("M1a", "M1b", "M1c")


class StagingError(ClinicalInputError):
    """Metastatic sites or an M1 category cannot be staged (none given, wrong type)."""


class UnknownSiteError(StagingError):
    """A metastatic site name is not one of :data:`SITES`."""


def normalise_sites(sites: Iterable[str] | str) -> tuple[str, ...]:
    """Validated, de-duplicated metastatic sites in the order of :data:`SITES`.

    Parameters
    ----------
    sites : iterable of str, or str
        Site names (case, spaces and hyphens are normalised: ``"Distant nodes"`` ->
        ``"distant_nodes"``); a single string is one site.

    Returns
    -------
    tuple of str

    Raises
    ------
    UnknownSiteError
        A name not in :data:`SITES`; the message lists the allowed names.
    StagingError
        A name that is not a string.

    Examples
    --------
    >>> normalise_sites(["Lung", "liver", "lung"])
    ('liver', 'lung')
    >>> normalise_sites("Distant nodes")
    ('distant_nodes',)
    """
    items = [sites] if isinstance(sites, str) else list(sites)
    names = set()
    for s in items:
        if not isinstance(s, str):
            raise StagingError(f"metastatic site must be a name (string), got {s!r}")
        key = s.strip().lower().replace("-", "_").replace(" ", "_")
        if key not in SITES:
            raise UnknownSiteError(f"unknown metastatic site {s!r} (allowed: {', '.join(SITES)})")
        names.add(key)
    return tuple(s for s in SITES if s in names)


def m1_category(sites: Iterable[str] | str) -> Literal["M1a", "M1b", "M1c"]:
    """AJCC 8th-edition M1 subcategory of colorectal cancer from its metastatic sites.

    Parameters
    ----------
    sites : iterable of str, or str
        Metastatic sites (see :func:`normalise_sites`); at least one.

    Returns
    -------
    {"M1a", "M1b", "M1c"}
        M1c if the peritoneum is involved; otherwise M1a for one site, M1b for more.

    Raises
    ------
    StagingError
        No site (the disease is M0, not M1), or a name of the wrong type.
    UnknownSiteError
        An unknown site name.

    Examples
    --------
    >>> m1_category(["liver", "peritoneum", "lung"])
    'M1c'
    >>> m1_category(["lung"])
    'M1a'
    """
    names = normalise_sites(sites)
    if not names:
        raise StagingError("no metastatic site given: the disease is M0, not M1")
    if PERITONEAL_SITE in names:
        return "M1c"
    return "M1a" if len(names) == 1 else "M1b"


def extrahepatic_sites(sites: Iterable[str] | str) -> tuple[str, ...]:
    """The metastatic sites other than the liver.

    Parameters
    ----------
    sites : iterable of str, or str
        Metastatic sites (see :func:`normalise_sites`).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> extrahepatic_sites(["liver", "lung", "peritoneum"])
    ('lung', 'peritoneum')
    """
    return tuple(s for s in normalise_sites(sites) if s != "liver")


def is_extrahepatic(sites: Iterable[str] | str) -> bool:
    """Whether any metastatic site lies outside the liver (extrahepatic disease).

    Parameters
    ----------
    sites : iterable of str, or str
        Metastatic sites (see :func:`normalise_sites`).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_extrahepatic(["liver"]), is_extrahepatic(["liver", "peritoneum"])
    (False, True)
    """
    return bool(extrahepatic_sites(sites))
