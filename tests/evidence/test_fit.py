"""Tests of decisionmodel.evidence.fit and .registry: fitting, the diagnostics gate, helpers.

Unit tests replace ``pymc.sample`` by a fake that draws the toy beta-binomial model's exact
conjugate posterior with numpy (no compilation, no MCMC); one test goes through
``pymc.testing.mock_sample``; the ``slow`` tier runs real NUTS end to end.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.evidence import cache as _cache
from decisionmodel.evidence import fit as fitmod
from decisionmodel.evidence import registry
from decisionmodel.evidence.files import load_all
from decisionmodel.evidence.fit import (
    DEFAULT_SAMPLER,
    MAX_RHAT,
    MIN_ESS,
    check_diagnostics,
    diagnostics,
    fit,
    fit_all,
    interval_check,
    model_rng,
    run_checks,
)
from decisionmodel.evidence.registry import CHECK_COLUMNS, ModelSpec, empty_checks, get_spec
from decisionmodel.exceptions import (
    DecisionModelError,
    DiagnosticsError,
    EvidenceModelError,
    MissingEvidenceError,
    UnknownModelError,
)

# ----------------------------------------------------------------------------- toy model


def write_toy(directory: Path, events=(5, 12), n=(100, 200), area="toy") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(
        f"  - {{id: {area}{i}_2020_m90, quantity: mortality_90d, type: events, events: {e}, n: {k},"
        f" citation: {{authors: 'Author{i} A', journal: J, year: 2020}}, verified: true,"
        f" confidence: F}}"
        for i, (e, k) in enumerate(zip(events, n, strict=True))
    )
    (directory / f"{area}.yaml").write_text(
        f"area: {area}\ndescription: toy\nentries:\n{rows}\n", encoding="utf-8"
    )
    return directory


def toy_build(evidence):
    entries = evidence["toy"].select(quantity="mortality_90d")
    with pm.Model(coords={"study": [e["id"] for e in entries]}) as model:
        n = pm.Data("n", [e["n"] for e in entries], dims="study")
        events = pm.Data("events", [e["events"] for e in entries], dims="study")
        p = pm.Beta("p", 1, 1)
        pm.Binomial("y", n=n, p=p, observed=events, dims="study")
    return model


def toy_outputs(dt):
    p = dt["posterior"]["p"]
    return {"p_mort": p, "p_alive": 1 - p}


def toy_checks(dt, evidence):
    rows = [
        interval_check(e["id"], e["events"] / e["n"], dt["posterior"]["p"], e["id"], prob=0.99)
        for e in evidence["toy"].select(quantity="mortality_90d")
    ]
    return pd.DataFrame(rows)


TOY = ModelSpec("toy", ("toy",), toy_build, toy_outputs, toy_checks)


class FakeSampler:
    """Stands in for pm.sample: exact Beta posterior draws of the toy model, per chain."""

    def __init__(self, divergences: int = 0, shift: float = 0.0):
        self.calls: list[dict] = []
        self.divergences = divergences
        self.shift = shift

    def __call__(self, draws=1000, *, tune=None, chains=4, random_seed=None, model=None, **kw):
        self.calls.append(dict(kw, draws=draws, tune=tune, chains=chains, random_seed=random_seed))
        model = pm.modelcontext(model)
        n = model["n"].get_value()
        e = model["events"].get_value()
        rng = np.random.default_rng(random_seed)
        p = rng.beta(1 + e.sum(), 1 + (n - e).sum(), size=(chains, draws))
        p[0] += self.shift  # a chain stuck elsewhere -> bad R-hat
        div = np.zeros((chains, draws), dtype=bool)
        div.flat[: self.divergences] = True
        coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
        return xr.DataTree.from_dict(
            {
                "posterior": xr.Dataset({"p": (("chain", "draw"), p)}, coords=coords),
                "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), div)}, coords=coords),
                "observed_data": xr.Dataset({"y": ("study", e)}),
            }
        )


@pytest.fixture
def toy_dir(tmp_path):
    return write_toy(tmp_path / "priors")


@pytest.fixture
def fake(monkeypatch):
    sampler = FakeSampler()
    monkeypatch.setattr(pm, "sample", sampler)
    return sampler


def posterior_tree(**arrays) -> xr.DataTree:
    return xr.DataTree.from_dict(
        {"posterior": xr.Dataset({k: (("chain", "draw"), v) for k, v in arrays.items()})}
    )


# ----------------------------------------------------------------------------- registry


def test_modelspec_contract():
    fields = [(f.name, f.default) for f in dataclasses.fields(ModelSpec)]
    names = [f for f, _ in fields]
    assert names == [
        "name",
        "files",
        "build",
        "outputs",
        "checks",
        "version",
        "draws",
        "sample_kwargs",
        "profile_outputs",
    ]
    assert dict(fields)["version"] == "1" and dict(fields)["draws"] == 1000
    assert TOY.sample_kwargs == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOY.name = "x"  # type: ignore[misc]
    assert tuple(empty_checks().columns) == CHECK_COLUMNS


def test_registry_loads_specs_and_skips_absent_modules(tmp_path, monkeypatch):
    pkg = tmp_path / "toyreg_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models_a.py").write_text(
        textwrap.dedent(
            """
            from decisionmodel.evidence.registry import ModelSpec, empty_checks
            SPECS = [ModelSpec("m1", (), lambda ev: None, lambda dt: {},
                               lambda dt, ev: empty_checks())]
            """
        )
    )
    (pkg / "models_dup.py").write_text("from toyreg_pkg.models_a import SPECS\n")
    (pkg / "models_broken.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = registry.load_models(["toyreg_pkg.models_a", "toyreg_pkg.models_absent"])
    assert list(found) == ["m1"]
    with pytest.raises(UnknownModelError, match="defined twice"):
        registry.load_models(["toyreg_pkg.models_a", "toyreg_pkg.models_dup"])
    with pytest.raises(ModuleNotFoundError):  # an error inside an existing module propagates
        registry.load_models(["toyreg_pkg.models_broken"])


def test_registry_models_is_a_dict_of_specs():
    assert isinstance(registry.MODELS, dict)
    assert all(isinstance(s, ModelSpec) and s.name == k for k, s in registry.MODELS.items())


def test_get_spec_unknown_lists_known(monkeypatch):
    monkeypatch.setattr(registry, "MODELS", {"toy": TOY}, raising=False)
    assert get_spec("toy") is TOY and get_spec(TOY) is TOY
    with pytest.raises(UnknownModelError, match=r"'nope' \(known: toy\)") as info:
        get_spec("nope")
    assert isinstance(info.value, DecisionModelError)


# ----------------------------------------------------------------------------- fit


def test_fit_samples_with_explicit_settings_and_records_them(toy_dir, fake, tmp_path):
    dt = fit(TOY, toy_dir, rng=np.random.default_rng(3), cache_dir=tmp_path / "c", draws=500)
    (call,) = fake.calls
    assert call["nuts_sampler"] == DEFAULT_SAMPLER
    assert call["cores"] == 1  # under pytest
    assert call["draws"] == 500 and call["tune"] == 1000 and call["chains"] == 4
    assert isinstance(call["random_seed"], int)
    assert call["random_seed"] == int(np.random.default_rng(3).integers(0, 2**31 - 1))
    a = dt.attrs
    assert a["model"] == "toy" and a["model_version"] == "1" and a["seed"] == call["random_seed"]
    assert a["diagnostics_passed"] == 1 and a["divergences"] == 0 and a["from_cache"] == 0
    assert len(a["cache_key"]) == 64 and "toy" in a["evidence"]
    # the fake draws the exact posterior Beta(18, 284)
    assert float(dt["posterior"]["p"].mean()) == pytest.approx(18 / 302, rel=0.02)


def test_fit_applies_the_models_own_draws_and_nuts_settings(toy_dir, fake, tmp_path):
    spec = dataclasses.replace(TOY, draws=1500, sample_kwargs={"target_accept": 0.93})
    fit(spec, toy_dir, rng=1, cache_dir=tmp_path / "c")
    fit(spec, toy_dir, rng=1, cache_dir=tmp_path / "c", draws=300)  # the caller's wins
    first, second = fake.calls
    assert first["draws"] == 1500 and first["target_accept"] == 0.93
    assert second["draws"] == 300 and second["target_accept"] == 0.93
    # the NUTS settings are part of the cache key; models without them keep their keys
    ev = {"toy": "0" * 64}
    kw = {"seed": 1, "sampler": "pymc", "draws": 10, "tune": 10, "chains": 2}
    assert _cache.cache_key(spec, ev, **kw) != _cache.cache_key(
        dataclasses.replace(spec, sample_kwargs={"target_accept": 0.8}), ev, **kw
    )
    assert "sample_kwargs" not in _cache.key_document(TOY, ev, **kw)


def test_fit_accepts_an_int_seed_and_a_name(toy_dir, fake, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "MODELS", {"toy": TOY}, raising=False)
    a = fit("toy", toy_dir, rng=7, cache=False)
    b = fit("toy", load_all(toy_dir), rng=np.random.default_rng(7), cache=False)
    assert a.attrs["seed"] == b.attrs["seed"]
    np.testing.assert_array_equal(a["posterior"]["p"], b["posterior"]["p"])


def test_fit_passes_only_the_declared_areas_to_build(tmp_path, fake):
    d = write_toy(tmp_path / "p")
    write_toy(d, area="other")
    seen = {}

    def build(ev):
        seen.update(ev)
        return toy_build(ev)

    fit(dataclasses.replace(TOY, build=build), d, rng=1, cache=False)
    assert list(seen) == ["toy"]


def test_gate_refuses_divergences_and_names_the_model(toy_dir, monkeypatch):
    monkeypatch.setattr(pm, "sample", FakeSampler(divergences=3))
    with pytest.raises(DiagnosticsError) as info:
        fit(TOY, toy_dir, rng=1, cache=False)
    err = info.value
    assert err.model == "toy" and err.divergences == 3
    assert "evidence model 'toy'" in str(err) and "3 divergent transitions" in str(err)
    assert isinstance(err, DecisionModelError)


def test_gate_refuses_bad_rhat_and_lists_variable_and_value(toy_dir, monkeypatch):
    monkeypatch.setattr(pm, "sample", FakeSampler(shift=0.2))
    with pytest.raises(DiagnosticsError, match=r"r_hat > 1\.01: p=\d+\.\d{4}") as info:
        fit(TOY, toy_dir, rng=1, cache=False)
    stats = {s for s, var, _ in info.value.failures}
    assert "r_hat" in stats and all(var == "p" for _, var, _ in info.value.failures)


def test_accept_diagnostics_records_the_failure(toy_dir, monkeypatch, tmp_path):
    monkeypatch.setattr(pm, "sample", FakeSampler(divergences=2))
    dt = fit(TOY, toy_dir, rng=1, accept_diagnostics=True, cache_dir=tmp_path / "c")
    assert dt.attrs["diagnostics_passed"] == 0 and dt.attrs["divergences"] == 2
    assert "divergent" in dt.attrs["diagnostics_message"]
    # a failed fit is cached too: asking again without accepting fails fast, no sampling
    monkeypatch.setattr(pm, "sample", None)
    with pytest.raises(DiagnosticsError, match="2 divergent"):
        fit(TOY, toy_dir, rng=1, cache_dir=tmp_path / "c")


def test_fit_rejects_bad_arguments(toy_dir, fake):
    with pytest.raises(EvidenceModelError, match="unknown sampler"):
        fit(TOY, toy_dir, rng=1, sampler="stan", cache=False)  # type: ignore[arg-type]
    with pytest.raises(EvidenceModelError, match="draws must be"):
        fit(TOY, toy_dir, rng=1, draws=0, cache=False)
    with pytest.raises(TypeError, match="Generator"):
        fit(TOY, toy_dir, rng="seed", cache=False)  # type: ignore[arg-type]
    with pytest.raises(MissingEvidenceError, match="'toy' reads area"):
        fit(dataclasses.replace(TOY, files=("toy", "absent")), toy_dir, rng=1, cache=False)
    with pytest.raises(EvidenceModelError, match=r"not a pymc\.Model"):
        fit(dataclasses.replace(TOY, build=lambda ev: None), toy_dir, rng=1, cache=False)
    assert not fake.calls


def test_missing_nutpie_is_a_clear_error(toy_dir, fake, monkeypatch):
    real = fitmod.importlib.util.find_spec
    monkeypatch.setattr(
        fitmod.importlib.util, "find_spec", lambda n: None if n == "nutpie" else real(n)
    )
    with pytest.raises(EvidenceModelError, match=r"nutpie sampler is not installed.*'pymc'"):
        fit(TOY, toy_dir, rng=1, sampler="nutpie", cache=False)
    fit(TOY, toy_dir, rng=1, sampler="pymc", cache=False)
    assert len(fake.calls) == 1


def test_fit_all_seeds_each_model_by_name(toy_dir, fake):
    other = dataclasses.replace(TOY, name="other")
    both = fit_all([other, TOY], toy_dir, seed=5, cache=False)
    alone = fit_all([TOY], toy_dir, seed=5, cache=False)
    assert list(both) == ["other", "toy"]
    assert both["toy"].attrs["seed"] == alone["toy"].attrs["seed"] != both["other"].attrs["seed"]
    assert alone["toy"].attrs["seed"] == int(model_rng(5, "toy").integers(0, 2**31 - 1))


def test_fit_with_pymc_mock_sample(toy_dir, tmp_path, monkeypatch):
    """The fit goes through PyMC's own mock (prior predictive), made chain-independent."""
    from pymc.testing import mock_sample

    def sample(*, draws, chains, **kw):
        dt = mock_sample(draws=draws * chains, chains=1, random_seed=kw["random_seed"])
        post = dt["posterior"].to_dataset()
        p = post["p"].values.reshape(chains, draws)
        dt["posterior"] = xr.Dataset({"p": (("chain", "draw"), p)})
        return dt

    monkeypatch.setattr(pm, "sample", sample)
    dt = fit(TOY, toy_dir, rng=2, draws=200, chains=4, cache_dir=tmp_path / "c")
    assert dt["posterior"]["p"].shape == (4, 200)
    assert dt.attrs["diagnostics_passed"] == 1  # independent prior draws: ESS ~ 800


