"""``decisionmodel voi evpi|evppi|evsi``: value of information from any PSA sample on disk.

The command reads the CSV layouts written by the R packages voi, BCEA and SAVI:

* ``--inputs``: parameter draws, one named column per parameter, one row per draw;
* ``--outputs``: net benefit, one column per strategy (the first is the comparator only by
  convention; all strategies are compared); or ``--costs`` and ``--effects`` in the same
  layout together with a willingness-to-pay grid ``--wtp``.

The files are read by :mod:`decisionmodel.voi.io` (:func:`~decisionmodel.voi.io.read_psa`,
also usable from Python); this module parses the options, runs the estimators and formats
the result. A header is required. An unnamed leading column (R's row names, e.g.
``write.csv``) is ignored, quoted headers and a UTF-8 byte-order mark are accepted, and the
separator may be a comma, a semicolon or a tab. Every problem with the files or options — a
missing file, a non-numeric or empty cell, NaN, a row-count mismatch, an unknown or constant
parameter, a single strategy, a bad ``--wtp`` — raises
:class:`~decisionmodel.exceptions.VOIInputError` with a message naming the file, column and
row, which the ``decisionmodel`` entry point prints as one line on stderr with exit code 2.

The JSON written by ``--json`` (one object; keys ``quantity``, ``method``, ``samples``,
``strategies``, ``wtp``, ``seed``, ``evpi``, ``evpi_se`` and, as requested, ``evppi``, ``evsi``,
``population``, ``enbs``, ``enbs_optimum``, ``study_costs``) is the contract documented in
the README section "Value of information from any PSA".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi.io import PSAFiles, _is_number, read_psa, read_table, read_wtp

__all__ = [
    "add_voi_parser",
    "format_voi_table",
    "make_study",
    "parse_study",
    "read_table",
    "read_wtp",
    "run_voi",
]

DEFAULT_SEED = 20261127
#: largest sample size (per arm) of ``--n``
MAX_N = 10**9
#: most sample sizes in ``--n``
MAX_N_VALUES = 200
#: designs that simulate every participant: n x draws x arms is bounded by MAX_SIMULATED
PATIENT_LEVEL_DESIGNS = ("survival_two_arm",)
#: most participants simulated for one sample size (n x draws x arms) by such designs
MAX_SIMULATED = 2 * 10**8
#: largest study cost (set-up or per participant)
MAX_COST = 1e15
#: largest incident population per year and technology horizon (years)
MAX_POP_PER_YEAR = 1e10
MAX_HORIZON = 1000.0


# --------------------------------------------------------------------------------------
# option parsing
# --------------------------------------------------------------------------------------


def _split_list(text: str, what: str) -> list[str]:
    names = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise VOIInputError(f"{what} {text!r}: empty name in a comma-separated list")
    return names


def _parse_n(items: Sequence[str]) -> list[int]:
    out: list[int] = []
    for item in items:
        for tok in _split_list(item, "--n"):
            try:
                v = float(tok)
            except ValueError:
                raise VOIInputError(f"--n {tok!r}: not a number") from None
            if not math.isfinite(v) or v < 1 or v != int(v):
                raise VOIInputError(f"--n {tok}: sample sizes must be whole numbers >= 1")
            if v > MAX_N:
                raise VOIInputError(f"--n {tok}: sample sizes must be at most {MAX_N:,}")
            out.append(int(v))
    if len(set(out)) != len(out):
        raise VOIInputError(f"--n: sample sizes repeat ({', '.join(map(str, out))})")
    if len(out) > MAX_N_VALUES:
        raise VOIInputError(
            f"--n: {len(out)} sample sizes; at most {MAX_N_VALUES} (EVSI is estimated for each)"
        )
    return out


def _parse_cost(text: str | None, what: str) -> float | list[float] | None:
    if text is None:
        return None
    vals = []
    for tok in _split_list(text, what):
        try:
            vals.append(float(tok))
        except ValueError:
            raise VOIInputError(f"{what} {tok!r}: not a number") from None
    if len(vals) not in (1, 2, 3) or not all(math.isfinite(v) and v >= 0 for v in vals):
        raise VOIInputError(
            f"{what} {text!r}: give a cost >= 0, or a 95% interval LOW,HIGH or LOW,MEAN,HIGH"
        )
    if max(vals) > MAX_COST:
        raise VOIInputError(f"{what} {text!r}: costs must be at most {MAX_COST:g}")
    if vals != sorted(vals):
        raise VOIInputError(
            f"{what} {text!r}: the interval is reversed; give LOW,HIGH (or LOW,MEAN,HIGH) "
            "in increasing order"
        )
    return vals[0] if len(vals) == 1 else vals


def parse_study(spec: str) -> tuple[str, list[str], dict[str, Any]]:
    """Split ``--study NAME[:ITEM,...]`` into the design name, positional parameter columns
    and keyword settings.

    Each ITEM is either ``COLUMN`` (the design's parameters in order, as ``pars`` in R voi:
    ``trial_binary:p1,p2``) or ``ROLE=VALUE`` (``binary_two_arm:p1=p_side,p2=p_side2``,
    ``normal_known:mu=theta,sd=0.3``). A VALUE that reads as a number becomes a number,
    ``true``/``false`` a boolean, anything else a string (a column name or an option such as
    ``summary=counts``).

    Parameters
    ----------
    spec : str
        The value of ``--study``.

    Returns
    -------
    tuple
        ``(name, columns, settings)``: the design name, the positional columns and the
        ``ROLE=VALUE`` settings.

    Raises
    ------
    VOIInputError
        No name, an empty or malformed item, a role given twice, or a column after a
        setting.

    Examples
    --------
    >>> parse_study("normal_known:mu=theta,sd=0.3")
    ('normal_known', [], {'mu': 'theta', 'sd': 0.3})
    >>> parse_study("trial_binary:pi1,pi2")
    ('trial_binary', ['pi1', 'pi2'], {})
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise VOIInputError(f"--study {spec!r}: expected NAME or NAME:ROLE=PARAMETER,...")
    positional: list[str] = []
    settings: dict[str, Any] = {}
    if rest.strip():
        for item in _split_list(rest, f"--study {name}:"):
            role, eq, value = item.partition("=")
            role, value = role.strip(), value.strip()
            if not eq:
                if settings:
                    raise VOIInputError(
                        f"--study {spec!r}: give the parameter columns ({role!r}) before ROLE=VALUE settings"
                    )
                positional.append(role)
                continue
            if not role or not value:
                raise VOIInputError(f"--study {spec!r}: {item!r} should be ROLE=VALUE")
            if role in settings:
                raise VOIInputError(f"--study {spec!r}: {role!r} is given twice")
            if value.lower() in ("true", "false"):
                settings[role] = value.lower() == "true"
            elif _is_number(value):
                settings[role] = float(value)
            else:
                settings[role] = value
    return name, positional, settings


