"""``decisionmodel evidence fit|summary|check``: fit, summarise and check the evidence models.

* ``fit`` samples every registered model (or those named with ``--model``) unless its
  posterior is cached, and applies the diagnostics gate; a model that fails it is
  reported on stderr and the command exits with 2 once the others are done.
* ``summary`` prints, per model, the posterior table (mean, sd, 95% interval, R-hat,
  bulk/tail ESS), the tree parameters it supplies, and the evidence files it read with
  their checksums and the studies they cite.
* ``check`` prints the posterior predictive checks (one row per published number) and
  exits with 1 when any number lies outside its interval.

All three fit what is not cached yet (with the same seed and settings they find the
posteriors ``fit`` stored). On a terminal, progress is shown on stderr. Bad input (an
unknown model, a missing evidence file, a failed gate) is a
:class:`~decisionmodel.exceptions.DecisionModelError`, which ``decisionmodel`` prints as
one line on stderr with exit code 2.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="decisionmodel")
>>> _ = add_evidence_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["evidence", "fit", "--model", "a", "--model", "b", "--refit"])
>>> args.evidence_command, args.model, args.refit, args.seed
('fit', ['a', 'b'], True, 20261127)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from typing import Any

import pandas as pd

from decisionmodel.exceptions import DiagnosticsError

__all__ = ["add_evidence_parser", "run_evidence"]

EXIT_CHECK_FAILED = 1


def add_evidence_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``evidence`` command (``fit``, ``summary``, ``check``) to ``sub``, the
    subparsers action of the ``decisionmodel`` parser.

    Parameters
    ----------
    sub : argparse subparsers action
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``evidence`` parser; it sets ``func=run_evidence``, and its subcommand is in
        ``evidence_command``.

    See Also
    --------
    run_evidence : Runs the parsed command.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="decisionmodel")
    >>> _ = add_evidence_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["evidence", "check", "--sampler", "pymc", "--chains", "2"])
    >>> args.evidence_command, args.sampler, args.chains, args.func is run_evidence
    ('check', 'pymc', 2, True)
    """
    from decisionmodel.evidence.fit import DEFAULT_SAMPLER, DEFAULT_SEED, SAMPLERS

    evidence = sub.add_parser(
        "evidence",
        help="fit, summarise and check the evidence models (PyMC)",
        description="Fit the evidence models on the evidence files shipped with the package "
        "(or those of --priors DIR; cached on disk), summarise the posteriors and run the "
        "posterior predictive checks.",
    )
    esub = evidence.add_subparsers(
        dest="evidence_command", required=True, metavar="{fit,summary,check}"
    )

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="only this model (repeatable; default: all registered models)",
    )
    common.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    common.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=DEFAULT_SAMPLER,
        help=f"NUTS sampler (default {DEFAULT_SAMPLER})",
    )
    common.add_argument(
        "--draws",
        type=int,
        default=None,
        help="draws per chain (default: the model's own, 1000 or more)",
    )
    common.add_argument("--tune", type=int, default=1000, help="tuning steps (default 1000)")
    common.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    common.add_argument(
        "--priors",
        metavar="DIR",
        help="directory of evidence files (default: the evidence files shipped with the "
        "package, never the working directory's priors/)",
    )
    common.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="posterior cache (default $DECISIONMODEL_CACHE or the user cache directory)",
    )
    common.add_argument(
        "--jobs",
        type=int,
        default=_default_jobs(),
        help="models fitted at the same time, one process each (default: the CPUs, "
        f"{_default_jobs()} here)",
    )
    common.add_argument(
        "--accept-diagnostics",
        action="store_true",
        help="keep fits that fail the diagnostics gate (R-hat, ESS, divergences)",
    )

    fit = esub.add_parser(
        "fit", parents=[common], help="fit the models (skipping those already cached)"
    )
    fit.add_argument("--refit", action="store_true", help="sample even if a fit is cached")
    esub.add_parser(
        "summary",
        parents=[common],
        help="posterior tables: mean, sd, 95%% interval, R-hat, ESS, evidence sources",
    )
    esub.add_parser(
        "check", parents=[common], help="posterior predictive checks (exit 1 if any fails)"
    )
    evidence.set_defaults(func=run_evidence)
    return evidence


