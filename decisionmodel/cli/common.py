"""What the commands share: the argument parser class, the TREE argument, WTP, protocol,
patient profile and evidence-fit options, progress messages and the terminal width."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from decisionmodel.exceptions import DecisionModelError

#: exit code of bad input (and of argparse errors)
EXIT_BAD_INPUT = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with :data:`EXIT_BAD_INPUT`."""

    def error(self, message: str) -> NoReturn:  # one line, exit 2
        """Write ``PROG: error: MESSAGE`` on stderr and exit with :data:`EXIT_BAD_INPUT`.

        Parameters
        ----------
        message : str
            What is wrong with the command line.

        Raises
        ------
        SystemExit
            Always, with code :data:`EXIT_BAD_INPUT` (argparse's usage lines are not
            printed).

        Examples
        --------
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     try:
        ...         Parser(prog="decisionmodel").error("bad option")
        ...     except SystemExit as exc:
        ...         print(exc.code)
        2
        >>> err.getvalue()
        'decisionmodel: error: bad option\\n'
        """
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def parse_protocol(items: Sequence[str] | None) -> dict[str, str]:
    """``--protocol NODE=ACTION`` items as node -> action.

    Parameters
    ----------
    items : sequence of str or None
        The ``--protocol`` values; spaces around the node and the action are dropped.
        ``None`` (the option not given) gives no protocol.

    Returns
    -------
    dict of str to str
        Decision node -> the action the protocol takes there (the last item wins).

    Raises
    ------
    DecisionModelError
        An item without ``=``.

    See Also
    --------
    patient_profile : the other options of ``KEY=VALUE`` items, ``--profile``.

    Examples
    --------
    >>> parse_protocol(["pivot = palliate"])
    {'pivot': 'palliate'}
    """
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise DecisionModelError(f"--protocol {item!r}: expected NODE=ACTION")
        node, action = item.split("=", 1)
        out[node.strip()] = action.strip()
    return out


def wtp_values(args: argparse.Namespace, tree) -> list[float]:
    """The WTP values of ``--wtp``, else the tree file's ``wtp:``, each checked.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line; ``args.wtp`` is the list of ``--wtp`` values (``None``
        when the option is not given).
    tree : networkx.DiGraph
        The loaded tree; its graph attribute ``wtp`` (a number or a list) is the default.

    Returns
    -------
    list of float
        Willingness to pay per unit of effect, in the order given.

    Raises
    ------
    DecisionModelError
        Neither ``--wtp`` nor ``wtp:`` gives a value, or a value is negative, not finite
        or above :data:`decisionmodel.cliopts.MAX_WTP`.

    Examples
    --------
    >>> import argparse, networkx as nx
    >>> wtp_values(argparse.Namespace(wtp=None), nx.DiGraph(wtp=[0, 20000]))
    [0.0, 20000.0]
    >>> wtp_values(argparse.Namespace(wtp=["50000"]), nx.DiGraph(wtp=20000))
    [50000.0]
    """
    if args.wtp:
        values = [float(w) for w in args.wtp]
    else:
        declared = tree.graph.get("wtp")
        if declared is None:
            raise DecisionModelError(
                f"{tree.graph.get('source_file')}: no willingness to pay: pass --wtp or set 'wtp:' in the tree file"
            )
        values = [float(w) for w in (declared if isinstance(declared, list) else [declared])]
    from decisionmodel.cliopts import MAX_WTP

    for w in values:
        if not w >= 0 or w == float("inf"):
            raise DecisionModelError(f"--wtp {w}: willingness to pay must be a finite number >= 0")
        if w > MAX_WTP:
            raise DecisionModelError(
                f"--wtp {w:g}: willingness to pay must be at most {MAX_WTP:g} per unit of effect"
            )
    return values


def say(msg: str) -> None:
    """Write a progress message line on stderr.

    Parameters
    ----------
    msg : str
        The message, without the newline (stderr is flushed after it).
    """
    print(msg, file=sys.stderr, flush=True)


def patient_profile(args: argparse.Namespace):
    """The patient profile of ``--profile-file`` and ``--profile KEY=VALUE`` (or None).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``args.profile_file`` (a YAML file or ``None``) and
        ``args.profile`` (the ``KEY=VALUE`` items), which override the file's values.

    Returns
    -------
    decisionmodel.clinical.profile.PatientProfile or None
        ``None`` when neither option is given.

    Raises
    ------
    ProfileError
        The file or an item names an unknown covariate or an invalid value (see
        :func:`decisionmodel.clinical.profile.load_profile` and
        :func:`decisionmodel.clinical.profile.parse_profile_items`).

    See Also
    --------
    decisionmodel.clinical.profile.merge : how the items override the file.

    Examples
    --------
    >>> import argparse
    >>> patient_profile(argparse.Namespace(profile=None, profile_file=None)) is None
    True
    """
    if not args.profile and not args.profile_file:
        return None
    from decisionmodel.clinical.profile import (
        PatientProfile,
        load_profile,
        merge,
        parse_profile_items,
    )

    base = load_profile(args.profile_file) if args.profile_file else PatientProfile()
    return merge(base, parse_profile_items(args.profile)) if args.profile else base


def fit_kwargs(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``fit_all`` from ``--jobs``, ``--cache-dir`` and ``--priors``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line: ``jobs``, ``cache_dir``, ``priors`` and ``priors_only``.

    Returns
    -------
    dict
        ``jobs``, and ``cache_dir`` and ``evidence`` when the options are given.

    Raises
    ------
    DecisionModelError
        ``--priors`` with ``--priors-only``.

    Examples
    --------
    >>> import argparse
    >>> fit_kwargs(argparse.Namespace(jobs=2, cache_dir=None, priors=None, priors_only=False))
    {'jobs': 2}
    """
    kw: dict = {"jobs": args.jobs}
    if args.cache_dir:
        kw["cache_dir"] = args.cache_dir
    if args.priors:
        if args.priors_only:
            raise DecisionModelError(
                f"--priors {args.priors}: no evidence is fitted with --priors-only; pass one of the two"
            )
        kw["evidence"] = args.priors  # fit_all's evidence files (default: the packaged ones)
    return kw


def tree_file(value: str) -> str:
    """A TREE argument: an existing file, or the name of a shipped model (argparse type).

    Parameters
    ----------
    value : str
        The argument as typed.

    Returns
    -------
    str
        The path of the tree file.

    Raises
    ------
    decisionmodel.resources.UnknownTreeError
        Neither a file nor a shipped model's name.

    See Also
    --------
    decisionmodel.resources.tree_path : the same, as a :class:`pathlib.Path`.

    Examples
    --------
    >>> tree_file("crlm").endswith("crlm.yaml")
    True
    """
    from decisionmodel.resources import tree_path

    return str(tree_path(value))


TREE_HELP = "tree file (YAML), or the name of a shipped model (see: decisionmodel models)"


def terminal_width() -> int:
    """The terminal's width in columns (120 when unknown, at least 40).

    Returns
    -------
    int
    """
    import shutil

    return max(40, shutil.get_terminal_size((120, 24)).columns)
