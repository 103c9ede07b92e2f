"""Markov state occupancy and survival of each policy over the cycles of a compiled tree.

A policy reaches several terminals; each terminal with a Markov model runs a cohort. The
policy's occupancy of a state at cycle ``t`` is the sum over its terminals of the path
probability times the cohort's occupancy of that state (states of different Markov models
that share a name are the same state). The path mass of terminals without a cohort (in the
shipped trees: deaths within 90 days of surgery) is the pseudo-state :data:`NO_COHORT`, so
that the occupancy of every policy sums to 1 at every cycle.

:func:`state_trace` returns the occupancy per policy, averaged over the draws or per draw;
:func:`survival` the overall survival read off it (1 minus the occupancy of ``dead`` and of
:data:`NO_COHORT`). Draws are processed in chunks, so the memory of the averaged trace does
not grow with the number of draws.

Examples
--------
>>> import decisionmodel as dm
>>> from decisionmodel.traces import state_trace, survival
>>> tree = dm.tree_from_dict({
...     "markov": {"m": {"states": ["well", "dead"], "cycles": 2, "correction": "none",
...                      "transitions": {"well": {"dead": "q", "well": "#"},
...                                      "dead": {"dead": 1}},
...                      "state_effect": {"well": 1}}},
...     "tree": {"kind": "decision", "name": "choose", "branches": [
...         {"action": "treat", "kind": "chance", "branches": [
...             {"label": "die", "p": 0.2, "kind": "terminal"},
...             {"label": "live", "p": "#", "kind": "terminal",
...              "markov": {"model": "m", "with": {"q": 0.1}}}]},
...         {"action": "wait", "kind": "terminal",
...          "markov": {"model": "m", "with": {"q": 0.5}}}]}})
>>> ct = dm.compile_tree(tree)
>>> occ = state_trace(ct, dm.mean_parameters(tree))
>>> occ.sel(strategy="treat").round(4).values.tolist()  # well, dead, no cohort
[[0.8, 0.0, 0.2], [0.72, 0.08, 0.2], [0.648, 0.152, 0.2]]
>>> survival(occ).sel(strategy="wait").values.tolist()
[1.0, 0.5, 0.25]
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr

from decisionmodel.exceptions import DecisionModelError
from decisionmodel.params import as_arrays
from decisionmodel.tree.compile import CompiledTree
from decisionmodel.tree.evaluate import evaluate
from decisionmodel.tree.markov import run_markov

__all__ = ["NO_COHORT", "state_trace", "survival"]

#: the pseudo-state holding the path mass of terminals without a Markov cohort
NO_COHORT = "no cohort"

#: draws per chunk (the per-draw traces of one chunk are held at once)
DEFAULT_CHUNK = 1000


def _states(ct: CompiledTree) -> list[str]:
    """The union of the Markov models' states (first appearance order) and NO_COHORT."""
    states: list[str] = []
    for model in ct.markov_models.values():
        states.extend(s for s in model.states if s not in states)
    if NO_COHORT in states:
        raise DecisionModelError(
            f"{ct.where}: a Markov state is called {NO_COHORT!r}, the name of the pseudo-state "
            "of terminals without a cohort"
        )
    return [*states, NO_COHORT]


def _cycles(ct: CompiledTree) -> int:
    cycles = {name: m.cycles for name, m in ct.markov_models.items()}
    if not cycles:
        raise DecisionModelError(f"{ct.where}: the tree has no Markov model, so no state trace")
    if len(set(cycles.values())) != 1:
        raise DecisionModelError(
            f"{ct.where}: the Markov models need one number of cycles for a state trace of "
            f"the policies, got {', '.join(f'{k}: {v}' for k, v in cycles.items())}"
        )
    return next(iter(cycles.values()))


def _terminal_trace(ct: CompiledTree, env: dict[str, Any], n: int, node: Hashable) -> np.ndarray:
    """The cohort of one terminal, shape (n, cycles + 1, the model's states), with the
    terminal's bindings (``with:``) and start shares."""
    tm = ct.terminal_markov[node]
    local = dict(env)
    for name, f in tm.bindings.items():
        local[name] = f.evaluate(env)
    start = None if tm.start is None else {s: f.evaluate(env) for s, f in tm.start.items()}
    model = ct.markov_models[tm.model]
    _, _, trace = run_markov(model, local, n, start, trace=True, context=str(node))
    return trace


