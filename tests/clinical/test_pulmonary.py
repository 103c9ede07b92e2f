"""Predicted postoperative lung function and risk categories (decisionmodel.clinical.pulmonary).

References: Brunelli A, Kim AW, Berger KI, Addrizzo-Harris DJ. Chest 2013;143(5 Suppl):
e166S-e190S (ACCP 2013: anatomical segment method, 19 segments, thresholds); Brunelli A,
Charloux A, Bolliger CT, et al. Eur Respir J 2009;34:17-41 (ERS/ESTS 2009); the evidence
dossier's worked examples (section 5: FEV1 80 %, right lower lobectomy -> 58.9 %; wedge ->
75.8 %) and its mortality anchors (about 1 % at ppoFEV1 > 60 %, 5 % at 40 %, 15-50 % below
30 %). Sequential resections are checked against a segment-by-segment simulation written
here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisionmodel.clinical.fong import ClinicalInputError
from decisionmodel.clinical.pulmonary import (
    PPO_MORTALITY_ANCHORS,
    PPO_MORTALITY_INTERCEPT,
    PPO_MORTALITY_SLOPE,
    RESECTIONS,
    SEGMENTS,
    TOTAL_SEGMENTS,
    PulmonaryInputError,
    Resection,
    accp2013_risk,
    ers_ests2009_risk,
    operative_mortality_ppo,
    ppo,
    ppo_sequential,
    segments_resected,
)

# ------------------------------------------------------------------ anatomy and worked examples

#: segment names of each lobe in the 19-segment convention: right S1-S10; left upper
#: division S1, S2, S3 and lingula S4, S5; left lower S6, S7+8 (one), S9, S10
ANATOMY = {
    "right_upper": ["RS1", "RS2", "RS3"],
    "middle": ["RS4", "RS5"],
    "right_lower": ["RS6", "RS7", "RS8", "RS9", "RS10"],
    "left_upper": ["LS1", "LS2", "LS3", "LS4", "LS5"],
    "left_lower": ["LS6", "LS7+8", "LS9", "LS10"],
}
EXPECTED_REMOVED = {
    "wedge": 1,
    "right_upper": 3,
    "middle": 2,
    "right_lower": 5,
    "left_upper": 5,
    "left_lower": 4,
    "bilobectomy_upper_middle": 5,
    "bilobectomy_middle_lower": 7,
    "pneumonectomy_right": 10,
    "pneumonectomy_left": 9,
}


def test_segment_counts():
    assert {k: len(v) for k, v in ANATOMY.items()} == SEGMENTS
    assert TOTAL_SEGMENTS == 19
    assert segments_resected("pneumonectomy_right") + segments_resected("pneumonectomy_left") == 19
    for kind, n in EXPECTED_REMOVED.items():
        assert segments_resected(kind) == n, kind
    assert segments_resected(("segmentectomy", 3)) == 3
    assert segments_resected(("wedge", 2)) == 2
    assert set(RESECTIONS) == set(EXPECTED_REMOVED) | {"segmentectomy"}


def test_dossier_worked_examples():
    assert ppo(80, "right_lower") == pytest.approx(80 * (1 - 5 / 19))
    assert round(ppo(80, "right_lower"), 1) == 58.9
    assert ppo(80, "wedge") == pytest.approx(80 * 18 / 19)
    assert round(ppo(80, "wedge"), 1) == 75.8
    # a wedge removes about 1/19: ppoFEV1 ~ 0.95 x FEV1
    assert ppo(1.0, "wedge") == pytest.approx(0.95, abs=0.003)
    assert ppo(60, "pneumonectomy_left") == pytest.approx(60 * 10 / 19)


@pytest.mark.parametrize("kind", sorted(EXPECTED_REMOVED))
def test_formula_for_every_resection(kind):
    n = EXPECTED_REMOVED[kind]
    for preop in (35.0, 72.5, 110.0):
        assert ppo(preop, kind) == pytest.approx(preop * (1 - n / 19))


def test_obstructed_segments():
    # 2 of the 5 right-lower segments obstructed: a = 3, b = 17
    assert ppo(60, "right_lower", obstructed_in_resection=2) == pytest.approx(60 * (1 - 3 / 17))
    # obstruction in the remaining lung: a = 5, b = 16
    assert ppo(60, "right_lower", obstructed_elsewhere=3) == pytest.approx(60 * (1 - 5 / 16))
    # an entirely obstructed lobe: its removal costs nothing
    assert ppo(60, "middle", obstructed_in_resection=2) == pytest.approx(60.0)
    with pytest.raises(PulmonaryInputError, match="obstructed_in_resection"):
        ppo(60, "middle", obstructed_in_resection=3)
    with pytest.raises(PulmonaryInputError, match="obstructed_elsewhere"):
        ppo(60, "pneumonectomy_right", obstructed_elsewhere=10)
    with pytest.raises(PulmonaryInputError, match="obstructed_elsewhere"):
        ppo(60, "wedge", obstructed_elsewhere=-1)


def test_vectorised_over_preop_values():
    x = np.array([40.0, 60.0, 95.0])
    np.testing.assert_allclose(ppo(x, "left_lower"), x * 15 / 19)
    np.testing.assert_allclose(ppo_sequential(x, ["wedge", "middle"])[-1], x * 16 / 19)


# ------------------------------------------------------------------ sequential resections


def _simulate(sequence):
    """Remaining functional segment count after each resection, one segment at a time."""
    alive = {lobe: list(names) for lobe, names in ANATOMY.items()}
    anywhere = 0  # sublobar segments taken from an unnamed lobe not resected later
    out = []
    for step in sequence:
        if step.kind in ("wedge", "segmentectomy"):
            n = step.removed
            if step.lobe:
                for _ in range(n):
                    alive[step.lobe].pop()
            else:
                anywhere += n
        else:
            for lobe in RESECTIONS[step.kind]:
                alive[lobe].clear()
        out.append(sum(len(v) for v in alive.values()) - anywhere)
    return out


def test_sequential_wedges_apply_to_the_remaining_lung():
    # second wedge: 75.79 x (1 - 1/18) = 80 x 17/19
    first, second = ppo_sequential(80, ["wedge", "wedge"])
    assert first == pytest.approx(80 * 18 / 19)
    assert second == pytest.approx(first * (1 - 1 / 18))
    assert second == pytest.approx(80 * 17 / 19)


def test_wedge_then_lobectomy():
    # wedge elsewhere, then right lower lobectomy: 80 x 18/19 x (1 - 5/18)
    _, after = ppo_sequential(80, ["wedge", "right_lower"])
    assert after == pytest.approx(80 * 18 / 19 * (1 - 5 / 18))
    # a wedge in the lobe later removed is not counted twice: 80 x 14/19 = ppo(80, lobectomy)
    _, after = ppo_sequential(80, [Resection("wedge", lobe="right_lower"), "right_lower"])
    assert after == pytest.approx(ppo(80, "right_lower"))


steps = st.sampled_from(
    [
        Resection("wedge"),
        Resection("wedge", lobe="right_upper"),
        Resection("wedge", lobe="left_lower"),
        Resection("segmentectomy", 2, lobe="right_lower"),
        Resection("segmentectomy", 1),
        Resection("middle"),
        Resection("right_lower"),
        Resection("left_upper"),
    ]
)


@given(st.lists(steps, min_size=1, max_size=4))
def test_sequential_against_segment_simulation(sequence):
    try:
        expected = _simulate(sequence)
        ok = all(v > 0 for v in expected)
    except IndexError:  # more segments than a lobe has
        ok = False
    lobes_removed = [lobe for s in sequence for lobe in RESECTIONS[s.kind]]
    ok = ok and len(lobes_removed) == len(set(lobes_removed))
    if not ok:
        with pytest.raises(PulmonaryInputError):
            ppo_sequential(70, sequence)
        return
    got = ppo_sequential(70, sequence)
    np.testing.assert_allclose(got, [70 * v / 19 for v in expected])


def test_sequential_errors():
    with pytest.raises(PulmonaryInputError, match="already resected"):
        ppo_sequential(80, ["right_lower", "right_lower"])
    with pytest.raises(PulmonaryInputError, match="already resected"):
        ppo_sequential(80, ["middle", "bilobectomy_middle_lower"])
    with pytest.raises(PulmonaryInputError, match="leaves no lung"):
        ppo_sequential(80, ["pneumonectomy_left", "pneumonectomy_right"])
    with pytest.raises(PulmonaryInputError, match="has 0 left"):
        ppo_sequential(80, ["middle", Resection("wedge", lobe="middle")])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("lobectomy",), "unknown resection"),
        (("segmentectomy",), "number of segments"),
        (("segmentectomy", 0), "positive integer"),
        (("segmentectomy", 6), "at most 5"),
        (("right_lower", 2), "anatomical resection"),
    ],
)
def test_invalid_resections(args, match):
    with pytest.raises(PulmonaryInputError, match=match):
        Resection(*args)


def test_invalid_lobe_and_values():
    with pytest.raises(PulmonaryInputError, match="unknown lobe"):
        Resection("wedge", lobe="lingula")
    with pytest.raises(PulmonaryInputError, match="at most 2"):
        Resection("segmentectomy", 3, lobe="middle")
    for bad in (0, -10, float("nan"), True, "80"):
        with pytest.raises(PulmonaryInputError, match="preop_percent"):
            ppo(bad, "wedge")
    with pytest.raises(PulmonaryInputError, match="a resection is"):
        ppo(80, 5)
    assert issubclass(PulmonaryInputError, ClinicalInputError)


# ------------------------------------------------------------------ ACCP 2013 and ERS/ESTS 2009


@pytest.mark.parametrize(
    ("fev1", "dlco", "kw", "category", "next_step"),
    [
        (60.1, 60.1, {}, "low", "proceed"),  # both > 60 %
        (60.0, 80.0, {}, "undetermined", "low_technology_exercise_test"),  # 60 is not > 60
        (80.0, 30.0, {}, "undetermined", "low_technology_exercise_test"),  # 30 is in 30-60
        (29.9, 80.0, {}, "undetermined", "cpet"),  # either < 30 %
        (45.0, 45.0, {"stair_climb_m": 22}, "low", "proceed"),
        (45.0, 45.0, {"stair_climb_m": 21.9}, "undetermined", "cpet"),
        (45.0, 45.0, {"shuttle_walk_m": 400}, "low", "proceed"),
        (45.0, 45.0, {"shuttle_walk_m": 399}, "undetermined", "cpet"),
        (45.0, 45.0, {"stair_climb_m": 10, "shuttle_walk_m": 450}, "low", "proceed"),
        (45.0, 45.0, {"stair_climb_m": 10, "vo2max_ml_kg_min": 21}, "low", "proceed"),
        (25.0, 70.0, {"vo2max_ml_kg_min": 9.9}, "high", "counsel_alternatives"),
        (25.0, 70.0, {"vo2max_ml_kg_min": 10.0}, "moderate", "discuss_risks"),
        (25.0, 70.0, {"vo2max_ml_kg_min": 20.0}, "moderate", "discuss_risks"),
        (25.0, 70.0, {"vo2max_ml_kg_min": 20.1}, "low", "proceed"),
        (25.0, 70.0, {"vo2max_percent": 34.9}, "high", "counsel_alternatives"),
        (25.0, 70.0, {"vo2max_percent": 35.0}, "moderate", "discuss_risks"),
        (25.0, 70.0, {"vo2max_percent": 75.0}, "moderate", "discuss_risks"),
        (25.0, 70.0, {"vo2max_percent": 75.1}, "low", "proceed"),
        (25.0, 70.0, {"vo2max_ml_kg_min": 9.0, "vo2max_percent": 80.0}, "high", None),
        (25.0, 70.0, {"stair_climb_m": 30}, "undetermined", "cpet"),  # < 30 %: CPET directly
    ],
)
def test_accp2013_thresholds(fev1, dlco, kw, category, next_step):
    r = accp2013_risk(fev1, dlco, **kw)
    assert r.guideline == "ACCP 2013"
    assert r.category == category
    if next_step is not None:
        assert r.next_step == next_step


def test_accp_worked_example():
    # FEV1 80 %, DLCO 85 %, right lower lobectomy -> ppoFEV1 58.9 %: exercise test needed
    r = accp2013_risk(ppo(80, "right_lower"), ppo(85, "right_lower"))
    assert (r.category, r.next_step) == ("undetermined", "low_technology_exercise_test")
    assert "58.9" in r.reason
    # the same patient, a wedge: both ppo > 60 %
    assert accp2013_risk(ppo(80, "wedge"), ppo(85, "wedge")).category == "low"


@pytest.mark.parametrize(
    ("args", "kw", "category", "next_step"),
    [
        ((80.1, 80.1), {}, "low", "proceed"),
        ((80.0, 95.0), {}, "undetermined", "cpet"),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 20.5}, "low", "proceed"),
        ((70.0, 70.0), {"vo2max_percent": 76}, "low", "proceed"),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 9.5}, "high", "counsel_alternatives"),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 15}, "undetermined", "ppo_values"),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 15, "ppo_fev1": 29.9, "ppo_dlco": 50}, "high", None),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 15, "ppo_fev1": 50, "ppo_dlco": 29}, "high", None),
        ((70.0, 70.0), {"vo2max_ml_kg_min": 15, "ppo_fev1": 30, "ppo_dlco": 30}, "moderate", None),
    ],
)
def test_ers_ests2009_thresholds(args, kw, category, next_step):
    r = ers_ests2009_risk(*args, **kw)
    assert r.guideline == "ERS/ESTS 2009"
    assert r.category == category
    if next_step is not None:
        assert r.next_step == next_step


def test_risk_input_errors():
    with pytest.raises(PulmonaryInputError, match="ppo_fev1"):
        accp2013_risk(-1, 50)
    with pytest.raises(PulmonaryInputError, match="stair_climb_m"):
        accp2013_risk(50, 50, stair_climb_m="high")
    with pytest.raises(PulmonaryInputError, match="both"):
        accp2013_risk(None, 50)
    with pytest.raises(PulmonaryInputError, match="vo2max_percent"):
        ers_ests2009_risk(70, 70, vo2max_percent=True)


# ------------------------------------------------------------------ operative mortality


def test_mortality_fit_is_least_squares_on_the_logit_scale():
    x = np.array([a for a, _ in PPO_MORTALITY_ANCHORS])
    p = np.array([b for _, b in PPO_MORTALITY_ANCHORS])
    y = np.log(p / (1 - p))
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    intercept = y.mean() - slope * x.mean()
    assert PPO_MORTALITY_SLOPE == pytest.approx(slope)
    assert PPO_MORTALITY_INTERCEPT == pytest.approx(intercept)
    # third anchor: the logit midpoint of 15-50 % (sqrt of the odds product)
    odds = np.sqrt(0.15 / 0.85 * 1.0)
    assert PPO_MORTALITY_ANCHORS[2] == (25.0, pytest.approx(odds / (1 + odds)))


def test_mortality_reproduces_the_dossier_anchors():
    assert 0.005 <= operative_mortality_ppo(60) <= 0.015  # ~1 % at 60 %
    assert operative_mortality_ppo(75) < 0.01  # below 1 % above 60 %
    assert 0.03 <= operative_mortality_ppo(40) <= 0.08  # ~5 % at 40 %
    below30 = operative_mortality_ppo(np.linspace(15.5, 29.9, 50))
    assert np.all((below30 >= 0.15) & (below30 <= 0.50))  # 15-50 % below 30 %
    grid = operative_mortality_ppo(np.linspace(0, 120, 121))
    assert np.all(np.diff(grid) < 0)
    with pytest.raises(PulmonaryInputError, match="ppo_fev1"):
        operative_mortality_ppo(-5)