# ----------------------------------------------------------------------------- diagnostics


def test_diagnostics_table_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, size=(4, 1000))
    table = diagnostics(posterior_tree(x=x))
    row = table.loc["x"]
    assert row["mean"] == pytest.approx(x.mean())
    assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-3)
    assert row["lower"] == pytest.approx(np.quantile(x, 0.025), abs=0.05)
    assert row["upper"] == pytest.approx(np.quantile(x, 0.975), abs=0.05)
    assert row["r_hat"] < MAX_RHAT and row["ess_bulk"] > 3000 and bool(row["passed"])
    assert table.attrs["divergences"] == 0


def test_gate_on_constructed_trees():
    rng = np.random.default_rng(1)
    good = rng.normal(size=(4, 500))
    walk = np.cumsum(rng.normal(size=(4, 500)), axis=1)  # autocorrelated: tiny ESS
    split = good + np.array([[0], [0], [0], [4.0]])  # one chain elsewhere
    vec = rng.normal(size=(4, 500, 2))
    vec[..., 1] = np.cumsum(vec[..., 1], axis=1)
    dt = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "good": (("chain", "draw"), good),
                    "walk": (("chain", "draw"), walk),
                    "split": (("chain", "draw"), split),
                    "const": (("chain", "draw"), np.full((4, 500), 2.0)),
                    "almost": (("chain", "draw"), 2.07 + rng.normal(0, 1e-16, (4, 500))),
                    "theta": (("chain", "draw", "site"), vec),
                },
                coords={"site": ["liver", "lung"]},
            ),
            "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 500)))}),
        }
    )
    table = diagnostics(dt)
    assert table["passed"].to_dict() == {
        "good": True,
        "walk": False,
        "split": False,
        "const": True,  # constant: R-hat undefined, nothing to mix
        "almost": True,  # constant up to rounding noise
        "theta[liver]": True,
        "theta[lung]": False,
    }
    err = check_diagnostics(dt, "toy", table)
    msg = str(err)
    assert msg.startswith("evidence model 'toy' failed the diagnostics gate")
    assert "split=" in msg and "walk=" in msg and "theta[lung]=" in msg
    assert "good" not in msg and "const" not in msg and "theta[liver]" not in msg
    assert "almost" not in msg
    assert f"< {MIN_ESS:g}" in msg and "divergent" not in msg
    assert {v for _, v, _ in err.failures} == {"walk", "split", "theta[lung]"}
    assert check_diagnostics(posterior_tree(good=good)) is None