def make_study(spec: str, columns: Sequence[str]) -> Any:
    """The built-in study design of :mod:`decisionmodel.voi.studies` described by ``spec``
    (see :func:`parse_study`), checked against the input ``columns``.

    Parameters
    ----------
    spec : str
        The value of ``--study``.
    columns : sequence of str
        The columns of the parameter draws (``--inputs``).

    Returns
    -------
    StudyDesign

    Raises
    ------
    VOIInputError
        An unknown design or setting, or a parameter that is not a column (the message
        starts with ``--study SPEC``).

    Examples
    --------
    >>> make_study("binary_two_arm:p1=a,p2=b", ["a", "b", "c"]).pars
    ('a', 'b')
    >>> make_study("normal_known:theta,sd=0.3", ["theta"]).sd
    0.3
    """
    import inspect

    from decisionmodel.voi import studies

    name, positional, settings = parse_study(spec)
    builtin = getattr(studies, "_BUILTIN", {})
    try:
        if positional or name not in builtin:
            design = studies.get_study(name, positional, **settings)
        else:
            ctor = builtin[name][0]
            params = inspect.signature(ctor).parameters
            unknown = [k for k in settings if k not in params]
            if unknown:
                raise VOIInputError(
                    f"unknown setting(s) {', '.join(unknown)}; {name} takes {', '.join(params)}"
                )
            design = ctor(**settings)
    except VOIInputError as exc:
        raise VOIInputError(f"--study {spec}: {exc}") from None
    except TypeError as exc:
        raise VOIInputError(f"--study {spec}: {exc}") from None
    missing = [p for p in design.pars if p not in columns]
    if missing:
        raise VOIInputError(
            f"--study {spec}: {', '.join(map(repr, missing))} is not a column of the inputs "
            f"(columns: {', '.join(columns)})"
        )
    return design


# --------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------

_EPILOG = """\
examples:
  decisionmodel voi evpi --outputs nb.csv
  decisionmodel voi evpi --costs c.csv --effects e.csv --wtp 20000 30000
  decisionmodel voi evppi --inputs pars.csv --outputs nb.csv --pars p1 --pars p2,p3 --json
  decisionmodel voi evsi --inputs pars.csv --outputs nb.csv \\
      --study binary_two_arm:p1=p_side,p2=p_side2 --n 100 1000 \\
      --pop-per-year 10000 --horizon 10 --setup-cost 2e5 --cost-per-patient 1500
"""


