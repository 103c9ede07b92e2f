"""Resampling of posterior draws to the size of a parameter sample.

There is one path from fitted posteriors to the engine's parameter sample:
:func:`decisionmodel.evidence.tree_draws.tree_draws`, which gives a tree's parameters their
posterior draws where they are linked (``posterior: MODEL.OUTPUT``) and their declared
distributions elsewhere. This module holds the resampling it applies to each model's draws
(:func:`resample_index`: one index per model, so that the outputs of a model keep their joint
distribution), and re-exports :func:`~decisionmodel.evidence.outputs.posterior_outputs` and
:func:`~decisionmodel.evidence.outputs.flat_outputs`, which turn a model's outputs into flat
arrays over ``sample`` (chain-major).

Examples
--------
>>> import numpy as np, xarray as xr
>>> da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("chain", "draw"))
>>> x = flat_outputs("m", {"x": da})["x"]
>>> idx = resample_index(x.size, 4, np.random.default_rng(1))
>>> sorted(set(x[idx].tolist())) == sorted(x[idx].tolist())  # 4 of the 6 draws, no repeats
True
"""

from __future__ import annotations

import numpy as np

from decisionmodel.evidence.outputs import flat_outputs, posterior_outputs
from decisionmodel.rng import RNGLike, as_generator

__all__ = ["flat_outputs", "posterior_outputs", "resample_index"]


def resample_index(size: int, n: int, rng: RNGLike) -> np.ndarray:
    """Indices into ``size`` draws giving ``n`` draws.

    ``n <= size``: a random subset without replacement (a random permutation when
    ``n == size``). ``n > size``: with replacement, balanced — every draw is used
    ``n // size`` or ``n // size + 1`` times (which ones get the extra use is random) — in
    random order. This is how :func:`~decisionmodel.evidence.tree_draws.tree_draws`
    resamples each model's posterior.

    Parameters
    ----------
    size : int
        Number of draws available (a model's chains × draws), at least 1.
    n : int
        Number of draws wanted, at least 1.
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        Randomness of the choice (see :func:`decisionmodel.rng.as_generator`).

    Returns
    -------
    numpy.ndarray
        ``n`` integer indices in ``0 .. size - 1``.

    Raises
    ------
    TypeError
        ``rng`` is not a generator, a seed sequence or an int seed.

    See Also
    --------
    decisionmodel.evidence.tree_draws.tree_draws : The parameter sample it serves.

    Examples
    --------
    >>> import numpy as np
    >>> idx = resample_index(3, 7, np.random.default_rng(0))
    >>> sorted(np.bincount(idx, minlength=3).tolist())
    [2, 2, 3]
    >>> len(set(resample_index(10, 4, np.random.default_rng(0)).tolist()))
    4
    """
    rng = as_generator(rng)
    if n <= size:
        return rng.choice(size, size=n, replace=False)
    reps, rest = divmod(n, size)
    idx = np.concatenate([np.tile(np.arange(size), reps), rng.choice(size, rest, replace=False)])
    return rng.permutation(idx)
