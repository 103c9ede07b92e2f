"""The embedded default model, trees/crlm.yaml (colorectal liver metastases).

Values, not smoke: the calibration targets of the evidence dossier's section 13.2 are checked
at the parameter means, with survival read off the Markov traces:

* curative arm 5-year overall survival 0.47 (de Jong MC et al. Ann Surg 2009;250:440-8),
  terminals combined by their path probabilities, 90-day deaths counted as dead;
* systemic-therapy arm median 36 months (section 4 default row) and 5-year OS ~0.31
  (exponential, exp(-5 ln2 / 3 yr)); the latter is tested with background mortality
  switched off (gomp_a = -50 makes the Gompertz hazard vanish) and, more loosely, with it;
* 5-year OS 0.42 after repeat hepatectomy (Lam VWT et al. J Gastrointest Surg 2013);
* incremental QALYs of curative hepatectomy over systemic therapy within the dossier's
  sanity range 1-2.5 (Gazelle 2003 +2.63 QALY; Beard 2000 +1.6 LY);
* a 1,000-draw probabilistic analysis with valid probabilities and finite outcomes
  (tests/test_tree_psa.py, with the other trees);
* every parameter has a source and a confidence flag of the dossier.
"""

from __future__ import annotations

import math
from pathlib import Path

import cohort_curves as cc
import pytest

import decisionmodel as dm
from decisionmodel.tree.markov import run_markov

TREE = Path(__file__).resolve().parents[1] / "trees" / "crlm.yaml"

PIVOT = "peritoneal disease found"
CUR_PALL = "Curative hepatectomy [peritoneal disease found: palliative procedure]"
CUR_CLOSE = "Curative hepatectomy [peritoneal disease found: close]"
PALL_SURG = "Palliative surgery"
SYSTEMIC = "Systemic therapy"
POLICIES = [CUR_PALL, CUR_CLOSE, PALL_SURG, SYSTEMIC]

FIVE_YEARS = 60  # monthly cycles
CONFIDENCE = {"F", "M-hi", "M-mod", "M-low", "D"}


# ----------------------------------------------------------------------------- helpers


G, ct, means = cc.tree_fixtures(TREE)


@pytest.fixture(scope="module")
def surv(ct, means):
    """Survival curves of the four policies at the parameter means (one draw)."""
    return {k: v[0] for k, v in cc.survival_by_policy(ct, means).items()}


# ----------------------------------------------------------------------------- structure


def test_exactly_four_policies_with_the_pivot_enumerated(ct):
    assert ct.strategy_names == POLICIES
    pivots = [n for n in ct.preorder if ct.kind[n] == "decision" and n != ct.root]
    assert len(pivots) == 1
    node = pivots[0]
    G = ct.graph
    assert G.nodes[node]["label"] == PIVOT
    assert [G.edges[node, c]["action"] for c in G.successors(node)] == [
        "palliative procedure",
        "close",
    ]
    parent = next(iter(G.predecessors(node)))
    assert ct.kind[parent] == "chance"
    assert G.edges[parent, node]["label"] == "unexpected peritoneal disease at laparotomy"
    # both curative policies differ only at the pivot
    by_name = {p.name: p.actions for p in ct.policies}
    assert by_name[CUR_PALL][node] == "palliative procedure"
    assert by_name[CUR_CLOSE][node] == "close"


def test_markov_settings(ct):
    for name in ("resected", "systemic"):
        m = ct.markov_models[name]
        assert m.cycles == 240
        assert m.cycle_length.constant == pytest.approx(1 / 12)
        assert m.discount_cost == m.discount_effect == 0.03
        assert m.correction == "half"
    assert ct.markov_models["resected"].states == (
        "cured",
        "at_risk",
        "recurrence",
        "rerx",
        "post_rerx",
        "dead",
    )


def test_top_level_metadata(G):
    g = G.graph
    assert g["currency"] == "USD"
    assert g["effect_unit"] == "QALY"
    assert g["wtp"] == [50000, 100000, 150000]
    text = g["description"]
    for phrase in ("CONFOUNDED", "CLOCC", "M-", "price year", "CALIBRATION", "3%"):
        assert phrase in text


def test_every_parameter_has_a_source_and_a_confidence_flag(G):
    params = G.graph["parameters"]
    assert len(params) >= 30
    for name, spec in params.items():
        assert isinstance(spec, dict), name
        assert str(spec.get("source", "")).strip(), f"{name}: no source"
        assert spec.get("confidence") in CONFIDENCE, (
            f"{name}: confidence {spec.get('confidence')!r}"
        )


