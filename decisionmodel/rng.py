"""The one random-number convention of the package.

Every function that draws takes ``rng``: a :class:`numpy.random.Generator`, a
:class:`numpy.random.SeedSequence` or a non-negative int seed, normalised by
:func:`as_generator`. Nothing defaults silently to a fixed seed: ``None`` is refused.

Independent sub-streams are derived one way, by key: :func:`keyed_stream` gives the stream
of one key (a parameter's name, an evidence model's name) under a base seed, so a draw
depends on its key and the seed only, never on how many other keys there are, the order they
are drawn in, the chunking or the number of workers. :func:`base_seed` draws such a base seed
from a generator.

Examples
--------
>>> import numpy as np
>>> g = as_generator(7)
>>> float(g.random()) == float(np.random.default_rng(7).random())
True
>>> a = keyed_stream(1, "p_cure").random()
>>> a == keyed_stream(1, "p_cure").random(), a == keyed_stream(1, "p_mort").random()
(True, False)
>>> as_generator(None)
Traceback (most recent call last):
...
TypeError: rng is required: pass a numpy.random.Generator, a SeedSequence or an int seed (e.g. rng=1)
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["RNGLike", "as_generator", "base_seed", "keyed_stream"]

#: what a function that draws accepts as ``rng``
type RNGLike = np.random.Generator | np.random.SeedSequence | int | np.integer


def as_generator(rng: RNGLike | None, *, what: str = "rng") -> np.random.Generator:
    """The :class:`numpy.random.Generator` of ``rng``.

    Parameters
    ----------
    rng : Generator, SeedSequence or int
        A generator is returned as it is (it is shared, not copied); a seed sequence or a
        non-negative int seeds a new PCG64 generator (``numpy.random.default_rng``). None
        is refused (the annotation admits it so that callers whose ``rng`` defaults to None
        pass it on to be refused here).
    what : str
        The argument's name, for messages.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        ``None``, a bool, a float, a legacy ``RandomState`` or anything else.
    ValueError
        A negative seed.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.random.default_rng(3)
    >>> as_generator(g) is g
    True
    >>> as_generator(np.random.SeedSequence(3)).integers(100) == np.random.default_rng(3).integers(100)
    np.True_
    >>> as_generator(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng: a seed must be >= 0, got -1
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{what}: a seed must be >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    if rng is None:
        raise TypeError(
            f"{what} is required: pass a numpy.random.Generator, a SeedSequence or an int "
            f"seed (e.g. {what}=1)"
        )
    raise TypeError(
        f"{what}: expected a numpy.random.Generator, a SeedSequence or an int seed, "
        f"got {type(rng).__name__}"
    )


def keyed_stream(base: int, key: str) -> np.random.Generator:
    """The independent random stream of ``key`` under the base seed ``base``.

    The stream is ``default_rng([base, crc32(key)])``: the same base and key give the same
    stream in any process, whatever else is drawn.

    Parameters
    ----------
    base : int
        A non-negative base seed (e.g. from :func:`base_seed`).
    key : str
        What the stream is for: a parameter's name, an evidence model's name.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> keyed_stream(5, "x").integers(10**6) == keyed_stream(5, "x").integers(10**6)
    np.True_
    """
    return np.random.default_rng([int(base), zlib.crc32(key.encode("utf-8"))])


def base_seed(rng: RNGLike, *, high: int = 2**63 - 1) -> int:
    """Draw one base seed in ``[0, high)`` from ``rng`` (for :func:`keyed_stream`).

    Parameters
    ----------
    rng : Generator, SeedSequence or int
        See :func:`as_generator`.
    high : int
        Exclusive upper bound (``2**31 - 1`` where the seed goes to a sampler that takes
        32-bit seeds).

    Returns
    -------
    int

    Examples
    --------
    >>> base_seed(1) == base_seed(1), 0 <= base_seed(1, high=10) < 10
    (True, True)
    """
    return int(as_generator(rng).integers(0, high))
