"""A tree's parameter sample with evidence links (``decisionmodel.evidence.tree_draws``).

A toy evidence model with a known posterior (chain x draw arrays written here) is
registered for each test; the references are the posterior arrays themselves and
``decisionmodel.sample_parameters``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.evidence import registry
from decisionmodel.evidence.registry import ModelSpec, empty_checks
from decisionmodel.evidence.tree_draws import evidence_links, profile_links, tree_draws
from decisionmodel.exceptions import ParameterDrawsError, UnknownModelError
from decisionmodel.params import sample_parameters
from decisionmodel.tree.io import tree_from_dict

X = np.arange(12.0).reshape(3, 4) / 100  # 3 chains x 4 draws, all distinct


def _outputs(dt):
    p = dt["posterior"]["x"]
    return {"out_a": p, "out_b": 2 * p}


def _profile(dt, cov):
    p = dt["posterior"]["x"]
    return {"hr": xr.ones_like(p) * (3.0 if cov.get("braf") == "mutant" else 1.0)}


TOY = ModelSpec(
    "toy_model",
    (),
    lambda ev: pm.Model(),
    _outputs,
    lambda dt, ev: empty_checks(),
    profile_outputs=_profile,
)
FIT = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": (("chain", "draw"), X)})})


@pytest.fixture(autouse=True)
def toy_registered(monkeypatch):
    monkeypatch.setitem(registry.MODELS, "toy_model", TOY)


def _tree(**extra):
    params = {
        "a": {"distribution": "beta", "alpha": 2, "beta": 3, "posterior": "toy_model.out_a"},
        "b": {"distribution": "beta", "alpha": 2, "beta": 3, "posterior": "toy_model.out_b"},
        "hr": {"value": 1, "posterior": "toy_model.hr"},
        "c": {"distribution": "gamma", "shape": 2, "rate": 1},
        "age": {"value": 60, "profile": "age"},
        **extra,
    }
    return tree_from_dict(
        {"parameters": params, "tree": {"kind": "terminal", "name": "t", "effect": "a + b + c"}}
    )


def test_links_are_read_from_the_declarations():
    G = _tree()
    assert evidence_links(G) == {
        "a": ("toy_model", "out_a"),
        "b": ("toy_model", "out_b"),
        "hr": ("toy_model", "hr"),
    }
    assert profile_links(G) == {"age": "age"}


def test_priors_only_is_exactly_sample_parameters():
    G = _tree()
    ds, info = tree_draws(G, 50, rng=np.random.default_rng(4), evidence=False)
    ref = sample_parameters(G, 50, np.random.default_rng(4))
    for name in ref.data_vars:
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    assert info["models"] == {} and set(info["prior"]) == {"a", "b", "hr", "c", "age"}


@pytest.mark.parametrize("n", [5, 12, 40])
def test_posterior_draws_replace_linked_parameters_with_the_joint_kept(n):
    G = _tree()
    ds, info = tree_draws(G, n, rng=np.random.default_rng(1), posteriors={"toy_model": FIT})
    a, b = ds["a"].values, ds["b"].values
    assert set(a) <= set(X.ravel())  # posterior values, nothing else
    np.testing.assert_array_equal(b, 2 * a)  # one resampling index per model
    counts = np.bincount(np.rint(a * 100).astype(int), minlength=12)
    assert counts.max() - counts.min() <= 1 if n >= 12 else counts.max() == 1  # balanced
    np.testing.assert_array_equal(ds["hr"].values, np.ones(n))  # no profile: pooled
    # direct parameters are the priors-only draws (common random numbers)
    ref = sample_parameters(G, n, np.random.default_rng(1))
    np.testing.assert_array_equal(ds["c"].values, ref["c"].values)
    assert info["models"]["toy_model"]["parameters"] == {
        "a": "toy_model.out_a",
        "b": "toy_model.out_b",
        "hr": "toy_model.hr",
    }
    assert ds["a"].attrs["source"].startswith("evidence model toy_model.out_a")


def test_same_seed_same_sample_and_profile_inputs_act():
    G = _tree()
    kw = {"posteriors": {"toy_model": FIT}, "covariates": {"braf": "mutant"}, "values": {"age": 71}}
    d1, info = tree_draws(G, 30, rng=np.random.default_rng(9), **kw)
    d2, _ = tree_draws(G, 30, rng=np.random.default_rng(9), **kw)
    xr.testing.assert_identical(d1, d2)
    np.testing.assert_array_equal(d1["hr"].values, np.full(30, 3.0))
    np.testing.assert_array_equal(d1["age"].values, np.full(30, 71.0))
    assert info["profile_values"] == {"age": 71.0}


def test_bad_links_and_values_are_named_errors():
    G = _tree(z={"value": 1, "posterior": "toy_model.no_such_output"})
    with pytest.raises(ParameterDrawsError, match=r"'z'.*no output 'no_such_output'"):
        tree_draws(G, 5, rng=np.random.default_rng(1), posteriors={"toy_model": FIT})
    G = _tree(z={"value": 1, "posterior": "unregistered.x"})
    with pytest.raises(UnknownModelError, match="unregistered"):
        tree_draws(G, 5, rng=np.random.default_rng(1), posteriors={"toy_model": FIT})
    with pytest.raises(ParameterDrawsError, match="age"):
        tree_draws(_tree(), 5, rng=np.random.default_rng(1), evidence=False, values={"age": np.nan})
    with pytest.raises(ParameterDrawsError, match="positive integer"):
        tree_draws(_tree(), 0, rng=np.random.default_rng(1), evidence=False)
