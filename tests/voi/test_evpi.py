"""EVPI against closed forms, the shared reference cases and R voi's results on its example."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import evpi


def _case(ref, name):
    d = ref / "cases" / name
    truth = json.loads((d / "truth.json").read_text())
    return d, truth


@pytest.mark.parametrize("case", ["lg_p1", "lg_p5", "evsi_normal"])
def test_evpi_equals_the_exact_sample_value_and_is_near_the_truth(voi_ref, case):
    """The PSA estimator on the shipped sample equals the case's exact sample value, and is
    within 3 Monte Carlo SDs (mc_sd_N, from 300 replicate samples) of the closed form."""
    d, truth = _case(voi_ref, case)
    q = truth["quantities"]["evpi"]
    out = evpi(pd.read_csv(d / "nb.csv"))
    assert float(out["value"]) == pytest.approx(q["sample_value"], rel=1e-9)
    assert abs(float(out["value"]) - q["truth"]) <= 3 * q["mc_sd_N"]
    # the reported SE is the Monte Carlo SE of a mean of N losses: same order as mc_sd_N
    assert 0.3 * q["mc_sd_N"] < float(out["se"]) < 3 * q["mc_sd_N"]


def test_cost_effect_form_on_a_wtp_grid(voi_ref):
    d, truth = _case(voi_ref, "nl_tree")
    grid = [10000.0, 20000.0, 30000.0, 50000.0]
    out = evpi(costs=pd.read_csv(d / "costs.csv"), effects=pd.read_csv(d / "effects.csv"), wtp=grid)
    assert out["value"].dims == ("wtp",)
    for k in grid:
        q = truth["quantities"][f"evpi@k={int(k)}"]
        assert float(out["value"].sel(wtp=k)) == pytest.approx(q["sample_value"], rel=1e-6)


def test_r_voi_chemotherapy_example(voi_ref):
    """voi 1.0.3 (Jackson & Heath) on its own chemotherapy example: EVPI 368.605096225918 at
    WTP 20,000, and per WTP from the cost/effect files (voi_results.csv)."""
    chemo = voi_ref / "voi-chemo"
    res = pd.read_csv(chemo / "voi_results.csv")
    ref = res[(res.quantity == "evpi") & (res.data == "chemo_nb")]["value"].item()
    assert float(evpi(pd.read_csv(chemo / "chemo_nb.csv"))["value"]) == pytest.approx(
        ref, rel=1e-10
    )
    k = pd.read_csv(chemo / "chemo_cea_k.csv")["k"].to_numpy(dtype=float)
    out = evpi(
        costs=pd.read_csv(chemo / "chemo_cea_c.csv"),
        effects=pd.read_csv(chemo / "chemo_cea_e.csv"),
        wtp=k,
    )
    rows = res[(res.quantity == "evpi") & (res.data == "chemo_cea")]
    for _, row in rows.iterrows():
        assert float(out["value"].sel(wtp=row.wtp)) == pytest.approx(row.value, rel=1e-10)


def test_two_normal_strategies_closed_form():
    """INB ~ N(mu, s^2): EVPI = s*phi(mu/s) - |mu|*Phi(-|mu|/s) (unit normal loss)."""
    rng = np.random.default_rng(3)
    mu, s, n = 100.0, 400.0, 400_000
    inb = rng.normal(mu, s, n)
    nb = np.column_stack([np.zeros(n), inb])
    exact = s * stats.norm.pdf(mu / s) - abs(mu) * stats.norm.cdf(-abs(mu) / s)
    out = evpi(nb)
    assert abs(float(out["value"]) - exact) < 4 * float(out["se"])


def test_naive_definition_and_invariances():
    rng = np.random.default_rng(0)
    nb = rng.normal(size=(500, 3)) * [1, 2, 3] + [0.1, 0.0, -0.1]
    naive = nb.max(axis=1).mean() - nb.mean(axis=0).max()
    assert float(evpi(nb)["value"]) == pytest.approx(naive, rel=1e-12)
    assert float(evpi(nb + 1e6)["value"]) == pytest.approx(naive, rel=1e-6)
    dominant = np.column_stack([nb[:, 0], nb[:, 0] + 1.0])
    assert float(evpi(dominant)["value"]) == 0.0


def test_engine_outcomes_and_dataarray_input():
    ds = xr.Dataset(
        {
            "cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
            "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 2.0]]),
        },
        coords={"strategy": ["a", "b"]},
    )
    out = evpi(ds, wtp=[10.0])
    # NB_b = [-10, 10]: E max = 5, max E = 0
    assert float(out["value"].sel(wtp=10.0)) == pytest.approx(5.0)
    da = xr.DataArray(
        [[0.0, 0.0], [-10.0, 10.0]], dims=("strategy", "sample"), coords={"strategy": ["a", "b"]}
    )
    assert float(evpi(da)["value"]) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"nb": np.ones((5, 1))}, "at least 2 strategies"),
        ({"nb": np.array([[1.0, np.nan], [0.0, 1.0]])}, "NaN"),
        ({"nb": pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]})}, "not numeric"),
        ({"costs": np.ones((3, 2)), "effects": np.ones((3, 2))}, "wtp is required"),
        ({"costs": np.ones((3, 2)), "effects": np.ones((4, 2)), "wtp": 1}, "shape"),
        ({"costs": np.ones((3, 2)), "effects": np.ones((3, 2)), "wtp": -1}, ">= 0"),
        ({"nb": np.ones((3, 2)), "wtp": 5}, "only meaningful"),
        ({}, "give nb"),
    ],
)
def test_bad_input(kwargs, fragment):
    with pytest.raises(VOIInputError, match=fragment):
        evpi(**kwargs)
