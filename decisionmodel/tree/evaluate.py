"""Roll a tree back over all parameter draws at once, checking every draw.

For every terminal node the path probability (the product of the chance-branch
probabilities on the way, decision branches counting 1) and the accumulated cost and
effect (node and edge payoffs on the path plus the terminal's Markov cohort outcome)
are computed as arrays over the draws. A policy's expected cost is then the sum over
the terminals it reaches of probability × cost, a
sum over rows of one (terminals × draws) array per policy. Draws are processed in
chunks so that memory stays bounded however many draws there are, and the result of a
draw does not depend on the chunk size. The Markov cohorts of a chunk are run together
(:func:`~decisionmodel.tree.markov.run_cohorts`), which computes what they share once.

The per-draw validation rules live here, where the values they check are computed: every
chance node's probabilities are checked on every draw (in [0, 1], summing to 1; the node
and the draw are named), the Markov cohorts check their transition rows, and
:func:`check_finite_outcomes` checks the costs and effects of the result. No evaluation is
run only to check: :func:`check_probabilities` checks the chance nodes alone (formulas, no
cohort), which :func:`~decisionmodel.tree.validate.validate_tree` does at the means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.exceptions import (
    NonFiniteOutcomeError,
    ProbabilityRangeError,
    ProbabilitySumError,
    UnknownParameterError,
)
from decisionmodel.params import as_arrays
from decisionmodel.tree.compile import CompiledTree, compile_tree
from decisionmodel.tree.markov import run_cohorts, transition_matrix

PROB_RANGE_TOL = 1e-9
PROB_SUM_TOL = 1e-6
#: Draws per chunk. Smaller chunks keep the arrays of the Markov cycle loop in the
#: processor's cache, larger ones spread the Python cost of the loop over more draws;
#: on the default tree, 10,000 to 30,000 are about equally fast (50,000: ~10% slower).
DEFAULT_CHUNK = 20_000


def _column(value: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


def _compute_derived(ct: CompiledTree, env: dict[str, Any]) -> None:
    for name, f in ct.derived:
        env[name] = f.evaluate(env)


def _branch_probabilities(ct: CompiledTree, node, env, n: int, offset: int) -> list[Any]:
    kids = ct.children[node]
    values: list[Any] = []
    comp = None
    total: Any = 0.0
    for i, c in enumerate(kids):
        f = ct.edge_p[(node, c)]
        if f is None:
            comp = i
            values.append(None)
            continue
        v = f.evaluate(env)
        bad = ~np.isfinite(v) | (v < -PROB_RANGE_TOL) | (v > 1 + PROB_RANGE_TOL)
        if np.any(bad):
            k = int(np.argmax(np.atleast_1d(bad)))
            val = float(np.atleast_1d(v)[k])
            raise ProbabilityRangeError(
                f"{ct.where}: node {str(c)!r}: probability {f.source!r} = {val:.6g} is outside [0, 1]"
                f" (draw {offset + k})"
            )
        values.append(v)
        total = total + v
    if comp is not None:
        rest = 1.0 - total
        bad = rest < -PROB_SUM_TOL
        if np.any(bad):
            k = int(np.argmax(np.atleast_1d(bad)))
            raise ProbabilitySumError(
                f"{ct.where}: node {str(node)!r}: the other branches' probabilities sum to "
                f"{float(np.atleast_1d(total)[k]):.6g} > 1, so the complement '#' is negative (draw {offset + k})"
            )
        values[comp] = np.clip(rest, 0.0, 1.0)
    else:
        off = np.abs(total - 1.0) > PROB_SUM_TOL
        if np.any(off):
            k = int(np.argmax(np.atleast_1d(off)))
            raise ProbabilitySumError(
                f"{ct.where}: node {str(node)!r}: branch probabilities sum to "
                f"{float(np.atleast_1d(total)[k]):.6g}, not 1 (draw {offset + k})"
            )
    return [np.clip(v, 0.0, 1.0) if np.ndim(v) else min(max(float(v), 0.0), 1.0) for v in values]


def _roll_chunk(ct: CompiledTree, env: dict[str, Any], n: int, offset: int):
    """Per-terminal probability, cost and effect arrays (T, n) for one chunk of draws.

    The tree is walked first (branch probabilities checked on the way); then the distinct
    Markov cohorts of the terminals (model, ``start`` and ``with`` bindings: terminals that
    share all three share one run) are run together, cycle by cycle, so that per-cycle
    values common to several cohorts are computed once (:func:`run_cohorts`); each
    terminal's cost and effect then gets its cohort's outcome.
    """
    _compute_derived(ct, env)
    T = len(ct.terminals)
    prob = np.empty((T, n))
    cost = np.empty((T, n))
    effect = np.empty((T, n))
    cohorts: dict[tuple, tuple] = {}  # cohort key -> (model, env, start, context)
    cohort_of: list[tuple[int, tuple]] = []  # (terminal index, cohort key)
    try:
        _walk(ct, env, n, offset, prob, cost, effect, cohorts, cohort_of)
    except Exception:
        # the cohorts of the terminals met before the error would have run (and failed)
        # first: their error, if any, is the one to raise
        run_cohorts(list(cohorts.values()), n, first_draw=offset)
        raise
    results = run_cohorts(list(cohorts.values()), n, first_draw=offset)
    outcomes = dict(zip(cohorts, results, strict=True))
    for i, key in cohort_of:
        mc, me = outcomes[key]
        cost[i] += mc
        effect[i] += me
    return prob, cost, effect


def _walk(ct, env, n, offset, prob, cost, effect, cohorts, cohort_of) -> None:
    """Walk the tree depth-first: fill prob, cost and effect of the terminals (without
    their cohorts) and collect the distinct cohorts (key -> (model, env, start, context))
    and, per terminal, its cohort's key."""
    t_index = {node: i for i, node in enumerate(ct.terminals)}

    def payoff(f_map, key) -> Any:
        f = f_map.get(key)
        return 0.0 if f is None else f.evaluate(env)

    stack = [(ct.root, 1.0, payoff(ct.node_cost, ct.root), payoff(ct.node_effect, ct.root))]
    while stack:
        node, p, c, e = stack.pop()
        kind = ct.kind[node]
        if kind == "terminal":
            i = t_index[node]
            tm = ct.terminal_markov.get(node)
            if tm is not None:
                key = tm.key()
                if key not in cohorts:
                    local = dict(env)
                    for name, f in tm.bindings.items():
                        local[name] = f.evaluate(env)
                    start = (
                        None
                        if tm.start is None
                        else {s: f.evaluate(env) for s, f in tm.start.items()}
                    )
                    model = ct.markov_models[tm.model]
                    cohorts[key] = (model, local, start, f" at node {str(node)!r}")
                cohort_of.append((i, key))
            prob[i] = p
            cost[i] = c
            effect[i] = e
            continue
        kids = ct.children[node]
        probs = (
            _branch_probabilities(ct, node, env, n, offset)
            if kind == "chance"
            else [1.0] * len(kids)
        )
        for child, q in zip(reversed(kids), reversed(probs), strict=True):
            edge = (node, child)
            stack.append(
                (
                    child,
                    p * q if kind == "chance" else p,
                    c + payoff(ct.edge_cost, edge) + payoff(ct.node_cost, child),
                    e + payoff(ct.edge_effect, edge) + payoff(ct.node_effect, child),
                )
            )


