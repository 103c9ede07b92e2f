"""Population VOI, ENBS and the optimal sample size against the reference truths.

``truth.json`` of every case gives the population EVPI under both discounting conventions
(P = 10,000/yr, T = 10, r = 0.035); ``evsi_normal`` gives the closed-form EVSI at
n = 10, 50, 200, 1000, the ENBS there, the maximum ENBS over integer n (and its argmax, 721).
Where the input is an exact truth the only error is floating point, so those comparisons
use rel = 1e-9. Where it is an estimate from the shipped PSA sample, the tolerance is
check.py's: the population multiplier times the tolerance of the per-person quantity.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import evpi
from decisionmodel.voi.enbs import enbs, enbs_optimum, pop_voi, population_multiplier

CASES = ["lg_p1", "lg_p5", "nl_tree", "evsi_normal"]


def _truth(ref, case):
    return json.loads((ref / "cases" / case / "truth.json").read_text())


def _pop_kwargs(truth):
    p = truth["population"]
    return dict(
        pop_per_year=p["pop_per_year"], horizon=p["horizon_years"], discount=p["discount_rate"]
    )


def _evsi_closed_form(n):
    """evsi_normal: INB = 20000·theta − dc, theta ~ N(0.04, 0.03²), n0 = 100, E[INB] = 200:
    EVSI(n) = L(200, 20000·0.03·sqrt(n/(n+100))) (METHODS.md §4)."""
    s = 20000 * 0.03 * np.sqrt(np.asarray(n, dtype=float) / (np.asarray(n, dtype=float) + 100))
    return s * stats.norm.pdf(200 / s) - 200 * stats.norm.cdf(-200 / s)


def _study_costs(truth):
    """The study costs behind the ENBS truths: ENBS(n) = M·EVSI(n) − (C_fixed + n·C_pp), so
    the four (n, M·EVSI − ENBS) pairs determine C_fixed and C_pp (exactly: residual 0)."""
    q = truth["quantities"]
    m = q["enbs:n=10"]["multiplier"]
    ns = np.array([10.0, 50.0, 200.0, 1000.0])
    cost = np.array(
        [m * q[f"evsi:n={int(n)}"]["truth"] - q[f"enbs:n={int(n)}"]["truth"] for n in ns]
    )
    (c_fixed, c_pp), *_ = np.linalg.lstsq(np.column_stack([np.ones(4), ns]), cost, rcond=None)
    assert np.allclose(c_fixed + c_pp * ns, cost, rtol=1e-9)
    return round(c_fixed, 6), round(c_pp, 6)


# --------------------------------------------------------------------------- pop_voi


@pytest.mark.parametrize("case", CASES)
def test_population_evpi_truths(voi_ref, case):
    """Both multipliers and pop_evpi_cont / pop_evpi_disc are reproduced from the EVPI truth
    to floating-point precision."""
    truth = _truth(voi_ref, case)
    q = truth["quantities"]
    kw = _pop_kwargs(truth)
    for key, kind in (("pop_evpi_cont", "continuous"), ("pop_evpi_disc", "discrete")):
        assert population_multiplier(**kw, kind=kind) == pytest.approx(
            q[key]["multiplier"], rel=1e-12
        )
        assert pop_voi(q["evpi"]["truth"], **kw, kind=kind) == pytest.approx(
            q[key]["truth"], rel=1e-12
        )


@pytest.mark.parametrize("case", CASES)
def test_population_evpi_from_the_psa_sample(voi_ref, case):
    """pop_voi of the EVPI estimated from the shipped sample passes check.py's rule for
    pop_evpi: |estimate − truth| <= multiplier × EVPI tolerance, with the EVPI tolerance
    max(1% of EVPI, 3·sqrt(mc_sd_N² + truth_se²)). The SE scales by the same multiplier."""
    truth = _truth(voi_ref, case)
    q = truth["quantities"]
    est = evpi(pd.read_csv(voi_ref / "cases" / case / "nb.csv"))
    e = q["evpi"]
    tol_evpi = max(0.01 * e["truth"], 3 * math.hypot(e["mc_sd_N"], e["truth_se"]))
    for key, kind in (("pop_evpi_cont", "continuous"), ("pop_evpi_disc", "discrete")):
        pop = pop_voi(est, **_pop_kwargs(truth), kind=kind)
        m = q[key]["multiplier"]
        assert abs(float(pop["value"]) - q[key]["truth"]) <= m * tol_evpi
        assert float(pop["se"]) == pytest.approx(m * float(est["se"]), rel=1e-12)
        assert pop.attrs["population_multiplier"] == pytest.approx(m, rel=1e-12)
        assert pop.attrs["discounting"] == kind


def test_pop_voi_types_and_formulas():
    kw = dict(pop_per_year=1000.0, horizon=3, discount=0.05)
    cont = 1000 / 0.05 * (1 - math.exp(-0.05 * 3))
    disc = 1000 * (1 + 1 / 1.05 + 1 / 1.05**2)
    assert pop_voi(2.0, **kw) == pytest.approx(2 * cont, rel=1e-14)
    assert pop_voi(2.0, **kw, kind="discrete") == pytest.approx(2 * disc, rel=1e-14)
    # zero discount: both conventions give P·T (the limit; voi returns P for r = 0)
    for kind in ("continuous", "discrete"):
        assert pop_voi(2.0, pop_per_year=1000, horizon=3, discount=0, kind=kind) == 6000.0
    arr = pop_voi(np.array([1.0, 2.0]), **kw)
    np.testing.assert_allclose(arr, [cont, 2 * cont], rtol=1e-14)
    da = xr.DataArray([1.0, 2.0], dims=("wtp",), coords={"wtp": [1.0, 2.0]})
    out = pop_voi(da, **kw)
    assert isinstance(out, xr.DataArray) and out.dims == ("wtp",)
    ds = xr.Dataset({"value": da, "se": da / 10, "other": da})
    pop = pop_voi(ds, **kw)
    np.testing.assert_allclose(pop["se"].values, cont * da.values / 10)
    np.testing.assert_array_equal(pop["other"].values, da.values)  # untouched
    np.testing.assert_array_equal(ds["value"].values, [1.0, 2.0])  # input not modified


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(pop_per_year=-1, horizon=10, discount=0.035), "pop_per_year"),
        (dict(pop_per_year=10, horizon=0, discount=0.035), "horizon"),
        (dict(pop_per_year=10, horizon=10, discount=3.5), "as a fraction"),
        (dict(pop_per_year=10, horizon=10, discount=-0.1), "discount"),
        (dict(pop_per_year=10, horizon=10.5, discount=0.03, kind="discrete"), "whole number"),
        (dict(pop_per_year=10, horizon=10, discount=0.03, kind="annual"), "kind"),
        (dict(pop_per_year="many", horizon=10, discount=0.03), "expected a number"),
    ],
)
def test_pop_voi_bad_input(kwargs, fragment):
    with pytest.raises(VOIInputError, match=fragment):
        pop_voi(1.0, **kwargs)


# --------------------------------------------------------------------------- ENBS


def test_enbs_truths_from_the_closed_form_evsi(voi_ref):
    """ENBS(n) at n = 10, 50, 200, 1000 from the closed-form EVSI truths equals the
    enbs:n=.. truths (continuous discounting) to floating-point precision."""
    truth = _truth(voi_ref, "evsi_normal")
    q = truth["quantities"]
    c_fixed, c_pp = _study_costs(truth)
    assert (c_fixed, c_pp) == (200_000.0, 1500.0)
    ns = [10, 50, 200, 1000]
    res = enbs(
        {n: q[f"evsi:n={n}"]["truth"] for n in ns},
        **_pop_kwargs(truth),
        cost_fixed=c_fixed,
        cost_per_patient=c_pp,
    )
    assert res["enbs"].dims == ("n",)
    for n in ns:
        assert float(res["enbs"].sel(n=n)) == pytest.approx(q[f"enbs:n={n}"]["truth"], rel=1e-9)
        assert float(res["cost"].sel(n=n)) == c_fixed + n * c_pp
    # our closed form agrees with the truths (the same formula, to rounding)
    np.testing.assert_allclose(
        _evsi_closed_form(ns), [q[f"evsi:n={n}"]["truth"] for n in ns], rtol=1e-12
    )
    assert (res["se"] == 0).all() and (res["p_positive"] == 1).all()


def test_enbs_max_and_optimal_n(voi_ref):
    """enbs_max is the maximum over integer n in 1..20000 of the closed-form ENBS (argmax
    721, truth.json 'enbs_nopt'). Over that integer grid the optimum is exact; over the four
    design sizes the grid search returns n = 1000 (1% below the maximum), and the smooth
    EVSI(n) fit through the same four points lands within 0.5% of enbs_max and inside the
    truth's near-optimal band 342..1447 (ENBS within 5% of its maximum)."""
    truth = _truth(voi_ref, "evsi_normal")
    q = truth["quantities"]
    c_fixed, c_pp = _study_costs(truth)
    kw = dict(**_pop_kwargs(truth), cost_fixed=c_fixed, cost_per_patient=c_pp)
    all_n = np.arange(1, 20001)
    full = enbs(xr.DataArray(_evsi_closed_form(all_n), dims=("n",), coords={"n": all_n}), **kw)
    opt = enbs_optimum(full, rng=1)
    assert float(opt["enbs_max"]) == pytest.approx(q["enbs_max"]["truth"], rel=1e-9)
    assert int(opt["n_opt"]) == int(q["enbs_nopt"]["truth"]) == 721
    assert (int(opt["n_lower"]), int(opt["n_upper"])) == (342, 1447)
    # no uncertainty in the inputs: the intervals collapse to the point estimates
    assert float(opt["n_opt_lower"]) == float(opt["n_opt_upper"]) == 721
    assert float(opt["p_positive"]) == 1.0

    four = enbs({n: q[f"evsi:n={n}"]["truth"] for n in (10, 50, 200, 1000)}, **kw)
    grid = enbs_optimum(four, rng=0)
    assert int(grid["n_opt"]) == 1000
    assert float(grid["enbs_max"]) == pytest.approx(q["enbs:n=1000"]["truth"], rel=1e-9)
    smooth = enbs_optimum(four, smooth=True, rng=0)
    assert float(smooth["enbs_max"]) == pytest.approx(q["enbs_max"]["truth"], rel=0.005)
    assert 342 <= int(smooth["n_opt"]) <= 1447


