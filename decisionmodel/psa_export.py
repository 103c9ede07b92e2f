"""Export of a probabilistic sensitivity analysis (PSA) as CSV files for BCEA, voi and SAVI.

:func:`write_psa` writes, into one directory, the parameter draws and the costs, effects
and net benefits of the policies of a run (``decisionmodel run TREE --export DIR``):

* ``parameters.csv``: one row per draw, one column per scalar parameter (R voi's
  ``inputs``, SAVI's parameter file). A 0-D parameter (a constant) is a column holding the
  same value in every row; a parameter with extra dimensions besides ``sample`` is
  flattened into columns ``name[i]`` (``name[i][j]``, ... in C order; no comma, so
  the names can be given to ``decisionmodel voi evppi --pars``); parameters that are
  not numeric are skipped (listed in the manifest under ``skipped``);
* ``costs.csv`` and ``effects.csv``: one row per draw, one column per strategy, in the
  order of the outcomes (R voi's ``outputs = list(c = ..., e = ...)``, BCEA's
  ``bcea(e, c)`` matrices, SAVI's costs and effects files);
* ``nb.csv`` (one willingness to pay) or ``nb_wtp<label>.csv`` for each of several
  (``label`` as ``50000`` for a whole number): net monetary benefit ``wtp * effect - cost``
  in the same layout (R voi's net-benefit ``outputs``);
* ``wtp.csv``: the willingness-to-pay values in one column ``k`` (voi's cea layout);
* ``psa.json``, written last: the manifest (the sha256 and data rows of every file, the
  strategies, the parameter columns, the WTP values, the number of draws and the decision
  table of the run under ``meta``).

Headers are quoted; values are plain numbers written as Python's shortest round-trip
representation (``repr``), so :func:`read_psa` gets back exactly the floats written. Every
file is written atomically (a temporary file in the same directory, flushed to disk, then
moved into place).

A directory is written only if it is missing, empty, or a previous export (it holds our
manifest and no file the manifest does not list); anything else is refused by
:func:`check_export_dir` before any work.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np, xarray as xr
>>> d = pathlib.Path(tempfile.mkdtemp()) / "psa"
>>> params = xr.Dataset({"p": ("sample", [0.1, 0.2, 0.3])})
>>> outcomes = xr.Dataset(
...     {"cost": (("strategy", "sample"), [[0.0, 0.0, 0.0], [10.0, 12.0, 8.0]]),
...      "effect": (("strategy", "sample"), [[1.0, 1.0, 1.0], [1.1, 1.3, 0.9]])},
...     coords={"strategy": ["SoC", "Novel"]})
>>> _ = write_psa(d, params, outcomes, [100.0])
>>> sorted(f.name for f in d.iterdir())
['costs.csv', 'effects.csv', 'nb.csv', 'parameters.csv', 'psa.json', 'wtp.csv']
>>> print((d / "costs.csv").read_text(), end="")
"SoC","Novel"
0.0,10.0
0.0,12.0
0.0,8.0
>>> p, o, w = read_psa(d)
>>> o["cost"].sel(strategy="Novel").values.tolist(), w
([10.0, 12.0, 8.0], [100.0])
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from decisionmodel.cea import _wtp_label
from decisionmodel.exceptions import DecisionModelError

__all__ = ["FORMAT", "MANIFEST", "check_export_dir", "read_psa", "write_psa"]

#: the manifest's file name (written last)
MANIFEST = "psa.json"
#: the manifest's ``format`` value, by which a previous export is recognised
FORMAT = "decisionmodel-psa"
_VERSION = 1


# --------------------------------------------------------------------------------------
# the directory
# --------------------------------------------------------------------------------------


def _where(p: Path, option: str | None) -> str:
    return f"{option} {p}" if option else str(p)


def _previous_manifest(p: Path) -> dict[str, Any] | None:
    """The manifest of a previous export in ``p``, or None when there is none (or it is not
    ours)."""
    m = p / MANIFEST
    if not m.is_file():
        return None
    try:
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    if not isinstance(doc.get("files"), dict):
        return None
    return doc


def check_export_dir(directory: str | os.PathLike[str], option: str | None = None) -> Path:
    """Check, before any work, that a PSA export may be written into ``directory``.

    Accepted: a missing directory (below an existing directory or missing ones), an empty
    directory, or a previous export (a directory holding our manifest ``psa.json`` and only
    files it lists). Refused: a regular file (or other non-directory) at the path or above
    it, and a directory holding anything else.

    Parameters
    ----------
    directory : path-like
        The export directory.
    option : str, optional
        The command-line option, to name it in messages (e.g. ``"--export"``).

    Returns
    -------
    pathlib.Path
        ``directory`` as a path.

    Raises
    ------
    DecisionModelError
        A one-line message naming the path and why it is refused.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_export_dir(d / "new").name
    'new'
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> check_export_dir(d / "notes.txt", "--export")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: --export ...notes.txt: is a file, not a directory; give a new or empty directory, or a previous export
    >>> check_export_dir(d)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: ...: the directory is not empty and not a previous PSA export (it holds notes.txt); give a new or empty directory
    """
    p = Path(directory)
    where = _where(p, option)
    if p.exists() or p.is_symlink():
        if not p.is_dir():
            kind = "a file" if p.is_file() else "not a directory"
            raise DecisionModelError(
                f"{where}: is {kind}, not a directory; give a new or empty directory, "
                "or a previous export"
            )
        try:
            names = sorted(e.name for e in os.scandir(p))
        except OSError as exc:
            raise DecisionModelError(f"{where}: cannot be listed ({exc.strerror})") from None
        if not names:
            return p
        prev = _previous_manifest(p)
        ours = set() if prev is None else {MANIFEST, *prev["files"]}
        foreign = [n for n in names if n not in ours]
        if foreign:
            shown = ", ".join(foreign[:3]) + (
                f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            )
            raise DecisionModelError(
                f"{where}: the directory is not empty and not a previous PSA export "
                f"(it holds {shown}); give a new or empty directory"
            )
        return p
    for parent in p.absolute().parents:  # the nearest existing folder must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise DecisionModelError(f"{where}: {parent} is a file, not a directory")
            break
    return p


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, flush it to disk and move it
    into place; on failure the temporary file is removed and ``path`` is untouched.

    (The same steps as ``decisionmodel.evidence.cache._atomic_write_bytes``, which this
    layer may not import; ``decisionmodel.tree.io._atomic_write`` does not flush to disk.)
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _csv_bytes(header: Sequence[str], columns: Sequence[np.ndarray]) -> bytes:
    """A CSV file: quoted ``header``, then one row per index of the equal-length float
    ``columns``, each value as its shortest round-trip ``repr``."""
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(header)
    rows = zip(*(np.asarray(c, dtype=np.float64).tolist() for c in columns), strict=True)
    buf.writelines(",".join(map(repr, row)) + "\n" for row in rows)
    return buf.getvalue().encode("utf-8")


def _parameter_columns(
    params: xr.Dataset, n: int
) -> tuple[list[str], list[np.ndarray], dict[str, Any], list[str]]:
    """The columns of ``parameters.csv``: names, values (length ``n``), the layout of each
    variable (to read it back) and the names of the variables skipped."""
    names: list[str] = []
    values: list[np.ndarray] = []
    layout: dict[str, Any] = {}
    skipped: list[str] = []
    for name, var in params.data_vars.items():
        key = str(name)
        if var.dtype.kind not in "biuf":
            skipped.append(key)
            continue
        if var.ndim == 0:
            names.append(key)
            values.append(np.full(n, float(var.values)))
            layout[key] = {
                "dims": [],
                "shape": [],
                "dtype": var.dtype.str,
                "columns": [key],
                "constant": True,
            }
            continue
        if "sample" not in var.dims:
            skipped.append(key)
            continue
        other = [str(d) for d in var.dims if d != "sample"]
        arr = var.transpose("sample", *other).values.reshape(n, -1)
        shape = [int(var.sizes[d]) for d in other]
        if other:
            cols = [key + "".join(f"[{i}]" for i in ix) for ix in np.ndindex(*shape)]
        else:
            cols = [key]
        names.extend(cols)
        values.extend(arr[:, j] for j in range(arr.shape[1]))
        layout[key] = {
            "dims": other,
            "shape": shape,
            "dtype": var.dtype.str,
            "columns": cols,
            "constant": False,
        }
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise DecisionModelError(f"parameter column name(s) {', '.join(dupes)} repeat")
    return names, values, layout, skipped


def write_psa(
    directory: str | os.PathLike[str],
    params: xr.Dataset,
    outcomes: xr.Dataset,
    wtp: Sequence[float],
    *,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write a PSA (parameter draws, costs, effects, net benefits) as CSV files.

    The layout of the files is described in :mod:`decisionmodel.psa_export`. The
    directory is checked by :func:`check_export_dir` and created if missing; the files of
    a previous export there are replaced (its manifest first removed, then rewritten last,
    so an interrupted export is never taken for a complete one) and those it listed that
    this export does not write are removed.

    Parameters
    ----------
    directory : path-like
        The export directory.
    params : xarray.Dataset
        Parameter draws over dimension ``sample``; 0-D constants and variables with
        further dimensions are accepted (see the module's description).
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over ``strategy`` and ``sample``.
    wtp : sequence of float
        Willingness-to-pay values (at least one).
    meta : mapping, optional
        JSON-serialisable description of the run (the decision table of ``run --json``),
        stored under ``meta`` in the manifest.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    DecisionModelError
        The directory is refused (see :func:`check_export_dir`), the outcomes have
        dimensions other than ``strategy`` and ``sample`` (batch dimensions: export one
        cell at a time), the draws disagree in number, or no willingness to pay is given.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> import xarray as xr
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> outcomes = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[1.0, 2.0], [3.0, 5.0]]),
    ...      "effect": (("strategy", "sample"), [[1.0, 1.0], [2.0, 1.5]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> out = write_psa(d, xr.Dataset({"q": ("sample", [0.5, 0.25])}), outcomes, [10, 20])
    >>> sorted(f.name for f in out.glob("nb_*.csv"))
    ['nb_wtp10.csv', 'nb_wtp20.csv']
    >>> print((out / "nb_wtp10.csv").read_text(), end="")
    "A","B"
    9.0,17.0
    8.0,10.0
    >>> json.loads((out / "psa.json").read_text())["files"]["wtp.csv"]["rows"]
    2
    """
    p = check_export_dir(directory)
    w = [float(x) for x in wtp]
    if not w:
        raise DecisionModelError(f"{p}: no willingness-to-pay value to value net benefit at")
    for v in ("cost", "effect"):
        extra = [str(d) for d in outcomes[v].dims if d not in ("strategy", "sample")]
        if extra or set(outcomes[v].dims) != {"strategy", "sample"}:
            raise DecisionModelError(
                f"{p}: {v} must be over (strategy, sample) only, not {tuple(outcomes[v].dims)}; "
                "export one batch cell at a time (select it with .sel)"
            )
    cost = outcomes["cost"].transpose("sample", "strategy").values.astype(np.float64)
    effect = outcomes["effect"].transpose("sample", "strategy").values.astype(np.float64)
    strategies = [str(s) for s in outcomes["strategy"].values.tolist()]
    n = cost.shape[0]
    if "sample" in params.dims and int(params.sizes["sample"]) != n:
        raise DecisionModelError(
            f"{p}: {int(params.sizes['sample'])} parameter draws but {n} outcome draws"
        )
    names, values, layout, skipped = _parameter_columns(params, n)

    files: dict[str, bytes] = {"parameters.csv": _csv_bytes(names, values)}
    files["costs.csv"] = _csv_bytes(strategies, list(cost.T))
    files["effects.csv"] = _csv_bytes(strategies, list(effect.T))
    for x in w:
        nb = x * effect - cost
        fname = "nb.csv" if len(w) == 1 else f"nb_wtp{_wtp_label(x)}.csv"
        files[fname] = _csv_bytes(strategies, list(nb.T))
    files["wtp.csv"] = _csv_bytes(["k"], [np.asarray(w)])
    rows = {name: (n if name != "wtp.csv" else len(w)) for name in files}
    manifest = {
        "format": FORMAT,
        "version": _VERSION,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "rows": rows[name]}
            for name, data in files.items()
        },
        "strategies": strategies,
        "parameters": names,
        "layout": layout,
        "skipped": skipped,
        "wtp": w,
        "samples": n,
        "meta": dict(meta) if meta is not None else {},
    }
    text = json.dumps(manifest, indent=2) + "\n"  # before any file is touched

    p.mkdir(parents=True, exist_ok=True)
    prev = _previous_manifest(p)
    if prev is not None:
        (p / MANIFEST).unlink()
    for name, data in files.items():
        _atomic_write_bytes(p / name, data)
    _atomic_write_bytes(p / MANIFEST, text.encode("utf-8"))
    if prev is not None:
        for old in prev["files"]:
            if (
                old not in files
                and old != MANIFEST
                and "/" not in old
                and old not in ("", ".", "..")
            ):
                with contextlib.suppress(OSError):
                    (p / old).unlink()
    return p


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def _read_csv(p: Path, entry: Mapping[str, Any]) -> tuple[list[str], np.ndarray]:
    """Header and float data of one exported file, its sha256 and rows checked against the
    manifest ``entry``."""
    if not p.is_file():
        raise DecisionModelError(f"{p}: missing from the PSA export (listed in {MANIFEST})")
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise DecisionModelError(
            f"{p}: its sha256 differs from the one in {MANIFEST}: the file was changed or damaged"
        )
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        header, body = rows[0], rows[1:]
        values = np.array(body, dtype=np.float64).reshape(len(body), len(header))
    except (UnicodeDecodeError, IndexError, ValueError) as exc:
        raise DecisionModelError(f"{p}: cannot be read as an exported CSV file ({exc})") from None
    if len(body) != entry.get("rows"):
        raise DecisionModelError(f"{p}: {len(body)} rows, but {MANIFEST} says {entry.get('rows')}")
    return header, values


