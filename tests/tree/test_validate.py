"""The tree validation rules: exact exception class, file name and node path in the message.

Each family of rules is a table of cases, ``pytest.param(yaml_text, ExceptionClass,
fragments, id="rule-name")``, run by one test that writes the YAML, loads it with
``load_tree`` and checks that exactly that class is raised, with the file and every
fragment in the message:

- ``ARBORESCENCE``: graphs that are not rooted trees (two parents, cycles, two roots, no
  nodes), read from GraphML and, in memory, by ``validate_tree`` and ``compile_tree``;
- ``IN_MEMORY_DECISION_EDGES``: duplicate and missing actions on graphs built in memory;
- ``STRUCTURE_RULES``: node kinds, leaves and terminals, probabilities on decision and
  chance edges, the complement ``#``, constant probabilities not summing to 1;
- ``ACTION_LABEL_RULES``: actions on decision branches, labels on chance branches;
- ``PROTOCOL_RULES``: the ``protocol:`` of a node in the file;
- ``NAME_FORMULA_RULES``: unknown parameter names, and a bad formula located at the node
  (cost, effect, p, edge cost) or the derived value that carries it;
- ``MARKOV_RULES``: Markov models and the nodes that use them;
- ``PER_DRAW_AT_LOAD``: the rules checked per draw, on draws of the declared priors when
  ``load_tree`` is given ``check_draws``;
- ``PER_DRAW_AT_EVALUATE``: the same rules at ``evaluate``, naming the failing draw for
  every chunk size; ``PER_DRAW_TREES`` load on structure alone and evaluate on good draws;
- ``WTP_VALUES``: a ``wtp:`` in the file that is not a list of numbers.

What does more than that pattern (a protocol passed as an argument, GraphML round trips,
hostile GraphML, the bound of ``check_draws``, Markov models compiled directly) has its
own test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from decisionmodel.exceptions import (
    BranchLabelError,
    DecisionEdgeProbabilityError,
    DecisionModelError,
    DuplicateActionError,
    FormulaError,
    LeafNotTerminalError,
    MarkovError,
    MissingActionError,
    MissingProbabilityError,
    MultipleComplementError,
    NodeKindError,
    NonFiniteOutcomeError,
    NotArborescenceError,
    ParameterError,
    PolicyError,
    ProbabilityRangeError,
    ProbabilitySumError,
    TerminalWithChildrenError,
    TreeFileError,
    TreeValidationError,
    UnknownParameterError,
)
from decisionmodel.tree import compile_tree, evaluate, load_tree, to_graphml, validate_tree
from decisionmodel.tree.io import tree_from_dict
from decisionmodel.tree.markov import compile_markov


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def raises_exactly(cls, func, *args, **kwargs) -> str:
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    assert type(info.value) is cls, (
        f"expected exactly {cls.__name__}, got {type(info.value).__name__}"
    )
    return str(info.value)


#: the per-draw rules are checked where the values are computed (every evaluation); at load
#: only when asked for, on draws of the declared priors
CHECK_DRAWS = {"check_draws": 200, "rng": 0}


def check_file_rule(tmp_path, text, cls, *fragments, name="model.yaml", **kw):
    path = write(tmp_path, text, name)
    msg = raises_exactly(cls, load_tree, path, **kw)
    assert str(path) in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    return msg


# ----------------------------------------------------------------------------- arborescence


def _graphml(tmp_path, G, name):
    path = tmp_path / name
    to_graphml(G, path)
    return path


def _kinds(G, default="terminal"):
    for n in G:
        G.nodes[n].setdefault("kind", "chance" if G.out_degree(n) else default)
    for u, v in G.edges:
        G.edges[u, v].setdefault("p", 0.5)
        G.edges[u, v].setdefault("label", str(v))
    return G


#: edges of a graph (kinds, labels and probabilities filled in by ``_kinds``), fragments
ARBORESCENCE = [
    pytest.param(
        [("r", "a"), ("r", "b"), ("a", "x"), ("b", "x")], ("'x'", "2 parents"), id="two-parents"
    ),
    # one root, and a separate cycle: nobody has two parents
    pytest.param(
        [("r", "a"), ("r", "b"), ("c1", "c2"), ("c2", "c1")],
        ("cycle", "'c1'", "'c2'"),
        id="cycle-beside-root",
    ),
    pytest.param([("a", "b"), ("b", "c"), ("c", "a")], ("cycle",), id="pure-cycle-3"),
    pytest.param([("a", "b"), ("b", "a")], ("cycle",), id="pure-cycle-2"),
    pytest.param(
        [("r1", "a"), ("r1", "b"), ("r2", "c"), ("r2", "d")],
        ("2 roots", "'r1'", "'r2'"),
        id="two-roots",
    ),
    pytest.param([], ("no nodes",), id="empty"),
]


@pytest.mark.parametrize(("edges", "fragments"), ARBORESCENCE)
def test_not_arborescence_graphml(tmp_path, edges, fragments):
    path = _graphml(tmp_path, _kinds(nx.DiGraph(edges)), "tree.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(validate_tree, id="validate_tree"),
        pytest.param(compile_tree, id="compile_tree"),
    ],
)
@pytest.mark.parametrize(("edges", "fragments"), ARBORESCENCE)
def test_not_arborescence_in_memory(edges, fragments, entry):
    G = _kinds(nx.DiGraph(edges))
    msg = raises_exactly(NotArborescenceError, entry, G)
    assert "<graph>" in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_multigraph_and_undirected_are_rejected():
    M = nx.MultiDiGraph([("r", "a")])
    raises_exactly(NotArborescenceError, compile_tree, M)
    raises_exactly(NotArborescenceError, compile_tree, nx.Graph([("r", "a")]))


def test_declared_root_must_be_the_root():
    G = _kinds(nx.DiGraph([("r", "a"), ("r", "b")]))
    G.graph["root"] = "a"
    msg = raises_exactly(NotArborescenceError, compile_tree, G)
    assert "'a'" in msg


def test_graphml_round_trip_of_valid_tree_loads(tmp_path):
    path = write(
        tmp_path,
        """
        tree:
          kind: chance
          name: r
          branches:
            - {label: a, p: 0.25, kind: terminal, effect: 1}
            - {label: b, p: '#', kind: terminal, effect: 3}
        """,
    )
    G = load_tree(path)
    gml = tmp_path / "ok.graphml"
    to_graphml(G, gml)
    H = load_tree(gml)
    out = evaluate(H, {})
    assert float(out["effect"][0, 0]) == pytest.approx(0.25 * 1 + 0.75 * 3)


#: attributes of the second edge d -> y (the first, d -> x, has action 'go'), class, fragments
IN_MEMORY_DECISION_EDGES = [
    pytest.param({"action": "go"}, DuplicateActionError, ("'d'", "'go'"), id="duplicate-action"),
    pytest.param({}, MissingActionError, ("'y'",), id="missing-action-absent"),
    pytest.param({"action": ""}, MissingActionError, ("'y'",), id="missing-action-empty"),
    pytest.param({"action": "  "}, MissingActionError, ("'y'",), id="missing-action-blank"),
]


@pytest.mark.parametrize(("second_edge", "cls", "fragments"), IN_MEMORY_DECISION_EDGES)
def test_decision_edge_rules_in_memory(second_edge, cls, fragments):
    G = nx.DiGraph()
    G.add_node("d", kind="decision")
    G.add_node("x", kind="terminal")
    G.add_node("y", kind="terminal")
    G.add_edge("d", "x", action="go")
    G.add_edge("d", "y", **second_edge)
    msg = raises_exactly(cls, compile_tree, G)
    for frag in fragments:
        assert frag in msg, (frag, msg)


# ----------------------------------------------------------------------------- file rules

STRUCTURE_RULES = [
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: leaf}
            - {action: b, kind: terminal}
        """,
        NodeKindError,
        ("'d/a'", "'leaf'"),
        id="bad-node-kind",
    ),
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal}
            - {action: b}
        """,
        NodeKindError,
        ("'d/b'",),
        id="missing-node-kind",
    ),
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - action: a
              kind: chance
              branches:
                - {label: x, p: 1, kind: chance}
            - {action: b, kind: terminal}
        """,
        LeafNotTerminalError,
        ("'d/a/x'",),
        id="leaf-chance-not-terminal",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 1, kind: decision}
        """,
        LeafNotTerminalError,
        ("'c/x'",),
        id="leaf-decision-not-terminal",
    ),
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - action: a
              kind: terminal
              branches:
                - {label: x, p: 1, kind: terminal}
            - {action: b, kind: terminal}
        """,
        TerminalWithChildrenError,
        ("'d/a'",),
        id="terminal-with-children",
    ),
    pytest.param(
        """
        markov:
          m: {states: [a], cycles: 1, transitions: {a: {a: 1}}}
        tree:
          kind: decision
          name: d
          markov: m
          branches:
            - {action: a, kind: terminal}
        """,
        TerminalWithChildrenError,
        ("'d'",),
        id="markov-on-non-terminal",
    ),
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, p: 0.5, kind: terminal}
            - {action: b, kind: terminal}
        """,
        DecisionEdgeProbabilityError,
        ("'d/a'",),
        id="probability-on-decision-edge",
    ),
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - action: a
              kind: chance
              branches:
                - {label: x, p: 0.5, kind: terminal}
                - {label: y, kind: terminal}
            - {action: b, kind: terminal}
        """,
        MissingProbabilityError,
        ("'d/a/y'",),
        id="missing-probability-on-chance-edge",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.5, kind: terminal}
            - {label: y, p: '#', kind: terminal}
            - {label: z, p: ' # ', kind: terminal}
        """,
        MultipleComplementError,
        ("'c'", "2 branches"),
        id="more-than-one-complement",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.3, kind: terminal}
            - {label: y, p: 0.3, kind: terminal}
        """,
        ProbabilitySumError,
        ("'c'", "0.6"),
        id="constant-probabilities-not-summing-to-one",
    ),
]