def test_enbs_from_an_evsi_dataset_with_se_and_wtp():
    """Standard errors propagate linearly; uncertain costs (95% intervals) add in
    quadrature; n_arms multiplies the per-patient cost; p_positive = Phi(ENBS/se)."""
    n = [50.0, 100.0, 400.0]
    w = [1000.0, 2000.0]
    value = np.array([[1.0, 2.0], [1.5, 3.0], [2.0, 4.5]])
    se = np.full_like(value, 0.1)
    ds = xr.Dataset(
        {"value": (("n", "wtp"), value), "se": (("n", "wtp"), se)},
        coords={"n": n, "wtp": w},
        attrs={"quantity": "evsi", "method": "gam"},
    )
    res = enbs(
        ds,
        pop_per_year=100,
        horizon=10,
        discount=0,
        cost_fixed=(800, 1200),
        cost_per_patient=2.0,
        n_arms=2,
    )
    m = 1000.0
    assert res["enbs"].dims == ("n", "wtp")
    cost = 1000 + 2 * 2.0 * np.array(n)
    np.testing.assert_allclose(res["cost"].values, cost)
    np.testing.assert_allclose(res["enbs"].values, m * value - cost[:, None])
    sd_fixed = 400 / (2 * stats.norm.ppf(0.975))
    np.testing.assert_allclose(res["se"].values, np.sqrt((m * se) ** 2 + sd_fixed**2))
    np.testing.assert_allclose(
        res["p_positive"].values, stats.norm.cdf(res["enbs"].values / res["se"].values)
    )
    assert res.attrs["method"] == "gam" and res.attrs["n_arms"] == 2

    opt = enbs_optimum(res, rng=3, draws=400)
    assert opt["n_opt"].dims == ("wtp",)
    best = (m * value - cost[:, None]).max(axis=0)
    np.testing.assert_allclose(opt["enbs_max"].values, best)
    assert (opt["n_opt_lower"] <= opt["n_opt"]).all() and (opt["n_opt"] <= opt["n_opt_upper"]).all()
    assert (opt["enbs_max_lower"] < opt["enbs_max"]).all()
    assert (opt["enbs_max"] < opt["enbs_max_upper"]).all()
    again = enbs_optimum(res, rng=3, draws=400)
    xr.testing.assert_identical(opt, again)  # reproducible with a seed


