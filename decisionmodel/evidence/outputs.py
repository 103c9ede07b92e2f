"""The outputs of a fitted evidence model as flat arrays: the check of the
:class:`~decisionmodel.evidence.registry.ModelSpec` ``outputs`` contract (DataArrays over
exactly ``(chain, draw)``, identifier names, one size) and the chain-major flattening.

Used by :mod:`~decisionmodel.evidence.fit` (which checks a model's outputs before caching
its fit) and by :mod:`~decisionmodel.evidence.tree_draws` (which turns them into
parameter draws; :mod:`~decisionmodel.evidence.draws` re-exports both functions); it
imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from decisionmodel.exceptions import ParameterDrawsError

if TYPE_CHECKING:
    from decisionmodel.evidence.registry import ModelSpec

__all__ = ["flat_outputs", "posterior_outputs"]


def posterior_outputs(spec: ModelSpec, dt: xr.DataTree) -> dict[str, np.ndarray]:
    """A model's outputs as flat arrays over ``sample`` (chain-major: chain 0's draws first).

    Parameters
    ----------
    spec : ModelSpec
        The model; its ``outputs(dt)`` is called.
    dt : xarray.DataTree
        Its fit.

    Returns
    -------
    dict
        Output name -> 1-d float array of chains × draws values, all of one length.

    Raises
    ------
    ParameterDrawsError
        ``outputs`` returned something other than DataArrays over exactly
        ``(chain, draw)``, or arrays of different lengths.

    See Also
    --------
    flat_outputs : The check and the flattening.

    Examples
    --------
    >>> import numpy as np, xarray as xr, pymc as pm
    >>> from decisionmodel.evidence.registry import ModelSpec, empty_checks
    >>> spec = ModelSpec("m", (), lambda ev: pm.Model(),
    ...                  lambda dt: {"x": dt["posterior"]["p"]}, lambda dt, ev: empty_checks())
    >>> post = xr.Dataset({"p": (("chain", "draw"), np.arange(4.0).reshape(2, 2))})
    >>> posterior_outputs(spec, xr.DataTree.from_dict({"posterior": post}))["x"].tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    return flat_outputs(spec.name, spec.outputs(dt))


def flat_outputs(
    model: str, outs: Any, *, what: str = "output", size: int | None = None
) -> dict[str, np.ndarray]:
    """Check a mapping name -> DataArray over ``(chain, draw)`` and flatten it chain-major.

    Parameters
    ----------
    model : str
        The model's name, for messages.
    outs : mapping
        Output name (an identifier) -> :class:`xarray.DataArray` over exactly
        ``(chain, draw)``, in either order.
    what : str
        The kind of output, for messages (e.g. ``"profile output"``).
    size : int, optional
        The number of draws every array must have (e.g. that of the model's posterior
        outputs); by default that of the first array.

    Returns
    -------
    dict
        Name -> 1-d float array (chain 0's draws first), in the order of ``outs``.

    Raises
    ------
    ParameterDrawsError
        Not a mapping, a name that is not an identifier, an array not over exactly
        ``(chain, draw)``, or arrays of different lengths.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("chain", "draw"))
    >>> flat_outputs("m", {"x": da})["x"].tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    if not isinstance(outs, Mapping):
        raise ParameterDrawsError(
            f"evidence model {model!r}: {what}s returned {type(outs).__name__}, not a dict"
        )
    flat: dict[str, np.ndarray] = {}
    for name, da in outs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ParameterDrawsError(
                f"evidence model {model!r}: {what} name {name!r} is not an identifier"
            )
        if not isinstance(da, xr.DataArray) or set(da.dims) != {"chain", "draw"}:
            dims = getattr(da, "dims", type(da).__name__)
            raise ParameterDrawsError(
                f"evidence model {model!r}: {what} {name!r} must be a DataArray over "
                f"(chain, draw) exactly, got dims {dims}"
            )
        values = np.asarray(da.transpose("chain", "draw").values, dtype=float).reshape(-1)
        if size is not None and values.size != size:
            raise ParameterDrawsError(
                f"evidence model {model!r}: {what} {name!r} has {values.size} draws, "
                f"the others {size}"
            )
        size = values.size
        flat[name] = values
    return flat