ACTION_LABEL_RULES = [
    # ids keep the two branches apart in the file; the rule then fires
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: treat, id: t1, kind: terminal}
            - {action: treat, id: t2, kind: terminal}
        """,
        DuplicateActionError,
        ("'d'", "'treat'"),
        id="duplicate-action",
    ),
    # without ids both branches get the node id d/treat: the reader rejects the file first
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: treat, kind: terminal}
            - {action: treat, kind: terminal}
        """,
        TreeFileError,
        ("'d/treat'",),
        id="duplicate-action-without-ids-is-a-file-error",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {action: x, label: x, p: 0.5, kind: terminal}
            - {label: y, p: '#', kind: terminal}
        """,
        BranchLabelError,
        ("'c/x'",),
        id="action-on-chance-edge",
    ),
    # a decision branch named by a chance-style label has no action
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal}
            - {label: b, kind: terminal}
        """,
        MissingActionError,
        ("'d/b'",),
        id="missing-action",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {action: x, p: 0.5, kind: terminal}
            - {label: y, p: '#', kind: terminal}
        """,
        BranchLabelError,
        ("'c/x'",),
        id="chance-branch-without-label",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, id: x1, p: 0.5, kind: terminal}
            - {label: x, id: x2, p: '#', kind: terminal}
        """,
        BranchLabelError,
        ("'c'", "'x'"),
        id="duplicate-chance-labels",
    ),
]

