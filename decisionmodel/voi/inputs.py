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

Pairing draws: by label, else by position
-----------------------------------------
A function that takes two objects of draws (outcomes and parameter draws, or costs and
effects given separately) pairs draw *i* of one with draw *i* of the other only by position
when it has to. An object **labels** its draws when

* it is an xarray object whose ``sample`` dimension has a coordinate (as
  :func:`decisionmodel.sample_parameters` and :func:`decisionmodel.evaluate` give), or
* it is a :class:`pandas.DataFrame` whose index is not the default ``RangeIndex``
  0, 1, …, n−1 (an index set from a column, ``Dataset.to_dataframe()``, a subset or a
  permutation of rows: ``df.iloc[perm]``).

A default ``RangeIndex`` (what :func:`pandas.read_csv`, ``DataFrame(array)`` and
``reset_index`` give), a numpy array, a mapping of arrays and an xarray object without a
``sample`` coordinate carry no labels: their draws are in positional order.

When both objects label their draws, they are matched by label (:func:`align_draws`): the
same labels in another order are reordered (the parameter draws' order is kept; costs keep
theirs against effects), and different label sets, or a label that repeats, raise
:class:`~decisionmodel.exceptions.VOIInputError` naming the labels that differ. Two identical
label sequences need no matching. When either object is unlabelled the draws pair by
position and the numbers of draws must agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.exceptions import VOIInputError
from decisionmodel.netbenefit import check_wtp
from decisionmodel.rng import RNGLike, as_generator


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

    Examples
    --------
    >>> import numpy as np
    >>> net = NetBenefit(np.zeros((1, 2, 5)), ["a", "b"], None)
    >>> net.n_samples, net.labelled(np.array([3.0]), "value").item()
    (5, 3.0)
    """

    values: np.ndarray
    strategies: list[str]
    wtp: np.ndarray | None

    @property
    def n_samples(self) -> int:
        """The number of draws."""
        return self.values.shape[2]

    def labelled(
        self,
        data: np.ndarray,
        name: str,
        extra_dims: Sequence[str] = (),
        coords: Mapping | None = None,
    ) -> xr.DataArray:
        """Wrap per-WTP results (leading axis = wtp) as a DataArray; drop wtp when absent.

        Parameters
        ----------
        data : numpy.ndarray
            Results with a leading WTP axis of length n_wtp (1 without a grid).
        name : str
            The DataArray's name.
        extra_dims : sequence of str
            Names of the axes after the WTP axis.
        coords : mapping, optional
            Their coordinates.

        Returns
        -------
        xarray.DataArray
            Dims ``("wtp", *extra_dims)``, or ``extra_dims`` alone when there is no grid.
        """
        dims = ("wtp", *extra_dims)
        c = dict(coords or {})
        if self.wtp is None:
            arr = np.asarray(data)[0]
            return xr.DataArray(arr, dims=tuple(extra_dims), coords=c, name=name)
        c["wtp"] = self.wtp
        return xr.DataArray(np.asarray(data), dims=dims, coords=c, name=name)


def _required_generator(rng: RNGLike | None) -> np.random.Generator:
    """The generator of an ``rng`` argument that defaults to None, for a step that draws.

    The voi functions take ``rng=None`` so that a call that draws nothing needs no seed; a
    step that draws hands its ``rng`` to :func:`~decisionmodel.rng.as_generator`, which
    refuses None with the TypeError of the package's one rng convention ("rng is required:
    ...").

    Parameters
    ----------
    rng : Generator, SeedSequence, int or None
        The argument as the caller gave it.

    Returns
    -------
    numpy.random.Generator
    """
    return as_generator(rng)


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


# --------------------------------------------------------------------------- sample labels
_SHOWN = 5  # labels named in a message


def sample_labels(x: Any) -> pd.Index | None:
    """The labels of the draws of ``x``, or None when its draws pair by position.

    See the module docstring: an xarray object's ``sample`` coordinate, a DataFrame's index
    unless it is the default ``RangeIndex`` 0, 1, …, n−1; nothing else is labelled.

    Parameters
    ----------
    x : any
        Draws in any layout the VOI functions accept.

    Returns
    -------
    pandas.Index or None

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> da = xr.DataArray(np.zeros((2, 3)), dims=("strategy", "sample"),
    ...                   coords={"sample": [10, 11, 12]})
    >>> sample_labels(da).tolist()
    [10, 11, 12]
    >>> sample_labels(pd.DataFrame({"a": [1.0, 2.0]})) is None     # default RangeIndex
    True
    >>> sample_labels(pd.DataFrame({"a": [1.0, 2.0]}).iloc[[1, 0]]).tolist()
    [1, 0]
    >>> sample_labels(np.zeros((3, 2))) is None
    True
    """
    if isinstance(x, xr.DataArray | xr.Dataset):
        if "sample" in x.dims and "sample" in x.indexes:
            return x.indexes["sample"]
        return None
    if isinstance(x, pd.DataFrame):
        idx = x.index
        if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
            return None
        return idx
    return None


def _examples(labels: pd.Index) -> str:
    shown = ", ".join(repr(v) for v in labels[:_SHOWN].tolist())
    return shown + (f", … ({len(labels)} in all)" if len(labels) > _SHOWN else "")


def _match(ref: pd.Index, labels: pd.Index, ref_what: str, what: str) -> np.ndarray | None:
    """Positions in ``labels`` of the labels of ``ref``, in ``ref``'s order; None when the
    two sequences are the same (nothing to reorder)."""
    if ref.equals(labels):
        return None
    for lab, name, other in ((labels, what, ref_what), (ref, ref_what, what)):
        if lab.has_duplicates:
            dupes = lab[lab.duplicated()].unique()
            raise VOIInputError(
                f"{name}: sample label(s) {_examples(dupes)} repeat, so its draws cannot be "
                f"matched to those of {other} by label"
            )
    missing = ref.difference(labels, sort=False)
    extra = labels.difference(ref, sort=False)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(
                f"{what} lacks {len(missing)} label(s) of {ref_what}: {_examples(missing)}"
            )
        if len(extra):
            parts.append(
                f"{what} has {len(extra)} label(s) that {ref_what} lacks: {_examples(extra)}"
            )
        raise VOIInputError(
            f"{what} and {ref_what} hold different draws, matched by their sample labels "
            f"({len(labels)} and {len(ref)} draws): {'; '.join(parts)}"
        )
    return labels.get_indexer(ref)


def _take(x: Any, order: np.ndarray, what: str) -> Any:
    """The draws of ``x`` in the order ``order`` (positions).

    An unlabelled ``x`` (the positional partner of labelled costs or effects) becomes a
    positional frame again; one of another length is returned as it is, for the check of
    the numbers of draws to name.
    """
    if sample_labels(x) is None:
        frame = _frame(x, what)
        if len(frame) != len(order):
            return x
        return frame.iloc[order].reset_index(drop=True)
    if isinstance(x, pd.DataFrame):
        return x.iloc[order]
    return x.isel(sample=order)


def align_draws(
    inputs: Any = None, nb: Any = None, *, costs: Any = None, effects: Any = None
) -> tuple[Any, Any, Any]:
    """Outcomes with their draws matched to those of ``inputs`` by sample label.

    The rules are in the module docstring. Effects are first matched to costs (when both
    are labelled), then the outcomes (``nb``, or the costs and effects together) to the
    parameter draws ``inputs``: the parameter draws keep their order. Objects that need no
    reordering are returned as they are, so unlabelled or already aligned input gives
    exactly the numbers it gave before.

    Parameters
    ----------
    inputs : Dataset, DataFrame, mapping or None
        The parameter draws (None: only costs and effects are matched).
    nb : DataArray, DataFrame, array, outcomes Dataset or None
        Net benefit or engine outcomes.
    costs, effects : optional
        Costs and effects given separately.

    Returns
    -------
    tuple
        ``(nb, costs, effects)``, reordered where their labels asked for it.

    Raises
    ------
    VOIInputError
        Both sides label their draws and the label sets differ (a label missing on one
        side, or extra) or a label repeats; the message names the labels.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> params = xr.Dataset({"a": ("sample", [1.0, 2.0, 3.0])}, coords={"sample": [0, 1, 2]})
    >>> nb = pd.DataFrame({"old": [0.0, 0.0, 0.0], "new": [30.0, 10.0, 20.0]}, index=[2, 0, 1])
    >>> align_draws(params, nb)[0]["new"].tolist()
    [10.0, 20.0, 30.0]
    >>> align_draws(params, nb.iloc[:2])
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.VOIInputError: nb and inputs hold different draws, matched by their sample labels (2 and 3 draws): nb lacks 1 label(s) of inputs: 1
    """
    if costs is not None and effects is not None:
        c_lab, e_lab = sample_labels(costs), sample_labels(effects)
        if c_lab is not None and e_lab is not None:
            order = _match(c_lab, e_lab, "costs", "effects")
            if order is not None:
                effects = _take(effects, order, "effects")
    ref = None if inputs is None else sample_labels(inputs)
    if ref is None:
        return nb, costs, effects
    if nb is not None:
        labels = sample_labels(nb)
        if labels is not None:
            order = _match(ref, labels, "inputs", "nb")
            if order is not None:
                nb = _take(nb, order, "nb")
        return nb, costs, effects
    labels = next(
        (lab for lab in (sample_labels(costs), sample_labels(effects)) if lab is not None),
        None,
    )
    if labels is not None:
        what = "costs" if sample_labels(costs) is not None else "effects"
        order = _match(ref, labels, "inputs", what)
        if order is not None:
            costs = _take(costs, order, "costs")
            effects = _take(effects, order, "effects")
    return nb, costs, effects


def _wtp_grid(wtp: Any) -> np.ndarray:
    return check_wtp(wtp, error=VOIInputError)


def as_net_benefit(
    nb: Any = None, *, costs: Any = None, effects: Any = None, wtp: Any = None
) -> NetBenefit:
    """Normalise net-benefit input (see the module docstring).

    Parameters
    ----------
    nb : DataArray, DataFrame, 2-D array or outcomes Dataset, optional
        Net-benefit draws; an outcomes Dataset (``cost``, ``effect``) needs ``wtp``.
    costs, effects : optional
        Instead of ``nb``: costs and effects in the same layouts. Labelled draws are
        matched by label (:func:`align_draws`).
    wtp : float or sequence, optional
        The willingness-to-pay grid of costs and effects (required with them, refused
        with net benefit).

    Returns
    -------
    NetBenefit

    Raises
    ------
    VOIInputError
        Missing or conflicting arguments, a bad layout or value, fewer than 2 draws or
        strategies, costs and effects that do not match.

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
        _, costs, effects = align_draws(costs=costs, effects=effects)
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

    Parameters
    ----------
    inputs : Dataset, DataFrame or mapping
        Parameter draws: Dataset variables over ``sample`` (scalar variables are left
        out), DataFrame columns or mapping values.
    n_samples : int, optional
        The number of draws the outcomes have; another number of rows is an error.

    Returns
    -------
    pandas.DataFrame
        Float columns, default ``RangeIndex``.

    Raises
    ------
    VOIInputError
        A variable over other dimensions, non-numeric or non-finite values, repeated
        names, fewer than 2 draws, or a row count other than ``n_samples``.

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

    Parameters
    ----------
    pars : str, list of str or list of lists
        The parameter group(s).
    available : sequence of str
        The parameter names there are.

    Returns
    -------
    list of list of str

    Raises
    ------
    VOIInputError
        Another shape, an unknown name, or a group naming a parameter twice.

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
    """The label of a parameter group in results: names joined by ','.

    Parameters
    ----------
    group : sequence of str
        The parameter names of the group.

    Returns
    -------
    str

    Examples
    --------
    >>> group_label(["a", "b"])
    'a,b'
    """
    return ",".join(group)
