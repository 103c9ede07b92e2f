"""One test per validation rule: exact exception class, file name and node path in the message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from decisionmodel.exceptions import (
    BranchLabelError,
    DecisionEdgeProbabilityError,
    DuplicateActionError,
    FormulaError,
    LeafNotTerminalError,
    MarkovError,
    MissingActionError,
    MissingProbabilityError,
    MultipleComplementError,
    NodeKindError,
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


def test_two_parents_graphml(tmp_path):
    G = _kinds(nx.DiGraph([("r", "a"), ("r", "b"), ("a", "x"), ("b", "x")]))
    path = _graphml(tmp_path, G, "two_parents.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    assert "'x'" in msg
    assert "2 parents" in msg


def test_cycle_graphml(tmp_path):
    # one root, and a separate cycle: nobody has two parents
    G = _kinds(nx.DiGraph([("r", "a"), ("r", "b"), ("c1", "c2"), ("c2", "c1")]))
    path = _graphml(tmp_path, G, "cycle.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    assert "cycle" in msg
    assert "'c1'" in msg
    assert "'c2'" in msg


def test_pure_cycle_has_no_root(tmp_path):
    G = _kinds(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")]))
    path = _graphml(tmp_path, G, "loop.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    assert "cycle" in msg


def test_two_roots_graphml(tmp_path):
    G = _kinds(nx.DiGraph([("r1", "a"), ("r1", "b"), ("r2", "c"), ("r2", "d")]))
    path = _graphml(tmp_path, G, "two_roots.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    assert "2 roots" in msg
    assert "'r1'" in msg
    assert "'r2'" in msg


def test_empty_graphml(tmp_path):
    path = _graphml(tmp_path, nx.DiGraph(), "empty.graphml")
    msg = raises_exactly(NotArborescenceError, load_tree, path)
    assert str(path) in msg
    assert "no nodes" in msg


@pytest.mark.parametrize(
    ("edges", "fragment"),
    [
        ([("r", "a"), ("r", "b"), ("a", "x"), ("b", "x")], "'x'"),
        ([("r", "a"), ("r", "b"), ("c1", "c2"), ("c2", "c1")], "cycle"),
        ([("a", "b"), ("b", "a")], "cycle"),
        ([("r1", "a"), ("r1", "b"), ("r2", "c"), ("r2", "d")], "2 roots"),
        ([], "no nodes"),
    ],
)
@pytest.mark.parametrize("entry", [validate_tree, compile_tree])
def test_not_arborescence_in_memory(edges, fragment, entry):
    G = _kinds(nx.DiGraph(edges))
    msg = raises_exactly(NotArborescenceError, entry, G)
    assert "<graph>" in msg
    assert fragment in msg


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


# ----------------------------------------------------------------------------- structure


def test_bad_node_kind(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: leaf}
            - {action: b, kind: terminal}
        """,
        NodeKindError,
        "'d/a'",
        "'leaf'",
    )


def test_missing_node_kind(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal}
            - {action: b}
        """,
        NodeKindError,
        "'d/b'",
    )


def test_leaf_not_terminal(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'d/a/x'",
    )


def test_leaf_decision_not_terminal(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 1, kind: decision}
        """,
        LeafNotTerminalError,
        "'c/x'",
    )


def test_terminal_with_children(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'d/a'",
    )


def test_markov_on_non_terminal(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'d'",
    )


def test_probability_on_decision_edge(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, p: 0.5, kind: terminal}
            - {action: b, kind: terminal}
        """,
        DecisionEdgeProbabilityError,
        "'d/a'",
    )


def test_missing_probability_on_chance_edge(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'d/a/y'",
    )


def test_more_than_one_complement(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'c'",
        "2 branches",
    )


def test_duplicate_action_labels(tmp_path):
    # ids keep the two branches apart in the file; the rule then fires
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: treat, id: t1, kind: terminal}
            - {action: treat, id: t2, kind: terminal}
        """,
        DuplicateActionError,
        "'d'",
        "'treat'",
    )


