"""Fong clinical risk score (decisionmodel.clinical.fong).

References: Fong Y, Fortner J, Sun RL, Brennan MF, Blumgart LH. Ann Surg 1999;230:309-21
(criteria and score strata; the strata are recalled, M-mod); the evidence file
priors/crlm_survival.yaml, which holds the same strata independently; Creasy JM et al.
Surgery 2018;163:1238-44 (low 0-2 / high 3-5 grouping).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from decisionmodel.clinical import fong
from decisionmodel.clinical.fong import (
    FONG_STRATA,
    ClinicalInputError,
    FongScore,
    fong_criteria,
    fong_risk_group,
    fong_score,
    fong_stratum,
    score_from_criteria,
)
from decisionmodel.evidence import load_evidence, models_survival
from decisionmodel.exceptions import DecisionModelError

PRIORS = Path(__file__).resolve().parents[2] / "priors"
NONE_MET = dict(node_positive=False, dfi_months=24.0, n_tumours=1, cea_ng_ml=5.0, largest_cm=2.0)


def test_criterion_names_are_the_survival_model_covariates():
    assert fong.FONG_CRITERIA is models_survival.FONG_CRITERIA
    assert fong.FONG_CRITERIA == (
        "node_positive",
        "dfi_lt_12m",
        "multiple_tumours",
        "cea_gt_200",
        "size_gt_5cm",
    )


@pytest.mark.parametrize(
    ("field", "at_boundary", "beyond", "criterion"),
    [
        ("dfi_months", 12.0, 11.999, "dfi_lt_12m"),  # strictly less than 12 months
        ("n_tumours", 1, 2, "multiple_tumours"),  # more than one tumour
        ("cea_ng_ml", 200.0, 200.001, "cea_gt_200"),  # strictly greater than 200 ng/mL
        ("largest_cm", 5.0, 5.001, "size_gt_5cm"),  # strictly greater than 5 cm
    ],
)
def test_boundaries_as_published(field, at_boundary, beyond, criterion):
    assert fong_criteria(**{**NONE_MET, field: at_boundary}) == ()
    assert fong_criteria(**{**NONE_MET, field: beyond}) == (criterion,)


def test_node_positive_and_all_five():
    assert fong_score(**{**NONE_MET, "node_positive": True}) == FongScore(1, ("node_positive",))
    s = fong_score(node_positive=True, dfi_months=0, n_tumours=7, cea_ng_ml=1000, largest_cm=9)
    assert s.score == 5
    assert s.criteria == fong.FONG_CRITERIA
    assert s.risk_group == "high"


def _naive_score(node_positive, dfi_months, n_tumours, cea_ng_ml, largest_cm):
    points = 0
    if node_positive:
        points += 1
    if dfi_months < 12:
        points += 1
    if n_tumours >= 2:
        points += 1
    if cea_ng_ml > 200:
        points += 1
    if largest_cm > 5:
        points += 1
    return points


raw_values = st.fixed_dictionaries(
    {
        "node_positive": st.booleans(),
        "dfi_months": st.sampled_from([0.0, 11.99, 12.0, 12.01])
        | st.floats(0, 240, allow_nan=False),
        "n_tumours": st.integers(1, 30),
        "cea_ng_ml": st.sampled_from([200.0, 200.01]) | st.floats(0, 5000, allow_nan=False),
        "largest_cm": st.sampled_from([5.0, 5.01]) | st.floats(0.1, 30, allow_nan=False),
    }
)


@given(raw_values)
def test_score_matches_naive_count(raw):
    s = fong_score(**raw)
    assert s.score == _naive_score(**raw)
    assert s.score == len(s.criteria)
    # criteria in the canonical order, and the name list gives the same score back
    assert list(s.criteria) == [c for c in fong.FONG_CRITERIA if c in s.criteria]
    assert score_from_criteria(reversed(s.criteria)) == s
    assert s.risk_group == ("low" if s.score <= 2 else "high")


def test_risk_groups():
    assert [fong_risk_group(k) for k in range(6)] == ["low"] * 3 + ["high"] * 3
    assert [s.risk_group for s in FONG_STRATA] == ["low"] * 3 + ["high"] * 3


@pytest.mark.parametrize("bad", [-1, 6, 2.0, True, "3", None])
def test_invalid_scores_rejected(bad):
    with pytest.raises(ClinicalInputError, match="Fong score"):
        fong_risk_group(bad)
    with pytest.raises(ClinicalInputError, match="Fong score"):
        fong_stratum(bad)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("node_positive", "yes"),
        ("node_positive", 1),
        ("dfi_months", -0.5),
        ("dfi_months", float("nan")),
        ("n_tumours", 0),
        ("n_tumours", 2.5),
        ("n_tumours", True),
        ("cea_ng_ml", -1.0),
        ("cea_ng_ml", float("inf")),
        ("largest_cm", 0.0),
        ("largest_cm", "6"),
    ],
)
def test_invalid_raw_values_name_the_input(field, value):
    with pytest.raises(ClinicalInputError, match=field) as info:
        fong_score(**{**NONE_MET, field: value})
    assert isinstance(info.value, DecisionModelError)
    assert isinstance(info.value, ValueError)


def test_score_from_criteria_rejects_bad_names():
    with pytest.raises(ClinicalInputError, match="unknown Fong criterion cea_high"):
        score_from_criteria(["cea_high"])
    with pytest.raises(ClinicalInputError, match="repeated"):
        score_from_criteria(["node_positive", "node_positive"])
    with pytest.raises(ClinicalInputError, match="collection"):
        score_from_criteria("node_positive")
    assert score_from_criteria([]) == FongScore(0, ())


def test_strata_match_the_evidence_file():
    """The strata data equal the independent entries of priors/crlm_survival.yaml."""
    ev = load_evidence(PRIORS / "crlm_survival.yaml")
    for s in FONG_STRATA:
        os5 = ev[f"fong1999_crs{s.score}_os_5y"]
        med = ev[f"fong1999_crs{s.score}_median_os"]
        assert s.n == os5["n"] == med["n"]
        assert s.os_5y == pytest.approx(os5["value"])
        assert s.median_os_months == pytest.approx(med["value"])
        assert med["unit"] == "months"
        assert s.confidence == os5["confidence"] == "M-mod"
        assert s.verified is False and os5["verified"] is False


def test_strata_sum_to_the_cohort_and_intervals_follow_the_dossier_method():
    # Fong et al., Ann Surg 1999 (dossier section 1): stratum n sum to 1001 (supports the recall)
    assert sum(s.n for s in FONG_STRATA) == 1001
    for s in FONG_STRATA:
        # dossier: Beta(n_eff p, n_eff (1 - p)) with n_eff = n / 2 gives the 95 % interval
        a, b = s.os_5y * s.n / 2, (1 - s.os_5y) * s.n / 2
        lo, hi = stats.beta.ppf([0.025, 0.975], a, b)
        assert s.os_5y_ci[0] == pytest.approx(lo, abs=0.015)
        assert s.os_5y_ci[1] == pytest.approx(hi, abs=0.015)


def test_pooled_groups_are_ordered_although_strata_are_not():
    # score 3 (20 %) < score 4 (25 %): the reason for the 0-2 / 3-5 pooling
    assert fong_stratum(3).os_5y < fong_stratum(4).os_5y

    def pooled(group):
        rows = [s for s in FONG_STRATA if s.risk_group == group]
        return sum(s.n * s.os_5y for s in rows) / sum(s.n for s in rows)

    assert pooled("low") == pytest.approx((52 * 0.60 + 262 * 0.44 + 350 * 0.40) / 664)
    assert pooled("high") == pytest.approx((243 * 0.20 + 80 * 0.25 + 14 * 0.14) / 337)
    assert pooled("low") > 2 * pooled("high")
