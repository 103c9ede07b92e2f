"""Reading and writing tree files (YAML), and export to GraphML and DOT.

A tree file is YAML read with a safe loader (libyaml's ``CSafeLoader`` when available)
that also rejects duplicate keys, within bounds of size, nesting and alias expansion
(:mod:`decisionmodel.tree.yamlsafe`); nothing in it is executed. Its top level holds
the graph attributes of :mod:`decisionmodel.tree.schema` and ``tree:``, the root node.
Each node is a mapping with ``kind`` and, unless terminal, ``branches``: a list of
child nodes, each also carrying the keys of the edge that leads to it::

    tree:
      kind: decision
      name: Treatment
      branches:
        - action: Sumatriptan          # edge key (decision parent)
          kind: chance
          cost: c_sumatriptan          # node key: incurred on reaching this node
          branches:
            - label: relief            # edge key (chance parent)
              p: p_relief_s            # edge key: probability (number, name, formula, '#')
              kind: terminal
              effect: u_relief

Edge keys in a branch: ``action``, ``label``, ``p``, ``edge_cost``, ``edge_effect``.
Node keys: ``kind``, ``name`` (display name; defaults to the branch's action or label,
and to ``root`` for the root), ``id``, ``cost``, ``effect``, ``markov``, ``protocol``,
``notes``, ``branches``. YAML anchors and aliases may be used to repeat a subtree.

Examples
--------
>>> import tempfile, pathlib
>>> text = '''
... name: tiny
... parameters: {p: {value: 0.3, source: example}}
... tree:
...   kind: decision
...   name: choose
...   branches:
...     - action: treat
...       kind: chance
...       branches:
...         - {label: well, p: p, kind: terminal, effect: 1}
...         - {label: ill, p: '#', kind: terminal, effect: 0}
...     - {action: wait, kind: terminal, effect: 0.2}
... '''
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "tiny.yaml").write_text(text)
>>> G = load_tree(d / "tiny.yaml")
>>> sorted(G.successors("choose"))
['choose/treat', 'choose/wait']
>>> write_tree(G, d / "copy.yaml"); same_tree(G, load_tree(d / "copy.yaml"))
True
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import yaml

from decisionmodel.exceptions import TreeFileError
from decisionmodel.tree.schema import GRAPH_KEYS
from decisionmodel.tree.yamlsafe import load_yaml

if TYPE_CHECKING:
    from decisionmodel.rng import RNGLike
    from decisionmodel.tree.compile import CompiledTree

_EDGE_KEYS = {
    "action": "action",
    "label": "label",
    "p": "p",
    "edge_cost": "cost",
    "edge_effect": "effect",
}
_NODE_KEYS = ("kind", "name", "id", "cost", "effect", "markov", "protocol", "notes", "branches")


#: most nodes in a tree
MAX_TREE_NODES = 20_000
#: deepest path from the root (in nodes)
MAX_TREE_DEPTH = 90
#: longest action, label, name or id (characters)
MAX_LABEL_LENGTH = 1_000


def _label(value: Any, key: str, where: str, trail: str) -> str:
    """An action, label, name or id as text: text or a number, of bounded length."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        hint = (
            " (quote it: YAML reads yes/no/true/false as booleans)"
            if isinstance(value, bool)
            else ""
        )
        raise TreeFileError(
            f"{where}: node {trail}: '{key}' must be text or a number, "
            f"got {type(value).__name__}{hint}"
        )
    text = str(value)
    if len(text) > MAX_LABEL_LENGTH:
        raise TreeFileError(
            f"{where}: node {trail}: '{key}' is longer than {MAX_LABEL_LENGTH} characters"
        )
    return text