def test_gate_lists_a_few_variables_then_counts():
    rng = np.random.default_rng(2)
    walks = {f"v{i}": np.cumsum(rng.normal(size=(2, 200)), axis=1) for i in range(12)}
    err = check_diagnostics(posterior_tree(**walks), "big")
    assert "and 4 more" in str(err)


def test_gate_nan_fails():
    x = np.random.default_rng(0).normal(size=(4, 500))
    x[1, 7] = np.nan
    err = check_diagnostics(posterior_tree(x=x), "nan")
    assert err is not None and "x=nan" in str(err)


# ----------------------------------------------------------------------------- checks helpers


def test_interval_check_row():
    row = interval_check("t", 0.5, np.linspace(0, 1, 1001), "Doe 2020")
    assert list(row) == list(CHECK_COLUMNS)
    assert row["lower"] == pytest.approx(0.025) and row["upper"] == pytest.approx(0.975)
    assert row["passed"]
    assert not interval_check("t", 2.0, np.linspace(0, 1, 11), "x")["passed"]
    assert not interval_check("t", 0.0, [np.nan], "x")["passed"]


def test_run_checks_validates_the_frame(toy_dir, fake):
    dt = fit(TOY, toy_dir, rng=1, cache=False)
    table = run_checks(TOY, dt, toy_dir)
    assert list(table.columns) == ["model", *CHECK_COLUMNS]
    assert table["passed"].all() and len(table) == 2
    bad = dataclasses.replace(TOY, checks=lambda dt, ev: pd.DataFrame({"target": ["x"]}))
    with pytest.raises(EvidenceModelError, match="lacks column"):
        run_checks(bad, dt, toy_dir)
    with pytest.raises(EvidenceModelError, match="not a DataFrame"):
        run_checks(dataclasses.replace(TOY, checks=lambda dt, ev: []), dt, toy_dir)