def test_duplicate_action_without_ids_is_a_file_error(tmp_path):
    # without ids both branches get the node id d/treat: the reader rejects the file first
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: treat, kind: terminal}
            - {action: treat, kind: terminal}
        """,
        TreeFileError,
        "'d/treat'",
    )


def test_duplicate_action_in_memory():
    G = nx.DiGraph()
    G.add_node("d", kind="decision")
    G.add_node("x", kind="terminal")
    G.add_node("y", kind="terminal")
    G.add_edge("d", "x", action="go")
    G.add_edge("d", "y", action="go")
    msg = raises_exactly(DuplicateActionError, compile_tree, G)
    assert "'d'" in msg
    assert "'go'" in msg


def test_action_on_chance_edge(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {action: x, label: x, p: 0.5, kind: terminal}
            - {label: y, p: '#', kind: terminal}
        """,
        BranchLabelError,
        "'c/x'",
    )


def test_missing_action(tmp_path):
    # a decision branch named by a chance-style label has no action
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: decision
          name: d
          branches:
            - {action: a, kind: terminal}
            - {label: b, kind: terminal}
        """,
        MissingActionError,
        "'d/b'",
    )


@pytest.mark.parametrize("action", [None, "", "  "])
def test_missing_action_in_memory(action):
    G = nx.DiGraph()
    G.add_node("d", kind="decision")
    G.add_node("x", kind="terminal")
    G.add_node("y", kind="terminal")
    G.add_edge("d", "x", action="go")
    G.add_edge("d", "y", **({} if action is None else {"action": action}))
    msg = raises_exactly(MissingActionError, compile_tree, G)
    assert "'y'" in msg


def test_chance_branch_without_label(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {action: x, p: 0.5, kind: terminal}
            - {label: y, p: '#', kind: terminal}
        """,
        BranchLabelError,
        "'c/x'",
    )


def test_duplicate_chance_labels(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, id: x1, p: 0.5, kind: terminal}
            - {label: x, id: x2, p: '#', kind: terminal}
        """,
        BranchLabelError,
        "'c'",
        "'x'",
    )


def test_protocol_names_missing_action(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'d'",
        "'operate'",
    )


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


def test_protocol_on_chance_node(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          protocol: x
          branches:
            - {label: x, p: 1, kind: terminal}
        """,
        NodeKindError,
        "'c'",
    )


# ----------------------------------------------------------------------------- probabilities

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


def test_probability_out_of_range_for_some_draws_only(tmp_path):
    path = write(tmp_path, RANGE_TREE)
    # the mean is fine: structure-only loading passes
    G = load_tree(path, check_draws=0)
    evaluate(G, {"p": [0.5]})
    # the per-draw rules on draws of the priors: evaluation (or check_draws at load)
    msg = check_file_rule(
        tmp_path, RANGE_TREE, ProbabilityRangeError, "'d/a/x'", "draw ", **CHECK_DRAWS
    )
    assert "'p'" in msg
    # at evaluate: the failing draw is named, also across chunks
    for chunk in (1, 2, 100):
        msg = raises_exactly(
            ProbabilityRangeError, evaluate, G, {"p": [0.2, 0.5, 1.3, 0.4, -0.2]}, chunk_size=chunk
        )
        assert str(path) in msg
        assert "'d/a/x'" in msg
        assert "(draw 2)" in msg
        assert "1.3" in msg
        msg = raises_exactly(
            ProbabilityRangeError, evaluate, G, {"p": [0.2, 0.5, 0.3, 0.4, -0.2]}, chunk_size=chunk
        )
        assert "(draw 4)" in msg
        assert "-0.2" in msg


def test_probability_nan_is_out_of_range(tmp_path):
    path = write(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 'sqrt(q)', kind: terminal}
            - {label: y, p: '#', kind: terminal}
        """,
    )
    G = load_tree(path)
    msg = raises_exactly(ProbabilityRangeError, evaluate, G, {"q": [0.25, -1.0]})
    assert "(draw 1)" in msg


def test_probabilities_not_summing_to_one_constant(tmp_path):
    check_file_rule(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          branches:
            - {label: x, p: 0.3, kind: terminal}
            - {label: y, p: 0.3, kind: terminal}
        """,
        ProbabilitySumError,
        "'c'",
        "0.6",
    )


