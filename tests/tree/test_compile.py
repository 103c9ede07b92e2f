"""Policy enumeration, protocols and derived values on hand-made trees.

The rules are tables of cases, every case with an explicit id: ``PROTOCOL_ERRORS``,
protocols passed to ``compile_tree`` that name no decision node or no action of it
(exactly a ``PolicyError``), and ``DERIVED_ERRORS``, derived values that refer to each
other in a cycle, shadow a parameter, are not identifiers or hold a bad formula (exactly
the given class, with the fragments in the message). An ambiguous label and too many
policies, which check more than the error, have their own tests.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from decisionmodel.exceptions import FormulaError, ParameterError, PolicyError
from decisionmodel.tree import compile_tree, evaluate, policy_matrix, tree_from_dict


def raises_exactly(cls, func, *args, **kwargs) -> str:
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    assert type(info.value) is cls, (
        f"expected exactly {cls.__name__}, got {type(info.value).__name__}"
    )
    return str(info.value)


def term(edge: dict, **node) -> dict:
    return {**edge, "kind": "terminal", **node}


def decision(edge: dict, name: str, actions, **node) -> dict:
    return {
        **edge,
        "kind": "decision",
        "name": name,
        "branches": [term({"action": a}) for a in actions],
        **node,
    }


def two_branch_tree():
    """Root decision; A has embedded decisions D1 (2 actions) and D2 (3 actions) in two
    chance branches, B has D3 (2 actions), C is a terminal: 2*3 + 2 + 1 = 9 policies."""
    return tree_from_dict(
        {
            "name": "toy",
            "tree": {
                "kind": "decision",
                "name": "strategy",
                "branches": [
                    {
                        "action": "A",
                        "kind": "chance",
                        "branches": [
                            decision({"label": "x", "p": 0.5}, "D1", ["x1", "x2"]),
                            {
                                "label": "y",
                                "p": "#",
                                "kind": "chance",
                                "branches": [
                                    decision({"label": "z", "p": 1}, "D2", ["y1", "y2", "y3"])
                                ],
                            },
                        ],
                    },
                    {
                        "action": "B",
                        "kind": "chance",
                        "branches": [
                            decision({"label": "u", "p": 0.3}, "D3", ["b1", "b2"]),
                            term({"label": "v", "p": "#"}),
                        ],
                    },
                    term({"action": "C"}),
                ],
            },
        }
    )


def test_root_decision_with_embedded_decisions_is_a_product():
    ct = compile_tree(two_branch_tree())
    expect = [
        f"A [D1: {a}; D2: {b}]" for a, b in itertools.product(["x1", "x2"], ["y1", "y2", "y3"])
    ]
    expect += ["B [D3: b1]", "B [D3: b2]", "C"]
    assert ct.strategy_names == expect
    assert len(ct.policies) == 9
    # each policy lists exactly the decisions it reaches
    by_name = {p.name: p for p in ct.policies}
    assert by_name["A [D1: x2; D2: y3]"].actions == {
        "strategy": "A",
        "strategy/A/x": "x2",
        "strategy/A/y/z": "y3",
    }
    assert by_name["C"].actions == {"strategy": "C"}
    assert by_name["B [D3: b1]"].actions == {"strategy": "B", "strategy/B/u": "b1"}
    # and reaches the right terminals
    reached = {ct.terminals[i] for i in by_name["A [D1: x2; D2: y3]"].terminals}
    assert reached == {"strategy/A/x/x2", "strategy/A/y/z/y3"}
    reached = {ct.terminals[i] for i in by_name["B [D3: b2]"].terminals}
    assert reached == {"strategy/B/u/b2", "strategy/B/v"}
    M = policy_matrix(ct)
    assert M.shape == (9, len(ct.terminals))
    assert M.sum() == sum(len(p.terminals) for p in ct.policies)


def test_chance_root_with_decisions_below():
    G = tree_from_dict(
        {
            "tree": {
                "kind": "chance",
                "name": "c",
                "branches": [
                    decision({"label": "p", "p": 0.4}, "E1", ["e1a", "e1b"]),
                    decision({"label": "q", "p": "#"}, "E2", ["e2a", "e2b", "e2c"]),
                ],
            }
        }
    )
    ct = compile_tree(G)
    assert ct.strategy_names == [
        f"E1: {a}; E2: {b}" for a, b in itertools.product(["e1a", "e1b"], ["e2a", "e2b", "e2c"])
    ]


@pytest.mark.parametrize(("name", "expect"), [("my model", "my model"), (None, "base case")])
def test_no_decisions_one_policy_named_after_tree(name, expect):
    doc = {
        "tree": {
            "kind": "chance",
            "name": "c",
            "branches": [term({"label": "a", "p": 0.5}, effect=1), term({"label": "b", "p": "#"})],
        }
    }
    if name:
        doc["name"] = name
    ct = compile_tree(tree_from_dict(doc))
    assert ct.strategy_names == [expect]
    out = evaluate(ct, {})
    assert list(out["strategy"].values) == [expect]
    assert float(out["effect"][0, 0]) == 0.5


def test_single_terminal_tree():
    ct = compile_tree(
        tree_from_dict({"name": "t", "tree": {"kind": "terminal", "name": "only", "cost": 3}})
    )
    assert ct.strategy_names == ["t"]
    assert float(evaluate(ct, {})["cost"][0, 0]) == 3.0


def test_nested_decision_directly_after_decision():
    G = tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    decision({"action": "a"}, "then", ["t1", "t2"]),
                    term({"action": "b"}),
                ],
            }
        }
    )
    assert compile_tree(G).strategy_names == ["a [then: t1]", "a [then: t2]", "b"]


@pytest.mark.parametrize("key", ["strategy/A/x", "D1"])
def test_protocol_by_node_id_and_by_label(key):
    G = two_branch_tree()
    ct = compile_tree(G, protocol={key: "x2"})
    assert ct.strategy_names == [
        "A [D2: y1]",
        "A [D2: y2]",
        "A [D2: y3]",
        "B [D3: b1]",
        "B [D3: b2]",
        "C",
    ]
    pol = ct.policies[0]
    assert pol.actions["strategy/A/x"] == "x2"
    assert {ct.terminals[i] for i in pol.terminals} == {"strategy/A/x/x2", "strategy/A/y/z/y1"}


def test_protocol_attribute_on_node_and_on_root():
    G = two_branch_tree()
    G.nodes["strategy/B/u"]["protocol"] = "b2"
    ct = compile_tree(G, protocol={"strategy": "B"})
    # root fixed: its action still names the policy; D3 fixed: dropped from the name
    assert ct.strategy_names == ["B"]
    assert ct.policies[0].actions == {"strategy": "B", "strategy/B/u": "b2"}


def test_protocol_several_nodes():
    ct = compile_tree(two_branch_tree(), protocol={"D1": "x1", "D2": "y2", "D3": "b1"})
    assert ct.strategy_names == ["A", "B", "C"]


#: a protocol for two_branch_tree, fragments of the PolicyError
PROTOCOL_ERRORS = [
    pytest.param({"nowhere": "x"}, ("'nowhere'",), id="unknown-node"),
    pytest.param({"D1": "x9"}, ("'x9'",), id="unknown-action"),
    # a chance node is not a decision node
    pytest.param({"strategy/A": "x"}, ("'strategy/A'",), id="chance-node"),
]


@pytest.mark.parametrize(("protocol", "fragments"), PROTOCOL_ERRORS)
def test_protocol_errors(protocol, fragments):
    msg = raises_exactly(PolicyError, compile_tree, two_branch_tree(), protocol=protocol)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_ambiguous_label_in_protocol():
    G = tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {
                        "action": "a",
                        "kind": "chance",
                        "branches": [decision({"label": "x", "p": 1}, "pivot", ["m", "n"])],
                    },
                    {
                        "action": "b",
                        "kind": "chance",
                        "branches": [decision({"label": "y", "p": 1}, "pivot", ["m", "n"])],
                    },
                ],
            }
        }
    )
    assert compile_tree(G).strategy_names == [
        "a [pivot: m]",
        "a [pivot: n]",
        "b [pivot: m]",
        "b [pivot: n]",
    ]
    with pytest.raises(PolicyError, match="2 decision nodes"):
        compile_tree(G, protocol={"pivot": "m"})
    # node ids disambiguate
    assert compile_tree(G, protocol={"d/a/x": "m"}).strategy_names == [
        "a",
        "b [pivot: m]",
        "b [pivot: n]",
    ]


def test_too_many_policies():
    branches = [
        decision({"label": f"s{i}", "p": 1 / 14 if i < 13 else "#"}, f"D{i}", ["a", "b"])
        for i in range(14)
    ]
    G = tree_from_dict({"tree": {"kind": "chance", "name": "c", "branches": branches}})
    with pytest.raises(PolicyError, match="policies"):
        compile_tree(G)
    # fixing some by protocol brings it under the limit: 2**10 policies
    ct = compile_tree(G, protocol={f"D{i}": "a" for i in range(4)})
    assert len(ct.policies) == 2**10


# ----------------------------------------------------------------------------- derived values


def derived_tree(derived, parameters=None):
    return tree_from_dict(
        {
            "parameters": parameters if parameters is not None else {"c_base": 10.0, "p": 0.25},
            "derived": derived,
            "tree": {
                "kind": "chance",
                "name": "c",
                "branches": [
                    term({"label": "a", "p": "p_eff"}, cost="c_total"),
                    term({"label": "b", "p": "#"}, cost="c_b"),
                ],
            },
        }
    )


def test_derived_values_in_dependency_order():
    derived = {"c_total": "c_a + c_b", "p_eff": "p * 2", "c_b": "c_a * 2", "c_a": "c_base + 1"}
    ct = compile_tree(derived_tree(derived))
    order = [n for n, _ in ct.derived]
    assert set(order) == set(derived)
    assert order.index("c_a") < order.index("c_b") < order.index("c_total")
    assert "c_base" in ct.required_names
    assert "c_a" not in ct.required_names
    out = evaluate(ct, {"c_base": np.array([10.0, 20.0]), "p": np.array([0.25, 0.1])})
    c_a = np.array([11.0, 21.0])
    c_b = 2 * c_a
    c_total = c_a + c_b
    p_eff = np.array([0.5, 0.2])
    np.testing.assert_allclose(
        out["cost"].values[0], p_eff * c_total + (1 - p_eff) * c_b, rtol=1e-14
    )


#: the derived values of derived_tree (parameters c_base and p), class, fragments
DERIVED_ERRORS = [
    pytest.param(
        {"c_total": "c_b", "c_b": "c_total", "p_eff": "p"}, FormulaError, ("cycle",), id="cycle-2"
    ),
    pytest.param(
        {"c_total": "c_total + 1", "c_b": 1, "p_eff": "p"},
        FormulaError,
        ("cycle",),
        id="cycle-self",
    ),
    pytest.param(
        {"c_total": "x1", "x1": "x2 * 2", "x2": "x3", "x3": "x1 + c_b", "c_b": 1, "p_eff": "p"},
        FormulaError,
        ("cycle",),
        id="cycle-3",
    ),
    pytest.param(
        {"p": "0.5", "c_total": 1, "c_b": 1, "p_eff": 0.5},
        ParameterError,
        ("'p'",),
        id="shadows-a-parameter",
    ),
    pytest.param(
        {"bad name": 1, "c_total": 1, "c_b": 1, "p_eff": 0.5},
        FormulaError,
        ("identifier",),
        id="name-not-an-identifier",
    ),
    pytest.param(
        {"c_total": 1, "c_b": "c_base.real", "p_eff": 0.5},
        FormulaError,
        ("'c_b'",),
        id="bad-formula",
    ),
]


@pytest.mark.parametrize(("derived", "cls", "fragments"), DERIVED_ERRORS)
def test_derived_value_errors(derived, cls, fragments):
    msg = raises_exactly(cls, compile_tree, derived_tree(derived))
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_required_names_without_declarations():
    G = derived_tree({"c_total": "k * 2", "c_b": 1, "p_eff": "p"}, parameters={})
    ct = compile_tree(G)
    assert ct.required_names == frozenset({"k", "p"})
