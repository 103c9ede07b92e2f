"""The vocabulary of formulas: the functions a formula may call, its named constants, and
the names reserved for them and for the cycle variables of Markov models.

It is shared by the formula grammar (:mod:`decisionmodel.tree.formula`, which evaluates
the functions and constants) and the parameter declarations (:mod:`decisionmodel.params`,
which refuses a parameter named like a function, a constant or a cycle variable), and
imports neither: ``params`` must not import the tree package, whose compiler imports
``params``.

Examples
--------
>>> sorted(RESERVED_NAMES)
['cycle_length', 'e', 'pi', 't', 'time']
>>> func, lo, hi = FUNCTIONS["rate_to_prob"]
>>> round(float(func(0.1, 2)), 4), (lo, hi)
(0.1813, (1, 2))
>>> is_reserved("exp"), is_reserved("time"), is_reserved("p_cure")
(True, True, False)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

__all__ = ["CONSTANTS", "FUNCTIONS", "RESERVED_NAMES", "is_reserved"]


def _where(cond: Any, a: Any, b: Any) -> Any:
    return np.where(np.asarray(cond) != 0, a, b)


def _rate_to_prob(rate: Any, time: Any = 1.0, out: np.ndarray | None = None) -> Any:
    """``1 - exp(-rate * time)`` in three passes over the draws, in place in one array
    (``out`` if given)."""
    x = np.multiply(rate, np.negative(time), out=out, dtype=float)
    if isinstance(x, np.ndarray):
        np.expm1(x, out=x)
        return np.negative(x, out=x)
    return -np.expm1(x)


def _prob_to_rate(prob: Any, time: Any = 1.0) -> Any:
    return -np.log1p(-np.asarray(prob, dtype=float)) / time


def _prob_convert(prob: Any, from_time: Any, to_time: Any) -> Any:
    return _rate_to_prob(_prob_to_rate(prob, from_time), to_time)


#: Vectorised functions a formula may call, with (min, max) number of arguments.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "log1p": (np.log1p, 1, 1),
    "expm1": (np.expm1, 1, 1),
    "log10": (np.log10, 1, 1),
    "log2": (np.log2, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "abs": (np.abs, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "minimum": (np.minimum, 2, 2),
    "maximum": (np.maximum, 2, 2),
    "min": (np.minimum, 2, 2),
    "max": (np.maximum, 2, 2),
    "clip": (np.clip, 3, 3),
    "where": (_where, 3, 3),
    "logit": (special.logit, 1, 1),
    "expit": (special.expit, 1, 1),
    "rate_to_prob": (_rate_to_prob, 1, 2),
    "prob_to_rate": (_prob_to_rate, 1, 2),
    "prob_convert": (_prob_convert, 3, 3),
}

#: Named constants available in every formula.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

#: Names a parameter, derived value or binding may not take besides the function names:
#: the constants and the cycle variables of Markov models.
RESERVED_NAMES = frozenset({"pi", "e", "t", "time", "cycle_length"})


def is_reserved(name: str) -> bool:
    """Whether ``name`` is a formula function, a named constant or a Markov cycle variable.

    Parameters
    ----------
    name : str
        A parameter's, a derived value's or a binding's name.

    Returns
    -------
    bool
        ``True`` for a name of :data:`FUNCTIONS` or :data:`RESERVED_NAMES`.

    Examples
    --------
    >>> is_reserved("pi"), is_reserved("logit"), is_reserved("age")
    (True, True, False)
    """
    return name in RESERVED_NAMES or name in FUNCTIONS
