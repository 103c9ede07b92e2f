"""Reading a probabilistic sensitivity analysis (PSA) sample from CSV files.

The layouts are those written by the R packages voi, BCEA and SAVI:

* parameter draws (``inputs``): one named column per parameter, one row per draw;
* net benefit (``outputs``): one column per strategy, one row per draw; or costs and effects
  in the same layout together with a willingness-to-pay grid.

A header is required. An unnamed leading column (R's row names, e.g. ``write.csv``) is
ignored, quoted headers and a UTF-8 byte-order mark are accepted, and the separator may be a
comma, a semicolon or a tab. Every problem with a file — a missing file, a non-numeric or
empty cell, NaN, a row-count mismatch, a single strategy, a bad willingness to pay — raises
:class:`~decisionmodel.exceptions.VOIInputError` with a message naming the file, its role,
the column and the row. The roles are named as the options of ``decisionmodel voi``
(``--inputs``, ``--outputs``, ``--costs``, ``--effects``, ``--wtp``), which reads its files
with these functions.

The rows of the files are the draws in positional order (a DataFrame with the default
``RangeIndex``): the parameter draws and the outcomes of one file set pair row by row.

:func:`read_table` reads one file, :func:`read_wtp` a willingness-to-pay grid and
:func:`read_psa` a whole PSA (outcomes, optional parameter draws), checked against each
other; its :class:`PSAFiles` gives the keyword arguments of the VOI functions
(:meth:`PSAFiles.outcome_kwargs`).

Examples
--------
>>> import tempfile, pathlib
>>> from decisionmodel.voi import evpi
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "nb.csv").write_text("SoC,Novel\\n10,0\\n0,20\\n")
>>> psa = read_psa(outputs=d / "nb.csv")
>>> psa.strategies, psa.n_rows
(['SoC', 'Novel'], 2)
>>> float(evpi(**psa.outcome_kwargs())["value"])
5.0
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decisionmodel.exceptions import VOIInputError

if TYPE_CHECKING:  # pandas is imported when a file is read
    import pandas as pd

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_CSV_BYTES",
    "MAX_CSV_COLUMNS",
    "MAX_CSV_ROWS",
    "PSAFiles",
    "read_psa",
    "read_table",
    "read_wtp",
]

#: largest CSV file read (bytes); larger files are refused before reading
MAX_CSV_BYTES = 256 * 2**20
#: most columns in a CSV file (the header is counted before anything else is read)
MAX_CSV_COLUMNS = 10_000
#: most data rows in a CSV file
MAX_CSV_ROWS = 5_000_000
#: largest magnitude of a value: beyond it sums of squares over the draws could overflow
MAX_ABS_VALUE = 1e100
_SEPARATORS = (",", "\t", ";")


# --------------------------------------------------------------------------------------
# one table
# --------------------------------------------------------------------------------------


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
    """Whether ``float(text)`` succeeds."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_file(p: Path, where: str) -> None:
    """A regular file no larger than :data:`MAX_CSV_BYTES`."""
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


def _parse_header(first: str, where: str) -> tuple[str, list[str]]:
    """The separator and the column names of the header line ``first``, checked: not too
    many, not numbers, none empty (an empty first name is R's row-name column), none
    repeated."""
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
    return sep, header


def _read_frame(p: Path, where: str, sep: str, header: list[str]) -> pd.DataFrame:
    """The data rows of ``p`` as pandas reads them (at most :data:`MAX_CSV_ROWS`), without
    an R row-name column, column names stripped."""
    import pandas as pd

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
    return df


def _numeric_column(s: pd.Series, col: str, where: str) -> Any:
    """The float values of column ``col``: numbers only, finite, within ±MAX_ABS_VALUE."""
    import numpy as np
    import pandas as pd

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
    return v


def read_table(path: str | Path, role: str = "table") -> pd.DataFrame:
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
        Float columns named as in the header, in file order, and the default
        ``RangeIndex`` (the rows are draws in positional order).

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
    import pandas as pd

    p = Path(path)
    where = f"{p} ({role})"
    _check_file(p, where)
    sep, header = _parse_header(_read_header(p, where), where)
    df = _read_frame(p, where, sep, header)
    out = {col: _numeric_column(df[col], col, where) for col in df.columns}
    return pd.DataFrame(out, columns=list(df.columns))


# --------------------------------------------------------------------------------------
# willingness to pay
# --------------------------------------------------------------------------------------


def _wtp_file(p: Path) -> list[float]:
    """The values of a one-column willingness-to-pay file."""
    df = read_table(p, "--wtp")
    if df.shape[1] != 1:
        raise VOIInputError(
            f"{p} (--wtp): expected one column of willingness-to-pay values, got "
            f"{df.shape[1]} ({', '.join(df.columns)})"
        )
    return [float(v) for v in df.iloc[:, 0]]


