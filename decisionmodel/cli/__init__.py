"""Command-line interface: ``decisionmodel run|subgroups|validate|draw|export|models|voi|evidence``.

One module per command family: :mod:`~decisionmodel.cli.analysis` (``run``, ``subgroups``),
:mod:`~decisionmodel.cli.trees` (``validate``, ``draw``, ``export``, ``models``), and the
``voi`` and ``evidence`` commands in :mod:`decisionmodel.voi.cli` and
:mod:`decisionmodel.evidence.cli`; :mod:`~decisionmodel.cli.common` holds the options they
share and :mod:`~decisionmodel.cli.errors` how errors are said.

A TREE argument is a tree file or the name of a model shipped with the package
(``decisionmodel models`` lists them; :func:`decisionmodel.resources.tree_path`).

Bad input (a missing or invalid tree file, an unknown parameter, an invalid
probability, a bad option) prints one line on stderr naming the file, node and rule,
and exits with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from decisionmodel.cli import analysis, trees
from decisionmodel.cli.common import EXIT_BAD_INPUT, TREE_HELP, Parser, tree_file
from decisionmodel.cli.errors import one_line as _one_line
from decisionmodel.cli.errors import quiet_broken_pipe as _quiet_broken_pipe
from decisionmodel.exceptions import DecisionModelError

__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("decisionmodel")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests).

    Returns
    -------
    argparse.ArgumentParser
        A :class:`~decisionmodel.cli.common.Parser` with one sub-command per command; each
        sub-command's ``func`` default is the function that runs it.

    See Also
    --------
    main : parses the command line with it and runs the command.

    Examples
    --------
    >>> args = build_parser().parse_args(["validate", "crlm", "--draws", "0"])
    >>> args.command, args.draws, args.func.__name__
    ('validate', 0, 'cmd_validate')
    """
    parser = Parser(
        prog="decisionmodel", description="Probabilistic decision analysis of metastasectomy."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser("run", help="probabilistic analysis: the decision table of a tree")
    sgp = sub.add_parser(
        "subgroups",
        help="the decision over Fong score 0-5 x RAS/BRAF x M1a/M1b, with a heatmap",
    )
    for p in (run, sgp):
        p.add_argument("tree", type=tree_file, help=TREE_HELP)
        p.add_argument(
            "--samples", type=int, default=10_000, help="parameter draws (default 10000)"
        )
        p.add_argument("--seed", type=int, default=20261127, help="random seed (default 20261127)")
        p.add_argument(
            "--wtp",
            type=float,
            nargs="+",
            action="extend",
            help="willingness to pay per unit of effect (default: the tree file's wtp)",
        )
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        p.add_argument(
            "--profile",
            action="append",
            metavar="KEY=VALUE",
            help="patient characteristic, e.g. fong=3, braf=mutant, dfi_months=8, age=70 (repeatable)",
        )
        p.add_argument(
            "--profile-file", help="patient profile file (YAML mapping of the same keys)"
        )
        p.add_argument(
            "--priors-only",
            action="store_true",
            help="draw every parameter from its declared prior (no evidence fits)",
        )
        p.add_argument(
            "--jobs", type=int, default=2, help="evidence models fitted at once (default 2)"
        )
        p.add_argument("--cache-dir", help="posterior cache directory (default: platform cache)")
        p.add_argument(
            "--priors",
            metavar="DIR",
            help="directory of evidence files the models are fitted on "
            "(default: the evidence files shipped with the package)",
        )
        p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    sgp.add_argument("--figure", help="write the heatmap (.png, .svg or .pdf)")
    sgp.set_defaults(func=analysis.cmd_subgroups)
    run.add_argument(
        "--protocol",
        action="append",
        metavar="NODE=ACTION",
        help="fix an embedded decision by protocol (repeatable)",
    )
    run.add_argument(
        "--export",
        metavar="DIR",
        help="write the PSA: parameter draws, costs, effects and net benefits per policy "
        "as CSV for BCEA, voi and SAVI",
    )
    run.set_defaults(func=analysis.cmd_run)

    val = sub.add_parser("validate", help="check a tree file against every rule")
    val.add_argument("tree", type=tree_file, help=TREE_HELP)
    val.add_argument(
        "--draws",
        type=int,
        default=1000,
        help="draws on which probabilities are checked (default 1000)",
    )
    val.add_argument(
        "--seed", type=int, default=0, help="random seed of the check draws (default 0)"
    )
    val.set_defaults(func=trees.cmd_validate)

    draw = sub.add_parser("draw", help="draw the tree as a figure (.png, .svg, .pdf)")
    draw.add_argument("tree", type=tree_file, help=TREE_HELP)
    draw.add_argument("-o", "--output", required=True)
    draw.set_defaults(func=trees.cmd_draw)

    exp = sub.add_parser("export", help="export the tree to GraphML, DOT or YAML")
    exp.add_argument("tree", type=tree_file, help=TREE_HELP)
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=trees.cmd_export)

    mod = sub.add_parser("models", help="list the models shipped with the package")
    mod.add_argument("--json", action="store_true", help="print the list as JSON")
    mod.set_defaults(func=trees.cmd_models)

    from decisionmodel.voi.cli import add_voi_parser

    add_voi_parser(sub)  # decisionmodel voi evpi|evppi|evsi (arguments in decisionmodel/voi/cli.py)
    from decisionmodel.evidence.cli import add_evidence_parser

    add_evidence_parser(
        sub
    )  # decisionmodel evidence fit|summary|check (decisionmodel/evidence/cli.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``decisionmodel`` command.

    Every error that reaches this function becomes one line on stderr: bad input
    (:class:`~decisionmodel.exceptions.DecisionModelError`, an unreadable or unwritable
    file, text that is not UTF-8, input nested too deeply, numbers too large) exits with
    code 2, an interruption with 130, a closed output pipe quietly with 141, and any
    other error (a bug) with 1. ``--debug`` shows the traceback instead.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success (or the command's code), 2 for bad input, 130 for an
        interruption, 141 for a closed output pipe, 1 for any other error.

    Raises
    ------
    SystemExit
        From argparse: ``--help`` and ``--version`` (code 0), a bad command line (code 2,
        one line, see :class:`~decisionmodel.cli.common.Parser`).

    See Also
    --------
    build_parser : the commands and their options.

    Examples
    --------
    >>> main(["models", "--json"])  # doctest: +ELLIPSIS
    [
      {
        "name": ...
    0
    """
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw  # accepted anywhere on the line
    raw = [a for a in raw if a != "--debug"]
    parser = build_parser()
    try:
        args = parser.parse_args(raw)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except SystemExit:
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        print("decisionmodel: interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 141
    except BaseException as exc:  # the contract: one line, never a traceback
        if debug:
            raise
        bad_input = isinstance(
            exc,
            (DecisionModelError, OSError, UnicodeError, RecursionError, MemoryError, OverflowError),
        )
        print(f"decisionmodel: error: {_one_line(exc)}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT if bad_input else 1
