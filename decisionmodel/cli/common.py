"""What the commands share: the argument parser class, the TREE argument, WTP, protocol,
patient profile and evidence-fit options, progress messages and the terminal width."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from decisionmodel.exceptions import DecisionModelError

#: exit code of bad input (and of argparse errors)
EXIT_BAD_INPUT = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with :data:`EXIT_BAD_INPUT`."""

    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def parse_protocol(items: Sequence[str] | None) -> dict[str, str]:
    """``--protocol NODE=ACTION`` items as node -> action.

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
    """The WTP values of ``--wtp``, else the tree file's ``wtp:``, each checked."""
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
    """Write a progress message line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def patient_profile(args: argparse.Namespace):
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


def fit_kwargs(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``fit_all`` from ``--jobs``, ``--cache-dir`` and ``--priors``."""
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
    """A TREE argument: an existing file, or the name of a shipped model (argparse type)."""
    from decisionmodel.resources import tree_path

    return str(tree_path(value))


TREE_HELP = "tree file (YAML), or the name of a shipped model (see: decisionmodel models)"


def terminal_width() -> int:
    """The terminal's width in columns (120 when unknown, at least 40)."""
    import shutil

    return max(40, shutil.get_terminal_size((120, 24)).columns)