def _node_from_mapping(
    G: nx.DiGraph, data: Any, parent: str | None, where: str, trail: str, depth: int = 1
) -> str:
    if not isinstance(data, Mapping):
        raise TreeFileError(f"{where}: node {trail}: expected a mapping, got {type(data).__name__}")
    if depth > MAX_TREE_DEPTH:
        raise TreeFileError(
            f"{where}: node {trail}: the tree is deeper than {MAX_TREE_DEPTH} levels"
        )
    if G.number_of_nodes() >= MAX_TREE_NODES:
        raise TreeFileError(
            f"{where}: node {trail}: the tree has more than {MAX_TREE_NODES:,} nodes"
        )
    for key in ("action", "label", "name", "id"):
        if key in data:
            _label(data[key], key, where, trail)
    for key in ("cost", "effect", "p", "edge_cost", "edge_effect", "markov", "protocol", "kind"):
        if key in data and data[key] is None:
            raise TreeFileError(f"{where}: node {trail}: '{key}' is empty (null)")
    unknown = [k for k in data if k not in _NODE_KEYS and k not in _EDGE_KEYS]
    if unknown:
        raise TreeFileError(
            f"{where}: node {trail}: unknown key(s) {', '.join(map(str, unknown))} "
            f"(node keys: {', '.join(_NODE_KEYS)}; edge keys: {', '.join(_EDGE_KEYS)})"
        )
    edge = {_EDGE_KEYS[k]: data[k] for k in _EDGE_KEYS if k in data}
    if parent is None:
        if edge:
            raise TreeFileError(f"{where}: the root node cannot carry edge keys {sorted(edge)}")
        label = str(data.get("name", "root"))
        default_id = label
    else:
        name = edge.get("action", edge.get("label"))
        if name is None or str(name).strip() == "":
            raise TreeFileError(
                f"{where}: node {trail}: a branch needs an 'action' (decision parent) "
                "or a 'label' (chance parent)"
            )
        label = str(data.get("name", name))
        default_id = f"{parent}/{name}"
    node_id = str(data.get("id", default_id))
    if node_id in G:
        raise TreeFileError(
            f"{where}: node id {node_id!r} appears twice: sibling branches need distinct labels "
            "(and a label containing '/' can collide with a deeper path; give an explicit 'id')"
        )
    attrs = {
        k: data[k] for k in ("kind", "cost", "effect", "markov", "protocol", "notes") if k in data
    }
    attrs["label"] = label
    G.add_node(node_id, **attrs)
    if parent is not None:
        G.add_edge(parent, node_id, **edge)
    branches = data.get("branches")
    if branches is not None:
        if not isinstance(branches, list):
            raise TreeFileError(f"{where}: node {node_id!r}: 'branches' must be a list")
        for i, child in enumerate(branches):
            _node_from_mapping(G, child, node_id, where, f"{node_id!r} branch {i + 1}", depth + 1)
    return node_id


def tree_from_dict(doc: Mapping[str, Any], where: str = "<dict>") -> nx.DiGraph:
    """Build the graph from a parsed tree document (without validating it).

    Parameters
    ----------
    doc : mapping
        The document as ``yaml.safe_load`` returns it.
    where : str
        Name used in error messages.

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    TreeFileError
        If the document does not have the documented layout.

    Examples
    --------
    >>> G = tree_from_dict({"tree": {"kind": "terminal", "name": "only", "effect": 1}})
    >>> G.graph["root"], G.nodes["only"]["kind"]
    ('only', 'terminal')
    """
    if not isinstance(doc, Mapping):
        raise TreeFileError(f"{where}: the top level must be a mapping")
    unknown = [k for k in doc if k not in GRAPH_KEYS and k != "tree"]
    if unknown:
        raise TreeFileError(
            f"{where}: unknown top-level key(s) {', '.join(map(str, unknown))} "
            f"(allowed: {', '.join((*GRAPH_KEYS, 'tree'))})"
        )
    if "tree" not in doc:
        raise TreeFileError(f"{where}: no 'tree:' section")
    G: nx.DiGraph = nx.DiGraph()
    for key in GRAPH_KEYS:
        if key in doc:
            G.graph[key] = doc[key]
    for key, kind in (
        ("parameters", Mapping),
        ("derived", Mapping),
        ("markov", Mapping),
        ("roles", Mapping),
    ):
        if key in G.graph and G.graph[key] is None:
            G.graph[key] = {}
        if key in G.graph and not isinstance(G.graph[key], kind):
            raise TreeFileError(f"{where}: '{key}' must be a mapping")
    G.graph["source_file"] = where
    G.graph["root"] = _node_from_mapping(G, doc["tree"], None, where, "root")
    return G


def _read_yaml(path: Path) -> Any:
    """The document of a tree file, read within the bounds of :mod:`.yamlsafe`."""
    return load_yaml(path, TreeFileError, "tree file")


def _read_graph(path: Path) -> nx.DiGraph:
    if path.suffix.lower() == ".graphml":
        return read_graphml(path)
    return tree_from_dict(_read_yaml(path), str(path))


