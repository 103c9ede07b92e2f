"""Tests of decisionmodel.tree.io: YAML round trips, GraphML, DOT, file errors, and the
``validate``/``export`` commands.

The file errors are tables of cases, one test each, every case with an explicit id:

- ``READ_ERRORS``: files that cannot be read (missing, not GraphML): exactly a
  ``TreeFileError`` naming the file;
- ``FILE_ERRORS``: YAML text the reader rejects (not YAML, unknown keys, a branch
  without action or label, duplicate node ids or keys, a node that is not a mapping):
  exactly a ``TreeFileError`` with the file and the given fragments in the message;
- ``REJECTED``: files rejected by the reader or by a validation rule (any
  ``DecisionModelError`` naming the file);
- ``DICT_ERRORS``: documents ``tree_from_dict`` rejects: exactly a ``TreeFileError``;
- ``YAML_REFUSALS``: text the strict YAML loader refuses (duplicate keys, Python tags,
  alias bombs and cycles, deep nesting): exactly a ``TreeFileError``.

The bounds that need a patched limit (bytes read, tree size and depth) and the Python tag
that must not run have their own tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pytest

from decisionmodel.cli import main
from decisionmodel.exceptions import DecisionModelError, TreeFileError
from decisionmodel.tree.io import (
    dumps_tree,
    load_tree,
    read_graphml,
    same_tree,
    to_dot,
    to_graphml,
    tree_from_dict,
    write_tree,
)
from decisionmodel.tree.yamlsafe import MAX_DEPTH, MAX_NODES, loads_yaml

# A tree using every feature of the file format. The anchor &outcomes repeats a list of
# branches, and &drug_node a whole node (through a merge key, overriding the action).
FULL_YAML = """\
name: every feature
description: |
  A tree that uses every feature of the file format.
  Its description spans several lines,
    keeps indentation, "quotes" and a colon: here.
currency: EUR
effect_unit: QALY
wtp: [20000, 50000]
notes: top-level notes
parameters:
  p_good: {distribution: beta, alpha: 60, beta: 40, source: "Smith 2020, table 2"}
  p_mort: {distribution: beta, alpha: 2, beta: 98, source: registry}
  c_drug: {distribution: gamma, shape: 100, rate: 0.1, source: tariff}
  c_surgery: {value: 12000, source: "DRG H01A", unit: EUR}
  u_well: {distribution: uniform, low: 0.8, high: 0.9}
  hr: {distribution: lognormal, meanlog: 0.1, sdlog: 0.05, source: meta-analysis}
  site:
    distribution: dirichlet
    alpha: [5, 3, 2]
    names: [p_liver, p_lung, p_both]
    source: cohort
derived:
  p_bad: 1 - p_good
  c_total: c_drug * 2
markov:
  tail:
    states: [well, sick, dead]
    cycle_length: 1
    cycles: 5
    discount: {cost: 0.03, effect: 0.03}
    correction: half-cycle
    transitions:
      well: {sick: "0.1 * hr", dead: 0.02, well: "#"}
      sick: {dead: 0.2, sick: "#"}
      dead: {dead: 1}
    state_cost: {sick: 1000}
    state_effect: {well: u_well, sick: 0.5}
tree:
  kind: decision
  name: Strategy
  notes: the root decision
  branches:
    - &drug_node
      action: drug
      kind: chance
      name: Drug response
      cost: c_drug
      branches: &outcomes
        - label: good
          p: p_good
          kind: terminal
          effect: u_well
        - label: bad
          p: "#"
          kind: terminal
          effect: 0.3
          edge_cost: 50
    - <<: *drug_node
      action: double dose
      cost: c_total
      name: Double dose response
    - action: surgery
      kind: chance
      cost: c_surgery
      edge_effect: -0.01
      branches:
        - label: died
          p: p_mort
          kind: terminal
          effect: 0
          edge_cost: 3000
        - label: survived
          p: "#"
          kind: chance
          id: survivors
          branches:
            - label: liver
              p: p_liver
              kind: terminal
              markov: {model: tail, start: {well: 1}, with: {hr: 1}}
            - label: lung
              p: p_lung
              kind: decision
              name: Lung pivot
              protocol: resect
              branches:
                - {action: resect, kind: terminal, cost: 8000, markov: {model: tail, with: {hr: hr}}}
                - {action: observe, kind: terminal, markov: tail}
            - {label: both, p: "#", kind: terminal, effect: 1, notes: "multi\\nline note"}
