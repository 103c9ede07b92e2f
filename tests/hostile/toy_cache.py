"""The toy evidence model and a fast fake sampler shared by the cache tests
(``tests/evidence/test_cache.py``, ``tests/hostile/test_cache_hostile.py``) and the
subprocesses they start (imported by path; :func:`install` replaces ``pymc.sample`` in a
subprocess, the tests use ``monkeypatch``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

from decisionmodel.evidence.registry import ModelSpec, empty_checks

TOY_YAML = """area: toy
description: toy
entries:
  - {{id: a2020_m90, quantity: mortality_90d, type: events, events: {events}, n: 100,
     citation: {{authors: A B, journal: J, year: 2020}}, verified: true, confidence: F}}
"""


def write_toy(directory: Path, events: int = 5) -> Path:
    """A priors folder holding the toy evidence file (``events`` deaths in 100)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "toy.yaml").write_text(TOY_YAML.format(events=events), encoding="utf-8")
    return directory


def build(evidence):
    (e,) = evidence["toy"].select(quantity="mortality_90d")
    with pm.Model() as model:
        pm.Data("n", [e["n"]])
        pm.Data("events", [e["events"]])
        p = pm.Beta("p", 1, 1)
        pm.Binomial("y", n=e["n"], p=p, observed=e["events"])
    return model


TOY = ModelSpec(
    "toy", ("toy",), build, lambda dt: {"p": dt["posterior"]["p"]}, lambda dt, ev: empty_checks()
)


def conjugate_sample(draws=1000, *, chains=4, random_seed=None, model=None, **kw):
    """``pymc.sample`` for the toy model without MCMC: exact draws of the Beta posterior."""
    model = pm.modelcontext(model)
    n, e = model["n"].get_value().sum(), model["events"].get_value().sum()
    p = np.random.default_rng(random_seed).beta(1 + e, 1 + n - e, size=(chains, draws))
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"p": (("chain", "draw"), p)}),
            "sample_stats": xr.Dataset(
                {"diverging": (("chain", "draw"), np.zeros((chains, draws), bool))}
            ),
        }
    )


def fake_sample(draws=1000, *, chains=4, random_seed=None, model=None, **kw):
    """:func:`conjugate_sample`, each call recorded in the file ``$CALLS``, after sleeping
    ``$SAMPLE_SECONDS``."""
    with open(os.environ["CALLS"], "a") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("SAMPLE_SECONDS", "0")))
    return conjugate_sample(draws, chains=chains, random_seed=random_seed, model=model)


def install() -> None:
    """Replace ``pymc.sample`` by :func:`fake_sample` (in a subprocess)."""
    pm.sample = fake_sample
