"""The evidence layer: published study-level data in ``priors/*.yaml`` and its loader.

:func:`load_evidence` reads and validates one evidence file, :func:`load_all` every file
of a directory, and :func:`file_digest` gives the SHA-256 used as a cache key. The file
schema is documented in :mod:`decisionmodel.evidence.files` and ``priors/README.md``.
The submodules (the models, fitting, the cache, the draws) are imported when first used,
also as attributes (``decisionmodel.evidence.models_survival``), not when this package is.

Examples
--------
>>> from decisionmodel.evidence import ENTRY_TYPES, CONFIDENCE_FLAGS
>>> list(ENTRY_TYPES)
['events', 'proportion', 'median', 'hazard_ratio', 'mean_sd', 'median_iqr', 'value']
>>> CONFIDENCE_FLAGS
('F', 'M-hi', 'M-mod', 'M-low', 'D')
"""

import importlib
from typing import Any

from decisionmodel.evidence.files import (
    AUTHORS_NOT_CAPTURED,
    CONFIDENCE_FLAGS,
    DESIGNS,
    DISTRIBUTIONS,
    ENTRY_TYPES,
    FRAME_COLUMNS,
    TIME_UNITS,
    EvidenceFile,
    evidence_from_dict,
    file_digest,
    load_all,
    load_evidence,
)

__all__ = [
    "AUTHORS_NOT_CAPTURED",
    "CONFIDENCE_FLAGS",
    "DESIGNS",
    "DISTRIBUTIONS",
    "ENTRY_TYPES",
    "FRAME_COLUMNS",
    "TIME_UNITS",
    "EvidenceFile",
    "evidence_from_dict",
    "file_digest",
    "load_all",
    "load_evidence",
]


def __getattr__(name: str) -> Any:
    """A submodule named as an attribute is imported on first use (PEP 562)."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
