"""Scenario files: reading, grid expansion, the scenario applied to the tree, and one
clear line naming the file, the scenario and the key for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from decisionmodel.params import parameter_specs
from decisionmodel.resources import tree_path
from decisionmodel.scenario_files import ScenarioFileError, load_scenarios, scenario_tree
from decisionmodel.tree.io import load_compiled, same_tree


def _file(tmp_path: Path, body: str, tree: str = "crlm") -> Path:
    p = tmp_path / "scenarios.yaml"
    p.write_text(f"tree: {tree}\n" + body, encoding="utf-8")
    return p


def test_file_defaults_and_grid_expansion(tmp_path):
    p = _file(
        tmp_path,
        "samples: 300\nseed: 5\nwtp: [50000, 100000]\nevidence: false\nscenarios:\n"
        "  - name: base\n"
        "  - name: g\n    set: {age: 70}\n"
        "    grid: {c_systemic_year: [40000, 80000], p_rerx: [0.1, 0.3]}\n",
    )
    sf = load_scenarios(p)
    assert (sf.samples, sf.seed, sf.wtp, sf.evidence) == (300, 5, (50000.0, 100000.0), False)
    assert sf.tree == tree_path("crlm")
    names = [s.name for s in sf.scenarios]
    assert names == [
        "base",
        "g [c_systemic_year=40000, p_rerx=0.1]",
        "g [c_systemic_year=40000, p_rerx=0.3]",
        "g [c_systemic_year=80000, p_rerx=0.1]",
        "g [c_systemic_year=80000, p_rerx=0.3]",
    ]
    assert sf.scenarios[3].set == {"age": 70.0, "c_systemic_year": 80000.0, "p_rerx": 0.1}


def test_a_scenario_that_overrides_nothing_is_the_tree(tmp_path):
    sf = load_scenarios(_file(tmp_path, "scenarios:\n  - name: base\n"))
    ct = scenario_tree(sf, sf.scenarios[0])
    assert same_tree(ct.graph, load_compiled(tree_path("crlm")).graph)


def test_set_prior_horizon_discount_and_protocol_are_applied(tmp_path):
    sf = load_scenarios(
        _file(
            tmp_path,
            "scenarios:\n  - name: s\n    set: {c_systemic_year: 40000}\n"
            "    prior: {p_rerx: {distribution: beta, alpha: 2, beta: 8}}\n"
            "    horizon: 10\n    discount: {cost: 0.035}\n"
            "    protocol: {peritoneal disease found: close}\n",
        )
    )
    base = load_compiled(tree_path("crlm")).graph
    ct = scenario_tree(sf, sf.scenarios[0], base=base)
    specs = parameter_specs(ct.graph)
    assert specs["c_systemic_year"]["value"] == 40000.0
    assert "posterior" not in specs["c_systemic_year"]
    assert (specs["p_rerx"]["alpha"], specs["p_rerx"]["beta"]) == (2.0, 8.0)
    for model in ct.graph.graph["markov"].values():  # cycles of 1/12 year
        assert model["cycles"] == 120
        assert model["discount"] == {"cost": 0.035, "effect": 0.03}
    assert [p.name for p in ct.policies] == [
        "Curative hepatectomy",
        "Palliative surgery",
        "Systemic therapy",
    ]
    # the base tree is left as it was
    assert base.graph["markov"]["resected"]["cycles"] == 240
    assert parameter_specs(base)["c_systemic_year"].get("value") != 40000.0


def test_a_tree_file_next_to_the_scenario_file(tmp_path):
    (tmp_path / "t.yaml").write_text(
        tree_path("examples/sumatriptan").read_text(), encoding="utf-8"
    )
    sf = load_scenarios(_file(tmp_path, "scenarios:\n  - name: a\n", tree="t.yaml"))
    assert sf.tree == tmp_path / "t.yaml"


BAD_FILES = {
    "not a mapping": ("scenarios: [1]\n", r"scenario 1: expected a mapping"),
    "no name": ("scenarios:\n  - set: {age: 3}\n", r"scenario 1: has no 'name'"),
    "unknown key": (
        "scenarios:\n  - name: a\n    sett: {age: 3}\n",
        r"scenario 'a': unknown key\(s\) \['sett'\]",
    ),
    "unknown file key": ("scenario: []\n", r"unknown key\(s\) \['scenario'\]"),
    "no scenarios": ("scenarios: []\n", r"scenarios: expected a non-empty list"),
    "repeated name": (
        "scenarios:\n  - name: a\n  - name: a\n",
        r"scenario names must be unique; repeated: \['a'\]",
    ),
    "set not a number": (
        "scenarios:\n  - name: a\n    set: {age: old}\n",
        r"scenario 'a': set: age: expected a number, got 'old'",
    ),
    "negative horizon": (
        "scenarios:\n  - name: a\n    horizon: -1\n",
        r"scenario 'a': horizon: must be a positive number of years",
    ),
    "discount out of range": (
        "scenarios:\n  - name: a\n    discount: {cost: 1.5}\n",
        r"scenario 'a': discount: cost: an annual rate in \[0, 1\)",
    ),
    "discount key": (
        "scenarios:\n  - name: a\n    discount: {qaly: 0.1}\n",
        r"scenario 'a': discount: unknown key\(s\) \['qaly'\]",
    ),
    "negative wtp": (
        "scenarios:\n  - name: a\n    wtp: [-5]\n",
        r"scenario 'a': wtp: willingness to pay must be non-negative",
    ),
    "grid not a list": (
        "scenarios:\n  - name: a\n    grid: {age: 3}\n",
        r"scenario 'a': grid: age: expected a non-empty list",
    ),
    "grid and set": (
        "scenarios:\n  - name: a\n    set: {age: 3}\n    grid: {age: [1, 2]}\n",
        r"scenario 'a': grid: age: is also given under 'set' or 'prior'",
    ),
    "bad profile": (
        "scenarios:\n  - name: a\n    profile: {fongg: 3}\n",
        r"scenario 'a': profile",
    ),
    "bad seed": ("seed: -3\nscenarios:\n  - name: a\n", r"seed: expected a whole number"),
    "evidence not bool": ("evidence: maybe\nscenarios:\n  - name: a\n", r"evidence: expected"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_say_file_scenario_and_key(tmp_path, case):
    body, pattern = BAD_FILES[case]
    p = _file(tmp_path, body)
    with pytest.raises(ScenarioFileError, match=pattern) as info:
        load_scenarios(p)
    message = str(info.value)
    assert message.startswith(str(p)) and "\n" not in message


def test_a_missing_tree_is_named(tmp_path):
    with pytest.raises(ScenarioFileError, match=r"scenarios\.yaml: tree: .*no_such_tree"):
        load_scenarios(_file(tmp_path, "scenarios:\n  - name: a\n", tree="no_such_tree"))


BAD_FOR_THE_TREE = {
    "unknown parameter": ("set: {c_nothing: 1}", r"set: c_nothing: the tree crlm\.yaml declares"),
    "impossible probability": ("set: {p_rerx: 1.5}", r"scenario 'a': .*outside \[0, 1\]"),
    "bad prior": (
        "prior: {p_rerx: {distribution: beta, alpha: -2, beta: 8}}",
        r"scenario 'a'.*p_rerx",
    ),
    "horizon not whole cycles": ("horizon: 0.01", r"horizon: 0\.01 years is not a whole number"),
    "unknown protocol node": ("protocol: {nowhere: close}", r"scenario 'a': .*nowhere"),
}


@pytest.mark.parametrize("case", sorted(BAD_FOR_THE_TREE))
def test_scenarios_impossible_for_the_tree(tmp_path, case):
    body, pattern = BAD_FOR_THE_TREE[case]
    p = _file(tmp_path, f"scenarios:\n  - name: a\n    {body}\n")
    sf = load_scenarios(p)
    with pytest.raises(ScenarioFileError, match=pattern) as info:
        scenario_tree(sf, sf.scenarios[0])
    assert str(info.value).startswith(str(p)) and "\n" not in str(info.value)


def test_horizon_needs_markov_models(tmp_path):
    sf = load_scenarios(
        _file(tmp_path, "scenarios:\n  - name: a\n    horizon: 5\n", tree="examples/sumatriptan")
    )
    with pytest.raises(ScenarioFileError, match="need Markov models"):
        scenario_tree(sf, sf.scenarios[0])
