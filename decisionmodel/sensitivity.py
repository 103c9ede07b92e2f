"""Deterministic and probabilistic sensitivity analysis of a decision tree.

Plain functions over a tree (a :class:`networkx.DiGraph` or a
:class:`~decisionmodel.tree.compile.CompiledTree`, compiled once here when given a graph)
and a parameter sample (an :class:`xarray.Dataset` over ``sample``), returning labelled
:mod:`xarray` / :mod:`pandas` objects:

parameter_ranges
    Low, base and high value of each scalar parameter (quantiles and mean of its draws).
one_way
    Each parameter at its low and its high value, the others at their means
    (deterministic) or as drawn (``probabilistic=True``): expected cost, effect and net
    monetary benefit (NMB) per strategy, and the recommended strategy.
tornado_table
    The swing of the NMB difference of two strategies per parameter, largest first
    (dampack's ``owsa_tornado``).
two_way
    A grid of two parameters: expected NMB per strategy and the recommended strategy per
    cell.
threshold
    The values of one parameter at which the recommended policy of the probabilistic
    analysis changes (root-finding on the difference in expected NMB), and the probability
    under the draws that the parameter lies where another policy is preferred.

The recommended strategy is always the one with the highest *expected* NMB (ties go to the
earlier strategy, as :func:`decisionmodel.cea.summary`). Dirichlet components (variables
whose ``attrs`` name a ``group``) are not varied one at a time: setting one component alone
would break the sum of the group; they are skipped when ``pars`` is not given and refused
when named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import brentq

from decisionmodel.exceptions import DecisionModelError, UnknownParameterError
from decisionmodel.netbenefit import check_wtp
from decisionmodel.params import with_values
from decisionmodel.tree.compile import CompiledTree, compile_tree
from decisionmodel.tree.evaluate import evaluate

__all__ = [
    "NoThresholdError",
    "SensitivityInputError",
    "one_way",
    "parameter_ranges",
    "threshold",
    "tornado_table",
    "two_way",
]

Tree = nx.DiGraph | CompiledTree
WTP = float | Sequence[float] | np.ndarray


class SensitivityInputError(DecisionModelError, ValueError):
    """Bad input to a sensitivity analysis (a parameter, a value grid, a wtp, a strategy)."""


class NoThresholdError(SensitivityInputError):
    """The recommended policy does not change over the bracket searched (no threshold)."""


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _compiled(tree: Tree) -> CompiledTree:
    if isinstance(tree, CompiledTree):
        return tree
    if isinstance(tree, nx.DiGraph):
        return compile_tree(tree)
    raise SensitivityInputError(
        f"tree must be a networkx.DiGraph or a CompiledTree, got {type(tree).__name__}"
    )


def _check_params(params: Any) -> xr.Dataset:
    if not isinstance(params, xr.Dataset) or "sample" not in params.dims:
        raise SensitivityInputError(
            "params must be an xarray.Dataset of parameter draws over 'sample' "
            "(e.g. decisionmodel.sample_parameters)"
        )
    if params.sizes["sample"] < 1:
        raise SensitivityInputError("params has no draws")
    return params


def _is_scalar(var: xr.DataArray) -> bool:
    return tuple(var.dims) in ((), ("sample",))


def _is_dirichlet(var: xr.DataArray) -> bool:
    return "group" in var.attrs or var.attrs.get("distribution") == "dirichlet"


def _check_par(params: xr.Dataset, name: Any) -> str:
    """One parameter name the sample holds, scalar per draw and not a Dirichlet component."""
    if not isinstance(name, str):
        raise SensitivityInputError(f"parameter names must be strings, got {name!r}")
    if name not in params.data_vars:
        raise UnknownParameterError(f"parameter {name!r} is not in the parameter sample")
    var = params[name]
    if not _is_scalar(var):
        raise SensitivityInputError(
            f"parameter {name!r}: expected one value per draw, got dimensions {var.dims}"
        )
    if _is_dirichlet(var):
        raise SensitivityInputError(
            f"parameter {name!r} is a component of the Dirichlet group "
            f"{var.attrs.get('group', '?')!r}: it cannot be set alone (its group must sum to 1)"
        )
    return name


def _select_pars(params: xr.Dataset, pars: Sequence[str] | str | None) -> list[str]:
    if isinstance(pars, str):
        pars = [pars]
    if pars is None:
        return [
            str(k)
            for k, v in params.data_vars.items()
            if _is_scalar(v) and not _is_dirichlet(v) and np.ptp(np.asarray(v.values)) > 0
        ]
    names = [_check_par(params, p) for p in pars]
    if not names:
        raise SensitivityInputError("pars is empty; name at least one parameter")
    if len(set(names)) != len(names):
        raise SensitivityInputError(f"pars names a parameter twice: {names}")
    return names


def _wtp(wtp: WTP) -> np.ndarray:
    return check_wtp(wtp, error=SensitivityInputError)


def _values(name: str, values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise SensitivityInputError(f"parameter {name!r}: values are not numbers") from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise SensitivityInputError(f"parameter {name!r}: give a non-empty 1-D list of values")
    if not np.isfinite(arr).all():
        raise SensitivityInputError(f"parameter {name!r}: values must be finite")
    if np.unique(arr).size != arr.size:
        raise SensitivityInputError(f"parameter {name!r}: values must be unique")
    return arr


def _base_case(params: xr.Dataset, base: xr.Dataset | None) -> xr.Dataset:
    """The one-draw base case: ``base`` as given (one draw) or the draw means of ``params``."""
    if base is None:
        return params.mean("sample", keep_attrs=True).expand_dims(sample=[0])
    if not isinstance(base, xr.Dataset) or base.sizes.get("sample", 1) != 1:
        raise SensitivityInputError(
            "base must be a one-draw parameter Dataset (e.g. decisionmodel.mean_parameters)"
        )
    return base if "sample" in base.dims else base.expand_dims(sample=[0])


def _replicate(base: xr.Dataset, settings: Sequence[Mapping[str, float]]) -> xr.Dataset:
    """A sample of ``len(settings)`` draws: draw ``i`` is the base case with ``settings[i]``.

    One Dataset for all the settings, so the tree is evaluated once, vectorised over them.
    """
    n = len(settings)
    data: dict[str, Any] = {}
    for name, var in base.data_vars.items():
        if "sample" in var.dims:
            col = np.repeat(np.asarray(var.values, dtype=float).reshape(1), n)
            data[str(name)] = xr.DataArray(col, dims="sample", attrs=var.attrs)
        else:
            data[str(name)] = var
    out = xr.Dataset(data, coords={"sample": np.arange(n)})
    for name in {k for s in settings for k in s}:
        col = out[name].values.copy() if name in out else np.full(n, np.nan)
        for i, s in enumerate(settings):
            if name in s:
                col[i] = s[name]
        out[name] = xr.DataArray(col, dims="sample", attrs=out[name].attrs if name in out else {})
    return out


def _expected(ct: CompiledTree, params: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost and effect per strategy over the draws of ``params``."""
    out = evaluate(ct, params)
    return out["cost"].values.mean(axis=1), out["effect"].values.mean(axis=1)


