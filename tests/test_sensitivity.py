"""decisionmodel.sensitivity against independent references written here: closed forms on a
treat-or-wait tree and brute-force loops (for each value: with_values, evaluate, mean NMB,
argmax) on the shipped default tree with prior draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import decisionmodel as dm
from decisionmodel import sensitivity as sa
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.params import with_values
from decisionmodel.tree.evaluate import evaluate
from decisionmodel.tree.io import tree_from_dict

CRLM = Path(dm.__file__).parent / "data" / "trees" / "crlm.yaml"

# treat: cost c, cured (effect 1) with probability p; wait: effect e_wait, no cost.
# E[NMB treat - wait] = w p - c - w e_wait: linear in p and in c.
SMALL = {
    "parameters": {
        "p": {"distribution": "beta", "alpha": 4, "beta": 6},
        "c": {"distribution": "gamma", "shape": 25, "rate": 0.5},
        "e_wait": {"value": 0.3},
    },
    "tree": {
        "kind": "decision",
        "name": "d",
        "branches": [
            {
                "action": "treat",
                "kind": "chance",
                "cost": "c",
                "branches": [
                    {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
                    {"label": "not", "p": "#", "kind": "terminal", "effect": 0},
                ],
            },
            {"action": "wait", "kind": "terminal", "effect": "e_wait"},
        ],
    },
}
W = 1000.0


@pytest.fixture(scope="module")
def small():
    G = tree_from_dict(SMALL)
    return G, dm.sample_parameters(G, 4000, 3)


@pytest.fixture(scope="module")
def crlm():
    ct = dm.load_compiled(CRLM)
    return ct, dm.sample_parameters(ct.graph, 2000, 1)


def brute_nmb(tree, params, values, w):
    """Expected NMB per strategy with ``values`` set: a plain loop-free reference."""
    out = evaluate(tree, with_values(params, values))
    return w * out["effect"].values.mean(axis=1) - out["cost"].values.mean(axis=1)


def draw_means(params):
    return params.mean("sample").expand_dims(sample=[0])


# --- parameter_ranges -------------------------------------------------------------------


def test_parameter_ranges_are_quantiles_and_means(small):
    G, params = small
    table = sa.parameter_ranges(G, params, q=(0.1, 0.9))
    assert list(table.index) == ["p", "c"]  # the fixed e_wait is left out
    for name in ("p", "c"):
        v = params[name].values
        assert table.loc[name, "low"] == pytest.approx(np.quantile(v, 0.1), rel=1e-12)
        assert table.loc[name, "high"] == pytest.approx(np.quantile(v, 0.9), rel=1e-12)
        assert table.loc[name, "base"] == pytest.approx(v.mean(), rel=1e-12)
    assert list(sa.parameter_ranges(G, params, pars=["e_wait"]).loc["e_wait"]) == pytest.approx(
        [0.3] * 3
    )


# --- one-way and tornado ----------------------------------------------------------------


def test_one_way_small_tree_closed_form(small):
    G, params = small
    ranges = {"p": (0.2, 0.6), "c": (10.0, 90.0)}
    base = dm.mean_parameters(G)  # p = 0.4, c = 50
    ds = sa.one_way(G, params, [W, 2 * W], ranges=ranges, base=base)
    treat = ds["nmb"].sel(strategy="treat")
    for w in (W, 2 * W):
        np.testing.assert_allclose(treat.sel(parameter="p", wtp=w), [w * 0.2 - 50, w * 0.6 - 50])
        np.testing.assert_allclose(treat.sel(parameter="c", wtp=w), [w * 0.4 - 10, w * 0.4 - 90])
        np.testing.assert_allclose(ds["nmb"].sel(strategy="wait", wtp=w), w * 0.3)
    assert ds["recommended"].sel(parameter="p", wtp=W).values.tolist() == ["wait", "treat"]
    tab = sa.tornado_table(ds, W, "treat", "wait")
    assert tab.index.tolist() == ["p", "c"]
    np.testing.assert_allclose(tab["swing"], [400.0, 80.0])
    assert tab["nmb_diff_base"].iloc[0] == pytest.approx(W * 0.4 - 50 - W * 0.3)


def test_one_way_probabilistic_small_tree(small):
    G, params = small
    ds = sa.one_way(G, params, W, pars=["p"], ranges={"p": (0.2, 0.6)}, probabilistic=True)
    c_mean = params["c"].values.mean()
    np.testing.assert_allclose(
        ds["nmb"].sel(parameter="p", wtp=W, strategy="treat"),
        [W * 0.2 - c_mean, W * 0.6 - c_mean],
    )
    base = W * params["p"].values.mean() - c_mean
    assert float(ds["base_nmb"].sel(wtp=W, strategy="treat")) == pytest.approx(base)


def test_one_way_and_tornado_crlm_against_brute_force(crlm):
    ct, params = crlm
    w = 100_000.0
    names = ct.strategy_names
    a, b = names[1], names[3]  # hepatectomy (close) vs systemic therapy
    ds = sa.one_way(ct, params, w)
    ranges = sa.parameter_ranges(ct, params)
    assert ds["parameter"].values.tolist() == ranges.index.tolist()
    base = draw_means(params)
    swing = {}
    for par, row in ranges.iterrows():
        diffs = []
        for bound in ("low", "high"):
            nmb = brute_nmb(ct, base, {par: row[bound]}, w)
            got = ds["nmb"].sel(parameter=par, bound=bound, wtp=w).values
            np.testing.assert_allclose(got, nmb, rtol=1e-10)
            assert (
                ds["recommended"].sel(parameter=par, bound=bound, wtp=w)
                == names[int(np.argmax(nmb))]
            )
            diffs.append(nmb[names.index(a)] - nmb[names.index(b)])
        swing[par] = abs(diffs[1] - diffs[0])
    tab = sa.tornado_table(ds, w, a, b)
    expected = sorted(swing, key=lambda k: -swing[k])
    assert tab.index.tolist() == expected
    np.testing.assert_allclose(tab["swing"], [swing[k] for k in expected], rtol=1e-8)


# --- two-way ----------------------------------------------------------------------------


def test_two_way_small_tree_closed_form(small):
    G, params = small
    px, py = [0.2, 0.35, 0.5], [0.0, 60.0, 150.0]
    ds = sa.two_way(G, params, W, "p", px, "c", py, base=dm.mean_parameters(G))
    for i, x in enumerate(px):
        for j, y in enumerate(py):
            treat, wait = W * x - y, W * 0.3
            assert float(ds["nmb"].sel(wtp=W, strategy="treat")[i, j]) == pytest.approx(treat)
            assert ds["recommended"].sel(wtp=W).values[i, j] == (
                "treat" if treat >= wait else "wait"
            )
    prob = sa.two_way(G, params, W, "p", px, "c", py, probabilistic=True)
    np.testing.assert_allclose(
        prob["nmb"].sel(wtp=W, strategy="treat"), ds["nmb"].sel(wtp=W, strategy="treat")
    )  # linear in p and c: the same as the deterministic grid


def test_two_way_crlm_recommended_map_against_brute_force(crlm):
    ct, params = crlm
    w = 100_000.0
    vx, vy = [0.01, 0.1, 0.3], [0.0, 150_000.0, 300_000.0]
    ds = sa.two_way(ct, params, w, "p_mort90", vx, "c_hepatectomy", vy)
    base = draw_means(params)
    for i, x in enumerate(vx):
        for j, y in enumerate(vy):
            nmb = brute_nmb(ct, base, {"p_mort90": x, "c_hepatectomy": y}, w)
            np.testing.assert_allclose(ds["nmb"].sel(wtp=w).values[i, j], nmb, rtol=1e-10)
            assert (
                ds["recommended"].sel(wtp=w).values[i, j] == ct.strategy_names[int(np.argmax(nmb))]
            )
    assert len(set(ds["recommended"].values.ravel())) > 1  # the map is not uniform


# --- threshold --------------------------------------------------------------------------


def test_threshold_small_tree_exact(small):
    G, params = small
    res = sa.threshold(G, params, W, "p", bracket=(0.01, 0.99))
    c_mean = params["c"].values.mean()
    exact = 0.3 + c_mean / W  # W p - E[c] = W * 0.3
    assert res["threshold"].values.tolist() == pytest.approx([exact], rel=1e-9)
    assert res["below"].values.tolist() == ["wait"]
    assert res["above"].values.tolist() == ["treat"]
    base = "treat" if W * params["p"].values.mean() - c_mean >= W * 0.3 else "wait"
    assert str(res["base_recommended"].values) == base
    p = params["p"].values
    other = np.mean(p < exact) if base == "treat" else np.mean(p >= exact)
    assert float(res["p_other"]) == pytest.approx(other)
    # the cost threshold: W E[p] - c = 0.3 W
    res_c = sa.threshold(G, params, W, "c", bracket=(0.0, 300.0))
    exact_c = W * params["p"].values.mean() - 0.3 * W
    assert float(res_c["threshold"][0]) == pytest.approx(exact_c, rel=1e-9)


def test_threshold_crlm_against_brute_force_bisection(crlm):
    ct, params = crlm
    w, par, bracket = 100_000.0, "c_hepatectomy", (0.0, 1_000_000.0)
    res = sa.threshold(ct, params, w, par, bracket=bracket, n_grid=11)
    assert res.sizes["crossing"] == 1

    def best(v):
        return int(np.argmax(brute_nmb(ct, params, {par: v}, w)))

    lo, hi = bracket
    b_lo, b_hi = best(lo), best(hi)
    assert b_lo != b_hi
    for _ in range(60):  # bisection on the brute-force recommendation
        mid = (lo + hi) / 2
        if best(mid) == b_lo:
            lo = mid
        else:
            hi = mid
    assert float(res["threshold"][0]) == pytest.approx((lo + hi) / 2, rel=1e-6)
    assert res["below"].values.tolist() == [ct.strategy_names[b_lo]]
    assert res["above"].values.tolist() == [ct.strategy_names[b_hi]]
    draws = params[par].values
    t = float(res["threshold"][0])
    assert float(res["p_other"]) == pytest.approx(np.mean(draws > t))


def test_threshold_several_crossings():
    # treat's effect is 4 (p - 0.5)^2: wait (effect 0.09) is preferred for 0.35 < p < 0.65
    G = tree_from_dict(
        {
            "parameters": {"p": {"distribution": "uniform", "low": 0, "high": 1}},
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {"action": "treat", "kind": "terminal", "effect": "4 * (p - 0.5) * (p - 0.5)"},
                    {"action": "wait", "kind": "terminal", "effect": 0.09},
                ],
            },
        }
    )
    params = dm.sample_parameters(G, 5000, 2)
    res = sa.threshold(G, params, 1.0, "p", bracket=(0.0, 1.0))
    assert res["threshold"].values.tolist() == pytest.approx([0.35, 0.65], rel=1e-9)
    assert res["below"].values.tolist() == ["treat", "wait"]
    p = params["p"].values
    base = str(res["base_recommended"].values)
    inside = np.mean((p >= 0.35) & (p < 0.65))
    assert float(res["p_other"]) == pytest.approx(inside if base == "treat" else 1 - inside)


# --- errors -----------------------------------------------------------------------------


def test_bad_input_names_the_parameter(small):
    G, params = small
    with pytest.raises(DecisionModelError, match="'nope'"):
        sa.one_way(G, params, W, pars=["nope"])
    with pytest.raises(DecisionModelError, match="'p'"):
        sa.two_way(G, params, W, "p", [], "c", [1.0])
    with pytest.raises(DecisionModelError, match="wtp"):
        sa.one_way(G, params, -1.0)
    with pytest.raises(sa.NoThresholdError, match="'p'"):
        sa.threshold(G, params, W, "p", bracket=(0.9, 0.99))
    with pytest.raises(DecisionModelError, match="'p'"):
        sa.threshold(G, params, W, "p", bracket=(0.5, 0.5))
    with pytest.raises(DecisionModelError, match="strategy"):
        sa.tornado_table(sa.one_way(G, params, W), W, "treat", "operate")