PROTOCOL_RULES = [
    pytest.param(
        """
        tree:
          kind: decision
          name: d
          protocol: operate
          branches:
            - {action: a, kind: terminal}
            - {action: b, kind: terminal}
        """,
        PolicyError,
        ("'d'", "'operate'"),
        id="protocol-names-missing-action",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          protocol: x
          branches:
            - {label: x, p: 1, kind: terminal}
        """,
        NodeKindError,
        ("'c'",),
        id="protocol-on-chance-node",
    ),
]

UNKNOWN_PARAMETERS_TREE = """
parameters:
  p: 0.5
tree:
  kind: decision
  name: d
  branches:
    - action: a
      kind: chance
      cost: c_surgery + c_icu
      branches:
        - {label: x, p: p_cure, kind: terminal, effect: u_cured}
        - {label: y, p: '#', kind: terminal}
    - {action: b, kind: terminal, effect: p}
"""

NAME_FORMULA_RULES = [
    pytest.param(
        UNKNOWN_PARAMETERS_TREE,
        UnknownParameterError,
        ("c_surgery", "c_icu", "p_cure", "u_cured", "'d/a'", "'d/a/x'"),
        id="unknown-parameters-all-listed",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.5, kind: terminal}
            - {label: y, kind: terminal, p: '#', cost: 'c.x'}
        """,
        FormulaError,
        ("'c/y'", "formula", "cost"),
        id="formula-error-in-cost",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.5, kind: terminal}
            - {label: y, kind: terminal, p: '#', effect: 'exp(u=1)'}
        """,
        FormulaError,
        ("'c/y'", "formula", "effect"),
        id="formula-error-in-effect",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.5, kind: terminal}
            - {label: y, kind: terminal, p: '__import__(1)'}
        """,
        FormulaError,
        ("'c/y'", "formula", "p"),
        id="formula-error-in-p",
    ),
    pytest.param(
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.5, kind: terminal}
            - {label: y, kind: terminal, p: '#', edge_cost: 'a if b else c'}
        """,
        FormulaError,
        ("'c/y'", "formula", "cost"),
        id="formula-error-in-edge-cost",
    ),
    pytest.param(
        """
        derived:
          total: 'a[0]'
        tree: {kind: terminal, name: t, effect: 1}
        """,
        FormulaError,
        ("'total'",),
        id="formula-error-in-derived-value",
    ),
]

MARKOV_OK = (
    "markov:\n"
    "  m:\n"
    "    states: [alive, dead]\n"
    "    cycles: 3\n"
    "    transitions:\n"
    "      alive: {dead: 0.1, alive: '#'}\n"
    "      dead: {dead: 1}\n"
    "    state_effect: {alive: 1}\n"
)

MARKOV_RULES = [
    pytest.param(
        MARKOV_OK
        + "tree:\n"
        + "  kind: decision\n"
        + "  name: d\n"
        + "  branches:\n"
        + "    - {action: a, kind: terminal, markov: {model: mm}}\n"
        + "    - {action: b, kind: terminal, markov: m}\n",
        MarkovError,
        ("'d/a'", "'mm'"),
        id="unknown-markov-model",
    ),
    pytest.param(
        """
        markov:
          m:
            states: [alive, dead]
            cycles: 3
            transitions:
              alive: {dead: 0.1, alive: 0.8}
              dead: {dead: 1}
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal, markov: m}
            - {action: b, kind: terminal}
        """,
        MarkovError,
        ("'m'", "'alive'", "'d/a'", "0.9"),
        id="markov-row-not-summing-to-one",
    ),
    pytest.param(
        MARKOV_OK + "tree: {kind: terminal, name: t, markov: {model: m, start: {zombie: 1}}}\n",
        MarkovError,
        ("'t'", "zombie"),
        id="markov-unknown-start-state",
    ),
    pytest.param(
        MARKOV_OK + "tree: {kind: terminal, name: t, markov: {model: m, begin: alive}}\n",
        MarkovError,
        ("'t'", "begin"),
        id="markov-bad-keys",
    ),
    pytest.param(
        """
        markov:
          m:
            states: [alive, dead]
            cycles: 3
            correction: mid-cycle
            transitions:
              alive: {alive: 1}
              dead: {dead: 1}
        tree: {kind: terminal, name: t, markov: m}
        """,
        MarkovError,
        ("'m'", "mid-cycle"),
        id="markov-model-error-names-file",
    ),
    pytest.param(
        """
        parameters: {q: 0.1}
        markov:
          m:
            states: [alive, dead]
            cycles: 3
            transitions:
              alive: {dead: q * hr, alive: '#'}
              dead: {dead: 1}
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal, markov: {model: m, with: {hr: 2}}}
            - {action: b, kind: terminal, markov: m}
        """,
        UnknownParameterError,
        ("hr", "'d/b'"),
        id="markov-unknown-name-listed",
    ),
]


@pytest.mark.parametrize(("text", "cls", "fragments"), STRUCTURE_RULES)
def test_structure_rules(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments)


@pytest.mark.parametrize(("text", "cls", "fragments"), ACTION_LABEL_RULES)
def test_action_label_rules(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments)


@pytest.mark.parametrize(("text", "cls", "fragments"), PROTOCOL_RULES)
def test_protocol_rules(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments)


@pytest.mark.parametrize(("text", "cls", "fragments"), NAME_FORMULA_RULES)
def test_name_and_formula_rules(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments)


@pytest.mark.parametrize(("text", "cls", "fragments"), MARKOV_RULES)
def test_markov_rules(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments)


def test_declared_parameter_is_not_listed_as_unknown(tmp_path):
    msg = check_file_rule(tmp_path, UNKNOWN_PARAMETERS_TREE, UnknownParameterError)
    assert "'p'" not in msg.split("unknown parameter")[1].split("(")[0]


def test_protocol_argument_names_missing_action(tmp_path):
    path = write(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal}
            - {action: b, kind: terminal}
        """,
    )
    G = load_tree(path)
    msg = raises_exactly(PolicyError, compile_tree, G, {"d": "operate"})
    assert str(path) in msg
    assert "'d'" in msg
    msg = raises_exactly(PolicyError, evaluate, G, {}, protocol={"nope": "a"})
    assert "'nope'" in msg


