"""A 1,000-draw probabilistic analysis (PSA) of each embedded tree: one test, four trees.

For every tree (trees/crlm.yaml, lung_wedge_vs_lobectomy.yaml, peritoneal_crs_hipec.yaml,
whipple_pivot.yaml) 1,000 parameter sets are drawn and evaluated with the path
probabilities: the evaluation raises on any invalid probability; the policies are the
tree's in its order; costs and effects are finite and positive; every path probability lies
in [0, 1] and those of the terminals a policy reaches sum to 1 in every draw. Then the
checks of the one tree: derived probabilities in [0, 1], 5-year overall survival off the
Markov traces (tests/cohort_curves.py) within the range the tree file documents, and the
EVPI against the naive E[max NB] - max E[NB] of the draws.

The tree, its policies and its constants come from the tree's own test module
(tests/test_default_tree.py, tests/test_tree_*.py), imported by bare name as
``cohort_curves`` is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import cohort_curves as cc
import numpy as np
import pytest
import test_default_tree as crlm
import test_tree_lung_wedge as lung
import test_tree_peritoneal as peritoneal
import test_tree_whipple as whipple

import decisionmodel as dm
from decisionmodel.report import summarise


def _crlm_checks(G, ct, params, out):
    S5 = cc.survival_by_policy(ct, params, out)[crlm.CUR_CLOSE][:, crlm.FIVE_YEARS]
    assert ((S5 > 0) & (S5 < 1)).all()
    assert 0.40 < S5.mean() < 0.54


def _lung_checks(G, ct, params, out):
    S5 = {k: v[:, lung.FIVE_YEARS] for k, v in cc.survival_by_policy(ct, params).items()}
    for s5 in S5.values():
        assert ((s5 > 0) & (s5 < 1)).all()
    # documented in the tree file: PSA wedge-arm 5-year OS mean ~0.38 (skewed inputs),
    # no-surgery arm ~0.29 (Beta(6.8, 16.7) through an exponential)
    assert 0.33 < S5[lung.WEDGE].mean() < 0.43
    assert 0.26 < S5[lung.NONE].mean() < 0.31


def _peritoneal_checks(G, ct, params, out):
    ev = dm.evpi(out, wtp=peritoneal.WTP)
    assert (ev["value"].values >= 0).all() and np.isfinite(ev["value"].values).all()
    # EVPI against a naive reference: mean of the per-draw maximum minus the best mean
    for w in peritoneal.WTP:
        nb = (w * out["effect"] - out["cost"]).transpose("sample", "strategy").values
        naive = nb.max(axis=1).mean() - nb.mean(axis=0).max()
        assert float(ev["value"].sel(wtp=w)) == pytest.approx(naive, rel=1e-9, abs=1e-6)


def _whipple_checks(G, ct, params, out):
    wtp = G.graph["wtp"]
    res = summarise(out, wtp)
    assert [p["name"] for p in res["policies"]] == whipple.POLICIES
    for i, w in enumerate(wtp):
        nb = whipple._nb(out, w)
        evpi = nb.max(axis=0).mean() - nb.mean(axis=1).max()
        assert res["evpi"][i] == pytest.approx(evpi, rel=1e-9, abs=1e-6)
        assert res["evpi"][i] >= 0


@dataclass(frozen=True)
class Case:
    """One tree's PSA: its test module (``TREE``, ``POLICIES``), the seed of the draws, the
    derived values that must be probabilities, and the tree's own checks."""

    module: ModuleType
    seed: int
    derived: tuple[str, ...]
    checks: Callable[[Any, Any, Any, Any], None]


CASES = {
    "crlm": Case(crlm, 20261127, (), _crlm_checks),
    "lung_wedge_vs_lobectomy": Case(
        lung,
        20261127,
        ("p_redo_after_wedges", "p_redo_after_lobectomy", "p_mort_lobectomy"),
        _lung_checks,
    ),
    "peritoneal_crs_hipec": Case(peritoneal, 7, (), _peritoneal_checks),
    "whipple_pivot": Case(
        whipple,
        20261127,
        ("p_missed_after_negative_laparoscopy", "p_mort90_close", "p_reobstruction_bypass"),
        _whipple_checks,
    ),
}


@pytest.mark.parametrize("tree", list(CASES))
def test_psa_1000_draws_valid(tree):
    case = CASES[tree]
    G = dm.load_tree(case.module.TREE)
    ct = dm.compile_tree(G)
    params = dm.sample_parameters(G, 1000, np.random.default_rng(case.seed))
    out = dm.evaluate(ct, params, paths=True)  # raises on any invalid probability
    assert list(out["strategy"].values) == case.module.POLICIES
    assert np.isfinite(out["cost"].values).all() and np.isfinite(out["effect"].values).all()
    assert (out["cost"].values > 0).all() and (out["effect"].values > 0).all()
    pp = out["path_probability"].values
    assert ((pp >= 0) & (pp <= 1)).all()
    np.testing.assert_allclose(out["reaches"].values.astype(float) @ pp, 1.0, atol=1e-9)
    if case.derived:
        env, _ = cc.derived_env(ct, params)
        for name in case.derived:
            v = np.asarray(env[name])
            assert ((v >= 0) & (v <= 1)).all(), name
    case.checks(G, ct, params, out)