def test_probabilities_not_summing_to_one_per_draw(tmp_path):
    text = """
    parameters:
      p: {distribution: beta, alpha: 5, beta: 5}
    tree:
      kind: chance
      name: c
      branches:
        - {label: x, p: p, kind: terminal}
        - {label: y, p: 0.5, kind: terminal}
    """
    check_file_rule(tmp_path, text, ProbabilitySumError, "'c'", "draw ", **CHECK_DRAWS)
    G = load_tree(write(tmp_path, text), check_draws=0)
    evaluate(G, {"p": [0.5, 0.5]})
    msg = raises_exactly(ProbabilitySumError, evaluate, G, {"p": [0.5, 0.5, 0.6]}, chunk_size=2)
    assert "(draw 2)" in msg
    assert "1.1" in msg


def test_complement_negative_per_draw(tmp_path):
    text = """
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
    check_file_rule(tmp_path, text, ProbabilitySumError, "'c'", "'#'", **CHECK_DRAWS)
    G = load_tree(write(tmp_path, text), check_draws=0)
    msg = raises_exactly(ProbabilitySumError, evaluate, G, {"p": [0.3, 0.6], "q": [0.3, 0.5]})
    assert "(draw 1)" in msg


def test_tolerance_of_probability_sums(tmp_path):
    G = load_tree(
        write(
            tmp_path,
            """
            tree:
              kind: chance
              name: c
              branches:
                - {label: x, p: p, kind: terminal, effect: 1}
                - {label: y, p: 'q', kind: terminal}
            """,
        )
    )
    # within 1e-6 of 1 is accepted; further off is not
    evaluate(G, {"p": [0.3], "q": [0.7 + 5e-7]})
    raises_exactly(ProbabilitySumError, evaluate, G, {"p": [0.3], "q": [0.7 + 1e-5]})


# ----------------------------------------------------------------------------- names and formulas


def test_unknown_parameter_names_all_listed(tmp_path):
    msg = check_file_rule(
        tmp_path,
        """
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
        """,
        UnknownParameterError,
    )
    for name in ("c_surgery", "c_icu", "p_cure", "u_cured"):
        assert name in msg
    assert "'d/a'" in msg
    assert "'d/a/x'" in msg
    assert "'p'" not in msg.split("unknown parameter")[1].split("(")[0]


def test_unknown_names_at_evaluate_all_listed(tmp_path):
    path = write(
        tmp_path,
        """
        tree:
          kind: chance
          name: c
          cost: c1 * c2
          branches:
            - {label: x, p: p, kind: terminal, effect: u}
            - {label: y, p: '#', kind: terminal}
        """,
    )
    G = load_tree(path)  # no declarations: names come with the sample
    msg = raises_exactly(UnknownParameterError, evaluate, G, {"p": [0.5]})
    assert str(path) in msg
    for name in ("c1", "c2", "u"):
        assert name in msg
    assert "3 name(s)" in msg


@pytest.mark.parametrize(
    ("where_", "snippet"),
    [
        ("cost", "cost: 'c.x'"),
        ("effect", "effect: 'exp(u=1)'"),
        ("p", "p: '__import__(1)'"),
        ("edge_cost", "edge_cost: 'a if b else c'"),
    ],
)
def test_formula_error_in_node(tmp_path, where_, snippet):
    msg = check_file_rule(
        tmp_path,
        f"""
        tree:
          kind: chance
          name: c
          branches:
            - {{label: x, p: 0.5, kind: terminal}}
            - {{label: y, kind: terminal, {snippet if where_ == "p" else "p: '#', " + snippet}}}
        """,
        FormulaError,
        "'c/y'",
        "formula",
    )
    assert where_.replace("edge_", "") in msg


def test_formula_error_in_derived_value(tmp_path):
    check_file_rule(
        tmp_path,
        """
        derived:
          total: 'a[0]'
        tree: {kind: terminal, name: t, effect: 1}
        """,
        FormulaError,
        "'total'",
    )


# ----------------------------------------------------------------------------- markov


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


def test_unknown_markov_model(tmp_path):
    check_file_rule(
        tmp_path,
        MARKOV_OK
        + textwrap.dedent(
            """
            tree:
              kind: decision
              name: d
              branches:
                - {action: a, kind: terminal, markov: {model: mm}}
                - {action: b, kind: terminal, markov: m}
            """
        ),
        MarkovError,
        "'d/a'",
        "'mm'",
    )


def test_markov_row_not_summing_to_one(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'m'",
        "'alive'",
        "'d/a'",
        "0.9",
    )


def test_markov_row_not_summing_per_draw(tmp_path):
    text = """
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
    check_file_rule(tmp_path, text, MarkovError, "'m'", "'alive'", "draw ", **CHECK_DRAWS)
    G = load_tree(write(tmp_path, text), check_draws=0)
    msg = raises_exactly(MarkovError, evaluate, G, {"q": [0.5, 0.5, 0.7]})
    assert "draw 2" in msg