# ----------------------------------------------------------------------------- helpers


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fit_kwargs(args: argparse.Namespace, progress: bool) -> dict[str, Any]:
    return {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "sampler": args.sampler,
        "accept_diagnostics": args.accept_diagnostics,
        "cache_dir": args.cache_dir,
        "refit": bool(getattr(args, "refit", False)),
        "progress": progress,
    }


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _fits(args: argparse.Namespace, *, keep_going: bool) -> tuple[dict, dict, list, Any]:
    """Fit (or load) the selected models. Returns (specs, fits that pass or are
    accepted, gate failures, the EvidenceDir); without ``keep_going`` the first failure
    is raised."""
    from decisionmodel.evidence import registry
    from decisionmodel.evidence.fit import EvidenceDir, _gate, default_priors_dir, fit_all

    names = args.model or list(registry.MODELS)
    specs = {n: registry.get_spec(n) for n in names}
    if not specs:
        _say("no evidence models are registered")
    evidence = EvidenceDir(args.priors or default_priors_dir())  # parsed only if needed
    tty = sys.stderr.isatty()
    kwargs = _fit_kwargs(args, progress=tty)  # worker processes never show progress
    kwargs["accept_diagnostics"] = True  # the gate is applied below, model by model

    def report(name: str, dt: Any, seconds: float) -> None:
        if tty:
            how = "from cache" if dt.attrs.get("from_cache") else "fitted"
            _say(f"{name}: {how} ({seconds:.1f} s)")

    if tty:
        _say(f"fitting or loading {len(specs)} model(s): {', '.join(specs)} ...")
    t0 = time.perf_counter()
    fitted = fit_all(
        list(specs.values()), evidence, seed=args.seed, jobs=args.jobs, on_fit=report, **kwargs
    )
    if tty:
        _say(f"done in {time.perf_counter() - t0:.1f} s")
    fits: dict[str, Any] = {}
    failures: list[DiagnosticsError] = []
    for name, dt in fitted.items():
        err = None if args.accept_diagnostics else _gate(dt, name)
        if err is None:
            fits[name] = dt
        elif not keep_going:
            raise err
        else:  # reported together, in one line, once the others are tabulated
            failures.append(err)
    return specs, fits, failures, evidence


def _frame_text(df: pd.DataFrame) -> str:
    return df.to_string(float_format=lambda v: f"{v:.4g}")


# ----------------------------------------------------------------------------- commands


def _cmd_fit(args: argparse.Namespace) -> int:
    from decisionmodel.evidence.cache import cache_paths

    _, fits, failures, _ = _fits(args, keep_going=True)
    rows = []
    for name, dt in fits.items():
        a = dt.attrs  # the gate's results are stored with the fit (no recomputation)
        rows.append(
            {
                "model": name,
                "status": "cached" if a.get("from_cache") else "fitted",
                "fit_seconds": float(a.get("fit_seconds", float("nan"))),
                "draws": int(dt["posterior"].sizes["chain"] * dt["posterior"].sizes["draw"]),
                "divergences": int(a.get("divergences", 0)),
                "max_r_hat": float(a.get("max_r_hat", float("nan"))),
                "min_ess": float(a.get("min_ess", float("nan"))),
                "gate": "pass" if int(dt.attrs.get("diagnostics_passed", 0)) else "FAIL",
                "file": str(
                    cache_paths(name, str(dt.attrs.get("cache_key", "")), args.cache_dir)[0]
                ),
            }
        )
    if rows:
        print(_frame_text(pd.DataFrame(rows).set_index("model")))
    if failures:
        if len(failures) == 1:
            raise failures[0]
        names = ", ".join(repr(f.model) for f in failures)
        details = " | ".join(" ".join(str(f).split()) for f in failures)
        raise DiagnosticsError(
            f"evidence models {names} failed the diagnostics gate: {details}",
            model=failures[0].model,
            failures=[x for f in failures for x in f.failures],
            divergences=sum(f.divergences for f in failures),
        )
    return 0


def _sources(ev: Any) -> str:
    frame = ev.to_frame()
    cites: list[str] = []
    for c in frame["citation"].dropna():
        for one in str(c).split("; "):
            if one not in cites:
                cites.append(one)
    return "; ".join(cites)