"""


def _write(tmp_path: Path, text: str, name: str = "tree.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def full_file(tmp_path: Path) -> Path:
    return _write(tmp_path, FULL_YAML, "full.yaml")


@pytest.fixture
def full(full_file: Path) -> nx.DiGraph:
    return load_tree(full_file, check_draws=20, rng=0)


# ----------------------------------------------------------------------------- YAML


def test_full_tree_loads_as_documented(full: nx.DiGraph) -> None:
    G = full
    assert G.graph["root"] == "Strategy"
    assert (
        G.graph["description"].splitlines()[2] == '  keeps indentation, "quotes" and a colon: here.'
    )
    # the aliased list of outcomes is repeated under both drug nodes, with distinct ids
    for parent in ("Strategy/drug", "Strategy/double dose"):
        assert list(G.successors(parent)) == [f"{parent}/good", f"{parent}/bad"]
        assert G.edges[parent, f"{parent}/bad"] == {"label": "bad", "p": "#", "cost": 50}
    # the merge key copied the node and overrode action, cost and name
    assert G.nodes["Strategy/double dose"]["cost"] == "c_total"
    assert G.nodes["Strategy/double dose"]["label"] == "Double dose response"
    assert G.nodes["Strategy/drug"]["label"] == "Drug response"
    # explicit id; children's ids continue from it
    assert "survivors" in G and G.nodes["survivors"]["label"] == "survived"
    assert G.edges["Strategy/surgery", "survivors"]["label"] == "survived"
    assert "survivors/lung/resect" in G
    assert G.edges["Strategy", "Strategy/surgery"] == {"action": "surgery", "effect": -0.01}
    assert G.nodes["survivors/lung"]["protocol"] == "resect"
    assert G.nodes["survivors/liver"]["markov"] == {
        "model": "tail",
        "start": {"well": 1},
        "with": {"hr": 1},
    }
    assert G.graph["parameters"]["p_good"]["source"] == "Smith 2020, table 2"


def test_yaml_round_trip_keeps_every_feature(full: nx.DiGraph, tmp_path: Path) -> None:
    out = tmp_path / "copy" / "full.yaml"
    write_tree(full, out)
    again = load_tree(out, check_draws=0)
    assert same_tree(full, again)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"[&*]id\d+", text)  # the repeated subtree is written out, no aliases
    assert text.count("label: good") == 2
    # a second round trip writes the same text
    write_tree(again, tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == text
    assert dumps_tree(again) == text


def test_same_tree_detects_differences(full: nx.DiGraph) -> None:
    H = full.copy()
    H.nodes["survivors"]["label"] = "other"
    assert not same_tree(full, H)
    H = full.copy()
    H.edges["Strategy/drug", "Strategy/drug/good"]["p"] = 0.5
    assert not same_tree(full, H)
    H = full.copy()
    H.graph["currency"] = "USD"
    assert not same_tree(full, H)
    # sibling order matters
    H = nx.DiGraph()
    H.graph.update(full.graph)
    H.add_nodes_from(full.nodes(data=True))
    H.add_edges_from(reversed(list(full.edges(data=True))))
    assert not same_tree(full, H)


def test_round_trip_of_awkward_strings(tmp_path: Path) -> None:
    doc = {
        "name": "strings: 'x' \"y\" # z",
        "description": "trailing spaces   \n\ttab line\nunicode → é\n",
        "notes": "0.5",  # a string that looks like a number stays a string
        "tree": {
            "kind": "decision",
            "name": "yes",  # YAML 1.1 would read a bare yes as a boolean
            "branches": [
                {"action": "- dash", "kind": "terminal", "notes": "null"},
                {"action": "a: b", "kind": "terminal", "name": "#"},
            ],
        },
    }
    G = tree_from_dict(doc)
    write_tree(G, tmp_path / "s.yaml")
    H = load_tree(tmp_path / "s.yaml")
    assert same_tree(G, H)
    assert H.graph["notes"] == "0.5" and H.nodes["yes"]["label"] == "yes"


# ----------------------------------------------------------------------------- GraphML


def test_graphml_round_trip(full: nx.DiGraph, tmp_path: Path) -> None:
    path = tmp_path / "out" / "full.graphml"
    to_graphml(full, path)
    again = load_tree(path, check_draws=0)
    assert same_tree(full, again)
    assert again.graph["source_file"] == str(path)
    assert same_tree(full, read_graphml(path))
    # and from GraphML back to YAML
    write_tree(again, tmp_path / "back.yaml")
    assert same_tree(full, load_tree(tmp_path / "back.yaml", check_draws=0))


def test_graphml_keeps_number_types(tmp_path: Path) -> None:
    G = tree_from_dict(
        {
            "wtp": 30000,
            "tree": {"kind": "terminal", "name": "t", "cost": 10**12, "effect": 1e-7},
        }
    )
    to_graphml(G, tmp_path / "t.graphml")
    H = load_tree(tmp_path / "t.graphml")
    assert same_tree(G, H)
    assert type(H.nodes["t"]["cost"]) is int and type(H.nodes["t"]["effect"]) is float


@pytest.mark.parametrize("notes", ["json: see appendix", 'json:"quoted"'])
def test_graphml_round_trip_of_strings_starting_with_json(tmp_path: Path, notes: str) -> None:
    G = tree_from_dict({"tree": {"kind": "terminal", "name": "t", "notes": notes}})
    to_graphml(G, tmp_path / "t.graphml")
    assert same_tree(G, load_tree(tmp_path / "t.graphml"))


# ----------------------------------------------------------------------------- DOT

_QUOTED = r'"((?:[^"\\\n]|\\.)*)"'
_NODE_LINE = re.compile(rf"^  (n\d+) \[shape=(\w+), label={_QUOTED}\];$")
_EDGE_LINE = re.compile(rf"^  (n\d+) -> (n\d+) \[label={_QUOTED}\];$")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def test_dot_has_one_line_per_node_and_edge(tmp_path: Path) -> None:
    G = tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": 'say "which"',
                "branches": [
                    {
                        "action": 'the "new"\ndrug',
                        "kind": "chance",
                        "name": "back\\slash",
                        "cost": 10,
                        "branches": [
                            {"label": "ok", "p": 0.25, "kind": "terminal", "effect": 1},
                            {"label": "not ok", "p": "#", "kind": "terminal", "edge_cost": 3},
                        ],
                    },
                    {"action": "wait", "kind": "terminal", "markov": {"model": "m"}},
                ],
            }
        }
    )
    text = to_dot(G)
    lines = text.splitlines()
    assert lines[0] == "digraph tree {" and lines[-1] == "}"
    nodes = [m for m in map(_NODE_LINE.match, lines) if m]
    edges = [m for m in map(_EDGE_LINE.match, lines) if m]
    assert len(nodes) == G.number_of_nodes() and len(edges) == G.number_of_edges()
    # every other line is a header line: nothing else (e.g. a broken quoted label)
    assert len(lines) == len(nodes) + len(edges) + 4
    shapes = {"decision": "box", "chance": "circle", "terminal": "triangle"}
    by_dot_id = {}
    for m in nodes:
        label = _unquote(m.group(3))
        (node,) = [n for n in G if label.split("\n")[0] == G.nodes[n]["label"]]
        assert m.group(2) == shapes[G.nodes[node]["kind"]]
        by_dot_id[m.group(1)] = node
    assert _unquote(nodes[0].group(3)) == 'say "which"'
    assert _unquote(nodes[1].group(3)) == "back\\slash\ncost: 10"
    dot_edges = {
        (by_dot_id[m.group(1)], by_dot_id[m.group(2)]): _unquote(m.group(3)) for m in edges
    }
    assert set(dot_edges) == set(G.edges)
    assert dot_edges['say "which"', 'say "which"/the "new"\ndrug'] == 'the "new"\ndrug'
    chance = 'say "which"/the "new"\ndrug'
    assert dot_edges[chance, f"{chance}/ok"] == "ok\np = 0.25"
    assert dot_edges[chance, f"{chance}/not ok"] == "not ok\np = #\ncost: 3"
    assert "markov: m" in _unquote(nodes[-1].group(3))


# ----------------------------------------------------------------------------- errors


def raises_exactly(cls, func, *args, **kwargs) -> str:
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    assert type(info.value) is cls, (
        f"expected exactly {cls.__name__}, got {type(info.value).__name__}"
    )
    return str(info.value)


def _load_error(tmp_path: Path, text: str, name: str = "bad.yaml") -> str:
    path = _write(tmp_path, text, name)
    msg = raises_exactly(TreeFileError, load_tree, path)
    assert str(path) in msg
    return msg


#: file name, its content (None: the file does not exist), fragment of the message
READ_ERRORS = [
    pytest.param("nowhere.yaml", None, "nowhere.yaml: no such file", id="missing-yaml"),
    pytest.param("missing.graphml", None, "missing.graphml", id="missing-graphml"),
    pytest.param("bad.graphml", "<graphml><not closed", "bad.graphml", id="bad-graphml"),
]


@pytest.mark.parametrize(("name", "content", "fragment"), READ_ERRORS)
def test_unreadable_file(tmp_path: Path, name: str, content: str | None, fragment: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    msg = raises_exactly(TreeFileError, load_tree, path)
    assert fragment in msg, msg


#: YAML text of a tree file the reader rejects (TreeFileError), fragments of the message
FILE_ERRORS = [
    pytest.param(
        "name: x\ntree:\n  kind: decision\n   oops: 1\n",
        ("line 4", "not valid YAML"),
        id="invalid-yaml-names-line",
    ),
    pytest.param(
        "name: x\nparamters: {}\ntree: {kind: terminal}\n",
        ("paramters",),
        id="unknown-top-level-key",
    ),
    pytest.param(
        "tree:\n  kind: decision\n  branches:\n"
        "    - {action: a, kind: terminal, effct: 1}\n    - {action: b, kind: terminal}\n",
        ("effct",),
        id="unknown-node-key",
    ),
    pytest.param(
        "tree:\n  kind: chance\n  branches:\n"
        "    - {p: 0.5, kind: terminal}\n    - {label: b, p: '#', kind: terminal}\n",
        ("'label'",),
        id="branch-without-action-or-label",
    ),
    pytest.param(
        "tree:\n  kind: chance\n  name: c\n  branches:\n"
        "    - {label: x, p: 0.5, kind: terminal}\n    - {label: x, p: '#', kind: terminal}\n",
        ("'c/x'",),
        id="duplicate-sibling-label",
    ),
    pytest.param(
        "tree:\n  kind: chance\n  name: c\n  branches:\n"
        "    - {label: a, p: 0.3, p: 0.5, kind: terminal}\n"
        "    - {label: b, p: 0.5, kind: terminal}\n",
        ("duplicate key 'p'",),
        id="duplicate-yaml-keys",
    ),
    pytest.param(
        "tree:\n  kind: decision\n  branches:\n    - just a string\n",
        ("expected a mapping",),
        id="branch-is-a-string",
    ),
    pytest.param(
        "tree:\n  kind: decision\n  branches:\n    - [a, list]\n",
        ("expected a mapping",),
        id="branch-is-a-list",
    ),
    pytest.param("tree: 3\n", ("expected a mapping",), id="tree-is-a-number"),
    pytest.param("- a top-level list\n", ("top level must be a mapping",), id="top-level-list"),
    pytest.param("", ("top level must be a mapping",), id="empty-file"),
]


@pytest.mark.parametrize(("text", "fragments"), FILE_ERRORS)
def test_file_errors(tmp_path: Path, text: str, fragments: tuple[str, ...]) -> None:
    msg = _load_error(tmp_path, text)
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    text = (
        f"name: !!python/object/apply:os.system ['touch {marker}']\n"
        "tree: !!python/object:collections.OrderedDict {}\n"
    )
    _load_error(tmp_path, text)
    assert not marker.exists()


#: files rejected either by the reader or by a validation rule (any DecisionModelError)
REJECTED = [
    pytest.param(
        "tree:\n  kind: chance\n  name: c\n  branches:\n"
        "    - {name: x, p: 0.5, kind: terminal}\n    - {label: y, p: '#', kind: terminal}\n",
        id="chance-branch-with-only-a-name",
    ),
    pytest.param(
        "tree:\n  kind: chance\n  name: c\n  branches:\n"
        "    - {label: x, id: x1, p: 0.5, kind: terminal}\n"
        "    - {label: x, id: x2, p: '#', kind: terminal}\n",
        id="duplicate-chance-labels-with-explicit-ids",
    ),
]


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_by_reader_or_rules(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DecisionModelError) as info:
        load_tree(path)
    assert str(path) in str(info.value)


#: a document given to tree_from_dict (named here.yaml), fragment of the TreeFileError
DICT_ERRORS = [
    pytest.param({"name": "x"}, "here.yaml: no 'tree:' section", id="no-tree-section"),
    pytest.param(
        {"tree": {"kind": "terminal", "action": "a"}},
        "root node cannot carry edge keys",
        id="root-with-edge-keys",
    ),
    pytest.param(
        {"tree": {"kind": "terminal", "name": {"a": 1}}},
        "'name' must be text or a number, got dict",
        id="name-is-a-mapping",
    ),
    pytest.param(
        {
            "tree": {
                "kind": "chance",
                "name": "r",
                "branches": [{"label": True, "p": 1, "kind": "terminal"}],
            }
        },
        "quote it",
        id="label-is-a-boolean",
    ),
    pytest.param(
        {"tree": {"kind": "terminal", "name": "x" * 5000}}, "longer than", id="name-too-long"
    ),
]


@pytest.mark.parametrize(("doc", "fragment"), DICT_ERRORS)
def test_tree_from_dict_errors(doc: dict, fragment: str) -> None:
    msg = raises_exactly(TreeFileError, tree_from_dict, doc, "here.yaml")
    assert fragment in msg, msg


# ----------------------------------------------------------------------------- CLI


def test_cli_validate_ok(full_file: Path, capsys) -> None:
    assert main(["validate", str(full_file), "--draws", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{full_file}: valid")
    assert "warning: parameters without a source: u_well" in out


def test_cli_validate_bad_node(tmp_path: Path, capsys) -> None:
    path = _write(
        tmp_path,
        "tree:\n  kind: decision\n  branches:\n"
        "    - {action: a, kind: terminal, colour: red}\n    - {action: b, kind: terminal}\n",
    )
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("decisionmodel: error:")
    assert str(path) in captured.err and "colour" in captured.err
    assert "Traceback" not in captured.err


def test_cli_validate_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path / "none.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("decisionmodel: error:") and "none.yaml" in err


@pytest.mark.parametrize("suffix", [".graphml", ".dot", ".gv", ".yaml", ".yml"])
def test_cli_export(full_file: Path, full: nx.DiGraph, tmp_path: Path, suffix: str, capsys) -> None:
    out = tmp_path / "exports" / f"full{suffix}"
    assert main(["export", str(full_file), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    if suffix in (".dot", ".gv"):
        assert out.read_text(encoding="utf-8") == to_dot(full)
    else:
        assert same_tree(full, load_tree(out, check_draws=0))


def test_cli_export_bad_suffix(full_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "full.json"
    assert main(["export", str(full_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("decisionmodel: error:")
    assert "full.json" in err
    assert not out.exists()


# ----------------------------------------------------------------------------- bounds of the loader


def test_loader_is_libyaml() -> None:
    import yaml

    from decisionmodel.tree import yamlsafe

    if hasattr(yaml, "CSafeLoader"):
        assert issubclass(yamlsafe.StrictLoader, yaml.CSafeLoader)


# billion laughs: eight levels of ten aliases each
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)
)
# the same through merge keys
MERGE_BOMB = (
    "m0: &m0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9}\n"
    + "".join(
        f"m{i + 1}: &m{i + 1} {{<<: [{', '.join(['*m' + str(i)] * 10)}]}}\n" for i in range(7)
    )
)
_HALF = MAX_DEPTH // 2 + 5

#: YAML text that loads_yaml refuses, fragment of the TreeFileError
YAML_REFUSALS = [
    pytest.param("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", id="duplicate-key"),
    pytest.param("a: !!python/object/apply:os.getpid []\n", "python/object", id="python-tag"),
    pytest.param(ALIAS_BOMB, f"more than {MAX_NODES:,} YAML nodes", id="alias-bomb"),
    pytest.param(MERGE_BOMB, "YAML nodes", id="merge-key-bomb"),
    pytest.param(
        "notes: &n [1, *n]\n", "alias *n refers to a node that contains it", id="alias-cycle"
    ),
    pytest.param(
        "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
        f"nested deeper than {MAX_DEPTH} levels",
        id="deep-nesting",
    ),
    pytest.param(
        "a: &a " + "[" * _HALF + "]" * _HALF + "\nb: " + "[" * _HALF + "*a" + "]" * _HALF + "\n",
        "deeper than",
        id="deep-nesting-through-alias",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), YAML_REFUSALS)
def test_loader_refusals(text: str, fragment: str) -> None:
    msg = raises_exactly(TreeFileError, loads_yaml, text, "f.yaml", TreeFileError)
    assert "f.yaml" in msg, msg
    assert fragment in msg, msg


def test_loader_accepts_a_few_aliases_and_moderate_nesting() -> None:
    # a few aliases used legitimately are fine
    assert loads_yaml("a: &a {x: 1}\nb: *a\nc: {<<: *a, y: 2}\n", "f.yaml", TreeFileError) == {
        "a": {"x": 1},
        "b": {"x": 1},
        "c": {"x": 1, "y": 2},
    }
    assert loads_yaml("x: " + "[" * 50 + "]" * 50, "f.yaml", TreeFileError) is not None


def test_loader_bounds_the_bytes_read(tmp_path: Path, monkeypatch) -> None:
    from decisionmodel.tree import yamlsafe

    monkeypatch.setattr(yamlsafe, "MAX_BYTES", 1024 * 1024)
    big = tmp_path / "big.yaml"
    big.write_text("# x\n" * 300_000)
    with pytest.raises(TreeFileError, match=r"big\.yaml: the tree file is larger than 1 MB"):
        load_tree(big)
    with pytest.raises(TreeFileError, match="/dev/zero: the tree file is larger than 1 MB"):
        load_tree("/dev/zero")
    with pytest.raises(TreeFileError, match="is a directory"):
        load_tree(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(TreeFileError, match=r"latin\.yaml: the tree file is not UTF-8"):
        load_tree(latin)


def test_tree_size_and_depth_limits(tmp_path: Path, monkeypatch) -> None:
    from decisionmodel.tree import io

    monkeypatch.setattr(io, "MAX_TREE_NODES", 10)
    branches = [{"label": f"b{i}", "p": 0.05, "kind": "terminal"} for i in range(20)]
    with pytest.raises(TreeFileError, match="more than 10 nodes"):
        tree_from_dict({"tree": {"kind": "chance", "name": "r", "branches": branches}})
    monkeypatch.setattr(io, "MAX_TREE_NODES", 20_000)
    node: dict = {"kind": "terminal", "label": "leaf"}
    for _ in range(io.MAX_TREE_DEPTH + 5):
        node = {"kind": "chance", "label": "l", "p": 1, "branches": [node]}
    node.pop("label"), node.pop("p")
    with pytest.raises(TreeFileError, match="deeper than"):
        tree_from_dict({"tree": node})
