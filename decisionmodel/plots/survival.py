"""Overall survival of each policy over time, read off :func:`decisionmodel.state_trace`."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from decisionmodel.exceptions import DecisionModelError
from decisionmodel.traces import survival

__all__ = ["plot_survival"]


def plot_survival(
    occupancy: xr.DataArray,
    *,
    dead: str = "dead",
    cycles_per_year: float = 12.0,
    band: float | None = 0.95,
    ax: Axes | None = None,
) -> Figure:
    """Overall survival of every policy: the mean curve and, from per-draw traces, a band.

    Parameters
    ----------
    occupancy : xarray.DataArray
        :func:`decisionmodel.state_trace`, averaged or per draw (``draws=True``; then the
        curve is the mean over draws and ``band`` the central interval of the draws).
    dead : str
        The death state.
    cycles_per_year : float
        Cycles in a year, for the time axis in years (the shipped trees cycle monthly).
    band : float or None
        Width of the central interval drawn around the mean (per-draw input only);
        ``None`` draws no band.
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new figure is made (not registered with pyplot).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure ``ax`` is in (the root figure when ``ax`` is in a
        subfigure).

    Raises
    ------
    DecisionModelError
        ``cycles_per_year`` not positive, ``band`` outside (0, 1), or no ``dead`` state.

    See Also
    --------
    draw_tree : The decision tree, drawn left to right.
    subgroup_heatmap : The decision over the subgroups.
    decisionmodel.state_trace : The occupancy drawn here.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> occ = xr.DataArray(
    ...     [[[1, 0, 0], [0.5, 0.5, 0]], [[0.9, 0, 0.1], [0.8, 0.1, 0.1]]],
    ...     dims=("strategy", "cycle", "state"),
    ...     coords={"strategy": ["surgery", "none"], "cycle": [0, 1],
    ...             "state": ["well", "dead", "no cohort"]})
    >>> fig = plot_survival(occ, cycles_per_year=1)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['surgery', 'none']
    >>> fig.axes[0].get_lines()[1].get_ydata().tolist()
    [0.9, 0.8]
    """
    if not cycles_per_year > 0:
        raise DecisionModelError(f"cycles_per_year must be > 0, got {cycles_per_year!r}")
    if band is not None and not 0 < band < 1:
        raise DecisionModelError(f"band must lie strictly between 0 and 1, got {band!r}")
    S = survival(occupancy, dead=dead)
    if ax is None:
        fig = Figure(figsize=(6.5, 4.0))
        ax = fig.subplots()
    else:
        root = ax.get_figure(root=True)  # the root figure also when ax is in a subfigure
        assert root is not None  # an Axes always belongs to a figure
        fig = root
    years = S["cycle"].values / cycles_per_year
    for name in S["strategy"].values:
        curve = S.sel(strategy=name)
        if "sample" in curve.dims:
            mean = curve.mean("sample").values
            if band is not None:
                lo, hi = np.quantile(curve.values, [(1 - band) / 2, (1 + band) / 2], axis=0)
                ax.fill_between(years, lo, hi, alpha=0.2, linewidth=0)
        else:
            mean = curve.values
        ax.plot(years, mean, label=str(name))
    ax.set_xlabel("years" if cycles_per_year != 1 else "cycles")
    ax.set_ylabel("overall survival")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