# ----------------------------------------------------------------------------- per-draw rules

RANGE_TREE = """
parameters:
  p: {distribution: normal, mean: 0.5, sd: 0.3}
tree:
  kind: decision
  name: d
  branches:
    - action: a
      kind: chance
      branches:
        - {label: x, p: p, kind: terminal, effect: 1}
        - {label: y, p: '#', kind: terminal}
    - {action: b, kind: terminal}
"""

NAN_TREE = """
tree:
  kind: chance
  name: c
  branches:
    - {label: x, p: 'sqrt(q)', kind: terminal}
    - {label: y, p: '#', kind: terminal}
"""

SUM_TREE = """
parameters:
  p: {distribution: beta, alpha: 5, beta: 5}
tree:
  kind: chance
  name: c
  branches:
    - {label: x, p: p, kind: terminal}
    - {label: y, p: 0.5, kind: terminal}
"""

COMPLEMENT_TREE = """
parameters:
  p: {distribution: beta, alpha: 20, beta: 20}
  q: {distribution: beta, alpha: 20, beta: 20}
tree:
  kind: chance
  name: c
  branches:
    - {label: x, p: p, kind: terminal}
    - {label: y, p: q, kind: terminal}
    - {label: z, p: '#', kind: terminal}
"""

MARKOV_ROW_TREE = """
parameters:
  q: {distribution: beta, alpha: 50, beta: 50}
markov:
  m:
    states: [alive, dead]
    cycles: 2
    transitions:
      alive: {dead: q, alive: 0.5}
      dead: {dead: 1}
tree: {kind: terminal, name: t, markov: m}
"""

