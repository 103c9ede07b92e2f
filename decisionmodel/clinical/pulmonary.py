"""Predicted postoperative lung function and physiological risk of lung resection.

**Anatomical segment method** (ACCP 2013: Brunelli A, Kim AW, Berger KI, Addrizzo-Harris
DJ. Physiologic evaluation of the patient with lung cancer being considered for resectional
surgery. *Chest* 2013;143(5 Suppl):e166S-e190S; evidence dossier section 5, M-hi)::

    ppo = preoperative value x (1 - a / b)

with ``a`` the unobstructed segments to be resected and ``b`` the unobstructed segments in
total, normally 19: right upper lobe 3, middle lobe 2, right lower lobe 5 (right lung 10);
left upper lobe 3 + lingula 2 = 5, left lower lobe 4 (left lung 9). The same formula gives
ppoDLCO from DLCO. Values are % predicted.

Resections (:data:`RESECTIONS`): ``wedge`` (one segment-equivalent per wedge, as the
dossier states: ppoFEV1 ~ 0.95 x FEV1), ``segmentectomy`` (``segments`` removed), the five
lobectomies (``right_upper``, ``middle``, ``right_lower``, ``left_upper`` including the
lingula, ``left_lower``), the bilobectomies ``bilobectomy_upper_middle`` and
``bilobectomy_middle_lower``, and ``pneumonectomy_right`` (10) / ``pneumonectomy_left``
(9). :func:`ppo_sequential` applies successive resections (a wedge now, a wedge or a
lobectomy later, as in repeat metastasectomy) to the lung that remains.

**Risk categories.** :func:`accp2013_risk` follows the ACCP 2013 algorithm (Brunelli 2013;
dossier M-hi): ppoFEV1 and ppoDLCO both > 60 % -> low risk; either in 30-60 % -> a
low-technology exercise test (stair climb >= 22 m or shuttle walk >= 400 m: low risk;
otherwise CPET); either < 30 % -> CPET; VO2max < 10 mL/kg/min or < 35 % predicted -> high
risk (quoted mortality > 10 %), > 20 mL/kg/min or > 75 % -> low risk, in between moderate.
:func:`ers_ests2009_risk` is the ERS/ESTS 2009 variant (Brunelli A, Charloux A, Bolliger
CT, et al. *Eur Respir J* 2009;34:17-41; thresholds as summarised in PMC4283874, dossier F).
The cardiological evaluation that both guidelines put first is not modelled.

**Operative mortality vs ppoFEV1** (:func:`operative_mortality_ppo`): the dossier's steep
logistic (confidence D, from Markos J et al. *Am Rev Respir Dis* 1989;139:902-10 and
Nakahara K et al. *Ann Thorac Surg* 1988;46:549-52): about 1 % at ppoFEV1 > 60 %, about 5 %
at 40 %, 15-50 % below 30 %. It is the least-squares line on the logit scale through the
anchors (60 %, 1 %), (40 %, 5 %) and (25 %, 29.6 %), the last being the logit midpoint of
15-50 % placed at the middle of the 20-30 % band (D): ``logit p = a + b ppoFEV1`` with
:data:`PPO_MORTALITY_INTERCEPT` ~ 1.58 and :data:`PPO_MORTALITY_SLOPE` ~ -0.105 per
percentage point (0.9 % at 60 %, 6.7 % at 40 %, 17 % at 30 %, 37 % at 20 %).

Examples
--------
>>> round(ppo(80, "right_lower"), 1)  # 80 x (1 - 5/19)
58.9
>>> round(ppo(80, "wedge"), 1)        # 80 x 18/19
75.8
>>> accp2013_risk(ppo(80, "right_lower"), 70).next_step
'low_technology_exercise_test'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from decisionmodel.clinical.fong import ClinicalInputError

__all__ = [
    "LOBES",
    "PPO_MORTALITY_ANCHORS",
    "PPO_MORTALITY_INTERCEPT",
    "PPO_MORTALITY_SLOPE",
    "RESECTIONS",
    "SEGMENTS",
    "TOTAL_SEGMENTS",
    "LungRiskAssessment",
    "PulmonaryInputError",
    "Resection",
    "accp2013_risk",
    "ers_ests2009_risk",
    "operative_mortality_ppo",
    "ppo",
    "ppo_sequential",
    "segments_resected",
]

#: bronchopulmonary segments per lobe (the left upper lobe includes the lingula's 2)
SEGMENTS: dict[str, int] = {
    "right_upper": 3,
    "middle": 2,
    "right_lower": 5,
    "left_upper": 5,
    "left_lower": 4,
}
LOBES: tuple[str, ...] = tuple(SEGMENTS)
TOTAL_SEGMENTS: int = sum(SEGMENTS.values())
#: lobes removed by each anatomical resection (``wedge`` and ``segmentectomy``: none whole)
RESECTIONS: dict[str, tuple[str, ...]] = {
    "wedge": (),
    "segmentectomy": (),
    **{lobe: (lobe,) for lobe in LOBES},
    "bilobectomy_upper_middle": ("right_upper", "middle"),
    "bilobectomy_middle_lower": ("middle", "right_lower"),
    "pneumonectomy_right": ("right_upper", "middle", "right_lower"),
    "pneumonectomy_left": ("left_upper", "left_lower"),
}
_SUBLOBAR = ("wedge", "segmentectomy")

#: (ppoFEV1 %, operative mortality) anchors of the dossier's steep logistic (D)
PPO_MORTALITY_ANCHORS: tuple[tuple[float, float], ...] = (
    (60.0, 0.01),
    (40.0, 0.05),
    (25.0, float(special.expit(0.5 * (special.logit(0.15) + special.logit(0.50))))),
)
PPO_MORTALITY_SLOPE, PPO_MORTALITY_INTERCEPT = (
    float(v)
    for v in np.polyfit(
        [a[0] for a in PPO_MORTALITY_ANCHORS],
        special.logit([a[1] for a in PPO_MORTALITY_ANCHORS]),
        1,
    )
)


class PulmonaryInputError(ClinicalInputError):
    """A lung-function value, a resection or an exercise-test result is invalid."""


@dataclass(frozen=True)
class Resection:
    """One lung resection.

    Attributes
    ----------
    kind : str
        A key of :data:`RESECTIONS`.
    segments : int or None
        ``wedge``: number of wedges (default 1, one segment-equivalent each);
        ``segmentectomy``: segments removed (required); others: must be None.
    lobe : str or None
        Lobe of a wedge or segmentectomy (optional; used by :func:`ppo_sequential` so a
        later lobectomy of the same lobe does not count those segments twice).
    """

    kind: str
    segments: int | None = None
    lobe: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in RESECTIONS:
            raise PulmonaryInputError(
                f"unknown resection {self.kind!r} (allowed: {', '.join(RESECTIONS)})"
            )
        if self.kind in _SUBLOBAR:
            if self.lobe is not None and self.lobe not in SEGMENTS:
                raise PulmonaryInputError(
                    f"unknown lobe {self.lobe!r} for {self.kind} (allowed: {', '.join(LOBES)})"
                )
            n = self.segments
            if n is None and self.kind == "segmentectomy":
                raise PulmonaryInputError("segmentectomy needs the number of segments removed")
            if n is not None:
                if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                    raise PulmonaryInputError(
                        f"{self.kind}: segments must be a positive integer, got {n!r}"
                    )
                limit = SEGMENTS[self.lobe] if self.lobe else max(SEGMENTS.values())
                if self.kind == "segmentectomy" and n > limit:
                    where = f"the {self.lobe} lobe" if self.lobe else "any lobe"
                    raise PulmonaryInputError(
                        f"segmentectomy of {n} segments: {where} has at most {limit}"
                    )
        elif self.segments is not None or self.lobe is not None:
            raise PulmonaryInputError(
                f"{self.kind} is an anatomical resection: give no segments or lobe"
            )

    @property
    def removed(self) -> int:
        """Segments (or segment-equivalents) removed from an intact lung."""
        if self.kind == "wedge":
            return 1 if self.segments is None else int(self.segments)
        if self.kind == "segmentectomy":
            return int(self.segments or 0)
        return sum(SEGMENTS[lobe] for lobe in RESECTIONS[self.kind])


ResectionLike = Resection | str | tuple[str, int]


def _resection(r: ResectionLike) -> Resection:
    if isinstance(r, Resection):
        return r
    if isinstance(r, str):
        return Resection(r)
    if isinstance(r, tuple) and len(r) == 2 and isinstance(r[0], str):
        return Resection(r[0], r[1])
    raise PulmonaryInputError(
        f"a resection is a name, a (name, segments) pair or a Resection, got {r!r}"
    )


def segments_resected(resection: ResectionLike) -> int:
    """Segments (segment-equivalents) a resection removes from an intact lung.

    Parameters
    ----------
    resection : Resection, str or (str, int)
        A key of :data:`RESECTIONS`, or ``("segmentectomy", n)`` / ``("wedge", n)``.

    Returns
    -------
    int

    Raises
    ------
    PulmonaryInputError
        Unknown resection or invalid segment count.

    Examples
    --------
    >>> [segments_resected(r) for r in ("wedge", "middle", "left_upper",
    ...                                 "bilobectomy_middle_lower", "pneumonectomy_left")]
    [1, 2, 5, 7, 9]
    >>> segments_resected(("segmentectomy", 2))
    2
    """
    return _resection(resection).removed


def _preop(name: str, value: Any) -> np.ndarray:
    if isinstance(value, bool | np.bool_ | str):
        raise PulmonaryInputError(f"{name} must be a number (% predicted), got {value!r}")
    try:
        x = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise PulmonaryInputError(f"{name} must be a number (% predicted), got {value!r}") from None
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise PulmonaryInputError(
            f"{name} must be positive and finite (% predicted), got {value!r}"
        )
    return x


def _as_output(x: np.ndarray) -> Any:
    return float(x) if np.ndim(x) == 0 else x


def ppo(
    preop_percent: Any,
    resection: ResectionLike,
    *,
    obstructed_in_resection: int = 0,
    obstructed_elsewhere: int = 0,
) -> Any:
    """Predicted postoperative value (FEV1 or DLCO, % predicted), anatomical segment method.

    ``ppo = preop x (1 - a / b)``, ``a`` = resected segments minus the obstructed ones
    among them, ``b`` = 19 minus all obstructed segments (Brunelli 2013).

    Parameters
    ----------
    preop_percent : float or array-like
        Preoperative FEV1 (or DLCO), % predicted (> 0).
    resection : Resection, str or (str, int)
        See :func:`segments_resected`.
    obstructed_in_resection : int
        Obstructed (non-functioning) segments inside the part to be resected.
    obstructed_elsewhere : int
        Obstructed segments in the lung that remains.

    Returns
    -------
    float or numpy.ndarray
        Like ``preop_percent``.

    Raises
    ------
    PulmonaryInputError
        Non-positive value, unknown resection, or obstructed counts that do not fit.

    Examples
    --------
    >>> round(ppo(80, "pneumonectomy_right"), 1)  # 80 x 9/19
    37.9
    >>> ppo(60, "right_lower", obstructed_in_resection=2)  # 60 x (1 - 3/17)
    49.41176470588235
    """
    res = _resection(resection)
    x = _preop("preop_percent", preop_percent)
    removed = res.removed
    for name, n in (
        ("obstructed_in_resection", obstructed_in_resection),
        ("obstructed_elsewhere", obstructed_elsewhere),
    ):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise PulmonaryInputError(f"{name} must be a non-negative integer, got {n!r}")
    if removed > TOTAL_SEGMENTS:
        raise PulmonaryInputError(f"{removed} segments exceed the {TOTAL_SEGMENTS} of both lungs")
    if obstructed_in_resection > removed:
        raise PulmonaryInputError(
            f"obstructed_in_resection={obstructed_in_resection} exceeds the {removed} "
            f"segments resected by {res.kind}"
        )
    if obstructed_elsewhere > TOTAL_SEGMENTS - removed:
        raise PulmonaryInputError(
            f"obstructed_elsewhere={obstructed_elsewhere} exceeds the "
            f"{TOTAL_SEGMENTS - removed} segments left after {res.kind}"
        )
    a = removed - obstructed_in_resection
    b = TOTAL_SEGMENTS - obstructed_in_resection - obstructed_elsewhere
    if b == 0:
        raise PulmonaryInputError("every segment is obstructed: no functioning lung to resect")
    return _as_output(x * (1.0 - a / b))


def ppo_sequential(preop_percent: Any, resections: Sequence[ResectionLike]) -> list[Any]:
    """Predicted function after each of successive resections.

    Each resection removes its segments from the lung that remains (function is
    proportional to the remaining segments, 19 at the start): after a wedge, a later
    right lower lobectomy removes the 5 right-lower segments, or 4 if the wedge was
    declared in that lobe (``Resection("wedge", lobe="right_lower")``). A wedge or
    segmentectomy without a lobe is taken from a lobe not resected later.

    Parameters
    ----------
    preop_percent : float or array-like
        Preoperative FEV1 (or DLCO) before the first resection, % predicted.
    resections : sequence of Resection, str or (str, int)
        In the order performed.

    Returns
    -------
    list
        The predicted value after each resection (float or array, like the input).

    Raises
    ------
    PulmonaryInputError
        A resection of a lobe already removed, more segments than remain, or no lung left.

    Examples
    --------
    >>> [round(v, 2) for v in ppo_sequential(80, ["wedge", "wedge"])]  # 80 x 18/19, x 17/18
    [75.79, 71.58]
    >>> [round(v, 2) for v in ppo_sequential(80, [Resection("wedge", lobe="right_lower"),
    ...                                            "right_lower"])]  # 80 x 18/19, 80 x 14/19
    [75.79, 58.95]
    """
    x = _preop("preop_percent", preop_percent)
    remaining = dict(SEGMENTS)
    unlocated = 0  # sublobar segments removed from an unnamed lobe
    out = []
    for step, r in enumerate(resections, start=1):
        res = _resection(r)
        if res.kind in _SUBLOBAR:
            n = res.removed
            if res.lobe is not None:
                if n > remaining[res.lobe]:
                    raise PulmonaryInputError(
                        f"resection {step} ({res.kind}): {n} segment(s) from the {res.lobe} "
                        f"lobe, which has {remaining[res.lobe]} left"
                    )
                remaining[res.lobe] -= n
            else:
                if n > sum(remaining.values()) - unlocated:
                    raise PulmonaryInputError(
                        f"resection {step} ({res.kind}): {n} segment(s) but fewer remain"
                    )
                unlocated += n
        else:
            gone = [lobe for lobe in RESECTIONS[res.kind] if remaining[lobe] == 0]
            if gone:
                raise PulmonaryInputError(
                    f"resection {step} ({res.kind}): lobe(s) {', '.join(gone)} already resected"
                )
            for lobe in RESECTIONS[res.kind]:
                remaining[lobe] = 0
        left = sum(remaining.values()) - unlocated
        if left <= 0:
            raise PulmonaryInputError(f"resection {step} ({res.kind}) leaves no lung")
        out.append(_as_output(x * left / TOTAL_SEGMENTS))
    return out


@dataclass(frozen=True)
class LungRiskAssessment:
    """Physiological risk category of a lung resection and the next step.

    Attributes
    ----------
    guideline : str
        ``"ACCP 2013"`` or ``"ERS/ESTS 2009"``.
    category : {"low", "moderate", "high", "undetermined"}
        ``"undetermined"`` when a further test is needed.
    next_step : str
        ``"proceed"``, ``"low_technology_exercise_test"``, ``"cpet"``,
        ``"ppo_values"`` (ERS/ESTS: compute ppoFEV1 and ppoDLCO), ``"discuss_risks"``
        (moderate risk) or ``"counsel_alternatives"`` (high risk: minor resection or
        non-operative treatment).
    reason : str
        The rule that applied, in plain words.
    """

    guideline: str
    category: Literal["low", "moderate", "high", "undetermined"]
    next_step: str
    reason: str


def _opt(name: str, value: Any, *, upper: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise PulmonaryInputError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (upper is not None and x > upper):
        rng = f"0-{upper:g}" if upper is not None else ">= 0"
        raise PulmonaryInputError(f"{name} must lie in {rng}, got {value!r}")
    return x


def _pct(x: float) -> str:
    """A percentage with at most two decimals (58.9474 -> '58.95', 60.0 -> '60')."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _cpet(
    guideline: str, vo2: float | None, vo2_pct: float | None, why: str
) -> LungRiskAssessment | None:
    """The VO2max rule shared by both guidelines; None when no VO2max is given."""
    if vo2 is None and vo2_pct is None:
        return None
    if (vo2 is not None and vo2 < 10) or (vo2_pct is not None and vo2_pct < 35):
        return LungRiskAssessment(
            guideline,
            "high",
            "counsel_alternatives",
            f"{why}; VO2max < 10 mL/kg/min or < 35 % predicted: high risk "
            "(quoted operative mortality above 10 %)",
        )
    if (vo2 is not None and vo2 > 20) or (vo2_pct is not None and vo2_pct > 75):
        return LungRiskAssessment(
            guideline, "low", "proceed", f"{why}; VO2max > 20 mL/kg/min or > 75 % predicted"
        )
    return LungRiskAssessment(
        guideline,
        "moderate",
        "discuss_risks",
        f"{why}; VO2max 10-20 mL/kg/min (35-75 % predicted): moderate risk",
    )