def _check_wtp_values(values: list[float]) -> None:
    """Finite, >= 0, at most MAX_WTP, none repeated."""
    from decisionmodel.cliopts import MAX_WTP

    if not values:
        raise VOIInputError("--wtp: no values given")
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


def read_wtp(items: Sequence[str | float | Path]) -> list[float]:
    """Parse willingness-to-pay values: numbers (separated by spaces or commas) or files.

    A file holds one value per line (a header line such as ``k`` and an unnamed leading
    row-name column are allowed), e.g. voi's ``chemo_cea_k.csv``.

    Parameters
    ----------
    items : sequence of str, float or Path
        What follows ``--wtp`` on the command line: numbers, comma-separated lists of
        numbers or names of one-column CSV files, in any mix (numbers and paths are taken
        as their text).

    Returns
    -------
    list of float
        The values in the order given.

    Raises
    ------
    VOIInputError
        A token that is neither a number nor a file, a bad file, no values, a value that is
        negative, not finite or above :data:`decisionmodel.cliopts.MAX_WTP`, or a value
        given twice.

    Examples
    --------
    >>> read_wtp(["10000", "20000,30000"])
    [10000.0, 20000.0, 30000.0]
    >>> read_wtp([5e4])
    [50000.0]
    >>> read_wtp(["-1"])
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.VOIInputError: --wtp -1.0: willingness to pay must be a finite number >= 0
    """
    values: list[float] = []
    for raw in items:
        item = str(raw)
        p = Path(item)
        if not _is_number(item.split(",")[0].strip() or "x") and p.is_file():
            values.extend(_wtp_file(p))
            continue
        for tok in item.split(","):
            tok = tok.strip()
            if not tok:
                continue
            if not _is_number(tok):
                raise VOIInputError(f"--wtp {tok!r}: not a number, and no such file")
            values.append(float(tok))
    _check_wtp_values(values)
    return values


# --------------------------------------------------------------------------------------
# a whole PSA
# --------------------------------------------------------------------------------------


@dataclass
class PSAFiles:
    """A PSA sample read by :func:`read_psa`.

    Attributes
    ----------
    strategies : list of str
        The strategy columns, in file order.
    n_rows : int
        Draws (data rows) in the outcome files.
    rows_file : str
        The file that fixed ``n_rows`` (net benefit, or costs), for messages.
    nb : pandas.DataFrame or None
        Net benefit, draws × strategies (when read from ``outputs``).
    costs, effects : pandas.DataFrame or None
        Costs and effects, draws × strategies (when read from ``costs`` and ``effects``).
    wtp : list of float or None
        The willingness-to-pay grid of costs and effects.
    inputs : pandas.DataFrame or None
        Parameter draws, draws × parameters, when given.
    constant : list of str
        Parameter columns with a single value in every row (nothing to learn about them).

    Examples
    --------
    >>> import pandas as pd
    >>> costs = pd.DataFrame({"a": [0.0, 0.0], "b": [5.0, 15.0]})
    >>> effects = pd.DataFrame({"a": [0.0, 0.0], "b": [1.0, 1.0]})
    >>> psa = PSAFiles(["a", "b"], 2, "c.csv", costs=costs, effects=effects, wtp=[10.0])
    >>> sorted(psa.outcome_kwargs())
    ['costs', 'effects', 'wtp']
    """

    strategies: list[str]
    n_rows: int
    rows_file: str
    nb: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    effects: pd.DataFrame | None = None
    wtp: list[float] | None = None
    inputs: pd.DataFrame | None = None
    constant: list[str] = field(default_factory=list)

    def outcome_kwargs(self) -> dict[str, Any]:
        """The outcome keywords of :func:`~decisionmodel.voi.evpi`, ``evppi`` and ``evsi``.

        Returns
        -------
        dict
            ``{"nb": ...}``, or ``{"costs": ..., "effects": ..., "wtp": [...]}``.

        Examples
        --------
        >>> import pandas as pd
        >>> psa = PSAFiles(["a", "b"], 2, "nb.csv", nb=pd.DataFrame({"a": [0.0, 1.0],
        ...                                                           "b": [1.0, 0.0]}))
        >>> sorted(psa.outcome_kwargs())
        ['nb']
        """
        if self.nb is not None:
            return {"nb": self.nb}
        return {"costs": self.costs, "effects": self.effects, "wtp": self.wtp}


def _check_outcome_options(outputs: Any, costs: Any, effects: Any) -> None:
    """Net benefit, or costs and effects together; not both."""
    if outputs and (costs or effects):
        raise VOIInputError("give net benefit (--outputs) or --costs and --effects, not both")
    if not outputs and not (costs and effects):
        if costs or effects:
            missing = "--effects" if costs else "--costs"
            raise VOIInputError(f"{missing} is missing: --costs and --effects go together")
        raise VOIInputError("give net benefit with --outputs CSV, or --costs CSV and --effects CSV")