# ----------------------------------------------------------------------------- cores


def test_fit_cores_come_from_the_environment_not_from_the_test_runner(monkeypatch):
    """``DECISIONMODEL_FIT_CORES`` sets the chains' processes (at most the chains); the
    test runner's own variables change nothing."""
    import os
    import threading

    monkeypatch.setenv(fitmod.FIT_CORES_ENV, "3")
    assert fitmod._safe_cores(4, "nutpie") == 3
    assert fitmod._safe_cores(2, "pymc") == 2
    monkeypatch.delenv(fitmod.FIT_CORES_ENV)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x.py::t (call)")
    cpus = len(os.sched_getaffinity(0))
    assert fitmod._safe_cores(4, "nutpie") == min(4, cpus)
    out: list[int] = []
    worker = threading.Thread(target=lambda: out.append(fitmod._safe_cores(4, "pymc")))
    worker.start()
    worker.join()
    assert out == [1]  # pymc forks: never from a thread


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5"])
def test_bad_fit_cores_environment_is_named(monkeypatch, raw):
    monkeypatch.setenv(fitmod.FIT_CORES_ENV, raw)
    with pytest.raises(EvidenceModelError, match=f"DECISIONMODEL_FIT_CORES '{raw}'"):
        fitmod._safe_cores(4, "nutpie")


