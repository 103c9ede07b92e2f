"""Cost-effectiveness analysis of probabilistic outcomes.

Pure functions over one data contract: ``outcomes`` is an :class:`xarray.Dataset` with
data variables ``cost`` and ``effect``, each with dims ``("strategy", "sample")``; the
``strategy`` coordinate holds the strategy names (in file order; the first strategy is
not special). Other data variables are ignored. Any further dimension of ``cost`` or
``effect`` (a ``scenario``, a ``subgroup``, ...) is a *batch* dimension: every function
computes its result for each cell of those dimensions separately, and the result carries
them first (a DataFrame gets one column per batch dimension). A batch dimension named
``wtp`` holds outcomes that depend on the willingness to pay: each ``wtp`` value given is
then computed on the outcomes at that value only (it must be in the outcomes' ``wtp``
coordinate). A plain mapping
``{"cost": 2-D array, "effect": 2-D array}`` (axes strategy, sample), optionally with a
``"strategy"`` entry of names, is accepted too; without names the strategies are called
``"0"``, ``"1"``, ...

The willingness to pay per unit of effect, ``wtp``, is always an explicit argument: a
scalar or a 1-D sequence of non-negative finite numbers, all different. Every result
has a ``wtp`` dimension, index or key, also for a scalar ``wtp`` (a length-1 ``wtp``
dimension), in the order given.

Bad input raises :class:`CEAInputError`, which is both a :class:`ValueError` and a
:class:`~decisionmodel.exceptions.DecisionModelError`.

Functions
---------
net_benefit
    Net monetary (or health) benefit per wtp, strategy and sample.
icer_table
    Incremental cost-effectiveness ratios and dominance, as dampack's
    ``calculate_icers``.
ceac, ceaf
    Cost-effectiveness acceptability curves and frontier.
expected_loss
    Expected opportunity loss per strategy (its minimum is the EVPI).
recommended
    Strategy with the highest expected net monetary benefit per wtp.
summary
    Every per-strategy and per-wtp result of the decision table in one
    :class:`xarray.Dataset`, computed in a single pass over the draws.
decision_table
    The same as a :class:`pandas.DataFrame`, one row per strategy.

Examples
--------
>>> import numpy as np
>>> import xarray as xr
>>> outcomes = xr.Dataset(
...     {
...         "cost": (("strategy", "sample"), [[0.0, 0.0], [90.0, 110.0]]),
...         "effect": (("strategy", "sample"), [[0.0, 0.0], [1.5, 0.5]]),
...     },
...     coords={"strategy": ["usual care", "surgery"]},
... )
>>> recommended(outcomes, [50, 150]).values.tolist()
['usual care', 'surgery']
>>> ceac(outcomes, 150).sel(wtp=150).values.tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.exceptions import CEAInputError
from decisionmodel.netbenefit import check_wtp, opportunity_loss

__all__ = [
    "STATUS_DOMINATED",
    "STATUS_EXTENDEDLY_DOMINATED",
    "STATUS_FRONTIER",
    "CEAInputError",
    "batch_dims",
    "ceac",
    "ceaf",
    "decision_table",
    "expected_loss",
    "icer_table",
    "net_benefit",
    "recommended",
    "summary",
]

STATUS_FRONTIER = "frontier"
STATUS_DOMINATED = "dominated"
STATUS_EXTENDEDLY_DOMINATED = "extendedly dominated"

#: Largest number of (wtp, strategy, sample) cells held in memory at once.
_CHUNK_CELLS = 4_000_000

Outcomes = xr.Dataset | Mapping[str, Any]
#: the dimensions every outcome has; any other is a batch dimension
_CORE = ("strategy", "sample")
WTP = float | Sequence[float] | np.ndarray


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------


def _as_dataset(outcomes: Outcomes, *, require_sample: bool = True) -> xr.Dataset:
    """Validate ``outcomes`` and return a Dataset of ``cost``/``effect`` only.

    The variables are float, transposed to ``("strategy", "sample")`` (or
    ``("strategy",)`` when ``require_sample`` is false and there is no sample dim).
    """
    if isinstance(outcomes, xr.Dataset):
        ds = outcomes
    elif isinstance(outcomes, Mapping):
        ds = _mapping_to_dataset(cast(Mapping[str, Any], outcomes))
    else:
        raise CEAInputError(
            f"outcomes must be an xarray.Dataset with variables 'cost' and 'effect', "
            f"not {type(outcomes).__name__}"
        )
    missing = [v for v in ("cost", "effect") if v not in ds.data_vars]
    if missing:
        raise CEAInputError(f"outcomes lack the data variable(s) {missing}")
    cost, effect = ds["cost"], ds["effect"]
    for name, var in (("cost", cost), ("effect", effect)):
        dims = set(var.dims)
        allowed = [{"strategy", "sample"}] + ([] if require_sample else [{"strategy"}])
        if dims not in allowed:
            want = "('strategy', 'sample')" + ("" if require_sample else " or ('strategy',)")
            raise CEAInputError(f"outcomes[{name!r}] has dims {var.dims}; expected {want}")
    if set(cost.dims) != set(effect.dims):
        raise CEAInputError(
            f"outcomes['cost'] has dims {cost.dims} but outcomes['effect'] has dims {effect.dims}"
        )
    order = ("strategy", "sample") if "sample" in cost.dims else ("strategy",)
    cost = cost.transpose(*order)
    effect = effect.transpose(*order)
    if cost.shape != effect.shape:
        raise CEAInputError(
            f"outcomes['cost'] has shape {cost.shape} but outcomes['effect'] has shape "
            f"{effect.shape} (dims {order})"
        )
    n_strategy = cost.sizes["strategy"]
    if n_strategy == 0:
        raise CEAInputError("outcomes have no strategies (empty 'strategy' dimension)")
    if "sample" in order and cost.sizes["sample"] == 0:
        raise CEAInputError("outcomes have no samples (empty 'sample' dimension)")
    if "strategy" in ds.coords:
        names = [str(s) for s in ds["strategy"].values]
    else:
        names = [str(i) for i in range(n_strategy)]
    if len(set(names)) != len(names):
        dupes = sorted({s for s in names if names.count(s) > 1})
        raise CEAInputError(f"strategy names must be unique; repeated: {dupes}")
    try:
        cost_v = np.asarray(cost.values, dtype=float)
        effect_v = np.asarray(effect.values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CEAInputError(f"cost and effect must be numeric: {exc}") from None
    for name, values in (("cost", cost_v), ("effect", effect_v)):
        bad = ~np.isfinite(values)
        if bad.any():
            per_strategy = bad.reshape(n_strategy, -1).any(axis=1)
            which = [names[i] for i in np.flatnonzero(per_strategy)]
            kind = "NaN" if np.isnan(values).any() else "infinite"
            raise CEAInputError(
                f"{name} contains {kind} (non-finite) values for strategy/strategies {which}"
            )
    coords: dict[str, Any] = {"strategy": names}
    if "sample" in order and "sample" in ds.coords:
        coords["sample"] = ds["sample"].values
    return xr.Dataset(
        {"cost": (order, cost_v), "effect": (order, effect_v)},
        coords=coords,
    )


def _mapping_to_dataset(outcomes: Mapping[str, Any]) -> xr.Dataset:
    if "cost" not in outcomes or "effect" not in outcomes:
        raise CEAInputError("outcomes mapping needs the keys 'cost' and 'effect'")
    cost, effect = outcomes["cost"], outcomes["effect"]
    if isinstance(cost, xr.DataArray) and isinstance(effect, xr.DataArray):
        return xr.Dataset({"cost": cost, "effect": effect})
    cost, effect = np.asarray(cost), np.asarray(effect)
    if cost.ndim not in (1, 2) or cost.shape != effect.shape:
        raise CEAInputError(
            f"outcomes mapping: cost and effect must be 2-D (strategy, sample) arrays of "
            f"the same shape, got shapes {cost.shape} and {effect.shape}"
        )
    dims = ("strategy", "sample")[: cost.ndim]
    coords = {}
    if "strategy" in outcomes:
        coords["strategy"] = [str(s) for s in outcomes["strategy"]]
        if len(coords["strategy"]) != cost.shape[0]:
            raise CEAInputError(
                f"outcomes mapping: {len(coords['strategy'])} strategy names for "
                f"{cost.shape[0]} rows of cost"
            )
    return xr.Dataset({"cost": (dims, cost), "effect": (dims, effect)}, coords=coords)


def _as_wtp(wtp: WTP, *, positive: bool = False) -> np.ndarray:
    """Return ``wtp`` as a non-empty 1-D float array of finite, non-negative, unique values."""
    return check_wtp(wtp, error=CEAInputError, positive=positive)


def _wtp_label(w: float) -> str:
    """Format one WTP value for a column name: ``50000`` rather than ``50000.0``."""
    return str(int(w)) if float(w).is_integer() and abs(w) < 1e15 else repr(float(w))


# ---------------------------------------------------------------------------------------
# batch dimensions: anything beyond (strategy, sample)
# ---------------------------------------------------------------------------------------


def batch_dims(outcomes: Outcomes) -> tuple[str, ...]:
    """The batch dimensions of outcomes: those of ``cost``/``effect`` other than
    ``strategy`` and ``sample``.

    Parameters
    ----------
    outcomes : xarray.Dataset or mapping
        Outcomes as the module docstring describes them (a mapping has none).

    Returns
    -------
    tuple of str
        In the order they first appear in ``cost``, then ``effect``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"cost": (("scenario", "strategy", "sample"), [[[1.0]]]),
    ...                  "effect": (("strategy", "sample"), [[1.0]])})
    >>> batch_dims(ds)
    ('scenario',)
    """
    if not isinstance(outcomes, xr.Dataset):
        return ()
    dims: list[str] = []
    for name in ("cost", "effect"):
        if name in outcomes.data_vars:
            dims += [str(d) for d in outcomes[name].dims if d not in _CORE and d not in dims]
    return tuple(dims)


def _concat(parts: list[Any], dim: str, source: xr.Dataset | None) -> Any:
    """Parts of a result (Datasets, DataArrays) stacked along a new or existing ``dim``;
    with ``source``, the coordinates of ``source`` along ``dim`` alone are put back."""
    along: Any = dim
    if source is not None and dim in source.coords:
        along = xr.DataArray(source[dim].values, dims=dim, name=dim)
    out = xr.concat(
        parts, dim=along, data_vars="all", coords="different", compat="equals", join="exact"
    )
    if source is not None:
        extra = {k: c for k, c in source.coords.items() if c.dims == (dim,) and k != dim}
        out = out.assign_coords(extra)
    return out


def _over_batches(fn: Any, outcomes: Outcomes, wtp: WTP | None, dims: Sequence[str]) -> Any:
    """``fn(outcomes_cell, wtp)`` for every cell of the batch ``dims``, stacked along them.

    A ``wtp`` batch dimension is matched with the ``wtp`` argument: each value given is
    computed on the outcomes at that value.
    """
    full = cast(xr.Dataset, outcomes)  # only Datasets have batch dims
    ds = full[["cost", "effect"]]
    ds.attrs = dict(full.attrs)
    if not dims:
        return fn(ds, wtp)
    dim, rest = dims[0], dims[1:]
    if dim == "wtp" and wtp is not None:
        w = _as_wtp(wtp)
        if "wtp" not in ds.coords:
            raise CEAInputError(
                "outcomes have a 'wtp' dimension without a 'wtp' coordinate: label it with "
                "the willingness-to-pay values the outcomes were computed at"
            )
        have = np.asarray(ds["wtp"].values, dtype=float)
        missing = [float(x) for x in w if not (have == x).any()]
        if missing:
            raise CEAInputError(
                f"wtp {missing} not in the outcomes' 'wtp' coordinate {have.tolist()}"
            )
        parts = [
            _over_batches(fn, ds.isel(wtp=int(np.flatnonzero(have == x)[0]), drop=True), [x], rest)
            for x in w
        ]
        return _concat(parts, "wtp", None)
    parts = [
        _over_batches(fn, ds.isel({dim: i}, drop=True), wtp, rest) for i in range(ds.sizes[dim])
    ]
    return _concat(parts, dim, ds)


def _frame_over_batches(fn: Any, outcomes: Outcomes, wtp: WTP | None) -> pd.DataFrame | None:
    """``fn`` (returning a DataFrame) per batch cell, concatenated with one leading column
    per batch dimension; None when the outcomes have no batch dimension."""
    dims = batch_dims(outcomes)
    if not dims:
        return None
    ds = cast(xr.Dataset, outcomes)
    if "wtp" in dims and wtp is not None:
        raise CEAInputError(
            "outcomes with a 'wtp' dimension: use summary(), whose variables carry 'wtp'"
        )
    cells = list(itertools.product(*(range(ds.sizes[d]) for d in dims)))
    frames = []
    for cell in cells:
        sub = ds[["cost", "effect"]].isel(dict(zip(dims, cell, strict=True)), drop=True)
        sub.attrs = dict(ds.attrs)
        df = fn(sub) if wtp is None else fn(sub, wtp)
        if df.index.name is not None:
            df = df.reset_index()
        for d, i in reversed(list(zip(dims, cell, strict=True))):
            value = ds[d].values[i] if d in ds.coords else i
            df.insert(0, d, [value.item() if hasattr(value, "item") else value] * len(df))
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out.attrs = frames[0].attrs
    return out


# ---------------------------------------------------------------------------------------
# internal vectorised kernels
# ---------------------------------------------------------------------------------------


def _wtp_chunks(n_wtp: int, cells_per_wtp: int) -> list[slice]:
    step = max(1, _CHUNK_CELLS // max(1, cells_per_wtp))
    return [slice(i, min(i + step, n_wtp)) for i in range(0, n_wtp, step)]


def _nmb_array(cost: np.ndarray, effect: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NMB of shape (wtp, strategy, sample) for (strategy, sample) arrays."""
    return w[:, None, None] * effect[None, :, :] - cost[None, :, :]


