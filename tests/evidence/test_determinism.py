"""The posterior is a function of (evidence, model, sampler settings, seed, versions) only.

Measured on this project's machines: with pytensor's default Numba fast-math, the first fit
of ``surgical_risk`` with an empty compile directory and every later fit with the compile
directory warm gave different draws for the same seed (kernels compiled afresh and loaded
from the compile cache round differently, and NUTS amplifies the last bit), so the first
run on a new machine disagreed with all later ones. Fits now run with fast-math off
(:data:`decisionmodel.evidence.cache.COMPILE_FLAGS`). These tests fit a real model in
separate processes, each with its own fresh or warm compile directory, and require
bit-identical draws.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from decisionmodel.evidence import cache
    from decisionmodel.evidence.fit import DEFAULT_SEED, fit, model_rng

    dt = fit("surgical_risk", rng=model_rng(DEFAULT_SEED, "surgical_risk"), cache=False,
             draws=300, tune=300, chains=2, accept_diagnostics=True, cores=1)
    print("CHECKSUM", cache.draws_checksum(dt))
    """
)


def _start_fit(compiledir, tmp_path, name: str) -> subprocess.Popen:
    """Fit ``surgical_risk`` in a new process with its own compile directory and
    posterior cache (the posterior cache is not used: ``cache=False``)."""
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir}"
    env["NUMBA_CACHE_DIR"] = str(compiledir / "numba-cache")
    env["DECISIONMODEL_CACHE"] = str(tmp_path / f"posteriors-{name}")
    env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _checksum(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    (line,) = [x for x in out.splitlines() if x.startswith("CHECKSUM ")]
    return line.split()[1]


@pytest.mark.slow
def test_cold_and_warm_compile_caches_give_bit_identical_draws(tmp_path):
    first = tmp_path / "compile-a"
    other = tmp_path / "compile-b"
    # two cold fits at once, each into its own empty compile directory (as on a new
    # machine, where the first run compiles several models in parallel)
    cold_procs = [_start_fit(first, tmp_path, "a"), _start_fit(other, tmp_path, "b")]
    cold, cold_elsewhere = (_checksum(p) for p in cold_procs)
    assert any(first.rglob("*")), "the fit compiled nothing into its compile directory"
    warm = _checksum(_start_fit(first, tmp_path, "warm"))  # the directory, now warm
    assert cold == warm == cold_elsewhere