def _common_options() -> argparse.ArgumentParser:
    """The options of every ``voi`` subcommand (a parent parser): files, estimation and
    output, population."""
    common = argparse.ArgumentParser(add_help=False)
    files = common.add_argument_group("PSA files")
    files.add_argument("--inputs", metavar="CSV", help="parameter draws: one column per parameter")
    files.add_argument(
        "--outputs", metavar="CSV", help="net benefit draws: one column per strategy"
    )
    files.add_argument("--costs", metavar="CSV", help="cost draws (with --effects and --wtp)")
    files.add_argument("--effects", metavar="CSV", help="effect draws (with --costs and --wtp)")
    files.add_argument(
        "--wtp",
        nargs="+",
        action="extend",
        metavar="W",
        help="willingness-to-pay values (numbers, comma lists or a one-column CSV file); "
        "required with --costs/--effects",
    )
    est = common.add_argument_group("estimation and output")
    est.add_argument("--method", help="estimation method passed to evppi/evsi (default: theirs)")
    est.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    est.add_argument(
        "--no-se",
        action="store_true",
        help="skip the standard errors of evppi/evsi (faster; they are reported as null)",
    )
    est.add_argument("--json", action="store_true", help="print one JSON object (the contract)")
    pop = common.add_argument_group("population value of information")
    pop.add_argument("--pop-per-year", type=float, metavar="P", help="incident population per year")
    pop.add_argument("--horizon", type=float, metavar="T", help="technology horizon in years")
    pop.add_argument(
        "--discount",
        type=float,
        default=0.035,
        metavar="R",
        help="annual discount rate as a fraction (default 0.035, as voi)",
    )
    pop.add_argument(
        "--discounting",
        choices=["continuous", "discrete"],
        default="continuous",
        help="continuous (voi::pop_voi, default) or annual cohorts (discrete)",
    )

    return common


def _add_evsi_options(e: argparse.ArgumentParser) -> None:
    """The study design, sample sizes and study costs of ``voi evsi``."""
    e.add_argument(
        "--study",
        metavar="NAME:PARS",
        help="built-in study design and the input columns it informs: NAME:COL1,COL2 (columns "
        "in the design's order, as voi's pars) or NAME:ROLE=COL,...; ROLE=NUMBER sets a design "
        "constant. Designs: binary:p, binary_two_arm (trial_binary):p1,p2, normal_known "
        "(normal_mean):mu,sd=SD, survival_two_arm:rate,hr,accrual=A,follow_up=F. "
        "E.g. binary_two_arm:p1=p_side,p2=p_side2 or normal_known:theta,sd=0.3",
    )
    e.add_argument(
        "--n",
        nargs="+",
        action="extend",
        metavar="N",
        help="sample sizes (per arm), e.g. --n 50 100 500",
    )
    e.add_argument(
        "--setup-cost", metavar="C", help="study set-up cost (or LOW,HIGH 95%% interval): adds ENBS"
    )
    e.add_argument(
        "--cost-per-patient", metavar="C", help="cost per participant (or LOW,HIGH): adds ENBS"
    )
    e.add_argument(
        "--n-arms",
        type=int,
        help="arms recruiting n participants each, for the study cost (default: 2 for "
        "two-arm designs, else 1)",
    )
    e.add_argument(
        "--smooth",
        action="store_true",
        help="optimal n from a smooth EVSI(n) curve instead of the given n",
    )


