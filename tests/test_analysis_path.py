"""The analysis path compiles a tree once and evaluates it once.

``decisionmodel run`` used to compile the tree three times and evaluate it three times
(the validation at load evaluated it at the means and on 200 draws). Now
:func:`~decisionmodel.tree.io.load_compiled` validates and compiles once, the rules that
need draws are checked by the one evaluation that computes the draws' values, and the
decision table is unchanged. The counts are taken by wrapping the two functions every
compilation and every evaluated chunk goes through.
"""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import decisionmodel as dm
from decisionmodel.cli import main
from decisionmodel.exceptions import NonFiniteOutcomeError
from decisionmodel.resources import tree_path

# the modules (the package's attributes of these names are the functions)
compile_module = importlib.import_module("decisionmodel.tree.compile")
evaluate_module = importlib.import_module("decisionmodel.tree.evaluate")


@pytest.fixture
def counts(monkeypatch):
    seen = {"compile": 0, "chunks": 0}
    structure, roll = compile_module.check_structure, evaluate_module._roll_chunk

    def counting_structure(*a, **k):
        seen["compile"] += 1
        return structure(*a, **k)

    def counting_roll(*a, **k):
        seen["chunks"] += 1
        return roll(*a, **k)

    monkeypatch.setattr(compile_module, "check_structure", counting_structure)
    monkeypatch.setattr(evaluate_module, "_roll_chunk", counting_roll)
    return seen


@pytest.mark.parametrize("tree", ["crlm", "whipple_pivot"])
def test_run_compiles_once_and_evaluates_once(tree, counts, capsys):
    code = main(["run", tree, "--priors-only", "--samples", "500", "--seed", "3", "-q", "--json"])
    assert code == 0
    assert counts == {"compile": 1, "chunks": 1}
    table = json.loads(capsys.readouterr().out)
    assert table["samples"] == 500 and table["policies"]


def test_validate_compiles_once(counts, capsys):
    assert main(["validate", "crlm", "--draws", "50"]) == 0
    # compiled once; evaluated at the means and on the 50 check draws
    assert counts == {"compile": 1, "chunks": 2}
    assert "valid" in capsys.readouterr().out


def test_load_does_not_evaluate(counts):
    ct = dm.load_compiled(tree_path("crlm"), require_declared=True)
    assert counts == {"compile": 1, "chunks": 0}
    assert ct.graph.number_of_nodes() > 10


def test_the_compiled_tree_gives_the_same_table_as_the_graph():
    """analyse on a CompiledTree and on its graph: the same numbers."""
    from decisionmodel.report import analyse

    ct = dm.load_compiled(tree_path("whipple_pivot"), require_declared=True)
    kw = {"samples": 400, "seed": 5, "wtp": [30_000, 100_000], "evidence": False}
    a, b = analyse(ct, **kw), analyse(ct.graph, **kw)
    a.pop("tree"), b.pop("tree")
    assert a == b


def test_evaluate_refuses_non_finite_outcomes():
    """The finite-outcome rule is checked by every evaluation (not only at load)."""
    G = dm.tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {"action": "a", "kind": "terminal", "cost": "1 / x"},
                    {"action": "b", "kind": "terminal"},
                ],
            }
        }
    )
    dm.evaluate(G, {"x": [1.0, 2.0]})
    with np.errstate(divide="ignore"), pytest.raises(NonFiniteOutcomeError, match="policy 'a'"):
        dm.evaluate(G, {"x": [1.0, 0.0]})


def test_subgroups_compile_once(counts, capsys):
    """One compilation for all subgroups; one evaluation per subgroup."""
    from decisionmodel.subgroups import default_subgroups

    argv = ["subgroups", "crlm", "--priors-only", "--samples", "50", "--seed", "1", "-q"]
    assert main([*argv, "--json"]) == 0
    assert counts == {"compile": 1, "chunks": len(default_subgroups())}
    assert json.loads(capsys.readouterr().out)["subgroups"]
