"""Helpers shared by the risk evidence models.

The models :mod:`~decisionmodel.evidence.models.surgical_risk`,
:mod:`~decisionmodel.evidence.models.intraoperative` and
:mod:`~decisionmodel.evidence.models.tumour_kinetics` share these: link functions,
posterior draws as flat arrays, check rows and intervals, and the readers of evidence
entries. Internal to the models (the names keep their leading underscore); part of the
cache key of every model that imports it, so editing it refits those models.

Examples
--------
>>> round(float(_expit(_logit(0.2))), 12)
0.2
>>> [round(x, 9) for x in _interval(np.arange(1001.0))]  # central 95 %
[25.0, 975.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from decisionmodel.evidence.files import AUTHORS_NOT_CAPTURED, EvidenceFile
from decisionmodel.evidence.registry import CHECK_COLUMNS
from decisionmodel.exceptions import (
    EvidenceModelError,
    MissingEvidenceError,
)

_LEVEL = 0.95
_CHECK_SEED = 20261127  # fixed: checks are a pure function of the posterior
_SAMPLE_DIMS = ("chain", "draw")


def _expit(x: Any) -> Any:
    return special.expit(x)


def _logit(p: Any) -> Any:
    return special.logit(p)


def _posterior(dt: xr.DataTree) -> xr.Dataset:
    if "posterior" not in dt.children:
        raise EvidenceModelError("the DataTree has no 'posterior' group")
    return dt["posterior"].to_dataset()


def _flat(da: xr.DataArray) -> np.ndarray:
    """Draws of a (chain, draw, ...) array, chain and draw stacked first: (S, ...)."""
    other = [d for d in da.dims if d not in _SAMPLE_DIMS]
    arr = da.transpose(*_SAMPLE_DIMS, *other).values
    return arr.reshape(-1, *arr.shape[2:])


def _scalar(da: xr.DataArray, name: str) -> xr.DataArray:
    """A (chain, draw) array with the given name and no leftover scalar coordinates."""
    out = da.transpose(*_SAMPLE_DIMS).drop_vars(
        [c for c in da.coords if c not in _SAMPLE_DIMS], errors="ignore"
    )
    return out.rename(name)


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    tail = (1 - _LEVEL) / 2
    lo, hi = np.quantile(replicates, [tail, 1 - tail])
    return float(lo), float(hi)


def _row(target: str, observed: float, lo: float, hi: float, source: str) -> dict[str, Any]:
    return {
        "target": target,
        "observed": float(observed),
        "lower": lo,
        "upper": hi,
        "passed": bool(lo <= observed <= hi),
        "source": source,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def _short_citation(entry: Mapping[str, Any]) -> str:
    c = entry["citation"][0]
    authors = str(c["authors"])
    if authors == AUTHORS_NOT_CAPTURED:
        return f"{c['journal']} {c['year']}"
    first = authors.split(",")[0].strip().split()
    if len(first) > 1 and first[-1].isupper():
        first = first[:-1]
    return f"{' '.join(first)} {c['year']}"


def _study(entry_id: str) -> str:
    """The study part of an id (``<firstauthor><year>_<what>`` -> ``<firstauthor><year>``)."""
    return entry_id.split("_")[0]


def _is_prior(entry: Mapping[str, Any]) -> bool:
    """The dossier's derived default priors are not data."""
    return entry.get("design") == "synthesis" or entry["id"].startswith("default_")


def _area(evidence: Mapping[str, EvidenceFile], area: str) -> EvidenceFile:
    try:
        return evidence[area]
    except KeyError:
        raise MissingEvidenceError(
            f"evidence model needs the area {area!r}; got {', '.join(sorted(evidence)) or 'none'}"
        ) from None


def _count(entry: Mapping[str, Any]) -> tuple[int, int] | None:
    """(events, n) of an events entry, or of a proportion with n (events = round(p n))."""
    if entry["type"] == "events":
        return int(entry["events"]), int(entry["n"])
    is_prop = entry["type"] == "proportion" or (
        entry["type"] == "value" and entry.get("unit") == "proportion"
    )
    if is_prop and "n" in entry:
        n = int(entry["n"])
        return round(float(entry["value"]) * n), n
    return None
