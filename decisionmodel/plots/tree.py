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

_MARKERS = {"decision": "s", "chance": "o", "terminal": "<"}
_COLOURS = {"decision": "#4c72b0", "chance": "#55a868", "terminal": "#c44e52"}
_TEXT_COLOUR = "#222222"
_DIM = "#999999"


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

    def quantity(self, formula: Any) -> float:
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
    what: str, expr: Any, formula: Any, values: _Values | None, sep: str = ": "
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
        The new figure, or ``ax.figure``. A new figure is not registered with
        :mod:`matplotlib.pyplot`: it needs no ``plt.close``, and is never shown on
        screen; save it with ``fig.savefig("tree.png", bbox_inches="tight")``.

    Raises
    ------
    TreeValidationError, FormulaError, UnknownParameterError, ...
        If the tree does not compile (see :func:`~decisionmodel.compile_tree`), or
        ``params`` lacks a name the tree uses.

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
    G = ct.graph
    depth, row = _layout(ct)
    kind = ct.kind
    terminals = ct.terminals
    n_leaves = len(terminals)
    currency = G.graph.get("currency")
    effect_unit = G.graph.get("effect_unit")

    # --- protocol: a decision fixed by protocol has its other branches dimmed
    protocol = {
        n: str(d["protocol"]) for n, d in G.nodes(data=True) if d.get("protocol") is not None
    }

    # --- the texts of every branch: above (action/label, node name) and below the line
    above: dict[Any, str] = {}
    edge_names: dict[Any, str] = {}
    name_text: dict[Any, str] = {}
    below: dict[Any, str] = {}
    for node in ct.preorder:
        for c in ct.children[node]:
            e = G.edges[node, c]
            edge_name = str(e.get("action", e.get("label", "")))
            edge_names[c] = edge_name
            if node in protocol and protocol[node] == edge_name:
                edge_name += " (protocol)"
            above[c] = edge_name
            label = G.nodes[c].get("label")
            if kind[c] != "terminal" and label is not None and str(label) != edge_names[c]:
                name_text[c] = str(label)
            parts = []
            if kind[node] == "chance":
                p = e["p"]
                if isinstance(p, str) and p.strip() == COMPLEMENT:
                    parts.append(
                        COMPLEMENT
                        if values is None
                        else f"{COMPLEMENT} = {_fmt(values.edge_probability(node, c))}"
                    )
                else:
                    parts.append(_quantity_text("", p, ct.edge_p[(node, c)], values))
            for key, store in (("cost", ct.edge_cost), ("effect", ct.edge_effect)):
                if e.get(key) is not None:
                    parts.append(_quantity_text(key, e[key], store.get((node, c)), values))
            if kind[c] != "terminal":
                for key, store in (("cost", ct.node_cost), ("effect", ct.node_effect)):
                    if G.nodes[c].get(key) is not None:
                        parts.append(_quantity_text(key, G.nodes[c][key], store.get(c), values))
            below[c] = "  ·  ".join(parts)

    # --- terminal texts (to the right of the triangle)
    term_text: dict[Any, str] = {}
    for t in terminals:
        d = G.nodes[t]
        lines = []
        label = d.get("label")
        if label is not None and (t == ct.root or str(label) != edge_names[t]):
            lines.append(str(label))
        payoff = [
            _quantity_text(key, d[key], store.get(t), values)
            for key, store in (("cost", ct.node_cost), ("effect", ct.node_effect))
            if d.get(key) is not None
        ]
        if payoff:
            lines.append("  ·  ".join(payoff))
        if d.get("markov") is not None:
            lines.append(_markov_text(d["markov"]))
        if values is not None:
            p, c, e = values.path(t)
            cost = f"cost {_fmt(c)}" + (f" {currency}" if currency else "")
            eff = f"effect {_fmt(e)}" + (f" {effect_unit}" if effect_unit else "")
            lines.append(f"⇒ P {_fmt(p)}  ·  {cost}  ·  {eff}")
        term_text[t] = "\n".join(lines)

    # --- geometry (inches)
    max_lines = max([1, *(len(s.split("\n")) for s in term_text.values())])
    row_h = max(2 * LINE + 2 * PAD + 0.12, max_lines * LINE + 0.16)
    max_depth = max(depth[t] for t in terminals)
    root_label = str(G.nodes[ct.root].get("label", ct.root))
    root_lines = [root_label]
    for key, store in (("cost", ct.node_cost), ("effect", ct.node_effect)):
        if G.nodes[ct.root].get(key) is not None:
            root_lines.append(
                _quantity_text(key, G.nodes[ct.root][key], store.get(ct.root), values)
            )
    root_text = "\n".join(root_lines)
    if kind[ct.root] == "terminal":
        root_text = ""
    col_w = [MIN_SEGMENT + FAN] * max(max_depth, 1)
    for node in ct.preorder:
        for c in ct.children[node]:
            seg = max(
                _text_width(above[c], bold=kind[node] == "decision")
                + (_text_width(name_text[c], italic=True) + 0.15 if c in name_text else 0.0),
                _text_width(below[c]),
            )
            d = depth[node]
            col_w[d] = max(col_w[d], FAN + PAD + seg + PAD + MARKER_IN)
    x0 = MARGIN + _text_width(root_text) + PAD + MARKER_IN
    col_x = [x0]
    for w in col_w:
        col_x.append(col_x[-1] + w)
    x_term = col_x[max_depth] if kind[ct.root] != "terminal" else x0
    term_w = max([0.0, *(_text_width(s) for s in term_text.values())])
    heading = _title(G) + (f"  ({note})" if note else "")
    legend_w = 3.0  # the legend's three entries, right of the heading
    width = max(
        x_term + MARKER_IN + PAD + term_w + MARGIN, MARGIN + _text_width(heading) + legend_w
    )
    height = HEADER + n_leaves * row_h + MARGIN

    def xy(node: Any) -> tuple[float, float]:
        x = x_term if kind[node] == "terminal" else col_x[depth[node]]
        return x, HEADER + (row[node] + 0.5) * row_h

    if ax is None:
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    else:
        fig = ax.figure
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()

    text_kw = {"fontsize": FONT_SIZE, "color": _TEXT_COLOUR, "parse_math": False}

    # --- branches
    segments, dim_segments = [], []
    for node in ct.preorder:
        xp, yp = xy(node)
        for c in ct.children[node]:
            xc, yc = xy(c)
            xs = xp + FAN
            path = [(xp, yp), (xs, yc), (xc, yc)]
            dim = node in protocol and edge_names[c] != protocol[node]
            (dim_segments if dim else segments).append(path)
            colour = _DIM if dim else _TEXT_COLOUR
            ax.text(
                xs + PAD,
                yc - PAD,
                above[c],
                ha="left",
                va="bottom",
                gid="edge-label",
                fontweight="bold" if kind[node] == "decision" else "normal",
                **{**text_kw, "color": colour},
            )
            if c in name_text:
                ax.text(
                    xc - MARKER_IN / 2 - PAD,
                    yc - PAD,
                    name_text[c],
                    ha="right",
                    va="bottom",
                    gid="node-name",
                    style="italic",
                    **{**text_kw, "color": colour},
                )
            if below[c]:
                ax.text(
                    xs + PAD,
                    yc + PAD,
                    below[c],
                    ha="left",
                    va="top",
                    gid="edge-probability" if kind[node] == "chance" else "edge-payoff",
                    **{**text_kw, "color": _DIM if dim else "#444444"},
                )
    ax.add_collection(LineCollection(segments, colors=_TEXT_COLOUR, linewidths=0.9, gid="branches"))
    if dim_segments:
        ax.add_collection(
            LineCollection(
                dim_segments, colors=_DIM, linewidths=0.9, linestyles="--", gid="branches-dimmed"
            )
        )

    # --- nodes (one Line2D per kind, drawn above the branches)
    for k in ("decision", "chance", "terminal"):
        nodes = [n for n in ct.preorder if kind[n] == k]
        if not nodes:
            continue
        pts = [xy(n) for n in nodes]
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

    # --- the root's name, terminal labels, title and legend
    if root_text:
        xr0, yr0 = xy(ct.root)
        ax.text(
            xr0 - MARKER_IN / 2 - PAD,
            yr0,
            root_text,
            ha="right",
            va="center",
            gid="root-label",
            fontweight="bold",
            **text_kw,
        )
    for t in terminals:
        if term_text[t]:
            xt, yt = xy(t)
            ax.text(
                xt + MARKER_IN / 2 + PAD,
                yt,
                term_text[t],
                ha="left",
                va="center",
                linespacing=1.15,
                gid="terminal-label",
                **text_kw,
            )
    ax.text(MARGIN, HEADER / 2, heading, ha="left", va="center", gid="title", **text_kw)
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
        for k in ("decision", "chance", "terminal")
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
    return fig