# within 1e-6 of 1 is accepted; further off is not
TOLERANCE_TREE = """
tree:
  kind: chance
  name: c
  branches:
    - {label: x, p: p, kind: terminal, effect: 1}
    - {label: y, p: 'q', kind: terminal}
"""

# a parameter that is almost always fine but can exceed 1: load catches it only because it
# samples; with check_draws=0 it passes
UNIFORM_TREE = """
parameters:
  p: {distribution: uniform, low: 0.0, high: 1.2}
tree:
  kind: chance
  name: c
  branches:
    - {label: x, p: p, kind: terminal}
    - {label: y, p: '#', kind: terminal}
"""

NON_FINITE_TREE = """
wtp: [1]
parameters: {c: {value: 100}}
tree:
  kind: decision
  name: r
  branches:
    - {action: a, kind: terminal, cost: 'COST', effect: 1}
    - {action: b, kind: terminal, effect: 0}
"""

# no declarations: the names come with the sample
UNKNOWN_AT_EVALUATE_TREE = """
tree:
  kind: chance
  name: c
  cost: c1 * c2
  branches:
    - {label: x, p: p, kind: terminal, effect: u}
    - {label: y, p: '#', kind: terminal}
"""

#: checked on CHECK_DRAWS draws of the declared priors by load_tree
PER_DRAW_AT_LOAD = [
    pytest.param(
        RANGE_TREE, ProbabilityRangeError, ("'d/a/x'", "draw ", "'p'"), id="probability-range"
    ),
    pytest.param(
        UNIFORM_TREE, ProbabilityRangeError, ("'c/x'",), id="probability-range-declared-uniform"
    ),
    pytest.param(SUM_TREE, ProbabilitySumError, ("'c'", "draw "), id="probability-sum"),
    pytest.param(COMPLEMENT_TREE, ProbabilitySumError, ("'c'", "'#'"), id="complement-negative"),
    pytest.param(MARKOV_ROW_TREE, MarkovError, ("'m'", "'alive'", "draw "), id="markov-row-sum"),
    pytest.param(
        NON_FINITE_TREE.replace("COST", "exp(c * 10)"),
        NonFiniteOutcomeError,
        ("policy 'a'", "infinite or NaN"),
        id="non-finite-overflow",
    ),
    pytest.param(
        NON_FINITE_TREE.replace("COST", "1 / (c - 100)"),
        NonFiniteOutcomeError,
        ("policy 'a'", "infinite or NaN"),
        id="non-finite-division-by-zero",
    ),
    pytest.param(
        NON_FINITE_TREE.replace("COST", "c ** 1e10"),
        NonFiniteOutcomeError,
        ("policy 'a'", "infinite or NaN"),
        id="non-finite-power",
    ),
]