def _cmd_summary(args: argparse.Namespace) -> int:
    from decisionmodel.evidence.fit import diagnostics
    from decisionmodel.evidence.outputs import posterior_outputs

    specs, fits, _, source = _fits(args, keep_going=False)
    evidence = source.files()
    for name, dt in fits.items():
        spec = specs[name]
        a = dt.attrs
        post = dt["posterior"]
        print(
            f"== {name} (version {spec.version}; sampler {a.get('sampler')}, seed {a.get('seed')}, "
            f"{post.sizes['chain']} chains x {post.sizes['draw']} draws; divergences "
            f"{a.get('divergences', 0)}; gate {'pass' if int(a.get('diagnostics_passed', 0)) else 'FAIL'})"
        )
        table = diagnostics(dt).drop(columns="passed")
        table = table.rename(columns={"lower": "2.5%", "upper": "97.5%"})
        print("posterior:")
        print(textwrap.indent(_frame_text(table), "  "))
        outs = posterior_outputs(spec, dt)
        if outs:
            rows = {
                k: {
                    "mean": v.mean(),
                    "sd": v.std(ddof=1) if v.size > 1 else 0.0,
                    "2.5%": pd.Series(v).quantile(0.025),
                    "97.5%": pd.Series(v).quantile(0.975),
                }
                for k, v in outs.items()
            }
            print("tree parameters:")
            print(textwrap.indent(_frame_text(pd.DataFrame.from_dict(rows, orient="index")), "  "))
        digests = json.loads(a.get("evidence", "{}"))
        print("evidence:")
        for area in spec.files:
            ev = evidence[area]
            print(
                f"  {ev.path} (area {area}, {len(ev)} entries, sha256 {digests.get(area, ev.digest)[:12]})"
            )
            wrapped = textwrap.fill(
                "sources: " + _sources(ev),
                width=96,
                initial_indent="    ",
                subsequent_indent="      ",
            )
            print(wrapped)
        print()
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from decisionmodel.evidence.fit import run_checks

    specs, fits, _, source = _fits(args, keep_going=False)
    evidence = source.files()
    tables = [run_checks(specs[name], dt, evidence) for name, dt in fits.items()]
    if not tables:
        return 0
    table = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(_frame_text(table))
    failed = int((~table["passed"]).sum())
    print(f"\n{len(table) - failed} of {len(table)} checks passed")
    if failed:
        _say(f"decisionmodel: {failed} predictive check(s) failed")
        return EXIT_CHECK_FAILED
    return 0


def run_evidence(args: argparse.Namespace) -> int:
    """Run ``decisionmodel evidence fit|summary|check`` on parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        The arguments of the parser made by :func:`add_evidence_parser`.

    Returns
    -------
    int
        The exit code: 0, or 1 when ``check`` finds a predictive check failed.

    Raises
    ------
    EvidenceModelError
        ``--draws``, ``--chains`` or ``--jobs`` below 1 or above their limits, ``--tune``
        negative or above 1,000,000, more than 4,000,000 posterior draws in all, an
        unknown model or a missing evidence file.
    DiagnosticsError
        A fit fails the diagnostics gate (without ``--accept-diagnostics``; ``fit``
        raises it once the other models are done).
    DecisionModelError
        A bad ``--seed``, or another error of the evidence layer. The ``decisionmodel``
        entry point prints any of these as one line and exits with code 2.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="decisionmodel")
    >>> _ = add_evidence_parser(parser.add_subparsers(dest="command"))
    >>> run_evidence(parser.parse_args(["evidence", "fit", "--chains", "0"]))
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.EvidenceModelError: --chains 0: must be at least 1
    """
    from decisionmodel.cliopts import MAX_JOBS, check_seed
    from decisionmodel.exceptions import EvidenceModelError

    limits = {"draws": 1_000_000, "chains": 64, "jobs": max(MAX_JOBS, _default_jobs())}
    for label, most in limits.items():
        value = getattr(args, label)
        if value is not None and value < 1:
            raise EvidenceModelError(f"--{label} {value}: must be at least 1")
        if value is not None and value > most:
            raise EvidenceModelError(f"--{label} {value}: must be at most {most:,}")
    if args.tune < 0:
        raise EvidenceModelError(f"--tune {args.tune}: must be at least 0")
    if args.tune > 1_000_000:
        raise EvidenceModelError(f"--tune {args.tune}: must be at most 1,000,000")
    if args.draws is not None and args.draws * args.chains > 4_000_000:
        raise EvidenceModelError(
            f"--draws {args.draws} x --chains {args.chains}: at most 4,000,000 posterior draws "
            "in all (the posterior is held in memory)"
        )
    check_seed(args.seed)
    command = {"fit": _cmd_fit, "summary": _cmd_summary, "check": _cmd_check}
    return command[args.evidence_command](args)