# ----------------------------------------------------------------------------- slow: real NUTS


@pytest.mark.slow
def test_real_fit_end_to_end(toy_dir, tmp_path, monkeypatch):
    """Real NUTS (PyMC's sampler) on the toy model: gate, cache, draws, predictive checks."""
    from decisionmodel.evidence.tree_draws import tree_draws

    monkeypatch.setenv(fitmod.FIT_CORES_ENV, "1")
    cache = tmp_path / "cache"
    dt = fit(TOY, toy_dir, rng=11, draws=400, tune=400, chains=4, sampler="pymc", cache_dir=cache)
    assert dt.attrs["diagnostics_passed"] == 1 and dt.attrs["from_cache"] == 0
    p = dt["posterior"]["p"]
    assert float(p.mean()) == pytest.approx(18 / 302, abs=0.004)  # Beta(18, 284)
    again = fit(
        TOY, toy_dir, rng=11, draws=400, tune=400, chains=4, sampler="pymc", cache_dir=cache
    )
    assert again.attrs["from_cache"] == 1
    np.testing.assert_array_equal(again["posterior"]["p"], p)
    monkeypatch.setitem(registry.MODELS, "toy", TOY)
    params = {
        "c": {"value": 1.0},
        "p_mort": {"value": 0.5, "posterior": "toy.p_mort"},
        "p_alive": {"value": 0.5, "posterior": "toy.p_alive"},
    }
    ds, info = tree_draws(nx.DiGraph(parameters=params), 1600, rng=1, posteriors={"toy": again})
    assert ds.sizes["sample"] == 1600 and info["models"]["toy"]["draws"] == 1600
    np.testing.assert_allclose(ds["p_mort"] + ds["p_alive"], 1.0)
    assert run_checks(TOY, again, toy_dir)["passed"].all()
    pp = fitmod.posterior_predictive(toy_build(load_all(toy_dir)), again, thin=4)
    assert pp["posterior_predictive"]["y"].shape == (4, 100, 2)
    prior = fitmod.prior_predictive(toy_build(load_all(toy_dir)), draws=50, random_seed=1)
    assert prior["prior"]["p"].shape == (1, 50)