def load_tree(
    path: str | os.PathLike,
    *,
    validate: bool = True,
    check_draws: int = 0,
    rng: RNGLike | None = None,
    require_declared: bool = False,
) -> nx.DiGraph:
    """Read a tree file (YAML, or GraphML as written by :func:`to_graphml`) and validate it.

    Parameters
    ----------
    path : path-like
        A ``.yaml``/``.yml`` tree file or a ``.graphml`` export.
    validate : bool
        Run :func:`decisionmodel.tree.validate.validate_tree` (default True): the
        structure, the formulas, the parameter names and the probabilities at the means.
    check_draws : int
        Also evaluate the tree on this many draws of the declared distributions (default
        0; an analysis checks every draw it evaluates).
    rng : Generator, SeedSequence or int, optional
        The stream of the check draws (required when ``check_draws`` > 0).
    require_declared : bool
        Every name a formula uses must be declared in the file (the command line asks
        this); by default a file without ``parameters:`` may take its values from the
        sample passed to :func:`~decisionmodel.tree.evaluate.evaluate`.

    Returns
    -------
    networkx.DiGraph
        With the attribute schema of :mod:`decisionmodel.tree.schema`.

    Raises
    ------
    TreeFileError, TreeValidationError, FormulaError, ParameterError, MarkovError
        With the file and node path in the message.

    See Also
    --------
    load_compiled : the same, returning the compiled tree (to analyse it without
        compiling it again).
    """
    G = _read_graph(Path(path))
    if validate:
        from decisionmodel.tree.validate import validate_tree

        validate_tree(G, check_draws=check_draws, rng=rng, require_declared=require_declared)
    return G


def load_compiled(
    path: str | os.PathLike,
    *,
    protocol: Mapping[str, str] | None = None,
    require_declared: bool = False,
) -> CompiledTree:
    """Read a tree file, validate it and compile it, once.

    What an analysis starts from: the validation of :func:`load_tree` compiles the tree,
    and that compiled tree is returned (its ``graph`` is the tree read) rather than
    compiled again by every function that evaluates it.

    Parameters
    ----------
    path : path-like
        A ``.yaml``/``.yml`` tree file or a ``.graphml`` export.
    protocol : mapping, optional
        Decision node (id or label) → action fixed by protocol.
    require_declared : bool
        Every name a formula uses must be declared in the file.

    Returns
    -------
    CompiledTree
        Accepted wherever a tree is (:func:`~decisionmodel.tree.evaluate.evaluate`,
        :func:`decisionmodel.report.analyse`, ...).

    Raises
    ------
    TreeFileError, TreeValidationError, FormulaError, ParameterError, MarkovError,
    PolicyError
        With the file and node path in the message.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.yaml").write_text(
    ...     "tree: {kind: decision, name: d, branches: ["
    ...     "{action: a, kind: terminal, effect: 1}, {action: b, kind: terminal}]}")
    >>> ct = load_compiled(d / "t.yaml")
    >>> ct.strategy_names, ct.graph.number_of_nodes()
    (['a', 'b'], 3)
    """
    from decisionmodel.tree.validate import validate_tree

    G = _read_graph(Path(path))
    return validate_tree(G, require_declared=require_declared, protocol=protocol)


def _children_in_order(G: nx.DiGraph, node: str) -> list[str]:
    return list(G.successors(node))


def _node_to_mapping(G: nx.DiGraph, node: str, parent: str | None) -> dict[str, Any]:
    data = G.nodes[node]
    out: dict[str, Any] = {}
    if parent is not None:
        edge = G.edges[parent, node]
        for file_key, attr in _EDGE_KEYS.items():
            if attr in edge:
                out[file_key] = edge[attr]
    out["kind"] = data.get("kind")
    name = None
    if parent is not None:
        edge = G.edges[parent, node]
        name = edge.get("action", edge.get("label"))
        default_id = f"{parent}/{name if name is not None else data.get('label')}"
    else:
        default_id = str(data.get("label"))
    if data.get("label") is not None and (parent is None or str(data["label"]) != str(name)):
        out["name"] = data["label"]
    if node != default_id:
        out["id"] = node
    for key in ("cost", "effect", "markov", "protocol", "notes"):
        if key in data:
            out[key] = data[key]
    children = _children_in_order(G, node)
    if children:
        out["branches"] = [_node_to_mapping(G, c, node) for c in children]
    return out


def tree_to_dict(G: nx.DiGraph) -> dict[str, Any]:
    """The document that :func:`write_tree` writes (inverse of :func:`tree_from_dict`).

    Parameters
    ----------
    G : networkx.DiGraph
        A tree with the attribute schema of :mod:`decisionmodel.tree.schema`.

    Returns
    -------
    dict
        Graph attributes, then ``tree:`` as nested nodes with their ``branches``.

    Examples
    --------
    >>> G = tree_from_dict({"name": "x", "tree": {"kind": "terminal", "name": "t"}})
    >>> tree_to_dict(G)
    {'name': 'x', 'tree': {'kind': 'terminal', 'name': 't'}}
    """
    doc: dict[str, Any] = {}
    for key in GRAPH_KEYS:
        if key in G.graph:
            doc[key] = G.graph[key]
    root = G.graph.get("root")
    if root is None:
        roots = [n for n, d in G.in_degree() if d == 0]
        if len(roots) != 1:
            raise TreeFileError(f"graph has {len(roots)} roots; cannot write it as a tree")
        root = roots[0]
    doc["tree"] = _node_to_mapping(G, root, None)
    return doc


