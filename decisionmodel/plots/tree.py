"""Figures: a decision tree drawn left to right with matplotlib (no graphviz needed).

:func:`draw_tree` follows the usual decision-analysis convention: decision nodes are
squares, chance nodes circles and terminal nodes triangles. Each branch is a short
diagonal from its parent followed by a horizontal line; the branch's action or label
is written above the line, its probability (and any cost or effect incurred on the
way) below it. Terminal nodes are aligned in one column, with their payoffs and the
expected values of their path written to their right.

Figures are created as :class:`matplotlib.figure.Figure` objects that are *not*
registered with :mod:`matplotlib.pyplot`, so nothing is shown on screen, no GUI
backend is needed, and there is no global state to clean up: drop the reference (or
call ``fig.clear()``) when done. If you pass an ``ax`` from ``plt.subplots``, close its
figure yourself with ``plt.close(fig)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import text_to_path

from decisionmodel.exceptions import UnknownParameterError
from decisionmodel.params import as_arrays, mean_parameters
from decisionmodel.tree.compile import CompiledTree, compile_tree
from decisionmodel.tree.evaluate import evaluate
from decisionmodel.tree.formula import Formula
from decisionmodel.tree.schema import COMPLEMENT

__all__ = ["draw_tree"]

# Layout constants. Lengths are in inches: the axes span the whole figure and one
# data unit is one inch, so text (sized in points) and geometry can be laid out together.
FONT_SIZE = 8.0
LINE = FONT_SIZE * 1.3 / 72  # height of one line of text
PAD = 0.06  # gap between a line and its text
FAN = 0.35  # horizontal length of the diagonal part of a branch
MARKER = 10.0  # node marker size in points
MARKER_IN = MARKER / 72
MIN_SEGMENT = 0.6  # minimum length of a branch's horizontal part
MARGIN = 0.25
HEADER = 0.45  # band at the top for the title and the legend

_KINDS = ("decision", "chance", "terminal")
_MARKERS = {"decision": "s", "chance": "o", "terminal": "<"}
_COLOURS = {"decision": "#4c72b0", "chance": "#55a868", "terminal": "#c44e52"}
_TEXT_COLOUR = "#222222"
_DIM = "#999999"
_TEXT_KW: dict[str, Any] = {"fontsize": FONT_SIZE, "color": _TEXT_COLOUR, "parse_math": False}


@lru_cache(maxsize=4096)
def _text_width(text: str, italic: bool = False, bold: bool = False) -> float:
    """Width in inches of one line of text at :data:`FONT_SIZE` (the longest line)."""
    prop = FontProperties(
        size=FONT_SIZE, style="italic" if italic else "normal", weight="bold" if bold else "normal"
    )
    widest = 0.0
    for line in text.split("\n"):
        if line:
            w, _, _ = text_to_path.get_text_width_height_descent(line, prop, ismath=False)
            widest = max(widest, w)
    return widest * 1.04 / 72


def _fmt(value: float) -> str:
    """A number for a label: 3 significant digits, thousands separated when large."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Values:
    """Mean values of the tree's quantities, at the parameter means or over draws."""

    def __init__(self, ct: CompiledTree, params: xr.Dataset | Mapping[str, Any]) -> None:
        self.ct = ct
        env, self.n = as_arrays(params)
        missing = sorted(ct.required_names - env.keys())
        if missing:
            raise UnknownParameterError(
                f"{ct.where}: the parameters lack {len(missing)} name(s) the tree uses: "
                f"{', '.join(missing)}"
            )
        for name, f in ct.derived:
            env[name] = f.evaluate(env)
        self.env = env
        out = evaluate(ct, params, paths=True)
        self.path_probability = out["path_probability"].mean("sample")
        self.path_cost = out["path_cost"].mean("sample")
        self.path_effect = out["path_effect"].mean("sample")

    def quantity(self, formula: Formula) -> float:
        return float(np.mean(formula.evaluate(self.env)))

    def edge_probability(self, parent: Any, child: Any) -> float:
        f = self.ct.edge_p[(parent, child)]
        if f is not None:
            return self.quantity(f)
        total: Any = 0.0
        for c in self.ct.children[parent]:
            g = self.ct.edge_p[(parent, c)]
            if g is not None:
                total = total + g.evaluate(self.env)
        return float(np.mean(np.clip(1.0 - np.asarray(total), 0.0, 1.0)))

    def path(self, node: Any) -> tuple[float, float, float]:
        key = str(node)
        return (
            float(self.path_probability.sel(path=key)),
            float(self.path_cost.sel(path=key)),
            float(self.path_effect.sel(path=key)),
        )