def add_voi_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``voi`` command (subcommands ``evpi``, ``evppi``, ``evsi``) to ``sub``, the
    subparsers action of the ``decisionmodel`` parser.

    Parameters
    ----------
    sub : argparse subparsers action
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``voi`` parser; each subcommand sets ``func=run_voi``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="decisionmodel")
    >>> _ = add_voi_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["voi", "evppi", "--inputs", "x.csv", "--outputs", "nb.csv",
    ...                           "--pars", "a", "--pars", "b,c"])
    >>> args.voi_quantity, args.pars
    ('evppi', ['a', 'b,c'])
    """
    voi = sub.add_parser(
        "voi",
        help="value of information (EVPI, EVPPI, EVSI) from any PSA sample in CSV files",
        description="Value of information from a probabilistic sensitivity analysis sample "
        "stored as CSV files (the layouts of voi, BCEA and SAVI).",
    )
    qsub = voi.add_subparsers(dest="voi_quantity", required=True, metavar="{evpi,evppi,evsi}")

    common = _common_options()
    helps = {
        "evpi": "expected value of perfect information",
        "evppi": "expected value of partial perfect information, per parameter group",
        "evsi": "expected value of sample information of a study design",
    }
    parsers = {}
    for name, text in helps.items():
        parsers[name] = qsub.add_parser(
            name,
            parents=[common],
            help=text,
            description=f"{text[0].upper()}{text[1:]}.",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parsers[name].set_defaults(func=run_voi)
    parsers["evppi"].add_argument(
        "--pars",
        action="append",
        metavar="A[,B...]",
        help="a parameter group (comma-separated); repeat for several groups "
        "(default: every non-constant parameter on its own)",
    )
    _add_evsi_options(parsers["evsi"])
    return voi


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def _values(da: Any) -> list[float | None]:
    import numpy as np

    return [_num(v) for v in np.atleast_1d(da.values)]


@dataclass(frozen=True)
class _EvsiOptions:
    """The checked options of ``voi evsi``: sample sizes and, for ENBS, the study costs."""

    n_values: list[int]
    setup: float | list[float] | None
    per_patient: float | list[float] | None


def _check_options(
    args: argparse.Namespace,
) -> tuple[dict[str, Any] | None, _EvsiOptions | None]:
    """Check the options that need no file; return the population and the EVSI options."""
    from decisionmodel.cliopts import check_seed

    quantity = args.voi_quantity
    check_seed(args.seed)
    if quantity == "evpi" and args.method:
        raise VOIInputError("--method does not apply to evpi (it is computed exactly)")
    if quantity in ("evppi", "evsi") and not args.inputs:
        raise VOIInputError(f"{quantity} needs the parameter draws: --inputs CSV")
    population = _population(args)
    evsi = _check_evsi_options(args, population) if quantity == "evsi" else None
    return population, evsi


def _check_evsi_options(
    args: argparse.Namespace, population: dict[str, Any] | None
) -> _EvsiOptions:
    if not args.study:
        raise VOIInputError("evsi needs a study design: --study NAME[:ROLE=PAR,...]")
    if not args.n:
        raise VOIInputError("evsi needs sample sizes: --n N [N ...]")
    n_values = _parse_n(args.n)
    setup = _parse_cost(args.setup_cost, "--setup-cost")
    per_patient = _parse_cost(args.cost_per_patient, "--cost-per-patient")
    if (setup is None) != (per_patient is None):
        raise VOIInputError("--setup-cost and --cost-per-patient go together (ENBS)")
    if setup is not None and population is None:
        raise VOIInputError("ENBS (--setup-cost) needs --pop-per-year and --horizon")
    if args.n_arms is not None and not 1 <= args.n_arms <= 100:
        raise VOIInputError(f"--n-arms {args.n_arms}: must be from 1 to 100")
    if args.smooth and setup is None:
        raise VOIInputError(
            "--smooth applies to the optimal sample size: give --setup-cost and --cost-per-patient"
        )
    if args.smooth and len(n_values) < 3:
        raise VOIInputError("--smooth needs EVSI at 3 or more sample sizes (--n)")
    return _EvsiOptions(n_values, setup, per_patient)


def _load(args: argparse.Namespace) -> PSAFiles:
    """Read the files of the options and check them against each other."""
    return read_psa(
        outputs=args.outputs,
        costs=args.costs,
        effects=args.effects,
        wtp=args.wtp,
        inputs=args.inputs,
    )


def _check_pars(
    groups: list[list[str]], psa: PSAFiles, inputs_file: str, option: str = "--pars"
) -> None:
    assert psa.inputs is not None
    cols = list(psa.inputs.columns)
    for g in groups:
        for p in g:
            if p not in cols:
                raise VOIInputError(
                    f"{option}: {p!r} is not a column of {inputs_file} (columns: {', '.join(cols)})"
                )
            if p in psa.constant:
                v = float(psa.inputs[p].iloc[0])
                raise VOIInputError(
                    f"{inputs_file}: column {p!r} is constant ({v:g} in every row), so there is "
                    f"nothing to learn about it; leave it out of {option}"
                )
        if len(set(g)) != len(g):
            raise VOIInputError(f"{option} {','.join(g)}: names a parameter twice")


def _population(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.pop_per_year is None:
        if args.horizon is not None:
            raise VOIInputError("--horizon needs --pop-per-year (population per year)")
        return None
    if args.horizon is None:
        raise VOIInputError("--pop-per-year needs --horizon (technology horizon in years)")
    from decisionmodel.voi.enbs import population_multiplier

    if args.pop_per_year > MAX_POP_PER_YEAR:
        raise VOIInputError(
            f"--pop-per-year {args.pop_per_year:g}: must be at most {MAX_POP_PER_YEAR:g} per year"
        )
    if args.horizon > MAX_HORIZON:
        raise VOIInputError(f"--horizon {args.horizon:g}: must be at most {MAX_HORIZON:g} years")
    try:
        m = population_multiplier(
            pop_per_year=args.pop_per_year,
            horizon=args.horizon,
            discount=args.discount,
            kind=args.discounting,
        )
    except VOIInputError as exc:
        raise VOIInputError(f"population options: {exc}") from None
    return {
        "pop_per_year": args.pop_per_year,
        "horizon": args.horizon,
        "discount": args.discount,
        "discounting": args.discounting,
        "multiplier": m,
    }


def _wtp_at(res: Any, i: int | None) -> Any:
    return res if i is None else res.isel(wtp=i)


def _wtp_indices(psa: PSAFiles) -> list[int | None]:
    """Positions on the WTP grid (``[None]`` for net benefit, which has none)."""
    return list(range(len(psa.wtp))) if psa.wtp is not None else [None]


def _wtp_value(psa: PSAFiles, i: int | None) -> float | None:
    """The WTP at position ``i`` of the grid (None for net benefit, which has none)."""
    if i is None:
        return None
    assert psa.wtp is not None  # positions come from _wtp_indices, which has them only then
    return psa.wtp[i]


def _group_at(res: Any, group: list[str], position: int) -> Any:
    """The result for one parameter group: by its label ``a,b`` if the ``group``
    coordinate holds labels, else by position."""
    if "group" not in res.dims:
        return res
    if "group" in res.coords:
        labels = [str(v) for v in res["group"].values]
        label = ",".join(group)
        if label in labels:
            return res.isel(group=labels.index(label))
    return res.isel(group=position)


def _estimator(name: str) -> Any:
    import importlib

    try:
        module = importlib.import_module(f"decisionmodel.voi.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"decisionmodel.voi.{name}":
            raise
        raise VOIInputError(f"{name} is not available in this installation") from None
    return getattr(module, name)


def _estimator_kwargs(args: argparse.Namespace, rng: Any) -> dict[str, Any]:
    """``rng``, and ``se``/``method`` where the options set them."""
    kw: dict[str, Any] = {"rng": rng}
    if args.no_se:
        kw["se"] = False
    if args.method:
        kw["method"] = args.method
    return kw


def _call(estimator: Any, psa: PSAFiles, *args: Any, **kwargs: Any) -> Any:
    """``estimator(nb, inputs, *args, ...)`` on the outcomes and parameter draws of ``psa``."""
    outcomes = psa.outcome_kwargs()
    return estimator(
        outcomes.get("nb"),
        psa.inputs,
        *args,
        **{k: v for k, v in outcomes.items() if k != "nb"},
        **kwargs,
    )


def _with_population(entry: dict[str, Any], population: dict[str, Any] | None) -> dict[str, Any]:
    """Add ``pop_value`` and ``pop_se`` (the per-person value times the multiplier)."""
    if population is not None:
        m = population["multiplier"]
        entry["pop_value"] = _num(entry["value"] * m)
        entry["pop_se"] = None if entry["se"] is None else _num(entry["se"] * m)
    return entry


def _evpi_result(
    args: argparse.Namespace, psa: PSAFiles, population: dict[str, Any] | None
) -> dict[str, Any]:
    """The result's head: the run, the EVPI and, with a population, the population EVPI."""
    from decisionmodel.voi.enbs import pop_voi
    from decisionmodel.voi.evpi import evpi

    ev = evpi(**psa.outcome_kwargs())
    result: dict[str, Any] = {
        "quantity": args.voi_quantity,
        "method": None,
        "samples": int(psa.n_rows),
        "strategies": psa.strategies,
        "wtp": psa.wtp,
        "seed": args.seed,
        "evpi": _values(ev["value"]),
        "evpi_se": _values(ev["se"]),
    }
    if population is not None:
        pe = pop_voi(
            ev,
            pop_per_year=population["pop_per_year"],
            horizon=population["horizon"],
            discount=population["discount"],
            kind=population["discounting"],
        )
        result["population"] = dict(
            population, evpi=_values(pe["value"]), evpi_se=_values(pe["se"])
        )
    return result