def check_probabilities(ct: CompiledTree, params: xr.Dataset | Mapping[str, Any]) -> None:
    """Check every chance node's branch probabilities on ``params``, without evaluating.

    The rules of :func:`evaluate` (each probability in [0, 1], the branches of a node
    summing to 1, a complement ``#`` not negative) on the formulas of the chance nodes,
    and the first cycle's transition rows of every Markov model a terminal runs (with the
    terminal's ``with`` bindings; the later cycles of a time-dependent model are checked
    by :func:`evaluate`), without computing a payoff or running a cohort, so it costs a
    small part of an evaluation.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree.
    params : xarray.Dataset or mapping
        Parameter values, as for :func:`evaluate` (e.g. the means,
        :func:`decisionmodel.params.mean_parameters`).

    Raises
    ------
    UnknownParameterError
        Names the formulas need that ``params`` lacks.
    ProbabilityRangeError, ProbabilitySumError
        For the first node and draw where a probability is invalid.
    MarkovError
        For the first model, state, cycle and draw where a transition row is invalid.

    See Also
    --------
    evaluate : checks the same rules on every draw it evaluates.

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"tree": {"kind": "chance", "name": "c", "branches": [
    ...     {"label": "a", "p": "p", "kind": "terminal"},
    ...     {"label": "b", "p": "q", "kind": "terminal"}]}})
    >>> check_probabilities(compile_tree(G), {"p": [0.5, 0.2], "q": [0.5, 0.8]})
    >>> check_probabilities(compile_tree(G), {"p": [0.5, 0.2], "q": [0.5, 0.7]})
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.ProbabilitySumError: <dict>: node 'c': branch probabilities sum to 0.9, not 1 (draw 1)
    """
    env, n = _environment(ct, params)
    _compute_derived(ct, env)
    for node in ct.preorder:
        if ct.kind[node] == "chance":
            _branch_probabilities(ct, node, env, n, 0)
    seen: set[tuple] = set()
    for node in ct.preorder:
        tm = ct.terminal_markov.get(node)
        if tm is None or tm.key() in seen:
            continue
        seen.add(tm.key())
        local = dict(env)
        for name, f in tm.bindings.items():
            local[name] = f.evaluate(env)
        model = ct.markov_models[tm.model]
        transition_matrix(model, {**local, "t": 1}, n, f" at node {str(node)!r}")