def test_dossier_distributions_are_used(G):
    P = G.graph["parameters"]

    def args(name):
        return {
            k: v
            for k, v in P[name].items()
            if k in ("alpha", "beta", "shape", "rate", "meanlog", "sdlog")
        }

    assert args("p_peritoneal_at_laparotomy") == {"alpha": 2.15, "beta": 69.6}
    assert args("p_mort90") == {"alpha": 3.85, "beta": 124.5}
    assert args("p_major_morbidity") == {"alpha": 16.4, "beta": 74.8}
    assert args("p_r1") == {"alpha": 63, "beta": 282}
    assert args("hr_r1") == {"meanlog": 0.472, "sdlog": 0.046}
    assert args("pi_cure") == {"alpha": 250, "beta": 961}
    assert args("median_os_post_recurrence_mo") == {"meanlog": 3.19, "sdlog": 0.12}
    assert args("median_os_systemic_mo") == {"meanlog": 3.584, "sdlog": 0.20}
    assert args("median_os_m1c_mo") == {
        "meanlog": pytest.approx(math.log(16), abs=1e-4),
        "sdlog": 0.15,
    }
    assert args("p_rerx") == {"alpha": 9.3, "beta": 27.9}
    assert args("p_mort_rerx") == {"alpha": 3.9, "beta": 324}
    assert args("u_disease_free") == {"alpha": 34.8, "beta": 8.7}
    assert args("u_recurrence") == {"alpha": 112.2, "beta": 39.2}
    assert args("u_end_of_life") == {"alpha": 5.06, "beta": 5.06}
    assert args("du_major_morbidity") == {"alpha": 2, "beta": 18}
    assert args("c_hepatectomy") == {"shape": 3.19, "rate": 1.29e-4}
    assert args("c_complication") == {"shape": 11.1, "rate": 3.28e-4}
    assert args("c_systemic_year") == {"shape": 4, "rate": 6.67e-5}
    assert args("c_end_of_life") == {"shape": 11.1, "rate": 7.0e-4}
    # the assumed hazard ratios are explicit, uncertain and flagged as derived/assumed
    for name in ("hr_pivot_palliative", "hr_palliative_surgery"):
        assert P[name]["distribution"] == "lognormal" and P[name]["sdlog"] > 0
        assert P[name]["confidence"] == "D"


# ----------------------------------------------------------------------------- calibration


@pytest.mark.parametrize("policy", [CUR_CLOSE, CUR_PALL])
def test_curative_arm_five_year_survival_matches_de_jong(surv, policy):
    S = surv[policy]
    assert S[0] == pytest.approx(1 - 0.03 * (1 - 0.03), abs=0.02)  # 90-day deaths at t = 0
    assert S[FIVE_YEARS] == pytest.approx(0.47, abs=0.03)
    # actual 10-year survival 24.4% (Creasy 2018), loosely
    assert 0.18 < S[120] < 0.30


def test_r1_stratum_survives_less_than_r0(ct, means):
    env, n = cc.derived_env(ct, means)
    s = {}
    for node in ct.terminals:
        if str(node).endswith("/R0") or str(node).endswith("/R1"):
            s[str(node)[-2:]] = cc.terminal_survival(ct, env, n, node)[0, FIVE_YEARS]
    # section 13.2 hand calculation: R0 ~0.52, R1 ~0.38
    assert s["R0"] == pytest.approx(0.52, abs=0.04)
    assert s["R1"] == pytest.approx(0.38, abs=0.05)
    assert math.log(s["R1"]) / math.log(s["R0"]) == pytest.approx(1.6, abs=0.15)


def test_repeat_hepatectomy_five_year_survival_matches_lam(ct, means):
    env, n = cc.derived_env(ct, means)
    env["hr_margin"] = 1.0
    m = ct.markov_models["resected"]
    _, _, trace = run_markov(m, env, n, {"rerx": 1.0}, trace=True)
    S5 = 1 - trace[0, FIVE_YEARS, m.states.index("dead")]
    assert S5 == pytest.approx(20.5 / (20.5 + 28.3), abs=0.02)


def test_systemic_arm_median_and_five_year_survival(ct, means, surv):
    S = surv[SYSTEMIC]
    # with background mortality (age 62 = age_ref: the published median is kept)
    assert cc.median_months(S) == pytest.approx(36, abs=2)
    assert S[FIVE_YEARS] == pytest.approx(0.31, abs=0.04)
    # background mortality switched off: exactly the exponential of the median
    S0 = cc.survival_by_policy(ct, cc.with_values(means, gomp_a=-50))[SYSTEMIC][0]
    median = float(means["median_os_systemic_mo"][0])
    assert S0[FIVE_YEARS] == pytest.approx(math.exp(-5 * math.log(2) / (median / 12)), rel=1e-9)
    assert S0[FIVE_YEARS] == pytest.approx(0.31, abs=0.04)
    assert cc.median_months(S0) == pytest.approx(median, abs=0.1)


def test_background_mortality_acts_in_cured_patients(ct, means):
    env, n = cc.derived_env(ct, means)
    env["hr_margin"] = 1.0
    m = ct.markov_models["resected"]
    _, _, trace = run_markov(m, env, n, {"cured": 1.0}, trace=True)
    S20 = 1 - trace[0, 240, m.states.index("dead")]
    # Gompertz fit to US 2023 life table: S(62 -> 82) = 0.595 (table 0.607)
    assert S20 == pytest.approx(0.60, abs=0.02)


def test_pivot_palliative_procedure_prolongs_m1c_survival_modestly(surv):
    a = surv[CUR_PALL]
    b = surv[CUR_CLOSE]
    diff = a[FIVE_YEARS] - b[FIVE_YEARS]
    assert 0 < diff < 0.005  # only the 3% with peritoneal disease differ


# ----------------------------------------------------------------------------- outcomes


def test_incremental_qalys_curative_vs_systemic_in_sanity_range(ct, means):
    out = dm.evaluate(ct, means)
    eff = {s: float(out["effect"].sel(strategy=s)[0]) for s in POLICIES}
    gain = eff[CUR_CLOSE] - eff[SYSTEMIC]
    assert 1.0 <= gain <= 2.5
    assert eff[SYSTEMIC] < eff[PALL_SURG] < eff[CUR_CLOSE]
