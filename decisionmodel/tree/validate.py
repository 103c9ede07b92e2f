"""Validation rules of a decision tree: one exception class per rule.

:func:`validate_tree` runs the rules that need no parameter draws, once, and returns the
compiled tree it built for them, so that an analysis compiles a tree once
(:func:`decisionmodel.tree.io.load_compiled`): the structural rules
(:func:`~decisionmodel.tree.structure.check_structure`), then it compiles every formula
and lists unknown parameter names (:func:`~decisionmodel.tree.compile.compile_tree`), and
checks every chance node's probabilities at the parameters' means (formulas only, no
Markov cohort is run), so that a probability outside [0, 1] or not summing to 1 in the base
case is found before any evidence model is fitted. The per-draw rules are checked by
:func:`~decisionmodel.tree.evaluate.evaluate` on every draw it computes (probabilities,
Markov transition rows, finite costs and effects); ``check_draws`` > 0 (``decisionmodel
validate --draws N``) also evaluates the tree at the means and on that many draws of the
declared distributions, to find them without an analysis.

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
*at the means, at load* (:func:`decisionmodel.tree.evaluate.check_probabilities`)
probabilities within [0, 1], summing to 1              ProbabilityRangeError, ProbabilitySumError
*per draw* (:mod:`decisionmodel.tree.evaluate`, on every draw evaluated)
probabilities within [0, 1] (per draw)                 ProbabilityRangeError
probabilities of a chance node sum to 1 (per draw)     ProbabilitySumError
Markov transition rows within [0, 1], summing to 1     MarkovError
outcomes are finite                                    NonFiniteOutcomeError
=====================================================  ================================
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np

from decisionmodel.exceptions import DecisionModelError, TreeFileError, UnknownParameterError
from decisionmodel.params import mean_parameters, sample_parameters
from decisionmodel.rng import RNGLike
from decisionmodel.tree.compile import CompiledTree, compile_tree
from decisionmodel.tree.evaluate import check_probabilities, evaluate
from decisionmodel.tree.schema import where

#: most draws the probability checks may use
MAX_CHECK_DRAWS = 1_000_000
_TEXT_KEYS = ("name", "description", "currency", "effect_unit")


def wtp_values(G: nx.DiGraph) -> list[float] | None:
    """The tree file's ``wtp:`` as a list of finite non-negative numbers (None when absent).

    Parameters
    ----------
    G : networkx.DiGraph
        A tree (its ``graph["wtp"]``).

    Returns
    -------
    list of float or None

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
    G: nx.DiGraph,
    *,
    check_draws: int = 0,
    rng: RNGLike | None = None,
    require_declared: bool = False,
    protocol: Mapping[str, str] | None = None,
) -> CompiledTree:
    """Run the validation rules on a tree and return it compiled.

    Checks the structure, compiles every formula, lists unknown parameter names, checks
    the strategy roles and every chance node's probabilities at the parameters' means.
    With ``check_draws`` > 0 it also evaluates the tree at the means and on that many
    draws of the declared distributions (drawn with ``rng``), so that probabilities outside
    [0, 1] or not summing to 1, invalid Markov transition rows and infinite or NaN outcomes
    are found without an analysis; an analysis finds them anyway, on every draw it
    evaluates.

    Parameters
    ----------
    G : networkx.DiGraph
        A tree with the attribute schema of :mod:`decisionmodel.tree.schema`.
    check_draws : int
        Draws to evaluate the tree on (default 0: the rules that need no evaluation).
    rng : Generator, SeedSequence or int, optional
        The stream of the check draws; required when ``check_draws`` > 0
        (:mod:`decisionmodel.rng`).
    require_declared : bool
        Every name a formula uses must be declared in the tree (as :func:`load_tree` asks
        of a file); otherwise a tree without ``parameters:`` may take its values from
        elsewhere and is checked when evaluated.
    protocol : mapping, optional
        Decision node (id or label) → action fixed by protocol, passed to
        :func:`~decisionmodel.tree.compile.compile_tree`.

    Returns
    -------
    CompiledTree
        The tree compiled (with ``protocol``), to evaluate without compiling it again.

    Raises
    ------
    TreeValidationError subclass, FormulaError, UnknownParameterError, MarkovError,
    NonFiniteOutcomeError
        Naming the file or graph, and the node, parameter or draw.

    See Also
    --------
    decisionmodel.tree.io.load_tree : reads a tree file and validates it.
    decisionmodel.tree.io.load_compiled : reads, validates and compiles a tree file once.
    decisionmodel.tree.evaluate.evaluate : checks the per-draw rules on every draw.

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
    >>> G.graph["parameters"]["p"] = {"distribution": "beta", "alpha": 1, "beta": 1}
    >>> validate_tree(G, check_draws=100, rng=1).strategy_names
    ['base case']
    """
    _check_count(check_draws, rng)
    _check_graph_attributes(G)
    ct = compile_tree(G, protocol)
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
        return ct  # a graph built in Python: parameters come from elsewhere, checked when evaluated
    check_probabilities(ct, mean_parameters(G))
    if check_draws > 0:
        check_on_draws(ct, check_draws, rng)
    return ct