def _environment(
    ct: CompiledTree, params: xr.Dataset | Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """The arrays of the names ``ct`` uses, and the number of draws; all names present."""
    env_all, n = as_arrays(params)
    missing = sorted(ct.required_names - env_all.keys())
    if missing:
        raise UnknownParameterError(
            f"{ct.where}: the parameter sample lacks {len(missing)} name(s) the tree uses: {', '.join(missing)}"
        )
    return {k: v for k, v in env_all.items() if k in ct.required_names}, n


def policy_matrix(ct: CompiledTree) -> np.ndarray:
    """Indicator matrix (policies × terminals): 1 where a policy can reach a terminal.

    Parameters
    ----------
    ct : CompiledTree
        The compiled tree.

    Returns
    -------
    numpy.ndarray
        Shape (policies, terminals), in the order of ``ct.policies`` and ``ct.terminals``.

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "a", "kind": "terminal"}, {"action": "b", "kind": "terminal"}]}})
    >>> policy_matrix(compile_tree(G))
    array([[1., 0.],
           [0., 1.]])
    """
    M = np.zeros((len(ct.policies), len(ct.terminals)))
    for i, pol in enumerate(ct.policies):
        M[i, list(pol.terminals)] = 1.0
    return M


def check_finite_outcomes(ct: CompiledTree, out: xr.Dataset) -> None:
    """Check that every policy's cost and effect are finite on every draw of ``out``.

    Parameters
    ----------
    ct : CompiledTree
        The tree ``out`` was computed from (for its location and policy names).
    out : xarray.Dataset
        The result of :func:`evaluate` on ``ct``.

    Raises
    ------
    NonFiniteOutcomeError
        Naming the variable and (up to three of) the policies with an infinite or NaN value.

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "a", "kind": "terminal", "cost": "1 / x"},
    ...     {"action": "b", "kind": "terminal"}]}})
    >>> ct = compile_tree(G)
    >>> out = evaluate(ct, {"x": [1.0, 2.0]})
    >>> check_finite_outcomes(ct, out)
    >>> out["cost"][0, 1] = np.inf
    >>> check_finite_outcomes(ct, out)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.NonFiniteOutcomeError: <dict>: the cost of policy 'a' is infinite or NaN for some draws (a formula overflows or divides by zero)
    """
    for var in ("cost", "effect"):
        _check_finite(ct, var, out[var].values)


def _check_finite(ct: CompiledTree, var: str, values: np.ndarray) -> None:
    if not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values).all(axis=-1))
        names = ", ".join(repr(ct.policies[i].name) for i in bad[:3])
        raise NonFiniteOutcomeError(
            f"{ct.where}: the {var} of policy {names} is infinite or NaN for some "
            "draws (a formula overflows or divides by zero)"
        )


