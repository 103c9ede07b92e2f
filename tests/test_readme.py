"""The README's Python API example runs as written and gives sensible values."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block() -> str:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (block,) = [b for b in blocks if "tree_draws(G" in b]
    return block


@pytest.mark.slow
def test_the_python_api_example(monkeypatch):
    monkeypatch.chdir(README.parent)
    env: dict = {}
    exec(compile(_python_block(), "README.md", "exec"), env)
    params, info = env["params"], env["info"]
    assert isinstance(params, xr.Dataset) and params.sizes["sample"] == 10_000
    assert set(info["models"]) >= {"crlm_survival", "surgical_risk"}
    assert isinstance(env["prior_params"], xr.Dataset)
    outcomes = env["outcomes"]
    evpi = env["dm"].evpi(outcomes, wtp=[100_000])["value"].item()
    rank = env["rank"]
    assert rank.iloc[0]["evppi"] > 0
    groups = env["dm"].evppi(
        outcomes,
        params,
        pars=[["p_mort90"], ["p_mort90", "p_peritoneal_at_laparotomy"]],
        wtp=100_000,
        rng=1,
    )
    one, both = groups["value"].sel(wtp=100_000).values
    # the groups of the example have value, and 0 <= EVPPI(A) <= EVPPI(A u B) <= EVPI,
    # up to the estimators' standard errors
    se = groups["se"].sel(wtp=100_000).values
    assert one > 0 and both > 0
    assert one <= both + 3 * np.hypot(*se) and both <= evpi + 3 * se[1]
