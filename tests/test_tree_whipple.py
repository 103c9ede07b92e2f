"""trees/whipple_pivot.yaml: planned Whipple, staging laparoscopy and the intraoperative pivot.

Values, not smoke. References used below:

* Bayes' theorem with specificity 1: after a negative laparoscopy the probability of
  metastases is p (1 - sens) / (1 - p sens); checked against the closed form and against a
  naive count over a 2 x 2 table of patients;
* PRODIGE 24 (Conroy T et al. JAMA Oncol 2022;8:1571-8, EVIDENCE section 7): after resection
  and adjuvant mFOLFIRINOX median OS 53.5 months, median DFS 21.4 months, 5-year DFS 26.1%
  (the calibration targets of the resected cohort, 90-day survivors);
* palliative survival 8-13 months (EVIDENCE sections 7 and 13.3; Oba 2019 13.2 months) and
  the exponential closed form exp(-ln 2 t / median) with background mortality switched off;
* share reaching Whipple = 1 - p_occult under both root strategies, share reaching the pivot
  after a negative laparoscopy = p (1 - sens);
* with sensitivity 0, laparoscopy costs exactly its own cost and expected morbidity more and
  loses exactly its QALY decrement (every downstream path is the direct-laparotomy path);
* EVPI = E[max NB] - max E[NB] computed by hand from the draws (the 1,000-draw probabilistic
  analysis, with those of the other trees, is in tests/test_tree_psa.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import cohort_curves as cc
import numpy as np
import pytest

import decisionmodel as dm
from decisionmodel.exceptions import PolicyError
from decisionmodel.tree.markov import run_markov

TREE = Path(__file__).resolve().parents[1] / "trees" / "whipple_pivot.yaml"

PIVOT = "metastases found"
ACTIONS = ["palliative double bypass", "biliary bypass alone", "close and stent"]
DIRECT = "Direct laparotomy"
LAP = "Staging laparoscopy first"
POLICIES = [f"{root} [{PIVOT}: {a}]" for root in (DIRECT, LAP) for a in ACTIONS]
PIVOT_IDS = [
    "Strategy/Direct laparotomy/unexpected metastases at laparotomy",
    "Strategy/Staging laparoscopy first/laparoscopy negative/unexpected metastases at laparotomy",
]
CONFIDENCE = {"F", "M-hi", "M-mod", "M-low", "D"}
FIVE_YEARS = 60  # monthly cycles

#: every parameter an evidence model supplies, and its link
POSTERIOR_LINKS = {
    "p_occult_mets_whipple": "intraoperative.p_occult_mets_whipple",
    "sens_staging_laparoscopy": "intraoperative.sens_staging_laparoscopy",
    "p_mort90_whipple": "surgical_risk.p_mort90_whipple",
    "p_morbidity_whipple": "surgical_risk.p_morbidity_whipple",
    "p_mort90_bypass": "surgical_risk.p_mort90_bypass",
    "p_major_morbidity_bypass": "surgical_risk.p_major_morbidity_bypass",
}
#: posterior mean and sd of those outputs (the default fits of the evidence models)
POSTERIOR_MOMENTS = {
    "p_occult_mets_whipple": (0.1533, 0.1120),
    "sens_staging_laparoscopy": (0.6365, 0.0696),
    "p_mort90_whipple": (0.0496, 0.0741),
    "p_morbidity_whipple": (0.4113, 0.1192),
    "p_mort90_bypass": (0.1619, 0.1375),
    "p_major_morbidity_bypass": (0.3520, 0.1311),
}


# ----------------------------------------------------------------------------- helpers


G, ct, means = cc.tree_fixtures(TREE)


def _subtree_survival(ct, params, out, policy, under):
    """Survival of the patients of ``policy`` whose terminal lies under node id prefix
    ``under`` (90-day deaths count as dead from t = 0), normalised by their probability."""
    env, n = cc.derived_env(ct, params)
    reach = out["reaches"].sel(strategy=policy).values
    total = np.zeros(n)
    S = 0.0
    for i, node in enumerate(ct.terminals):
        if not reach[i] or not str(node).startswith(under):
            continue
        p = out["path_probability"].values[i]
        total = total + p
        s = cc.terminal_survival(ct, env, n, node)
        if s is not None:
            S = S + p[:, None] * s
    return S / total[:, None]


def _at_month(S, t):
    k = int(t)
    return S[k] + (S[k + 1] - S[k]) * (t - k)


def _reach_share(ct, out, policy, segment):
    """Total path probability of the terminals of ``policy`` whose id contains ``segment``."""
    reach = out["reaches"].sel(strategy=policy).values
    pp = out["path_probability"].values
    idx = [i for i, node in enumerate(ct.terminals) if reach[i] and segment in str(node)]
    return pp[idx].sum(axis=0)


def _nb(out, wtp=100_000):
    return out["effect"].values * wtp - out["cost"].values


# ----------------------------------------------------------------------------- structure


def test_loads_validates_and_lists_the_six_policies(G, ct):
    assert ct.strategy_names == POLICIES
    assert [n for n in ct.preorder if ct.kind[n] == "decision" and n != ct.root] == PIVOT_IDS
    for node in PIVOT_IDS:
        assert G.nodes[node]["label"] == PIVOT
        assert [G.edges[node, c]["action"] for c in G.successors(node)] == ACTIONS
        parent = next(iter(G.predecessors(node)))
        assert ct.kind[parent] == "chance"
    # each policy reaches exactly one pivot node, the one under its root action
    for policy in ct.policies:
        pivots = [n for n in policy.actions if n in PIVOT_IDS]
        assert len(pivots) == 1
        assert pivots[0].split("/")[1] == policy.name.split(" [")[0]
        assert policy.name.endswith(f"{policy.actions[pivots[0]]}]")


def test_pivot_protocol_by_label_is_ambiguous_and_by_node_id_works(G):
    with pytest.raises(PolicyError, match="labels 2 decision nodes"):
        dm.compile_tree(G, protocol={PIVOT: "close and stent"})
    fixed = dm.compile_tree(G, protocol={i: "close and stent" for i in PIVOT_IDS})
    assert fixed.strategy_names == [DIRECT, LAP]


def test_markov_settings_and_metadata(G, ct):
    for name in ("resected", "palliative"):
        m = ct.markov_models[name]
        assert m.cycles == 240
        assert m.cycle_length.constant == pytest.approx(1 / 12)
        assert m.discount_cost == m.discount_effect == 0.03
        assert m.correction == "half"
    assert ct.markov_models["resected"].states == ("cured", "at_risk", "recurrence", "dead")
    g = G.graph
    assert g["currency"] == "USD" and g["effect_unit"] == "QALY"
    assert g["wtp"] == [50000, 100000, 150000]
    text = g["description"]
    for phrase in (
        "price year",
        "3% a year",
        "20 years",
        "Half-cycle",
        "EVPPI",
        "EVSI",
        "decisionmodel.voi",
        "TWO decision nodes",
        "SURGERY vs STENT",
        "CALIBRATED",
    ):
        assert phrase in text, phrase


def test_every_parameter_has_a_source_and_a_confidence_flag(G):
    params = G.graph["parameters"]
    assert len(params) >= 40
    for name, spec in params.items():
        assert str(spec.get("source", "")).strip(), f"{name}: no source"
        assert spec.get("confidence") in CONFIDENCE, name


def test_posterior_links_and_prior_fallbacks_match_the_posteriors(G):
    P = G.graph["parameters"]
    links = {k: v["posterior"] for k, v in P.items() if "posterior" in v}
    assert links == POSTERIOR_LINKS
    for name, (m, s) in POSTERIOR_MOMENTS.items():
        a, b = P[name]["alpha"], P[name]["beta"]
        assert a / (a + b) == pytest.approx(m, abs=0.002), name
        assert math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) == pytest.approx(s, abs=0.002)


@pytest.mark.slow
def test_posterior_links_name_outputs_of_the_default_evidence_fits(G, evidence_fit):
    """Every link names a real output of the default fit and the declared prior matches
    its mean and sd within the Monte Carlo tolerance of decisionmodel.evidence.fallback."""
    from decisionmodel.evidence.fallback import fallback_table

    models = sorted({v.split(".")[0] for v in POSTERIOR_LINKS.values()})
    table = fallback_table(G, {m: evidence_fit(m) for m in models})
    assert table["link"].to_dict() == POSTERIOR_LINKS
    failed = table[~table["passed"]]
    assert failed.empty, failed.to_string()


def test_dossier_distributions_are_used(G):
    P = G.graph["parameters"]

    def args(name):
        keys = ("alpha", "beta", "shape", "rate", "meanlog", "sdlog")
        return {k: v for k, v in P[name].items() if k in keys}

    assert args("median_os_palliative_mo") == {"meanlog": 2.580, "sdlog": 0.15}
    assert math.exp(2.580) == pytest.approx(13.2, abs=0.01)
    assert args("p_goo_with_gj") == {"alpha": 2, "beta": 78}
    assert args("p_goo_without_gj") == {"alpha": 20, "beta": 52}
    assert args("hr_os_gj") == {"meanlog": 0.020, "sdlog": 0.101}
    assert args("rr_complications_bypass_vs_stent") == {"meanlog": 0.432, "sdlog": 0.290}
    assert args("rr_reobstruction_bypass_vs_stent") == {"meanlog": -1.966, "sdlog": 0.777}
    assert math.exp(-1.966) == pytest.approx(0.14, abs=0.001)
    assert args("c_resection") == {"shape": 3.19, "rate": 1.29e-4}
    assert args("u_metastatic") == {"alpha": 112.2, "beta": 39.2}


# ----------------------------------------------------------------------------- Bayes


PAIRS = [(0.153, 0.637), (0.05, 0.9), (0.3, 0.5), (0.5, 0.1), (0.01, 0.99), (0.2, 0.0)]


@pytest.mark.parametrize(("p", "sens"), PAIRS)
def test_post_test_probability_is_bayes(ct, means, p, sens):
    env, _ = cc.derived_env(
        ct, cc.with_values(means, p_occult_mets_whipple=p, sens_staging_laparoscopy=sens)
    )
    closed = p * (1 - sens) / (1 - p * sens)
    assert float(env["p_missed_after_negative_laparoscopy"][0]) == pytest.approx(closed, rel=1e-12)
    assert float(env["p_laparoscopy_positive"][0]) == pytest.approx(p * sens, rel=1e-12)
    # naive count over 10^6 patients: metastases and missed / all negative laparoscopies
    N = 1_000_000
    mets = round(N * p)
    missed = mets - round(mets * sens)
    negatives = N - round(mets * sens)
    assert float(env["p_missed_after_negative_laparoscopy"][0]) == pytest.approx(
        missed / negatives, abs=2e-6
    )


@pytest.mark.parametrize(("p", "sens"), PAIRS[:4])
def test_shares_reaching_whipple_and_the_pivot(ct, means, p, sens):
    params = cc.with_values(means, p_occult_mets_whipple=p, sens_staging_laparoscopy=sens)
    out = dm.evaluate(ct, params, paths=True)
    for policy in POLICIES:
        whipple = _reach_share(ct, out, policy, "/no metastases/")
        pivot = _reach_share(ct, out, policy, "/unexpected metastases at laparotomy/")
        assert float(whipple[0]) == pytest.approx(1 - p, abs=1e-12)
        expected_pivot = p if policy.startswith(DIRECT) else p * (1 - sens)
        assert float(pivot[0]) == pytest.approx(expected_pivot, abs=1e-12)
        if policy.startswith(LAP):
            seen = _reach_share(ct, out, policy, "/metastases seen at laparoscopy/")
            assert float(seen[0]) == pytest.approx(p * sens, abs=1e-12)


# ----------------------------------------------------------------------------- calibration


def test_resected_cohort_matches_prodige24(ct, means):
    env, n = cc.derived_env(ct, means)
    node = next(
        t for t in ct.terminals if str(t).endswith("no metastases/survived 90 days/complication")
    )
    tm = ct.terminal_markov[node]
    model = ct.markov_models["resected"]
    start = {s: f.evaluate(env) for s, f in tm.start.items()}
    _, _, trace = run_markov(model, env, n, start, trace=True)
    tr = trace[0]
    st = model.states
    dfs = tr[:, st.index("cured")] + tr[:, st.index("at_risk")]
    os_ = 1 - tr[:, st.index("dead")]
    assert cc.median_months(os_) == pytest.approx(53.5, abs=0.3)
    assert _at_month(dfs, 21.4) == pytest.approx(0.5, abs=0.005)
    assert dfs[FIVE_YEARS] == pytest.approx(0.261, abs=0.005)
    assert 0.40 < os_[FIVE_YEARS] < 0.50


def test_resected_arm_with_90_day_deaths_is_a_little_shorter(ct, means):
    out = dm.evaluate(ct, means, paths=True)
    S = _subtree_survival(ct, means, out, POLICIES[2], "Strategy/Direct laparotomy/no metastases")[
        0
    ]
    p90 = float(means["p_mort90_whipple"][0])
    assert S[0] == pytest.approx(1 - p90, abs=1e-9)
    assert 48 < cc.median_months(S) < 53.5


@pytest.mark.parametrize("action", ACTIONS)
def test_palliative_arms_median_within_dossier_range(ct, means, action):
    out = dm.evaluate(ct, means, paths=True)
    prefix = f"{PIVOT_IDS[0]}/{action}"
    S = _subtree_survival(ct, means, out, f"{DIRECT} [{PIVOT}: {action}]", prefix)[0]
    assert 8 <= cc.median_months(S) <= 13


def test_metastases_seen_at_laparoscopy_median_within_dossier_range(ct, means):
    out = dm.evaluate(ct, means, paths=True)
    prefix = "Strategy/Staging laparoscopy first/metastases seen at laparoscopy"
    S = _subtree_survival(ct, means, out, POLICIES[5], prefix)[0]
    assert 8 <= cc.median_months(S) <= 13


def test_palliative_cohort_is_the_exponential_of_the_median(ct, means):
    m = ct.markov_models["palliative"]
    median = float(means["median_os_palliative_mo"][0])
    # with background mortality at age = age_ref the published median is kept
    env, n = cc.derived_env(ct, means)
    env["lam_os"] = env["lam_palliative"]
    _, _, trace = run_markov(m, env, n, None, trace=True)
    assert cc.median_months(1 - trace[0, :, 1]) == pytest.approx(median, abs=0.2)
    # background switched off: exactly exp(-ln 2 t / median)
    env, n = cc.derived_env(ct, cc.with_values(means, gomp_a=-50))
    env["lam_os"] = env["lam_palliative"]
    _, _, trace = run_markov(m, env, n, None, trace=True)
    t = np.arange(m.cycles + 1)
    np.testing.assert_allclose(1 - trace[0, :, 1], np.exp(-math.log(2) * t / median), rtol=1e-9)


# ----------------------------------------------------------------------------- sanity


def _inb_lap(ct, params, wtp=100_000):
    """Incremental net benefit of laparoscopy over direct laparotomy, per pivot action."""
    nb = _nb(dm.evaluate(ct, params), wtp)[:, 0]
    return nb[3:] - nb[:3]


@pytest.mark.parametrize("wtp", [50_000, 150_000])
def test_laparoscopy_value_rises_with_occult_metastases(ct, means, wtp):
    grid = [0.02, 0.08, 0.153, 0.3, 0.5]
    inb = [_inb_lap(ct, cc.with_values(means, p_occult_mets_whipple=p), wtp) for p in grid]
    assert (np.diff(inb, axis=0) > 0).all()


@pytest.mark.parametrize("wtp", [50_000, 150_000])
def test_laparoscopy_value_rises_with_sensitivity(ct, means, wtp):
    grid = [0.0, 0.3, 0.637, 0.8, 1.0]
    inb = [_inb_lap(ct, cc.with_values(means, sens_staging_laparoscopy=s), wtp) for s in grid]
    assert (np.diff(inb, axis=0) > 0).all()


def test_useless_laparoscopy_costs_its_price_and_its_morbidity(ct, means):
    params = cc.with_values(means, sens_staging_laparoscopy=0.0)
    out = dm.evaluate(ct, params)
    env, _ = cc.derived_env(ct, params)
    extra_cost = float(env["c_laparoscopy"][0]) + float(
        env["p_morbidity_laparoscopy"][0] * env["c_complication"][0]
    )
    lost = float(env["du_postop"][0]) * 0.04 + float(
        env["p_morbidity_laparoscopy"][0]
        * env["du_major_morbidity"][0]
        * env["t_postop_decrement"][0]
    )
    c = out["cost"].values[:, 0]
    e = out["effect"].values[:, 0]
    np.testing.assert_allclose(c[3:] - c[:3], extra_cost, rtol=1e-10)
    np.testing.assert_allclose(e[:3] - e[3:], lost, rtol=1e-10)
    assert (c[3:] > c[:3]).all() and (e[3:] < e[:3]).all()


def test_stent_and_bypass_risks_follow_glazer_direction(ct, means):
    env, _ = cc.derived_env(ct, means)
    rr = float(env["rr_complications_bypass_vs_stent"][0])
    assert rr > 1  # surgery vs stent: more events with surgery at the mean
    assert float(env["p_mort90_stent"][0]) == pytest.approx(float(env["p_mort90_bypass"][0]) / rr)
    assert (
        float(env["p_mort90_stent"][0])
        < float(env["p_mort90_close"][0])
        < float(env["p_mort90_bypass"][0])
    )
    # re-obstruction: bypass = RR (surgery vs stent, ~0.14) x stent
    rr_re = float(env["rr_reobstruction_bypass_vs_stent"][0])
    assert rr_re < 1
    assert float(env["p_reobstruction_bypass"][0]) == pytest.approx(
        rr_re * float(env["p_reobstruction_stent"][0])
    )