def _evppi_groups(args: argparse.Namespace, psa: PSAFiles, result: dict[str, Any]) -> list:
    """The ``--pars`` groups, or every non-constant parameter alone (recorded as
    ``constant`` in the result)."""
    assert psa.inputs is not None
    if args.pars:
        groups = [_split_list(g, "--pars") for g in args.pars]
    else:
        groups = [[c] for c in psa.inputs.columns if c not in psa.constant]
        if not groups:
            raise VOIInputError(f"{args.inputs}: every parameter column is constant")
        result["constant"] = list(psa.constant)
    _check_pars(groups, psa, args.inputs)
    return groups


def _run_evppi(
    args: argparse.Namespace,
    psa: PSAFiles,
    rng: Any,
    population: dict[str, Any] | None,
    result: dict[str, Any],
) -> None:
    """Add ``method`` and one ``evppi`` entry per group and WTP to ``result``."""
    groups = _evppi_groups(args, psa, result)
    res = _call(_estimator("evppi"), psa, groups, **_estimator_kwargs(args, rng))
    result["method"] = res.attrs.get("method", args.method)
    entries = []
    for gi, g in enumerate(groups):
        r = _group_at(res, g, gi)
        for i in _wtp_indices(psa):
            rw = _wtp_at(r, i)
            entry = {
                "pars": g,
                "value": _num(rw["value"]),
                "se": _num(rw["se"]) if "se" in rw else None,
                "wtp": _wtp_value(psa, i),
            }
            if "method" in rw.data_vars:  # the regression actually used for this group
                entry["method"] = str(rw["method"].values)
            entries.append(_with_population(entry, population))
    result["evppi"] = entries


