"""The peritoneal companion tree, trees/peritoneal_crs_hipec.yaml (evidence dossier section 13.3).

Values, not smoke. At the parameter means, survival is read off the Markov traces and
checked against PRODIGE 7 (Quenet F et al. Lancet Oncol 2021;22:256-66) and Franko J et al.
Lancet Oncol 2016;17:1709-19, with closed forms as the independent reference:

* complete-CRS cohort (90-day survivors): median OS 41.5 months and median PFS 11.1 months;
  with background mortality switched off (gomp_a = -50 makes the Gompertz hazard vanish)
  OS is exactly exp(-ln 2 t / median) and PFS exactly exp(-ln 2 t / median_rfs);
* CRS + HIPEC at hazard ratio 1 is CRS alone plus the HIPEC cost and the extra grade >= 3
  morbidity, to the closed-form difference;
* systemic arm median ~16 months (exact exponential without background mortality);
* at the means CRS + HIPEC is dominated by CRS alone (decisionmodel.cea.icer_table), and in
  a probabilistic run it is not cost-effective at the file's willingness-to-pay values;
* monotonicity in the HIPEC and selection hazard ratios;
* a 1,000-draw probabilistic run with valid probabilities, finite outcomes and EVPI >= 0
  (tests/test_tree_psa.py, with the other trees);
* posterior links to the surgical_risk evidence model, fallbacks matching its posterior.
"""

from __future__ import annotations

import math
from pathlib import Path

import cohort_curves as cc
import numpy as np
import pytest

import decisionmodel as dm

TREE = Path(__file__).resolve().parents[1] / "trees" / "peritoneal_crs_hipec.yaml"

CRS = "CRS alone"
HIPEC = "CRS + HIPEC"
SYSTEMIC = "Systemic therapy"
POLICIES = [CRS, HIPEC, SYSTEMIC]
CONFIDENCE = {"F", "M-hi", "M-mod", "M-low", "D"}
POSTERIOR_LINKS = {
    "p_mort90_crs_hipec": "surgical_risk.p_mort90_crs_hipec",
    "p_major_morbidity_crs_hipec": "surgical_risk.p_major_morbidity_crs_hipec",
    "p_major_morbidity_crs": "surgical_risk.p_major_morbidity_crs",
}
WTP = [50000, 100000, 150000]
FIVE_YEARS = 60  # monthly cycles


# ----------------------------------------------------------------------------- helpers


G, ct, means = cc.tree_fixtures(TREE)


def _terminal(ct, policy_action, label_suffix):
    """The terminal of a policy whose path ends with ``label_suffix``."""
    prefix = f"Strategy/{policy_action}/"
    found = [
        node
        for node in ct.terminals
        if str(node).startswith(prefix) and str(node).endswith("/" + label_suffix)
    ]
    assert len(found) == 1, (policy_action, label_suffix, [str(t) for t in ct.terminals])
    return found[0]


def _complete_crs_curves(ct, params, policy=CRS):
    """OS and PFS (n, cycles + 1) of the complete-cytoreduction cohort (no major
    complication) of a CRS arm."""
    env, n = cc.derived_env(ct, params)
    node = _terminal(ct, policy, "no major complication")
    trace, model = cc.terminal_trace(ct, env, n, node)
    os_ = 1.0 - trace[:, :, model.states.index("dead")]
    pfs = trace[:, :, model.states.index("progression_free")]
    return os_, pfs


def _repeat(params, n):
    """The one-draw ``params`` repeated ``n`` times."""
    return params.isel(sample=[0] * n).assign_coords(sample=np.arange(n))


def _outcome(out, policy, var):
    return out[var].sel(strategy=policy).values


# ----------------------------------------------------------------------------- structure


def test_three_policies_without_embedded_decision(ct, G):
    dm.validate_tree(G, check_draws=500, rng=3)  # probabilities valid on 500 prior draws
    assert ct.strategy_names == POLICIES
    assert [n for n in ct.preorder if ct.kind[n] == "decision"] == [ct.root]
    # both CRS arms branch on complete cytoreduction with the same parameter
    g = ct.graph
    for action in (CRS, HIPEC):
        arm = next(c for c in g.successors(ct.root) if g.edges[ct.root, c]["action"] == action)
        labels = {g.edges[arm, c]["label"]: g.edges[arm, c]["p"] for c in g.successors(arm)}
        assert labels == {
            "complete cytoreduction (CC-0/1)": "p_complete_cytoreduction",
            "incomplete cytoreduction (CC-2/3)": "#",
        }
    assert len(ct.terminals) == 9