#: tree, sample, class, fragments: evaluate names the failing draw
PER_DRAW_AT_EVALUATE = [
    pytest.param(
        RANGE_TREE,
        {"p": [0.2, 0.5, 1.3, 0.4, -0.2]},
        ProbabilityRangeError,
        ("'d/a/x'", "(draw 2)", "1.3"),
        id="probability-above-one",
    ),
    pytest.param(
        RANGE_TREE,
        {"p": [0.2, 0.5, 0.3, 0.4, -0.2]},
        ProbabilityRangeError,
        ("'d/a/x'", "(draw 4)", "-0.2"),
        id="probability-below-zero",
    ),
    pytest.param(
        NAN_TREE, {"q": [0.25, -1.0]}, ProbabilityRangeError, ("(draw 1)",), id="probability-nan"
    ),
    pytest.param(
        SUM_TREE,
        {"p": [0.5, 0.5, 0.6]},
        ProbabilitySumError,
        ("(draw 2)", "1.1"),
        id="probability-sum",
    ),
    pytest.param(
        COMPLEMENT_TREE,
        {"p": [0.3, 0.6], "q": [0.3, 0.5]},
        ProbabilitySumError,
        ("(draw 1)",),
        id="complement-negative",
    ),
    pytest.param(
        TOLERANCE_TREE,
        {"p": [0.3], "q": [0.7 + 1e-5]},
        ProbabilitySumError,
        (),
        id="probability-sum-beyond-tolerance",
    ),
    pytest.param(
        MARKOV_ROW_TREE, {"q": [0.5, 0.5, 0.7]}, MarkovError, ("draw 2",), id="markov-row-sum"
    ),
    pytest.param(
        UNKNOWN_AT_EVALUATE_TREE,
        {"p": [0.5]},
        UnknownParameterError,
        ("c1", "c2", "u", "3 name(s)"),
        id="unknown-names-all-listed",
    ),
]

