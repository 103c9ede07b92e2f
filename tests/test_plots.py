"""Tests of decisionmodel.plots.draw_tree and the ``decisionmodel draw`` command."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from decisionmodel.cli import main
from decisionmodel.exceptions import DecisionModelError
from decisionmodel.params import mean_parameters, sample_parameters
from decisionmodel.plots import draw_tree, plot_survival
from decisionmodel.traces import state_trace, survival
from decisionmodel.tree.compile import compile_tree
from decisionmodel.tree.evaluate import evaluate
from decisionmodel.tree.io import load_tree, tree_from_dict

# p_relief has mean 558 / 1000 = 0.558 exactly; c_drug has mean 16 / 0.5 = 32.
TREE_YAML = """\
name: migraine
currency: EUR
effect_unit: QALY
parameters:
  p_relief: {distribution: beta, alpha: 558, beta: 442, source: test}
  p_recur: {value: 0.25}
  c_drug: {distribution: gamma, shape: 16, rate: 0.5}
  u_relief: {value: 1}
  u_none: {value: 0.2}
markov:
  tail:
    states: [well, dead]
    cycles: 2
    cycle_length: 1
    correction: none
    transitions:
      well: {dead: 0.5, well: "#"}
      dead: {dead: 1}
    state_effect: {well: 1}
tree:
  kind: decision
  name: Treatment
  branches:
    - action: Sumatriptan
      kind: chance
      cost: c_drug
      branches:
        - label: relief
          p: p_relief
          kind: chance
          branches:
            - {label: no recurrence, p: "#", kind: terminal, effect: u_relief}
            - {label: recurrence, p: p_recur, kind: terminal, effect: u_none, cost: 10}
        - label: no relief
          p: "#"
          kind: terminal
          markov: {model: tail, start: {well: 1}}
    - action: Caffeine
      kind: terminal
      edge_cost: 5
      effect: u_none