def _compute_values(
    ct: CompiledTree, params: xr.Dataset | Mapping[str, Any] | None
) -> tuple[_Values | None, str]:
    """The values to print, and a note for the title saying what they are."""
    if params is not None:
        values = _Values(ct, params)
        n = values.n
        return values, "values: means over 1 draw" if n == 1 else f"values: means over {n} draws"
    try:
        return _Values(ct, mean_parameters(ct.graph)), "values at the parameter means"
    except UnknownParameterError:
        # e.g. parameters supplied from a posterior elsewhere: draw the expressions only
        return None, "no values: the tree does not declare all its parameters"


def _quantity_text(
    what: str, expr: Any, formula: Formula | None, values: _Values | None, sep: str = ": "
) -> str:
    """``cost: c_drug = 16.1`` (the value only when it is not already a number)."""
    text = f"{what}{sep}{expr}" if what else str(expr)
    if values is not None and formula is not None and not _is_number(expr):
        text += f" = {_fmt(values.quantity(formula))}"
    return text


def _markov_text(spec: Any) -> str:
    if isinstance(spec, Mapping):
        text = f"→ markov: {spec.get('model')}"
        extras = []
        start = spec.get("start")
        if isinstance(start, Mapping):
            extras.append("start " + ", ".join(f"{k}={v}" for k, v in start.items()))
        elif start is not None:
            extras.append(f"start {start}")
        bindings = spec.get("with")
        if isinstance(bindings, Mapping) and bindings:
            extras.append("with " + ", ".join(f"{k}={v}" for k, v in bindings.items()))
        if extras:
            text += f" ({'; '.join(extras)})"
        return text
    return f"→ markov: {spec}"


def _title(G: nx.DiGraph) -> str:
    """The tree's name, else its file's name, else a generic title."""
    if G.graph.get("name"):
        return str(G.graph["name"])
    source = str(G.graph.get("source_file") or "")
    if source and not source.startswith("<"):
        return Path(source).name
    return "decision tree"


def _layout(ct: CompiledTree) -> tuple[dict[Any, int], dict[Any, float]]:
    """Depth and row of every node: leaves get rows 0, 1, 2, ... in preorder and every
    other node sits midway between its first and last child."""
    depth = {ct.root: 0}
    for node in ct.preorder:
        for c in ct.children[node]:
            depth[c] = depth[node] + 1
    row: dict[Any, float] = {}
    next_leaf = 0
    for node in nx.dfs_postorder_nodes(ct.graph, ct.root):
        kids = ct.children[node]
        if not kids:
            row[node] = float(next_leaf)
            next_leaf += 1
        else:
            row[node] = (row[kids[0]] + row[kids[-1]]) / 2
    # dfs_postorder_nodes visits children in successor order, so leaves follow preorder
    return depth, row


def _node_payoffs(ct: CompiledTree, node: Any, values: _Values | None) -> list[str]:
    """``cost: c_drug = 16.1`` and ``effect: ...`` of a node, for those it declares."""
    data = ct.graph.nodes[node]
    return [
        _quantity_text(key, data[key], store.get(node), values)
        for key, store in (("cost", ct.node_cost), ("effect", ct.node_effect))
        if data.get(key) is not None
    ]