#: the same trees pass on their structure alone, and evaluate on good draws
PER_DRAW_TREES = [
    pytest.param(RANGE_TREE, {"p": [0.5]}, id="probability-range"),
    pytest.param(UNIFORM_TREE, {"p": [0.5]}, id="probability-range-declared-uniform"),
    pytest.param(NAN_TREE, {"q": [0.25]}, id="probability-nan"),
    pytest.param(SUM_TREE, {"p": [0.5, 0.5]}, id="probability-sum"),
    pytest.param(COMPLEMENT_TREE, {"p": [0.3], "q": [0.3]}, id="complement-negative"),
    pytest.param(TOLERANCE_TREE, {"p": [0.3], "q": [0.7 + 5e-7]}, id="probability-sum-tolerance"),
    pytest.param(MARKOV_ROW_TREE, {"q": [0.5]}, id="markov-row-sum"),
]


@pytest.mark.parametrize(("text", "cls", "fragments"), PER_DRAW_AT_LOAD)
def test_per_draw_rules_at_load(tmp_path, text, cls, fragments):
    check_file_rule(tmp_path, text, cls, *fragments, **CHECK_DRAWS)


@pytest.mark.parametrize(
    "chunk_size",
    [
        pytest.param(1, id="chunk-1"),
        pytest.param(2, id="chunk-2"),
        pytest.param(100, id="chunk-100"),
        pytest.param(None, id="chunk-default"),
    ],
)
@pytest.mark.parametrize(("text", "sample", "cls", "fragments"), PER_DRAW_AT_EVALUATE)
def test_per_draw_rules_at_evaluate(tmp_path, text, sample, cls, fragments, chunk_size):
    # every rule names the draw by its number in the whole sample, whatever the chunk size
    path = write(tmp_path, text)
    G = load_tree(path, check_draws=0)
    kw = {} if chunk_size is None else {"chunk_size": chunk_size}
    msg = raises_exactly(cls, evaluate, G, sample, **kw)
    assert str(path) in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


@pytest.mark.parametrize(("text", "sample"), PER_DRAW_TREES)
def test_per_draw_trees_pass_on_structure_and_good_draws(tmp_path, text, sample):
    G = load_tree(write(tmp_path, text), check_draws=0)
    evaluate(G, sample)


# ----------------------------------------------------------------------------- misc


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(cls, id=cls.__name__)
        for cls in (
            BranchLabelError,
            NotArborescenceError,
            NodeKindError,
            LeafNotTerminalError,
            TerminalWithChildrenError,
            DecisionEdgeProbabilityError,
            MissingProbabilityError,
            MultipleComplementError,
            ProbabilityRangeError,
            ProbabilitySumError,
            NonFiniteOutcomeError,
            DuplicateActionError,
            MissingActionError,
        )
    ],
)
def test_rule_derives_from_tree_validation_error(cls):
    assert issubclass(cls, TreeValidationError)


def test_validate_tree_on_dict_names_graph():
    G = tree_from_dict(
        {
            "tree": {
                "kind": "chance",
                "name": "c",
                "branches": [{"label": "x", "p": 2, "kind": "terminal"}],
            }
        },
        where="inline-doc",
    )
    msg = raises_exactly(ProbabilityRangeError, validate_tree, G)
    assert "inline-doc" in msg
    assert "'c/x'" in msg


def test_valid_tree_passes_and_evaluates(tmp_path):
    G = load_tree(
        write(
            tmp_path,
            """
            parameters:
              p: {distribution: beta, alpha: 2, beta: 8}
            tree:
              kind: decision
              name: d
              branches:
                - action: a
                  kind: chance
                  branches:
                    - {label: x, p: p, kind: terminal, effect: 1}
                    - {label: y, p: '#', kind: terminal}
                - {action: b, kind: terminal, effect: 0.1}
            """,
        )
    )
    out = evaluate(G, {"p": np.array([0.2, 0.4])})
    np.testing.assert_allclose(out["effect"].values, [[0.2, 0.4], [0.1, 0.1]])


