"""Command-line interface: ``decisionmodel run|subgroups|validate|draw|export|models``.

A TREE argument is a tree file or the name of a model shipped with the package
(``decisionmodel models`` lists them; :func:`decisionmodel.resources.tree_path`).

Bad input (a missing or invalid tree file, an unknown parameter, an invalid
probability, a bad option) prints one line on stderr naming the file, node and rule,
and exits with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from decisionmodel.exceptions import DecisionModelError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _protocol(items: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise DecisionModelError(f"--protocol {item!r}: expected NODE=ACTION")
        node, action = item.split("=", 1)
        out[node.strip()] = action.strip()
    return out


def _wtp(args: argparse.Namespace, tree) -> list[float]:
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


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _profile(args: argparse.Namespace):
    """The patient profile of ``--profile-file`` and ``--profile KEY=VALUE`` (or None)."""
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


def _fit_kwargs(args: argparse.Namespace) -> dict:
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


def _tree_file(value: str) -> str:
    """A TREE argument: an existing file, or the name of a shipped model (argparse type)."""
    from decisionmodel.resources import tree_path

    return str(tree_path(value))


_TREE_HELP = "tree file (YAML), or the name of a shipped model (see: decisionmodel models)"


def _cmd_models(args: argparse.Namespace) -> int:
    from decisionmodel.resources import describe_models, trees_dir

    infos = describe_models()
    if args.json:
        rows = [{"name": m.name, "file": str(m.path), "description": m.description} for m in infos]
        print(json.dumps(rows, indent=2))
        return 0
    root = trees_dir()
    files = [m.path.relative_to(root).as_posix() for m in infos]
    wn = max(len(m.name) for m in infos)
    wf = max(len(f) for f in files)
    print(f"shipped models (tree files in {root}):")
    for m, f in zip(infos, files, strict=True):
        print(f"  {m.name:<{wn}}  {f:<{wf}}  {m.description}")
    return 0


def _analysis_inputs(args: argparse.Namespace):
    """The tree, WTP values and patient profile shared by ``run`` and ``subgroups``."""
    from decisionmodel.cliopts import check_draws_fit, check_jobs, check_seed
    from decisionmodel.tree.io import load_tree

    if args.samples < 1:
        raise DecisionModelError(f"--samples {args.samples}: must be at least 1")
    check_jobs(args.jobs)
    check_seed(args.seed)
    tree = load_tree(args.tree, require_declared=True)
    wtp = _wtp(args, tree)
    check_draws_fit(tree, args.samples, "--samples", len(wtp))  # memory budget, the tree's size
    return tree, wtp, _profile(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from decisionmodel.report import analyse, format_table

    tree, wtp, profile = _analysis_inputs(args)
    show_progress = not args.json and sys.stderr.isatty() and args.samples >= 20_000
    result = analyse(
        tree,
        samples=args.samples,
        seed=args.seed,
        wtp=wtp,
        protocol=_protocol(args.protocol),
        progress=show_progress,
        evidence=not args.priors_only,
        profile=profile,
        fit_kwargs=_fit_kwargs(args),
        say=None if args.quiet else _say,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    elif sys.stdout.isatty():  # fit the terminal; piped or redirected: the plain layout
        from decisionmodel.report import format_table_rich

        print(format_table_rich(result, width=_terminal_width()))
    else:
        print(format_table(result))
    return 0


def _terminal_width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((120, 24)).columns)


def _cmd_subgroups(args: argparse.Namespace) -> int:
    from decisionmodel.clinical.profile import tree_values
    from decisionmodel.subgroups import subgroup_heatmap, subgroup_table

    out = Path(args.figure) if args.figure else None
    if out is not None:
        if out.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise DecisionModelError(f"{out}: the figure must be .png, .svg or .pdf")
        from decisionmodel.cliopts import check_output_path

        check_output_path(args.figure, "--figure")  # before the analysis, not after it
    tree, wtp, profile = _analysis_inputs(args)
    table = subgroup_table(
        tree,
        samples=args.samples,
        seed=args.seed,
        wtp=wtp,
        evidence=not args.priors_only,
        fit_kwargs=_fit_kwargs(args),
        values=tree_values(profile) if profile is not None else None,
        say=None if args.quiet else _say,
    )
    if args.figure:
        out.parent.mkdir(parents=True, exist_ok=True)
        subgroup_heatmap(table).savefig(out, bbox_inches="tight", dpi=150)
        if not args.quiet:
            _say(f"wrote {out}")
    if args.json:
        print(
            json.dumps(
                {
                    "tree": args.tree,
                    "samples": args.samples,
                    "seed": args.seed,
                    "wtp": wtp,
                    "subgroups": table.to_dict(orient="records"),
                },
                indent=2,
            )
        )
    else:
        from decisionmodel.subgroups import format_subgroup_table

        tty = sys.stdout.isatty()  # fit the terminal; piped or redirected: the plain layout
        print(format_subgroup_table(table, width=_terminal_width() if tty else 120, rich=tty))
    return 0


def _check_link_models(path: str, params: dict) -> dict[str, str]:
    """Parameter -> evidence model of every ``posterior:`` link; an unknown model is an
    error (the registry is read only when the tree has links: it imports PyMC)."""
    links = {
        n: s["posterior"].split(".")[0]
        for n, s in params.items()
        if isinstance(s, dict) and s.get("posterior")
    }
    if links:
        from decisionmodel.evidence.registry import MODELS

        for name, model in links.items():
            if model not in MODELS:
                raise DecisionModelError(
                    f"{path}: parameter {name!r}: unknown evidence model {model!r} "
                    f"(known: {', '.join(sorted(MODELS))})"
                )
    return links


def _cmd_validate(args: argparse.Namespace) -> int:
    from decisionmodel.cliopts import check_draws_fit
    from decisionmodel.tree.compile import compile_tree
    from decisionmodel.tree.io import load_tree
    from decisionmodel.tree.validate import validate_tree

    if args.draws < 0:
        raise DecisionModelError(f"--draws {args.draws}: must be at least 0")
    tree = load_tree(args.tree, check_draws=0, require_declared=True)
    if args.draws > 0:
        check_draws_fit(tree, args.draws, "--draws")  # memory budget, from the tree's size
        validate_tree(tree, check_draws=args.draws)
    ct = compile_tree(tree)
    params = tree.graph.get("parameters") or {}
    links = _check_link_models(args.tree, params)
    unsourced = sorted(
        n for n, s in params.items() if not (isinstance(s, dict) and s.get("source"))
    )
    print(
        f"{args.tree}: valid — {tree.number_of_nodes()} nodes, {len(ct.terminals)} terminals, "
        f"{len(ct.policies)} policies, {len(params)} parameters, {len(ct.markov_models)} markov models"
    )
    if links:
        print(
            f"posterior links: {len(links)} to {', '.join(sorted(set(links.values())))} "
            "(their outputs are checked when the models are fitted)"
        )
    if unsourced:
        print(f"warning: parameters without a source: {', '.join(unsourced)}")
    return 0


def _cmd_draw(args: argparse.Namespace) -> int:
    from decisionmodel.cliopts import check_output_path
    from decisionmodel.plots import draw_tree
    from decisionmodel.tree.io import load_tree

    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise DecisionModelError(f"{out}: the figure must be .png, .svg or .pdf")
    check_output_path(args.output, "-o")
    tree = load_tree(args.tree, require_declared=True)
    fig = draw_tree(tree)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight", dpi=150)
    print(f"wrote {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from decisionmodel.cliopts import check_output_path
    from decisionmodel.tree.io import load_tree, to_dot, to_graphml, write_tree

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".graphml", ".dot", ".gv", ".yaml", ".yml"):
        raise DecisionModelError(f"{out}: export to .graphml, .dot or .yaml")
    check_output_path(args.output, "-o")
    tree = load_tree(args.tree, require_declared=True)
    if suffix == ".graphml":
        to_graphml(tree, out)
    elif suffix in (".dot", ".gv"):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_dot(tree), encoding="utf-8")
    elif suffix in (".yaml", ".yml"):
        write_tree(tree, out)
    else:
        raise DecisionModelError(f"{out}: export to .graphml, .dot or .yaml")
    print(f"wrote {out}")
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("decisionmodel")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="decisionmodel", description="Probabilistic decision analysis of metastasectomy."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="probabilistic analysis: the decision table of a tree")
    sgp = sub.add_parser(
        "subgroups",
        help="the decision over Fong score 0-5 x RAS/BRAF x M1a/M1b, with a heatmap",
    )
    for p in (run, sgp):
        p.add_argument("tree", type=_tree_file, help=_TREE_HELP)
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
    sgp.set_defaults(func=_cmd_subgroups)
    run.add_argument(
        "--protocol",
        action="append",
        metavar="NODE=ACTION",
        help="fix an embedded decision by protocol (repeatable)",
    )
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser("validate", help="check a tree file against every rule")
    val.add_argument("tree", type=_tree_file, help=_TREE_HELP)
    val.add_argument(
        "--draws",
        type=int,
        default=1000,
        help="draws on which probabilities are checked (default 1000)",
    )
    val.set_defaults(func=_cmd_validate)

    draw = sub.add_parser("draw", help="draw the tree as a figure (.png, .svg, .pdf)")
    draw.add_argument("tree", type=_tree_file, help=_TREE_HELP)
    draw.add_argument("-o", "--output", required=True)
    draw.set_defaults(func=_cmd_draw)

    exp = sub.add_parser("export", help="export the tree to GraphML, DOT or YAML")
    exp.add_argument("tree", type=_tree_file, help=_TREE_HELP)
    exp.add_argument("-o", "--output", required=True)
    exp.set_defaults(func=_cmd_export)

    mod = sub.add_parser("models", help="list the models shipped with the package")
    mod.add_argument("--json", action="store_true", help="print the list as JSON")
    mod.set_defaults(func=_cmd_models)

    from decisionmodel.voi.cli import add_voi_parser

    add_voi_parser(sub)  # decisionmodel voi evpi|evppi|evsi (arguments in decisionmodel/voi/cli.py)
    from decisionmodel.evidence.cli import add_evidence_parser

    add_evidence_parser(
        sub
    )  # decisionmodel evidence fit|summary|check (decisionmodel/evidence/cli.py)
    return parser


def _one_line(exc: BaseException) -> str:
    """A message of one line for an error that reached the top of a command."""
    if isinstance(exc, DecisionModelError):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError):
        what = exc.strerror or type(exc).__name__
        name = exc.filename if exc.filename is not None else ""
        if isinstance(exc, IsADirectoryError):
            what = "is a directory, not a file"
        elif isinstance(exc, NotADirectoryError):
            what = "a part of the path is a file, not a directory"
        elif getattr(exc, "errno", None) == 28:
            what = "no space left on the device"
        text = f"{name}: {what}" if name else what
        if exc.filename2:
            text += f" ({exc.filename2})"
        return " ".join(text.split())
    if isinstance(exc, UnicodeError):
        return "input is not UTF-8 text: " + " ".join(str(exc).split())
    if isinstance(exc, RecursionError):
        return "input nested too deeply to be read (recursion limit reached)"
    if isinstance(exc, MemoryError):
        return "not enough memory for this input; use fewer samples or a smaller file"
    if isinstance(exc, OverflowError):
        return "a number is too large to be handled: " + " ".join(str(exc).split())
    return f"internal error ({type(exc).__name__}): " + " ".join(str(exc).split())


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``decisionmodel run ... | head``): stop quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout already closed
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``decisionmodel`` command.

    Every error that reaches this function becomes one line on stderr: bad input
    (:class:`~decisionmodel.exceptions.DecisionModelError`, an unreadable or unwritable
    file, text that is not UTF-8, input nested too deeply, numbers too large) exits with
    code 2, an interruption with 130, a closed output pipe quietly with 141, and any
    other error (a bug) with 1. ``--debug`` shows the traceback instead.
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


if __name__ == "__main__":
    sys.exit(main())
