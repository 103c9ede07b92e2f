"""Strategy roles of a tree (``decisionmodel.roles``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from decisionmodel.roles import RolesError, strategy_roles
from decisionmodel.tree.compile import compile_tree
from decisionmodel.tree.io import load_tree, tree_from_dict


def _tree(roles):
    return tree_from_dict(
        {
            "roles": roles,
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {
                        "action": "Operate",
                        "kind": "decision",
                        "name": "pivot",
                        "branches": [
                            {"action": "go on", "kind": "terminal", "effect": 3},
                            {"action": "stop", "kind": "terminal", "effect": 1},
                        ],
                    },
                    {"action": "Wait", "kind": "terminal", "effect": 1},
                ],
            },
        }
    )


def test_curative_covers_the_policies_of_embedded_decisions():
    r = strategy_roles(compile_tree(_tree({"curative": "Operate", "reference": "Wait"})))
    assert r.curative == {"Operate [pivot: go on]", "Operate [pivot: stop]"}
    assert r.reference == "Wait"
    assert r.offered(False) == ["Wait"]
    assert r.offered(True) == ["Operate [pivot: go on]", "Operate [pivot: stop]", "Wait"]


def test_no_roles_section():
    r = strategy_roles(compile_tree(_tree(None)))
    assert r.curative == frozenset() and r.reference is None and len(r.offered(False)) == 3


@pytest.mark.parametrize(
    "roles, match",
    [
        ({"curative": ["Nope"]}, "'Nope' is not a root strategy"),
        ({"reference": "Nope"}, "roles.reference: 'Nope'"),
        ({"reference": "Operate"}, "holds embedded decisions"),
        ({"curative": ["Wait"], "reference": "Wait"}, "also curative"),
        ({"curative": [1]}, "strategy name or a list"),
        ({"cure": ["Operate"]}, "unknown key"),
        ({"procedure": "kidney"}, "not one of hepatectomy, lung, crs"),
    ],
)
def test_bad_roles_are_named_errors(roles, match):
    with pytest.raises(RolesError, match=match):
        strategy_roles(compile_tree(_tree(roles)))


def test_default_tree_roles():
    ct = compile_tree(load_tree(Path(__file__).resolve().parents[1] / "trees" / "crlm.yaml"))
    r = strategy_roles(ct)
    assert r.reference == "Systemic therapy"
    assert sorted(r.curative) == [
        "Curative hepatectomy [peritoneal disease found: close]",
        "Curative hepatectomy [peritoneal disease found: palliative procedure]",
    ]