def _ceac_and_loss(
    ds: xr.Dataset, w: np.ndarray, *, evpi: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per wtp and strategy: P(highest NMB) with ties shared, and expected opportunity loss;
    with ``evpi``, also per wtp the EVPI (the mean :func:`opportunity_loss`), in the same
    pass over the draws."""
    cost, effect = ds["cost"].values, ds["effect"].values
    n_strategy, n_sample = cost.shape
    prob = np.empty((w.size, n_strategy))
    loss = np.empty((w.size, n_strategy))
    value = np.empty(w.size) if evpi else None
    for chunk in _wtp_chunks(w.size, n_strategy * n_sample):
        nb = _nmb_array(cost, effect, w[chunk])
        best = nb.max(axis=1, keepdims=True)
        is_best = nb == best
        share = is_best / is_best.sum(axis=1, keepdims=True)
        prob[chunk] = share.mean(axis=2)
        loss[chunk] = (best - nb).mean(axis=2)
        if value is not None:
            value[chunk] = opportunity_loss(nb).mean(axis=1)
    return prob, loss, value


def _expected_nmb(ds: xr.Dataset, w: np.ndarray) -> np.ndarray:
    """Expected NMB of shape (wtp, strategy): wtp * E[effect] - E[cost]."""
    mean_cost = ds["cost"].values.mean(axis=-1) if "sample" in ds.dims else ds["cost"].values
    mean_eff = ds["effect"].values.mean(axis=-1) if "sample" in ds.dims else ds["effect"].values
    return w[:, None] * mean_eff[None, :] - mean_cost[None, :]


def _recommended_index(ds: xr.Dataset, w: np.ndarray) -> np.ndarray:
    # np.argmax returns the first maximum, so ties go to the earlier strategy.
    return np.argmax(_expected_nmb(ds, w), axis=1)


# ---------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------


def net_benefit(
    outcomes: Outcomes,
    wtp: WTP,
    kind: Literal["monetary", "health"] = "monetary",
) -> xr.DataArray:
    """Net benefit of every strategy and sample at each willingness to pay.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect; non-negative, finite, unique. A scalar
        gives a length-1 ``wtp`` dimension.
    kind : {"monetary", "health"}, default "monetary"
        ``"monetary"``: net monetary benefit ``NMB = wtp * effect - cost``.
        ``"health"``: net health benefit ``NHB = effect - cost / wtp`` (needs
        ``wtp > 0``).

    Returns
    -------
    xarray.DataArray
        Dims ``("wtp", "strategy", "sample")``, named ``"nmb"`` or ``"nhb"``.

    Raises
    ------
    CEAInputError
        (a :class:`ValueError`) for malformed outcomes or WTP, or an unknown ``kind``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[100.0, 200.0]]),
    ...      "effect": (("strategy", "sample"), [[1.0, 2.0]])},
    ...     coords={"strategy": ["A"]},
    ... )
    >>> net_benefit(ds, [0, 1000]).sel(strategy="A").values.tolist()
    [[-100.0, -200.0], [900.0, 1800.0]]
    >>> net_benefit(ds, 1000, kind="health").values.tolist()
    [[[0.9, 1.8]]]
    """
    if kind not in ("monetary", "health"):
        raise CEAInputError(f"kind must be 'monetary' or 'health', got {kind!r}")
    if dims := batch_dims(outcomes):
        return _over_batches(lambda o, w: net_benefit(o, w, kind), outcomes, wtp, dims)
    w = _as_wtp(wtp, positive=kind == "health")
    ds = _as_dataset(outcomes)
    cost, effect = ds["cost"].values, ds["effect"].values
    if kind == "monetary":
        values = _nmb_array(cost, effect, w)
        name = "nmb"
    else:
        values = effect[None, :, :] - cost[None, :, :] / w[:, None, None]
        name = "nhb"
    coords = {"wtp": w, "strategy": ds["strategy"].values}
    if "sample" in ds.coords:
        coords["sample"] = ds["sample"].values
    return xr.DataArray(
        values,
        dims=("wtp", "strategy", "sample"),
        coords=coords,
        name=name,
        attrs={"kind": kind},
    )


def icer_table(outcomes: Outcomes) -> pd.DataFrame:
    """Incremental cost-effectiveness ratios with strong and extended dominance.

    Follows dampack's ``calculate_icers`` (DARTH-git/dampack) on expected values:

    1. Expected cost and effect per strategy (mean over ``sample``; a Dataset without
       ``sample`` is used as is).
    2. Sort by cost ascending, then effect descending, then the outcomes' order.
    3. Strong dominance: a strategy is ``"dominated"`` when an earlier one in that order
       has an effect at least as high (so it costs at least as much and yields no more).
       Among strategies with identical cost and effect the first in the outcomes' order
       is kept and the others are marked ``"dominated"``.
    4. Extended dominance, repeated until nothing changes: among the remaining
       strategies, compute each ICER against the previous one; every strategy (other
       than the cheapest and the most effective) whose ICER is greater than the next
       strategy's ICER is marked ``"extendedly dominated"``. Equal ICERs (collinear
       points) do not dominate, as in dampack.
    5. The rest is the ``"frontier"``.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")`` or
        ``("strategy",)``.

    Returns
    -------
    pandas.DataFrame
        One row per strategy, sorted by cost ascending then effect descending (ties in
        both keep the outcomes' order), with a default integer index and columns
        ``strategy, cost, effect, inc_cost, inc_effect, icer, status``. For frontier
        rows ``inc_cost``, ``inc_effect`` and ``icer`` are relative to the previous
        frontier strategy; they are NaN for the cheapest frontier strategy and for
        dominated and extendedly dominated rows (dampack prints "D" and "ED"). Unlike
        dampack, rows are not grouped by status, and a single strategy gets the status
        ``"frontier"``.
        Outcomes with batch dimensions give one block of rows per batch cell, with a
        leading column per batch dimension.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": ("strategy", [0.0, 100.0, 300.0, 250.0, 400.0]),
    ...      "effect": ("strategy", [0.0, 1.0, 1.5, 0.8, 2.0])},
    ...     coords={"strategy": ["A", "B", "C", "D", "E"]},
    ... )
    >>> icer_table(ds)
      strategy   cost  effect  inc_cost  inc_effect   icer                status
    0        A    0.0     0.0       NaN         NaN    NaN              frontier
    1        B  100.0     1.0     100.0         1.0  100.0              frontier
    2        D  250.0     0.8       NaN         NaN    NaN             dominated
    3        C  300.0     1.5       NaN         NaN    NaN  extendedly dominated
    4        E  400.0     2.0     300.0         1.0  300.0              frontier
    """
    if (batched := _frame_over_batches(icer_table, outcomes, None)) is not None:
        return batched
    ds = _as_dataset(outcomes, require_sample=False)
    if "sample" in ds.dims:
        ds = ds.mean("sample")
    names = ds["strategy"].values.astype(str)
    cost = ds["cost"].values.astype(float)
    effect = ds["effect"].values.astype(float)
    n = names.size

    # cost ascending, effect descending, original order (np.lexsort: last key is primary)
    order = np.lexsort((np.arange(n), -effect, cost))
    c, e = cost[order], effect[order]

    status = np.full(n, STATUS_FRONTIER, dtype=object)
    # strong dominance: some earlier strategy in this order has effect >= mine
    prev_max_effect = np.maximum.accumulate(np.concatenate(([-np.inf], e[:-1])))
    status[e <= prev_max_effect] = STATUS_DOMINATED

    # extended dominance, iterated; all violations in one pass are removed together
    while True:
        nd = np.flatnonzero(status == STATUS_FRONTIER)
        if nd.size <= 2:
            break
        icers = np.diff(c[nd]) / np.diff(e[nd])  # icers[k] belongs to nd[k + 1]
        ed = nd[1:-1][icers[:-1] > icers[1:]]
        if ed.size == 0:
            break
        status[ed] = STATUS_EXTENDEDLY_DOMINATED

    inc_cost = np.full(n, np.nan)
    inc_effect = np.full(n, np.nan)
    nd = np.flatnonzero(status == STATUS_FRONTIER)
    inc_cost[nd[1:]] = np.diff(c[nd])
    inc_effect[nd[1:]] = np.diff(e[nd])
    icer = np.full(n, np.nan)
    icer[nd[1:]] = inc_cost[nd[1:]] / inc_effect[nd[1:]]
    return pd.DataFrame(
        {
            "strategy": names[order].tolist(),
            "cost": c,
            "effect": e,
            "inc_cost": inc_cost,
            "inc_effect": inc_effect,
            "icer": icer,
            "status": status.tolist(),
        }
    )


def ceac(outcomes: Outcomes, wtp: WTP) -> xr.DataArray:
    """Cost-effectiveness acceptability curves.

    For each wtp, the share of samples in which each strategy has the highest net
    monetary benefit. When several strategies tie for the highest NMB in a sample,
    that sample counts ``1 / k`` for each of the ``k`` tied strategies, so every row
    sums to 1.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect (a scalar gives a length-1 ``wtp`` dim).

    Returns
    -------
    xarray.DataArray
        Dims ``("wtp", "strategy")``, named ``"p_cost_effective"``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0, 0.0, 0.0], [10, 10, 10, 10]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0, 0.0, 0.0], [0, 1, 2, 3]])},
    ...     coords={"strategy": ["A", "B"]},
    ... )
    >>> ceac(ds, [5, 10, 100]).values.tolist()
    [[0.625, 0.375], [0.375, 0.625], [0.25, 0.75]]
    """
    if dims := batch_dims(outcomes):
        return _over_batches(ceac, outcomes, wtp, dims)
    w = _as_wtp(wtp)
    ds = _as_dataset(outcomes)
    prob, _, _ = _ceac_and_loss(ds, w)
    return xr.DataArray(
        prob,
        dims=("wtp", "strategy"),
        coords={"wtp": w, "strategy": ds["strategy"].values},
        name="p_cost_effective",
    )


def ceaf(outcomes: Outcomes, wtp: WTP) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier.

    At each wtp, the strategy with the highest *expected* net monetary benefit (see
    :func:`recommended`) and its probability of being cost-effective (its
    :func:`ceac` value), which need not be the highest probability.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``wtp`` (float, in the given order), columns ``strategy`` and
        ``p_cost_effective``. With batch dimensions: a default index and the columns
        (batch dimensions..., ``wtp``, ``strategy``, ``p_cost_effective``).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0, 0.0], [-1.0, -1.0, 5.0]])},
    ...     coords={"strategy": ["A", "B"]},
    ... )
    >>> ceaf(ds, [5, 30])  # doctest: +NORMALIZE_WHITESPACE
         strategy  p_cost_effective
    wtp
    5.0         A          0.666667
    30.0        B          0.333333
    """
    if (batched := _frame_over_batches(ceaf, outcomes, wtp)) is not None:
        return batched
    w = _as_wtp(wtp)
    ds = _as_dataset(outcomes)
    prob, _, _ = _ceac_and_loss(ds, w)
    best = _recommended_index(ds, w)
    names = ds["strategy"].values.astype(str)
    return pd.DataFrame(
        {
            "strategy": names[best].tolist(),
            "p_cost_effective": prob[np.arange(w.size), best],
        },
        index=pd.Index(w, name="wtp"),
    )


