"""Candidacy for curative-intent metastasectomy (decisionmodel.clinical.candidacy).

The four principles (R0 achievable; complete staging; primary controlled; physiologically
fit: ECOG 0-1 and, for lung resection, the ACCP 2013 category of Brunelli A et al. Chest
2013;143:e166S-e190S) plus no peritoneal (M1c) disease for hepatectomy or lung resection
alone. A naive rule written here is compared with the function on every combination of the
stated/unstated principles (hypothesis).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisionmodel.clinical.candidacy import (
    Candidacy,
    CandidacyInputError,
    assess_candidacy,
)
from decisionmodel.clinical.profile import PatientProfile
from decisionmodel.clinical.pulmonary import Resection, ppo

FIT = PatientProfile(
    r0_achievable=True,
    staging_complete=True,
    primary_controlled=True,
    ecog=0,
    sites=("liver",),
)


def test_fit_patient_is_eligible():
    c = assess_candidacy(FIT)
    assert c == Candidacy(True, (), ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.eligible = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"r0_achievable": False}, "complete (R0) resection"),
        ({"staging_complete": False}, "PET-CT"),
        ({"primary_controlled": False}, "primary tumour is not controlled"),
        ({"ecog": 2}, "ECOG 2"),
        ({"ecog": 4}, "ECOG 0-1"),
    ],
)
def test_each_failed_principle_gives_one_reason(change, words):
    c = assess_candidacy(dataclasses.replace(FIT, **change))
    assert not c.eligible
    assert len(c.reasons) == 1
    assert words in c.reasons[0]
    assert c.unknown == ()


def test_ecog_boundary():
    assert assess_candidacy(dataclasses.replace(FIT, ecog=1)).eligible
    assert not assess_candidacy(dataclasses.replace(FIT, ecog=2)).eligible


def test_unstated_principles_are_met_but_reported():
    c = assess_candidacy(PatientProfile())
    assert c.eligible and c.reasons == ()
    text = " | ".join(c.unknown)
    for words in ("R0", "staging", "primary", "ECOG", "extent of metastatic disease"):
        assert words in text
    assert len(c.unknown) == 5


def test_peritoneal_disease_and_hepatectomy():
    p = dataclasses.replace(FIT, sites=("liver", "peritoneum"))
    c = assess_candidacy(p)
    assert not c.eligible
    (reason,) = c.reasons
    assert "M1c" in reason and "hepatectomy alone" in reason
    assert "not by themselves a contraindication to cytoreductive surgery" in reason
    # the same patient is not excluded from CRS by the peritoneal disease
    assert assess_candidacy(p, "crs").eligible
    # M1c stated without sites: the same
    q = dataclasses.replace(FIT, sites=None, m1="M1c")
    assert not assess_candidacy(q).eligible
    assert "M1c" in assess_candidacy(q).reasons[0]


def test_extrahepatic_disease_needs_its_resectability():
    p = dataclasses.replace(FIT, sites=("liver", "lung"), r0_achievable=None)
    c = assess_candidacy(p)
    assert c.eligible
    assert any("outside the liver (lung)" in u for u in c.unknown)
    # resectable extrahepatic disease (R0 of all sites achievable): a candidate
    assert assess_candidacy(dataclasses.replace(p, r0_achievable=True)).eligible
    # unresectable: fails on R0
    c = assess_candidacy(dataclasses.replace(p, r0_achievable=False))
    assert not c.eligible and "R0" in c.reasons[0]
    c = assess_candidacy(dataclasses.replace(FIT, sites=None, m1="M1b", r0_achievable=None))
    assert any("M1b" in u for u in c.unknown)


def test_procedure_must_treat_a_stated_site():
    c = assess_candidacy(dataclasses.replace(FIT, sites=("lung",)), "hepatectomy")
    assert not c.eligible and "no metastases in the liver" in c.reasons[0]
    c = assess_candidacy(FIT, "crs")
    assert not c.eligible and "peritoneum" in c.reasons[0]


LUNG = dataclasses.replace(FIT, sites=("lung",), fev1_percent=80.0, dlco_percent=85.0)


def test_lung_fitness_by_accp2013():
    # wedge: ppo 75.8 % and 80.5 %: low risk
    assert assess_candidacy(LUNG, "lung", lung_resection="wedge") == Candidacy(True, (), ())
    # right lower lobectomy: ppoFEV1 58.9 %: an exercise test is pending
    c = assess_candidacy(LUNG, "lung", lung_resection="right_lower")
    assert c.eligible
    (u,) = c.unknown
    assert "58.9" in u and "stair climb" in u
    assert (
        assess_candidacy(LUNG, "lung", lung_resection="right_lower", stair_climb_m=25).unknown == ()
    )
    # pneumonectomy: ppoFEV1 37.9 %; failed stair climb, CPET VO2max 9 -> high risk
    c = assess_candidacy(
        LUNG, "lung", lung_resection="pneumonectomy_right", stair_climb_m=12, vo2max_ml_kg_min=9
    )
    assert not c.eligible
    assert "high physiological risk" in c.reasons[0] and "VO2max < 10" in c.reasons[0]
    # ppo < 30 %: CPET pending
    weak = dataclasses.replace(LUNG, fev1_percent=50.0)
    c = assess_candidacy(weak, "lung", lung_resection="pneumonectomy_right")
    assert ppo(50.0, "pneumonectomy_right") < 30
    assert c.eligible and "CPET" in c.unknown[0]
    # sequential context: a Resection object works too
    assert assess_candidacy(LUNG, "lung", lung_resection=Resection("segmentectomy", 2)).eligible


def test_lung_function_not_stated():
    c = assess_candidacy(
        dataclasses.replace(LUNG, dlco_percent=None), "lung", lung_resection="wedge"
    )
    assert c.eligible and "dlco_percent" in c.unknown[0]
    c = assess_candidacy(LUNG, "lung")
    assert c.eligible and "planned lung resection" in c.unknown[0]


def test_input_errors():
    with pytest.raises(CandidacyInputError, match="unknown procedure 'liver'"):
        assess_candidacy(FIT, "liver")  # type: ignore[arg-type]
    with pytest.raises(CandidacyInputError, match="lung_resection"):
        assess_candidacy(FIT, "hepatectomy", lung_resection="wedge")
    with pytest.raises(CandidacyInputError, match="unknown resection"):
        assess_candidacy(LUNG, "lung", lung_resection="lobectomy")


@given(
    r0=st.none() | st.booleans(),
    staging=st.none() | st.booleans(),
    primary=st.none() | st.booleans(),
    ecog=st.none() | st.integers(0, 5),
    sites=st.sampled_from([("liver",), ("liver", "peritoneum"), ("peritoneum",)]),
)
def test_against_naive_rule(r0, staging, primary, ecog, sites):
    p = PatientProfile(
        r0_achievable=r0,
        staging_complete=staging,
        primary_controlled=primary,
        ecog=ecog,
        sites=sites,
    )
    failed = [r0 is False, staging is False, primary is False, ecog is not None and ecog > 1]
    unknown = [r0 is None, staging is None, primary is None, ecog is None]
    peritoneal = "peritoneum" in sites
    has_liver = "liver" in sites
    c = assess_candidacy(p)
    expected_fail = sum(failed) + peritoneal + (not has_liver)
    assert len(c.reasons) == expected_fail
    assert c.eligible == (expected_fail == 0)
    assert len(c.unknown) == sum(unknown)
    crs = assess_candidacy(p, "crs")
    assert len(crs.reasons) == sum(failed) + (not peritoneal)
