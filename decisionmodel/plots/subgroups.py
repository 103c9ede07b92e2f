"""The subgroup heatmap: the decision over Fong score x molecular group x M1 category."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from decisionmodel.exceptions import DecisionModelError
from decisionmodel.subgroups import short_label

__all__ = ["subgroup_heatmap"]


def subgroup_heatmap(table: pd.DataFrame, wtp: float | None = None) -> Figure:
    """Heatmap of a :func:`decisionmodel.subgroups.subgroup_table`: incremental QALYs of curative surgery.

    Rows are molecular group x M1 category, columns the Fong score; each cell is coloured
    by the incremental QALYs of the best curative policy over the reference and shows the
    recommended policy (initials) and the probability that a curative policy is the most
    cost-effective. One WTP (default: the first in the table).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`decisionmodel.subgroups.subgroup_table`: one row per subgroup and WTP,
        with the columns ``fong``, ``molecular``, ``m1``, ``wtp``, ``inc_effect``,
        ``p_curative`` and ``recommended``.
    wtp : float, optional
        The willingness to pay to show. Default: the first in the table.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, not registered with :mod:`matplotlib.pyplot`.

    Raises
    ------
    DecisionModelError
        The table has no rows at ``wtp``.

    See Also
    --------
    draw_tree : The decision tree, drawn left to right.
    plot_survival : Overall survival of each policy.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"fong": [0, 1], "molecular": ["RAS mutant"] * 2, "m1": ["M1a"] * 2,
    ...                   "wtp": [1e5] * 2, "inc_effect": [1.2, 0.9], "p_curative": [0.9, 0.7],
    ...                   "recommended": ["Surgery", "Surgery"]})
    >>> fig = subgroup_heatmap(t)
    >>> fig.axes[0].get_title()
    'Curative surgery vs reference: incremental QALYs (WTP 100,000)'
    """
    lam = float(table["wtp"].iloc[0]) if wtp is None else float(wtp)
    t = table[table["wtp"] == lam]
    if t.empty:
        raise DecisionModelError(f"subgroup table has no rows at WTP {lam:g}")
    rows = list(dict.fromkeys(zip(t["molecular"], t["m1"], strict=True)))
    cols = sorted(t["fong"].unique())
    grid = np.full((len(rows), len(cols)), np.nan)
    text: dict[tuple[int, int], str] = {}
    for _, r in t.iterrows():
        i = rows.index((r["molecular"], r["m1"]))
        j = cols.index(r["fong"])
        grid[i, j] = r["inc_effect"]
        text[(i, j)] = f"{short_label(str(r['recommended']))}\n{r['p_curative']:.2f}"
    fig = Figure(figsize=(1.3 * len(cols) + 3.5, 0.7 * len(rows) + 1.8))
    ax = fig.subplots()
    im = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols])
    ax.set_yticks(range(len(rows)), [f"{m}, {c}" for m, c in rows])
    ax.set_xlabel("Fong clinical risk score")
    ax.set_title(f"Curative surgery vs reference: incremental QALYs (WTP {lam:,.0f})")
    finite = grid[np.isfinite(grid)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    for (i, j), s in text.items():
        ax.text(
            j,
            i,
            s,
            ha="center",
            va="center",
            fontsize=7,
            color="white" if grid[i, j] < mid else "black",
        )
    fig.colorbar(im, ax=ax, label="incremental QALYs")
    names = sorted(set(t["recommended"].astype(str)))
    key = "; ".join(f"{short_label(n)} = {n}" for n in names)
    fig.text(
        0.01,
        0.01,
        f"cell: recommended policy / P(a curative policy is most cost-effective)\n{key}",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