def expected_loss(outcomes: Outcomes, wtp: WTP) -> xr.DataArray:
    """Expected opportunity loss of choosing each strategy.

    ``E[max_d NMB_d - NMB_s]`` over samples, for each wtp and strategy ``s``. The
    minimum over strategies, reached by the :func:`recommended` strategy, is the
    expected value of perfect information (EVPI) per person.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.

    Returns
    -------
    xarray.DataArray
        Dims ``("wtp", "strategy")``, named ``"expected_loss"``, in monetary units.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0, 0.0], [10.0, 10.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0, 0.0], [0.0, 1.0]])},
    ...     coords={"strategy": ["A", "B"]},
    ... )
    >>> expected_loss(ds, 30).values.tolist()
    [[10.0, 5.0]]
    >>> float(expected_loss(ds, 30).min("strategy")[0])  # EVPI
    5.0
    """
    if dims := batch_dims(outcomes):
        return _over_batches(expected_loss, outcomes, wtp, dims)
    w = _as_wtp(wtp)
    ds = _as_dataset(outcomes)
    _, loss, _ = _ceac_and_loss(ds, w)
    return xr.DataArray(
        loss,
        dims=("wtp", "strategy"),
        coords={"wtp": w, "strategy": ds["strategy"].values},
        name="expected_loss",
    )