def test_optimum_uncertainty_reflects_the_evsi_standard_errors():
    """With noisy EVSI the optimal n spreads over neighbouring sizes and P(ENBS > 0) falls
    when the maximum ENBS is within its SE of zero."""
    n = np.array([100.0, 200.0, 300.0, 400.0])
    value = np.array([10.0, 14.0, 15.0, 15.5])
    ds = xr.Dataset({"value": ("n", value), "se": ("n", np.full(4, 1.0))}, coords={"n": n})
    kw = dict(pop_per_year=100, horizon=1, discount=0, cost_per_patient=1.0)
    res = enbs(ds, cost_fixed=0, **kw)  # ENBS 900, 1200, 1200, 1150: a near tie
    opt = enbs_optimum(res, rng=0, draws=2000)
    assert float(opt["n_opt_lower"]) <= 200 and float(opt["n_opt_upper"]) >= 300
    smooth = enbs_optimum(res, smooth=True, rng=0, draws=2000)
    assert 100 <= float(smooth["n_opt"]) <= 400
    assert float(smooth["n_opt_lower"]) <= float(smooth["n_opt"]) <= float(smooth["n_opt_upper"])
    # a study that only just pays for itself
    marginal = enbs(ds, cost_fixed=1150, **kw)
    p = float(enbs_optimum(marginal, rng=0)["p_positive"])
    assert p == pytest.approx(stats.norm.cdf(50 / 100), rel=1e-9)


