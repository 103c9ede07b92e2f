"""Parameter declarations, sampling moments, reproducibility and input checks.

Moments are compared with closed forms at n = 200,000 draws. The tolerance is
5 standard errors of the estimator: for a mean, sigma / sqrt(n) (sigma from the closed
form); for a variance, the standard error of the mean of the squared deviations,
sqrt(Var[(X - mu)^2] / n), with Var[(X - mu)^2] = mu4 - sigma^4 estimated from the
sample itself (the fourth moment is not needed in closed form for a 5-SE check).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import xarray as xr

from decisionmodel.exceptions import ParameterError
from decisionmodel.params import (
    as_arrays,
    declared_names,
    mean_parameters,
    normalise_spec,
    parameter_specs,
    sample_parameters,
)

N = 200_000
Z = 5.0  # tolerance in standard errors


def _check_moments(x: np.ndarray, mean: float, var: float) -> None:
    n = x.size
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / n) + 1e-15, (x.mean(), mean)
    sq = (x - mean) ** 2
    se_var = sq.std() / math.sqrt(n)
    assert abs(sq.mean() - var) <= Z * se_var + 1e-15, (sq.mean(), var)


# (declaration, closed-form mean, closed-form variance)
a, b = 3.85, 124.5
k, r = 3.19, 1.29e-4
ml, sl = 0.472, 0.3
CASES = {
    "beta": (
        {"distribution": "beta", "alpha": a, "beta": b},
        a / (a + b),
        a * b / ((a + b) ** 2 * (a + b + 1)),
    ),
    "gamma": ({"distribution": "gamma", "shape": k, "rate": r}, k / r, k / r**2),
    "lognormal": (
        {"distribution": "lognormal", "meanlog": ml, "sdlog": sl},
        math.exp(ml + sl**2 / 2),
        (math.exp(sl**2) - 1) * math.exp(2 * ml + sl**2),
    ),
    "normal": ({"distribution": "normal", "mean": 62.0, "sd": 5.0}, 62.0, 25.0),
    "uniform": ({"distribution": "uniform", "low": 0.6, "high": 0.9}, 0.75, 0.3**2 / 12),
}


@pytest.mark.parametrize("dist", sorted(CASES))
def test_sample_moments_match_closed_forms(dist):
    spec, mean, var = CASES[dist]
    ds = sample_parameters({"x": spec}, N, np.random.default_rng(2024))
    x = ds["x"].values
    assert x.shape == (N,)
    assert ds["x"].dims == ("sample",)
    _check_moments(x, mean, var)
    assert ds["x"].attrs["distribution"] == dist


def test_support_of_bounded_distributions():
    specs = {name: CASES[name][0] for name in ("beta", "gamma", "lognormal", "uniform")}
    ds = sample_parameters(specs, 50_000, np.random.default_rng(3))
    assert ((ds["beta"] > 0) & (ds["beta"] < 1)).all()
    assert (ds["gamma"] > 0).all()
    assert (ds["lognormal"] > 0).all()
    assert ((ds["uniform"] >= 0.6) & (ds["uniform"] < 0.9)).all()


def test_dirichlet_moments_names_and_simplex():
    alpha = [409.0, 339.0, 199.0]
    names = ["p_site_liver", "p_site_extra", "p_site_both"]
    specs = {"site": {"distribution": "dirichlet", "alpha": alpha, "names": names}}
    ds = sample_parameters(specs, N, np.random.default_rng(11))
    assert list(ds.data_vars) == names
    a0 = sum(alpha)
    for nm, ai in zip(names, alpha, strict=True):
        _check_moments(ds[nm].values, ai / a0, ai * (a0 - ai) / (a0**2 * (a0 + 1)))
        assert ds[nm].attrs["group"] == "site"
    total = sum(ds[nm].values for nm in names)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
    # covariance between components: -a_i a_j / (a0^2 (a0 + 1))
    x, y = ds[names[0]].values, ds[names[1]].values
    cov = np.mean((x - alpha[0] / a0) * (y - alpha[1] / a0))
    expect = -alpha[0] * alpha[1] / (a0**2 * (a0 + 1))
    prod = (x - alpha[0] / a0) * (y - alpha[1] / a0)
    assert abs(cov - expect) <= Z * prod.std() / math.sqrt(N)
    assert declared_names(specs) == names


def test_fixed_values():
    specs = {
        "c": {"value": 100, "source": "tariff"},
        "d": 2.5,
        "f": {"distribution": "fixed", "value": -1},
    }
    ds = sample_parameters(specs, 7, np.random.default_rng(0))
    np.testing.assert_array_equal(ds["c"].values, np.full(7, 100.0))
    np.testing.assert_array_equal(ds["d"].values, np.full(7, 2.5))
    np.testing.assert_array_equal(ds["f"].values, np.full(7, -1.0))
    assert ds["c"].attrs["source"] == "tariff"
    np.testing.assert_array_equal(ds["sample"].values, np.arange(7))


ALL_SPECS = {
    **{name: spec for name, (spec, _, _) in CASES.items()},
    "fix": {"value": 4.0},
    "dir": {"distribution": "dirichlet", "alpha": [1.0, 2.0, 3.0], "names": ["d1", "d2", "d3"]},
}


def test_same_seed_identical_and_different_seeds_differ():
    x1 = sample_parameters(ALL_SPECS, 1000, np.random.default_rng(42))
    x2 = sample_parameters(ALL_SPECS, 1000, np.random.default_rng(42))
    x3 = sample_parameters(ALL_SPECS, 1000, np.random.default_rng(43))
    assert list(x1.data_vars) == list(x2.data_vars)
    for name in x1.data_vars:
        np.testing.assert_array_equal(x1[name].values, x2[name].values)
        if name != "fix":
            assert not np.array_equal(x1[name].values, x3[name].values), name


def test_rng_is_what_as_generator_accepts_and_required():
    """An int seed or a SeedSequence gives the draws of the generator it seeds; None is
    refused (no silent default seed). Each parameter's stream is keyed_stream(base, name)
    with base the first integer below 2^63 - 1 drawn from the generator, written out here."""
    import zlib

    ref = sample_parameters(ALL_SPECS, 200, np.random.default_rng(42))
    for rng in (42, np.int64(42), np.random.SeedSequence(42)):
        other = sample_parameters(ALL_SPECS, 200, rng)
        for name in ref.data_vars:
            np.testing.assert_array_equal(ref[name].values, other[name].values)
    base = int(np.random.default_rng(42).integers(0, 2**63 - 1))
    own = np.random.default_rng([base, zlib.crc32(b"normal")])
    spec = CASES["normal"][0]
    np.testing.assert_array_equal(ref["normal"].values, own.normal(spec["mean"], spec["sd"], 200))
    with pytest.raises(TypeError, match="rng is required"):
        sample_parameters(ALL_SPECS, 10, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Generator"):
        sample_parameters(ALL_SPECS, 10, np.random.RandomState(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be >= 0"):
        sample_parameters(ALL_SPECS, 10, -1)


def test_parameters_get_independent_streams():
    ds = sample_parameters(
        {
            "u1": {"distribution": "uniform", "low": 0, "high": 1},
            "u2": {"distribution": "uniform", "low": 0, "high": 1},
        },
        N,
        np.random.default_rng(5),
    )
    assert not np.array_equal(ds["u1"].values, ds["u2"].values)
    # correlation of independent uniforms: SE 1/sqrt(n)
    assert abs(np.corrcoef(ds["u1"].values, ds["u2"].values)[0, 1]) < Z / math.sqrt(N)


def test_adding_removing_or_reordering_parameters_leaves_other_draws_unchanged():
    base = sample_parameters(ALL_SPECS, 500, np.random.default_rng(9))
    more = dict(ALL_SPECS)
    more["extra"] = {"distribution": "normal", "mean": 0, "sd": 1}
    more = {"first": {"distribution": "beta", "alpha": 1, "beta": 1}, **more}
    bigger = sample_parameters(more, 500, np.random.default_rng(9))
    fewer = sample_parameters({"gamma": ALL_SPECS["gamma"]}, 500, np.random.default_rng(9))
    reordered = sample_parameters(
        dict(reversed(list(ALL_SPECS.items()))), 500, np.random.default_rng(9)
    )
    for name in base.data_vars:
        np.testing.assert_array_equal(base[name].values, bigger[name].values)
        np.testing.assert_array_equal(base[name].values, reordered[name].values)
    np.testing.assert_array_equal(base["gamma"].values, fewer["gamma"].values)


def test_sample_from_tree_graph_attribute():
    G = nx.DiGraph(parameters={"p": {"distribution": "beta", "alpha": 2, "beta": 8}})
    ds = sample_parameters(G, 10, np.random.default_rng(1))
    assert list(ds.data_vars) == ["p"]


def test_mean_parameters_values():
    ds = mean_parameters(ALL_SPECS)
    expect = {name: mean for name, (_, mean, _) in CASES.items()}
    expect.update({"fix": 4.0, "d1": 1 / 6, "d2": 2 / 6, "d3": 3 / 6})
    assert set(ds.data_vars) == set(expect)
    for name, value in expect.items():
        assert ds[name].dims == ("sample",)
        assert ds[name].shape == (1,)
        assert float(ds[name][0]) == pytest.approx(value, rel=1e-14)
    assert ds.sizes["sample"] == 1


BAD_SPECS = [
    ("x", {"distribution": "weibull", "shape": 1, "scale": 1}),  # unknown distribution
    ("x", {"distribution": "beta", "alpha": 1}),  # missing argument
    ("x", {"distribution": "beta", "alpha": 1, "beta": 2, "gamma": 3}),  # extra argument
    ("x", {"distribution": "normal", "mean": 0, "sd": -1}),  # negative sd
    ("x", {"distribution": "lognormal", "meanlog": 0, "sdlog": -0.1}),  # negative sdlog
    ("x", {"distribution": "lognormal", "meanlog": "a", "sdlog": 0.1}),
    ("x", {"distribution": "normal", "mean": True, "sd": 1}),
    ("x", {"distribution": "uniform", "low": 1, "high": 1}),  # low == high
    ("x", {"distribution": "uniform", "low": 2, "high": 1}),  # low > high
    ("x", {"distribution": "uniform", "low": 0, "high": float("inf")}),
    ("x", {"distribution": "beta", "alpha": 0, "beta": 1}),
    ("x", {"distribution": "beta", "alpha": -1, "beta": 1}),
    ("x", {"distribution": "beta", "alpha": float("nan"), "beta": 1}),
    ("x", {"distribution": "gamma", "shape": 1, "rate": 0}),
    ("x", {"distribution": "gamma", "shape": "1", "rate": 1}),
    (
        "x",
        {"distribution": "dirichlet", "alpha": [1, 2, 3], "names": ["a", "b"]},
    ),  # length mismatch
    ("x", {"distribution": "dirichlet", "alpha": [1], "names": ["a"]}),
    ("x", {"distribution": "dirichlet", "alpha": [1, 0], "names": ["a", "b"]}),
    ("x", {"distribution": "dirichlet", "alpha": [1, 2], "names": ["a", "a"]}),
    ("x", {"distribution": "dirichlet", "alpha": [1, 2], "names": ["a", "b c"]}),
    ("x", {"distribution": "dirichlet", "alpha": [1, 2], "names": "ab"}),
    ("x", {"value": float("nan")}),
    ("x", {"value": True}),
    ("x", {"value": "1"}),
    ("x", {"distribution": "fixed"}),
    ("x", {"source": "no distribution nor value"}),
    ("x", "beta(1, 2)"),
    ("x", [1, 2]),
    ("1abc", 1.0),  # non-identifier names
    ("a-b", 1.0),
    ("_x", 1.0),
    ("", 1.0),
]


@pytest.mark.parametrize(("name", "spec"), BAD_SPECS)
def test_invalid_declarations_raise_parameter_error(name, spec):
    with pytest.raises(ParameterError) as info:
        normalise_spec(name, spec, "model.yaml")
    assert "model.yaml" in str(info.value)
    with pytest.raises(ParameterError):
        sample_parameters({name: spec}, 3, np.random.default_rng(0))
    with pytest.raises(ParameterError):
        mean_parameters({name: spec})


def test_metadata_keys_are_accepted_and_canonical_form():
    spec = {
        "distribution": "beta",
        "alpha": 1,
        "beta": 2,
        "source": "s",
        "unit": "prob",
        "notes": "n",
    }
    out = normalise_spec("p", spec)
    assert out["distribution"] == "beta"
    assert normalise_spec("c", 3) == {"distribution": "fixed", "value": 3}


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_number_of_draws_must_be_positive_integer(n):
    with pytest.raises(ParameterError):
        sample_parameters({"x": 1.0}, n, np.random.default_rng(0))


def test_as_arrays_valid_inputs():
    env, n = as_arrays({"a": [1, 2, 3], "b": 4, "c": np.array([0.5, 0.6, 0.7])})
    assert n == 3
    assert env["b"] == 4.0
    assert env["a"].dtype == float
    env, n = as_arrays({"a": 1.0})
    assert n == 1
    ds = xr.Dataset({"a": ("sample", [1.0, 2.0]), "s": ((), 3.0)})
    env, n = as_arrays(ds)
    assert n == 2
    assert env["s"] == 3.0
    np.testing.assert_array_equal(env["a"], [1.0, 2.0])


@pytest.mark.parametrize(
    "params",
    [
        {"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]},  # mismatched lengths
        {"a": [1.0, float("nan")]},  # NaN
        {"a": [1.0, float("inf")]},
        {"a": float("nan")},
        {"a": [[1.0, 2.0], [3.0, 4.0]]},  # 2-D
        {"a": ["x", "y"]},  # not numeric
        xr.Dataset({"a": (("sample", "other"), np.ones((2, 2)))}),
        xr.Dataset({"a": ("draw", [1.0, 2.0])}),
        xr.Dataset({"a": ("sample", [1.0, np.nan])}),
    ],
)
def test_as_arrays_errors(params):
    with pytest.raises(ParameterError):
        as_arrays(params)


def test_posterior_and_profile_links_are_validated():
    from decisionmodel.params import normalise_spec

    spec = normalise_spec(
        "p",
        {"distribution": "beta", "alpha": 2, "beta": 3, "posterior": "surgical_risk.p_mort90_lung"},
    )
    assert spec["posterior"] == "surgical_risk.p_mort90_lung"
    assert normalise_spec("age", {"value": 62, "profile": "age"})["profile"] == "age"
    bad = [
        ({"distribution": "beta", "alpha": 2, "beta": 3, "posterior": "no_dot"}, "MODEL.OUTPUT"),
        ({"distribution": "beta", "alpha": 2, "beta": 3, "posterior": "a.b.c"}, "MODEL.OUTPUT"),
        ({"distribution": "beta", "alpha": 2, "beta": 3, "posterior": 3}, "MODEL.OUTPUT"),
        ({"distribution": "beta", "alpha": 2, "beta": 3, "profile": "age"}, "fixed value"),
        ({"value": 62, "profile": "not a key"}, "profile key"),
        (
            {"distribution": "dirichlet", "alpha": [1, 2], "names": ["a", "b"], "posterior": "m.o"},
            "dirichlet",
        ),
    ]
    for decl, why in bad:
        with pytest.raises(ParameterError, match=why):
            normalise_spec("x", decl, "f.yaml")


# ----------------------------------------------------------------------------- hostile declarations


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"value": 10**400}, "value is too large"),
        ({"distribution": "gamma", "shape": 10**400, "rate": 1}, "shape is too large"),
        ({"distribution": "lognormal", "meanlog": 1e6, "sdlog": 1}, "too large to represent"),
        ({"distribution": "lognormal", "meanlog": 0, "sdlog": 1e300}, "too large to represent"),
        ({"distribution": "lognormal", "meanlog": "1e6", "sdlog": 1}, "write 1.0e"),
        ({"distribution": "normal", "mean": 1e308, "sd": 1}, "mean is too large"),
        ({"distribution": ["normal"], "mean": 0, "sd": 1}, "distribution must be a name"),
        ({"value": 1, "source": {"a": 1}}, "source must be text"),
        ({"value": 1, "verified": "maybe"}, "verified must be true or false"),
        ({"value": 1, "posterior": "__main__.__dict__"}, "MODEL.OUTPUT"),
        ({"value": 60, "profile": "Age"}, "unknown profile key 'Age'"),
        ({"value": 60, "profile": "sex"}, "unknown profile key 'sex'"),
    ],
)
def test_hostile_declarations_are_refused(spec, match) -> None:
    with pytest.raises(ParameterError, match=match):
        normalise_spec("x", spec)


def test_names_must_be_nfkc_normal() -> None:
    with pytest.raises(ParameterError, match="NFKC"):
        normalise_spec("\ufb01", 1.0)  # 'ﬁ', which formulas read as 'fi'
    group = {"distribution": "dirichlet", "alpha": [1, 1], "names": ["\ufb01", "fi"]}
    with pytest.raises(ParameterError, match="NFKC"):
        normalise_spec("g", group)


def test_dirichlet_component_cannot_redefine_a_parameter() -> None:
    specs = {
        "c_a": {"value": 100},
        "g": {"distribution": "dirichlet", "alpha": [1, 2], "names": ["c_a", "g2"]},
    }
    with pytest.raises(ParameterError, match="'c_a', which is already defined by parameter 'c_a'"):
        parameter_specs(specs)


def test_size_limits(monkeypatch) -> None:
    import decisionmodel.params as params

    group = {
        "distribution": "dirichlet",
        "alpha": [1] * 1001,
        "names": [f"n{i}" for i in range(1001)],
    }
    with pytest.raises(ParameterError, match="more than 1,000 components"):
        normalise_spec("g", group)
    monkeypatch.setattr(params, "MAX_PARAMETERS", 3)
    with pytest.raises(ParameterError, match="more than 3 parameters"):
        parameter_specs({f"q{i}": 1 for i in range(4)})


def test_profile_link_keys_are_the_tree_values() -> None:
    from decisionmodel.clinical.profile import PatientProfile, tree_values
    from decisionmodel.params import PROFILE_LINK_KEYS

    full = PatientProfile(
        age=60,
        sex="f",
        node_positive=True,
        dfi_months=8,
        n_tumours=2,
        cea_ng_ml=5,
        largest_cm=3,
        ras="wild",
        braf="wild",
        sites=["liver", "lung"],
        r0_achievable=True,
        staging_complete=True,
        primary_controlled=True,
        ecog=1,
        fev1_percent=80,
        dlco_percent=80,
    )
    assert set(tree_values(full)) <= set(PROFILE_LINK_KEYS)
    assert set(PROFILE_LINK_KEYS) - set(tree_values(full)) <= {"fong"} | set(
        tree_values(PatientProfile(fong=2))
    )


# ----------------------------------------------------------------------------- with_values


def test_with_values_sets_copies_and_checks():
    from decisionmodel.params import with_values

    specs = {
        "p": {"distribution": "beta", "alpha": 2, "beta": 5, "source": "s"},
        "c": {"value": 10},
    }
    ds = sample_parameters(specs, 4, 3)
    before = ds["p"].values.copy()
    out = with_values(ds, {"p": 0.5, "c": [1, 2, 3, 4], "new": 7})
    assert out["p"].values.tolist() == [0.5] * 4 and out["p"].attrs == ds["p"].attrs
    assert out["c"].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["new"].dims == ("sample",) and out["new"].values.tolist() == [7.0] * 4
    np.testing.assert_array_equal(ds["p"].values, before)  # the input is unchanged
    for bad, why in [
        ({"p": [0.1, 0.2]}, "4 values"),
        ({"p": "x"}, "not a number"),
        ({"p": np.nan}, "finite"),
        ({"p": [[0.1] * 4]}, "shape"),
    ]:
        with pytest.raises(ParameterError, match=why):
            with_values(ds, bad)