def recommended(outcomes: Outcomes, wtp: WTP) -> xr.DataArray:
    """Strategy with the highest expected net monetary benefit at each wtp.

    Expected NMB is ``wtp * E[effect] - E[cost]``; an exact tie goes to the strategy
    that comes first in the outcomes' strategy order.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.

    Returns
    -------
    xarray.DataArray
        Dims ``("wtp",)`` of strategy names, named ``"recommended"``.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.0], [100.0], [300.0]]),
    ...      "effect": (("strategy", "sample"), [[0.0], [1.0], [1.5]])},
    ...     coords={"strategy": ["A", "B", "C"]},
    ... )
    >>> recommended(ds, [50, 200, 500]).values.tolist()
    ['A', 'B', 'C']
    """
    if dims := batch_dims(outcomes):
        return _over_batches(recommended, outcomes, wtp, dims)
    w = _as_wtp(wtp)
    ds = _as_dataset(outcomes)
    names = ds["strategy"].values.astype(str)
    best = names[_recommended_index(ds, w)]
    return xr.DataArray(
        np.asarray(best.tolist(), dtype=object),
        dims=("wtp",),
        coords={"wtp": w},
        name="recommended",
    )


#: attributes of the outcomes that :func:`summary` keeps (what the tree says of its units)
SUMMARY_ATTRS = ("name", "currency", "effect_unit")


