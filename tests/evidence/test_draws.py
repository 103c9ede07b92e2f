"""Tests of decisionmodel.evidence.draws: posterior outputs -> the engine's parameter sample."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.evidence import draws as drawsmod
from decisionmodel.evidence import registry
from decisionmodel.evidence.draws import parameter_draws, posterior_outputs, resample_index
from decisionmodel.evidence.registry import ModelSpec, empty_checks
from decisionmodel.exceptions import ParameterDrawsError
from decisionmodel.params import sample_parameters


def spec(name: str, outputs) -> ModelSpec:
    return ModelSpec(name, (), lambda ev: pm.Model(), outputs, lambda dt, ev: empty_checks())


def post(chains: int, draws: int, offset: float = 0.0) -> xr.DataTree:
    """p[c, d] = offset + c * draws + d: the value tells where a draw came from."""
    p = offset + np.arange(chains * draws, dtype=float).reshape(chains, draws)
    dt = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), p)})})
    dt.attrs["cache_key"] = f"key-{offset}"
    return dt


A = spec("a", lambda dt: {"x": dt["posterior"]["p"], "x_neg": -dt["posterior"]["p"]})
B = spec("b", lambda dt: {"y": dt["posterior"]["p"]})


def test_outputs_are_stacked_chain_major():
    flat = posterior_outputs(A, post(2, 3))
    np.testing.assert_array_equal(flat["x"], [0, 1, 2, 3, 4, 5])
    transposed = spec("t", lambda dt: {"x": dt["posterior"]["p"].transpose("draw", "chain")})
    np.testing.assert_array_equal(posterior_outputs(transposed, post(2, 3))["x"], np.arange(6.0))


def test_same_size_is_aligned_exactly():
    ds = parameter_draws({A: post(2, 3), B: post(3, 2, offset=100)}, rng=1)
    assert ds.sizes["sample"] == 6
    np.testing.assert_array_equal(ds["sample"], np.arange(6))
    np.testing.assert_array_equal(ds["x"], np.arange(6.0))
    np.testing.assert_array_equal(ds["y"], 100 + np.arange(6.0))
    assert ds["x"].attrs["model"] == "a" and ds["y"].attrs["cache_key"] == "key-100"
    assert "evidence model a (version 1)" in ds["x"].attrs["source"]
    assert json.loads(ds.attrs["posteriors"]) == {
        "a": {"draws": 6, "resampled": False},
        "b": {"draws": 6, "resampled": False},
    }


def test_different_sizes_are_resampled_to_the_smallest_without_replacement():
    ds = parameter_draws({A: post(2, 5), B: post(2, 3, offset=100)}, rng=1)
    assert ds.sizes["sample"] == 6
    np.testing.assert_array_equal(ds["y"], 100 + np.arange(6.0))  # the smaller one kept as is
    x = ds["x"].values
    assert len(set(x)) == 6 and set(x) <= set(np.arange(10.0))  # a subset, no repeats
    np.testing.assert_array_equal(ds["x_neg"], -x)  # one index for all outputs of a model
    assert json.loads(ds.attrs["posteriors"])["a"] == {"draws": 10, "resampled": True}


def test_n_larger_resamples_with_replacement_balanced():
    ds = parameter_draws({A: post(2, 3)}, n=20, rng=np.random.default_rng(4))
    counts = np.bincount(ds["x"].values.astype(int), minlength=6)
    assert counts.sum() == 20 and set(counts) == {3, 4}  # each draw used 3 or 4 times
    np.testing.assert_array_equal(ds["x_neg"], -ds["x"])


def test_resampling_is_reproducible_and_seed_dependent():
    posts = {A: post(4, 50), B: post(2, 30, offset=1000)}
    one = parameter_draws(posts, n=77, rng=np.random.default_rng(1))
    two = parameter_draws(posts, n=77, rng=np.random.default_rng(1))
    other = parameter_draws(posts, n=77, rng=np.random.default_rng(2))
    xr.testing.assert_identical(one, two)
    assert not np.array_equal(one["x"], other["x"])
    # an int seed is the seed of a new generator, as everywhere (decisionmodel.rng)
    xr.testing.assert_identical(parameter_draws(posts, n=77, rng=1), one)
    # a model's resampling does not depend on the other models (own stream per name)
    alone = parameter_draws({A: post(4, 50)}, n=77, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(alone["x"], one["x"])


def test_resample_index_properties():
    rng = np.random.default_rng(0)
    assert sorted(resample_index(5, 5, rng)) == [0, 1, 2, 3, 4]
    assert len(set(resample_index(100, 40, rng))) == 40
    big = resample_index(7, 100, rng)
    assert big.size == 100 and set(np.bincount(big)) == {14, 15}


def test_name_clash_is_an_error():
    with pytest.raises(ParameterDrawsError, match="'y' is supplied by evidence models 'b' and 'c'"):
        parameter_draws({B: post(1, 4), spec("c", B.outputs): post(1, 4)}, rng=1)


@pytest.mark.parametrize(
    "outputs, match",
    [
        (lambda dt: {"x": dt["posterior"]["p"].isel(chain=0)}, r"over \(chain, draw\) exactly"),
        (lambda dt: {"x": dt["posterior"]["p"].values}, "must be a DataArray"),
        (lambda dt: {"not valid": dt["posterior"]["p"]}, "not an identifier"),
        (lambda dt: [dt["posterior"]["p"]], "not a dict"),
        (
            lambda dt: {"x": dt["posterior"]["p"], "z": dt["posterior"]["p"].isel(draw=[0, 1])},
            "has 4 draws, the others 6",
        ),
    ],
)
def test_bad_outputs_are_errors(outputs, match):
    with pytest.raises(ParameterDrawsError, match=match):
        parameter_draws({spec("bad", outputs): post(2, 3)}, rng=1)


def test_direct_declarations_fill_the_rest():
    direct = {
        "x": {"distribution": "beta", "alpha": 1, "beta": 1},  # supplied by a posterior: skipped
        "c": {"value": 2.5, "source": "fixed"},
        "u": {"distribution": "normal", "mean": 0, "sd": 1},
        "site": {"distribution": "dirichlet", "alpha": [1, 2], "names": ["s1", "s2"]},
    }
    ds = parameter_draws({A: post(2, 4)}, direct=direct, rng=np.random.default_rng(3))
    assert set(ds.data_vars) == {"x", "x_neg", "c", "u", "s1", "s2"}
    np.testing.assert_array_equal(ds["x"], np.arange(8.0))  # the posterior wins
    assert ds["c"].attrs["source"] == "fixed" and (ds["c"] == 2.5).all()
    np.testing.assert_allclose(ds["s1"] + ds["s2"], 1.0)
    assert ds["u"].dims == ("sample",) and ds.sizes["sample"] == 8
    again = parameter_draws({A: post(2, 4)}, direct=direct, rng=np.random.default_rng(3))
    xr.testing.assert_identical(ds, again)


def test_direct_from_a_tree_and_without_posteriors():
    G = nx.DiGraph(parameters={"p": {"distribution": "beta", "alpha": 2, "beta": 8}})
    ds = parameter_draws({}, direct=G, n=5000, rng=np.random.default_rng(0))
    assert ds.sizes["sample"] == 5000 and abs(float(ds["p"].mean()) - 0.2) < 0.01
    ref = sample_parameters(G, 5000, np.random.default_rng(0))
    assert ds["p"].attrs == ref["p"].attrs
    with pytest.raises(ParameterDrawsError, match="n is required"):
        parameter_draws({}, direct=G, rng=1)


def test_partly_supplied_dirichlet_is_an_error():
    direct = {"site": {"distribution": "dirichlet", "alpha": [1, 1], "names": ["x", "other"]}}
    with pytest.raises(ParameterDrawsError, match="Dirichlet components x come from"):
        parameter_draws({A: post(1, 3)}, direct=direct, rng=1)


def test_bad_n_and_rng():
    with pytest.raises(ParameterDrawsError, match="positive integer"):
        parameter_draws({A: post(1, 3)}, n=0, rng=1)
    with pytest.raises(TypeError, match="rng is required"):  # no silent default seed
        parameter_draws({A: post(1, 3)}, rng=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'rng'"):
        parameter_draws({A: post(1, 3)})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="Generator"):
        parameter_draws({A: post(1, 3)}, rng="1")  # type: ignore[arg-type]


def test_default_fits_every_registered_model(monkeypatch):
    seen = {}

    def fake_fit_all(*, seed, **kw):
        seen.update(kw, seed=seed)
        return {"a": post(2, 3)}

    monkeypatch.setattr(registry, "MODELS", {"a": A}, raising=False)
    monkeypatch.setattr(drawsmod, "fit_all", fake_fit_all)
    ds = parameter_draws(seed=9, sampler="pymc", rng=1)
    assert seen == {"seed": 9, "sampler": "pymc"}
    np.testing.assert_array_equal(ds["x"], np.arange(6.0))


def test_the_engine_accepts_the_sample():
    """The Dataset has the layout decisionmodel.evaluate takes (params.as_arrays)."""
    from decisionmodel.params import as_arrays

    ds = parameter_draws({A: post(2, 3)}, direct={"c": {"value": 1.0}}, rng=1)
    arrays, n = as_arrays(ds)
    assert n == 6 and set(arrays) == {"x", "x_neg", "c"}
