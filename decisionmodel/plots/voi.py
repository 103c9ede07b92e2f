"""The value-of-information figures: the EVPPI ranking of the parameters.

The numbers come from :mod:`decisionmodel.voi`; this module only draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from decisionmodel.exceptions import VOIInputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_evppi_rank"]


def plot_evppi_rank(
    table: pd.DataFrame, ax: Axes | None = None, *, max_bars: int | None = None
) -> Figure:
    """Horizontal bar chart of an :func:`evppi_rank` table (largest at the top, SE bars).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`evppi_rank` (columns ``parameter``, ``evppi``, optionally ``se`` and
        ``share``).
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new :class:`~matplotlib.figure.Figure` is created (not
        registered with pyplot, so nothing to close).
    max_bars : int, optional
        Show only the largest ``max_bars`` parameters.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure ``ax`` is in (the root figure when ``ax`` is in a
        subfigure).

    Raises
    ------
    VOIInputError
        ``table`` lacks the columns ``parameter`` and ``evppi``.

    See Also
    --------
    decisionmodel.voi.evppi_rank : The table.
    decisionmodel.plots.draw_tree : The decision tree, drawn left to right.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"parameter": ["a", "b"], "evppi": [40.0, 2.0], "se": [1.0, 0.5],
    ...                   "share": [0.8, 0.04]})
    >>> fig = plot_evppi_rank(t)
    >>> [lab.get_text() for lab in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    if not {"parameter", "evppi"} <= set(table.columns):
        raise VOIInputError("table must have columns 'parameter' and 'evppi' (from evppi_rank)")
    t = table.sort_values("evppi", ascending=False, kind="stable")
    if max_bars is not None:
        t = t.head(int(max_bars))
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.0, 0.8 + 0.32 * max(len(t), 1)), dpi=100)
        ax = fig.add_subplot(1, 1, 1)
    else:
        # the root figure, also when ax is in a subfigure (which has no tight_layout)
        root = ax.get_figure(root=True)
        assert root is not None  # an Axes always belongs to a figure
        fig = root
    y = np.arange(len(t))[::-1]
    err = t["se"].to_numpy(dtype=float) if "se" in t else None
    if err is not None and not np.isfinite(err).any():
        err = None
    ax.barh(
        y, t["evppi"].to_numpy(dtype=float), xerr=err, color="#4c72b0", ecolor="#222222", capsize=2
    )
    ax.set_yticks(y)
    ax.set_yticklabels([str(p) for p in t["parameter"]])
    ax.set_xlabel("EVPPI (per person)")
    ax.set_xlim(left=0)
    if "share" in t:
        hi = (
            float(np.nanmax(t["evppi"].to_numpy(dtype=float) + (err if err is not None else 0.0)))
            if len(t)
            else 0.0
        )
        for yi, (v, s) in zip(y, zip(t["evppi"], t["share"], strict=True), strict=True):
            if np.isfinite(s):
                ax.text(v + 0.01 * max(hi, 1e-12), yi, f" {100 * s:.0f}%", va="center", fontsize=8)
    evpi_value = table.attrs.get("evpi")
    if evpi_value is not None:
        ax.set_title(f"EVPPI by parameter (EVPI {evpi_value:,.4g})", fontsize=10)
    else:
        ax.set_title("EVPPI by parameter", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if ax.get_figure(root=False) is fig and fig.axes == [ax]:
        fig.tight_layout()
    return fig
