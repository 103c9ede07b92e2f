"""Input handling shared by the value-of-information functions.

Net benefit can be given as

* ``nb``: draws of net benefit per strategy — an :class:`xarray.DataArray` with dims
  ``("strategy", "sample")`` (optionally also ``"wtp"``), a :class:`pandas.DataFrame`
  (rows = draws, one column per strategy, the layout of voi/BCEA/SAVI CSV files), or a
  2-D array (draws × strategies);
* ``costs`` and ``effects`` in the same layouts plus an explicit ``wtp`` (scalar or
  grid), giving results per WTP; or an engine outcomes :class:`xarray.Dataset`
  (``cost`` and ``effect`` over ``strategy`` × ``sample``) as ``nb`` together with ``wtp``.

Parameter draws (``inputs``) can be an :class:`xarray.Dataset` with a ``sample``
dimension (as :func:`decisionmodel.sample_parameters` returns), a DataFrame with one
column per parameter, or a mapping of 1-D arrays.

Everything is normalised to :class:`NetBenefit` (a float array of shape
(n_wtp, n_strategies, n_samples)) and a float DataFrame; bad input raises
:class:`~decisionmodel.exceptions.VOIInputError` with a message saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.exceptions import VOIInputError


@dataclass(frozen=True)
class NetBenefit:
    """Net-benefit draws in canonical form.

    Attributes
    ----------
    values : numpy.ndarray
        Shape (n_wtp, n_strategies, n_samples). Without a WTP grid n_wtp is 1.
    strategies : list of str
    wtp : numpy.ndarray or None
        The WTP grid, or None when net benefit was given directly.
    """

    values: np.ndarray
    strategies: list[str]
    wtp: np.ndarray | None

    @property
    def n_samples(self) -> int:
        return self.values.shape[2]

    def labelled(
        self,
        data: np.ndarray,
        name: str,
        extra_dims: Sequence[str] = (),
        coords: Mapping | None = None,
    ) -> xr.DataArray:
        """Wrap per-WTP results (leading axis = wtp) as a DataArray; drop wtp when absent."""
        dims = ("wtp", *extra_dims)
        c = dict(coords or {})
        if self.wtp is None:
            arr = np.asarray(data)[0]
            return xr.DataArray(arr, dims=tuple(extra_dims), coords=c, name=name)
        c["wtp"] = self.wtp
        return xr.DataArray(np.asarray(data), dims=dims, coords=c, name=name)


def _frame(x: Any, what: str) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        df = x
    elif isinstance(x, xr.DataArray):
        if x.ndim != 2:
            raise VOIInputError(f"{what}: expected 2 dimensions (sample, strategy), got {x.dims}")
        dims = list(x.dims)
        sample_dim = "sample" if "sample" in dims else dims[0]
        other = next(d for d in dims if d != sample_dim)
        x = x.transpose(sample_dim, other)
        df = pd.DataFrame(
            x.values, columns=[str(v) for v in x[other].values] if other in x.coords else None
        )
    elif isinstance(x, Mapping):
        try:
            df = pd.DataFrame({str(k): np.asarray(v) for k, v in x.items()})
        except ValueError as exc:
            raise VOIInputError(f"{what}: columns differ in length ({exc})") from None
    else:
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise VOIInputError(
                f"{what}: expected a 2-D table (draws × columns), got {arr.ndim} dimension(s)"
            )
        df = pd.DataFrame(arr, columns=[str(i) for i in range(arr.shape[1])])
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        raise VOIInputError(f"{what}: column names repeat")
    bad = [
        c
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
    ]
    if bad:
        raise VOIInputError(f"{what}: column(s) {', '.join(bad)} are not numeric")
    values = df.to_numpy(dtype=float)
    if values.shape[0] < 2:
        raise VOIInputError(f"{what}: need at least 2 draws, got {values.shape[0]}")
    if not np.isfinite(values).all():
        rows, cols = np.nonzero(~np.isfinite(values))
        raise VOIInputError(
            f"{what}: NaN or infinite value in column {df.columns[cols[0]]!r}, row {rows[0] + 1} "
            f"({len(rows)} such value(s))"
        )
    return pd.DataFrame(values, columns=df.columns)


def _wtp_grid(wtp: Any) -> np.ndarray:
    w = np.atleast_1d(np.asarray(wtp, dtype=float))
    if w.ndim != 1 or w.size == 0:
        raise VOIInputError("wtp: expected a number or a 1-D grid of numbers")
    if not np.isfinite(w).all() or (w < 0).any():
        raise VOIInputError(f"wtp: values must be finite and >= 0, got {w.tolist()}")
    if len(np.unique(w)) != len(w):
        raise VOIInputError("wtp: values repeat")
    return w


def as_net_benefit(
    nb: Any = None, *, costs: Any = None, effects: Any = None, wtp: Any = None
) -> NetBenefit:
    """Normalise net-benefit input (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> nb = as_net_benefit(np.array([[1.0, 2.0], [3.0, 1.0]]))
    >>> nb.values.shape, nb.strategies, nb.wtp
    ((1, 2, 2), ['0', '1'], None)
    >>> ce = as_net_benefit(costs=[[0, 10], [0, 10]], effects=[[0, 1], [0, 2]], wtp=[5, 20])
    >>> ce.values[:, 1, :]
    array([[-5.,  0.],
           [10., 30.]])
    """
    if isinstance(nb, xr.Dataset):
        if "cost" not in nb or "effect" not in nb:
            raise VOIInputError("nb: a Dataset must hold 'cost' and 'effect' (engine outcomes)")
        if costs is not None or effects is not None:
            raise VOIInputError("give either nb or costs and effects, not both")
        costs, effects, nb = nb["cost"], nb["effect"], None
    if nb is not None:
        if costs is not None or effects is not None:
            raise VOIInputError("give either nb or costs and effects, not both")
        if isinstance(nb, xr.DataArray) and "wtp" in nb.dims:
            if wtp is not None:
                raise VOIInputError("nb already has a wtp dimension; do not pass wtp")
            grid = _wtp_grid(nb["wtp"].values)
            per = [_frame(nb.sel(wtp=w), "nb") for w in nb["wtp"].values]
            values = np.stack([df.to_numpy().T for df in per])
            names = list(per[0].columns)
        else:
            if wtp is not None:
                raise VOIInputError("wtp is only meaningful with costs and effects")
            df = _frame(nb, "nb")
            values = df.to_numpy().T[None]
            names = list(df.columns)
            grid = None
    else:
        if costs is None or effects is None:
            raise VOIInputError("give nb, or both costs and effects (with wtp)")
        if wtp is None:
            raise VOIInputError("wtp is required with costs and effects (it is always explicit)")
        c = _frame(costs, "costs")
        e = _frame(effects, "effects")
        if c.shape != e.shape:
            raise VOIInputError(f"costs has shape {c.shape} but effects has {e.shape}")
        if list(c.columns) != list(e.columns) and not all(col.isdigit() for col in c.columns):
            raise VOIInputError(
                f"costs and effects name different strategies: {list(c.columns)} vs {list(e.columns)}"
            )
        grid = _wtp_grid(wtp)
        values = grid[:, None, None] * e.to_numpy().T[None] - c.to_numpy().T[None]
        names = list(c.columns)
    if values.shape[1] < 2:
        raise VOIInputError(f"need at least 2 strategies to compare, got {values.shape[1]}")
    return NetBenefit(np.ascontiguousarray(values), names, grid)


def as_inputs(inputs: Any, n_samples: int | None = None) -> pd.DataFrame:
    """Normalise parameter draws to a float DataFrame (rows = draws).

    Examples
    --------
    >>> as_inputs({"a": [1.0, 2.0], "b": [0.5, 0.1]}).columns.tolist()
    ['a', 'b']
    """
    if isinstance(inputs, xr.Dataset):
        cols = {}
        for name, var in inputs.data_vars.items():
            if var.dims == ("sample",):
                cols[str(name)] = var.values
            elif var.ndim == 0:
                continue
            else:
                raise VOIInputError(
                    f"inputs: parameter {name!r} has dimensions {var.dims}; expected ('sample',)"
                )
        df = _frame(cols, "inputs")
    else:
        df = _frame(inputs, "inputs")
    if n_samples is not None and len(df) != n_samples:
        raise VOIInputError(f"inputs has {len(df)} rows but net benefit has {n_samples} draws")
    return df


def parameter_groups(pars: Any, available: Sequence[str]) -> list[list[str]]:
    """Normalise ``pars``: a name → one group of one; a list of names → one group; a list
    of lists → several groups.

    Examples
    --------
    >>> parameter_groups("a", ["a", "b"]), parameter_groups(["a", "b"], ["a", "b"])
    ([['a']], [['a', 'b']])
    >>> parameter_groups([["a"], ["a", "b"]], ["a", "b"])
    [['a'], ['a', 'b']]
    """
    if isinstance(pars, str):
        groups = [[pars]]
    elif isinstance(pars, Sequence) and pars and all(isinstance(p, str) for p in pars):
        groups = [list(pars)]
    elif (
        isinstance(pars, Sequence)
        and pars
        and all(
            isinstance(g, Sequence)
            and not isinstance(g, str)
            and g
            and all(isinstance(p, str) for p in g)
            for g in pars
        )
    ):
        groups = [list(g) for g in pars]
    else:
        raise VOIInputError(
            "pars: give a parameter name, a list of names (one group), or a list of lists (several groups)"
        )
    known = set(available)
    unknown = sorted({p for g in groups for p in g if p not in known})
    if unknown:
        raise VOIInputError(
            f"unknown parameter name(s) {', '.join(unknown)} (available: {', '.join(available)})"
        )
    for g in groups:
        if len(set(g)) != len(g):
            raise VOIInputError(f"parameter group {g} names a parameter twice")
    return groups


def group_label(group: Sequence[str]) -> str:
    """The label of a parameter group in results: names joined by ','."""
    return ",".join(group)
