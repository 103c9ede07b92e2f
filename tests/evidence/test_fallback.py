"""Fallback priors derived from posteriors (decisionmodel.evidence.fallback)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import decisionmodel as dm
from decisionmodel.evidence.fallback import (
    ROUNDING,
    Z,
    beta_from_moments,
    beta_moments,
    fallback_table,
)
from decisionmodel.exceptions import ParameterDrawsError


@pytest.mark.parametrize("a,b", [(0.3, 6.5), (2.0, 18.6), (31.2, 17.9)])
def test_moments_match_scipy_both_ways(a, b):
    ref = stats.beta(a, b)
    mean, sd = beta_moments(a, b)
    assert mean == pytest.approx(ref.mean(), rel=1e-12)
    assert sd == pytest.approx(ref.std(), rel=1e-12)
    assert beta_from_moments(mean, sd) == pytest.approx((a, b), rel=1e-10)


@pytest.mark.parametrize("mean,sd", [(0.0, 0.1), (1.0, 0.1), (0.5, 0.5), (0.2, 0.0)])
def test_impossible_moments_are_refused(mean, sd):
    with pytest.raises(ValueError, match="no Beta distribution"):
        beta_from_moments(mean, sd)


def _tree(alpha, beta, link="toy.p"):
    return dm.tree_from_dict(
        {
            "parameters": {
                "p": {"distribution": "beta", "alpha": alpha, "beta": beta, "posterior": link},
                "q": {"distribution": "beta", "alpha": 1, "beta": 1},  # not linked
            },
            "tree": {
                "kind": "decision",
                "branches": [
                    {"action": "a", "kind": "terminal", "effect": "p + q"},
                    {"action": "b", "kind": "terminal", "effect": 0.1},
                ],
            },
        }
    )


def _fit(draws):
    return xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), draws)})})


def test_a_matching_fallback_passes_and_a_shifted_one_fails():
    draws = np.random.default_rng(3).beta(3.0, 12.0, size=(4, 2500))
    fit = {"toy": _fit(draws)}
    row = fallback_table(_tree(3.0, 12.0), fit).loc["p"]
    assert bool(row["passed"])
    assert list(fallback_table(_tree(3.0, 12.0), fit).index) == ["p"]
    # independent MCSE for independent draws: sd / sqrt(n)
    assert row["mcse_mean"] == pytest.approx(draws.std() / np.sqrt(draws.size), rel=0.1)
    expected_tol = Z * np.sqrt(2) * row["mcse_mean"] + ROUNDING * row["post_mean"]
    assert row["tol_mean"] == pytest.approx(expected_tol, rel=1e-12)
    assert (row["alpha"], row["beta"]) == pytest.approx((3.0, 12.0), rel=0.05)
    # a mean off by 10 tolerances fails
    shifted = beta_from_moments(row["post_mean"] + 10 * row["tol_mean"], row["post_sd"])
    assert not bool(fallback_table(_tree(*shifted), fit).loc["p", "passed"])


def test_autocorrelated_draws_widen_the_tolerance():
    rng = np.random.default_rng(5)
    iid = rng.beta(3.0, 12.0, size=(4, 2000))
    sticky = np.repeat(iid[:, :200], 10, axis=1)  # every draw repeated 10 times
    t_iid = fallback_table(_tree(3.0, 12.0), {"toy": _fit(iid)}).loc["p", "mcse_mean"]
    t_sticky = fallback_table(_tree(3.0, 12.0), {"toy": _fit(sticky)}).loc["p", "mcse_mean"]
    assert t_sticky > 2.5 * t_iid


def test_missing_fit_or_output_is_a_clear_error():
    with pytest.raises(ParameterDrawsError, match="no fit of 'toy'"):
        fallback_table(_tree(3, 12), {})
    with pytest.raises(ParameterDrawsError, match="no such output"):
        fallback_table(_tree(3, 12, link="toy.nope"), {"toy": _fit(np.full((2, 10), 0.2))})