def evaluate(
    tree: nx.DiGraph | CompiledTree,
    params: xr.Dataset | Mapping[str, Any],
    *,
    protocol: Mapping[str, str] | None = None,
    paths: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    progress: bool = False,
) -> xr.Dataset:
    """Expected cost and effect of every policy, for every parameter draw.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        A tree (see :mod:`decisionmodel.tree.schema`); compiled here if needed.
    params : xarray.Dataset or mapping
        Parameter draws: variables over the ``sample`` dimension (or a mapping of
        1-D arrays of equal length, or scalars). Extra variables are ignored.
    protocol : mapping, optional
        Decision node (id or label) → action fixed by protocol (not enumerated).
    paths : bool
        Also return, per terminal node (``path``), the path probability, cost and
        effect over the draws, and the indicator of which policies reach it.
    chunk_size : int
        Draws processed at once (bounds memory; see :data:`DEFAULT_CHUNK`).
    progress : bool
        Show a progress bar over chunks (on stderr).

    Returns
    -------
    xarray.Dataset
        ``cost`` and ``effect`` over (``strategy``, ``sample``); with ``paths=True``
        also ``path_probability``, ``path_cost``, ``path_effect`` over (``path``,
        ``sample``) and ``reaches`` over (``strategy``, ``path``).

    Raises
    ------
    UnknownParameterError
        Names the formulas need that ``params`` lacks (all listed).
    ProbabilityRangeError, ProbabilitySumError, MarkovError
        For the first draw where a probability is invalid (node and draw named).
    NonFiniteOutcomeError
        A policy's cost or effect is infinite or NaN on some draw (policies named).

    Notes
    -----
    Each policy is evaluated on every draw and the recommended policy is the one
    with the highest expected net benefit; decisions are never maximised inside a draw
    (see :mod:`decisionmodel.tree.compile` for why).

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": 100, "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> out = evaluate(G, {"p": [0.2, 0.6]})
    >>> out["effect"].values
    array([[0.2, 0.6],
           [0.3, 0.3]])
    >>> out["cost"].sel(strategy="treat").values
    array([100., 100.])
    """
    ct = tree if isinstance(tree, CompiledTree) else compile_tree(tree, protocol)
    if isinstance(tree, CompiledTree) and protocol:
        ct = compile_tree(tree.graph, protocol)
    env_all, n = _environment(ct, params)
    chunk_size = max(1, int(chunk_size))
    M = policy_matrix(ct)
    P, T = M.shape
    reach = [np.asarray(pol.terminals, dtype=np.intp) for pol in ct.policies]
    cost = np.empty((P, n))
    effect = np.empty((P, n))
    if paths:
        path_p = np.empty((T, n))
        path_c = np.empty((T, n))
        path_e = np.empty((T, n))
    starts: Iterable[int] = range(0, n, chunk_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(
            starts, total=-(-n // chunk_size), desc="evaluating", unit="chunk", leave=False
        )
    for lo in starts:
        hi = min(n, lo + chunk_size)
        m = hi - lo
        env = {k: (v[lo:hi] if np.ndim(v) else v) for k, v in env_all.items()}
        prob, c, e = _roll_chunk(ct, env, m, lo)
        # per policy, a sum over its terminals in a fixed order: the result of a draw does not
        # depend on the chunk it falls in (a BLAS matrix product could reorder the additions)
        pc = prob * c
        pe = prob * e
        for k, rows in enumerate(reach):
            cost[k, lo:hi] = pc[rows].sum(axis=0)
            effect[k, lo:hi] = pe[rows].sum(axis=0)
        if paths:
            path_p[:, lo:hi] = prob
            path_c[:, lo:hi] = c
            path_e[:, lo:hi] = e
    if isinstance(params, xr.Dataset) and "sample" in params.coords:
        sample = params["sample"].values
    else:
        sample = np.arange(n)
    coords = {"strategy": ct.strategy_names, "sample": sample}
    data = {
        "cost": (("strategy", "sample"), cost),
        "effect": (("strategy", "sample"), effect),
    }
    if paths:
        coords["path"] = [str(t) for t in ct.terminals]
        data["path_probability"] = (("path", "sample"), path_p)
        data["path_cost"] = (("path", "sample"), path_c)
        data["path_effect"] = (("path", "sample"), path_e)
        data["reaches"] = (("strategy", "path"), M.astype(bool))
    for var, values in (("cost", cost), ("effect", effect)):
        _check_finite(ct, var, values)
    attrs = {
        k: ct.graph.graph[k]
        for k in ("name", "currency", "effect_unit")
        if ct.graph.graph.get(k) is not None
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
