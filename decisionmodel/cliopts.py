"""Limits and checks of command-line options shared by every ``decisionmodel`` command.

Every option out of range is refused with a :class:`~decisionmodel.exceptions.DecisionModelError`
naming the option (one line on stderr, exit code 2), before any expensive work:

* seeds are whole numbers in ``0 .. MAX_SEED`` (2**32 - 1, which every random-number
  backend used here accepts);
* ``--jobs`` is 1 .. ``MAX_JOBS``;
* ``--samples`` / ``--draws`` are at least 1 and their arrays must fit the memory budget
  (:func:`memory_budget_bytes`: ``DECISIONMODEL_MEMORY_MB``, default 4096 MB), estimated from
  the tree's size (:func:`bytes_per_draw`);
* output files (:func:`check_output_path`) must be creatable: not a directory, not below a
  regular file, in a folder that accepts new files.

Examples
--------
>>> check_seed(20261127)
20261127
>>> check_seed(-1)
Traceback (most recent call last):
...
decisionmodel.exceptions.DecisionModelError: --seed -1: must be a whole number from 0 to 4294967295
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from decisionmodel.exceptions import DecisionModelError

__all__ = [
    "DEFAULT_MEMORY_MB",
    "MAX_JOBS",
    "MAX_SEED",
    "MAX_WTP",
    "bytes_per_draw",
    "check_count",
    "check_draws_fit",
    "check_jobs",
    "check_output_path",
    "check_seed",
    "memory_budget_bytes",
]

#: largest seed accepted (numpy, PyMC and nutpie all take it)
MAX_SEED = 2**32 - 1
#: most processes a command starts at once
MAX_JOBS = 64
#: default memory budget of the draw arrays, in MB (``DECISIONMODEL_MEMORY_MB`` overrides it)
DEFAULT_MEMORY_MB = 4096
#: largest willingness to pay per unit of effect (beyond it net benefits lose all precision)
MAX_WTP = 1e12


def check_seed(seed: Any, option: str = "--seed") -> int:
    """``seed`` as an int, or an error naming ``option`` when it is out of range.

    Parameters
    ----------
    seed : object
        The option's value.
    option : str
        The option's name, for the message.

    Returns
    -------
    int
        ``seed``, an int in ``0 .. MAX_SEED``.

    Raises
    ------
    DecisionModelError
        A bool, a value that is not an int, or an int out of range.

    See Also
    --------
    decisionmodel.rng.as_generator : how a seed becomes a generator.

    Examples
    --------
    >>> check_seed(7, "--evsi-seed")
    7
    >>> check_seed(2**32, "--evsi-seed")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: --evsi-seed 4294967296: must be a whole number from 0 to 4294967295
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise DecisionModelError(f"{option} {seed}: must be a whole number from 0 to {MAX_SEED}")
    return seed