def summary(outcomes: Outcomes, wtp: WTP) -> xr.Dataset:
    """The decision table as labelled data: one pass over the draws gives every result.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.

    Returns
    -------
    xarray.Dataset
        Coordinates ``strategy`` (the outcomes' order) and ``wtp`` (as given), and the
        variables

        - ``cost``, ``effect`` (strategy): expected values;
        - ``nmb`` (wtp, strategy): expected net monetary benefit;
        - ``p_ce`` (wtp, strategy): probability of the highest net benefit, ties shared
          (the CEAC, :func:`ceac`);
        - ``expected_loss`` (wtp, strategy): expected opportunity loss
          (:func:`expected_loss`);
        - ``evpi`` (wtp): the EVPI per person, the mean opportunity loss of the strategy
          with the highest expected net benefit
          (:func:`decisionmodel.netbenefit.opportunity_loss`, as
          :func:`decisionmodel.voi.evpi` computes it);
        - ``icer`` (strategy, NaN where undefined) and ``status`` (strategy):
          :func:`icer_table` in the outcomes' order;
        - ``recommended`` (wtp): the strategy with the highest expected net benefit
          (:func:`recommended`; ties go to the earlier strategy).

        The outcomes' ``name``, ``currency`` and ``effect_unit`` attributes are kept.
        Batch dimensions of the outcomes (``scenario``, ...) lead every variable's dims;
        with a ``wtp`` batch dimension, ``cost``, ``effect``, ``icer`` and ``status``
        have a ``wtp`` dimension too.

    See Also
    --------
    decision_table : the same results as a DataFrame.
    decisionmodel.report.summarise : the JSON decision-table contract rendered from it.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[100.0, 100.0], [0.0, 0.0]]),
    ...      "effect": (("strategy", "sample"), [[0.5, 1.5], [0.0, 0.0]])},
    ...     coords={"strategy": ["new", "old"]},
    ... )
    >>> s = summary(ds, [50, 150])
    >>> s["nmb"].sel(wtp=150).values.tolist(), s["evpi"].values.tolist()
    ([50.0, 0.0], [0.0, 12.5])
    >>> s["recommended"].values.tolist(), s["status"].values.tolist()
    (['old', 'new'], ['frontier', 'frontier'])

    A batch dimension, here two scenarios (the second doubles the new strategy's cost):

    >>> both = xr.concat([ds, ds.assign(cost=ds["cost"] * [[2.0], [1.0]])], dim="scenario")
    >>> t = summary(both.assign_coords(scenario=["base", "dear"]), 150)
    >>> t["recommended"].dims, t["recommended"].values.tolist()
    (('scenario', 'wtp'), [['new'], ['old']])
    """
    if dims := batch_dims(outcomes):
        return _over_batches(summary, outcomes, wtp, dims)
    w = _as_wtp(wtp)
    ds = _as_dataset(outcomes)
    names = ds["strategy"].values.astype(str)
    enmb = _expected_nmb(ds, w)
    prob, loss, evpi = _ceac_and_loss(ds, w, evpi=True)
    icers = icer_table(ds).set_index("strategy").loc[names]
    best = names[np.argmax(enmb, axis=1)]  # the first maximum: ties go to the earlier one
    out = xr.Dataset(
        {
            "cost": ("strategy", ds["cost"].values.mean(axis=1)),
            "effect": ("strategy", ds["effect"].values.mean(axis=1)),
            "nmb": (("wtp", "strategy"), enmb),
            "p_ce": (("wtp", "strategy"), prob),
            "expected_loss": (("wtp", "strategy"), loss),
            "evpi": ("wtp", evpi),
            "icer": ("strategy", icers["icer"].to_numpy(dtype=float)),
            "status": ("strategy", np.asarray(icers["status"].tolist(), dtype=object)),
            "recommended": ("wtp", np.asarray(best.tolist(), dtype=object)),
        },
        coords={"strategy": names.tolist(), "wtp": w},
    )
    attrs = getattr(outcomes, "attrs", {})
    out.attrs = {k: attrs[k] for k in SUMMARY_ATTRS if k in attrs}
    return out