def test_markov_settings(ct):
    for name in ("after_crs", "systemic"):
        m = ct.markov_models[name]
        assert m.cycles == 240
        assert m.cycle_length.constant == pytest.approx(1 / 12)
        assert m.discount_cost == m.discount_effect == 0.03
        assert m.correction == "half"
    assert ct.markov_models["after_crs"].states == ("progression_free", "progressed", "dead")
    assert ct.markov_models["systemic"].states == ("on_chemo", "dead")


def test_top_level_metadata(G):
    g = G.graph
    assert g["currency"] == "USD"
    assert g["effect_unit"] == "QALY"
    assert g["wtp"] == WTP
    text = g["description"]
    for phrase in (
        "PCI <= 25",
        "NOT RANDOMISED",
        "hr_selection",
        "price year",
        "3% a year",
        "20 years",
        "Half-cycle",
        "CALIBRATION",
        "p_mort90_crs_hipec",
    ):
        assert phrase in text, phrase


def test_every_parameter_has_a_source_and_a_confidence_flag(G):
    params = G.graph["parameters"]
    assert len(params) >= 25
    for name, spec in params.items():
        assert isinstance(spec, dict), name
        assert str(spec.get("source", "")).strip(), f"{name}: no source"
        assert spec.get("confidence") in CONFIDENCE, f"{name}: {spec.get('confidence')!r}"


def test_posterior_links(G):
    P = G.graph["parameters"]
    links = {name: spec["posterior"] for name, spec in P.items() if "posterior" in spec}
    assert links == POSTERIOR_LINKS
    for name in POSTERIOR_LINKS:
        assert P[name]["distribution"] == "beta"
    # both CRS arms share the one mortality parameter; morbidity differs by arm
    text = TREE.read_text()
    assert text.count("p: p_mort90_crs_hipec") == 2
    assert text.count("p: p_major_morbidity_crs_hipec") == 1
    assert text.count("p: p_major_morbidity_crs\n") == 1


@pytest.mark.slow
def test_fallback_priors_match_the_default_posterior(G, evidence_fit):
    """The declared Beta (used without the evidence layer) has the posterior's mean and sd
    within the Monte Carlo tolerance of decisionmodel.evidence.fallback, and no tree
    parameter that the model supplies is left unlinked."""
    from decisionmodel.evidence.draws import posterior_outputs
    from decisionmodel.evidence.fallback import fallback_table
    from decisionmodel.evidence.registry import MODELS

    fit = evidence_fit("surgical_risk")
    table = fallback_table(G, {"surgical_risk": fit})
    assert table["link"].to_dict() == POSTERIOR_LINKS
    failed = table[~table["passed"]]
    assert failed.empty, failed.to_string()
    post = posterior_outputs(MODELS["surgical_risk"], fit)
    P = G.graph["parameters"]
    for name in P:
        if name in post:
            assert P[name].get("posterior") == f"surgical_risk.{name}", name


def test_dossier_distributions_are_used(G):
    P = G.graph["parameters"]

    def args(name):
        keys = ("alpha", "beta", "shape", "rate", "meanlog", "sdlog")
        return {k: v for k, v in P[name].items() if k in keys}

    assert args("median_os_crs_mo") == {"meanlog": 3.726, "sdlog": 0.10}
    assert args("hr_hipec") == {"meanlog": 0.0, "sdlog": 0.235}
    assert args("median_rfs_crs_mo") == {
        "meanlog": pytest.approx(math.log(11.1), abs=1e-3),
        "sdlog": 0.10,
    }
    assert args("median_os_m1c_mo") == {
        "meanlog": pytest.approx(math.log(16), abs=1e-4),
        "sdlog": 0.15,
    }
    assert args("u_progression_free") == {"alpha": 34.8, "beta": 8.7}
    assert args("u_progressed") == {"alpha": 112.2, "beta": 39.2}
    assert args("u_end_of_life") == {"alpha": 5.06, "beta": 5.06}
    assert args("c_complication") == {"shape": 11.1, "rate": 3.28e-4}
    assert args("c_systemic_year") == {"shape": 4, "rate": 6.67e-5}
    assert args("c_end_of_life") == {"shape": 11.1, "rate": 7.0e-4}
    # the selection / transport uncertainty is explicit, mean 1 and flagged D
    sel = P["hr_selection"]
    assert sel["distribution"] == "lognormal"
    assert math.exp(sel["meanlog"] + sel["sdlog"] ** 2 / 2) == pytest.approx(1.0, abs=1e-4)
    assert 0.2 <= sel["sdlog"] <= 0.5
    assert sel["confidence"] == "D"
    # the CRS admission cost has the documented mean ($38,369) and CV 30%
    c = P["c_crs_hipec_admission"]
    assert c["shape"] / c["rate"] == pytest.approx(38369, rel=1e-3)
    assert 1 / math.sqrt(c["shape"]) == pytest.approx(0.30, abs=0.001)