def _run_evsi(
    args: argparse.Namespace,
    psa: PSAFiles,
    rng: Any,
    population: dict[str, Any] | None,
    opts: _EvsiOptions,
    result: dict[str, Any],
) -> None:
    """Add ``method`` and one ``evsi`` entry per sample size and WTP to ``result`` (and the
    ENBS with study costs)."""
    assert psa.inputs is not None
    study = make_study(args.study, list(psa.inputs.columns))
    study_pars = list(study.pars)
    n_arms = args.n_arms
    if n_arms is None:
        n_arms = int(getattr(study, "n_arms", 2 if "two_arm" in study.name else 1))
    _check_simulation_size(study, opts.n_values, psa.n_rows)
    _check_pars([study_pars], psa, args.inputs, "--study")
    res = _call(
        _estimator("evsi"), psa, study=study, n=opts.n_values, **_estimator_kwargs(args, rng)
    )
    result["method"] = res.attrs.get("method", args.method)
    entries = []
    for n in opts.n_values:
        r = res.sel(n=n)
        for i in _wtp_indices(psa):
            rw = _wtp_at(r, i)
            entry = {
                "study": args.study,
                "pars": study_pars,
                "n": n,
                "value": _num(rw["value"]),
                "se": _num(rw["se"]) if "se" in rw else None,
                "wtp": _wtp_value(psa, i),
            }
            entries.append(_with_population(entry, population))
    result["evsi"] = entries
    if opts.setup is not None:
        assert population is not None
        _run_enbs(args, psa, rng, res, population, opts, n_arms, result)


def _run_enbs(
    args: argparse.Namespace,
    psa: PSAFiles,
    rng: Any,
    evsi_result: Any,
    population: dict[str, Any],
    opts: _EvsiOptions,
    n_arms: int,
    result: dict[str, Any],
) -> None:
    """Add ``enbs`` (per n and WTP), ``enbs_optimum`` (per WTP) and ``study_costs``."""
    from decisionmodel.voi.enbs import enbs, enbs_optimum

    # _check_options gives both costs or neither, and _run_evsi calls this with them
    assert opts.setup is not None and opts.per_patient is not None
    eb = enbs(
        evsi_result,
        pop_per_year=population["pop_per_year"],
        horizon=population["horizon"],
        discount=population["discount"],
        kind=population["discounting"],
        cost_fixed=opts.setup,
        cost_per_patient=opts.per_patient,
        n_arms=n_arms,
    )
    smooth = bool(args.smooth)
    opt = enbs_optimum(eb, smooth=smooth, rng=rng)
    rows = []
    for n in opts.n_values:
        r = eb.sel(n=float(n))
        for i in _wtp_indices(psa):
            rw = _wtp_at(r, i)
            rows.append(
                {
                    "n": n,
                    "wtp": _wtp_value(psa, i),
                    "value": _num(rw["enbs"]),
                    "se": _num(rw["se"]),
                    "pop_evsi": _num(rw["pop_evsi"]),
                    "cost": _num(rw["cost"]),
                    "p_positive": _num(rw["p_positive"]),
                }
            )
    result["enbs"] = rows
    optimum = []
    for i in _wtp_indices(psa):
        o = _wtp_at(opt, i)
        optimum.append(
            {
                "wtp": _wtp_value(psa, i),
                **{
                    k: int(o[k]) if k.startswith("n_") else _num(o[k])
                    for k in map(str, opt.data_vars)
                },
            }
        )
    result["enbs_optimum"] = optimum
    result["study_costs"] = {
        "setup": opts.setup,
        "per_patient": opts.per_patient,
        "n_arms": n_arms,
        "smooth": smooth,
    }


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    """The JSON, a table fitted to the terminal, or (piped or redirected) a plain table."""
    if as_json:
        print(json.dumps(result, indent=2))
    elif sys.stdout.isatty():
        import shutil

        width = max(40, shutil.get_terminal_size((120, 24)).columns)
        print(format_voi_table(result, rich=True, width=width))
    else:
        print(format_voi_table(result))


def run_voi(args: argparse.Namespace) -> int:
    """Run ``decisionmodel voi ...`` on parsed arguments; print the table or the JSON.

    Parameters
    ----------
    args : argparse.Namespace
        The arguments of the parser made by :func:`add_voi_parser`.

    Returns
    -------
    int
        0 (every problem raises instead).

    Raises
    ------
    VOIInputError
        A bad option or file (the ``decisionmodel`` entry point prints it as one line and
        exits with code 2).

    Examples
    --------
    >>> import argparse, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "nb.csv").write_text("SoC,Novel\\n10,0\\n0,20\\n")
    >>> parser = argparse.ArgumentParser(prog="decisionmodel")
    >>> _ = add_voi_parser(parser.add_subparsers(dest="command"))
    >>> run_voi(parser.parse_args(["voi", "evpi", "--outputs", str(d / "nb.csv")]))
    Value of information: evpi (2 draws; strategies SoC, Novel)
    <BLANKLINE>
    EVPI per person
      EVPI    SE
      ----  ----
      5.00  5.00
    0
    """
    from decisionmodel.rng import as_generator

    population, evsi_opts = _check_options(args)
    psa = _load(args)
    rng = as_generator(args.seed)
    result = _evpi_result(args, psa, population)
    if args.voi_quantity == "evppi":
        _run_evppi(args, psa, rng, population, result)
    if args.voi_quantity == "evsi":
        assert evsi_opts is not None
        _run_evsi(args, psa, rng, population, evsi_opts, result)
    _check_finite(result, psa)
    _print_result(result, args.json)
    return 0