def accp2013_risk(
    ppo_fev1: float,
    ppo_dlco: float,
    *,
    stair_climb_m: float | None = None,
    shuttle_walk_m: float | None = None,
    vo2max_ml_kg_min: float | None = None,
    vo2max_percent: float | None = None,
) -> LungRiskAssessment:
    """Physiological risk category of lung resection, ACCP 2013 algorithm (Brunelli 2013).

    Both ppo values > 60 % -> low risk. Either < 30 % -> CPET. Otherwise (either in
    30-60 %) -> low-technology exercise test: stair climb >= 22 m or shuttle walk >= 400 m
    -> low risk, else CPET. CPET: VO2max < 10 mL/kg/min or < 35 % predicted -> high risk;
    > 20 mL/kg/min or > 75 % -> low risk; otherwise moderate. When the needed test result
    is not given the category is ``"undetermined"`` and ``next_step`` names the test.
    A high VO2max criterion takes precedence over a low one when the two units disagree.

    Parameters
    ----------
    ppo_fev1, ppo_dlco : float
        Predicted postoperative FEV1 and DLCO, % predicted (see :func:`ppo`).
    stair_climb_m, shuttle_walk_m : float, optional
        Height climbed (m) and shuttle-walk distance (m).
    vo2max_ml_kg_min, vo2max_percent : float, optional
        Peak oxygen consumption from CPET (mL/kg/min; % predicted).

    Returns
    -------
    LungRiskAssessment

    Raises
    ------
    PulmonaryInputError
        A negative or non-numeric value.

    Examples
    --------
    >>> accp2013_risk(65, 61).category
    'low'
    >>> r = accp2013_risk(45, 70, stair_climb_m=24)
    >>> r.category, r.next_step
    ('low', 'proceed')
    >>> accp2013_risk(28, 70).next_step
    'cpet'
    >>> accp2013_risk(28, 70, vo2max_ml_kg_min=9).category
    'high'
    """
    g = "ACCP 2013"
    fev1 = _opt("ppo_fev1", ppo_fev1)
    dlco = _opt("ppo_dlco", ppo_dlco)
    if fev1 is None or dlco is None:
        raise PulmonaryInputError("ACCP 2013 needs both ppo_fev1 and ppo_dlco")
    stair = _opt("stair_climb_m", stair_climb_m)
    walk = _opt("shuttle_walk_m", shuttle_walk_m)
    vo2 = _opt("vo2max_ml_kg_min", vo2max_ml_kg_min)
    vo2_pct = _opt("vo2max_percent", vo2max_percent)
    vals = f"ppoFEV1 {_pct(fev1)} %, ppoDLCO {_pct(dlco)} %"
    if fev1 > 60 and dlco > 60:
        return LungRiskAssessment(g, "low", "proceed", f"{vals}: both above 60 %")
    if fev1 < 30 or dlco < 30:
        why = f"{vals}: below 30 %, CPET required"
        return _cpet(g, vo2, vo2_pct, why) or LungRiskAssessment(g, "undetermined", "cpet", why)
    why = f"{vals}: in 30-60 %, low-technology exercise test required"
    if (stair is not None and stair >= 22) or (walk is not None and walk >= 400):
        return LungRiskAssessment(
            g, "low", "proceed", f"{why}; stair climb >= 22 m or shuttle walk >= 400 m"
        )
    if stair is None and walk is None:
        return LungRiskAssessment(g, "undetermined", "low_technology_exercise_test", why)
    why += "; stair climb < 22 m or shuttle walk < 400 m, CPET required"
    return _cpet(g, vo2, vo2_pct, why) or LungRiskAssessment(g, "undetermined", "cpet", why)


