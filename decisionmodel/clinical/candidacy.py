"""Candidacy for curative-intent metastasectomy.

A patient is a candidate for curative-intent resection of metastases when four principles
hold (the consensus behind the evidence dossier's default population, section 13.1: "a fit
patient with a controlled primary and liver-limited, technically resectable CRLM, staged by
CT chest/abdomen/pelvis +/- PET-CT +/- liver MRI"):

1. **R0 resection achievable**: all known disease can be removed with clear margins
   (``r0_achievable``);
2. **complete staging**: CT of chest, abdomen and pelvis, PET-CT, and brain MRI where
   indicated (``staging_complete``);
3. **primary controlled**: the primary tumour resected or resectable/controlled
   (``primary_controlled``);
4. **physiologically fit**: ECOG performance status 0-1 (``ecog``) and, for lung
   resection, an ACCP 2013 category from the predicted postoperative FEV1 and DLCO
   (Brunelli A et al. *Chest* 2013;143:e166S-e190S; :mod:`decisionmodel.clinical.pulmonary`)
   that is not high risk;

plus, for colorectal liver metastases, **oligometastatic disease without unresectable
extrahepatic disease**: disease beyond the organ to be resected is acceptable only when
it is resectable too (its R0 resection is part of principle 1). Peritoneal metastases
(AJCC M1c) are not a contraindication to cytoreductive surgery (CRS +/- HIPEC; procedure
``"crs"``), which treats them, but they are one to a curative hepatectomy or lung
resection *alone*, which would leave them behind.

:func:`assess_candidacy` returns :class:`Candidacy`: ``reasons`` explain each failed
principle in plain clinical words (for a guideline committee); ``unknown`` lists the
principles the profile did not state, which are treated as met but reported.

Examples
--------
>>> from decisionmodel.clinical.profile import PatientProfile
>>> c = assess_candidacy(PatientProfile(r0_achievable=True, staging_complete=True,
...     primary_controlled=True, ecog=1, sites=["liver"]))
>>> c.eligible, c.reasons, c.unknown
(True, (), ())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from decisionmodel.clinical.fong import ClinicalInputError
from decisionmodel.clinical.profile import PatientProfile
from decisionmodel.clinical.pulmonary import ResectionLike, accp2013_risk, ppo
from decisionmodel.clinical.staging import PERITONEAL_SITE, m1_category

__all__ = ["PROCEDURES", "Candidacy", "CandidacyInputError", "assess_candidacy"]

#: procedures and the metastatic site each one treats
PROCEDURES: dict[str, str] = {"hepatectomy": "liver", "lung": "lung", "crs": PERITONEAL_SITE}
_PROCEDURE_WORDS = {
    "hepatectomy": "hepatectomy",
    "lung": "lung metastasectomy",
    "crs": "cytoreductive surgery",
}


class CandidacyInputError(ClinicalInputError):
    """The procedure or the planned lung resection given to :func:`assess_candidacy` is invalid."""


@dataclass(frozen=True)
class Candidacy:
    """Whether a patient is a candidate for curative-intent metastasectomy.

    Attributes
    ----------
    eligible : bool
        No stated principle fails.
    reasons : tuple of str
        One plain-language sentence per failed principle.
    unknown : tuple of str
        One plain-language sentence per principle the profile did not state (treated as
        met).
    """

    eligible: bool
    reasons: tuple[str, ...]
    unknown: tuple[str, ...]


def assess_candidacy(
    profile: PatientProfile,
    procedure: Literal["hepatectomy", "lung", "crs"] = "hepatectomy",
    *,
    lung_resection: ResectionLike | None = None,
    stair_climb_m: float | None = None,
    shuttle_walk_m: float | None = None,
    vo2max_ml_kg_min: float | None = None,
    vo2max_percent: float | None = None,
) -> Candidacy:
    """Candidacy for curative-intent metastasectomy from a patient profile.

    Parameters
    ----------
    profile : PatientProfile
        Uses ``r0_achievable``, ``staging_complete``, ``primary_controlled``, ``ecog``,
        ``m1`` / ``sites`` and, for lung resection, ``fev1_percent`` and ``dlco_percent``.
    procedure : {"hepatectomy", "lung", "crs"}
        The curative-intent operation: hepatectomy for liver metastases (default), lung
        metastasectomy, or cytoreductive surgery (+/- HIPEC) for peritoneal metastases.
    lung_resection : Resection, str or (str, int), optional
        The planned lung resection (see :func:`decisionmodel.clinical.pulmonary.ppo`);
        required to assess lung function when ``procedure="lung"``.
    stair_climb_m, shuttle_walk_m, vo2max_ml_kg_min, vo2max_percent : float, optional
        Exercise-test results for the ACCP 2013 algorithm.

    Returns
    -------
    Candidacy

    Raises
    ------
    CandidacyInputError
        An unknown procedure, or a lung resection given for another procedure.

    Examples
    --------
    >>> c = assess_candidacy(PatientProfile(ecog=2, sites=["liver", "peritoneum"]))
    >>> c.eligible
    False
    >>> for r in c.reasons: print(r)
    performance status ECOG 2: curative-intent metastasectomy needs a fit patient (ECOG 0-1)
    peritoneal metastases (M1c): a hepatectomy alone would leave them behind, so it cannot be curative; they are not by themselves a contraindication to cytoreductive surgery (CRS +/- HIPEC), which is a separate decision
    >>> len(c.unknown)
    3
    """
    if procedure not in PROCEDURES:
        raise CandidacyInputError(
            f"unknown procedure {procedure!r} (allowed: {', '.join(PROCEDURES)})"
        )
    if lung_resection is not None and procedure != "lung":
        raise CandidacyInputError(
            f"lung_resection is only used with procedure='lung', not {procedure!r}"
        )
    p = profile
    op = _PROCEDURE_WORDS[procedure]
    reasons: list[str] = []
    unknown: list[str] = []

    # 1. R0 resection achievable
    if p.r0_achievable is None:
        unknown.append("whether a complete (R0) resection of all disease is achievable: not stated")
    elif not p.r0_achievable:
        reasons.append(
            "a complete (R0) resection of all known disease is not achievable: "
            "curative intent requires removing every metastasis with clear margins"
        )

    # 2. complete staging
    if p.staging_complete is None:
        unknown.append(
            "completeness of staging (CT chest/abdomen/pelvis, PET-CT, brain MRI where "
            "indicated): not stated"
        )
    elif not p.staging_complete:
        reasons.append(
            "staging is incomplete: CT of chest, abdomen and pelvis, PET-CT and, where "
            "indicated, brain MRI are needed to exclude further disease before "
            "curative-intent surgery"
        )

    # 3. primary controlled
    if p.primary_controlled is None:
        unknown.append("control of the primary tumour: not stated")
    elif not p.primary_controlled:
        reasons.append(
            "the primary tumour is not controlled: metastasectomy is curative only when "
            "the primary is resected or controlled"
        )

    # 4. physiological fitness
    if p.ecog is None:
        unknown.append("performance status (ECOG): not stated")
    elif p.ecog > 1:
        reasons.append(
            f"performance status ECOG {p.ecog}: curative-intent metastasectomy needs a fit "
            "patient (ECOG 0-1)"
        )
    if procedure == "lung":
        _lung_fitness(
            p,
            lung_resection,
            reasons,
            unknown,
            stair_climb_m=stair_climb_m,
            shuttle_walk_m=shuttle_walk_m,
            vo2max_ml_kg_min=vo2max_ml_kg_min,
            vo2max_percent=vo2max_percent,
        )

    # 5. extent of disease: peritoneal and extra-organ disease
    peritoneal = (p.sites is not None and PERITONEAL_SITE in p.sites) or p.m1 == "M1c"
    if peritoneal and procedure != "crs":
        reasons.append(
            f"peritoneal metastases (M1c): a {op} alone would leave them behind, so it "
            "cannot be curative; they are not by themselves a contraindication to "
            "cytoreductive surgery (CRS +/- HIPEC), which is a separate decision"
        )
    target = PROCEDURES[procedure]
    if p.sites is not None:
        others = [s for s in p.sites if s not in (target, PERITONEAL_SITE)]
        if others and p.r0_achievable is None:
            unknown.append(
                f"resectability of the disease outside the {_organ(target)} "
                f"({', '.join(others)}): not stated"
            )
    elif p.m1 in ("M1b", "M1c") and p.r0_achievable is None:
        unknown.append(
            f"{p.m1} disease beyond one organ: whether all sites are resectable is not stated"
        )
    elif p.m1 is None:
        unknown.append("extent of metastatic disease (sites or M1 category): not stated")
    if p.sites is not None and target not in p.sites:
        reasons.append(
            f"no metastases in the {_organ(target)} among the stated sites "
            f"({', '.join(p.sites)}; {m1_category(p.sites)}): a {op} would not treat them"
        )
    return Candidacy(not reasons, tuple(reasons), tuple(unknown))


def _organ(site: str) -> str:
    return {"liver": "liver", "lung": "lungs", PERITONEAL_SITE: "peritoneum"}[site]


def _lung_fitness(
    p: PatientProfile,
    resection: ResectionLike | None,
    reasons: list[str],
    unknown: list[str],
    **tests: float | None,
) -> None:
    if p.fev1_percent is None or p.dlco_percent is None:
        missing = [k for k in ("fev1_percent", "dlco_percent") if getattr(p, k) is None]
        unknown.append(
            f"lung function for the planned resection ({', '.join(missing)}): not stated"
        )
        return
    if resection is None:
        unknown.append(
            "lung function: the planned lung resection is not given, so ppoFEV1 "
            "and ppoDLCO cannot be computed"
        )
        return
    try:
        ppo_fev1 = ppo(p.fev1_percent, resection)
        ppo_dlco = ppo(p.dlco_percent, resection)
    except ClinicalInputError as e:
        raise CandidacyInputError(f"lung_resection: {e}") from None
    risk = accp2013_risk(ppo_fev1, ppo_dlco, **tests)
    if risk.category == "high":
        reasons.append(
            f"high physiological risk of lung resection (ACCP 2013): {risk.reason}; "
            "consider a smaller resection or non-operative treatment"
        )
    elif risk.category == "undetermined":
        test = {
            "low_technology_exercise_test": "a low-technology exercise test (stair climb "
            ">= 22 m or shuttle walk >= 400 m)",
            "cpet": "cardiopulmonary exercise testing (CPET)",
        }[risk.next_step]
        unknown.append(
            f"fitness for lung resection not yet established: {test} is pending "
            f"(ACCP 2013; {risk.reason})"
        )