def _branch_below(ct: CompiledTree, parent: Any, child: Any, values: _Values | None) -> str:
    """The text below a branch: its probability as written (chance nodes), then the costs
    and effects the branch and the (non-terminal) node it leads to incur."""
    edge = ct.graph.edges[parent, child]
    parts = []
    if ct.kind[parent] == "chance":
        p = edge["p"]
        if isinstance(p, str) and p.strip() == COMPLEMENT:
            parts.append(
                COMPLEMENT
                if values is None
                else f"{COMPLEMENT} = {_fmt(values.edge_probability(parent, child))}"
            )
        else:
            parts.append(_quantity_text("", p, ct.edge_p[(parent, child)], values))
    for key, store in (("cost", ct.edge_cost), ("effect", ct.edge_effect)):
        if edge.get(key) is not None:
            parts.append(_quantity_text(key, edge[key], store.get((parent, child)), values))
    if ct.kind[child] != "terminal":
        parts += _node_payoffs(ct, child, values)
    return "  ·  ".join(parts)


def _path_text(path: tuple[float, float, float], currency: Any, effect_unit: Any) -> str:
    """``⇒ P 0.331  ·  cost 16.1 CAD  ·  effect 0.00274 QALY``: a path's mean values."""
    probability, cost, effect = path
    cost_text = f"cost {_fmt(cost)}" + (f" {currency}" if currency else "")
    effect_text = f"effect {_fmt(effect)}" + (f" {effect_unit}" if effect_unit else "")
    return f"⇒ P {_fmt(probability)}  ·  {cost_text}  ·  {effect_text}"


def _terminal_text(
    ct: CompiledTree, terminal: Any, edge_name: Mapping[Any, str], values: _Values | None
) -> str:
    """The lines right of a terminal: its label (unless its branch already says it), its
    payoffs, its Markov hand-over and, with values, the mean values of its path."""
    data = ct.graph.nodes[terminal]
    lines = []
    label = data.get("label")
    if label is not None and (terminal == ct.root or str(label) != edge_name[terminal]):
        lines.append(str(label))
    payoff = _node_payoffs(ct, terminal, values)
    if payoff:
        lines.append("  ·  ".join(payoff))
    if data.get("markov") is not None:
        lines.append(_markov_text(data["markov"]))
    if values is not None:
        G = ct.graph
        lines.append(
            _path_text(values.path(terminal), G.graph.get("currency"), G.graph.get("effect_unit"))
        )
    return "\n".join(lines)


def _root_text(ct: CompiledTree, values: _Values | None) -> str:
    """The root's name and payoffs, left of it ("" when the root is a lone terminal, whose
    text goes to its right)."""
    if ct.kind[ct.root] == "terminal":
        return ""
    name = str(ct.graph.nodes[ct.root].get("label", ct.root))
    return "\n".join([name, *_node_payoffs(ct, ct.root, values)])


@dataclass(frozen=True)
class _Texts:
    """Every text of the drawing. Branch texts are keyed by the node the branch leads to."""

    edge_name: dict[Any, str]  # the branch's action or label, as written
    above: dict[Any, str]  # above the line: edge_name, "(protocol)" for a protocol's choice
    name: dict[Any, str]  # the child's own label, when it differs (italic, at the line's end)
    below: dict[Any, str]  # below the line: probability and payoffs
    dimmed: frozenset[Any]  # branches a protocol rules out (drawn dashed and grey)
    terminal: dict[Any, str]  # right of each terminal, in the order of ct.terminals
    root: str  # left of the root


def _texts(ct: CompiledTree, values: _Values | None) -> _Texts:
    """The texts of every branch, terminal and the root. A decision fixed by protocol
    (a node's ``protocol``) marks its chosen branch and dims the others."""
    G = ct.graph
    protocol = {
        n: str(d["protocol"]) for n, d in G.nodes(data=True) if d.get("protocol") is not None
    }
    edge_name: dict[Any, str] = {}
    above: dict[Any, str] = {}
    name: dict[Any, str] = {}
    below: dict[Any, str] = {}
    dimmed = set()
    for node in ct.preorder:
        for c in ct.children[node]:
            e = G.edges[node, c]
            edge_name[c] = str(e.get("action", e.get("label", "")))
            chosen = protocol.get(node)
            above[c] = edge_name[c] + (" (protocol)" if chosen == edge_name[c] else "")
            if chosen is not None and chosen != edge_name[c]:
                dimmed.add(c)
            label = G.nodes[c].get("label")
            if ct.kind[c] != "terminal" and label is not None and str(label) != edge_name[c]:
                name[c] = str(label)
            below[c] = _branch_below(ct, node, c, values)
    terminal = {t: _terminal_text(ct, t, edge_name, values) for t in ct.terminals}
    return _Texts(
        edge_name, above, name, below, frozenset(dimmed), terminal, _root_text(ct, values)
    )