@pytest.mark.parametrize(
    ("evsi_result", "kwargs", "fragment"),
    [
        (xr.DataArray([1.0, 2.0], dims=("k",)), {}, "no 'n' dimension"),
        (xr.DataArray([1.0, 2.0], dims=("n",), coords={"n": [5, 5]}), {}, "repeat"),
        (xr.DataArray([1.0, 2.0], dims=("n",), coords={"n": [0, 5]}), {}, "> 0"),
        (
            xr.DataArray([[1.0]], dims=("n", "group"), coords={"n": [5]}),
            {},
            "unexpected dimension",
        ),
        ({5: 1.0}, {"n_arms": 0}, "n_arms"),
        ({5: 1.0}, {"cost_fixed": (1, 2, 3, 4)}, "cost_fixed"),
        ({5: 1.0}, {"cost_per_patient": -1}, ">= 0"),
        ({5: float("nan")}, {}, "finite"),
        ("evsi", {}, "expected the Dataset"),
    ],
)
def test_enbs_bad_input(evsi_result, kwargs, fragment):
    kw = dict(pop_per_year=10, horizon=5, discount=0.03, cost_fixed=100.0, cost_per_patient=1.0)
    kw.update(kwargs)
    with pytest.raises(VOIInputError, match=fragment):
        enbs(evsi_result, **kw)


def test_enbs_optimum_bad_input():
    res = enbs(
        {5: 1.0, 10: 2.0},
        pop_per_year=10,
        horizon=5,
        discount=0.03,
        cost_fixed=1,
        cost_per_patient=1,
    )
    with pytest.raises(VOIInputError, match="3 or more"):
        enbs_optimum(res, smooth=True)
    with pytest.raises(VOIInputError, match="pcut"):
        enbs_optimum(res, pcut=1.5)
    with pytest.raises(VOIInputError, match="draws"):
        enbs_optimum(res, draws=0)
    with pytest.raises(VOIInputError, match="returned by enbs"):
        enbs_optimum(xr.Dataset())


def test_enbs_from_estimated_evsi_passes_the_reference_tolerance(voi_ref):
    """End to end on evsi_normal: EVSI estimated from the shipped PSA by decisionmodel's
    evsi (normal_known, sd = 0.3, as truth.json's r_voi_equivalent), then ENBS. check.py's
    rule for enbs:n=..: |ENBS − truth| <= multiplier × EVSI tolerance, with the EVSI
    tolerance max(15% of EVSI, 3·mc_sd_N, 1% of EVPI)."""
    evsi_mod = pytest.importorskip("decisionmodel.voi.evsi")
    from decisionmodel.voi.studies import get_study

    truth = _truth(voi_ref, "evsi_normal")
    q = truth["quantities"]
    d = voi_ref / "cases" / "evsi_normal"
    ns = [10, 50, 200, 1000]
    est = evsi_mod.evsi(
        pd.read_csv(d / "nb.csv"),
        pd.read_csv(d / "inputs.csv"),
        study=get_study("normal_known", ["theta"], sd=0.3),
        n=ns,
        rng=np.random.default_rng(7),
    )
    c_fixed, c_pp = _study_costs(truth)
    res = enbs(est, **_pop_kwargs(truth), cost_fixed=c_fixed, cost_per_patient=c_pp)
    for n in ns:
        qe, qn = q[f"evsi:n={n}"], q[f"enbs:n={n}"]
        tol = max(0.15 * qe["truth"], 3 * qe["mc_sd_N"], 0.01 * q["evpi"]["truth"])
        assert abs(float(res["enbs"].sel(n=n)) - qn["truth"]) <= qn["multiplier"] * tol
    opt = enbs_optimum(res, smooth=True, rng=0)
    assert 342 <= float(opt["n_opt"]) <= 1447 or float(opt["n_opt_lower"]) <= 721
    assert float(opt["p_positive"]) > 0.99