def ers_ests2009_risk(
    fev1_percent: float,
    dlco_percent: float,
    *,
    ppo_fev1: float | None = None,
    ppo_dlco: float | None = None,
    vo2max_ml_kg_min: float | None = None,
    vo2max_percent: float | None = None,
) -> LungRiskAssessment:
    """Physiological risk category of lung resection, ERS/ESTS 2009 variant.

    Preoperative FEV1 and DLCO both > 80 % -> proceed (low risk). Otherwise CPET:
    VO2max > 20 mL/kg/min or > 75 % -> low risk; < 10 mL/kg/min or < 35 % -> high risk;
    in between, the ppo values decide: ppoFEV1 or ppoDLCO < 30 % -> high risk, else
    moderate (resection up to the calculated extent). Stair climbing (12 m before a
    lobectomy, 22 m before a pneumonectomy) and a shuttle walk > 400 m are screening
    tests in this guideline and are not used here.

    Parameters
    ----------
    fev1_percent, dlco_percent : float
        Preoperative FEV1 and DLCO, % predicted.
    ppo_fev1, ppo_dlco : float, optional
        Predicted postoperative values (needed when VO2max is 10-20 mL/kg/min).
    vo2max_ml_kg_min, vo2max_percent : float, optional
        Peak oxygen consumption from CPET.

    Returns
    -------
    LungRiskAssessment

    Raises
    ------
    PulmonaryInputError
        A negative or non-numeric value.

    Examples
    --------
    >>> ers_ests2009_risk(85, 90).category
    'low'
    >>> ers_ests2009_risk(70, 90).next_step
    'cpet'
    >>> ers_ests2009_risk(70, 90, vo2max_ml_kg_min=15, ppo_fev1=25, ppo_dlco=60).category
    'high'
    """
    g = "ERS/ESTS 2009"
    fev1 = _opt("fev1_percent", fev1_percent)
    dlco = _opt("dlco_percent", dlco_percent)
    if fev1 is None or dlco is None:
        raise PulmonaryInputError("ERS/ESTS 2009 needs both fev1_percent and dlco_percent")
    pf = _opt("ppo_fev1", ppo_fev1)
    pd_ = _opt("ppo_dlco", ppo_dlco)
    vo2 = _opt("vo2max_ml_kg_min", vo2max_ml_kg_min)
    vo2_pct = _opt("vo2max_percent", vo2max_percent)
    vals = f"FEV1 {_pct(fev1)} %, DLCO {_pct(dlco)} %"
    if fev1 > 80 and dlco > 80:
        return LungRiskAssessment(g, "low", "proceed", f"{vals}: both above 80 %")
    why = f"{vals}: not both above 80 %, CPET required"
    res = _cpet(g, vo2, vo2_pct, why)
    if res is None:
        return LungRiskAssessment(g, "undetermined", "cpet", why)
    if res.category != "moderate":
        return res
    why = res.reason + "; ppoFEV1 and ppoDLCO decide"
    if pf is None or pd_ is None:
        return LungRiskAssessment(g, "undetermined", "ppo_values", why)
    if pf < 30 or pd_ < 30:
        return LungRiskAssessment(
            g, "high", "counsel_alternatives", f"{why}: ppoFEV1 or ppoDLCO below 30 %"
        )
    return LungRiskAssessment(
        g, "moderate", "discuss_risks", f"{why}: both at least 30 %, resection up to that extent"
    )