@dataclass(frozen=True)
class _Geometry:
    """Where everything goes, in inches from the top left corner of the figure."""

    kind: dict[Any, str]
    depth: dict[Any, int]
    row: dict[Any, float]
    col_x: list[float]  # x of the nodes at each depth
    x_term: float  # x of the terminals' column
    row_h: float  # height of one leaf's row
    width: float
    height: float

    def xy(self, node: Any) -> tuple[float, float]:
        """The position of ``node``'s marker."""
        x = self.x_term if self.kind[node] == "terminal" else self.col_x[self.depth[node]]
        return x, HEADER + (self.row[node] + 0.5) * self.row_h


def _column_widths(ct: CompiledTree, depth: Mapping[Any, int], texts: _Texts) -> list[float]:
    """The width of each depth's column of branches: wide enough for every branch's texts."""
    max_depth = max(depth[t] for t in ct.terminals)
    col_w = [MIN_SEGMENT + FAN] * max(max_depth, 1)
    for node in ct.preorder:
        for c in ct.children[node]:
            seg = max(
                _text_width(texts.above[c], bold=ct.kind[node] == "decision")
                + (_text_width(texts.name[c], italic=True) + 0.15 if c in texts.name else 0.0),
                _text_width(texts.below[c]),
            )
            col = depth[node]
            col_w[col] = max(col_w[col], FAN + PAD + seg + PAD + MARKER_IN)
    return col_w


def _geometry(ct: CompiledTree, texts: _Texts, heading: str) -> _Geometry:
    """Rows from :func:`_layout`, columns wide enough for the texts, and the figure's size
    (width for the tree and the terminals' texts, or the heading and the legend)."""
    depth, row = _layout(ct)
    max_lines = max([1, *(len(s.split("\n")) for s in texts.terminal.values())])
    row_h = max(2 * LINE + 2 * PAD + 0.12, max_lines * LINE + 0.16)
    max_depth = max(depth[t] for t in ct.terminals)
    x0 = MARGIN + _text_width(texts.root) + PAD + MARKER_IN
    col_x = [x0]
    for w in _column_widths(ct, depth, texts):
        col_x.append(col_x[-1] + w)
    x_term = col_x[max_depth] if ct.kind[ct.root] != "terminal" else x0
    term_w = max([0.0, *(_text_width(s) for s in texts.terminal.values())])
    legend_w = 3.0  # the legend's three entries, right of the heading
    width = max(
        x_term + MARKER_IN + PAD + term_w + MARGIN, MARGIN + _text_width(heading) + legend_w
    )
    height = HEADER + len(ct.terminals) * row_h + MARGIN
    return _Geometry(ct.kind, depth, row, col_x, x_term, row_h, width, height)


def _prepare_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """A new figure of the drawing's size with one axes spanning it (one data unit is one
    inch), or ``ax`` and its root figure; the axes' limits are set and the axis hidden."""
    if ax is None:
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    else:
        root = ax.get_figure(root=True)  # the root figure also when ax is in a subfigure
        assert root is not None  # an Axes always belongs to a figure
        fig = root
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    return fig, ax