def test_markov_unknown_start_state(tmp_path):
    check_file_rule(
        tmp_path,
        MARKOV_OK + "tree: {kind: terminal, name: t, markov: {model: m, start: {zombie: 1}}}\n",
        MarkovError,
        "'t'",
        "zombie",
    )


def test_markov_bad_keys(tmp_path):
    check_file_rule(
        tmp_path,
        MARKOV_OK + "tree: {kind: terminal, name: t, markov: {model: m, begin: alive}}\n",
        MarkovError,
        "'t'",
        "begin",
    )


def test_markov_model_error_names_file(tmp_path):
    check_file_rule(
        tmp_path,
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
        "'m'",
        "mid-cycle",
    )


def test_markov_unknown_name_listed(tmp_path):
    msg = check_file_rule(
        tmp_path,
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
        "hr",
    )
    assert "'d/b'" in msg


# ----------------------------------------------------------------------------- misc


def test_all_rules_derive_from_tree_validation_error():
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
        DuplicateActionError,
        MissingActionError,
    ):
        assert issubclass(cls, TreeValidationError)


def test_validation_runs_on_the_declared_distribution(tmp_path):
    # a parameter that is almost always fine but can exceed 1: load catches it
    # only because it samples; with check_draws=0 it passes
    text = """
    parameters:
      p: {distribution: uniform, low: 0.0, high: 1.2}
    tree:
      kind: chance
      name: c
      branches:
        - {label: x, p: p, kind: terminal}
        - {label: y, p: '#', kind: terminal}
    """
    check_file_rule(tmp_path, text, ProbabilityRangeError, "'c/x'", **CHECK_DRAWS)
    load_tree(write(tmp_path, text, "again.yaml"), check_draws=0)


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
    - {action: a, kind: terminal, cost: COST, effect: 1}
    - {action: b, kind: terminal, effect: 0}
"""


@pytest.mark.parametrize(
    "wtp", ["lots", "{low: 1}", "true", "[]", "[-5]", "[.inf]", "[" + "9" * 400 + "]", "[1, x]"]
)
def test_wtp_in_the_file_must_be_numbers(tmp_path, wtp):
    from decisionmodel.exceptions import TreeFileError

    path = write(tmp_path, _SMALL.replace("WTP", wtp).replace("COST", "c"))
    msg = raises_exactly(TreeFileError, load_tree, path)
    assert str(path) in msg and "'wtp'" in msg


def test_infinite_outcomes_are_refused(tmp_path):
    from decisionmodel.exceptions import NonFiniteOutcomeError

    for cost in ("exp(c * 10)", "1 / (c - 100)", "c ** 1e10"):
        path = write(tmp_path, _SMALL.replace("WTP", "[1]").replace("COST", f"'{cost}'"))
        msg = raises_exactly(NonFiniteOutcomeError, load_tree, path, **CHECK_DRAWS)
        assert "policy 'a'" in msg and "infinite or NaN" in msg


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
    from decisionmodel.exceptions import DecisionModelError

    path = write(tmp_path, _SMALL.replace("WTP", "[1]").replace("COST", "c"))
    G = load_tree(path, validate=False)
    with pytest.raises(DecisionModelError, match="check draws"):
        validate_tree(G, check_draws=10**12)


def test_graphml_unknown_attributes_and_deep_json(tmp_path):
    from decisionmodel.exceptions import TreeFileError

    path = write(tmp_path, _SMALL.replace("WTP", "[1]").replace("COST", "c"))
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


def test_markov_names_and_cycle_length(tmp_path):
    spec = {
        "states": ["a", "b"],
        "cycles": 2,
        "transitions": {"a": {"b": 0.1, "a": "#"}, "b": {"b": 1}},
    }
    from decisionmodel.tree.markov import compile_markov

    with pytest.raises(MarkovError, match="cycle_length"):
        compile_markov("m", {**spec, "cycle_length": 1e308})
    with pytest.raises(MarkovError, match="NFKC"):
        compile_markov("m", {**spec, "define": {"\ufb01": 1}})
