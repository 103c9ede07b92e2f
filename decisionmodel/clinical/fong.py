"""Fong clinical risk score for colorectal liver metastases.

Source: Fong Y, Fortner J, Sun RL, Brennan MF, Blumgart LH. Clinical score for predicting
recurrence after hepatic resection for metastatic colorectal cancer: analysis of 1001
consecutive cases. *Ann Surg* 1999;230:309-321 (PMID 10493478). One point for each of
five preoperative criteria (evidence dossier, section 1; criteria confidence F):

========================  ==========================================================
criterion name            definition (boundaries exactly as published)
========================  ==========================================================
``node_positive``         node-positive primary tumour
``dfi_lt_12m``            disease-free interval from the primary to the detection of
                          the liver metastases *strictly less than* 12 months
``multiple_tumours``      *more than one* liver tumour
``cea_gt_200``            preoperative CEA *strictly greater than* 200 ng/mL
``size_gt_5cm``           largest liver tumour *strictly greater than* 5 cm
========================  ==========================================================

:data:`FONG_CRITERIA` lists the names in this order; the survival evidence model
(:mod:`decisionmodel.evidence.models.crlm_survival`) takes its covariate names and their order
from it.

The published score strata (:data:`FONG_STRATA`: n, 5-year overall survival, median overall
survival for scores 0-5) are *recalled* figures (dossier confidence M-mod, ``verified =
False``): the stratum sizes sum to the 1001 patients of the cohort, which supports the
recall, but they must be checked against the paper's table before release. The 5-year
survival is not monotone in the score (score 3: 20 %, score 4: 25 %), so the dossier
recommends the pooled grouping low (0-2) / high (3-5) (:func:`fong_risk_group`), the split
used by Creasy JM et al. *Surgery* 2018;163:1238-44. Ayez N et al. *Ann Surg Oncol*
2011;18:2757-63 found the score predictive only when computed *after* neoadjuvant
chemotherapy: compute it from the post-chemotherapy values.

Examples
--------
>>> s = fong_score(node_positive=True, dfi_months=8, n_tumours=3, cea_ng_ml=12.0,
...                largest_cm=4.0)
>>> s.score, s.criteria, s.risk_group
(3, ('node_positive', 'dfi_lt_12m', 'multiple_tumours'), 'high')
>>> fong_stratum(3).os_5y, fong_stratum(3).confidence
(0.2, 'M-mod')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from decisionmodel.exceptions import DecisionModelError

__all__ = [
    "CEA_THRESHOLD_NG_ML",
    "DFI_THRESHOLD_MONTHS",
    "FONG_CITATION",
    "FONG_CRITERIA",
    "FONG_STRATA",
    "SIZE_THRESHOLD_CM",
    "ClinicalInputError",
    "FongScore",
    "FongStratum",
    "fong_criteria",
    "fong_risk_group",
    "fong_score",
    "fong_stratum",
    "score_from_criteria",
]

FONG_CITATION = (
    "Fong Y, Fortner J, Sun RL, Brennan MF, Blumgart LH. Clinical score for predicting "
    "recurrence after hepatic resection for metastatic colorectal cancer: analysis of 1001 "
    "consecutive cases. Ann Surg 1999;230:309-321"
)
#: the five Fong clinical-risk-score criteria (one point each), in the published order; the
#: covariate names of the survival evidence model
FONG_CRITERIA: tuple[str, ...] = (
    "node_positive",
    "dfi_lt_12m",
    "multiple_tumours",
    "cea_gt_200",
    "size_gt_5cm",
)
#: a disease-free interval strictly below this (months) scores a point
DFI_THRESHOLD_MONTHS: float = 12.0
#: a preoperative CEA strictly above this (ng/mL) scores a point
CEA_THRESHOLD_NG_ML: float = 200.0
#: a largest liver tumour strictly above this (cm) scores a point
SIZE_THRESHOLD_CM: float = 5.0
#: highest score of the low-risk group (0-2 low, 3-5 high; Creasy 2018 and the dossier)
LOW_RISK_MAX: int = 2


class ClinicalInputError(DecisionModelError, ValueError):
    """A clinical value (a Fong criterion, a metastatic site, a lung-function value, ...)
    is missing, of the wrong type or outside its range; the message names it."""


@dataclass(frozen=True)
class FongScore:
    """A Fong clinical risk score and the criteria that make it up.

    Attributes
    ----------
    score : int
        Number of criteria met, 0-5.
    criteria : tuple of str
        Names of the criteria met, in the order of :data:`FONG_CRITERIA`.
    """

    score: int
    criteria: tuple[str, ...]

    @property
    def risk_group(self) -> Literal["low", "high"]:
        """``"low"`` for scores 0-2, ``"high"`` for 3-5."""
        return fong_risk_group(self.score)


@dataclass(frozen=True)
class FongStratum:
    """Outcome of one Fong score stratum in the derivation cohort (Fong 1999).

    Attributes
    ----------
    score : int
        Fong score, 0-5.
    n : int
        Patients with that score (of 1001).
    os_5y : float
        Actuarial 5-year overall survival (proportion).
    os_5y_ci : tuple of float
        The dossier's 95 % interval for ``os_5y`` (from n_eff = n / 2, a heuristic, D).
    median_os_months : float
        Median overall survival, months.
    confidence : str
        The dossier's flag: ``"M-mod"`` (recalled, moderate confidence).
    verified : bool
        False: the figures have not been read in the paper.
    """

    score: int
    n: int
    os_5y: float
    os_5y_ci: tuple[float, float]
    median_os_months: float
    confidence: str = "M-mod"
    verified: bool = False

    @property
    def risk_group(self) -> Literal["low", "high"]:
        """``"low"`` for scores 0-2, ``"high"`` for 3-5."""
        return fong_risk_group(self.score)


#: Fong 1999 score strata (evidence dossier section 1: recalled, M-mod, unverified). The
#: abstract (F) adds that no patient with a score of 5 was a long-term survivor.
FONG_STRATA: tuple[FongStratum, ...] = (
    FongStratum(0, 52, 0.60, (0.41, 0.78), 74.0),
    FongStratum(1, 262, 0.44, (0.36, 0.53), 51.0),
    FongStratum(2, 350, 0.40, (0.33, 0.47), 47.0),
    FongStratum(3, 243, 0.20, (0.13, 0.28), 33.0),
    FongStratum(4, 80, 0.25, (0.13, 0.39), 20.0),
    FongStratum(5, 14, 0.14, (0.004, 0.46), 22.0),
)


def _number(name: str, value: object, *, minimum: float, strict: bool = False) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ClinicalInputError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < minimum or (strict and x == minimum):
        rel = ">" if strict else ">="
        raise ClinicalInputError(f"{name} must be finite and {rel} {minimum:g}, got {value!r}")
    return x


def _check_score(score: object) -> int:
    if isinstance(score, bool | np.bool_) or not isinstance(score, int | np.integer):
        raise ClinicalInputError(f"Fong score must be an integer 0-5, got {score!r}")
    if not 0 <= int(score) <= len(FONG_CRITERIA):
        raise ClinicalInputError(f"Fong score must lie in 0-{len(FONG_CRITERIA)}, got {score!r}")
    return int(score)


def fong_criteria(
    *,
    node_positive: bool,
    dfi_months: float,
    n_tumours: int,
    cea_ng_ml: float,
    largest_cm: float,
) -> tuple[str, ...]:
    """Names of the Fong criteria a patient meets.

    Parameters
    ----------
    node_positive : bool
        Lymph-node-positive primary tumour.
    dfi_months : float
        Disease-free interval (months, >= 0) from the primary to the detection of the liver
        metastases; 0 for synchronous metastases.
    n_tumours : int
        Number of liver tumours (>= 1).
    cea_ng_ml : float
        Preoperative CEA (ng/mL, >= 0).
    largest_cm : float
        Diameter of the largest liver tumour (cm, > 0).

    Returns
    -------
    tuple of str
        Criteria met, in the order of :data:`FONG_CRITERIA`.

    Raises
    ------
    ClinicalInputError
        A value of the wrong type or out of range; the message names it.

    Examples
    --------
    >>> fong_criteria(node_positive=False, dfi_months=12, n_tumours=1, cea_ng_ml=200,
    ...               largest_cm=5)  # every boundary value scores nothing
    ()
    >>> fong_criteria(node_positive=False, dfi_months=11.9, n_tumours=2, cea_ng_ml=200.1,
    ...               largest_cm=5.1)
    ('dfi_lt_12m', 'multiple_tumours', 'cea_gt_200', 'size_gt_5cm')
    """
    if not isinstance(node_positive, bool | np.bool_):
        raise ClinicalInputError(f"node_positive must be True or False, got {node_positive!r}")
    dfi = _number("dfi_months", dfi_months, minimum=0.0)
    if isinstance(n_tumours, bool | np.bool_) or not isinstance(n_tumours, int | np.integer):
        raise ClinicalInputError(f"n_tumours must be an integer >= 1, got {n_tumours!r}")
    if n_tumours < 1:
        raise ClinicalInputError(f"n_tumours must be >= 1 (a liver tumour), got {n_tumours!r}")
    cea = _number("cea_ng_ml", cea_ng_ml, minimum=0.0)
    size = _number("largest_cm", largest_cm, minimum=0.0, strict=True)
    met = {
        "node_positive": bool(node_positive),
        "dfi_lt_12m": dfi < DFI_THRESHOLD_MONTHS,
        "multiple_tumours": int(n_tumours) > 1,
        "cea_gt_200": cea > CEA_THRESHOLD_NG_ML,
        "size_gt_5cm": size > SIZE_THRESHOLD_CM,
    }
    return tuple(c for c in FONG_CRITERIA if met[c])


def fong_score(
    *,
    node_positive: bool,
    dfi_months: float,
    n_tumours: int,
    cea_ng_ml: float,
    largest_cm: float,
) -> FongScore:
    """Fong clinical risk score from the raw clinical values.

    Parameters
    ----------
    node_positive, dfi_months, n_tumours, cea_ng_ml, largest_cm
        See :func:`fong_criteria`.

    Returns
    -------
    FongScore
        The score (0-5) and the criteria met.

    Raises
    ------
    ClinicalInputError
        A value of the wrong type or out of range.

    Examples
    --------
    >>> fong_score(node_positive=True, dfi_months=30, n_tumours=1, cea_ng_ml=450,
    ...            largest_cm=6.5)
    FongScore(score=3, criteria=('node_positive', 'cea_gt_200', 'size_gt_5cm'))
    """
    met = fong_criteria(
        node_positive=node_positive,
        dfi_months=dfi_months,
        n_tumours=n_tumours,
        cea_ng_ml=cea_ng_ml,
        largest_cm=largest_cm,
    )
    return FongScore(len(met), met)


def score_from_criteria(criteria: Iterable[str]) -> FongScore:
    """Fong score from the names of the criteria met.

    Parameters
    ----------
    criteria : iterable of str
        Distinct names from :data:`FONG_CRITERIA` (any order).

    Returns
    -------
    FongScore
        With the criteria in the order of :data:`FONG_CRITERIA`.

    Raises
    ------
    ClinicalInputError
        An unknown or repeated name (or a single string instead of a collection).

    Examples
    --------
    >>> score_from_criteria(["size_gt_5cm", "node_positive"])
    FongScore(score=2, criteria=('node_positive', 'size_gt_5cm'))
    """
    if isinstance(criteria, str):
        raise ClinicalInputError(
            f"Fong criteria must be a collection of names, not the string {criteria!r}"
        )
    names = [str(c) for c in criteria]
    unknown = sorted(set(names) - set(FONG_CRITERIA))
    if unknown:
        raise ClinicalInputError(
            f"unknown Fong criterion {', '.join(unknown)} (known: {', '.join(FONG_CRITERIA)})"
        )
    if len(set(names)) != len(names):
        raise ClinicalInputError(f"Fong criteria repeated: {names!r}")
    met = tuple(c for c in FONG_CRITERIA if c in names)
    return FongScore(len(met), met)


def fong_risk_group(score: int) -> Literal["low", "high"]:
    """Pooled risk group of a Fong score: low (0-2) or high (3-5).

    Parameters
    ----------
    score : int
        Fong score, 0-5.

    Returns
    -------
    {"low", "high"}

    Raises
    ------
    ClinicalInputError
        Not an integer in 0-5.

    Examples
    --------
    >>> [fong_risk_group(s) for s in range(6)]
    ['low', 'low', 'low', 'high', 'high', 'high']
    """
    return "low" if _check_score(score) <= LOW_RISK_MAX else "high"


def fong_stratum(score: int) -> FongStratum:
    """The published outcome of one Fong score stratum (recalled figures, M-mod).

    Parameters
    ----------
    score : int
        Fong score, 0-5.

    Returns
    -------
    FongStratum

    Raises
    ------
    ClinicalInputError
        Not an integer in 0-5.

    Examples
    --------
    >>> s = fong_stratum(0)
    >>> s.n, s.os_5y, s.median_os_months, s.verified
    (52, 0.6, 74.0, False)
    """
    return FONG_STRATA[_check_score(score)]