class _Dumper(yaml.SafeDumper):
    """Safe YAML dumper that writes block style, keeps key order and never uses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dumps_tree(G: nx.DiGraph) -> str:
    """The YAML text of a tree (what :func:`write_tree` writes).

    Parameters
    ----------
    G : networkx.DiGraph
        A tree.

    Returns
    -------
    str
        The YAML document of :func:`tree_to_dict`.
    """
    return yaml.dump(
        tree_to_dict(G), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tree(G: nx.DiGraph, path: str | os.PathLike) -> None:
    """Write a tree as a YAML tree file (atomically: a temporary file, then a rename).

    ``load_tree(path)`` of the result gives the same graph (see :func:`same_tree`).

    Parameters
    ----------
    G : networkx.DiGraph
        A tree.
    path : path-like
        The file to write (its folder is created if missing).
    """
    _atomic_write(Path(path), dumps_tree(G))


def same_tree(G: nx.DiGraph, H: nx.DiGraph) -> bool:
    """True when two trees have the same nodes, edges, attributes and graph attributes
    (the ``source_file`` attribute is ignored).

    Parameters
    ----------
    G, H : networkx.DiGraph
        The two trees.

    Returns
    -------
    bool

    Examples
    --------
    >>> G = tree_from_dict({"tree": {"kind": "terminal", "name": "t"}})
    >>> same_tree(G, G.copy())
    True
    """
    ga = {k: v for k, v in G.graph.items() if k != "source_file"}
    gb = {k: v for k, v in H.graph.items() if k != "source_file"}
    if ga != gb:
        return False
    if dict(G.nodes(data=True)) != dict(H.nodes(data=True)):
        return False
    ea = {(u, v): d for u, v, d in G.edges(data=True)}
    eb = {(u, v): d for u, v, d in H.edges(data=True)}
    if ea != eb:
        return False
    # sibling order matters for display and strategy order
    return all(list(G.successors(n)) == list(H.successors(n)) for n in G)


# ----------------------------------------------------------------------------- GraphML


def _to_scalar(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("json:"):
        return "json:" + json.dumps(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return "json:" + json.dumps(value, sort_keys=False)


_GRAPHML_NODE_KEYS = ("kind", "label", "cost", "effect", "markov", "protocol", "notes")
_GRAPHML_EDGE_KEYS = tuple(_EDGE_KEYS.values())


def _from_scalar(value: Any, where: str = "GraphML") -> Any:
    if isinstance(value, str) and value.startswith("json:"):
        try:
            return json.loads(value[5:])
        except json.JSONDecodeError:
            raise TreeFileError(f"{where}: attribute {value[:40]!r}: not valid JSON") from None
        except RecursionError:
            raise TreeFileError(
                f"{where}: attribute {value[:40]!r}...: JSON nested too deeply"
            ) from None
    return value


def to_graphml(G: nx.DiGraph, path: str | os.PathLike) -> None:
    """Export a tree to GraphML (nested attributes are stored as JSON strings).

    :func:`load_tree` reads the file back to the same graph.

    Parameters
    ----------
    G : networkx.DiGraph
        A tree.
    path : path-like
        The ``.graphml`` file to write.

    See Also
    --------
    read_graphml : the inverse.
    """
    H: nx.DiGraph = nx.DiGraph()
    H.graph.update({k: _to_scalar(v) for k, v in G.graph.items() if k != "source_file"})
    for n, d in G.nodes(data=True):
        H.add_node(n, **{k: _to_scalar(v) for k, v in d.items()})
    for u, v, d in G.edges(data=True):
        H.add_edge(u, v, **{k: _to_scalar(x) for k, x in d.items()})
    # GraphML has no sibling order: record it
    for n in G:
        kids = list(G.successors(n))
        if kids:
            H.nodes[n]["child_order"] = "json:" + json.dumps(kids)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(H, str(path))


def read_graphml(path: str | os.PathLike) -> nx.DiGraph:
    """Read a GraphML file written by :func:`to_graphml` back into a tree graph.

    Parameters
    ----------
    path : path-like
        A ``.graphml`` file.

    Returns
    -------
    networkx.DiGraph
        The tree, children in their original order.

    Raises
    ------
    TreeFileError
        Not readable GraphML, too large or deep, unknown attributes or a bad value.
    """
    from decisionmodel.tree.yamlsafe import read_text

    where = str(path)
    text = read_text(path, TreeFileError, "GraphML file")  # bounded size, UTF-8
    try:
        H = nx.parse_graphml(text)
    except RecursionError:
        raise TreeFileError(f"{where}: GraphML nested too deeply") from None
    except Exception as exc:  # networkx and the XML parser raise several exceptions
        msg = " ".join(str(exc).split())[:200]
        raise TreeFileError(f"{where}: not a readable GraphML file ({msg})") from None
    if H.number_of_nodes() > MAX_TREE_NODES:
        raise TreeFileError(f"{where}: the tree has more than {MAX_TREE_NODES:,} nodes")
    graph_attrs = {k: v for k, v in H.graph.items() if k not in ("node_default", "edge_default")}
    for what, keys, allowed in (
        ("graph", [graph_attrs], (*GRAPH_KEYS, "root")),
        ("node", [d for _, d in H.nodes(data=True)], (*_GRAPHML_NODE_KEYS, "child_order")),
        ("edge", [d for _, _, d in H.edges(data=True)], _GRAPHML_EDGE_KEYS),
    ):
        for attrs in keys:
            unknown = sorted(str(k) for k in attrs if k not in allowed)
            if unknown:
                raise TreeFileError(
                    f"{where}: unknown {what} attribute(s) {', '.join(unknown)} "
                    f"(allowed: {', '.join(allowed)})"
                )
    G: nx.DiGraph = nx.DiGraph()
    G.graph.update({k: _from_scalar(v, where) for k, v in graph_attrs.items()})
    order: dict[str, list[str]] = {}
    for n, d in H.nodes(data=True):
        attrs = {k: _from_scalar(v, where) for k, v in d.items() if k != "child_order"}
        if "child_order" in d:
            order[n] = _from_scalar(d["child_order"], where)
            if not isinstance(order[n], list):
                raise TreeFileError(f"{where}: node {n!r}: child_order must be a list")
        G.add_node(n, **attrs)
    edges = {
        (u, v): {k: _from_scalar(x, where) for k, x in d.items()} for u, v, d in H.edges(data=True)
    }
    done = set()
    for n in list(G.nodes):
        for c in order.get(n, []):
            if (n, c) in edges:
                G.add_edge(n, c, **edges[(n, c)])
                done.add((n, c))
    for (u, v), d in edges.items():
        if (u, v) not in done:
            G.add_edge(u, v, **d)
    G.graph["source_file"] = str(path)
    return G


# ----------------------------------------------------------------------------- DOT


def _dot_quote(text: Any) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(G: nx.DiGraph) -> str:
    """The tree in Graphviz DOT: decisions as boxes, chance nodes as circles,
    terminals as triangles; edges labelled with actions or labels and probabilities,
    nodes with their costs and effects.

    Parameters
    ----------
    G : networkx.DiGraph
        A tree.

    Returns
    -------
    str
        The DOT text (render with ``dot -Tpng``).

    Examples
    --------
    >>> G = tree_from_dict({"tree": {"kind": "terminal", "name": "t", "effect": 1}})
    >>> print(to_dot(G).splitlines()[0])
    digraph tree {
    """
    shapes = {"decision": "box", "chance": "circle", "terminal": "triangle"}
    lines = ["digraph tree {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    ids = {n: f"n{i}" for i, n in enumerate(G.nodes)}
    for n, d in G.nodes(data=True):
        text = [str(d.get("label", n))]
        for key in ("cost", "effect"):
            if key in d:
                text.append(f"{key}: {d[key]}")
        if "markov" in d:
            m = d["markov"]
            text.append(f"markov: {m.get('model') if isinstance(m, Mapping) else m}")
        shape = shapes.get(str(d.get("kind")), "ellipse")
        lines.append(f"  {ids[n]} [shape={shape}, label={_dot_quote(chr(10).join(text))}];")
    for u, v, d in G.edges(data=True):
        text = [str(d.get("action", d.get("label", "")))]
        if "p" in d:
            text.append(f"p = {d['p']}")
        for key in ("cost", "effect"):
            if key in d:
                text.append(f"{key}: {d[key]}")
        lines.append(f"  {ids[u]} -> {ids[v]} [label={_dot_quote(chr(10).join(text))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
