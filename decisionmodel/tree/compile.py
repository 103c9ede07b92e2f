"""Compile a validated tree once: parse formulas, index paths, enumerate policies.

A *policy* (a strategy) assigns one action to every decision node it reaches. The root
decision's actions start the policies; every decision node reached after a chance
event (an *embedded* decision, such as the intraoperative pivot when a planned
curative resection finds peritoneal disease) multiplies them, so "resect; if
peritoneal disease: palliative bypass" and "resect; if peritoneal disease: close" are
two policies, each evaluated on every draw. A decision fixed by protocol (the node's
``protocol`` attribute, or the ``protocol`` argument) is not enumerated.

Why not take the best action inside each draw? Per-draw maximisation picks the action
that is best *for that draw's parameter values*, which the surgeon cannot know when
deciding: it makes the decision maker clairvoyant about the uncertain parameters, so
the expected value of the "strategy" is biased upwards and the expected value of
perfect information (which is exactly the gain from such clairvoyance) is inflated
or hidden. The recommended policy is the one with the highest *expected* net benefit
over the draws; uncertainty about which is best is reported (CEAC, EVPI), not
optimised away.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from decisionmodel.exceptions import (
    FormulaError,
    MarkovError,
    ParameterError,
    PolicyError,
    UnknownParameterError,
)
from decisionmodel.params import declared_names, parameter_specs
from decisionmodel.tree.formula import FUNCTIONS, RESERVED_NAMES, Formula, parse
from decisionmodel.tree.markov import MarkovModel, compile_markov
from decisionmodel.tree.schema import COMPLEMENT, where
from decisionmodel.tree.structure import check_structure

MAX_POLICIES = 4_096


@dataclass(frozen=True)
class Policy:
    """One strategy: the action at each decision node it reaches."""

    name: str
    actions: dict[Any, str]
    terminals: tuple[int, ...]  # indices into CompiledTree.terminals


@dataclass(frozen=True)
class TerminalMarkov:
    """The Markov cohort a terminal node runs: its model, ``start`` and ``with`` bindings."""

    model: str
    start: dict[str, Formula] | None
    bindings: dict[str, Formula]

    def key(self) -> tuple:
        """What identifies the cohort this terminal runs: the model and the sources of its
        ``start`` and ``with`` formulas (terminals with equal keys share one cohort run).

        Returns
        -------
        tuple
            Hashable: model name, start formulas (or None) and sorted bindings.
        """
        start = None if self.start is None else tuple((s, f.source) for s, f in self.start.items())
        return (self.model, start, tuple((k, f.source) for k, f in sorted(self.bindings.items())))


@dataclass
class CompiledTree:
    """A tree ready for evaluation (formulas parsed, paths indexed, policies listed)."""

    graph: nx.DiGraph
    where: str
    root: Any
    preorder: list[Any]
    children: dict[Any, list[Any]]
    kind: dict[Any, str]
    edge_p: dict[tuple[Any, Any], Formula | None]
    node_cost: dict[Any, Formula]
    node_effect: dict[Any, Formula]
    edge_cost: dict[tuple[Any, Any], Formula]
    edge_effect: dict[tuple[Any, Any], Formula]
    derived: list[tuple[str, Formula]]
    markov_models: dict[str, MarkovModel]
    terminal_markov: dict[Any, TerminalMarkov]
    terminals: list[Any]
    policies: list[Policy]
    required_names: frozenset[str] = field(default_factory=frozenset)

    @property
    def strategy_names(self) -> list[str]:
        """Policy names in order."""
        return [p.name for p in self.policies]


def _parse(value: Any, G: nx.DiGraph, what: str) -> Formula:
    try:
        return parse(value)
    except FormulaError as exc:
        raise FormulaError(f"{where(G)}: {what}: {exc}") from None


def _order_derived(G: nx.DiGraph, declared: set[str]) -> list[tuple[str, Formula]]:
    raw = G.graph.get("derived") or {}
    parsed: dict[str, Formula] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise FormulaError(f"{where(G)}: derived value {name!r}: names must be identifiers")
        if unicodedata.normalize("NFKC", name) != name:
            raise FormulaError(
                f"{where(G)}: derived value {name!r}: not in NFKC normal form (formulas read it "
                f"as {unicodedata.normalize('NFKC', name)!r})"
            )
        if name in declared:
            raise ParameterError(
                f"{where(G)}: derived value {name!r} has the name of a declared parameter"
            )
        if name in RESERVED_NAMES or name in FUNCTIONS:
            raise ParameterError(f"{where(G)}: derived value {name!r}: the name is reserved")
        parsed[name] = _parse(value, G, f"derived value {name!r}")
    deps: nx.DiGraph = nx.DiGraph()
    deps.add_nodes_from(parsed)
    for name, f in parsed.items():
        for used in f.names & parsed.keys():
            deps.add_edge(used, name)
    try:
        order = list(nx.lexicographical_topological_sort(deps))
    except nx.NetworkXUnfeasible:
        cycle = " -> ".join(u for u, _ in nx.find_cycle(deps))
        raise FormulaError(
            f"{where(G)}: derived values refer to each other in a cycle: {cycle}"
        ) from None
    return [(n, parsed[n]) for n in order]


def _resolve_protocol(G: nx.DiGraph, protocol: Mapping[str, str] | None) -> dict[Any, str]:
    fixed: dict[Any, str] = {
        n: str(d["protocol"]) for n, d in G.nodes(data=True) if d.get("protocol") is not None
    }
    for key, action in (protocol or {}).items():
        if key in G and G.nodes[key].get("kind") == "decision":
            node = key
        else:
            matches = [
                n
                for n, d in G.nodes(data=True)
                if d.get("kind") == "decision" and d.get("label") == key
            ]
            if not matches:
                raise PolicyError(
                    f"{where(G)}: protocol names {key!r}, which is not a decision node"
                )
            if len(matches) > 1:
                raise PolicyError(
                    f"{where(G)}: protocol names {key!r}, which labels {len(matches)} decision nodes; use a node id"
                )
            node = matches[0]
        actions = [str(G.edges[node, c]["action"]) for c in G.successors(node)]
        if str(action) not in actions:
            raise PolicyError(
                f"{where(G)}: protocol for node {str(node)!r}: action {action!r} is not one of {', '.join(actions)}"
            )
        fixed[node] = str(action)
    return fixed


def _enumerate(G, node, children, kind, fixed) -> list[dict[Any, str]]:
    k = kind[node]
    if k == "terminal":
        return [{}]
    if k == "chance":
        parts = [_enumerate(G, c, children, kind, fixed) for c in children[node]]
        total = 1
        for p in parts:
            total *= len(p)
        if total > MAX_POLICIES:
            raise PolicyError(
                f"{where(G)}: node {str(node)!r}: more than {MAX_POLICIES} policies; fix embedded decisions by protocol"
            )
        out = []
        for combo in itertools.product(*parts):
            merged: dict[Any, str] = {}
            for d in combo:
                merged.update(d)
            out.append(merged)
        return out
    out = []
    for c in children[node]:
        action = str(G.edges[node, c]["action"])
        if node in fixed and fixed[node] != action:
            continue
        for sub in _enumerate(G, c, children, kind, fixed):
            out.append({node: action, **sub})
            if len(out) > MAX_POLICIES:
                raise PolicyError(
                    f"{where(G)}: more than {MAX_POLICIES} policies; fix decisions by protocol"
                )
    return out


def _policy_name(G, root, actions: dict[Any, str], fixed: dict[Any, str], preorder) -> str:
    parts: list[str] = []
    for node in preorder:
        if node in actions and (node not in fixed or node == root):
            if node == root:
                parts.insert(0, actions[node])
            else:
                parts.append(f"{G.nodes[node].get('label', node)}: {actions[node]}")
    if not parts:
        return str(G.graph.get("name") or "base case")
    if G.nodes[root].get("kind") == "decision":
        head, rest = parts[0], parts[1:]
        return head if not rest else f"{head} [{'; '.join(rest)}]"
    return "; ".join(parts)


def compile_tree(G: nx.DiGraph, protocol: Mapping[str, str] | None = None) -> CompiledTree:
    """Validate the structure, parse every formula and enumerate the policies.

    Parameters
    ----------
    G : networkx.DiGraph
        A tree with the attribute schema of :mod:`decisionmodel.tree.schema`.
    protocol : mapping, optional
        Decision node (id or label) → action fixed by protocol, in addition to the
        nodes' own ``protocol`` attributes.

    Returns
    -------
    CompiledTree

    Raises
    ------
    TreeValidationError subclass, FormulaError, UnknownParameterError, MarkovError, PolicyError

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "a", "kind": "chance", "branches": [
    ...         {"label": "x", "p": 0.5, "kind": "decision", "branches": [
    ...             {"action": "x1", "kind": "terminal"}, {"action": "x2", "kind": "terminal"}]},
    ...         {"label": "y", "p": "#", "kind": "terminal"}]},
    ...     {"action": "b", "kind": "terminal"}]}})
    >>> compile_tree(G).strategy_names
    ['a [x: x1]', 'a [x: x2]', 'b']
    >>> compile_tree(G, protocol={"x": "x2"}).strategy_names
    ['a', 'b']
    """
    root = check_structure(G)
    preorder = list(nx.dfs_preorder_nodes(G, root))
    children = {n: list(G.successors(n)) for n in preorder}
    kind = {n: G.nodes[n]["kind"] for n in preorder}
    specs = parameter_specs(G)
    declared = set(declared_names(specs))
    derived = _order_derived(G, declared)
    derived_names = {n for n, _ in derived}

    edge_p: dict = {}
    edge_cost: dict = {}
    edge_effect: dict = {}
    node_cost: dict = {}
    node_effect: dict = {}
    used: dict[str, list[str]] = {}

    def note(f: Formula, place: str) -> Formula:
        for name in f.names:
            used.setdefault(name, []).append(place)
        return f

    for node in preorder:
        data = G.nodes[node]
        for key, store in (("cost", node_cost), ("effect", node_effect)):
            if data.get(key) is not None:
                store[node] = note(
                    _parse(data[key], G, f"node {str(node)!r} {key}"), f"node {str(node)!r}"
                )
        for c in children[node]:
            e = G.edges[node, c]
            if kind[node] == "chance":
                p = e["p"]
                if isinstance(p, str) and p.strip() == COMPLEMENT:
                    edge_p[(node, c)] = None
                else:
                    edge_p[(node, c)] = note(_parse(p, G, f"node {str(c)!r} p"), f"node {str(c)!r}")
            for key, store in (("cost", edge_cost), ("effect", edge_effect)):
                if e.get(key) is not None:
                    store[(node, c)] = note(
                        _parse(e[key], G, f"edge to {str(c)!r} {key}"), f"edge to {str(c)!r}"
                    )
    for name, f in derived:
        note(f, f"derived value {name!r}")

    raw_models = G.graph.get("markov") or {}
    markov_models = {
        name: compile_markov(name, spec, where(G)) for name, spec in raw_models.items()
    }
    terminal_markov: dict = {}
    for node in preorder:
        spec = G.nodes[node].get("markov")
        if spec is None:
            continue
        if isinstance(spec, str):
            spec = {"model": spec}
        if not isinstance(spec, Mapping) or "model" not in spec:
            raise MarkovError(
                f"{where(G)}: node {str(node)!r}: markov must be a model name or {{model: NAME, ...}}"
            )
        bad = set(spec) - {"model", "start", "with"}
        if bad:
            raise MarkovError(
                f"{where(G)}: node {str(node)!r}: unknown markov key(s) {', '.join(sorted(bad))}"
            )
        model = markov_models.get(spec["model"])
        if model is None:
            known = ", ".join(sorted(markov_models)) or "none declared"
            raise MarkovError(
                f"{where(G)}: node {str(node)!r}: unknown markov model {spec['model']!r} ({known})"
            )
        start = spec.get("start")
        if isinstance(start, str):
            start = {start: 1}
        start_f = None
        if start is not None:
            if not isinstance(start, Mapping):
                raise MarkovError(
                    f"{where(G)}: node {str(node)!r}: markov start must map states to shares"
                )
            bad_states = [s for s in start if s not in model.states]
            if bad_states:
                raise MarkovError(
                    f"{where(G)}: node {str(node)!r}: markov start names unknown state(s) {', '.join(map(str, bad_states))}"
                )
            start_f = {
                s: note(_parse(v, G, f"node {str(node)!r} markov start"), f"node {str(node)!r}")
                for s, v in start.items()
            }
        bindings = spec.get("with") or {}
        if not isinstance(bindings, Mapping):
            raise MarkovError(
                f"{where(G)}: node {str(node)!r}: markov 'with' must map names to quantities"
            )
        for key in bindings:
            if (
                not isinstance(key, str)
                or not key.isidentifier()
                or key.startswith("_")
                or unicodedata.normalize("NFKC", key) != key
            ):
                raise MarkovError(
                    f"{where(G)}: node {str(node)!r}: markov 'with' name {key!r} must be an "
                    "identifier in NFKC normal form not starting with '_'"
                )
        reserved = sorted(set(map(str, bindings)) & RESERVED_NAMES)
        if reserved:
            raise MarkovError(
                f"{where(G)}: node {str(node)!r}: markov 'with' cannot bind reserved name(s) {', '.join(reserved)}"
            )
        with_f = {
            str(k): note(
                _parse(v, G, f"node {str(node)!r} markov with {k!r}"), f"node {str(node)!r}"
            )
            for k, v in bindings.items()
        }
        for name in model.names - set(with_f):
            used.setdefault(name, []).append(f"markov model {model.name!r} at node {str(node)!r}")
        terminal_markov[node] = TerminalMarkov(spec["model"], start_f, with_f)

    required = frozenset(used) - derived_names
    if specs:
        unknown = sorted(required - declared)
        if unknown:
            listing = "; ".join(f"{n} (in {used[n][0]})" for n in unknown)
            raise UnknownParameterError(f"{where(G)}: unknown parameter name(s): {listing}")

    fixed = _resolve_protocol(G, protocol)
    terminals = [n for n in preorder if kind[n] == "terminal"]
    t_index = {n: i for i, n in enumerate(terminals)}
    # children of each decision node by action (in order), so that listing what a policy
    # reaches costs its own size, not the number of actions times the number of policies
    by_action: dict[Any, dict[str, list[Any]]] = {}
    for n in preorder:
        if kind[n] == "decision":
            groups: dict[str, list[Any]] = {}
            for c in children[n]:
                groups.setdefault(str(G.edges[n, c]["action"]), []).append(c)
            by_action[n] = groups
    policies = []
    for actions in _enumerate(G, root, children, kind, fixed):
        reach = []
        stack = [root]
        while stack:
            n = stack.pop()
            if kind[n] == "terminal":
                reach.append(t_index[n])
            elif kind[n] == "decision":
                stack.extend(by_action[n].get(actions[n], ()))
            else:
                stack.extend(children[n])
        name = _policy_name(G, root, actions, fixed, preorder)
        policies.append(Policy(name, actions, tuple(sorted(reach))))
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise PolicyError(
            f"{where(G)}: policies share the name(s) {', '.join(dup)}; give decision nodes distinct labels"
        )
    return CompiledTree(
        graph=G,
        where=where(G),
        root=root,
        preorder=preorder,
        children=children,
        kind=kind,
        edge_p=edge_p,
        node_cost=node_cost,
        node_effect=node_effect,
        edge_cost=edge_cost,
        edge_effect=edge_effect,
        derived=derived,
        markov_models=markov_models,
        terminal_markov=terminal_markov,
        terminals=terminals,
        policies=policies,
        required_names=required,
    )