def check_jobs(jobs: int, option: str = "--jobs") -> int:
    """``jobs`` in 1 .. :data:`MAX_JOBS`.

    Parameters
    ----------
    jobs : int
        The option's value.
    option : str
        The option's name, for the message.

    Returns
    -------
    int
        ``jobs``.

    Raises
    ------
    DecisionModelError
        Below 1 or above :data:`MAX_JOBS`.

    Examples
    --------
    >>> check_jobs(2)
    2
    >>> check_jobs(0)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: --jobs 0: must be from 1 to 64
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise DecisionModelError(f"{option} {jobs}: must be from 1 to {MAX_JOBS}")
    return jobs


def check_count(value: int, option: str, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole-number option in ``minimum .. maximum``.

    Parameters
    ----------
    value : int
        The option's value.
    option : str
        The option's name, for the message.
    minimum : int
        The smallest value accepted.
    maximum : int, optional
        The largest value accepted (no limit by default).

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    DecisionModelError
        Below ``minimum`` or above ``maximum``.

    See Also
    --------
    check_draws_fit : the number of draws, against the memory budget.

    Examples
    --------
    >>> check_count(0, "--chains")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: --chains 0: must be at least 1
    """
    if value < minimum:
        raise DecisionModelError(f"{option} {value}: must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise DecisionModelError(f"{option} {value}: must be at most {maximum:,}")
    return value


def memory_budget_bytes() -> int:
    """The memory budget of a command's draw arrays: ``DECISIONMODEL_MEMORY_MB`` or 4096 MB.

    Returns
    -------
    int
        The budget in bytes.

    Raises
    ------
    DecisionModelError
        ``DECISIONMODEL_MEMORY_MB`` is set but is not a number from 1 to 2**40.

    See Also
    --------
    check_draws_fit : the draws a command may hold within it.
    """
    raw = os.environ.get("DECISIONMODEL_MEMORY_MB", "")
    if not raw.strip():
        return DEFAULT_MEMORY_MB * 2**20
    try:
        mb = float(raw)
    except ValueError:
        mb = float("nan")
    if not (mb >= 1 and mb <= 2**40):
        raise DecisionModelError(
            f"DECISIONMODEL_MEMORY_MB {raw!r}: give the memory budget in MB (a number >= 1)"
        )
    return int(mb * 2**20)


def bytes_per_draw(tree: Any, n_wtp: int = 1) -> int:
    """An upper estimate of the memory one parameter draw of ``tree`` takes in an analysis.

    Parameter and derived-value arrays, per-policy costs and effects, net benefits per
    policy and willingness to pay (``n_wtp`` values), and the evaluation's per-terminal
    buffers, 8 bytes each, times 3 for temporaries (measured on ``trees/crlm.yaml``: about
    800 bytes per draw against 2,064 estimated with three WTP values).

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (compiled here unless it is a
        :class:`~decisionmodel.tree.compile.CompiledTree` already).
    n_wtp : int
        Number of willingness-to-pay values of the analysis.

    Returns
    -------
    int
        Bytes per draw (at least 24).

    See Also
    --------
    check_draws_fit : the estimate against the memory budget.

    Examples
    --------
    >>> from decisionmodel.resources import tree_path
    >>> from decisionmodel.tree.io import load_tree
    >>> G = load_tree(tree_path("crlm"))
    >>> bytes_per_draw(G, n_wtp=3) > bytes_per_draw(G) >= 24
    True
    """
    from decisionmodel.tree.compile import CompiledTree, compile_tree

    ct = tree if isinstance(tree, CompiledTree) else compile_tree(tree)
    params = ct.graph.graph.get("parameters") or {}
    n_values = 0
    for spec in params.values():
        names = spec.get("names") if isinstance(spec, dict) else None
        n_values += len(names) if isinstance(names, list) and names else 1
    n = n_values + len(ct.derived) + (4 + n_wtp) * len(ct.policies) + len(ct.terminals)
    return 8 * 3 * max(n, 1)


def check_draws_fit(tree: Any, draws: int, option: str, n_wtp: int = 1) -> int:
    """Refuse ``draws`` (``--samples``, ``--draws``) whose arrays exceed the memory budget.

    Parameters
    ----------
    tree : networkx.DiGraph or CompiledTree
        The tree (see :func:`bytes_per_draw`).
    draws : int
        The option's value.
    option : str
        The option's name, for the message.
    n_wtp : int
        Number of willingness-to-pay values of the analysis.

    Returns
    -------
    int
        ``draws``.

    Raises
    ------
    DecisionModelError
        Fewer than 1 draw, or more than fit the budget (:func:`memory_budget_bytes`): the
        message gives the largest number that fits.

    See Also
    --------
    bytes_per_draw, memory_budget_bytes
    """
    if draws < 1:
        raise DecisionModelError(f"{option} {draws}: must be at least 1")
    per = bytes_per_draw(tree, n_wtp)
    budget = memory_budget_bytes()
    if draws > budget // per:
        raise DecisionModelError(
            f"{option} {draws}: needs about {draws * per / 2**30:,.1f} GB for this tree "
            f"({per} bytes per draw), over the memory budget of {budget / 2**20:,.0f} MB; "
            f"use at most {budget // per:,} (or set DECISIONMODEL_MEMORY_MB)"
        )
    return draws


def check_output_path(
    path: str | os.PathLike, option: str, suffixes: tuple[str, ...] | None = None
) -> Path:
    """Check, before any work, that ``path`` can be written as a new or replaced file.

    Refuses a wrong suffix (when ``suffixes`` are given), an existing directory or other
    non-regular file, a path below a regular file, and a folder that does not accept new
    files (probed by creating and removing a temporary file in the nearest existing folder;
    missing folders are created later by the writer).

    Parameters
    ----------
    path : path-like
        The output file.
    option : str
        The option's name, for messages.
    suffixes : tuple of str, optional
        The suffixes accepted (lower case, with the dot); any suffix by default.

    Returns
    -------
    pathlib.Path
        ``path`` as a path.

    Raises
    ------
    DecisionModelError
        Any of the above, naming ``option`` and the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_path(d / "tree.png", "-o", (".png",)).name
    'tree.png'
    >>> check_output_path(d, "-o")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: -o ...: is a directory, not a file
    """
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise DecisionModelError(
            f"{option} {p}: the file name must end in {', '.join(suffixes[:-1])} or {suffixes[-1]}"
            if len(suffixes) > 1
            else f"{option} {p}: the file name must end in {suffixes[0]}"
        )
    if str(path).endswith(os.sep) or p.is_dir():
        raise DecisionModelError(f"{option} {p}: is a directory, not a file")
    if p.exists() or p.is_symlink():
        if not p.is_file():
            raise DecisionModelError(f"{option} {p}: exists and is not a regular file")
        try:
            with open(p, "ab"):
                pass
        except OSError as exc:
            raise DecisionModelError(
                f"{option} {p}: cannot be written ({exc.strerror or exc})"
            ) from None
        return p
    folder = p.absolute().parent
    while not folder.exists():
        if folder.is_symlink():
            raise DecisionModelError(f"{option} {p}: {folder} is a broken link")
        folder = folder.parent
    if not folder.is_dir():
        raise DecisionModelError(
            f"{option} {p}: {folder} is a file, not a directory, so nothing can be written below it"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".decisionmodel-probe-")
    except OSError as exc:
        raise DecisionModelError(
            f"{option} {p}: the folder {folder} does not accept new files ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return p
