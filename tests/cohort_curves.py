"""Shared helpers of the tree tests: fixtures and survival curves read off Markov cohorts.

Not a test file. It holds what the value tests of the embedded trees
(tests/test_default_tree.py, tests/test_tree_*.py, tests/test_crlm_analysis.py) have in
common:

* :func:`tree_fixtures`, the module fixtures ``G``, ``ct`` and ``means`` of a tree file;
* :func:`derived_env`, the parameter arrays of a sample with the tree's derived values;
* :func:`terminal_trace` and :func:`terminal_survival`, the Markov cohort of one terminal
  (its trace, or its overall survival 1 - P(dead));
* :func:`survival_by_policy`, the overall survival of every policy, its terminals weighted
  by their path probabilities;
* :func:`median_months`, the median read off a monthly survival curve;
* :func:`with_values`, a copy of a parameter sample with some parameters set.

The test files in tests/ import it by its bare name (``import cohort_curves as cc``, or
``from cohort_curves import ...``): pytest puts the folder of a test file, which has no
``__init__.py``, on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import decisionmodel as dm
from decisionmodel.params import as_arrays
from decisionmodel.params import with_values as dm_with_values
from decisionmodel.tree.compile import CompiledTree
from decisionmodel.tree.markov import MarkovModel, run_markov


def tree_fixtures(tree: Path) -> tuple[Any, Any, Any]:
    """Module-scoped fixtures of a tree file.

    Parameters
    ----------
    tree : Path
        The tree's YAML file.

    Returns
    -------
    tuple
        The fixtures ``G`` (the loaded tree), ``ct`` (the compiled tree) and ``means`` (the
        parameter means, one draw). Assign them to those names in the test module:
        ``G, ct, means = tree_fixtures(TREE)``.
    """

    @pytest.fixture(scope="module")
    def G():
        return dm.load_tree(tree)

    @pytest.fixture(scope="module")
    def ct(G):
        return dm.compile_tree(G)

    @pytest.fixture(scope="module")
    def means(G):
        return dm.mean_parameters(G)

    return G, ct, means


def derived_env(ct: CompiledTree, params: xr.Dataset) -> tuple[dict[str, Any], int]:
    """Parameter values of a sample and the compiled tree's derived values.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree.
    params : xarray.Dataset
        A parameter sample with a ``sample`` dimension.

    Returns
    -------
    (dict, int)
        Name -> array (or scalar), parameters and derived values, and the number of draws.
    """
    env, n = as_arrays(params)
    env = dict(env)
    for name, f in ct.derived:
        env[name] = f.evaluate(env)
    return env, n


def terminal_trace(
    ct: CompiledTree, env: dict[str, Any], n: int, node: Hashable
) -> tuple[np.ndarray, MarkovModel]:
    """Markov trace of a terminal's cohort, with the terminal's bindings and start.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree.
    env : dict
        Parameters and derived values, as from :func:`derived_env`.
    n : int
        The number of draws.
    node : hashable
        A terminal with a Markov model (``KeyError`` otherwise).

    Returns
    -------
    (numpy.ndarray, MarkovModel)
        The occupancy trace, shape (n, cycles + 1, states), and the cohort's model.
    """
    tm = ct.terminal_markov[node]
    local = dict(env)
    for name, f in tm.bindings.items():
        local[name] = f.evaluate(env)
    start = None if tm.start is None else {s: f.evaluate(env) for s, f in tm.start.items()}
    model = ct.markov_models[tm.model]
    _, _, trace = run_markov(model, local, n, start, trace=True)
    return trace, model


def terminal_survival(
    ct: CompiledTree,
    env: dict[str, Any],
    n: int,
    node: Hashable,
    cache: dict | None = None,
) -> np.ndarray | None:
    """Overall survival 1 - P(dead) of a terminal's cohort.

    Parameters
    ----------
    ct, env, n : CompiledTree, dict, int
        As for :func:`terminal_trace`.
    node : hashable
        A terminal of the tree, with or without a Markov model.
    cache : dict, optional
        When given, cohorts with the same model, start and bindings are run once.

    Returns
    -------
    numpy.ndarray or None
        Survival, shape (n, cycles + 1); None for a terminal without a Markov model (a
        perioperative death).
    """
    tm = ct.terminal_markov.get(node)
    if tm is None:
        return None
    if cache is not None and tm.key() in cache:
        return cache[tm.key()]
    trace, model = terminal_trace(ct, env, n, node)
    S = 1.0 - trace[:, :, model.states.index("dead")]
    if cache is not None:
        cache[tm.key()] = S
    return S


def survival_by_policy(
    ct: CompiledTree, params: xr.Dataset, out: xr.Dataset | None = None
) -> dict[str, np.ndarray]:
    """Overall survival of every policy over the cycles.

    The terminals a policy reaches are weighted by their path probabilities; terminals
    without a Markov model (the 90-day deaths) count as dead from t = 0. The path
    probabilities of each policy are checked to sum to 1.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree; its Markov models must share one number of cycles.
    params : xarray.Dataset
        A parameter sample with a ``sample`` dimension.
    out : xarray.Dataset, optional
        ``dm.evaluate(ct, params, paths=True)``, computed here when not given.

    Returns
    -------
    dict
        Policy name -> survival, shape (draws, cycles + 1).
    """
    if out is None:
        out = dm.evaluate(ct, params, paths=True)
    cycles = {m.cycles for m in ct.markov_models.values()}
    if len(cycles) != 1:
        raise ValueError(f"the Markov models need one number of cycles, got {sorted(cycles)}")
    (T,) = cycles
    env, n = derived_env(ct, params)
    cache: dict = {}
    curves = {}
    for policy in out["strategy"].values:
        reach = out["reaches"].sel(strategy=policy).values
        total_p = np.zeros(n)
        S = np.zeros((n, T + 1))
        for i, node in enumerate(ct.terminals):
            if not reach[i]:
                continue
            p = out["path_probability"].values[i]
            total_p = total_p + p
            s = terminal_survival(ct, env, n, node, cache)
            if s is not None:
                S = S + p[:, None] * s
        np.testing.assert_allclose(total_p, 1.0, atol=1e-9)
        curves[str(policy)] = S
    return curves


def median_months(S: np.ndarray) -> float:
    """First month at which a monthly survival curve falls below one half.

    Parameters
    ----------
    S : numpy.ndarray
        Survival at months 0, 1, 2, ... (one draw); it must fall below one half.

    Returns
    -------
    float
        The month, linearly interpolated between the cycles around the crossing.
    """
    k = int(np.argmax(S < 0.5))
    return k - 1 + (S[k - 1] - 0.5) / (S[k - 1] - S[k])


def with_values(params: xr.Dataset, **values: Any) -> xr.Dataset:
    """A copy of a parameter sample with the named parameters set: the package's
    :func:`decisionmodel.params.with_values` with the values as keywords.

    Parameters
    ----------
    params : xarray.Dataset
        A parameter sample with a ``sample`` dimension.
    **values
        Parameter name -> a scalar (the same on every draw) or one value per draw.

    Returns
    -------
    xarray.Dataset
        The copy; ``params`` is left as it is.
    """
    return dm_with_values(params, values)