"""

ACTIONS = ["Sumatriptan", "Caffeine"]
LABELS = ["relief", "no relief", "no recurrence", "recurrence"]


@pytest.fixture
def tree_file(tmp_path: Path) -> Path:
    path = tmp_path / "migraine.yaml"
    path.write_text(TREE_YAML, encoding="utf-8")
    return path


@pytest.fixture
def tree(tree_file: Path) -> nx.DiGraph:
    return load_tree(tree_file, check_draws=0)


def _texts(fig: Figure, gid: str | None = None) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts if gid is None or t.get_gid() == gid]


def _marker_count(fig: Figure, kind: str) -> int:
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == f"{kind}-nodes"]
    return sum(len(ln.get_xdata()) for ln in lines)


def test_returns_a_figure_with_one_marker_per_node(tree: nx.DiGraph) -> None:
    fig = draw_tree(tree)
    assert isinstance(fig, Figure)
    kinds = nx.get_node_attributes(tree, "kind")
    for kind in ("decision", "chance", "terminal"):
        assert _marker_count(fig, kind) == sum(k == kind for k in kinds.values())
    markers = {ln.get_gid(): ln.get_marker() for ln in fig.axes[0].get_lines()}
    assert markers == {"decision-nodes": "s", "chance-nodes": "o", "terminal-nodes": "<"}


def test_every_edge_is_labelled(tree: nx.DiGraph) -> None:
    fig = draw_tree(tree)
    labels = _texts(fig, "edge-label")
    assert len(labels) == tree.number_of_edges()
    assert sorted(labels) == sorted(ACTIONS + LABELS)
    # one probability text per chance edge, showing the expression as written
    probs = _texts(fig, "edge-probability")
    assert len(probs) == sum(1 for u, _ in tree.edges if tree.nodes[u]["kind"] == "chance")
    for expr in ("p_relief", "p_recur", "#"):
        assert any(p.split(" = ")[0] == expr for p in probs), (expr, probs)


def test_show_values_prints_mean_values(tree: nx.DiGraph) -> None:
    texts = _texts(draw_tree(tree))
    assert "p_relief = 0.558" in texts
    assert "# = 0.442" in texts  # the complement, computed
    assert "# = 0.75" in texts
    assert "p_recur = 0.25" in texts
    # the node payoff incurred on the way shows next to its branch
    assert any("cost: c_drug = 32" in t for t in texts)
    # an edge payoff written as a number is not repeated as a value
    assert any(t == "cost: 5" for t in texts)


def test_terminal_labels_show_payoffs_markov_and_path_values(tree: nx.DiGraph) -> None:
    fig = draw_tree(tree)
    terms = _texts(fig, "terminal-label")
    assert len(terms) == sum(1 for _, k in tree.nodes(data="kind") if k == "terminal")
    (markov,) = [t for t in terms if "→ markov: tail" in t]
    out = evaluate(tree, mean_parameters(tree), paths=True)
    effect = float(out["path_effect"].sel(path="Treatment/Sumatriptan/no relief")[0])
    assert effect == pytest.approx(0.5 + 0.25)  # the Markov tail: half survive each cycle
    assert "effect 0.75 QALY" in markov
    assert "cost 32 EUR" in markov
    assert "P 0.442" in markov
    (recurrence,) = [t for t in terms if "cost: 10" in t]
    assert "effect: u_none = 0.2" in recurrence
    assert "cost 42 EUR" in recurrence  # c_drug + 10 along the path


def test_show_values_false_prints_expressions_only(tree: nx.DiGraph) -> None:
    texts = _texts(draw_tree(tree, show_values=False))
    assert "p_relief" in texts and "#" in texts
    assert not any("0.558" in t or "⇒" in t for t in texts)
    assert any("→ markov: tail" in t for t in texts)


def test_values_are_means_over_given_draws(tree: nx.DiGraph) -> None:
    params = {
        "p_relief": np.array([0.5, 0.7]),
        "p_recur": np.array([0.2, 0.4]),
        "c_drug": np.array([10.0, 20.0]),
        "u_relief": 1.0,
        "u_none": 0.2,
    }
    texts = _texts(draw_tree(tree, params))
    assert "p_relief = 0.6" in texts
    assert "# = 0.4" in texts
    assert "p_recur = 0.3" in texts
    assert any("means over 2 draws" in t for t in texts)


def test_undeclared_parameters_draw_without_values() -> None:
    G = tree_from_dict(
        {
            "tree": {
                "kind": "chance",
                "name": "c",
                "branches": [
                    {"label": "a", "p": "q", "kind": "terminal"},
                    {"label": "b", "p": "#", "kind": "terminal"},
                ],
            }
        }
    )
    texts = _texts(draw_tree(G))
    assert "q" in texts and "#" in texts


def test_draws_into_given_axes_without_pyplot_leaks(tree: nx.DiGraph) -> None:
    before = plt.get_fignums()
    fig = draw_tree(tree)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing to close
    del fig
    fig, ax = plt.subplots(figsize=(8, 4))
    try:
        assert draw_tree(tree, ax=ax) is fig
        assert len(ax.texts) > 0
    finally:
        plt.close(fig)


def test_axes_in_a_subfigure_return_the_root_figure(tree: nx.DiGraph, tmp_path: Path) -> None:
    """The figure returned for an ``ax`` in a subfigure is the root figure, which can be
    saved (a SubFigure has no savefig)."""
    fig = Figure(figsize=(16, 6))
    left, right = fig.subfigures(1, 2)
    ax = left.add_subplot()
    assert draw_tree(tree, ax=ax) is fig
    assert len(ax.texts) > 0
    occ = xr.DataArray(
        [[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]],
        dims=("strategy", "cycle", "state"),
        coords={"strategy": ["a"], "cycle": [0, 1], "state": ["well", "dead", "no cohort"]},
    )
    assert plot_survival(occ, cycles_per_year=1, ax=right.add_subplot()) is fig
    fig.savefig(tmp_path / "both.png")


def test_dollar_signs_are_not_mathtext(tmp_path: Path) -> None:
    G = tree_from_dict(
        {
            "tree": {
                "kind": "decision",
                "name": "spend $\\frac",
                "branches": [
                    {"action": "pay $5 or $10", "kind": "terminal", "cost": 5},
                    {"action": "b", "kind": "terminal"},
                ],
            }
        }
    )
    fig = draw_tree(G)
    fig.savefig(tmp_path / "x.png")  # mathtext would fail to parse "$\frac"
    assert "pay $5 or $10" in _texts(fig)


def _chain_tree(n_leaves: int) -> nx.DiGraph:
    """A binary tree of chance nodes with long-ish labels and n_leaves terminals."""
    depth = int(np.log2(n_leaves))

    def node(prefix: str, d: int) -> dict:
        if d == 0:
            return {"kind": "terminal", "effect": f"u_{prefix}", "cost": 1234}
        return {
            "kind": "chance",
            "branches": [
                {"label": f"{prefix}: better outcome", "p": "p_a", **node(prefix + "g", d - 1)},
                {"label": f"{prefix}: worse", "p": "#", **node(prefix + "b", d - 1)},
            ],
        }

    leaves = ["".join(p) for p in itertools.product("gb", repeat=depth - 1)]
    params = {"p_a": {"distribution": "beta", "alpha": 2, "beta": 3}}
    for s in "AB":
        params.update({f"u_{s}{leaf}": {"value": 0.5} for leaf in leaves})
    return tree_from_dict(
        {
            "parameters": params,
            "tree": {
                "kind": "decision",
                "name": "root",
                "branches": [
                    {"action": "A with a long action name", **node("A", depth - 1)},
                    {"action": "B", **node("B", depth - 1)},
                ],
            },
        }
    )


def test_size_grows_with_leaves_and_labels_do_not_overlap() -> None:
    small = draw_tree(_chain_tree(4))
    big = draw_tree(_chain_tree(32))
    assert big.get_size_inches()[1] > 4 * small.get_size_inches()[1]
    renderer = FigureCanvasAgg(big).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in big.axes[0].texts if t.get_text()]
    assert len(boxes) > 3 * 32
    fig_box = big.bbox
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for a in boxes:  # every label inside the figure
        assert fig_box.x0 <= a.x0 and a.x1 <= fig_box.x1 and fig_box.y0 <= a.y0
        assert a.y1 <= fig_box.y1


def test_cli_draw_writes_png(tree_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "sub" / "tree.png"
    assert main(["draw", str(tree_file), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert "wrote" in capsys.readouterr().out


def test_cli_draw_bad_suffix(tree_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tree.txt"
    assert main(["draw", str(tree_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("decisionmodel: error:")
    assert "tree.txt" in err
    assert not out.exists()


# ----------------------------------------------------------------------------- survival


def test_plot_survival_draws_the_mean_of_the_draws_and_their_band():
    G = tree_from_dict(
        {
            "parameters": {"q": {"distribution": "beta", "alpha": 2, "beta": 8}},
            "markov": {
                "m": {
                    "states": ["well", "dead"],
                    "cycles": 24,
                    "correction": "none",
                    "transitions": {"well": {"dead": "q", "well": "#"}, "dead": {"dead": 1}},
                }
            },
            "tree": {
                "kind": "decision",
                "name": "d",
                "branches": [
                    {"action": "a", "kind": "terminal", "markov": {"model": "m"}},
                    {
                        "action": "b",
                        "kind": "terminal",
                        "markov": {"model": "m", "with": {"q": 0.05}},
                    },
                ],
            },
        }
    )
    ct = compile_tree(G)
    occ = state_trace(ct, sample_parameters(G, 200, np.random.default_rng(1)), draws=True)
    fig = plot_survival(occ)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    S = survival(occ)
    np.testing.assert_allclose(lines["a"].get_ydata(), S.sel(strategy="a").mean("sample"))
    np.testing.assert_allclose(lines["b"].get_ydata(), 0.95 ** np.arange(25))  # no spread
    np.testing.assert_allclose(lines["a"].get_xdata(), np.arange(25) / 12)
    assert len(ax.collections) == 2  # one band per policy
    with pytest.raises(DecisionModelError, match="band"):
        plot_survival(occ, band=1.5)
