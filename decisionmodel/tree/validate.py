"""Validation rules of a decision tree: one exception class per rule.

:func:`validate_tree` runs every rule: the structural ones
(:func:`~decisionmodel.tree.structure.check_structure`, no parameter values needed), then
it compiles every formula and lists unknown parameter names
(:func:`~decisionmodel.tree.compile.compile_tree`), and evaluates the tree on a sample of
draws, so that probabilities outside [0, 1], probabilities not summing to 1 and infinite
or NaN outcomes are found at load time. The per-draw checks are those of
:mod:`decisionmodel.tree.evaluate`, which runs them on every draw it sees.

This module is the top of the tree layers: it imports compile and evaluate, and nothing
below imports it (``evaluate`` > ``compile`` > ``structure``, ``markov`` > ``formula`` >
``schema``; see the import contracts in ``pyproject.toml``).

Rules and their exceptions (all in :mod:`decisionmodel.exceptions`):

=====================================================  ================================
rule                                                   exception
=====================================================  ================================
*structure* (:mod:`decisionmodel.tree.structure`)
the graph is a rooted tree (arborescence)              NotArborescenceError
node kind is decision, chance or terminal              NodeKindError
every leaf is a terminal                               LeafNotTerminalError
terminals have no children                             TerminalWithChildrenError
no ``p`` on a decision edge                            DecisionEdgeProbabilityError
every chance edge has ``p``                            MissingProbabilityError
at most one ``#`` per chance node                      MultipleComplementError
decision edges have an action, unique per node         MissingActionError, DuplicateActionError
chance edges have a label, unique per node             BranchLabelError
*formulas and names* (:mod:`decisionmodel.tree.compile`)
formulas follow the grammar                            FormulaError
every name is declared                                 UnknownParameterError
*per draw* (:mod:`decisionmodel.tree.evaluate`)
probabilities within [0, 1] (per draw)                 ProbabilityRangeError
probabilities of a chance node sum to 1 (per draw)     ProbabilitySumError
outcomes are finite (on the check draws)               NonFiniteOutcomeError
=====================================================  ================================
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from decisionmodel.exceptions import DecisionModelError, TreeFileError, UnknownParameterError
from decisionmodel.params import mean_parameters, sample_parameters
from decisionmodel.tree.compile import compile_tree
from decisionmodel.tree.evaluate import check_finite_outcomes, evaluate
from decisionmodel.tree.schema import where

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
    (seeded by ``seed``) so that probabilities outside [0, 1] or not summing to 1, and
    infinite or NaN outcomes, are found at load time.

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
    TreeValidationError subclass, FormulaError, UnknownParameterError, MarkovError,
    NonFiniteOutcomeError

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {"p": {"value": 1.5}},
    ...     "tree": {"kind": "chance", "name": "c", "branches": [
    ...         {"label": "a", "p": "p", "kind": "terminal"},
    ...         {"label": "b", "p": "#", "kind": "terminal"}]}})
    >>> validate_tree(G)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.ProbabilityRangeError: <dict>: node 'c/a': probability 'p' = 1.5 is outside [0, 1] (draw 0)
    """
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
        # imported here: decisionmodel.roles imports decisionmodel.tree.compile, and importing
        # it while the tree package initialises (which imports this module) would find it
        # half-initialised
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
            sample_parameters(G, check_draws, seed),
        ):
            check_finite_outcomes(ct, evaluate(ct, params))