def _check_simulation_size(study: Any, n_values: list[int], rows: int) -> None:
    """Refuse sample sizes whose simulated participants (n x draws x 2 arms) exceed
    :data:`MAX_SIMULATED` for designs that simulate every participant."""
    if getattr(study, "name", "") not in PATIENT_LEVEL_DESIGNS:
        return
    largest = max(n_values)
    if largest * rows * 2 > MAX_SIMULATED:
        limit = MAX_SIMULATED // (2 * rows)
        raise VOIInputError(
            f"--n {largest}: {study.name} simulates every participant, {largest * rows * 2:,} "
            f"for {rows:,} draws; at most {MAX_SIMULATED:,} (n <= {limit:,} here)"
        )


def _check_finite(result: dict[str, Any], psa: PSAFiles) -> None:
    """An estimate that overflowed (or is undefined) is an error, never a ``null``."""
    files = psa.rows_file
    checks: list[tuple[str, Any]] = [("EVPI", v) for v in result["evpi"]]
    for key in ("evppi", "evsi", "enbs"):
        for e in result.get(key, []):
            checks.append((key.upper(), e.get("value")))
            if "pop_value" in e:
                checks.append((f"population {key.upper()}", e["pop_value"]))
            if "pop_evsi" in e:
                checks.append(("population EVSI", e["pop_evsi"]))
    pop = result.get("population")
    if pop:
        checks += [("population EVPI", v) for v in pop["evpi"]]
    for what, value in checks:
        if value is None:
            raise VOIInputError(
                f"{files}: the {what} is not a finite number (the values are too large: "
                "the computation overflowed)"
            )


# --------------------------------------------------------------------------------------
# text output
# --------------------------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1 or x == 0:
        return f"{x:.2f}"
    return f"{x:.4g}"