def decision_table(outcomes: Outcomes, wtp: WTP) -> pd.DataFrame:
    """Summary table: expected outcomes, net benefit, ICERs and CEAC per strategy.

    Parameters
    ----------
    outcomes : xarray.Dataset
        Variables ``cost`` and ``effect`` with dims ``("strategy", "sample")``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.

    Returns
    -------
    pandas.DataFrame
        One row per strategy in the outcomes' order, columns ``strategy``, ``cost``,
        ``effect`` (expected values), ``nmb@<w>`` (expected NMB) for each wtp,
        ``icer`` and ``status`` (from :func:`icer_table`), and ``p_ce@<w>`` (from
        :func:`ceac`) for each wtp. ``<w>`` is written without a trailing ``.0`` for
        whole numbers (``nmb@50000``), else as Python's ``repr`` of the float.
        ``df.attrs["wtp"]`` is the list of WTP values (floats) and
        ``df.attrs["recommended"]`` maps each of them to the :func:`recommended`
        strategy. With batch dimensions: one block of rows per batch cell, a leading
        column per batch dimension, and no ``attrs["recommended"]`` (see
        :func:`summary`); a ``wtp`` batch dimension is refused.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[100.0, 100.0], [0.0, 0.0]]),
    ...      "effect": (("strategy", "sample"), [[0.5, 1.5], [0.0, 0.0]])},
    ...     coords={"strategy": ["new", "old"]},
    ... )
    >>> df = decision_table(ds, [50, 200])
    >>> df.columns.tolist()
    ['strategy', 'cost', 'effect', 'nmb@50', 'nmb@200', 'icer', 'status', 'p_ce@50', 'p_ce@200']
    >>> df[["strategy", "nmb@200", "icer", "p_ce@200"]]
      strategy  nmb@200   icer  p_ce@200
    0      new    100.0  100.0      0.75
    1      old      0.0    NaN      0.25
    >>> df.attrs["recommended"]
    {50.0: 'old', 200.0: 'new'}
    """
    if (batched := _frame_over_batches(decision_table, outcomes, wtp)) is not None:
        batched.attrs.pop("recommended", None)
        return batched
    s = summary(outcomes, wtp)
    w = s["wtp"].values
    labels = [_wtp_label(x) for x in w]
    columns: dict[str, Any] = {
        "strategy": s["strategy"].values.tolist(),
        "cost": s["cost"].values,
        "effect": s["effect"].values,
    }
    columns.update({f"nmb@{lab}": s["nmb"].values[i] for i, lab in enumerate(labels)})
    columns["icer"] = s["icer"].values
    columns["status"] = s["status"].values.tolist()
    columns.update({f"p_ce@{lab}": s["p_ce"].values[i] for i, lab in enumerate(labels)})
    df = pd.DataFrame(columns)
    df.attrs["wtp"] = [float(x) for x in w]
    df.attrs["recommended"] = {
        float(x): str(b) for x, b in zip(w, s["recommended"].values, strict=True)
    }
    return df
