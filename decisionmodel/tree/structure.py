"""The structural rules of a decision tree: what can be checked without parameter values.

:func:`check_structure` is the first step of :func:`~decisionmodel.tree.compile.compile_tree`
(and so of :func:`~decisionmodel.tree.validate.validate_tree` and
:func:`~decisionmodel.evaluate`); the rules that need formulas or draws are checked where
those are computed (see the table in :mod:`decisionmodel.tree.validate`). This module
imports nothing of the package but the schema and the exceptions.
"""

from __future__ import annotations

import networkx as nx

from decisionmodel.exceptions import (
    BranchLabelError,
    DecisionEdgeProbabilityError,
    DuplicateActionError,
    LeafNotTerminalError,
    MissingActionError,
    MissingProbabilityError,
    MultipleComplementError,
    NodeKindError,
    NotArborescenceError,
    PolicyError,
    TerminalWithChildrenError,
)
from decisionmodel.tree.schema import COMPLEMENT, KINDS, where

__all__ = ["check_structure", "find_root"]


def _at(G: nx.DiGraph, node) -> str:
    return f"{where(G)}: node {str(node)!r}"


def find_root(G: nx.DiGraph):
    """The root of a tree graph, checking that the graph is an arborescence.

    Raises
    ------
    NotArborescenceError
        Empty graph, cycle, several roots, or a node with several parents.

    Parameters
    ----------
    G : networkx.DiGraph
        The tree; its graph attribute ``root``, if set, must name the root.

    Returns
    -------
    node
        The one node without a parent.

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

    Parameters
    ----------
    G : networkx.DiGraph
        A tree of the layout of :mod:`decisionmodel.tree.schema`.

    Returns
    -------
    node
        The root (see :func:`find_root`).

    Raises
    ------
    NotArborescenceError
        As :func:`find_root`.
    NodeKindError
        A node's ``kind`` is not one of ``decision``, ``chance``, ``terminal``, or a node
        that is not a decision carries a ``protocol``.
    LeafNotTerminalError
        A decision or chance node without branches.
    TerminalWithChildrenError
        A terminal with branches, or a node that is not a terminal with ``markov``.
    DecisionEdgeProbabilityError
        A branch of a decision node with a probability ``p``.
    MissingActionError, DuplicateActionError
        A branch of a decision node without an action, or an action given twice.
    PolicyError
        A ``protocol`` that names none of the node's actions.
    BranchLabelError
        A branch of a chance node without a label, with a label given twice, or with an
        action.
    MissingProbabilityError
        A branch of a chance node without ``p``.
    MultipleComplementError
        More than one branch of a chance node with the complement ``"#"``.

    See Also
    --------
    decisionmodel.tree.validate.validate_tree : these rules, then those that need values.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("d", kind="decision")
    >>> G.add_node("d/x", kind="terminal")
    >>> G.add_edge("d", "d/x", action="x")
    >>> check_structure(G)
    'd'
    >>> G.add_node("d/y", kind="chance")
    >>> G.add_edge("d", "d/y", action="y")
    >>> check_structure(G)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.LeafNotTerminalError: <graph>: node 'd/y': a chance node has no branches (leaves must be terminal)
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