def _draw_branch_labels(
    ax: Axes,
    texts: _Texts,
    child: Any,
    parent_kind: str,
    start: tuple[float, float],
    end_x: float,
) -> None:
    """A branch's texts: action or label above the line (bold after a decision), the
    child's name at the line's end, probability and payoffs below (grey when dimmed)."""
    x, y = start
    dim = child in texts.dimmed
    colour = _DIM if dim else _TEXT_COLOUR
    ax.text(
        x + PAD,
        y - PAD,
        texts.above[child],
        ha="left",
        va="bottom",
        gid="edge-label",
        fontweight="bold" if parent_kind == "decision" else "normal",
        **{**_TEXT_KW, "color": colour},
    )
    if child in texts.name:
        ax.text(
            end_x - MARKER_IN / 2 - PAD,
            y - PAD,
            texts.name[child],
            ha="right",
            va="bottom",
            gid="node-name",
            style="italic",
            **{**_TEXT_KW, "color": colour},
        )
    if texts.below[child]:
        ax.text(
            x + PAD,
            y + PAD,
            texts.below[child],
            ha="left",
            va="top",
            gid="edge-probability" if parent_kind == "chance" else "edge-payoff",
            **{**_TEXT_KW, "color": _DIM if dim else "#444444"},
        )


def _draw_branches(ax: Axes, ct: CompiledTree, geo: _Geometry, texts: _Texts) -> None:
    """Every branch: a diagonal from the parent and a horizontal line to the child (one
    line collection, another, dashed, for the dimmed ones), with its texts."""
    segments: list[list[tuple[float, float]]] = []
    dim_segments: list[list[tuple[float, float]]] = []
    for node in ct.preorder:
        xp, yp = geo.xy(node)
        for c in ct.children[node]:
            xc, yc = geo.xy(c)
            xs = xp + FAN
            path = [(xp, yp), (xs, yc), (xc, yc)]
            (dim_segments if c in texts.dimmed else segments).append(path)
            _draw_branch_labels(ax, texts, c, ct.kind[node], (xs, yc), xc)
    ax.add_collection(LineCollection(segments, colors=_TEXT_COLOUR, linewidths=0.9, gid="branches"))
    if dim_segments:
        ax.add_collection(
            LineCollection(
                dim_segments, colors=_DIM, linewidths=0.9, linestyles="--", gid="branches-dimmed"
            )
        )


def _draw_nodes(ax: Axes, ct: CompiledTree, geo: _Geometry) -> None:
    """The node glyphs: one Line2D of markers per kind, drawn above the branches."""
    for k in _KINDS:
        nodes = [n for n in ct.preorder if ct.kind[n] == k]
        if not nodes:
            continue
        pts = [geo.xy(n) for n in nodes]
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            linestyle="none",
            marker=_MARKERS[k],
            markersize=MARKER,
            markerfacecolor=_COLOURS[k],
            markeredgecolor="black",
            markeredgewidth=0.6,
            zorder=3,
            label=k,
            gid=f"{k}-nodes",
        )


def _draw_node_texts(ax: Axes, ct: CompiledTree, geo: _Geometry, texts: _Texts) -> None:
    """The root's name and payoffs left of it (bold), each terminal's text right of it."""
    if texts.root:
        xr0, yr0 = geo.xy(ct.root)
        ax.text(
            xr0 - MARKER_IN / 2 - PAD,
            yr0,
            texts.root,
            ha="right",
            va="center",
            gid="root-label",
            fontweight="bold",
            **_TEXT_KW,
        )
    for t, text in texts.terminal.items():
        if text:
            xt, yt = geo.xy(t)
            ax.text(
                xt + MARKER_IN / 2 + PAD,
                yt,
                text,
                ha="left",
                va="center",
                linespacing=1.15,
                gid="terminal-label",
                **_TEXT_KW,
            )


def _draw_header(ax: Axes, heading: str) -> None:
    """The heading at the top left and the legend of the node glyphs at the top right."""
    ax.text(MARGIN, HEADER / 2, heading, ha="left", va="center", gid="title", **_TEXT_KW)
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=_MARKERS[k],
            markersize=MARKER * 0.8,
            markerfacecolor=_COLOURS[k],
            markeredgecolor="black",
            markeredgewidth=0.6,
            label=k,
        )
        for k in _KINDS
    ]
    ax.legend(
        handles=handles,
        loc="upper right",
        ncol=3,
        frameon=False,
        fontsize=FONT_SIZE,
        handletextpad=0.2,
        columnspacing=1.0,
        borderaxespad=0.3,
    )