@pytest.mark.slow
def test_registered_models_in_parallel_workers(tmp_path):
    """Two registered models fitted in two worker processes (jobs=2), handed over through
    the cache; their outputs and checks honour the ModelSpec contract."""
    from decisionmodel.evidence.outputs import posterior_outputs
    from decisionmodel.evidence.tree_draws import tree_draws

    wanted = [n for n in ("intraoperative", "tumour_kinetics") if n in registry.MODELS]
    if len(wanted) < 2:
        pytest.skip("needs the intraoperative and tumour_kinetics models")
    small = dict(draws=100, tune=100, chains=2, accept_diagnostics=True, cache_dir=tmp_path)
    fits = fit_all(wanted, seed=3, jobs=2, **small)
    assert [fits[n].attrs["from_cache"] for n in wanted] == [0, 0]
    again = fit_all(wanted, seed=3, jobs=2, **small)
    assert [again[n].attrs["from_cache"] for n in wanted] == [1, 1]
    for n in wanted:
        xr.testing.assert_equal(fits[n]["posterior"], again[n]["posterior"])
        table = run_checks(n, again[n])
        assert list(table.columns) == ["model", *CHECK_COLUMNS] and len(table) > 0
    params = {
        f"{n}_{out}": {"value": 0.0, "posterior": f"{n}.{out}"}
        for n in wanted
        for out in posterior_outputs(get_spec(n), again[n])
    }
    ds, info = tree_draws(nx.DiGraph(parameters=params), 200, rng=1, posteriors=again)
    assert ds.sizes["sample"] == 200 and len(ds.data_vars) > 0
    assert [info["models"][n]["draws"] for n in wanted] == [200, 200]