# ----------------------------------------------------------------------------- calibration


def test_complete_crs_cohort_median_os_and_pfs_match_prodige7(ct, means):
    """90-day survivors of a complete cytoreduction, from the operation, at age_ref."""
    os_, pfs = _complete_crs_curves(ct, means)
    assert cc.median_months(os_[0]) == pytest.approx(41.5, abs=1.5)
    assert cc.median_months(pfs[0]) == pytest.approx(11.1, abs=0.6)


def test_complete_crs_cohort_is_exactly_exponential_without_background(ct, means):
    p = cc.with_values(means, gomp_a=-50.0)
    os_, pfs = _complete_crs_curves(ct, p)
    t = np.arange(241) / 12
    m_os = float(means["median_os_crs_mo"][0])
    m_pfs = float(means["median_rfs_crs_mo"][0])
    hr = float(means["hr_selection"][0])
    # closed forms: S(t) = exp(-hr ln2 / median * t), hazard ratio hr_selection
    np.testing.assert_allclose(os_[0], np.exp(-hr * math.log(2) / (m_os / 12) * t), rtol=1e-9)
    np.testing.assert_allclose(pfs[0], np.exp(-hr * math.log(2) / (m_pfs / 12) * t), rtol=1e-9)
    # at hr_selection = 1 the medians are the parameters themselves
    os1, pfs1 = _complete_crs_curves(ct, cc.with_values(p, hr_selection=1.0))
    assert cc.median_months(os1[0]) == pytest.approx(m_os, abs=0.1)
    assert cc.median_months(pfs1[0]) == pytest.approx(m_pfs, abs=0.1)


def test_hipec_arm_equals_crs_alone_at_hazard_ratio_one_except_morbidity(ct, means):
    p = cc.with_values(means, hr_hipec=1.0)
    os_c, pfs_c = _complete_crs_curves(ct, p, CRS)
    os_h, pfs_h = _complete_crs_curves(ct, p, HIPEC)
    np.testing.assert_array_equal(os_c, os_h)
    np.testing.assert_array_equal(pfs_c, pfs_h)
    out = dm.evaluate(ct, p)
    env, _ = cc.derived_env(ct, p)
    v = {k: float(np.asarray(env[k]).reshape(-1)[0]) for k in env}
    # closed form of the difference: HIPEC add-on and extra major morbidity among
    # 90-day survivors of a complete cytoreduction
    extra_morb = (
        v["p_complete_cytoreduction"]
        * (1 - v["p_mort90_crs_hipec"])
        * (v["p_major_morbidity_crs_hipec"] - v["p_major_morbidity_crs"])
    )
    d_cost = v["p_complete_cytoreduction"] * v["c_hipec"] + extra_morb * v["c_complication"]
    d_eff = -extra_morb * v["du_major_morbidity"] * v["t_postop_decrement"]
    dc = _outcome(out, HIPEC, "cost")[0] - _outcome(out, CRS, "cost")[0]
    de = _outcome(out, HIPEC, "effect")[0] - _outcome(out, CRS, "effect")[0]
    assert dc == pytest.approx(d_cost, rel=1e-9)
    assert de == pytest.approx(d_eff, rel=1e-9)
    assert dc > 0 and de < 0


def test_systemic_arm_median_sixteen_months(ct, means):
    S = cc.survival_by_policy(ct, means)[SYSTEMIC][0]
    assert cc.median_months(S) == pytest.approx(16, abs=1)
    S0 = cc.survival_by_policy(ct, cc.with_values(means, gomp_a=-50.0))[SYSTEMIC][0]
    median = float(means["median_os_m1c_mo"][0])
    t = np.arange(241) / 12
    np.testing.assert_allclose(S0, np.exp(-math.log(2) / (median / 12) * t), rtol=1e-9)