def draw_tree(
    tree: nx.DiGraph,
    params: xr.Dataset | Mapping[str, Any] | None = None,
    *,
    ax: Axes | None = None,
    show_values: bool = True,
) -> Figure:
    """Draw a decision tree left to right.

    Decision nodes are squares, chance nodes circles and terminal nodes triangles.
    Leaves are evenly spaced vertically and every other node is centred over its
    children. Each branch is labelled with its action (decision branches) or label
    (chance branches) above the line and, below it, with the probability as written
    (``#``: the complement) and any cost or effect the branch or the node it leads to
    incurs. Each terminal node is labelled with its own payoffs and, when it hands
    over to a Markov model, ``→ markov: NAME``.

    With ``show_values``, every expression that is not a plain number is followed by
    its mean value (``p_relief = 0.558``; ``# = 0.442``), and each terminal also shows
    the mean path probability, cost and effect of its path (the accumulated payoffs,
    including the Markov cohort's), from :func:`~decisionmodel.evaluate` with
    ``paths=True``. Values are computed at :func:`~decisionmodel.mean_parameters` (the
    base case), or averaged over ``params`` when given. A tree whose parameters are not
    all declared is drawn without values.

    Parameters
    ----------
    tree : networkx.DiGraph
        A tree with the schema of :mod:`decisionmodel.tree.schema` (as returned by
        :func:`~decisionmodel.load_tree`).
    params : xarray.Dataset or mapping, optional
        Parameter draws (as from :func:`~decisionmodel.sample_parameters`); the
        values shown are means over the draws. Default: the parameter means.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (their limits are set and the axis hidden). The axes
        should be about as large as the figure this function would make, which grows
        with the tree (width with its depth and labels, height with its number of
        leaves); otherwise labels overlap. Default: a new figure of that size.
    show_values : bool
        Print the mean values next to the expressions (default True).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure ``ax`` is in (the root figure when ``ax`` is in a
        subfigure). A new figure is not registered with :mod:`matplotlib.pyplot`: it
        needs no ``plt.close``, and is never shown on screen; save it with
        ``fig.savefig("tree.png", bbox_inches="tight")``.

    Raises
    ------
    TreeValidationError, FormulaError, UnknownParameterError, ...
        If the tree does not compile (see :func:`~decisionmodel.compile_tree`), or
        ``params`` lacks a name the tree uses.

    See Also
    --------
    decisionmodel.plots.plot_survival : Overall survival of each policy.
    decisionmodel.plots.subgroup_heatmap : The decision over the subgroups.
    plot_evppi_rank : The EVPPI ranking of the parameters.

    Examples
    --------
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({
    ...     "parameters": {"p_cure": {"distribution": "beta", "alpha": 3, "beta": 1}},
    ...     "tree": {"kind": "decision", "name": "choose", "branches": [
    ...         {"action": "treat", "kind": "chance", "cost": 100, "branches": [
    ...             {"label": "cured", "p": "p_cure", "kind": "terminal", "effect": 1},
    ...             {"label": "not cured", "p": "#", "kind": "terminal", "effect": 0}]},
    ...         {"action": "wait", "kind": "terminal", "effect": 0.5}]}})
    >>> fig = draw_tree(G)
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> "p_cure = 0.75" in texts, "# = 0.25" in texts
    (True, True)
    >>> len(fig.axes[0].get_lines()[0].get_xdata())   # one square: the decision node
    1
    """
    ct = compile_tree(tree)
    values, note = _compute_values(ct, params) if show_values else (None, "")
    texts = _texts(ct, values)
    heading = _title(ct.graph) + (f"  ({note})" if note else "")
    geo = _geometry(ct, texts, heading)
    fig, ax = _prepare_axes(ax, geo.width, geo.height)
    _draw_branches(ax, ct, geo, texts)
    _draw_nodes(ax, ct, geo)
    _draw_node_texts(ax, ct, geo, texts)
    _draw_header(ax, heading)
    return fig
