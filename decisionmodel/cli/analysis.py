"""``decisionmodel run`` and ``decisionmodel subgroups``: the probabilistic analysis of a
tree, for one patient profile or over the standard subgroups."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decisionmodel.cli.common import (
    fit_kwargs,
    parse_protocol,
    patient_profile,
    say,
    terminal_width,
    wtp_values,
)
from decisionmodel.exceptions import DecisionModelError

if TYPE_CHECKING:
    from decisionmodel.tree.compile import CompiledTree


def analysis_inputs(args: argparse.Namespace) -> tuple[CompiledTree, list[float], Any]:
    """The compiled tree, WTP values and patient profile shared by ``run`` and ``subgroups``.

    The tree file is read, validated and compiled once (with ``--protocol`` where the
    command has it); the analyses evaluate that compiled tree.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line of ``run`` or ``subgroups``.

    Returns
    -------
    tuple
        The :class:`~decisionmodel.tree.compile.CompiledTree`, the WTP values and the
        :class:`~decisionmodel.clinical.profile.PatientProfile` (or None).
    """
    from decisionmodel.cliopts import check_draws_fit, check_jobs, check_seed
    from decisionmodel.tree.io import load_compiled

    if args.samples < 1:
        raise DecisionModelError(f"--samples {args.samples}: must be at least 1")
    check_jobs(args.jobs)
    check_seed(args.seed)
    protocol = parse_protocol(getattr(args, "protocol", None))
    ct = load_compiled(args.tree, protocol=protocol, require_declared=True)  # compiled once
    wtp = wtp_values(args, ct.graph)
    check_draws_fit(ct, args.samples, "--samples", len(wtp))  # memory budget, the tree's size
    return ct, wtp, patient_profile(args)


def cmd_run(args: argparse.Namespace) -> int:
    """``decisionmodel run``: the decision table of a tree (text, rich on a terminal, or JSON).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (0; errors raise and are reported by :func:`decisionmodel.cli.main`).
    """
    from decisionmodel.report import analyse, format_table

    export = getattr(args, "export", None)
    if export is not None:
        from decisionmodel.psa_export import check_export_dir

        check_export_dir(export, "--export")  # before the analysis, not after it
    tree, wtp, profile = analysis_inputs(args)
    show_progress = not args.json and sys.stderr.isatty() and args.samples >= 20_000
    result = analyse(
        tree,
        samples=args.samples,
        seed=args.seed,
        wtp=wtp,
        progress=show_progress,
        evidence=not args.priors_only,
        profile=profile,
        fit_kwargs=fit_kwargs(args),
        say=None if args.quiet else say,
        export=export,
    )
    if export is not None and not args.quiet:
        say(f"wrote {export}")
    if args.json:
        print(json.dumps(result, indent=2))
    elif sys.stdout.isatty():  # fit the terminal; piped or redirected: the plain layout
        from decisionmodel.report import format_table_rich

        print(format_table_rich(result, width=terminal_width()))
    else:
        print(format_table(result))
    return 0


def cmd_subgroups(args: argparse.Namespace) -> int:
    """``decisionmodel subgroups``: the decision per subgroup, as a table and a heatmap.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (0; errors raise and are reported by :func:`decisionmodel.cli.main`).
    """
    from decisionmodel.clinical.profile import tree_values
    from decisionmodel.subgroups import subgroup_table

    out = Path(args.figure) if args.figure else None
    if out is not None:
        if out.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise DecisionModelError(f"{out}: the figure must be .png, .svg or .pdf")
        from decisionmodel.cliopts import check_output_path

        check_output_path(args.figure, "--figure")  # before the analysis, not after it
    ct, wtp, profile = analysis_inputs(args)
    table = subgroup_table(
        ct,
        samples=args.samples,
        seed=args.seed,
        wtp=wtp,
        evidence=not args.priors_only,
        fit_kwargs=fit_kwargs(args),
        values=tree_values(profile) if profile is not None else None,
        say=None if args.quiet else say,
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        from decisionmodel.plots import subgroup_heatmap

        subgroup_heatmap(table).savefig(out, bbox_inches="tight", dpi=150)
        if not args.quiet:
            say(f"wrote {out}")
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
        print(format_subgroup_table(table, width=terminal_width() if tty else 120, rich=tty))
    return 0