def _check_count(check_draws: int, rng: RNGLike | None) -> None:
    if (
        isinstance(check_draws, bool)
        or not isinstance(check_draws, (int, np.integer))
        or not 0 <= check_draws <= MAX_CHECK_DRAWS
    ):
        raise DecisionModelError(
            f"--draws {check_draws}: the number of check draws must be from 0 to {MAX_CHECK_DRAWS:,}"
        )
    if check_draws > 0 and rng is None:
        raise TypeError(
            "rng is required with check_draws > 0 (a Generator, a SeedSequence or an int seed "
            "of the check draws)"
        )


def check_on_draws(ct: CompiledTree, check_draws: int, rng: RNGLike | None) -> None:
    """Evaluate a compiled tree at its parameters' means and on draws of their priors.

    The per-draw rules of :func:`~decisionmodel.tree.evaluate.evaluate` (probabilities,
    Markov transition rows, finite outcomes) on the base case and on ``check_draws`` draws
    of the distributions the tree declares, to find a defect without an analysis
    (``decisionmodel validate --draws N``).

    Parameters
    ----------
    ct : CompiledTree
        A compiled tree whose parameters are declared in it.
    check_draws : int
        Draws to evaluate, from 1 to :data:`MAX_CHECK_DRAWS`.
    rng : Generator, SeedSequence or int
        The stream of the draws (:mod:`decisionmodel.rng`).

    Raises
    ------
    DecisionModelError
        ``check_draws`` out of range.
    ProbabilityRangeError, ProbabilitySumError, MarkovError, NonFiniteOutcomeError
        The first defect found, naming the node and the draw.

    See Also
    --------
    validate_tree : the rules that need no draws, then this with ``check_draws`` > 0.

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {"p": {"distribution": "uniform", "low": 0, "high": 2}},
    ...     "tree": {"kind": "chance", "name": "c", "branches": [
    ...         {"label": "a", "p": "p / 1.5", "kind": "terminal"},
    ...         {"label": "b", "p": "#", "kind": "terminal"}]}})
    >>> ct = validate_tree(G)  # at the mean, p / 1.5 = 0.67 is a probability
    >>> check_on_draws(ct, 100, rng=1)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.ProbabilityRangeError: <dict>: node 'c/a': probability 'p / 1.5' = ... is outside [0, 1] (draw ...)
    """
    _check_count(check_draws, rng)
    evaluate(ct, mean_parameters(ct.graph))
    if check_draws > 0 and rng is not None:  # (_check_count refuses None with draws)
        evaluate(ct, sample_parameters(ct.graph, check_draws, rng))