def test_whole_arm_survival_combines_strata(ct, means):
    """The CRS arm's curve is the path-weighted mixture: 90-day deaths at t = 0, the
    incomplete-cytoreduction stratum on the M1c curve, the rest on the complete-CRS
    curve (a slow naive recombination of the three curves)."""
    S = cc.survival_by_policy(ct, means)
    env, _ = cc.derived_env(ct, means)
    pc = float(env["p_complete_cytoreduction"][0])
    pm = float(env["p_mort90_crs_hipec"][0])
    os_, _ = _complete_crs_curves(ct, means)
    expect = pc * (1 - pm) * os_[0] + (1 - pc) * S[SYSTEMIC][0]
    np.testing.assert_allclose(S[CRS][0], expect, rtol=1e-9)
    # medians: complete-CRS cohort ~41.6 > CC-0/1 stratum with 90-day deaths > whole arm
    stratum = (1 - pm) * os_[0]
    assert cc.median_months(os_[0]) > cc.median_months(stratum) > cc.median_months(S[CRS][0])
    assert cc.median_months(S[CRS][0]) > cc.median_months(S[SYSTEMIC][0])


# ----------------------------------------------------------------------------- outcomes


def test_hipec_dominated_at_the_means(ct, means):
    out = dm.evaluate(ct, means)
    c = {s: float(_outcome(out, s, "cost")[0]) for s in POLICIES}
    e = {s: float(_outcome(out, s, "effect")[0]) for s in POLICIES}
    assert c[HIPEC] > c[CRS]
    assert e[HIPEC] <= e[CRS]
    table = dm.icer_table(out).set_index("strategy")
    assert table.loc[HIPEC, "status"] == "dominated"
    assert table.loc[CRS, "status"] == "frontier"
    # CRS gains QALYs over systemic therapy (naive contrast, hr_selection at its mean)
    assert 0.8 < e[CRS] - e[SYSTEMIC] < 2.5


def test_hipec_not_cost_effective_in_a_probabilistic_run(G, ct):
    """With hr_hipec ~ LogNormal(0, 0.235) the expected QALYs of HIPEC are a little higher
    than at hr = 1 (QALYs are convex in the hazard ratio: E[1/HR] = exp(0.235^2 / 2)), so
    the probabilistic ICER is finite but far above the file's willingness to pay."""
    params = dm.sample_parameters(G, 1000, np.random.default_rng(20261127))
    out = dm.evaluate(ct, params)
    table = dm.icer_table(out).set_index("strategy")
    status = table.loc[HIPEC, "status"]
    assert status in ("dominated", "extendedly dominated") or table.loc[HIPEC, "icer"] > max(WTP)
    d_eff = float((_outcome(out, HIPEC, "effect") - _outcome(out, CRS, "effect")).mean())
    d_cost = float((_outcome(out, HIPEC, "cost") - _outcome(out, CRS, "cost")).mean())
    assert d_cost > 0
    assert abs(d_eff) < 0.1
    for w in WTP:
        nmb = (w * out["effect"] - out["cost"]).mean("sample")
        assert float(nmb.sel(strategy=HIPEC)) < float(nmb.sel(strategy=CRS)), w


def test_monotone_in_the_hipec_hazard_ratio(ct, means):
    hr = np.array([0.6, 0.8, 1.0, 1.25, 1.6])
    out = dm.evaluate(ct, cc.with_values(_repeat(means, hr.size), hr_hipec=hr))
    e_h = _outcome(out, HIPEC, "effect")
    assert (np.diff(e_h) < 0).all()
    np.testing.assert_allclose(_outcome(out, CRS, "effect"), _outcome(out, CRS, "effect")[0])


def test_monotone_in_the_selection_hazard_ratio(ct, means):
    hr = np.array([0.5, 0.75, 1.0, 1.5, 2.0])
    out = dm.evaluate(ct, cc.with_values(_repeat(means, hr.size), hr_selection=hr))
    for policy in (CRS, HIPEC):
        assert (np.diff(_outcome(out, policy, "effect")) < 0).all(), policy
    np.testing.assert_allclose(
        _outcome(out, SYSTEMIC, "effect"), _outcome(out, SYSTEMIC, "effect")[0]
    )