def read_psa(directory: str | os.PathLike[str]) -> tuple[xr.Dataset, xr.Dataset, list[float]]:
    """Read back a PSA written by :func:`write_psa`, checking every file against the manifest.

    Parameters
    ----------
    directory : path-like
        The export directory.

    Returns
    -------
    params : xarray.Dataset
        The parameter draws over ``sample`` (constants 0-D, flattened variables reshaped to
        their dimensions; coordinates of those dimensions are not restored), with their
        dtypes.
    outcomes : xarray.Dataset
        ``cost`` and ``effect`` over (``strategy``, ``sample``), strategy names as the
        ``strategy`` coordinate.
    wtp : list of float
        The willingness-to-pay values.

    Raises
    ------
    DecisionModelError
        No manifest, or a file missing, changed (sha256), or inconsistent with it; the
        message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import xarray as xr
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> outcomes = xr.Dataset(
    ...     {"cost": (("strategy", "sample"), [[0.1, 0.2], [0.3, 1 / 3]]),
    ...      "effect": (("strategy", "sample"), [[1.0, 1.0], [2.0, 1.5]])},
    ...     coords={"strategy": ["A", "B"]})
    >>> _ = write_psa(d, xr.Dataset({"q": ("sample", [0.5, 0.25])}), outcomes, [1e4])
    >>> p, o, w = read_psa(d)
    >>> o["cost"].equals(outcomes["cost"]), p["q"].values.tolist(), w
    (True, [0.5, 0.25], [10000.0])
    >>> _ = (d / "costs.csv").write_text('"A","B"\\n0,0\\n0,0\\n')
    >>> read_psa(d)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.DecisionModelError: ...costs.csv: its sha256 differs from the one in psa.json: the file was changed or damaged
    """
    p = Path(directory)
    m = _previous_manifest(p)
    if m is None:
        raise DecisionModelError(f"{p / MANIFEST}: missing or not a PSA export manifest")
    files = m["files"]
    for name in ("parameters.csv", "costs.csv", "effects.csv", "wtp.csv"):
        if name not in files:
            raise DecisionModelError(f"{p / MANIFEST}: does not list {name}")
    strategies = [str(s) for s in m["strategies"]]
    tables = {}
    for name in files:  # every listed file is verified, the net-benefit ones too
        if "/" in name or name in ("", ".", ".."):
            raise DecisionModelError(f"{p / MANIFEST}: lists a bad file name {name!r}")
        tables[name] = _read_csv(p / name, files[name])
    for name in ("costs.csv", "effects.csv"):
        if tables[name][0] != strategies:
            raise DecisionModelError(
                f"{p / name}: its columns are not the strategies of {MANIFEST}"
            )
    outcomes = xr.Dataset(
        {
            "cost": (("strategy", "sample"), tables["costs.csv"][1].T.copy()),
            "effect": (("strategy", "sample"), tables["effects.csv"][1].T.copy()),
        },
        coords={"strategy": strategies},
    )
    header, values = tables["parameters.csv"]
    col = {c: j for j, c in enumerate(header)}
    data_vars: dict[str, Any] = {}
    for name, lay in m.get("layout", {}).items():
        try:
            idx = [col[c] for c in lay["columns"]]
        except KeyError as exc:
            raise DecisionModelError(
                f"{p / 'parameters.csv'}: no column {exc.args[0]!r} listed in {MANIFEST}"
            ) from None
        dtype = np.dtype(lay["dtype"])
        block = values[:, idx]
        if lay.get("constant", False):
            data_vars[name] = ((), block[0, 0].astype(dtype))
        elif lay["dims"]:
            arr = block.reshape(values.shape[0], *lay["shape"]).astype(dtype)
            data_vars[name] = (("sample", *lay["dims"]), arr)
        else:
            data_vars[name] = (("sample",), block[:, 0].astype(dtype))
    wtp_header, wtp_values = tables["wtp.csv"]
    wtp = [float(x) for x in wtp_values[:, 0]] if wtp_header == ["k"] else []
    if wtp != [float(x) for x in m["wtp"]]:
        raise DecisionModelError(f"{p / 'wtp.csv'}: its values are not those of {MANIFEST}")
    return xr.Dataset(data_vars), outcomes, wtp
