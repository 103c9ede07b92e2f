"""Fallback priors of posterior-linked tree parameters, and how they are kept honest.

A tree parameter linked to an evidence model (``posterior: MODEL.OUTPUT``) also declares a
distribution: the prior used when the analysis runs without the evidence layer
(``--priors-only``). For the companion trees these fallbacks stand in for the posterior,
so they are **derived from it by a documented procedure**:

1. fit the model with the default seed and settings (the default fit, as every analysis
   obtains it: :func:`~decisionmodel.evidence.fit.fit_all`);
2. take the output's posterior mean ``m`` and standard deviation ``s`` over all chains
   and draws;
3. match a Beta distribution by its moments (:func:`beta_from_moments`):
   ``alpha = m k``, ``beta = (1 - m) k`` with ``k = m (1 - m) / s**2 - 1``;
4. write ``alpha`` and ``beta`` into the tree rounded to three significant figures.

:func:`fallback_table` checks a tree against fits: the declared Beta's mean and sd must
equal the posterior's within **honest Monte Carlo error**: ``z * sqrt(2) * MCSE`` (the
fallback was itself derived from a fit with about the same MCSE; ``z`` = 4 by default,
a false alarm about once in 16,000 comparisons when the MC error is normal), plus the
rounding of step 4 (0.5 % of the value). The MCSEs are ArviZ's (``az.mcse``, methods
``"mean"`` and ``"sd"``), which account for autocorrelation across draws.
``python scripts/fallback_priors.py TREE ...`` prints the table and the values step 3
gives, for updating a tree after its evidence changes.

Examples
--------
>>> a, b = beta_from_moments(0.2, 0.1)
>>> round(a, 6), round(b, 6)
(3.0, 12.0)
>>> [round(v, 6) for v in beta_moments(3.0, 12.0)]
[0.2, 0.1]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.exceptions import ParameterDrawsError

__all__ = ["ROUNDING", "Z", "beta_from_moments", "beta_moments", "fallback_table"]

#: multiples of the Monte Carlo standard error tolerated (see the module docstring)
Z = 4.0
#: relative allowance for writing alpha and beta with three significant figures
ROUNDING = 0.005


def beta_moments(alpha: float, beta: float) -> tuple[float, float]:
    """Mean and standard deviation of Beta(alpha, beta).

    Parameters
    ----------
    alpha, beta : float
        The shape parameters (positive).

    Returns
    -------
    (float, float)
        The mean ``alpha / (alpha + beta)`` and the standard deviation
        ``sqrt(alpha beta / ((alpha + beta)**2 (alpha + beta + 1)))``.

    See Also
    --------
    beta_from_moments : The inverse: the Beta of a mean and standard deviation.

    Examples
    --------
    >>> beta_moments(1.0, 1.0)[0]
    0.5
    """
    total = alpha + beta
    return alpha / total, math.sqrt(alpha * beta / (total**2 * (total + 1.0)))


def beta_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """The Beta distribution with this mean and standard deviation (method of moments).

    Parameters
    ----------
    mean : float
        The mean, in (0, 1).
    sd : float
        The standard deviation, in (0, sqrt(mean (1 - mean))).

    Returns
    -------
    (float, float)
        ``alpha = mean k`` and ``beta = (1 - mean) k`` with
        ``k = mean (1 - mean) / sd**2 - 1`` (unrounded; step 3 of the procedure in the
        module docstring).

    Raises
    ------
    ValueError
        ``mean`` not in (0, 1), or ``sd`` not in (0, sqrt(mean (1 - mean))).

    See Also
    --------
    beta_moments : The inverse: the mean and standard deviation of a Beta.

    Examples
    --------
    >>> beta_from_moments(0.5, 0.6)
    Traceback (most recent call last):
    ...
    ValueError: no Beta distribution has mean 0.5 and sd 0.6 (sd must be below 0.5)
    """
    if not 0.0 < mean < 1.0:
        raise ValueError(f"no Beta distribution has mean {mean} (it must be in (0, 1))")
    limit = math.sqrt(mean * (1.0 - mean))
    if not 0.0 < sd < limit:
        raise ValueError(
            f"no Beta distribution has mean {mean} and sd {sd} (sd must be below {limit:.3g})"
        )
    k = mean * (1.0 - mean) / sd**2 - 1.0
    return mean * k, (1.0 - mean) * k


def _three_figures(x: float) -> float:
    return float(f"{x:.3g}")


def fallback_table(
    tree: nx.DiGraph, fits: Mapping[str, xr.DataTree], *, z: float = Z
) -> pd.DataFrame:
    """Compare a tree's Beta fallback priors with the posteriors they stand in for.

    Parameters
    ----------
    tree : networkx.DiGraph
        A loaded tree; every parameter with ``posterior: MODEL.OUTPUT`` and a ``beta``
        distribution is compared.
    fits : mapping
        Model name -> fit (as :func:`~decisionmodel.evidence.fit.fit_all` returns);
        every model the compared parameters link to must be present.
    z : float
        Multiples of ``sqrt(2) * MCSE`` tolerated.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``link``, ``prior_mean``, ``prior_sd``, ``post_mean``,
        ``post_sd``, ``mcse_mean``, ``mcse_sd``, ``tol_mean``, ``tol_sd``, ``passed``,
        and ``alpha``, ``beta`` (step 3 of the procedure, to three figures).

    Raises
    ------
    ParameterDrawsError
        A linked model is not in ``fits``, or its output is missing.

    Examples
    --------
    >>> import numpy as np, xarray as xr, decisionmodel as dm
    >>> from decisionmodel.evidence.registry import MODELS
    >>> G = dm.tree_from_dict({"parameters": {"p": {"distribution": "beta", "alpha": 3,
    ...     "beta": 12, "posterior": "toy.p"}}, "tree": {"kind": "decision", "branches": [
    ...     {"action": "a", "kind": "terminal", "effect": "p"},
    ...     {"action": "b", "kind": "terminal", "effect": 0.1}]}})
    >>> draws = np.random.default_rng(1).beta(3, 12, size=(4, 2000))
    >>> fit = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), draws)})})
    >>> row = fallback_table(G, {"toy": fit}).loc["p"]
    >>> bool(row["passed"]), row["link"]
    (True, 'toy.p')
    """
    import arviz as az

    from decisionmodel.evidence.registry import MODELS

    rows: dict[str, dict[str, Any]] = {}
    params = tree.graph.get("parameters") or {}
    for name, spec in params.items():
        if not isinstance(spec, Mapping) or spec.get("distribution") != "beta":
            continue
        link = spec.get("posterior")
        if not link:
            continue
        model, output = str(link).split(".", 1)
        if model not in fits:
            raise ParameterDrawsError(f"parameter {name!r} links to {link}: no fit of {model!r}")
        fit = fits[model]
        outs = MODELS[model].outputs(fit) if model in MODELS else fit["posterior"]
        if output not in outs:
            raise ParameterDrawsError(f"parameter {name!r} links to {link}: no such output")
        da = outs[output]
        draws = np.asarray(da, dtype=float)
        post_mean, post_sd = float(draws.mean()), float(draws.std())
        mcse_mean = float(az.mcse(np.asarray(da), method="mean"))
        mcse_sd = float(az.mcse(np.asarray(da), method="sd"))
        prior_mean, prior_sd = beta_moments(float(spec["alpha"]), float(spec["beta"]))
        tol_mean = z * math.sqrt(2.0) * mcse_mean + ROUNDING * abs(post_mean)
        tol_sd = z * math.sqrt(2.0) * mcse_sd + ROUNDING * post_sd
        a, b = beta_from_moments(post_mean, post_sd)
        rows[name] = {
            "link": str(link),
            "prior_mean": prior_mean,
            "prior_sd": prior_sd,
            "post_mean": post_mean,
            "post_sd": post_sd,
            "mcse_mean": mcse_mean,
            "mcse_sd": mcse_sd,
            "tol_mean": tol_mean,
            "tol_sd": tol_sd,
            "passed": bool(
                abs(prior_mean - post_mean) <= tol_mean and abs(prior_sd - post_sd) <= tol_sd
            ),
            "alpha": _three_figures(a),
            "beta": _three_figures(b),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "parameter"
    return table
