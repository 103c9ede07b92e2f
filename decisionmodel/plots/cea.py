"""The cost-effectiveness and value-of-information figures over an outcomes Dataset.

Each figure has a data twin that returns exactly the numbers it draws:

- :func:`ce_plane_data` / :func:`plot_ce_plane`: the cost-effectiveness plane, the
  incremental cost and effect of every draw against a reference strategy;
- :func:`ceac_data` / :func:`plot_ceac`: the cost-effectiveness acceptability curves and
  frontier (:func:`decisionmodel.cea.ceac`, :func:`decisionmodel.cea.ceaf`);
- :func:`expected_loss_data` / :func:`plot_expected_loss`: the expected opportunity loss of
  each strategy (:func:`decisionmodel.cea.expected_loss`), whose lower envelope is the EVPI;
- :func:`evpi_curve_data` / :func:`plot_evpi_curve`: the EVPI over the willingness to pay
  with a ±2 standard error band (:func:`decisionmodel.voi.evpi`).

``outcomes`` is the :class:`xarray.Dataset` :func:`decisionmodel.evaluate` returns: ``cost``
and ``effect`` over ``(strategy, sample)``. A WTP grid is sorted ascending (the curves are
drawn from left to right); its values must be finite, non-negative and all different. Bad
input raises :class:`~decisionmodel.exceptions.CEAInputError` (or, for a population,
:class:`~decisionmodel.exceptions.VOIInputError`) naming the argument.

The numbers come from :mod:`decisionmodel.cea` and :mod:`decisionmodel.voi`; this module
only arranges and draws them. Strategy ``i`` of the outcomes is drawn in colour ``C{i}`` in
every figure. Figures are :class:`matplotlib.figure.Figure` objects not registered with
:mod:`matplotlib.pyplot` (nothing to close); with ``ax=`` the figure ``ax`` belongs to is
returned (the root figure when ``ax`` is in a subfigure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from decisionmodel.cea import ceac, ceaf, expected_loss, recommended
from decisionmodel.exceptions import CEAInputError, VOIInputError
from decisionmodel.netbenefit import check_wtp
from decisionmodel.voi import evpi, population_multiplier

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ce_plane_data",
    "ceac_data",
    "evpi_curve_data",
    "expected_loss_data",
    "plot_ce_plane",
    "plot_ceac",
    "plot_evpi_curve",
    "plot_expected_loss",
]

#: Default largest number of draws per strategy shown on the cost-effectiveness plane.
MAX_POINTS = 1000

Population = float | Mapping[str, Any]


# ---------------------------------------------------------------------------------------
# validation and shared pieces
# ---------------------------------------------------------------------------------------


def _outcomes(outcomes: Any) -> xr.Dataset:
    """``cost`` and ``effect`` as float over ``(strategy, sample)``, strategy names as str."""
    if not isinstance(outcomes, xr.Dataset):
        raise CEAInputError(
            f"outcomes: expected an xarray.Dataset with 'cost' and 'effect' over "
            f"(strategy, sample), not {type(outcomes).__name__}"
        )
    for name in ("cost", "effect"):
        if name not in outcomes.data_vars:
            raise CEAInputError(f"outcomes: no data variable {name!r}")
        if set(outcomes[name].dims) != {"strategy", "sample"}:
            raise CEAInputError(
                f"outcomes: {name!r} has dims {outcomes[name].dims}, expected "
                "('strategy', 'sample')"
            )
    ds = xr.Dataset(
        {
            "cost": outcomes["cost"].transpose("strategy", "sample").astype(float),
            "effect": outcomes["effect"].transpose("strategy", "sample").astype(float),
        }
    )
    if ds.sizes["strategy"] == 0 or ds.sizes["sample"] == 0:
        raise CEAInputError("outcomes: no strategies or no draws")
    names = (
        [str(s) for s in ds["strategy"].values]
        if "strategy" in ds.coords
        else [str(i) for i in range(ds.sizes["strategy"])]
    )
    if len(set(names)) != len(names):
        raise CEAInputError(f"outcomes: strategy names are not unique: {names}")
    for name in ("cost", "effect"):
        if not np.isfinite(ds[name].values).all():
            raise CEAInputError(f"outcomes: {name!r} has non-finite values")
    ds = ds.assign_coords(strategy=names)
    ds.attrs = {k: outcomes.attrs[k] for k in ("currency", "effect_unit") if k in outcomes.attrs}
    return ds


def _grid(wtp: Any, name: str) -> np.ndarray:
    """A WTP value or grid, checked and sorted ascending; errors name the argument."""
    try:
        return np.sort(check_wtp(wtp, error=CEAInputError))
    except CEAInputError as exc:
        raise CEAInputError(f"{name}: {exc}") from None


def _new_or_root(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=100)
        return fig, fig.add_subplot(1, 1, 1)
    root = ax.get_figure(root=True)  # the root figure also when ax is in a subfigure
    assert root is not None  # an Axes always belongs to a figure
    return root, ax


def _finish(fig: Figure, ax: Axes) -> None:
    # tight_layout only on a figure this module made (or one holding nothing but ax)
    if ax.get_figure(root=False) is fig and fig.axes == [ax]:
        fig.tight_layout()


def _units(ds: xr.Dataset) -> tuple[str, str]:
    currency = ds.attrs.get("currency")
    effect_unit = ds.attrs.get("effect_unit")
    return (f" ({currency})" if currency else "", f" ({effect_unit})" if effect_unit else "")


def _colour(names: Sequence[str], name: str) -> str:
    return f"C{list(names).index(name) % 10}"


# ---------------------------------------------------------------------------------------
# the cost-effectiveness plane
# ---------------------------------------------------------------------------------------


def ce_plane_data(outcomes: xr.Dataset, *, reference: str | None = None) -> xr.Dataset:
    """Incremental cost and effect of every draw against a reference strategy.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``, as
        :func:`decisionmodel.evaluate` returns; at least two strategies.
    reference : str, optional
        The strategy the others are compared with; by default the one with the lowest
        expected cost (the first of them on a tie).

    Returns
    -------
    xarray.Dataset
        Over the other strategies (in the outcomes' order) and ``sample``: ``inc_cost`` and
        ``inc_effect``, ``cost - cost[reference]`` and ``effect - effect[reference]`` per
        draw; over ``strategy``: ``mean_inc_cost`` and ``mean_inc_effect``, their means
        over all draws. ``attrs["reference"]`` names the reference; the outcomes'
        ``currency`` and ``effect_unit`` attributes are kept.

    Raises
    ------
    CEAInputError
        Malformed outcomes, fewer than two strategies, or ``reference`` not one of them.

    See Also
    --------
    plot_ce_plane : The figure of these numbers.
    decisionmodel.cea.icer_table : The ICERs of the expected values.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[10.0, 30.0], [0.0, 0.0]]),
    ...      "effect": (("strategy", "sample"), [[1.0, 2.0], [0.5, 0.5]])},
    ...     coords={"strategy": ["surgery", "none"]})
    >>> d = ce_plane_data(out)
    >>> d.attrs["reference"], d["inc_cost"].values.tolist(), d["inc_effect"].values.tolist()
    ('none', [[10.0, 30.0]], [[0.5, 1.5]])
    >>> float(d["mean_inc_cost"].sel(strategy="surgery"))
    20.0
    """
    ds = _outcomes(outcomes)
    names = [str(s) for s in ds["strategy"].values]
    if len(names) < 2:
        raise CEAInputError("outcomes: the cost-effectiveness plane needs two strategies")
    if reference is None:
        reference = names[int(np.argmin(ds["cost"].values.mean(axis=1)))]
    elif str(reference) not in names:
        raise CEAInputError(f"reference: unknown strategy {reference!r}; strategies: {names}")
    reference = str(reference)
    others = [s for s in names if s != reference]
    inc = ds.sel(strategy=others) - ds.sel(strategy=reference)
    out = xr.Dataset(
        {
            "inc_cost": inc["cost"],
            "inc_effect": inc["effect"],
            "mean_inc_cost": inc["cost"].mean("sample"),
            "mean_inc_effect": inc["effect"].mean("sample"),
        }
    )
    out.attrs = dict(ds.attrs, reference=reference)
    return out


def plot_ce_plane(
    outcomes: xr.Dataset,
    wtp: float | Sequence[float] | None = None,
    *,
    reference: str | None = None,
    ax: Axes | None = None,
    max_points: int | None = MAX_POINTS,
) -> Figure:
    """The cost-effectiveness plane: a cloud of draws per strategy, its mean marked.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``; at least two strategies.
    wtp : float or sequence of float, optional
        Draw the line ``cost = wtp * effect`` for each value (strategies below it are
        cost-effective against the reference at that WTP).
    reference : str, optional
        See :func:`ce_plane_data`.
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new figure is created.
    max_points : int or None, default 1000
        Show the first ``max_points`` draws of each strategy (all with ``None``); the
        means are over all draws.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the root figure ``ax`` is in. ``ax.collections`` holds the clouds
        of the non-reference strategies in the outcomes' order (x incremental effect,
        y incremental cost), then their means in the same order; ``ax.lines`` the WTP lines
        in ascending order of WTP, then the two zero axes.

    Raises
    ------
    CEAInputError
        Bad outcomes or ``reference`` (see :func:`ce_plane_data`), a negative or
        non-finite ``wtp``, or ``max_points`` not a positive whole number.

    See Also
    --------
    ce_plane_data : The numbers drawn.
    plot_ceac : The probability that each strategy is cost-effective.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[10.0, 30.0], [0.0, 0.0]]),
    ...      "effect": (("strategy", "sample"), [[1.0, 2.0], [0.5, 0.5]])},
    ...     coords={"strategy": ["surgery", "none"]})
    >>> fig = plot_ce_plane(out, wtp=15)
    >>> ax = fig.axes[0]
    >>> ax.collections[0].get_offsets().tolist(), ax.collections[1].get_offsets().tolist()
    ([[0.5, 10.0], [1.5, 30.0]], [[1.0, 20.0]])
    >>> x, y = ax.lines[0].get_data()
    >>> float((y[1] - y[0]) / (x[1] - x[0]))
    15.0
    """
    data = ce_plane_data(outcomes, reference=reference)
    lines = _grid(wtp, "wtp") if wtp is not None else np.empty(0)
    if max_points is not None and (
        isinstance(max_points, bool)
        or not isinstance(max_points, (int, np.integer))
        or max_points < 1
    ):
        raise CEAInputError(f"max_points: expected a positive whole number, got {max_points!r}")
    fig, ax = _new_or_root(ax, (6.5, 4.5))
    names = [str(s) for s in outcomes["strategy"].values]
    others = [str(s) for s in data["strategy"].values]
    shown = slice(None) if max_points is None else slice(0, int(max_points))
    xs, ys = [], []
    for s in others:
        x = data["inc_effect"].sel(strategy=s).values[shown]
        y = data["inc_cost"].sel(strategy=s).values[shown]
        ax.scatter(x, y, s=6, alpha=0.35, color=_colour(names, s), linewidths=0, label=s)
        xs.append(x)
        ys.append(y)
    for s in others:
        ax.scatter(
            [float(data["mean_inc_effect"].sel(strategy=s))],
            [float(data["mean_inc_cost"].sel(strategy=s))],
            s=60,
            marker="D",
            color=_colour(names, s),
            edgecolors="black",
            zorder=3,
        )
    # the window: every point shown and the origin, with a margin
    x_all = np.concatenate([*xs, [0.0]])
    y_all = np.concatenate([*ys, [0.0]])
    x_lo, x_hi = float(x_all.min()), float(x_all.max())
    y_lo, y_hi = float(y_all.min()), float(y_all.max())
    x_pad = 0.05 * (x_hi - x_lo) or 1.0
    y_pad = 0.05 * (y_hi - y_lo) or 1.0
    ax.set_xlim(x_lo - x_pad, x_hi + x_pad)
    ax.set_ylim(y_lo - y_pad, y_hi + y_pad)
    x_ends = np.asarray(ax.get_xlim(), dtype=float)
    for w in lines:
        ax.plot(
            x_ends,
            w * x_ends,
            color="#222222",
            linestyle="--",
            linewidth=1,
            label=f"WTP {w:,.6g}",
            scalex=False,
            scaley=False,
        )
    ax.axhline(0.0, color="#888888", linewidth=0.6, zorder=0)
    ax.axvline(0.0, color="#888888", linewidth=0.6, zorder=0)
    money, health = _units(data)
    ax.set_xlabel(f"incremental effect{health}")
    ax.set_ylabel(f"incremental cost{money}")
    ax.set_title(f"Cost-effectiveness plane (vs {data.attrs['reference']})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, markerscale=2)
    _finish(fig, ax)
    return fig


# ---------------------------------------------------------------------------------------
# acceptability curves and frontier
# ---------------------------------------------------------------------------------------


def ceac_data(outcomes: xr.Dataset, wtp_grid: float | Sequence[float]) -> xr.Dataset:
    """The acceptability curves and frontier, and where the optimal strategy switches.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (sorted ascending here).

    Returns
    -------
    xarray.Dataset
        Over ``wtp``: ``p_ce`` (wtp, strategy), the probability that each strategy has the
        highest net monetary benefit (:func:`decisionmodel.cea.ceac`, ties shared);
        ``optimal`` (wtp), the strategy with the highest expected NMB, and ``frontier``
        (wtp), its ``p_ce`` (:func:`decisionmodel.cea.ceaf`). Over ``switch``, one entry per
        change of the optimal strategy between neighbouring grid values: ``switch_wtp``,
        the WTP at which the expected NMB of the two strategies is equal (their ICER),
        ``switch_from`` and ``switch_to``.

    Raises
    ------
    CEAInputError
        Malformed outcomes, or a ``wtp_grid`` that is empty, negative, non-finite or has
        a repeated value.

    See Also
    --------
    plot_ceac : The figure of these numbers.
    decisionmodel.cea.ceac, decisionmodel.cea.ceaf : The curves and the frontier.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0, 0.0], [-1.0, -1.0, 5.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> d = ceac_data(out, [30, 5])
    >>> d["wtp"].values.tolist(), d["optimal"].values.tolist()
    ([5.0, 30.0], ['A', 'B'])
    >>> d["frontier"].values.round(4).tolist()
    [0.6667, 0.3333]
    >>> float(d["switch_wtp"][0]), str(d["switch_to"][0].values)
    (10.0, 'B')
    """
    ds = _outcomes(outcomes)
    w = _grid(wtp_grid, "wtp_grid")
    p = ceac(ds, w)
    frontier = ceaf(ds, w)
    optimal = np.asarray(frontier["strategy"].tolist(), dtype=object)
    mean_cost = ds["cost"].mean("sample")
    mean_effect = ds["effect"].mean("sample")
    at, before, after = [], [], []
    for i in np.flatnonzero(optimal[1:] != optimal[:-1]):
        a, b = str(optimal[i]), str(optimal[i + 1])
        d_cost = float(mean_cost.sel(strategy=b) - mean_cost.sel(strategy=a))
        d_effect = float(mean_effect.sel(strategy=b) - mean_effect.sel(strategy=a))
        at.append(d_cost / d_effect)  # d_effect > 0: b overtakes a as the WTP grows
        before.append(a)
        after.append(b)
    out = xr.Dataset(
        {
            "p_ce": p,
            "optimal": ("wtp", optimal),
            "frontier": ("wtp", frontier["p_cost_effective"].to_numpy(dtype=float)),
            "switch_wtp": ("switch", np.asarray(at, dtype=float)),
            "switch_from": ("switch", np.asarray(before, dtype=object)),
            "switch_to": ("switch", np.asarray(after, dtype=object)),
        },
        coords={"wtp": w},
    )
    out.attrs = dict(ds.attrs)
    return out


def plot_ceac(
    outcomes: xr.Dataset,
    wtp_grid: float | Sequence[float],
    *,
    frontier: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """The cost-effectiveness acceptability curves, with the frontier (CEAF).

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (the x axis, sorted ascending).
    frontier : bool, default True
        Also draw the CEAF, the probability that the strategy with the highest expected
        NMB is cost-effective, and a dotted vertical line where that strategy changes.
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the root figure ``ax`` is in. ``ax.lines`` holds one CEAC per
        strategy in the outcomes' order, then (with ``frontier``) the CEAF and one vertical
        line per switch of :func:`ceac_data`.

    Raises
    ------
    CEAInputError
        See :func:`ceac_data`.

    See Also
    --------
    ceac_data : The numbers drawn.
    plot_expected_loss : What choosing each strategy is expected to lose.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0, 0.0], [-1.0, -1.0, 5.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> lines = plot_ceac(out, [5, 30]).axes[0].lines
    >>> [line.get_label() for line in lines[:3]]
    ['A', 'B', 'CEAF']
    >>> lines[2].get_ydata().round(4).tolist(), lines[3].get_xdata()[0]
    ([0.6667, 0.3333], 10.0)
    """
    data = ceac_data(outcomes, wtp_grid)
    fig, ax = _new_or_root(ax, (6.5, 4.0))
    names = [str(s) for s in data["strategy"].values]
    w = data["wtp"].values
    for s in names:
        ax.plot(w, data["p_ce"].sel(strategy=s).values, color=_colour(names, s), label=s)
    if frontier:
        ax.plot(
            w,
            data["frontier"].values,
            color="black",
            linewidth=4,
            alpha=0.3,
            label="CEAF",
            zorder=1,
        )
        for i, x in enumerate(data["switch_wtp"].values):
            ax.axvline(
                float(x),
                color="#555555",
                linestyle=":",
                linewidth=1,
                label="optimal strategy switches" if i == 0 else "_switch",
            )
    money, health = _units(data)
    ax.set_xlabel(f"willingness to pay{money} per unit of effect{health}")
    ax.set_ylabel("probability cost-effective")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Cost-effectiveness acceptability", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _finish(fig, ax)
    return fig


# ---------------------------------------------------------------------------------------
# expected loss
# ---------------------------------------------------------------------------------------


def expected_loss_data(outcomes: xr.Dataset, wtp_grid: float | Sequence[float]) -> xr.Dataset:
    """The expected opportunity loss of each strategy and its lower envelope, the EVPI.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (sorted ascending here).

    Returns
    -------
    xarray.Dataset
        Over ``wtp``: ``expected_loss`` (wtp, strategy), ``E[max_d NMB_d - NMB_s]``
        (:func:`decisionmodel.cea.expected_loss`); ``evpi`` (wtp), its minimum over the
        strategies, which is the EVPI per person; ``optimal`` (wtp), the strategy with the
        highest expected NMB (:func:`decisionmodel.cea.recommended`), which reaches it.

    Raises
    ------
    CEAInputError
        See :func:`ceac_data`.

    See Also
    --------
    plot_expected_loss : The figure of these numbers.
    evpi_curve_data : The EVPI with its Monte Carlo standard error.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 1.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> d = expected_loss_data(out, [30])
    >>> d["expected_loss"].values.tolist(), d["evpi"].values.tolist()
    ([[10.0, 5.0]], [5.0])
    """
    ds = _outcomes(outcomes)
    w = _grid(wtp_grid, "wtp_grid")
    loss = expected_loss(ds, w)
    out = xr.Dataset(
        {
            "expected_loss": loss,
            "evpi": loss.min("strategy"),
            "optimal": ("wtp", np.asarray(recommended(ds, w).values.tolist(), dtype=object)),
        },
        coords={"wtp": w},
    )
    out.attrs = dict(ds.attrs)
    return out


def plot_expected_loss(
    outcomes: xr.Dataset, wtp_grid: float | Sequence[float], ax: Axes | None = None
) -> Figure:
    """Expected loss curves: what choosing each strategy is expected to forgo.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (the x axis, sorted ascending).
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the root figure ``ax`` is in. ``ax.lines`` holds one curve per
        strategy in the outcomes' order, then the lower envelope (the EVPI).

    Raises
    ------
    CEAInputError
        See :func:`ceac_data`.

    See Also
    --------
    expected_loss_data : The numbers drawn.
    plot_evpi_curve : The EVPI with its standard error band.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 1.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> lines = plot_expected_loss(out, [0, 30]).axes[0].lines
    >>> [line.get_label() for line in lines], lines[2].get_ydata().tolist()
    (['A', 'B', 'EVPI (lower envelope)'], [0.0, 5.0])
    """
    data = expected_loss_data(outcomes, wtp_grid)
    fig, ax = _new_or_root(ax, (6.5, 4.0))
    names = [str(s) for s in data["strategy"].values]
    w = data["wtp"].values
    for s in names:
        ax.plot(w, data["expected_loss"].sel(strategy=s).values, color=_colour(names, s), label=s)
    ax.plot(
        w,
        data["evpi"].values,
        color="black",
        linewidth=4,
        alpha=0.3,
        label="EVPI (lower envelope)",
        zorder=1,
    )
    money, health = _units(data)
    ax.set_xlabel(f"willingness to pay{money} per unit of effect{health}")
    ax.set_ylabel(f"expected loss per person{money}")
    ax.set_ylim(bottom=0)
    ax.set_title("Expected loss of each strategy", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _finish(fig, ax)
    return fig


# ---------------------------------------------------------------------------------------
# EVPI over the willingness to pay
# ---------------------------------------------------------------------------------------


def _multiplier(population: Population) -> float:
    """The number of people a per-person value is multiplied by."""
    if isinstance(population, Mapping):
        try:
            return float(population_multiplier(**population))
        except TypeError as exc:
            raise VOIInputError(
                f"population: expected the keys pop_per_year, horizon, discount and "
                f"optionally kind ({exc})"
            ) from None
        except VOIInputError as exc:
            raise VOIInputError(f"population: {exc}") from None
    try:
        m = float(population)
    except (TypeError, ValueError):
        raise VOIInputError(
            f"population: expected a number or a mapping, got {population!r}"
        ) from None
    if isinstance(population, bool) or not np.isfinite(m) or m <= 0:
        raise VOIInputError(f"population: must be a finite number > 0, got {population!r}")
    return m


def evpi_curve_data(
    outcomes: xr.Dataset,
    wtp_grid: float | Sequence[float],
    *,
    population: Population | None = None,
) -> xr.Dataset:
    """The EVPI over the willingness to pay, with its Monte Carlo standard error band.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (sorted ascending here).
    population : float or mapping, optional
        Scale the per-person EVPI to a population: a number of people, or the keywords of
        :func:`decisionmodel.voi.population_multiplier` (``pop_per_year``, ``horizon``,
        ``discount``, optionally ``kind``).

    Returns
    -------
    xarray.Dataset
        Over ``wtp``: ``value`` and ``se`` from :func:`decisionmodel.voi.evpi` (times the
        population multiplier, if any), ``lower`` = ``max(value - 2 se, 0)`` and ``upper``
        = ``value + 2 se``. ``attrs["population_multiplier"]`` is the multiplier (1 per
        person).

    Raises
    ------
    CEAInputError
        See :func:`ceac_data`.
    VOIInputError
        A ``population`` that is not a number > 0 or valid multiplier keywords, or
        outcomes with fewer than two strategies or draws.

    See Also
    --------
    plot_evpi_curve : The figure of these numbers.
    decisionmodel.voi.evpi, decisionmodel.voi.pop_voi : The EVPI and its population value.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 1.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> d = evpi_curve_data(out, [0, 30])
    >>> d["value"].values.tolist(), d["upper"].values.tolist()
    ([0.0, 5.0], [0.0, 15.0])
    >>> evpi_curve_data(out, [30], population=1000)["value"].values.tolist()
    [5000.0]
    """
    ds = _outcomes(outcomes)
    w = _grid(wtp_grid, "wtp_grid")
    m = 1.0 if population is None else _multiplier(population)
    res = evpi(ds, wtp=w)
    value = res["value"].values * m
    se = res["se"].values * m
    out = xr.Dataset(
        {
            "value": ("wtp", value),
            "se": ("wtp", se),
            "lower": ("wtp", np.maximum(value - 2 * se, 0.0)),
            "upper": ("wtp", value + 2 * se),
        },
        coords={"wtp": w},
    )
    out.attrs = dict(ds.attrs, population_multiplier=m)
    return out


def plot_evpi_curve(
    outcomes: xr.Dataset,
    wtp_grid: float | Sequence[float],
    *,
    population: Population | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The EVPI over the willingness to pay, with a ±2 standard error band.

    Parameters
    ----------
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``(strategy, sample)``.
    wtp_grid : float or sequence of float
        Willingness-to-pay values (the x axis, sorted ascending).
    population : float or mapping, optional
        Scale to a population; see :func:`evpi_curve_data`.
    ax : matplotlib.axes.Axes, optional
        Draw here; otherwise a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the root figure ``ax`` is in. ``ax.lines[0]`` is the EVPI and
        ``ax.collections[0]`` the band between ``lower`` and ``upper``.

    Raises
    ------
    CEAInputError, VOIInputError
        See :func:`evpi_curve_data`.

    See Also
    --------
    evpi_curve_data : The numbers drawn.
    plot_expected_loss : The expected loss curves whose lower envelope this is.
    decisionmodel.plots.plot_evppi_rank : The EVPPI of each parameter.

    Examples
    --------
    >>> import xarray as xr
    >>> out = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 1.0]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> fig = plot_evpi_curve(out, [0, 30])
    >>> fig.axes[0].lines[0].get_ydata().tolist()
    [0.0, 5.0]
    """
    data = evpi_curve_data(outcomes, wtp_grid, population=population)
    fig, ax = _new_or_root(ax, (6.5, 4.0))
    w = data["wtp"].values
    ax.plot(w, data["value"].values, color="C0", label="EVPI")
    ax.fill_between(
        w,
        data["lower"].values,
        data["upper"].values,
        color="C0",
        alpha=0.2,
        linewidth=0,
        label="± 2 SE",
    )
    money, health = _units(data)
    per = "per person" if population is None else "population"
    ax.set_xlabel(f"willingness to pay{money} per unit of effect{health}")
    ax.set_ylabel(f"EVPI, {per}{money}")
    ax.set_ylim(bottom=0)
    ax.set_title("Expected value of perfect information", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _finish(fig, ax)
    return fig
