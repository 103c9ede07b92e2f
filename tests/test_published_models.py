"""Published models reproduced as tree files, tested against their published numbers.

* ``trees/examples/sumatriptan.yaml``: the migraine decision tree of Evans et al. 1997
  (Briggs, Claxton & Sculpher 2006, Box 2.3).
* ``trees/examples/hiv_chancellor.yaml``: the HIV Markov model of Chancellor et al. 1997
  (Briggs, Claxton & Sculpher 2006, Exercise 2.5), held by a decision node whose two
  terminals bind the arm-specific inputs with ``markov: {with: ...}``.

The published figures were checked against the rdecision R package (A. J. Sims), which
replicates both models in ``tests/testthat/test-model-Sumatriptan.R`` and
``tests/testthat/test-model-AZT.R`` and in its vignettes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import decisionmodel as dm
from decisionmodel.cli import main
from decisionmodel.params import as_arrays
from decisionmodel.tree.markov import transition_matrix

EXAMPLES = Path(__file__).resolve().parents[1] / "trees" / "examples"
SUMATRIPTAN = EXAMPLES / "sumatriptan.yaml"
HIV = EXAMPLES / "hiv_chancellor.yaml"

SUMA, CAFF = "Sumatriptan", "Caffeine-ergotamine"
MONO, COMBO = "Zidovudine monotherapy", "Zidovudine + lamivudine"


@pytest.fixture(scope="module")
def sumatriptan():
    return dm.load_tree(SUMATRIPTAN)


@pytest.fixture(scope="module")
def hiv():
    return dm.load_tree(HIV)


def _expected(out, strategy: str, var: str) -> float:
    return float(out[var].sel(strategy=strategy).mean("sample"))


def _icer(out, new: str, old: str) -> float:
    dc = _expected(out, new, "cost") - _expected(out, old, "cost")
    de = _expected(out, new, "effect") - _expected(out, old, "effect")
    return dc / de


# --------------------------------------------------------------------------- sumatriptan


def test_sumatriptan_paths_match_briggs_box_2_3(sumatriptan):
    """Path probabilities and total path costs of the ten pathways A-J.

    Evans KW, Boan JA, Evans JL, Shuaib A. PharmacoEconomics 1997;12:565-77, as set out in
    Briggs, Claxton & Sculpher 2006, Box 2.3, and tabulated by the rdecision vignette
    "Elementary decision tree (Evans 1997)" (path probabilities to 4 dp: A 0.3315, B 0.2265,
    C 0.4066, D 0.0353, E 0.0001, F 0.2664, G 0.1126, H 0.5713, I 0.0496, J 0.0001).
    """
    out = dm.evaluate(sumatriptan, dm.mean_parameters(sumatriptan), paths=True)
    prob = out["path_probability"].isel(sample=0).values
    cost = out["path_cost"].isel(sample=0).values
    assert len(prob) == 10
    # order: the file's preorder, i.e. Briggs paths A..E (sumatriptan), F..J (caffeine)
    published_p = [0.3315, 0.2265, 0.4066, 0.0353, 0.0001, 0.2664, 0.1126, 0.5713, 0.0496, 0.0001]
    np.testing.assert_allclose(prob, published_p, atol=5e-5)
    # path totals: drug dose(s) + emergency room 63.16 + admission 1093.00 where incurred
    published_c = [16.10, 32.20, 16.10, 79.26, 1172.26, 1.32, 2.64, 1.32, 64.48, 1157.48]
    np.testing.assert_allclose(cost, published_c, atol=1e-9)
    # each strategy's path probabilities sum to 1
    reaches = out["reaches"].values
    np.testing.assert_allclose(reaches @ prob, [1.0, 1.0], atol=1e-12)


def test_sumatriptan_expected_costs_match_evans(sumatriptan):
    """Expected cost per attack at the base case (``mean_parameters``).

    Published (Evans et al. 1997; Briggs et al. 2006 Box 2.3): $Can 22.06 for sumatriptan
    and 4.73 for caffeine/ergotamine. Sumatriptan is reproduced to the cent (22.0581).
    Caffeine/ergotamine comes out 4.7150, i.e. 4.71: the published inputs cannot give 4.73
    (the rdecision replication also obtains 4.71 and tests it with a tolerance of 0.02), so
    the discrepancy of 0.02 is in the published figure, not in the model; it is asserted
    here as 4.71 to the cent and as within 0.02 of the published 4.73.
    """
    out = dm.evaluate(sumatriptan, dm.mean_parameters(sumatriptan))
    cost_s = _expected(out, SUMA, "cost")
    cost_c = _expected(out, CAFF, "cost")
    assert round(cost_s, 2) == 22.06
    assert cost_s == pytest.approx(22.05805736, abs=1e-8)
    assert round(cost_c, 2) == 4.71
    assert cost_c == pytest.approx(4.71497244, abs=1e-8)
    assert abs(cost_c - 4.73) <= 0.02


def test_sumatriptan_deterministic_equals_mean_parameters(sumatriptan):
    """The fixed ``value:`` parameters make a single draw the deterministic analysis of the
    paper (Evans 1997): it equals the evaluation at ``mean_parameters`` exactly."""
    det = dm.evaluate(sumatriptan, dm.sample_parameters(sumatriptan, 1, np.random.default_rng(0)))
    mean = dm.evaluate(sumatriptan, dm.mean_parameters(sumatriptan))
    for var in ("cost", "effect"):
        np.testing.assert_array_equal(det[var].values, mean[var].values)
    assert round(float(det["cost"].sel(strategy=SUMA)[0]), 2) == 22.06
    assert round(float(det["cost"].sel(strategy=CAFF)[0]), 2) == 4.71


def test_sumatriptan_utilities_and_icer_match_evans(sumatriptan):
    """Expected utility per attack and the ICER.

    rdecision vignette (replicating Evans 1997 / Briggs Box 2.3): expected utility 0.4169
    (sumatriptan) and 0.2013 (caffeine/ergotamine) per attack; one attack lasts one day, so
    QALYs = utility / 365. Published ICER (Evans et al. 1997): 29,366 $Can per QALY.

    This file gives 29,363.0. The test tolerance is 5% (as in rdecision's own test of the
    same model) because the published inputs are rounded (probabilities to 3 dp, costs to
    the cent), the published caffeine/ergotamine cost (4.73) is not reproducible from them
    (4.71 here), and replications differ in the day-to-year conversion (1/365 here,
    1/365.25 in rdecision, which gives 29,383). The exact value is also pinned, computed
    independently below from the tree's closed form.
    """
    out = dm.evaluate(sumatriptan, dm.mean_parameters(sumatriptan))
    u_s = _expected(out, SUMA, "effect") * 365
    u_c = _expected(out, CAFF, "effect") * 365
    assert round(u_s, 4) == 0.4169
    assert round(u_c, 4) == 0.2013

    # closed form of the tree (Briggs Box 2.3), independent of the engine
    def arm(p_relief, p_no_rec, dose):
        cost = p_relief * (p_no_rec * dose + (1 - p_no_rec) * 2 * dose) + (1 - p_relief) * (
            0.92 * dose + 0.08 * (0.998 * (dose + 63.16) + 0.002 * (dose + 63.16 + 1093.0))
        )
        util = p_relief * (p_no_rec * 1.0 + (1 - p_no_rec) * 0.9) + (1 - p_relief) * (
            0.92 * -0.3 + 0.08 * (0.998 * 0.1 + 0.002 * -0.3)
        )
        return cost, util / 365

    c_s, q_s = arm(0.558, 0.594, 16.10)
    c_c, q_c = arm(0.379, 0.703, 1.32)
    reference = (c_s - c_c) / (q_s - q_c)

    icer = _icer(out, SUMA, CAFF)
    assert icer == pytest.approx(reference, rel=1e-12)
    assert icer == pytest.approx(29363.02, abs=0.01)
    assert abs(icer / 29366 - 1) < 0.05

    table = dm.icer_table(out)
    row = table.set_index("strategy").loc[SUMA]
    assert row["status"] == "frontier"
    assert row["icer"] == pytest.approx(icer, rel=1e-12)


def test_sumatriptan_psa_draws_are_identical(sumatriptan):
    """All parameters are fixed (Evans 1997 reported a deterministic analysis), so 1,000
    probabilistic draws must give one and the same cost and effect in every draw."""
    params = dm.sample_parameters(sumatriptan, 1000, np.random.default_rng(20261127))
    out = dm.evaluate(sumatriptan, params)
    assert out.sizes["sample"] == 1000
    base = dm.evaluate(sumatriptan, dm.mean_parameters(sumatriptan))
    for var in ("cost", "effect"):
        values = out[var].values
        np.testing.assert_array_equal(values, np.repeat(values[:, :1], 1000, axis=1))
        # the batch of 1,000 and the single base-case draw may differ in the last bit
        # (the policy x terminal matrix product sums in a shape-dependent order)
        np.testing.assert_allclose(values[:, 0], base[var].values[:, 0], rtol=1e-14, atol=0)
    ce = dm.ceac(out, [30000])
    assert float(ce.sel(strategy=SUMA).squeeze()) == 1.0


def test_sumatriptan_cli(capsys):
    """``decisionmodel validate`` finds every parameter sourced; ``run --json`` gives the
    ICER of Evans 1997 (29,366 $Can/QALY published; 29,363 here)."""
    assert main(["validate", str(SUMATRIPTAN)]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and "without a source" not in text
    assert main(["run", str(SUMATRIPTAN), "--samples", "20", "--wtp", "30000", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in result["policies"]}
    assert by_name[SUMA]["icer"] == pytest.approx(29363.02, abs=0.01)
    assert round(by_name[SUMA]["cost"], 2) == 22.06
    assert result["recommended"] == [SUMA]


# --------------------------------------------------------------------------- HIV (Chancellor)

COUNTS = np.array(
    [[1251, 350, 116, 17], [0, 731, 512, 15], [0, 0, 1312, 437], [0, 0, 0, 1]], dtype=float
)


def reference_hiv(
    rr: float = 0.509,
    c_lam: float = 2086.50,
    combo_years: int = 2,
    cycles: int = 20,
    rate: float = 0.06,
) -> dict[str, tuple[float, float]]:
    """Chancellor et al. 1997 / Briggs Ex 2.5 by plain numpy matrix powers.

    Occupancy after cycle t is m_0 P_c^k P_m^(t-k) with k = min(t, combo_years); life years
    and costs are counted at the end of each cycle t = 1..20, costs discounted by 1.06^-t.
    Returns {arm: (undiscounted life years, discounted cost)} per person.
    """
    p_mono = COUNTS / COUNTS.sum(axis=1, keepdims=True)
    p_combo = p_mono * rr
    np.fill_diagonal(p_combo, 0.0)
    np.fill_diagonal(p_combo, 1.0 - p_combo.sum(axis=1))
    alive = np.array([1.0, 1.0, 1.0, 0.0])
    state_cost = np.array(
        [1701 + 1055 + 2278, 1774 + 1278 + 2278, 6948 + 2059 + 2278, 0.0], dtype=float
    )
    m0 = np.array([1.0, 0.0, 0.0, 0.0])
    out = {}
    for arm, years, lam in (("mono", 0, 0.0), ("combo", combo_years, c_lam)):
        life_years = cost = 0.0
        for t in range(1, cycles + 1):
            k = min(t, years)
            m_t = m0 @ np.linalg.matrix_power(p_combo, k) @ np.linalg.matrix_power(p_mono, t - k)
            life_years += m_t @ alive
            annual = state_cost + (lam * alive if t <= years else 0.0)
            cost += (m_t @ annual) / (1.0 + rate) ** t
        out[arm] = (life_years, cost)
    return out


def _hiv_matrix(G, t: int, rr_arm: float) -> np.ndarray:
    ct = dm.compile_tree(G)
    env, _ = as_arrays(dm.mean_parameters(G))
    env.update(t=float(t), time=float(t - 1), cycle_length=1.0, rr_arm=rr_arm, c_lam_arm=0.0)
    return transition_matrix(ct.markov_models["hiv"], env, 1)[0]


def test_hiv_transition_matrices_match_briggs_table_2_2(hiv):
    """Annual transition matrices (Chancellor 1997 counts; Briggs 2006 Table 2.2, to 3 dp).

    Monotherapy: A 0.721 0.202 0.067 0.010; B 0.581 0.407 0.012; C 0.750 0.250.
    Combination (relative risk 0.509 on progression, cycles 1-2): A 0.858 0.103 0.034 0.005;
    B 0.787 0.207 0.006; C 0.873 0.127. From cycle 3 the combination arm uses the
    monotherapy matrix.
    """
    mono = [
        [0.721, 0.202, 0.067, 0.010],
        [0.0, 0.581, 0.407, 0.012],
        [0.0, 0.0, 0.750, 0.250],
        [0.0, 0.0, 0.0, 1.0],
    ]
    combo = [
        [0.858, 0.103, 0.034, 0.005],
        [0.0, 0.787, 0.207, 0.006],
        [0.0, 0.0, 0.873, 0.127],
        [0.0, 0.0, 0.0, 1.0],
    ]
    np.testing.assert_allclose(_hiv_matrix(hiv, 1, 1.0), mono, atol=5e-4)
    np.testing.assert_allclose(_hiv_matrix(hiv, 1, 0.509), combo, atol=5e-4)
    np.testing.assert_allclose(_hiv_matrix(hiv, 2, 0.509), combo, atol=5e-4)
    np.testing.assert_allclose(_hiv_matrix(hiv, 3, 0.509), _hiv_matrix(hiv, 3, 1.0), atol=0)
    # base-case probabilities are exactly the counts over the row totals
    np.testing.assert_allclose(
        _hiv_matrix(hiv, 3, 1.0), COUNTS / COUNTS.sum(axis=1, keepdims=True), rtol=1e-12
    )


def test_hiv_matches_numpy_reference(hiv):
    """The tree + Markov engine agree with an independent numpy matrix-power computation
    of Chancellor et al. 1997 (Briggs 2006 Exercise 2.5) to rounding error."""
    out = dm.evaluate(hiv, dm.mean_parameters(hiv))
    ref = reference_hiv()
    for name, arm in ((MONO, "mono"), (COMBO, "combo")):
        assert _expected(out, name, "effect") == pytest.approx(ref[arm][0], rel=1e-12)
        assert _expected(out, name, "cost") == pytest.approx(ref[arm][1], rel=1e-12)


def test_hiv_matches_chancellor_published(hiv):
    """Per-arm results and ICER at the base case.

    Published: Chancellor JV, Hill AM, Sabin CA, Simpson KN, Youle M. PharmacoEconomics
    1997;12:54-66, as worked in Briggs, Claxton & Sculpher 2006, Exercise 2.5 (solution
    spreadsheet; per-arm values also quoted in rdecision's test-model-AZT.R):
    monotherapy 7.991 life years (undiscounted) and £44,663 (costs discounted at 6%),
    combination 8.937 life years and £50,602, ICER £6,276 per life year gained.

    Obtained here: monotherapy 7.99121 LY and £44,663.45; combination 8.93739 LY and
    £50,601.65; ICER £6,275.96 (0.001% from the published figure; the test allows 1%).
    """
    out = dm.evaluate(hiv, dm.mean_parameters(hiv))
    ly_mono, cost_mono = _expected(out, MONO, "effect"), _expected(out, MONO, "cost")
    ly_combo, cost_combo = _expected(out, COMBO, "effect"), _expected(out, COMBO, "cost")

    assert ly_mono == pytest.approx(7.99121, abs=5e-6)
    assert cost_mono == pytest.approx(44663.45, abs=0.01)
    assert ly_combo == pytest.approx(8.93739, abs=5e-6)
    assert cost_combo == pytest.approx(50601.65, abs=0.01)

    # against the published, rounded figures
    assert round(ly_mono, 3) == 7.991
    assert round(cost_mono) == 44663
    assert round(ly_combo, 3) == 8.937
    assert round(cost_combo) == 50602

    icer = _icer(out, COMBO, MONO)
    assert icer == pytest.approx(6275.96, abs=0.01)
    assert abs(icer / 6276 - 1) < 0.01
    row = dm.icer_table(out).set_index("strategy").loc[COMBO]
    assert row["status"] == "frontier"
    assert row["icer"] == pytest.approx(icer, rel=1e-12)


@pytest.mark.parametrize(
    ("correction", "ly_mono"),
    [("none", 7.99121), ("start", 8.95944), ("half-cycle", 8.47532)],
)
def test_hiv_end_of_cycle_convention_is_the_books(hiv, correction, ly_mono):
    """Briggs 2006 Ex 2.5 counts each cycle's rewards at its end (``correction: none``):
    only that convention gives the published 7.991 monotherapy life years and the £6,276
    ICER; counting at the start (8.959 LY) or with the half-cycle correction (8.475 LY,
    the "HCC" variant of rdecision's replication) does not."""
    G = copy.deepcopy(hiv)
    G.graph["markov"]["hiv"]["correction"] = correction
    out = dm.evaluate(G, dm.mean_parameters(G))
    ly = _expected(out, MONO, "effect")
    assert ly == pytest.approx(ly_mono, abs=5e-6)
    matches = abs(_icer(out, COMBO, MONO) / 6276 - 1) < 0.01 and round(ly, 3) == 7.991
    assert matches == (correction == "none")


def test_hiv_with_bindings_select_the_arm(hiv):
    """The two terminals share one Markov model; ``with:`` binds rr_arm and c_lam_arm.
    Monotherapy binds rr_arm = 1 and c_lam_arm = 0, so setting the relative risk to 1 and
    the lamivudine cost to 0 must make the two arms identical (Chancellor 1997 model)."""
    params = dm.mean_parameters(hiv)
    params["rr"] = ("sample", [1.0])
    params["c_lam"] = ("sample", [0.0])
    out = dm.evaluate(hiv, params)
    for var in ("cost", "effect"):
        assert _expected(out, MONO, var) == pytest.approx(_expected(out, COMBO, var), rel=1e-12)