# ----------------------------------------------------------------------------- lazy evidence


def test_cache_hit_from_a_directory_does_not_parse_the_yaml(toy_dir, fake, tmp_path, monkeypatch):
    cdir = tmp_path / "c"
    first = fit(TOY, load_all(toy_dir), rng=1, cache_dir=cdir)  # parsed mapping
    fit_all([TOY], toy_dir, seed=1, cache_dir=cdir)
    assert len(fake.calls) == 2
    monkeypatch.setattr(fitmod, "load_all", lambda d: pytest.fail("parsed the evidence"))
    again = fit(TOY, toy_dir, rng=1, cache_dir=cdir)  # a directory: file digests only
    assert again.attrs["from_cache"] == 1 and again.attrs["cache_key"] == first.attrs["cache_key"]
    assert fit_all([TOY], toy_dir, seed=1, cache_dir=cdir)["toy"].attrs["from_cache"] == 1
    assert len(fake.calls) == 2
    with pytest.raises(pytest.fail.Exception, match="parsed the evidence"):
        fit(TOY, toy_dir, rng=2, cache_dir=cdir)  # a miss must parse (and validate)


def test_evidence_dir_scan_and_fallback(tmp_path):
    d = write_toy(tmp_path / "p")
    (d / "flow.yaml").write_text(  # a flow-style file: no "area:" line to find
        "{area: flow, description: d, entries: [{id: flow2020_m90, quantity: mortality_90d,"
        " type: events, events: 1, n: 10, citation: {authors: A B, journal: J, year: 2020},"
        " verified: true, confidence: F}]}\n",
        encoding="utf-8",
    )
    ev = fitmod.EvidenceDir(d)
    digests = ev.digests()  # the flow-style file cannot be scanned: everything is parsed
    assert digests == {a: e.digest for a, e in load_all(d).items()}
    assert set(ev.paths()) == {"toy", "flow"}
    (d / "flow.yaml").unlink()
    quoted = fitmod.EvidenceDir(write_toy(tmp_path / "q", area="other"))
    text = (tmp_path / "q" / "other.yaml").read_text().replace("area: other", 'area: "other"  # x')
    (tmp_path / "q" / "other.yaml").write_text(text)
    assert list(quoted.digests()) == ["other"]
    with pytest.raises(DecisionModelError, match="no such directory"):
        fitmod.EvidenceDir(tmp_path / "absent").digests()
    with pytest.raises(MissingEvidenceError, match="reads area"):
        fit(dataclasses.replace(TOY, files=("nope",)), d, rng=1, cache=False)


def test_fit_keeps_only_useful_sample_stats(toy_dir, monkeypatch, tmp_path):
    def sample(**kw):
        dt = FakeSampler()(**kw)
        stats = dt["sample_stats"].to_dataset()
        stats["perf_counter_diff"] = stats["diverging"].astype(float)
        stats["lp"] = stats["diverging"].astype(float)
        dt["sample_stats"] = stats
        dt["constant_data"] = xr.Dataset()
        return dt

    monkeypatch.setattr(pm, "sample", sample)
    dt = fit(TOY, toy_dir, rng=1, cache_dir=tmp_path / "c")
    assert set(dt["sample_stats"].data_vars) == {"diverging", "lp"}
    assert "constant_data" not in dt.children and "observed_data" in dt.children
