"""The attribute schema of a decision tree (a plain :class:`networkx.DiGraph`).

Graph attributes (``G.graph``)
    ``name`` (str), ``description`` (str), ``root`` (node id), ``parameters``
    (name → declaration, see :mod:`decisionmodel.params`), ``derived`` (name → formula,
    evaluated in dependency order), ``markov`` (name → Markov cohort model, see
    :mod:`decisionmodel.tree.markov`), ``wtp`` (list of willingness-to-pay values the
    file suggests), ``currency``, ``effect_unit``, ``notes``; ``source_file`` is set by
    :func:`~decisionmodel.tree.io.load_tree` and used in error messages.

Node attributes
    ``kind``: ``"decision"``, ``"chance"`` or ``"terminal"`` (required).
    ``label``: display name (defaults to the incoming edge's action or label).
    ``cost``, ``effect``: quantities incurred on reaching the node (optional).
    ``markov`` (terminal only): ``{"model": name, "start": {state: quantity},
    "with": {name: quantity}}`` hands the node's cohort to a Markov model.
    ``protocol`` (decision only): the action fixed by protocol (not enumerated).
    ``notes``: free text.

Edge attributes
    ``action`` (edges leaving a decision node, required, unique per node);
    ``label`` (edges leaving a chance node, required, unique per node);
    ``p`` (edges leaving a chance node, required; a quantity or ``"#"``, the
    complement: one minus the sum of the siblings, at most one per node);
    ``cost``, ``effect`` (optional, accumulate along the path like node payoffs).

A *quantity* is a number, a parameter name or a formula (see
:mod:`decisionmodel.tree.formula`). Node ids are the path of edge labels from the
root joined by ``/`` (the root's id is its label), unless a file gives ``id``.
"""

from __future__ import annotations

KINDS = ("decision", "chance", "terminal")
COMPLEMENT = "#"
NODE_QUANTITIES = ("cost", "effect")
EDGE_QUANTITIES = ("cost", "effect")
GRAPH_KEYS = (
    "name",
    "description",
    "currency",
    "effect_unit",
    "wtp",
    "notes",
    "parameters",
    "derived",
    "markov",
    "roles",
)


def node_path(G, node) -> str:
    """The node's path for messages: its id (ids are paths unless the file set one).

    Parameters
    ----------
    G : networkx.DiGraph
        The tree (unused: the id is the path).
    node : hashable
        A node of ``G``.

    Returns
    -------
    str

    See Also
    --------
    where : the file, the other part of a message's place.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph(); G.add_node("root/a")
    >>> node_path(G, "root/a")
    'root/a'
    """
    return str(node)


def where(G) -> str:
    """The file a graph was read from, for messages ('<graph>' when built in memory).

    Parameters
    ----------
    G : networkx.DiGraph
        The tree; its graph attribute ``source_file`` is set by
        :func:`~decisionmodel.tree.io.load_tree`.

    Returns
    -------
    str

    See Also
    --------
    node_path : the node, the other part of a message's place.

    Examples
    --------
    >>> import networkx as nx
    >>> where(nx.DiGraph(source_file="trees/crlm.yaml")), where(nx.DiGraph())
    ('trees/crlm.yaml', '<graph>')
    """
    return str(G.graph.get("source_file") or "<graph>")
