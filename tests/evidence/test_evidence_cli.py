"""Tests of ``decisionmodel evidence fit|summary|check`` (toy models, fake sampler)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.cli import main
from decisionmodel.evidence import registry
from decisionmodel.evidence.fit import interval_check
from decisionmodel.evidence.registry import ModelSpec

TOY_YAML = """area: toy
description: toy
entries:
  - {id: doe2020_m90, quantity: mortality_90d, type: events, events: 5, n: 100,
     citation: {authors: "Doe J, Roe R", journal: Ann Surg, year: 2020}, verified: true,
     confidence: F}
  - {id: roe2021_m90, quantity: mortality_90d, type: events, events: 12, n: 200,
     citation: {authors: "Roe R", journal: Br J Surg, year: 2021}, verified: true,
     confidence: F}
"""


def toy_build(evidence):
    entries = evidence["toy"].select(quantity="mortality_90d")
    with pm.Model(coords={"study": [e["id"] for e in entries]}) as model:
        n = pm.Data("n", [e["n"] for e in entries], dims="study")
        events = pm.Data("events", [e["events"] for e in entries], dims="study")
        p = pm.Beta("p", 1, 1)
        pm.Binomial("y", n=n, p=p, observed=events, dims="study")
    return model


def toy_checks(dt, evidence, shift=0.0):
    return pd.DataFrame(
        [
            interval_check(
                f"90-day mortality {e['id']}",
                e["events"] / e["n"] + shift,
                dt["posterior"]["p"],
                e["id"],
                prob=0.99,
            )
            for e in evidence["toy"].select(quantity="mortality_90d")
        ]
    )


TOY = ModelSpec("toy", ("toy",), toy_build, lambda dt: {"p_mort": dt["posterior"]["p"]}, toy_checks)
FAILING = dataclasses.replace(
    TOY, name="toyfail", checks=lambda dt, ev: toy_checks(dt, ev, shift=0.5)
)


class FakeSampler:
    def __init__(self):
        self.calls = 0
        self.divergences = 0

    def __call__(self, draws=1000, *, chains=4, random_seed=None, model=None, **kw):
        self.calls += 1
        model = pm.modelcontext(model)
        n, e = model["n"].get_value().sum(), model["events"].get_value().sum()
        p = np.random.default_rng(random_seed).beta(1 + e, 1 + n - e, size=(chains, draws))
        div = np.zeros((chains, draws), bool)
        div.flat[: self.divergences] = True
        return xr.DataTree.from_dict(
            {
                "posterior": xr.Dataset({"p": (("chain", "draw"), p)}),
                "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), div)}),
            }
        )


@pytest.fixture
def cli(tmp_path: Path, monkeypatch, capsys):
    """Run ``decisionmodel evidence ...`` on the toy models; returns (run, sampler)."""
    priors = tmp_path / "priors"
    priors.mkdir()
    (priors / "toy.yaml").write_text(TOY_YAML, encoding="utf-8")
    sampler = FakeSampler()
    monkeypatch.setattr(pm, "sample", sampler)
    monkeypatch.setattr(registry, "MODELS", {"toy": TOY, "toyfail": FAILING}, raising=False)
    extra = ["--priors", str(priors), "--cache-dir", str(tmp_path / "cache")]

    def run(*args: str) -> tuple[int, str, str]:
        jobs = [] if "--jobs" in args else ["--jobs", "1"]  # no worker processes by default
        rc = main(["evidence", *args, *extra, *jobs])
        out, err = capsys.readouterr()
        return rc, out, err

    return run, sampler


def test_fit_then_cached(cli):
    run, sampler = cli
    rc, out, _ = run("fit", "--model", "toy")
    assert rc == 0 and sampler.calls == 1
    assert "toy" in out and "fitted" in out and "pass" in out and "toy-" in out
    rc, out, _ = run("fit", "--model", "toy")
    assert rc == 0 and sampler.calls == 1 and "cached" in out
    rc, out, _ = run("fit", "--model", "toy", "--refit")
    assert rc == 0 and sampler.calls == 2 and "fitted" in out
    rc, out, _ = run("fit", "--model", "toy", "--seed", "5")
    assert rc == 0 and sampler.calls == 3


def test_fit_all_registered(cli):
    run, sampler = cli
    rc, out, _ = run("fit")
    assert rc == 0 and sampler.calls == 2 and "toyfail" in out


@pytest.mark.slow  # spawns two Python processes that import PyMC (~10 s)
def test_parallel_jobs_fall_back_for_models_workers_cannot_import(cli):
    """Worker processes cannot see the toy models (registered by monkeypatching only in
    this process): they decline, and the models are fitted here, with the same result."""
    run, sampler = cli
    rc, out, _ = run("fit", "--jobs", "2")
    assert rc == 0 and sampler.calls == 2 and out.count("fitted") == 2
    rc, out, _ = run("fit", "--jobs", "2")
    assert rc == 0 and sampler.calls == 2 and out.count("cached") == 2


def test_unknown_model_is_one_line_exit_2(cli):
    run, _ = cli
    rc, out, err = run("fit", "--model", "nope")
    assert rc == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert err.startswith("decisionmodel: error: unknown evidence model 'nope'")


@pytest.mark.parametrize(
    "bad", [["--draws", "0"], ["--chains", "0"], ["--tune", "-1"], ["--jobs", "0"]]
)
def test_bad_settings_exit_2(cli, bad):
    run, sampler = cli
    rc, _, err = run("fit", *bad)
    assert rc == 2 and "must be at least" in err and sampler.calls == 0


def test_missing_priors_directory_exit_2(cli, tmp_path):
    assert cli  # the toy registry and the fake sampler are in place
    rc = main(["evidence", "fit", "--priors", str(tmp_path / "absent")])
    assert rc == 2


def test_failed_gate_exit_2_then_accepted(cli):
    run, sampler = cli
    sampler.divergences = 4
    rc, out, err = run("fit")
    assert rc == 2
    assert "evidence model 'toy' failed the diagnostics gate" in err and "4 divergent" in err
    assert err.count("\n") == 1  # one line, not a line per model and a summary
    assert err.startswith("decisionmodel: error: evidence models 'toy', 'toyfail' failed")
    rc, out, err = run("fit", "--accept-diagnostics")
    assert rc == 0 and "FAIL" in out and sampler.calls == 2  # read from the cache
    rc, _, err = run("summary", "--model", "toy")
    assert rc == 2 and err.count("\n") == 1


def test_summary(cli):
    run, _ = cli
    rc, out, _ = run("summary", "--model", "toy")
    assert rc == 0
    assert "== toy (version 1" in out and "gate pass" in out
    for col in ("mean", "sd", "2.5%", "97.5%", "r_hat", "ess_bulk", "ess_tail"):
        assert col in out
    assert "tree parameters:" in out and "p_mort" in out
    assert "toy.yaml" in out and "sha256" in out and "Doe 2020; Roe 2021" in out


def test_check_exit_codes(cli):
    run, _ = cli
    rc, out, _ = run("check", "--model", "toy")
    assert rc == 0 and "2 of 2 checks passed" in out and "doe2020_m90" in out
    rc, out, err = run("check")
    assert rc == 1 and "2 of 4 checks passed" in out
    assert "2 predictive check(s) failed" in err


def test_help_lists_the_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["evidence", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "fit" in out and "summary" in out and "check" in out
