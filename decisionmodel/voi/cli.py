"""``decisionmodel voi evpi|evppi|evsi``: value of information from any PSA sample on disk.

The command reads the CSV layouts written by the R packages voi, BCEA and SAVI:

* ``--inputs``: parameter draws, one named column per parameter, one row per draw;
* ``--outputs``: net benefit, one column per strategy (the first is the comparator only by
  convention; all strategies are compared); or ``--costs`` and ``--effects`` in the same
  layout together with a willingness-to-pay grid ``--wtp``.

A header is required. An unnamed leading column (R's row names, e.g. ``write.csv``) is
ignored, quoted headers and a UTF-8 byte-order mark are accepted, and the separator may be a
comma, a semicolon or a tab. Every problem with the files or options — a missing file, a
non-numeric or empty cell, NaN, a row-count mismatch, an unknown or constant parameter, a
single strategy, a bad ``--wtp`` — raises :class:`~decisionmodel.exceptions.VOIInputError`
with a message naming the file, column and row, which the ``decisionmodel`` entry point
prints as one line on stderr with exit code 2.

The JSON written by ``--json`` (one object; keys ``quantity``, ``method``, ``samples``,
``strategies``, ``wtp``, ``seed``, ``evpi``, ``evpi_se`` and, as requested, ``evppi``, ``evsi``,
``population``, ``enbs``, ``enbs_optimum``, ``study_costs``) is the contract documented in
the README section "Value of information from any PSA".
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from decisionmodel.exceptions import VOIInputError

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
# files
# --------------------------------------------------------------------------------------


#: largest CSV file read (bytes); larger files are refused before reading
MAX_CSV_BYTES = 256 * 2**20
#: most columns in a CSV file (the header is counted before anything else is read)
MAX_CSV_COLUMNS = 10_000
#: most data rows in a CSV file
MAX_CSV_ROWS = 5_000_000
#: largest magnitude of a value: beyond it sums of squares over the draws could overflow
MAX_ABS_VALUE = 1e100
_SEPARATORS = (",", "\t", ";")


def _sniff_separator(header_line: str) -> str:
    """The separator (comma, tab or semicolon) that splits the header into the most fields
    with well-formed quoting (``"a,b";"c"`` is two columns separated by ``;``); comma on a
    tie or when nothing splits it."""
    best, most = ",", 0
    for sep in _SEPARATORS:
        if sep not in header_line:
            continue
        try:
            n = len(next(csv.reader([header_line], delimiter=sep, strict=True), []))
        except csv.Error:  # a quoted field not followed by this separator
            continue
        if n > most:
            best, most = sep, n
    return best


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_header(p: Path, where: str) -> str:
    """The first line of ``p`` (a UTF-8 BOM removed), bounded in length."""
    limit = 256 * (MAX_CSV_COLUMNS + 1)  # generous for MAX_CSV_COLUMNS quoted names
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise VOIInputError(f"{where}: cannot be read as text ({exc})") from None
    if "\x00" in first:
        raise VOIInputError(f"{where}: cannot be read as text (it holds NUL bytes: a binary file?)")
    if len(first) > limit and not first.endswith(("\n", "\r")):
        raise VOIInputError(
            f"{where}: the header line is longer than {limit:,} characters "
            f"(at most {MAX_CSV_COLUMNS:,} columns are read)"
        )
    return first


def read_table(path: str | Path, role: str = "table"):
    """Read a CSV of draws (rows) × named numeric columns into a float DataFrame.

    The file is read with :func:`pandas.read_csv`; the separator (comma, semicolon or tab)
    is the one that splits the header line into the most fields, quotes respected. Limits,
    checked before the data are parsed: at most :data:`MAX_CSV_BYTES` (256 MiB) per file,
    :data:`MAX_CSV_COLUMNS` (10,000) columns and :data:`MAX_CSV_ROWS` (5,000,000) data
    rows; values beyond ±:data:`MAX_ABS_VALUE` (1e100) are refused (sums of their squares
    over the draws could overflow).

    Parameters
    ----------
    path : str or Path
        The file.
    role : str
        What the file holds (used in messages), e.g. ``"--inputs"``.

    Returns
    -------
    pandas.DataFrame
        Float columns named as in the header, in file order.

    Raises
    ------
    VOIInputError
        With a message naming the file and, where it applies, the column and the data row
        (rows are counted from 1 at the first line after the header).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "nb.csv").write_text('"","SoC","Novel"\\n"1",1.5,2\\n"2",3,4.25\\n')
    >>> read_table(d / "nb.csv").to_dict("list")
    {'SoC': [1.5, 3.0], 'Novel': [2.0, 4.25]}
    >>> _ = (d / "semi.csv").write_text('"cost, USD";"QALY"\\n1.5;2\\n3;4\\n')
    >>> read_table(d / "semi.csv").columns.tolist()
    ['cost, USD', 'QALY']
    >>> _ = (d / "bad.csv").write_text("a,b\\n1,2\\n3,x\\n")
    >>> read_table(d / "bad.csv", "--outputs")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.VOIInputError: ...bad.csv (--outputs): column 'b', data row 2: 'x' is not a number
    """
    from collections import Counter

    import numpy as np
    import pandas as pd

    p = Path(path)
    where = f"{p} ({role})"
    if not p.exists():
        raise VOIInputError(f"{where}: no such file")
    if p.is_dir():
        raise VOIInputError(f"{where}: is a directory, not a CSV file")
    if not p.is_file():
        raise VOIInputError(f"{where}: is not a regular file (a device or a pipe?)")
    size = p.stat().st_size
    if size > MAX_CSV_BYTES:
        raise VOIInputError(
            f"{where}: {size / 2**20:,.0f} MiB is larger than the limit of "
            f"{MAX_CSV_BYTES / 2**20:,.0f} MiB for a CSV file"
        )
    first = _read_header(p, where)
    if not first.strip():
        raise VOIInputError(f"{where}: empty file (a header line naming the columns is required)")
    sep = _sniff_separator(first)
    header = [h.strip() for h in next(csv.reader([first], delimiter=sep))]
    if len(header) > MAX_CSV_COLUMNS + 1:
        raise VOIInputError(
            f"{where}: {len(header):,} columns; at most {MAX_CSV_COLUMNS:,} are read"
        )
    if '"' not in first and all(_is_number(h) for h in header if h):
        raise VOIInputError(
            f"{where}: the first line must name the columns, but it holds numbers ({first.strip()[:60]})"
        )
    named = header[1:] if header and header[0] == "" else header
    if len(named) > MAX_CSV_COLUMNS:
        raise VOIInputError(
            f"{where}: {len(named):,} columns; at most {MAX_CSV_COLUMNS:,} are read"
        )
    if "" in named:
        raise VOIInputError(f"{where}: column {named.index('') + 1} has no name in the header")
    counts = Counter(named)
    dupes = sorted(h for h, k in counts.items() if k > 1)
    if dupes:
        raise VOIInputError(f"{where}: column name(s) {', '.join(map(repr, dupes))} repeat")
    try:
        df = pd.read_csv(
            p,
            sep=sep,
            encoding="utf-8-sig",
            skipinitialspace=True,
            keep_default_na=True,
            true_values=[],
            false_values=[],
            nrows=MAX_CSV_ROWS + 1,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise VOIInputError(f"{where}: empty file") from None
    except UnicodeDecodeError as exc:
        raise VOIInputError(f"{where}: cannot be read as UTF-8 text ({exc})") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        msg = " ".join(str(exc).split())
        raise VOIInputError(f"{where}: cannot be read as CSV ({msg})") from None
    if len(df) > MAX_CSV_ROWS:
        raise VOIInputError(f"{where}: more than {MAX_CSV_ROWS:,} data rows; that many are read")
    if header and header[0] == "" and len(df.columns) == len(header):
        df = df.iloc[:, 1:]  # R row names under an empty header
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise VOIInputError(f"{where}: no data rows after the header")
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            raise VOIInputError(f"{where}: column {col!r} holds TRUE/FALSE values, not numbers")
        if not pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise VOIInputError(
                    f"{where}: column {col!r}, data row {i + 1}: {str(s.iloc[i])!r} is not a number"
                )
            s = num
        v = s.to_numpy(dtype=float)
        finite = np.isfinite(v)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            what = "empty or NA" if np.isnan(v[i]) else "infinite"
            raise VOIInputError(
                f"{where}: column {col!r}, data row {i + 1} is {what} "
                f"({int((~finite).sum())} non-finite value(s) in the column)"
            )
        huge = np.abs(v) > MAX_ABS_VALUE
        if huge.any():
            i = int(np.flatnonzero(huge)[0])
            raise VOIInputError(
                f"{where}: column {col!r}, data row {i + 1}: {v[i]:g} is beyond "
                f"±{MAX_ABS_VALUE:g}, too large to compute with"
            )
        out[col] = v
    return pd.DataFrame(out, columns=list(df.columns))


def read_wtp(items: Sequence[str]) -> list[float]:
    """Parse ``--wtp`` values: numbers (separated by spaces or commas) or files of numbers.

    A file holds one value per line (a header line such as ``k`` and an unnamed leading
    row-name column are allowed), e.g. voi's ``chemo_cea_k.csv``.

    Examples
    --------
    >>> read_wtp(["10000", "20000,30000"])
    [10000.0, 20000.0, 30000.0]
    >>> read_wtp(["-1"])
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.VOIInputError: --wtp -1.0: willingness to pay must be a finite number >= 0
    """
    values: list[float] = []
    for item in items:
        p = Path(item)
        if not _is_number(item.split(",")[0].strip() or "x") and p.is_file():
            df = read_table(p, "--wtp")
            if df.shape[1] != 1:
                raise VOIInputError(
                    f"{p} (--wtp): expected one column of willingness-to-pay values, got "
                    f"{df.shape[1]} ({', '.join(df.columns)})"
                )
            values.extend(float(v) for v in df.iloc[:, 0])
            continue
        for tok in item.split(","):
            tok = tok.strip()
            if not tok:
                continue
            if not _is_number(tok):
                raise VOIInputError(f"--wtp {tok!r}: not a number, and no such file")
            values.append(float(tok))
    if not values:
        raise VOIInputError("--wtp: no values given")
    from decisionmodel.cliopts import MAX_WTP

    for w in values:
        if not (math.isfinite(w) and w >= 0):
            raise VOIInputError(f"--wtp {w}: willingness to pay must be a finite number >= 0")
        if w > MAX_WTP:
            raise VOIInputError(
                f"--wtp {w:g}: willingness to pay must be at most {MAX_WTP:g} per unit of effect"
            )
    dupes = sorted({w for w in values if values.count(w) > 1})
    if dupes:
        raise VOIInputError(f"--wtp: value(s) {', '.join(f'{w:g}' for w in dupes)} repeat")
    return values


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


def add_voi_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``voi`` command (subcommands ``evpi``, ``evppi``, ``evsi``) to ``sub``, the
    subparsers action of the ``decisionmodel`` parser.

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
    e = parsers["evsi"]
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


def _load(args: argparse.Namespace) -> dict[str, Any]:
    """Read the files, check them against each other; return the estimator arguments."""
    from decisionmodel.rng import as_generator

    if args.outputs and (args.costs or args.effects):
        raise VOIInputError("give net benefit (--outputs) or --costs and --effects, not both")
    if not args.outputs and not (args.costs and args.effects):
        if args.costs or args.effects:
            missing = "--effects" if args.costs else "--costs"
            raise VOIInputError(f"{missing} is missing: --costs and --effects go together")
        raise VOIInputError("give net benefit with --outputs CSV, or --costs CSV and --effects CSV")
    data: dict[str, Any] = {}
    if args.outputs:
        if args.wtp:
            raise VOIInputError(
                "--wtp applies to --costs/--effects; net benefit in --outputs is already "
                "valued at one willingness to pay"
            )
        nb = read_table(args.outputs, "--outputs")
        if nb.shape[1] < 2:
            raise VOIInputError(
                f"{args.outputs} (--outputs): only one strategy column ({nb.columns[0]!r}); "
                "need net benefit for at least 2 strategies"
            )
        data.update(nb=nb, wtp=None, n_rows=len(nb), rows_file=args.outputs)
        strategies = list(nb.columns)
    else:
        costs = read_table(args.costs, "--costs")
        effects = read_table(args.effects, "--effects")
        if len(costs) != len(effects):
            raise VOIInputError(
                f"{args.costs} has {len(costs)} rows but {args.effects} has {len(effects)}"
            )
        if list(costs.columns) != list(effects.columns):
            raise VOIInputError(
                f"{args.costs} and {args.effects} name different strategies: "
                f"{list(costs.columns)} vs {list(effects.columns)}"
            )
        if costs.shape[1] < 2:
            raise VOIInputError(
                f"{args.costs} (--costs): only one strategy column ({costs.columns[0]!r}); "
                "need at least 2 strategies"
            )
        if not args.wtp:
            raise VOIInputError("--wtp is required with --costs and --effects")
        wtp = read_wtp(args.wtp)
        _check_wtp_memory(len(wtp), costs.shape[1], len(costs))
        data.update(
            costs=costs,
            effects=effects,
            wtp=wtp,
            n_rows=len(costs),
            rows_file=args.costs,
        )
        strategies = list(costs.columns)
    data["strategies"] = strategies
    if args.inputs:
        inputs = read_table(args.inputs, "--inputs")
        if len(inputs) != data["n_rows"]:
            raise VOIInputError(
                f"{args.inputs} has {len(inputs)} rows but {data['rows_file']} has "
                f"{data['n_rows']}: the files must hold the same draws, row by row"
            )
        data["inputs"] = inputs
        spread = inputs.max() - inputs.min()
        data["constant"] = [c for c in inputs.columns if not spread[c] > 0]
    data["rng"] = as_generator(args.seed)
    return data


def _check_wtp_memory(n_wtp: int, n_strategies: int, n_rows: int) -> None:
    """Refuse a WTP grid whose net-benefit array (WTP x strategies x draws, with
    temporaries) would exceed the memory budget (``DECISIONMODEL_MEMORY_MB``)."""
    from decisionmodel.cliopts import memory_budget_bytes

    need = 8 * 4 * n_wtp * n_strategies * n_rows
    budget = memory_budget_bytes()
    if need > budget:
        raise VOIInputError(
            f"--wtp: {n_wtp:,} values x {n_strategies} strategies x {n_rows:,} draws need about "
            f"{need / 2**30:,.1f} GB, over the memory budget of {budget / 2**20:,.0f} MB; "
            f"use at most {budget // (32 * n_strategies * n_rows):,} values "
            "(or set DECISIONMODEL_MEMORY_MB)"
        )


def _check_pars(
    groups: list[list[str]], data: dict[str, Any], inputs_file: str, option: str = "--pars"
) -> None:
    cols = list(data["inputs"].columns)
    for g in groups:
        for p in g:
            if p not in cols:
                raise VOIInputError(
                    f"{option}: {p!r} is not a column of {inputs_file} (columns: {', '.join(cols)})"
                )
            if p in data["constant"]:
                v = float(data["inputs"][p].iloc[0])
                raise VOIInputError(
                    f"{inputs_file}: column {p!r} is constant ({v:g} in every row), so there is "
                    f"nothing to learn about it; leave it out of {option}"
                )
        if len(set(g)) != len(g):
            raise VOIInputError(f"{option} {','.join(g)}: names a parameter twice")


def _nb_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    if "nb" in data:
        return {"nb": data["nb"]}
    return {"costs": data["costs"], "effects": data["effects"], "wtp": data["wtp"]}


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


def run_voi(args: argparse.Namespace) -> int:
    """Run ``decisionmodel voi ...`` on parsed arguments; print the table or the JSON."""
    from decisionmodel.cliopts import check_seed
    from decisionmodel.voi.enbs import enbs, enbs_optimum, pop_voi
    from decisionmodel.voi.evpi import evpi

    quantity = args.voi_quantity
    check_seed(args.seed)
    if quantity == "evpi" and args.method:
        raise VOIInputError("--method does not apply to evpi (it is computed exactly)")
    if quantity in ("evppi", "evsi") and not args.inputs:
        raise VOIInputError(f"{quantity} needs the parameter draws: --inputs CSV")
    population = _population(args)
    if quantity == "evsi":
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
    data = _load(args)
    nbkw = _nb_kwargs(data)
    ev = evpi(**nbkw)
    wtp = data["wtp"]
    result: dict[str, Any] = {
        "quantity": quantity,
        "method": None,
        "samples": int(data["n_rows"]),
        "strategies": data["strategies"],
        "wtp": wtp,
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
    w_index: list[int | None] = list(range(len(wtp))) if wtp is not None else [None]

    if quantity == "evppi":
        if args.pars:
            groups = [_split_list(g, "--pars") for g in args.pars]
        else:
            groups = [[c] for c in data["inputs"].columns if c not in data["constant"]]
            if not groups:
                raise VOIInputError(f"{args.inputs}: every parameter column is constant")
            result["constant"] = list(data["constant"])
        _check_pars(groups, data, args.inputs)
        evppi = _estimator("evppi")
        kw: dict[str, Any] = {"rng": data["rng"]}
        if args.no_se:
            kw["se"] = False
        if args.method:
            kw["method"] = args.method
        res = evppi(
            nbkw.get("nb"),
            data["inputs"],
            groups,
            **{k: v for k, v in nbkw.items() if k != "nb"},
            **kw,
        )
        result["method"] = res.attrs.get("method", args.method)
        entries = []
        for gi, g in enumerate(groups):
            r = _group_at(res, g, gi)
            for i in w_index:
                rw = _wtp_at(r, i)
                entry = {
                    "pars": g,
                    "value": _num(rw["value"]),
                    "se": _num(rw["se"]) if "se" in rw else None,
                    "wtp": None if i is None else wtp[i],
                }
                if "method" in rw.data_vars:  # the regression actually used for this group
                    entry["method"] = str(rw["method"].values)
                if population is not None:
                    m = population["multiplier"]
                    entry["pop_value"] = _num(entry["value"] * m)
                    entry["pop_se"] = None if entry["se"] is None else _num(entry["se"] * m)
                entries.append(entry)
        result["evppi"] = entries

    if quantity == "evsi":
        study = make_study(args.study, list(data["inputs"].columns))
        study_pars = list(study.pars)
        n_arms = args.n_arms
        if n_arms is None:
            n_arms = int(getattr(study, "n_arms", 2 if "two_arm" in study.name else 1))
        _check_simulation_size(study, n_values, data["n_rows"])
        _check_pars([study_pars], data, args.inputs, "--study")
        evsi = _estimator("evsi")
        kw = {"rng": data["rng"]}
        if args.no_se:
            kw["se"] = False
        if args.method:
            kw["method"] = args.method
        res = evsi(
            nbkw.get("nb"),
            data["inputs"],
            study=study,
            n=n_values,
            **{k: v for k, v in nbkw.items() if k != "nb"},
            **kw,
        )
        result["method"] = res.attrs.get("method", args.method)
        entries = []
        for n in n_values:
            r = res.sel(n=n)
            for i in w_index:
                rw = _wtp_at(r, i)
                entry = {
                    "study": args.study,
                    "pars": study_pars,
                    "n": n,
                    "value": _num(rw["value"]),
                    "se": _num(rw["se"]) if "se" in rw else None,
                    "wtp": None if i is None else wtp[i],
                }
                if population is not None:
                    m = population["multiplier"]
                    entry["pop_value"] = _num(entry["value"] * m)
                    entry["pop_se"] = None if entry["se"] is None else _num(entry["se"] * m)
                entries.append(entry)
        result["evsi"] = entries
        if setup is not None:
            assert population is not None
            eb = enbs(
                res,
                pop_per_year=population["pop_per_year"],
                horizon=population["horizon"],
                discount=population["discount"],
                kind=population["discounting"],
                cost_fixed=setup,
                cost_per_patient=per_patient,
                n_arms=n_arms,
            )
            smooth = bool(args.smooth)
            opt = enbs_optimum(eb, smooth=smooth, rng=data["rng"])
            rows = []
            for n in n_values:
                r = eb.sel(n=float(n))
                for i in w_index:
                    rw = _wtp_at(r, i)
                    rows.append(
                        {
                            "n": n,
                            "wtp": None if i is None else wtp[i],
                            "value": _num(rw["enbs"]),
                            "se": _num(rw["se"]),
                            "pop_evsi": _num(rw["pop_evsi"]),
                            "cost": _num(rw["cost"]),
                            "p_positive": _num(rw["p_positive"]),
                        }
                    )
            result["enbs"] = rows
            optimum = []
            for i in w_index:
                o = _wtp_at(opt, i)
                optimum.append(
                    {
                        "wtp": None if i is None else wtp[i],
                        **{
                            k: int(o[k]) if k.startswith("n_") else _num(o[k])
                            for k in opt.data_vars
                        },
                    }
                )
            result["enbs_optimum"] = optimum
            result["study_costs"] = {
                "setup": setup,
                "per_patient": per_patient,
                "n_arms": n_arms,
                "smooth": smooth,
            }

    _check_finite(result, data)
    if args.json:
        print(json.dumps(result, indent=2))
    elif sys.stdout.isatty():  # fit the terminal; piped or redirected: plain text
        import shutil

        width = max(40, shutil.get_terminal_size((120, 24)).columns)
        print(format_voi_table(result, rich=True, width=width))
    else:
        print(format_voi_table(result))
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


def _check_finite(result: dict[str, Any], data: dict[str, Any]) -> None:
    """An estimate that overflowed (or is undefined) is an error, never a ``null``."""
    files = data.get("rows_file")
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
    wtp = result["wtp"]
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
    out.append("EVPI per person")
    header = (
        (["WTP"] if wtp is not None else []) + ["EVPI", "SE"] + (["population EVPI"] if pop else [])
    )
    rows = []
    for i, v in enumerate(result["evpi"]):
        row = ([_fmt(wtp[i])] if wtp is not None else []) + [_fmt(v), _fmt(result["evpi_se"][i])]
        if pop:
            row.append(_fmt(pop["evpi"][i]))
        rows.append(row)
    out.append((header, rows))
    evpi_at = dict(zip([None] if wtp is None else wtp, result["evpi"], strict=True))
    for key, label in (("evppi", "EVPPI"), ("evsi", "EVSI")):
        if key not in result:
            continue
        out.append("")
        out.append(
            f"{label} per person"
            + (f" (study {result['evsi'][0]['study']})" if key == "evsi" and result["evsi"] else "")
        )
        first = ["parameters"] if key == "evppi" else ["n"]
        header = (
            first
            + (["WTP"] if wtp is not None else [])
            + [label, "SE", "% of EVPI"]
            + (["population " + label] if pop else [])
        )
        rows = []
        for e in result[key]:
            ev = evpi_at[e["wtp"]]
            share = "–" if e["value"] is None or not ev else f"{100 * e['value'] / ev:.1f}%"
            row = [",".join(e["pars"]) if key == "evppi" else str(e["n"])]
            row += ([_fmt(e["wtp"])] if wtp is not None else []) + [
                _fmt(e["value"]),
                _fmt(e["se"]),
                share,
            ]
            if pop:
                row.append(_fmt(e["pop_value"]))
            rows.append(row)
        out.append((header, rows))
    if result.get("constant"):
        out.append(f"  (constant, left out: {', '.join(result['constant'])})")
    if "enbs" in result:
        sc = result["study_costs"]
        out.append("")
        out.append(
            f"ENBS (set-up cost {_fmt_cost(sc['setup'])}, per participant "
            f"{_fmt_cost(sc['per_patient'])}, {sc['n_arms']} arm(s) of n)"
        )
        header = (
            ["n"]
            + (["WTP"] if wtp is not None else [])
            + ["population EVSI", "study cost", "ENBS", "SE", "P(ENBS>0)"]
        )
        rows = [
            [str(e["n"])]
            + ([_fmt(e["wtp"])] if wtp is not None else [])
            + [
                _fmt(e["pop_evsi"]),
                _fmt(e["cost"]),
                _fmt(e["value"]),
                _fmt(e["se"]),
                f"{e['p_positive']:.3f}",
            ]
            for e in result["enbs"]
        ]
        out.append((header, rows))
        out.append("")
        out.append("Optimal sample size" + (" (smooth EVSI curve)" if sc["smooth"] else ""))
        header = (["WTP"] if wtp is not None else []) + [
            "n",
            "95% interval",
            "max ENBS",
            "95% interval",
            "P(ENBS>0)",
            "within 5%",
        ]
        rows = [
            ([_fmt(o["wtp"])] if wtp is not None else [])
            + [
                f"{o['n_opt']:.0f}",
                f"{o['n_opt_lower']:.0f}–{o['n_opt_upper']:.0f}",
                _fmt(o["enbs_max"]),
                f"{_fmt(o['enbs_max_lower'])} to {_fmt(o['enbs_max_upper'])}",
                f"{o['p_positive']:.3f}",
                f"{o['n_lower']:.0f}–{o['n_upper']:.0f}",
            ]
            for o in result["enbs_optimum"]
        ]
        out.append((header, rows))
    if rich:
        return _render_rich(out, width)
    return "\n".join(x if isinstance(x, str) else _table(*x) for x in out)


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
