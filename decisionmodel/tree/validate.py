"""Validation rules of a decision tree: one exception class per rule.

:func:`check_structure` checks what can be checked without parameter values;
:func:`validate_tree` also compiles every formula, lists unknown parameter names, and
checks that probabilities lie in [0, 1] and sum to 1 on a sample of draws (the same
checks run again on every draw that :func:`~decisionmodel.evaluate` sees).

Rules and their exceptions (all in :mod:`decisionmodel.exceptions`):

=====================================================  ================================
rule                                                   exception
=====================================================  ================================
the graph is a rooted tree (arborescence)              NotArborescenceError
node kind is decision, chance or terminal              NodeKindError
every leaf is a terminal                               LeafNotTerminalError
terminals have no children                             TerminalWithChildrenError
no ``p`` on a decision edge                            DecisionEdgeProbabilityError
every chance edge has ``p``                            MissingProbabilityError
at most one ``#`` per chance node                      MultipleComplementError
probabilities within [0, 1] (per draw)                 ProbabilityRangeError
probabilities of a chance node sum to 1 (per draw)     ProbabilitySumError
decision edges have an action, unique per node         MissingActionError, DuplicateActionError
chance edges have a label, unique per node             BranchLabelError
formulas follow the grammar                            FormulaError
every name is declared                                 UnknownParameterError
=====================================================  ================================
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from decisionmodel.exceptions import (
    BranchLabelError,
    DecisionEdgeProbabilityError,
    DecisionModelError,
    DuplicateActionError,
    LeafNotTerminalError,
    MissingActionError,
    MissingProbabilityError,
    MultipleComplementError,
    NodeKindError,
    NonFiniteOutcomeError,
    NotArborescenceError,
    TerminalWithChildrenError,
    TreeFileError,
    UnknownParameterError,
)
from decisionmodel.tree.schema import COMPLEMENT, KINDS, where


def _at(G: nx.DiGraph, node) -> str:
    return f"{where(G)}: node {str(node)!r}"


def find_root(G: nx.DiGraph):
    """The root of a tree graph, checking that the graph is an arborescence.

    Raises
    ------
    NotArborescenceError
        Empty graph, cycle, several roots, or a node with several parents.

    Examples
    --------
    >>> import networkx as nx
    >>> find_root(nx.DiGraph([("a", "b"), ("a", "c")]))
    'a'
    >>> find_root(nx.DiGraph([("a", "b"), ("c", "b")]))
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.NotArborescenceError: <graph>: node 'b': has 2 parents ('a', 'c'); a decision tree is an arborescence
    """
    if not isinstance(G, nx.DiGraph) or isinstance(G, nx.MultiDiGraph):
        raise NotArborescenceError(
            f"{where(G) if hasattr(G, 'graph') else '<graph>'}: a tree must be a networkx.DiGraph"
        )
    if G.number_of_nodes() == 0:
        raise NotArborescenceError(f"{where(G)}: the graph has no nodes")
    for node in G:
        parents = list(G.predecessors(node))
        if len(parents) > 1:
            shown = ", ".join(repr(str(p)) for p in parents[:5])
            raise NotArborescenceError(
                f"{_at(G, node)}: has {len(parents)} parents ({shown}); a decision tree is an arborescence"
            )
    roots = [n for n, d in G.in_degree() if d == 0]
    if len(roots) != 1:
        if not roots:
            raise NotArborescenceError(f"{where(G)}: the graph has a cycle and no root")
        shown = ", ".join(repr(str(r)) for r in roots[:5])
        raise NotArborescenceError(
            f"{where(G)}: the graph has {len(roots)} roots ({shown}); a tree has one"
        )
    root = roots[0]
    if not nx.is_arborescence(G):
        cycle = nx.find_cycle(G)
        raise NotArborescenceError(
            f"{where(G)}: the graph has a cycle through {', '.join(repr(str(u)) for u, _ in cycle)}"
        )
    declared = G.graph.get("root")
    if declared is not None and declared != root:
        raise NotArborescenceError(
            f"{where(G)}: graph attribute root={declared!r} is not the root ({root!r})"
        )
    return root


def check_structure(G: nx.DiGraph):
    """Check the structural rules (no parameter values needed); return the root.

    Raises
    ------
    NotArborescenceError, NodeKindError, LeafNotTerminalError, TerminalWithChildrenError,
    DecisionEdgeProbabilityError, MissingProbabilityError, MultipleComplementError,
    MissingActionError, DuplicateActionError
    """
    root = find_root(G)
    for node in nx.dfs_preorder_nodes(G, root):
        data = G.nodes[node]
        kind = data.get("kind")
        if kind not in KINDS:
            raise NodeKindError(f"{_at(G, node)}: kind {kind!r} is not one of {', '.join(KINDS)}")
        children = list(G.successors(node))
        if kind == "terminal" and children:
            raise TerminalWithChildrenError(
                f"{_at(G, node)}: a terminal node has {len(children)} children"
            )
        if kind != "terminal" and not children:
            raise LeafNotTerminalError(
                f"{_at(G, node)}: a {kind} node has no branches (leaves must be terminal)"
            )
        if kind != "terminal" and "markov" in data:
            raise TerminalWithChildrenError(
                f"{_at(G, node)}: only terminal nodes may hand over to a markov model"
            )
        if "protocol" in data and kind != "decision":
            raise NodeKindError(f"{_at(G, node)}: 'protocol' is only meaningful on a decision node")
        if kind == "decision":
            seen: set[str] = set()
            for c in children:
                e = G.edges[node, c]
                if "p" in e:
                    raise DecisionEdgeProbabilityError(
                        f"{_at(G, c)}: branch of decision node {str(node)!r} carries p={e['p']!r}; "
                        "decision branches are chosen, not drawn"
                    )
                action = e.get("action")
                if action is None or str(action).strip() == "":
                    raise MissingActionError(
                        f"{_at(G, c)}: branch of decision node {str(node)!r} has no action"
                    )
                if str(action) in seen:
                    raise DuplicateActionError(
                        f"{_at(G, node)}: action {str(action)!r} appears more than once"
                    )
                seen.add(str(action))
            proto = data.get("protocol")
            if proto is not None and str(proto) not in seen:
                from decisionmodel.exceptions import PolicyError

                raise PolicyError(
                    f"{_at(G, node)}: protocol action {proto!r} is not one of {', '.join(sorted(seen))}"
                )
        elif kind == "chance":
            n_comp = 0
            labels: set[str] = set()
            for c in children:
                e = G.edges[node, c]
                label = e.get("label")
                if label is None or str(label).strip() == "":
                    raise BranchLabelError(
                        f"{_at(G, c)}: branch of chance node {str(node)!r} has no label"
                    )
                if str(label) in labels:
                    raise BranchLabelError(
                        f"{_at(G, node)}: branch label {str(label)!r} appears more than once"
                    )
                labels.add(str(label))
                if "p" not in e or e["p"] is None:
                    raise MissingProbabilityError(
                        f"{_at(G, c)}: branch of chance node {str(node)!r} has no probability p"
                    )
                if isinstance(e["p"], str) and e["p"].strip() == COMPLEMENT:
                    n_comp += 1
                if "action" in e:
                    raise BranchLabelError(
                        f"{_at(G, c)}: branch of chance node {str(node)!r} carries an action; use 'label'"
                    )
            if n_comp > 1:
                raise MultipleComplementError(
                    f"{_at(G, node)}: {n_comp} branches use the complement '#'; at most one may"
                )
    return root


#: most draws the probability checks may use
MAX_CHECK_DRAWS = 1_000_000
_TEXT_KEYS = ("name", "description", "currency", "effect_unit")


def wtp_values(G: nx.DiGraph) -> list[float] | None:
    """The tree file's ``wtp:`` as a list of finite non-negative numbers (None when absent).

    Raises
    ------
    TreeFileError
        ``wtp`` is text, a mapping, a boolean, empty, negative, infinite or too large.

    Examples
    --------
    >>> wtp_values(nx.DiGraph(wtp=[0, 20000]))
    [0.0, 20000.0]
    """
    declared = G.graph.get("wtp")
    if declared is None:
        return None
    items = declared if isinstance(declared, list) else [declared]
    if not items:
        raise TreeFileError(f"{where(G)}: 'wtp' is an empty list; give at least one value")
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            raise TreeFileError(
                f"{where(G)}: 'wtp' must be a number or a list of numbers, got {w!r}"
                if not isinstance(w, (dict, list))
                else f"{where(G)}: 'wtp' must be a number or a list of numbers, "
                f"got a {type(w).__name__}"
            )
        try:
            v = float(w)
        except OverflowError:
            raise TreeFileError(
                f"{where(G)}: 'wtp' value too large ({len(str(w))} digits)"
            ) from None
        if not (0 <= v <= 1e300):
            raise TreeFileError(f"{where(G)}: 'wtp' values must be finite numbers >= 0, got {w!r}")
        out.append(v)
    return out


def _check_graph_attributes(G: nx.DiGraph) -> None:
    for key in _TEXT_KEYS:
        value = G.graph.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            raise TreeFileError(f"{where(G)}: '{key}' must be text, got {type(value).__name__}")
    wtp_values(G)


def validate_tree(
    G: nx.DiGraph, *, check_draws: int = 200, seed: int = 0, require_declared: bool = False
) -> None:
    """Run every validation rule on a tree.

    Checks the structure, compiles every formula, lists unknown parameter names, and
    evaluates the tree at the parameters' means and on ``check_draws`` random draws
    (seeded by ``seed``) so that probabilities outside [0, 1] or not summing to 1 are
    found at load time.

    Parameters
    ----------
    G : networkx.DiGraph
    check_draws : int
        Draws to check probabilities on (0: only the structure, formulas and names).
    seed : int
        Seed of the check draws.
    require_declared : bool
        Every name a formula uses must be declared in the tree (as :func:`load_tree` asks
        of a file); otherwise a tree without ``parameters:`` may take its values from
        elsewhere and is checked when evaluated.

    Raises
    ------
    TreeValidationError subclass, FormulaError, UnknownParameterError, MarkovError
    """
    from decisionmodel.params import mean_parameters, sample_parameters
    from decisionmodel.tree.compile import compile_tree
    from decisionmodel.tree.evaluate import evaluate

    if (
        isinstance(check_draws, bool)
        or not isinstance(check_draws, (int, np.integer))
        or not 0 <= check_draws <= MAX_CHECK_DRAWS
    ):
        raise DecisionModelError(
            f"--draws {check_draws}: the number of check draws must be from 0 to {MAX_CHECK_DRAWS:,}"
        )
    _check_graph_attributes(G)
    ct = compile_tree(G)
    if G.graph.get("roles"):
        from decisionmodel.roles import strategy_roles

        strategy_roles(ct)
    if not G.graph.get("parameters") and ct.required_names:
        if require_declared:  # a file: every name must be declared in it
            raise UnknownParameterError(
                f"{where(G)}: unknown parameter name(s) {', '.join(sorted(ct.required_names))} "
                "(the file has no 'parameters:' section declaring them)"
            )
        return  # a graph built in Python: parameters come from elsewhere, checked when evaluated
    if check_draws > 0:
        for params in (
            mean_parameters(G),
            sample_parameters(G, check_draws, np.random.default_rng(seed)),
        ):
            out = evaluate(ct, params)
            for var in ("cost", "effect"):
                values = out[var].values
                if not np.isfinite(values).all():
                    bad = np.flatnonzero(~np.isfinite(values).all(axis=-1))
                    names = ", ".join(repr(ct.policies[i].name) for i in bad[:3])
                    raise NonFiniteOutcomeError(
                        f"{where(G)}: the {var} of policy {names} is infinite or NaN for some "
                        "draws (a formula overflows or divides by zero)"
                    )