def _fmt_cost(c: float | list[float]) -> str:
    if isinstance(c, list):
        return "[" + ", ".join(_fmt(v) for v in c) + "]"
    return _fmt(c)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Columns right-aligned (numbers), except a leading ``parameters`` column."""
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    left = header[0] == "parameters"

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if (j == 0 and left) else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    return "\n".join("  " + x.rstrip() for x in out)


def format_voi_table(result: dict[str, Any], *, rich: bool = False, width: int = 120) -> str:
    """A readable text rendering of the JSON result of :func:`run_voi`.

    Plain text by default (what piped or redirected output gets); ``rich=True`` draws the
    tables with :mod:`rich` for a terminal ``width`` columns wide.

    Parameters
    ----------
    result : dict
        The JSON object of a run (the contract of ``--json``).
    rich : bool
        Draw with :mod:`rich` (ANSI styles) instead of plain text.
    width : int
        Terminal width for ``rich``.

    Returns
    -------
    str
        The title, the EVPI table and, as present, the EVPPI, EVSI, ENBS and optimal
        sample size tables.

    Examples
    --------
    >>> print(format_voi_table({"quantity": "evpi", "method": None, "samples": 3,
    ...     "strategies": ["a", "b"], "wtp": None, "evpi": [5.0], "evpi_se": [2.5]}))
    Value of information: evpi (3 draws; strategies a, b)
    <BLANKLINE>
    EVPI per person
      EVPI    SE
      ----  ----
      5.00  2.50
    """
    out = _head_items(result) + _evpi_items(result)
    evpi_at = dict(
        zip([None] if result["wtp"] is None else result["wtp"], result["evpi"], strict=True)
    )
    for key, label in (("evppi", "EVPPI"), ("evsi", "EVSI")):
        if key in result:
            out += _voi_items(result, key, label, evpi_at)
    if result.get("constant"):
        out.append(f"  (constant, left out: {', '.join(result['constant'])})")
    if "enbs" in result:
        out += _enbs_items(result) + _optimum_items(result)
    if rich:
        return _render_rich(out, width)
    return "\n".join(x if isinstance(x, str) else _table(*x) for x in out)


def _wtp_cells(result: dict[str, Any], wtp: float | None) -> list[str]:
    """The WTP cell of a row, or none without a WTP grid."""
    return [_fmt(wtp)] if result["wtp"] is not None else []


def _wtp_header(result: dict[str, Any]) -> list[str]:
    return ["WTP"] if result["wtp"] is not None else []


def _head_items(result: dict[str, Any]) -> list[Any]:
    """The title line and, with a population, its line."""
    pop = result.get("population")
    head = f"Value of information: {result['quantity']} ({result['samples']} draws; strategies {', '.join(result['strategies'])}"
    if result.get("method"):
        head += f"; method {result['method']}"
    out: list[Any] = [head + ")", ""]  # lines, and tables as (header, rows)
    if pop:
        out.append(
            f"Population: {pop['pop_per_year']:g} per year over {pop['horizon']:g} years, "
            f"{pop['discounting']} discounting at {pop['discount']:g} (multiplier {pop['multiplier']:,.1f})"
        )
        out.append("")
    return out


def _evpi_items(result: dict[str, Any]) -> list[Any]:
    """The EVPI table (per WTP; with the population EVPI)."""
    wtp, pop = result["wtp"], result.get("population")
    header = _wtp_header(result) + ["EVPI", "SE"] + (["population EVPI"] if pop else [])
    rows = []
    for i, v in enumerate(result["evpi"]):
        w = None if wtp is None else wtp[i]
        row = [*_wtp_cells(result, w), _fmt(v), _fmt(result["evpi_se"][i])]
        if pop:
            row.append(_fmt(pop["evpi"][i]))
        rows.append(row)
    return ["EVPI per person", (header, rows)]


def _voi_items(
    result: dict[str, Any], key: str, label: str, evpi_at: dict[float | None, float | None]
) -> list[Any]:
    """The EVPPI (one row per group) or EVSI (one row per n) table, with its share of
    the EVPI at the same WTP."""
    pop = result.get("population")
    title = f"{label} per person" + (
        f" (study {result['evsi'][0]['study']})" if key == "evsi" and result["evsi"] else ""
    )
    first = ["parameters"] if key == "evppi" else ["n"]
    header = (
        first
        + _wtp_header(result)
        + [label, "SE", "% of EVPI"]
        + (["population " + label] if pop else [])
    )
    rows = []
    for e in result[key]:
        ev = evpi_at[e["wtp"]]
        share = "–" if e["value"] is None or not ev else f"{100 * e['value'] / ev:.1f}%"
        row = [",".join(e["pars"]) if key == "evppi" else str(e["n"])]
        row += [*_wtp_cells(result, e["wtp"]), _fmt(e["value"]), _fmt(e["se"]), share]
        if pop:
            row.append(_fmt(e["pop_value"]))
        rows.append(row)
    return ["", title, (header, rows)]


def _enbs_items(result: dict[str, Any]) -> list[Any]:
    """The ENBS table (one row per n and WTP) under a line of the study costs."""
    sc = result["study_costs"]
    title = (
        f"ENBS (set-up cost {_fmt_cost(sc['setup'])}, per participant "
        f"{_fmt_cost(sc['per_patient'])}, {sc['n_arms']} arm(s) of n)"
    )
    header = ["n", *_wtp_header(result), "population EVSI", "study cost", "ENBS", "SE", "P(ENBS>0)"]
    rows = [
        [
            str(e["n"]),
            *_wtp_cells(result, e["wtp"]),
            _fmt(e["pop_evsi"]),
            _fmt(e["cost"]),
            _fmt(e["value"]),
            _fmt(e["se"]),
            f"{e['p_positive']:.3f}",
        ]
        for e in result["enbs"]
    ]
    return ["", title, (header, rows)]


def _optimum_items(result: dict[str, Any]) -> list[Any]:
    """The optimal sample size table (one row per WTP)."""
    smooth = result["study_costs"]["smooth"]
    header = [
        *_wtp_header(result),
        "n",
        "95% interval",
        "max ENBS",
        "95% interval",
        "P(ENBS>0)",
        "within 5%",
    ]
    rows = [
        [
            *_wtp_cells(result, o["wtp"]),
            f"{o['n_opt']:.0f}",
            f"{o['n_opt_lower']:.0f}–{o['n_opt_upper']:.0f}",
            _fmt(o["enbs_max"]),
            f"{_fmt(o['enbs_max_lower'])} to {_fmt(o['enbs_max_upper'])}",
            f"{o['p_positive']:.3f}",
            f"{o['n_lower']:.0f}–{o['n_upper']:.0f}",
        ]
        for o in result["enbs_optimum"]
    ]
    return ["", "Optimal sample size" + (" (smooth EVSI curve)" if smooth else ""), (header, rows)]


def _render_rich(items: list[Any], width: int) -> str:
    """Lines and (header, rows) tables drawn with :mod:`rich` (ANSI styles included)."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=max(width, 20),
        force_terminal=True,
        color_system="standard",
        highlight=False,
    )
    for item in items:
        if isinstance(item, str):
            console.print(Text(item, style="bold" if not buf.tell() else ""))
            continue
        header, rows = item
        table = Table(box=None, header_style="bold", pad_edge=False)
        for j, h in enumerate(header):
            left = j == 0 and h == "parameters"
            table.add_column(Text(h), justify="left" if left else "right", overflow="fold")
        for r in rows:
            table.add_row(*(Text(c) for c in r))
        console.print(table)
    return buf.getvalue().rstrip("\n")