def operative_mortality_ppo(ppo_fev1: Any) -> Any:
    """Operative mortality of lung resection as a function of ppoFEV1 (steep logistic, D).

    ``expit(PPO_MORTALITY_INTERCEPT + PPO_MORTALITY_SLOPE x ppoFEV1)``: the fit through
    the dossier's anchors (see the module docstring). Historical, small series (Markos
    1989, Nakahara 1988; M-mod): use it for the *shape* of the risk and as a scenario,
    not as a precise estimate. Above 60 % it falls below 1 %; a model that has its own
    baseline mortality for a procedure can use the odds ratio relative to 60 %.

    Parameters
    ----------
    ppo_fev1 : float or array-like
        Predicted postoperative FEV1, % predicted (>= 0).

    Returns
    -------
    float or numpy.ndarray
        Probability of operative death.

    Raises
    ------
    PulmonaryInputError
        A negative or non-finite value.

    Examples
    --------
    >>> [round(operative_mortality_ppo(x), 3) for x in (60, 40, 30, 20)]
    [0.009, 0.067, 0.172, 0.372]
    """
    if isinstance(ppo_fev1, bool | np.bool_ | str):
        raise PulmonaryInputError(f"ppo_fev1 must be a number, got {ppo_fev1!r}")
    try:
        x = np.asarray(ppo_fev1, dtype=float)
    except (TypeError, ValueError):
        raise PulmonaryInputError(f"ppo_fev1 must be a number, got {ppo_fev1!r}") from None
    if not (np.all(np.isfinite(x)) and np.all(x >= 0)):
        raise PulmonaryInputError(f"ppo_fev1 must be finite and >= 0, got {ppo_fev1!r}")
    return _as_output(special.expit(PPO_MORTALITY_INTERCEPT + PPO_MORTALITY_SLOPE * x))