def test_parameter_named_like_a_constant_is_rejected(tmp_path):
    path = write(
        tmp_path,
        """
        parameters:
          pi: {value: 100, source: "cost of a procedure abbreviated PI"}
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal, cost: pi}
            - {action: b, kind: terminal, cost: 50}
        """,
    )
    # either reject the declaration, or use the parameter; never silently use 3.14159
    try:
        G = load_tree(path)
    except (ParameterError, FormulaError):
        return
    out = evaluate(G, {"pi": [100.0]})
    assert float(out["cost"][0, 0]) == 100.0


# ----------------------------------------------------------------------------- hostile input

_SMALL = """
wtp: WTP
parameters: {c: {value: 100}}
tree:
  kind: decision
  name: r
  branches:
    - {action: a, kind: terminal, cost: c, effect: 1}
    - {action: b, kind: terminal, effect: 0}
"""

WTP_VALUES = [
    pytest.param("lots", id="text"),
    pytest.param("{low: 1}", id="mapping"),
    pytest.param("true", id="boolean"),
    pytest.param("[]", id="empty-list"),
    pytest.param("[-5]", id="negative"),
    pytest.param("[.inf]", id="infinite"),
    pytest.param("[" + "9" * 400 + "]", id="huge-integer"),
    pytest.param("[1, x]", id="list-with-text"),
]


@pytest.mark.parametrize("wtp", WTP_VALUES)
def test_wtp_in_the_file_must_be_numbers(tmp_path, wtp):
    path = write(tmp_path, _SMALL.replace("WTP", wtp))
    msg = raises_exactly(TreeFileError, load_tree, path)
    assert str(path) in msg and "'wtp'" in msg


def test_undeclared_names_refused_when_required(tmp_path):
    path = write(
        tmp_path,
        "tree: {kind: decision, name: r, branches: [{action: a, kind: terminal, effect: u},"
        " {action: b, kind: terminal, effect: 1}]}\n",
    )
    load_tree(path)  # the API: names may come with the sample
    msg = raises_exactly(UnknownParameterError, load_tree, path, require_declared=True)
    assert "'parameters:'" in msg and "u" in msg


def test_check_draws_bounded(tmp_path):
    path = write(tmp_path, _SMALL.replace("WTP", "[1]"))
    G = load_tree(path, validate=False)
    with pytest.raises(DecisionModelError, match="check draws"):
        validate_tree(G, check_draws=10**12)


def test_graphml_unknown_attributes_and_deep_json(tmp_path):
    path = write(tmp_path, _SMALL.replace("WTP", "[1]"))
    out = tmp_path / "t.graphml"
    to_graphml(load_tree(path), out)
    assert load_tree(out).number_of_nodes() == 3
    text = out.read_text()
    bad = tmp_path / "bad.graphml"
    bad.write_text(text.replace('attr.name="kind"', 'attr.name="__class__"', 1))
    with pytest.raises(TreeFileError, match="unknown node attribute"):
        load_tree(bad)
    deep = tmp_path / "deep.graphml"
    deep.write_text(text.replace(">terminal<", ">json:" + "[" * 100_000 + "]" * 100_000 + "<", 1))
    with pytest.raises(TreeFileError, match=r"deep\.graphml"):
        load_tree(deep)


_MARKOV_SPEC = {
    "states": ["a", "b"],
    "cycles": 2,
    "transitions": {"a": {"b": 0.1, "a": "#"}, "b": {"b": 1}},
}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        pytest.param({"cycle_length": 1e308}, "cycle_length", id="huge-cycle-length"),
        pytest.param({"define": {"\ufb01": 1}}, "NFKC", id="define-name-not-nfkc"),
    ],
)
def test_markov_names_and_cycle_length(extra, fragment):
    msg = raises_exactly(MarkovError, compile_markov, "m", {**_MARKOV_SPEC, **extra})
    assert fragment in msg, msg
