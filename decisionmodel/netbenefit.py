"""Net-benefit kernels shared by cost-effectiveness and value of information.

Two things both :mod:`decisionmodel.cea` and :mod:`decisionmodel.voi` need, defined once:
the check of a willingness-to-pay grid (:func:`check_wtp`) and the per-draw opportunity
loss of the decision taken now (:func:`opportunity_loss`), whose mean is the EVPI. The
decision table's EVPI (:func:`decisionmodel.cea.summary`) and :func:`decisionmodel.voi.evpi`
are both that mean, computed by this one function.

Plain numpy: this module imports nothing else of the package, so both layers can use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_wtp(
    wtp: Any, *, error: type[Exception] = ValueError, positive: bool = False
) -> np.ndarray:
    """A willingness-to-pay value or grid as a non-empty 1-D array of finite, non-negative,
    unique floats.

    Parameters
    ----------
    wtp : float or sequence of float
        One value or a grid (any 1-D array-like).
    error : exception class
        Raised for a bad grid, with a message saying why (each layer passes its own input
        error, e.g. :class:`~decisionmodel.exceptions.CEAInputError`).
    positive : bool
        Also refuse 0 (net health benefit divides by the WTP).

    Returns
    -------
    numpy.ndarray
        The values, in the order given, as float64.

    Raises
    ------
    error
        Not numbers, more than one dimension, empty, not finite, negative (or 0 with
        ``positive``), or a value repeated.

    Examples
    --------
    >>> check_wtp(20000).tolist()
    [20000.0]
    >>> check_wtp([0, 30000, 20000]).tolist()
    [0.0, 30000.0, 20000.0]
    >>> check_wtp([1, 1])
    Traceback (most recent call last):
    ...
    ValueError: wtp values must be unique, got [1.0, 1.0]
    """
    try:
        arr = np.asarray(wtp, dtype=float)
    except (TypeError, ValueError) as exc:
        raise error(f"wtp must be a number or a 1-D sequence of numbers: {exc}") from None
    if arr.ndim > 1:
        raise error(f"wtp must be a scalar or 1-D, got shape {arr.shape}")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        raise error("wtp is empty; give at least one willingness-to-pay value")
    if not np.isfinite(arr).all():
        raise error(f"wtp must be finite, got {arr[~np.isfinite(arr)].tolist()}")
    if (arr < 0).any():
        raise error(f"wtp must be non-negative (>= 0), got {arr[arr < 0].tolist()}")
    if positive and (arr <= 0).any():
        raise error(
            "wtp must be > 0 for net health benefit (effect - cost / wtp), "
            f"got {arr[arr <= 0].tolist()}"
        )
    if np.unique(arr).size != arr.size:
        raise error(f"wtp values must be unique, got {arr.tolist()}")
    return arr


def opportunity_loss(values: np.ndarray) -> np.ndarray:
    """Per-draw loss of the decision taken now: max_d NB_d − NB_{d*}, shape (n_wtp, n_samples).

    d* is the strategy with the highest mean net benefit at each WTP (the first one in a
    tie); the mean of the loss over the draws is the EVPI, E[max_d NB_d] − max_d E[NB_d],
    in a form that is non-negative and free of cancellation between two large numbers.

    Parameters
    ----------
    values : numpy.ndarray
        Net benefit, shape (n_wtp, n_strategies, n_samples).

    Returns
    -------
    numpy.ndarray
        Shape (n_wtp, n_samples), every value >= 0.

    See Also
    --------
    decisionmodel.voi.evpi : the EVPI and its standard error from this loss.
    decisionmodel.cea.summary : the decision table, whose ``evpi`` is its mean.

    Examples
    --------
    >>> import numpy as np
    >>> opportunity_loss(np.array([[[10.0, 0.0], [0.0, 20.0]]])).tolist()   # d* = strategy 2
    [[10.0, 0.0]]
    """
    best_now = values.mean(axis=2).argmax(axis=1)
    chosen = np.take_along_axis(values, best_now[:, None, None], axis=1)[:, 0, :]
    return values.max(axis=1) - chosen