def _read_net_benefit(outputs: str | Path, wtp: Any) -> PSAFiles:
    if wtp:
        raise VOIInputError(
            "--wtp applies to --costs/--effects; net benefit in --outputs is already "
            "valued at one willingness to pay"
        )
    nb = read_table(outputs, "--outputs")
    if nb.shape[1] < 2:
        raise VOIInputError(
            f"{outputs} (--outputs): only one strategy column ({nb.columns[0]!r}); "
            "need net benefit for at least 2 strategies"
        )
    return PSAFiles(list(nb.columns), len(nb), str(outputs), nb=nb)


def _read_costs_effects(costs_file: str | Path, effects_file: str | Path, wtp: Any) -> PSAFiles:
    costs = read_table(costs_file, "--costs")
    effects = read_table(effects_file, "--effects")
    if len(costs) != len(effects):
        raise VOIInputError(
            f"{costs_file} has {len(costs)} rows but {effects_file} has {len(effects)}"
        )
    if list(costs.columns) != list(effects.columns):
        raise VOIInputError(
            f"{costs_file} and {effects_file} name different strategies: "
            f"{list(costs.columns)} vs {list(effects.columns)}"
        )
    if costs.shape[1] < 2:
        raise VOIInputError(
            f"{costs_file} (--costs): only one strategy column ({costs.columns[0]!r}); "
            "need at least 2 strategies"
        )
    if not wtp:
        raise VOIInputError("--wtp is required with --costs and --effects")
    grid = read_wtp(wtp)
    _check_wtp_memory(len(grid), costs.shape[1], len(costs))
    return PSAFiles(
        list(costs.columns), len(costs), str(costs_file), costs=costs, effects=effects, wtp=grid
    )


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


def _read_inputs(psa: PSAFiles, inputs_file: str | Path) -> None:
    """Add the parameter draws of ``inputs_file`` (and its constant columns) to ``psa``."""
    inputs = read_table(inputs_file, "--inputs")
    if len(inputs) != psa.n_rows:
        raise VOIInputError(
            f"{inputs_file} has {len(inputs)} rows but {psa.rows_file} has "
            f"{psa.n_rows}: the files must hold the same draws, row by row"
        )
    psa.inputs = inputs
    spread = inputs.max() - inputs.min()
    psa.constant = [c for c in inputs.columns if not spread[c] > 0]


def read_psa(
    *,
    outputs: str | Path | None = None,
    costs: str | Path | None = None,
    effects: str | Path | None = None,
    wtp: Sequence[str | float | Path] | None = None,
    inputs: str | Path | None = None,
) -> PSAFiles:
    """Read a PSA sample from CSV files and check the files against each other.

    Give net benefit (``outputs``), or ``costs`` and ``effects`` with ``wtp``; the
    parameter draws (``inputs``) are optional (EVPI needs none). Every file is read with
    :func:`read_table`; the files must hold the same number of draws (rows), paired row by
    row, and costs and effects the same strategy columns.

    Parameters
    ----------
    outputs : str or Path, optional
        Net benefit, one column per strategy.
    costs, effects : str or Path, optional
        Costs and effects, one column per strategy (the same columns in both).
    wtp : sequence, optional
        Willingness-to-pay values or files, as :func:`read_wtp` takes them; required with
        costs and effects, refused with net benefit (which is valued at one already).
    inputs : str or Path, optional
        Parameter draws, one column per parameter.

    Returns
    -------
    PSAFiles

    Raises
    ------
    VOIInputError
        A missing, unreadable or malformed file (see :func:`read_table`), a wrong
        combination of files, files of different numbers of rows, costs and effects naming
        different strategies, a single strategy, a bad or too large ``wtp`` grid (the
        net-benefit array must fit the memory budget ``DECISIONMODEL_MEMORY_MB``). Messages
        name the files by their roles as the options of ``decisionmodel voi``
        (``--outputs``, ``--costs``, ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "c.csv").write_text("SoC,Novel\\n0,10\\n0,10\\n0,10\\n")
    >>> _ = (d / "e.csv").write_text("SoC,Novel\\n0,1\\n0,2\\n0,0\\n")
    >>> _ = (d / "pars.csv").write_text("p,q\\n1,5\\n2,5\\n0,5\\n")
    >>> psa = read_psa(costs=d / "c.csv", effects=d / "e.csv", wtp=["20"], inputs=d / "pars.csv")
    >>> psa.wtp, psa.n_rows, psa.constant
    ([20.0], 3, ['q'])
    >>> read_psa(outputs=d / "c.csv", inputs=d / "pars.csv").inputs["p"].tolist()
    [1.0, 2.0, 0.0]
    >>> read_psa(costs=d / "c.csv")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.VOIInputError: --effects is missing: --costs and --effects go together
    """
    _check_outcome_options(outputs, costs, effects)
    if outputs:
        psa = _read_net_benefit(outputs, wtp)
    else:
        assert costs and effects
        psa = _read_costs_effects(costs, effects, wtp)
    if inputs:
        _read_inputs(psa, inputs)
    return psa