def _nmb(cost: np.ndarray, effect: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NMB with wtp inserted as the second-last axis: (..., strategy) -> (..., wtp, strategy)."""
    return w[:, None] * effect[..., None, :] - cost[..., None, :]


def _strategy(names: Sequence[str], name: Any) -> int:
    try:
        return list(names).index(name)
    except ValueError:
        raise SensitivityInputError(
            f"unknown strategy {name!r}; the strategies are {list(names)}"
        ) from None


# ---------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------


def parameter_ranges(
    tree: Tree,
    params: xr.Dataset,
    *,
    pars: Sequence[str] | str | None = None,
    q: tuple[float, float] = (0.025, 0.975),
) -> pd.DataFrame:
    """Low, base and high value of each scalar parameter, from its draws.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (compiled here if a graph); only parameters it uses are listed when
        ``pars`` is not given.
    params : xarray.Dataset
        Parameter draws over ``sample`` (prior or posterior).
    pars : str or sequence of str, optional
        The parameters; by default every scalar parameter of the sample that the tree uses
        and whose draws vary (fixed values and Dirichlet components left out).
    q : (float, float)
        The quantiles giving ``low`` and ``high`` (default the central 95% interval).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``low``, ``base`` (the mean of the draws) and ``high``.

    Raises
    ------
    SensitivityInputError
        Bad quantiles, a parameter that is not one value per draw, or a Dirichlet
        component.
    UnknownParameterError
        A name in ``pars`` the sample does not hold.

    Examples
    --------
    >>> import decisionmodel as dm
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {
    ...         "p": {"distribution": "uniform", "low": 0.2, "high": 0.6}, "c": {"value": 50}},
    ...     "tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": "c", "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> params = dm.sample_parameters(G, 10_000, 1)
    >>> parameter_ranges(G, params, q=(0.0, 1.0)).round(2).loc["p"].tolist()
    [0.2, 0.4, 0.6]
    """
    ct = _compiled(tree)
    params = _check_params(params)
    try:
        lo_q, hi_q = (float(v) for v in q)
    except (TypeError, ValueError):
        raise SensitivityInputError(f"q must be two quantiles (low, high), got {q!r}") from None
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise SensitivityInputError(f"q must satisfy 0 <= low < high <= 1, got {q!r}")
    names = _select_pars(params, pars)
    if pars is None:
        names = [n for n in names if n in ct.required_names]
    rows = []
    for name in names:
        v = np.asarray(params[name].values, dtype=float).reshape(-1)
        lo, hi = np.quantile(v, [lo_q, hi_q])
        rows.append((float(lo), float(v.mean()), float(hi)))
    out = pd.DataFrame(
        rows, columns=["low", "base", "high"], index=pd.Index(names, name="parameter")
    )
    return out


def _ranges_table(
    ct: CompiledTree, params: xr.Dataset, pars: Sequence[str] | str | None, ranges: Any
) -> pd.DataFrame:
    if ranges is None:
        return parameter_ranges(ct, params, pars=pars)
    if isinstance(ranges, pd.DataFrame):
        missing = {"low", "high"} - set(ranges.columns)
        if missing:
            raise SensitivityInputError(f"ranges lacks the column(s) {sorted(missing)}")
        table = {str(k): (r["low"], r["high"]) for k, r in ranges.iterrows()}
    elif isinstance(ranges, Mapping):
        table = {}
        for k, v in ranges.items():
            vals = _values(str(k), v)
            if vals.size != 2:
                raise SensitivityInputError(f"parameter {k!r}: give a range as (low, high)")
            table[str(k)] = (vals[0], vals[1])
    else:
        raise SensitivityInputError("ranges must be a DataFrame (low, high) or name -> (low, high)")
    names = list(table) if pars is None else _select_pars(params, pars)
    rows = []
    for name in names:
        _check_par(params, name)
        if name not in table:
            raise SensitivityInputError(f"parameter {name!r} has no range in ranges")
        lo, hi = (float(v) for v in table[name])
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise SensitivityInputError(f"parameter {name!r}: the range must be finite")
        rows.append((lo, float(params[name].values.mean()), hi))
    if not rows:
        raise SensitivityInputError("no parameter to vary")
    return pd.DataFrame(
        rows, columns=["low", "base", "high"], index=pd.Index(names, name="parameter")
    )


def one_way(
    tree: Tree,
    params: xr.Dataset,
    wtp: WTP,
    *,
    pars: Sequence[str] | str | None = None,
    ranges: pd.DataFrame | Mapping[str, Sequence[float]] | None = None,
    base: xr.Dataset | None = None,
    probabilistic: bool = False,
) -> xr.Dataset:
    """One-way sensitivity analysis: each parameter at its low and high value.

    Deterministic (the default): the tree is evaluated on the base case (``base``, or the
    means of the draws of ``params``) with one parameter set to its low or high value, in
    one vectorised evaluation. Probabilistic: the parameter is set to the value on every
    draw of ``params``, the others kept as drawn, and the results are expected values
    over the draws.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (compiled once here if a graph).
    params : xarray.Dataset
        Parameter draws over ``sample``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect (dimension ``wtp`` of the result).
    pars : str or sequence of str, optional
        The parameters to vary; by default those of ``ranges`` or of
        :func:`parameter_ranges`.
    ranges : pandas.DataFrame or mapping, optional
        Columns ``low`` and ``high`` indexed by parameter, or name -> (low, high); by
        default :func:`parameter_ranges` (the central 95% of the draws).
    base : xarray.Dataset, optional
        A one-draw base case (e.g. :func:`decisionmodel.mean_parameters`); by default the
        means of the draws. Ignored when ``probabilistic``.
    probabilistic : bool
        Keep the other parameters as drawn.

    Returns
    -------
    xarray.Dataset
        Dimensions ``parameter``, ``bound`` (``low``, ``high``), ``wtp`` and ``strategy``:

        - ``value`` (parameter, bound): the value set;
        - ``cost``, ``effect`` (parameter, bound, strategy): expected cost and effect;
        - ``nmb`` (parameter, bound, wtp, strategy): expected net monetary benefit;
        - ``recommended`` (parameter, bound, wtp): the strategy of highest expected NMB;
        - ``base_value`` (parameter), ``base_cost``, ``base_effect`` (strategy),
          ``base_nmb`` (wtp, strategy), ``base_recommended`` (wtp): the same at the base
          case (deterministic) or of the draws as they are (probabilistic).

        ``attrs["probabilistic"]`` says which.

    Raises
    ------
    SensitivityInputError
        A bad wtp, range or parameter (named).
    UnknownParameterError
        A parameter the sample does not hold.

    Examples
    --------
    >>> import decisionmodel as dm
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {
    ...         "p": {"distribution": "uniform", "low": 0.2, "high": 0.6}, "c": {"value": 50}},
    ...     "tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": "c", "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> params = dm.sample_parameters(G, 1000, 1)
    >>> ds = one_way(G, params, 1000, ranges={"p": (0.25, 0.55), "c": (0, 100)},
    ...              base=dm.mean_parameters(G))
    >>> ds["nmb"].sel(parameter="p", wtp=1000, strategy="treat").values.round(6).tolist()
    [200.0, 500.0]
    >>> ds["recommended"].sel(wtp=1000).values.tolist()
    [['wait', 'treat'], ['treat', 'treat']]
    """
    ct = _compiled(tree)
    params = _check_params(params)
    w = _wtp(wtp)
    table = _ranges_table(ct, params, pars, ranges)
    names = list(table.index)
    strategies = ct.strategy_names
    P, S = len(names), len(strategies)
    values = table[["low", "high"]].to_numpy(dtype=float)
    cost = np.empty((P, 2, S))
    effect = np.empty((P, 2, S))
    if probabilistic:
        base_cost, base_effect = _expected(ct, params)
        for i, name in enumerate(names):
            for j in range(2):
                cost[i, j], effect[i, j] = _expected(ct, with_values(params, {name: values[i, j]}))
        base_value = np.array([float(params[n].values.mean()) for n in names])
    else:
        b = _base_case(params, base)
        for name in names:
            if name not in b.data_vars:
                raise UnknownParameterError(f"parameter {name!r} is not in the base case")
        settings = [{name: values[i, j]} for i, name in enumerate(names) for j in range(2)]
        out = evaluate(ct, _replicate(b, [{}, *settings]))
        c, e = out["cost"].values.T, out["effect"].values.T  # (setting, strategy)
        base_cost, base_effect = c[0], e[0]
        cost[:] = c[1:].reshape(P, 2, S)
        effect[:] = e[1:].reshape(P, 2, S)
        base_value = np.array([float(b[n].values.reshape(-1)[0]) for n in names])
    nmb = _nmb(cost, effect, w)
    base_nmb = _nmb(base_cost, base_effect, w)
    names_arr = np.asarray(strategies, dtype=object)
    return xr.Dataset(
        {
            "value": (("parameter", "bound"), values),
            "cost": (("parameter", "bound", "strategy"), cost),
            "effect": (("parameter", "bound", "strategy"), effect),
            "nmb": (("parameter", "bound", "wtp", "strategy"), nmb),
            "recommended": (("parameter", "bound", "wtp"), names_arr[np.argmax(nmb, axis=-1)]),
            "base_value": ("parameter", base_value),
            "base_cost": ("strategy", base_cost),
            "base_effect": ("strategy", base_effect),
            "base_nmb": (("wtp", "strategy"), base_nmb),
            "base_recommended": ("wtp", names_arr[np.argmax(base_nmb, axis=-1)]),
        },
        coords={"parameter": names, "bound": ["low", "high"], "wtp": w, "strategy": strategies},
        attrs={"probabilistic": int(bool(probabilistic))},
    )


def tornado_table(ds: xr.Dataset, wtp: float, strategy_a: str, strategy_b: str) -> pd.DataFrame:
    """The tornado diagram of a one-way analysis: NMB(a) - NMB(b) per parameter and bound.

    As dampack's ``owsa_tornado``: the outcome at each parameter's low and high value, the
    base-case outcome, and the parameters ordered by the swing (the absolute difference
    between the outcome at the two bounds), largest first.

    Parameters
    ----------
    ds : xarray.Dataset
        The result of :func:`one_way`.
    wtp : float
        One willingness-to-pay value of ``ds``.
    strategy_a, strategy_b : str
        The strategies compared: the outcome is the expected NMB of ``strategy_a`` minus
        that of ``strategy_b`` (positive: ``strategy_a`` preferred).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter`` (largest swing first); columns ``low``, ``high`` (the
        parameter's values), ``base_value``, ``nmb_diff_low``, ``nmb_diff_high``,
        ``nmb_diff_base`` and ``swing``.

    Raises
    ------
    SensitivityInputError
        ``ds`` is not a one-way result, or the wtp or a strategy is not in it.

    Examples
    --------
    >>> import decisionmodel as dm
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {
    ...         "p": {"distribution": "uniform", "low": 0.2, "high": 0.6}, "c": {"value": 50}},
    ...     "tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": "c", "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> params = dm.sample_parameters(G, 1000, 1)
    >>> ds = one_way(G, params, 1000, ranges={"p": (0.25, 0.55), "c": (0, 100)},
    ...              base=dm.mean_parameters(G))
    >>> tab = tornado_table(ds, 1000, "treat", "wait")
    >>> tab.index.tolist(), tab["swing"].round(6).tolist(), tab["nmb_diff_low"].round(6).tolist()
    (['p', 'c'], [300.0, 100.0], [-100.0, 100.0])
    """
    needed = {"nmb", "value", "base_nmb", "base_value"}
    if not isinstance(ds, xr.Dataset) or not needed <= set(ds.data_vars):
        raise SensitivityInputError("tornado_table needs the result of one_way")
    w = float(np.asarray(wtp, dtype=float)) if np.ndim(wtp) == 0 else None
    if w is None or w not in ds["wtp"].values:
        raise SensitivityInputError(
            f"wtp {wtp!r} is not one of the analysis' values {ds['wtp'].values.tolist()}"
        )
    names = [str(s) for s in ds["strategy"].values]
    a, b = _strategy(names, strategy_a), _strategy(names, strategy_b)
    nmb = ds["nmb"].sel(wtp=w).values  # (parameter, bound, strategy)
    diff = nmb[..., a] - nmb[..., b]
    base_nmb = ds["base_nmb"].sel(wtp=w).values
    table = pd.DataFrame(
        {
            "low": ds["value"].sel(bound="low").values,
            "high": ds["value"].sel(bound="high").values,
            "base_value": ds["base_value"].values,
            "nmb_diff_low": diff[:, 0],
            "nmb_diff_high": diff[:, 1],
            "nmb_diff_base": float(base_nmb[a] - base_nmb[b]),
            "swing": np.abs(diff[:, 1] - diff[:, 0]),
        },
        index=pd.Index([str(p) for p in ds["parameter"].values], name="parameter"),
    )
    return table.sort_values("swing", ascending=False, kind="stable")


def two_way(
    tree: Tree,
    params: xr.Dataset,
    wtp: WTP,
    par_x: str,
    values_x: Sequence[float] | np.ndarray,
    par_y: str,
    values_y: Sequence[float] | np.ndarray,
    *,
    base: xr.Dataset | None = None,
    probabilistic: bool = False,
) -> xr.Dataset:
    """Two-way sensitivity analysis: expected NMB over a grid of two parameters.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (compiled once here if a graph).
    params : xarray.Dataset
        Parameter draws over ``sample``.
    wtp : float or sequence of float
        Willingness to pay per unit of effect.
    par_x, par_y : str
        The two parameters (different).
    values_x, values_y : sequence of float
        Their values (each non-empty, unique).
    base : xarray.Dataset, optional
        A one-draw base case; by default the means of the draws. Ignored when
        ``probabilistic``.
    probabilistic : bool
        Set the two parameters on every draw and keep the others as drawn (expected values
        over the draws); by default one vectorised evaluation of the grid on the base case.

    Returns
    -------
    xarray.Dataset
        Dimensions ``x`` (``values_x``), ``y`` (``values_y``), ``wtp`` and ``strategy``:
        ``cost``, ``effect`` (x, y, strategy), ``nmb`` (x, y, wtp, strategy) and
        ``recommended`` (x, y, wtp); ``attrs`` ``par_x``, ``par_y`` and ``probabilistic``.

    Raises
    ------
    SensitivityInputError
        A bad wtp or value grid, or the same parameter twice (named).
    UnknownParameterError
        A parameter the sample does not hold.

    Examples
    --------
    >>> import decisionmodel as dm
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {
    ...         "p": {"distribution": "uniform", "low": 0.2, "high": 0.6}, "c": {"value": 50}},
    ...     "tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": "c", "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> params = dm.sample_parameters(G, 100, 1)
    >>> ds = two_way(G, params, 1000, "p", [0.3, 0.4], "c", [0, 150])
    >>> ds["recommended"].sel(wtp=1000).values.tolist()
    [['treat', 'wait'], ['treat', 'wait']]
    """
    ct = _compiled(tree)
    params = _check_params(params)
    w = _wtp(wtp)
    px, py = _check_par(params, par_x), _check_par(params, par_y)
    if px == py:
        raise SensitivityInputError(f"par_x and par_y are both {px!r}; give two parameters")
    vx, vy = _values(px, values_x), _values(py, values_y)
    strategies = ct.strategy_names
    S = len(strategies)
    cost = np.empty((vx.size, vy.size, S))
    effect = np.empty((vx.size, vy.size, S))
    if probabilistic:
        for i, x in enumerate(vx):
            for j, y in enumerate(vy):
                cost[i, j], effect[i, j] = _expected(ct, with_values(params, {px: x, py: y}))
    else:
        b = _base_case(params, base)
        for name in (px, py):
            if name not in b.data_vars:
                raise UnknownParameterError(f"parameter {name!r} is not in the base case")
        settings = [{px: float(x), py: float(y)} for x in vx for y in vy]
        out = evaluate(ct, _replicate(b, settings))
        cost[:] = out["cost"].values.T.reshape(vx.size, vy.size, S)
        effect[:] = out["effect"].values.T.reshape(vx.size, vy.size, S)
    nmb = _nmb(cost, effect, w)
    names_arr = np.asarray(strategies, dtype=object)
    return xr.Dataset(
        {
            "cost": (("x", "y", "strategy"), cost),
            "effect": (("x", "y", "strategy"), effect),
            "nmb": (("x", "y", "wtp", "strategy"), nmb),
            "recommended": (("x", "y", "wtp"), names_arr[np.argmax(nmb, axis=-1)]),
        },
        coords={"x": vx, "y": vy, "wtp": w, "strategy": strategies},
        attrs={"par_x": px, "par_y": py, "probabilistic": int(bool(probabilistic))},
    )


def threshold(
    tree: Tree,
    params: xr.Dataset,
    wtp: float,
    par: str,
    *,
    strategies: Sequence[str] | None = None,
    bracket: tuple[float, float] | None = None,
    n_grid: int = 41,
    xtol: float = 1e-12,
) -> xr.Dataset:
    """The values of a parameter at which the recommended policy changes, and how likely
    the parameter lies where another policy is preferred.

    ``par`` is set to one value on every draw of ``params``, the other parameters kept as
    drawn, and the expected NMB of each strategy over the draws is a function of that
    value. The bracket is scanned on a grid of ``n_grid`` values; between two grid values
    where the recommended policy changes from A to B, :func:`scipy.optimize.brentq` finds
    the root of E[NMB_A] - E[NMB_B]. With ``strategies=(a, b)`` only those two are compared
    (the value where the preference between them changes).

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (compiled once here if a graph).
    params : xarray.Dataset
        Parameter draws over ``sample``.
    wtp : float
        One willingness-to-pay value.
    par : str
        The parameter.
    strategies : (str, str), optional
        Compare these two strategies only; by default all strategies.
    bracket : (float, float), optional
        The values searched; by default the 0.1%-99.9% range of the draws of ``par``.
    n_grid : int
        Grid values scanned for sign changes (at least 2); a change of policy and back
        between two grid values is not seen.
    xtol : float
        Absolute tolerance of the root, relative to the width of the bracket.

    Returns
    -------
    xarray.Dataset
        Dimension ``crossing`` (the thresholds in increasing order): ``threshold``,
        ``below`` and ``above`` (the recommended strategy just below and above each);
        dimension ``grid``: ``grid_value`` and ``grid_nmb`` (grid, strategy), the scan;
        scalars ``base_recommended`` (the recommendation of the draws as they are) and
        ``p_other``: the share of the draws of ``par`` that lie where a policy other than
        ``base_recommended`` is preferred (draws outside the bracket count with the end
        of the bracket they lie beyond), the probability that the decision is wrong on
        this input. ``attrs``: ``parameter``, ``wtp``, ``bracket``.

    Raises
    ------
    NoThresholdError
        The recommended policy (or the preference between ``strategies``) does not change
        over the bracket (the parameter named).
    SensitivityInputError
        A bad wtp, bracket, strategy or parameter (named).
    UnknownParameterError
        A parameter the sample does not hold.

    Examples
    --------
    Treat (cost 50, cured with probability p) or wait (effect 0.3): at wtp 1000 treating
    is better when 1000 p - 50 > 300, i.e. above p = 0.35.

    >>> import decisionmodel as dm
    >>> from decisionmodel.tree.io import tree_from_dict
    >>> G = tree_from_dict({"parameters": {
    ...         "p": {"distribution": "uniform", "low": 0.2, "high": 0.6}, "c": {"value": 50}},
    ...     "tree": {"kind": "decision", "name": "d", "branches": [
    ...     {"action": "treat", "kind": "chance", "cost": "c", "branches": [
    ...         {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
    ...         {"label": "not", "p": "#", "kind": "terminal", "effect": 0}]},
    ...     {"action": "wait", "kind": "terminal", "effect": 0.3}]}})
    >>> params = dm.sample_parameters(G, 10_000, 1)
    >>> res = threshold(G, params, 1000, "p")
    >>> round(float(res["threshold"][0]), 9), res["below"].values.tolist(), res["above"].values.tolist()
    (0.35, ['wait'], ['treat'])
    >>> str(res["base_recommended"].values), round(float(res["p_other"]), 2)
    ('treat', 0.37)
    """
    ct = _compiled(tree)
    params = _check_params(params)
    w = _wtp(wtp)
    if w.size != 1:
        raise SensitivityInputError(f"threshold takes one wtp value, got {w.tolist()}")
    name = _check_par(params, par)
    draws = np.asarray(params[name].values, dtype=float).reshape(-1)
    if bracket is None:
        lo, hi = (float(v) for v in np.quantile(draws, [0.001, 0.999]))
    else:
        try:
            lo, hi = (float(v) for v in bracket)
        except (TypeError, ValueError):
            raise SensitivityInputError(
                f"parameter {name!r}: bracket must be (low, high), got {bracket!r}"
            ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise SensitivityInputError(
            f"parameter {name!r}: the bracket must be finite with low < high, got ({lo}, {hi})"
        )
    if isinstance(n_grid, bool) or not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise SensitivityInputError(f"n_grid must be an integer >= 2, got {n_grid!r}")
    names = ct.strategy_names
    if strategies is None:
        idx = list(range(len(names)))
    else:
        if isinstance(strategies, str) or len(strategies) != 2:
            raise SensitivityInputError(
                f"strategies must be two strategy names, got {strategies!r}"
            )
        idx = [_strategy(names, s) for s in strategies]
        if idx[0] == idx[1]:
            raise SensitivityInputError(f"strategies names {strategies[0]!r} twice")

    def enmb(v: float) -> np.ndarray:
        cost, effect = _expected(ct, with_values(params, {name: v}))
        return w[0] * effect - cost

    grid = np.linspace(lo, hi, int(n_grid))
    grid_nmb = np.array([enmb(float(v)) for v in grid])  # (grid, strategy)
    best = np.asarray(idx)[np.argmax(grid_nmb[:, idx], axis=1)]
    crossings: list[tuple[float, int, int]] = []
    for i in np.flatnonzero(best[1:] != best[:-1]):
        a, b = int(best[i]), int(best[i + 1])

        def diff(v: float, a: int = a, b: int = b) -> float:
            nb = enmb(v)
            return float(nb[a] - nb[b])

        fa = grid_nmb[i, a] - grid_nmb[i, b]
        fb = grid_nmb[i + 1, a] - grid_nmb[i + 1, b]
        if fa == 0.0:
            root = float(grid[i])
        elif fb == 0.0:
            root = float(grid[i + 1])
        else:
            root = float(brentq(diff, grid[i], grid[i + 1], xtol=xtol * (hi - lo)))
        crossings.append((root, a, b))
    if not crossings:
        what = (
            "the recommended policy"
            if strategies is None
            else f"the preference between {names[idx[0]]!r} and {names[idx[1]]!r}"
        )
        raise NoThresholdError(
            f"parameter {name!r}: {what} does not change over [{lo:g}, {hi:g}] at wtp "
            f"{w[0]:g} (always {names[int(best[0])]!r}); no threshold in the bracket"
        )
    cost0, effect0 = _expected(ct, params)
    nmb0 = w[0] * effect0 - cost0
    base_best = int(np.asarray(idx)[np.argmax(nmb0[idx])])
    # the policy preferred on each interval between thresholds (first: below the first one)
    roots = np.array([c[0] for c in crossings])
    region_best = np.array([crossings[0][1]] + [c[2] for c in crossings])
    region = np.searchsorted(roots, draws, side="right")
    p_other = float(np.mean(region_best[region] != base_best))
    names_arr = np.asarray(names, dtype=object)
    return xr.Dataset(
        {
            "threshold": ("crossing", roots),
            "below": ("crossing", names_arr[[c[1] for c in crossings]]),
            "above": ("crossing", names_arr[[c[2] for c in crossings]]),
            "grid_value": ("grid", grid),
            "grid_nmb": (("grid", "strategy"), grid_nmb),
            "base_recommended": ((), names_arr[base_best]),
            "p_other": ((), p_other),
        },
        coords={"crossing": np.arange(len(crossings)), "strategy": names},
        attrs={"parameter": name, "wtp": float(w[0]), "bracket": (lo, hi)},
    )