def _chunk_trace(
    ct: CompiledTree, params: xr.Dataset, states: list[str], cycles: int
) -> tuple[np.ndarray, list[str]]:
    """Occupancy of one chunk of draws, shape (strategy, sample, cycles + 1, states), and
    the strategy names."""
    out = evaluate(ct, params, paths=True)
    env, n = as_arrays(params)
    env = dict(env)
    for name, f in ct.derived:
        env[name] = f.evaluate(env)
    index = {s: i for i, s in enumerate(states)}
    strategies = out["strategy"].values
    occ = np.zeros((len(strategies), n, cycles + 1, len(states)))
    p_all = out["path_probability"].values  # (terminal, sample)
    reaches = out["reaches"].values  # (strategy, terminal)
    runs: dict[tuple, tuple[np.ndarray, list[int]]] = {}  # one run per model/start/bindings
    for i, node in enumerate(ct.terminals):
        if not reaches[:, i].any():
            continue
        p = np.broadcast_to(p_all[i], (n,))
        tm = ct.terminal_markov.get(node)
        if tm is None:
            contribution = None
        else:
            if tm.key() not in runs:
                model = ct.markov_models[tm.model]
                cols = [index[s] for s in model.states]
                runs[tm.key()] = (_terminal_trace(ct, env, n, node), cols)
            contribution = runs[tm.key()]
        for k in np.flatnonzero(reaches[:, i]):
            if contribution is None:
                occ[k, :, :, index[NO_COHORT]] += p[:, None]
            else:
                trace, cols = contribution
                occ[k][:, :, cols] += p[:, None, None] * trace
    return occ, [str(x) for x in strategies]


def state_trace(
    ct: CompiledTree,
    params: xr.Dataset,
    *,
    draws: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
) -> xr.DataArray:
    """Markov state occupancy of every policy over the cycles.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree (:func:`decisionmodel.compile_tree`); its Markov models must share
        one number of cycles.
    params : xarray.Dataset
        A parameter sample with a ``sample`` dimension (or one draw of scalars, e.g. the
        means).
    draws : bool
        ``False`` (default): the occupancy averaged over the draws; ``True``: per draw
        (memory: policies × draws × (cycles + 1) × states floats).
    chunk_size : int
        Draws evaluated at once.

    Returns
    -------
    xarray.DataArray
        ``occupancy`` with dims ``(strategy, cycle, state)``, or ``(strategy, sample,
        cycle, state)`` with ``draws=True``; states are the Markov models' states (one
        state per name) and :data:`NO_COHORT`. It sums to 1 over ``state``.

    Raises
    ------
    DecisionModelError
        The tree has no Markov model, its models differ in their number of cycles, a
        state is called :data:`NO_COHORT`, ``params`` has no draws or ``chunk_size`` is not
        a positive integer.

    See Also
    --------
    survival : overall survival from the occupancy.
    decisionmodel.evaluate : expected costs and effects of the same policies.

    Examples
    --------
    See the module docstring.
    """
    states = _states(ct)
    cycles = _cycles(ct)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise DecisionModelError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if "sample" not in params.dims:
        params = params.expand_dims(sample=1)
    n = params.sizes["sample"]
    if n == 0:
        raise DecisionModelError("params has no draws (its 'sample' dimension is empty)")
    parts = []
    total: np.ndarray | None = None
    strategies: list[str] = []
    for lo in range(0, n, chunk_size):
        chunk = params.isel(sample=slice(lo, lo + chunk_size))
        occ, strategies = _chunk_trace(ct, chunk, states, cycles)
        if draws:
            parts.append(occ)
        else:
            s = occ.sum(axis=1)
            total = s if total is None else total + s
    coords: dict[str, Any] = {
        "strategy": strategies,
        "cycle": np.arange(cycles + 1),
        "state": states,
    }
    if draws:
        coords["sample"] = params["sample"].values if "sample" in params.coords else np.arange(n)
        data = np.concatenate(parts, axis=1)
        dims: tuple[str, ...] = ("strategy", "sample", "cycle", "state")
    else:
        assert total is not None  # n >= 1: at least one chunk
        data = total / n
        dims = ("strategy", "cycle", "state")
    return xr.DataArray(data, dims=dims, coords=coords, name="occupancy")


def survival(occupancy: xr.DataArray, *, dead: str = "dead") -> xr.DataArray:
    """Overall survival from a :func:`state_trace`: 1 - P(``dead``) - P(:data:`NO_COHORT`).

    Parameters
    ----------
    occupancy : xarray.DataArray
        As :func:`state_trace` returns it.
    dead : str
        The name of the death state.

    Returns
    -------
    xarray.DataArray
        ``survival``, the occupancy's dims without ``state``.

    Raises
    ------
    DecisionModelError
        No state is called ``dead``.

    Examples
    --------
    See the module docstring.
    """
    names = occupancy["state"].values.tolist()
    if dead not in names:
        raise DecisionModelError(f"no state is called {dead!r} (states: {', '.join(names)})")
    alive = 1.0 - occupancy.sel(state=dead) - occupancy.sel(state=NO_COHORT)
    return alive.drop_vars("state", errors="ignore").rename("survival")
