"""Posterior outputs -> the engine's parameter sample, through the one path
(``decisionmodel.evidence.tree_draws.tree_draws``) and its resampling
(``decisionmodel.evidence.draws.resample_index``).

Toy models with known posteriors (``p[c, d] = offset + c * draws + d``: a value tells where
a draw came from) are registered for each test; trees link their parameters to the toy
outputs with ``posterior: MODEL.OUTPUT``.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.evidence import registry
from decisionmodel.evidence import tree_draws as treedrawsmod
from decisionmodel.evidence.draws import posterior_outputs, resample_index
from decisionmodel.evidence.registry import ModelSpec, empty_checks
from decisionmodel.evidence.tree_draws import tree_draws
from decisionmodel.exceptions import ParameterDrawsError, ParameterError
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


@pytest.fixture(autouse=True)
def toys_registered(monkeypatch):
    monkeypatch.setitem(registry.MODELS, "a", A)
    monkeypatch.setitem(registry.MODELS, "b", B)


def linked(**links: str) -> nx.DiGraph:
    """A tree whose parameters are the given links (parameter -> ``MODEL.OUTPUT``)."""
    return nx.DiGraph(
        parameters={p: {"value": 0.0, "posterior": link} for p, link in links.items()}
    )


AB = {"x": "a.x", "x_neg": "a.x_neg", "y": "b.y"}


def test_outputs_are_stacked_chain_major():
    flat = posterior_outputs(A, post(2, 3))
    np.testing.assert_array_equal(flat["x"], [0, 1, 2, 3, 4, 5])
    transposed = spec("t", lambda dt: {"x": dt["posterior"]["p"].transpose("draw", "chain")})
    np.testing.assert_array_equal(posterior_outputs(transposed, post(2, 3))["x"], np.arange(6.0))


def test_same_size_uses_every_draw_once():
    ds, info = tree_draws(
        linked(**AB), 6, rng=1, posteriors={"a": post(2, 3), "b": post(3, 2, offset=100)}
    )
    assert ds.sizes["sample"] == 6
    np.testing.assert_array_equal(ds["sample"], np.arange(6))
    np.testing.assert_array_equal(np.sort(ds["x"]), np.arange(6.0))  # a permutation
    np.testing.assert_array_equal(np.sort(ds["y"]), 100 + np.arange(6.0))
    np.testing.assert_array_equal(ds["x_neg"], -ds["x"])  # one index for a model's outputs
    assert info["models"]["a"]["cache_key"] == "key-0.0"
    assert info["models"]["b"]["cache_key"] == "key-100"
    assert "evidence model a.x (version 1)" in ds["x"].attrs["source"]
    assert {m: r["draws"] for m, r in info["models"].items()} == {"a": 6, "b": 6}


def test_a_larger_posterior_is_subsampled_without_replacement():
    ds, info = tree_draws(
        linked(**AB), 6, rng=1, posteriors={"a": post(2, 5), "b": post(2, 3, offset=100)}
    )
    assert ds.sizes["sample"] == 6
    np.testing.assert_array_equal(np.sort(ds["y"]), 100 + np.arange(6.0))  # all 6 of b's
    x = ds["x"].values
    assert len(set(x)) == 6 and set(x) <= set(np.arange(10.0))  # a subset, no repeats
    np.testing.assert_array_equal(ds["x_neg"], -x)  # one index for all outputs of a model
    assert info["models"]["a"]["draws"] == 10


def test_n_larger_resamples_with_replacement_balanced():
    ds, _ = tree_draws(
        linked(x="a.x", x_neg="a.x_neg"),
        20,
        rng=np.random.default_rng(4),
        posteriors={"a": post(2, 3)},
    )
    counts = np.bincount(ds["x"].values.astype(int), minlength=6)
    assert counts.sum() == 20 and set(counts) == {3, 4}  # each draw used 3 or 4 times
    np.testing.assert_array_equal(ds["x_neg"], -ds["x"])


def test_resampling_is_reproducible_and_seed_dependent():
    posts = {"a": post(4, 50), "b": post(2, 30, offset=1000)}
    G = linked(**AB)
    one, _ = tree_draws(G, 77, rng=np.random.default_rng(1), posteriors=posts)
    two, _ = tree_draws(G, 77, rng=np.random.default_rng(1), posteriors=posts)
    other, _ = tree_draws(G, 77, rng=np.random.default_rng(2), posteriors=posts)
    xr.testing.assert_identical(one, two)
    assert not np.array_equal(one["x"], other["x"])
    # an int seed is the seed of a new generator, as everywhere (decisionmodel.rng)
    xr.testing.assert_identical(tree_draws(G, 77, rng=1, posteriors=posts)[0], one)
    # a model's resampling does not depend on the other models (own stream per name)
    alone, _ = tree_draws(linked(x="a.x"), 77, rng=np.random.default_rng(1), posteriors=posts)
    np.testing.assert_array_equal(alone["x"], one["x"])


def test_resample_index_properties():
    rng = np.random.default_rng(0)
    assert sorted(resample_index(5, 5, rng)) == [0, 1, 2, 3, 4]
    assert len(set(resample_index(100, 40, rng))) == 40
    big = resample_index(7, 100, rng)
    assert big.size == 100 and set(np.bincount(big)) == {14, 15}


def test_a_link_names_its_model_so_output_names_never_clash(monkeypatch):
    """Two models with an output of the same name: each parameter has the draws of the
    model its link names (a model cannot supply a parameter it is not linked to)."""
    monkeypatch.setitem(registry.MODELS, "c", spec("c", B.outputs))
    posts = {"b": post(1, 4), "c": post(1, 4, offset=100)}
    ds, info = tree_draws(linked(y_b="b.y", y_c="c.y"), 4, rng=1, posteriors=posts)
    assert set(ds["y_b"].values) == set(np.arange(4.0))
    assert set(ds["y_c"].values) == set(100 + np.arange(4.0))
    assert info["models"]["b"]["parameters"] == {"y_b": "b.y"}
    assert info["models"]["c"]["parameters"] == {"y_c": "c.y"}


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
def test_bad_outputs_are_errors(monkeypatch, outputs, match):
    monkeypatch.setitem(registry.MODELS, "bad", spec("bad", outputs))
    with pytest.raises(ParameterDrawsError, match=match):
        tree_draws(linked(x="bad.x"), 6, rng=1, posteriors={"bad": post(2, 3)})


def test_declarations_fill_the_rest():
    params = {
        "x": {"distribution": "beta", "alpha": 1, "beta": 1, "posterior": "a.x"},  # linked
        "c": {"value": 2.5, "source": "fixed"},
        "u": {"distribution": "normal", "mean": 0, "sd": 1},
        "site": {"distribution": "dirichlet", "alpha": [1, 2], "names": ["s1", "s2"]},
    }
    G = nx.DiGraph(parameters=params)
    ds, info = tree_draws(G, 8, rng=np.random.default_rng(3), posteriors={"a": post(2, 4)})
    assert set(ds.data_vars) == {"x", "c", "u", "s1", "s2"}
    np.testing.assert_array_equal(np.sort(ds["x"]), np.arange(8.0))  # the posterior wins
    assert ds["c"].attrs["source"] == "fixed" and (ds["c"] == 2.5).all()
    np.testing.assert_allclose(ds["s1"] + ds["s2"], 1.0)
    assert ds["u"].dims == ("sample",) and ds.sizes["sample"] == 8
    assert info["prior"] == ["c", "site", "u"]
    again, _ = tree_draws(G, 8, rng=np.random.default_rng(3), posteriors={"a": post(2, 4)})
    xr.testing.assert_identical(ds, again)


def test_a_tree_without_links_is_sampled_from_its_declarations():
    G = nx.DiGraph(parameters={"p": {"distribution": "beta", "alpha": 2, "beta": 8}})
    ds, info = tree_draws(G, 5000, rng=np.random.default_rng(0))
    assert ds.sizes["sample"] == 5000 and abs(float(ds["p"].mean()) - 0.2) < 0.01
    ref = sample_parameters(G, 5000, np.random.default_rng(0))
    assert ds["p"].attrs == ref["p"].attrs
    np.testing.assert_array_equal(ds["p"], ref["p"])
    assert info["models"] == {}
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'n'"):
        tree_draws(G, rng=1)  # type: ignore[call-arg]


def test_a_dirichlet_group_cannot_be_linked():
    params = {
        "site": {
            "distribution": "dirichlet",
            "alpha": [1, 1],
            "names": ["x", "other"],
            "posterior": "a.x",
        }
    }
    with pytest.raises(ParameterError, match="a dirichlet group cannot take a posterior"):
        tree_draws(nx.DiGraph(parameters=params), 3, rng=1, posteriors={"a": post(1, 3)})


def test_bad_n_and_rng():
    G, posts = linked(x="a.x"), {"a": post(1, 3)}
    with pytest.raises(ParameterDrawsError, match="positive integer"):
        tree_draws(G, 0, rng=1, posteriors=posts)
    with pytest.raises(TypeError, match="rng is required"):  # no silent default seed
        tree_draws(G, 3, rng=None, posteriors=posts)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'rng'"):
        tree_draws(G, 3, posteriors=posts)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="Generator"):
        tree_draws(G, 3, rng="1", posteriors=posts)  # type: ignore[arg-type]


def test_linked_models_are_fitted_by_default(monkeypatch):
    seen = {}

    def fake_fit_all(names, *, seed, **kw):
        seen.update(kw, names=list(names), seed=seed)
        return {"a": post(2, 3)}

    monkeypatch.setattr(treedrawsmod, "fit_all", fake_fit_all)
    ds, info = tree_draws(linked(x="a.x"), 6, rng=1, fit_seed=9, fit_kwargs={"sampler": "pymc"})
    assert seen == {"names": ["a"], "seed": 9, "require": {"a": ["x"]}, "sampler": "pymc"}
    np.testing.assert_array_equal(np.sort(ds["x"]), np.arange(6.0))
    assert info["models"]["a"]["draws"] == 6


def test_the_engine_accepts_the_sample():
    """The Dataset has the layout decisionmodel.evaluate takes (params.as_arrays)."""
    from decisionmodel.params import as_arrays

    G = nx.DiGraph(
        parameters={
            "x": {"value": 0.0, "posterior": "a.x"},
            "x_neg": {"value": 0.0, "posterior": "a.x_neg"},
            "c": {"value": 1.0},
        }
    )
    ds, _ = tree_draws(G, 6, rng=1, posteriors={"a": post(2, 3)})
    arrays, n = as_arrays(ds)
    assert n == 6 and set(arrays) == {"x", "x_neg", "c"}
