"""Evidence files: study-level published data, one YAML file per clinical area.

The files in ``priors/`` hold what the evidence models (PyMC) synthesise: events out of
patients, proportions, medians, hazard ratios with their intervals, means and medians
with their spread, and directly elicited priors, each with the study it comes from. They
are read within the bounds of :mod:`decisionmodel.tree.yamlsafe` (nesting depth, aliases
expanded, one document) with its safe loader that rejects duplicate keys, and validated so
that a typo stops the load with a message naming the file and the entry.

File layout
-----------
A file is a mapping with ``area`` (an identifier, e.g. ``surgical_risk``; unique across
the files loaded together), ``description`` (text), optional ``notes`` (text) and
``entries``: a list of entries, or a mapping from entry id to entry. An entry is a
mapping with

``id``
    Lower-case identifier, unique in the file (and across the files of :func:`load_all`).
    In the mapping form the key is the id (an ``id`` inside must then agree).
``quantity``
    Lower-case identifier naming what is measured: ``mortality_90d``, ``os_5y``,
    ``median_os``, ``hr_os``, ``doubling_time`` ... (units live in ``unit``).
``type``
    One of :data:`ENTRY_TYPES`; it fixes the data fields (below).
``citation``
    A mapping (or a non-empty list of them) with ``authors``, ``journal`` (or other venue)
    and ``year`` (an integer) required; ``title``, ``volume``, ``issue``, ``pages``,
    ``doi``, ``pmid``, ``pmcid``, ``url`` and ``note`` optional. When the dossier did not
    capture the author list, ``authors`` is the literal :data:`AUTHORS_NOT_CAPTURED`.
``verified``
    Boolean: true only when the number was read in the source (dossier flag ``F``); it
    must be false when ``confidence`` is ``M-hi``, ``M-mod`` or ``M-low`` (recalled).
``confidence``
    The dossier's flag, one of :data:`CONFIDENCE_FLAGS`: ``F`` found and read;
    ``M-hi``/``M-mod``/``M-low`` recalled, not re-checked; ``D`` derived or assumed.
Optional on every entry
    ``population``, ``procedure``, ``arm``, ``comparison``, ``stratum`` (text labels),
    ``design`` (one of :data:`DESIGNS`), ``tags`` (list of identifiers, e.g. ``default``
    for the dossier's recommended default prior, ``randomised_local_treatment``,
    ``confounded``), ``notes`` (text), ``n_studies`` (studies pooled),
    ``distribution`` (a suggested prior in the parameter-declaration format of
    :mod:`decisionmodel.params`: ``beta``, ``gamma``, ``lognormal``, ``normal`` or
    ``uniform`` with named arguments), ``currency`` (ISO code, e.g. ``USD``) together
    with ``price_year`` (a year, a span such as ``"2002-2011"``, or ``null`` if unknown).

Data fields by type (required; *optional*):

============  ===========================================================================
type          fields
============  ===========================================================================
events        ``events``, ``n`` (integers, ``0 <= events <= n``, ``n > 0``)
proportion    ``value`` in [0, 1], and ``n`` and/or ``n_eff`` and/or a ``lower``/``upper``
              interval; *level, range_low, range_high*
median        ``value`` > 0, ``unit`` (days, weeks, months, years); *n, deaths, lower,
              upper, level, range_low, range_high*
hazard_ratio  ``value``, ``lower``, ``upper`` (all > 0, ``lower < upper``),
              ``comparison``; *level* (default 0.95), *measure* (``hr`` default, ``rr``,
              ``or``), *n*
mean_sd       ``mean``, ``unit``, and exactly one of ``sd`` / ``se``; *n, range_low,
              range_high*
median_iqr    ``median``, ``q1``, ``q3`` (``q1 <= median <= q3``), ``unit``; *n,
              range_low, range_high*
value         ``value``, ``unit``; *lower, upper, level, sd or se, n, range_low,
              range_high*. ``unit: proportion`` keeps the numbers in [0, 1],
              ``unit: ratio`` keeps them positive, a time unit non-negative.
============  ===========================================================================

A field set to ``null`` counts as absent (so an entry built with a YAML merge key
``<<: *anchor`` can drop a field it inherits), except ``price_year``, where ``null``
means "unknown". Every interval must contain its estimate: ``lower <= value <= upper`` (a CI, with
``lower < upper``; ``level`` in (0, 1), 0.95 when omitted), ``range_low <= value <=
range_high`` (a reported range), and ``q1 <= median <= q3``.

Examples
--------
>>> import tempfile, pathlib
>>> text = '''
... area: demo
... description: One study, for illustration.
... entries:
...   - id: dejong2009_os_5y
...     quantity: os_5y
...     type: proportion
...     value: 0.473
...     n: 1669
...     procedure: hepatectomy
...     citation: {authors: "de Jong MC, Pulitano C, Ribero D, et al.",
...                journal: Ann Surg, year: 2009}
...     verified: true
...     confidence: F
... '''
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "demo.yaml").write_text(text)
>>> ev = load_evidence(d / "demo.yaml")
>>> ev.area, len(ev), ev["dejong2009_os_5y"]["n"]
('demo', 1, 1669)
>>> row = ev.to_frame().iloc[0]
>>> row["id"], float(row["estimate"]), row["citation"], row["confidence"]
('dejong2009_os_5y', 0.473, 'de Jong 2009', 'F')
>>> _ = (d / "bad.yaml").write_text(text.replace("n: 1669", "n: 1669\\n    n_deaths: 880"))
>>> load_evidence(d / "bad.yaml")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
decisionmodel.exceptions.EvidenceFieldError: .../bad.yaml: entry 'dejong2009_os_5y': unknown field(s) n_deaths ...
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from decisionmodel.exceptions import (
    CitationError,
    ConfidenceFlagError,
    DuplicateEntryIdError,
    DuplicateKeyError,
    EstimateOutsideIntervalError,
    EventsExceedNError,
    EvidenceDistributionError,
    EvidenceFieldError,
    EvidenceFileError,
    IntervalOrderError,
    NegativeValueError,
    NonPositiveRatioError,
    ParameterError,
    ProportionRangeError,
    UnknownEvidenceTypeError,
    VerifiedFlagError,
)
from decisionmodel.params import normalise_spec
from decisionmodel.tree.yamlsafe import StrictLoader, check_bounds

__all__ = [
    "AUTHORS_NOT_CAPTURED",
    "CONFIDENCE_FLAGS",
    "DESIGNS",
    "DISTRIBUTIONS",
    "ENTRY_TYPES",
    "FRAME_COLUMNS",
    "TIME_UNITS",
    "EvidenceFile",
    "evidence_from_dict",
    "file_digest",
    "load_all",
    "load_evidence",
]

#: entry type -> (required data fields, optional data fields)
ENTRY_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "events": (("events", "n"), ()),
    "proportion": (
        ("value",),
        ("n", "n_eff", "lower", "upper", "level", "range_low", "range_high"),
    ),
    "median": (
        ("value", "unit"),
        ("n", "deaths", "lower", "upper", "level", "range_low", "range_high"),
    ),
    "hazard_ratio": (("value", "lower", "upper", "comparison"), ("level", "measure", "n")),
    "mean_sd": (("mean", "unit"), ("sd", "se", "n", "range_low", "range_high")),
    "median_iqr": (("median", "q1", "q3", "unit"), ("n", "range_low", "range_high")),
    "value": (
        ("value", "unit"),
        ("lower", "upper", "level", "sd", "se", "n", "range_low", "range_high"),
    ),
}
#: keys every entry must have
COMMON_REQUIRED: tuple[str, ...] = ("id", "quantity", "type", "citation", "verified", "confidence")
#: keys any entry may have
COMMON_OPTIONAL: tuple[str, ...] = (
    "population",
    "procedure",
    "arm",
    "comparison",
    "stratum",
    "design",
    "tags",
    "notes",
    "n_studies",
    "distribution",
    "currency",
    "price_year",
)
#: the dossier's confidence flags
CONFIDENCE_FLAGS: tuple[str, ...] = ("F", "M-hi", "M-mod", "M-low", "D")
#: flags of numbers recalled rather than read in the source (``verified`` must be false)
RECALLED_FLAGS: frozenset[str] = frozenset({"M-hi", "M-mod", "M-low"})
#: allowed values of ``design``
DESIGNS: tuple[str, ...] = (
    "rct",
    "meta_analysis",
    "systematic_review",
    "cohort",
    "registry",
    "case_series",
    "guideline",
    "economic_evaluation",
    "synthesis",
)
#: distributions allowed in an entry's ``distribution:`` block
DISTRIBUTIONS: tuple[str, ...] = ("beta", "gamma", "lognormal", "normal", "uniform")
#: units read as times (values must not be negative; medians must be positive)
TIME_UNITS: frozenset[str] = frozenset({"days", "weeks", "months", "years"})
#: ratio measures a ``hazard_ratio`` entry may hold
MEASURES: tuple[str, ...] = ("hr", "rr", "or")
#: ``citation.authors`` when the dossier did not capture the author list
AUTHORS_NOT_CAPTURED = "not captured"

_TOP_KEYS = ("area", "description", "notes", "entries")
_LABELS = ("population", "procedure", "arm", "comparison", "stratum")
_CITATION_REQUIRED = ("authors", "journal", "year")
_CITATION_OPTIONAL = ("title", "volume", "issue", "pages", "doi", "pmid", "pmcid", "url", "note")
_IDENT = re.compile(r"[a-z][a-z0-9_]*\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_PRICE_YEAR = re.compile(r"\d{4}(-\d{4})?\Z")


# ----------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class EvidenceFile:
    """A validated evidence file.

    Attributes
    ----------
    path : pathlib.Path
        Where it was read from.
    area : str
        The clinical area (the file's ``area``).
    description : str
        The file's ``description``.
    entries : mapping
        Entry id -> entry (read-only mappings in file order). Each entry holds the
        fields as written, with ``citation`` a tuple of mappings, ``tags`` a tuple,
        ``distribution`` normalised by :func:`decisionmodel.params.normalise_spec`,
        ``level`` filled in (0.95) where an interval is given and ``measure`` (``hr``)
        on ratio entries.
    digest : str
        SHA-256 of the file's bytes (:func:`file_digest`), a cache key.
    notes : str or None
        The file's ``notes``.
    """

    path: Path
    area: str
    description: str
    entries: Mapping[str, Mapping[str, Any]]
    digest: str
    notes: str | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, entry_id: str) -> Mapping[str, Any]:
        try:
            return self.entries[entry_id]
        except KeyError:
            raise KeyError(f"{self.path}: no entry {entry_id!r}") from None

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.entries

    @property
    def ids(self) -> list[str]:
        """Entry ids in file order.

        Returns
        -------
        list of str

        Examples
        --------
        >>> EvidenceFile(Path("x.yaml"), "x", "", {"b": {}, "a": {}}, "").ids
        ['b', 'a']
        """
        return list(self.entries)

    def select(self, **criteria: Any) -> list[Mapping[str, Any]]:
        """Entries whose fields equal every given value (a missing field never matches).

        Parameters
        ----------
        **criteria
            Field -> value, e.g. ``quantity="hr_os"``, ``procedure="hepatectomy"``.
            No criteria select every entry.

        Returns
        -------
        list of mapping
            The matching entries, in file order.

        Examples
        --------
        >>> ev = EvidenceFile(Path("x.yaml"), "x", "", {"a": {"quantity": "os_5y"},
        ...                   "b": {"quantity": "hr_os"}}, "")
        >>> [e["quantity"] for e in ev.select(quantity="hr_os")]
        ['hr_os']
        """
        missing = object()
        return [
            e
            for e in self.entries.values()
            if all(e.get(k, missing) == v for k, v in criteria.items())
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per entry, with the standard fields as columns.

        ``estimate`` is the entry's point estimate (``events / n`` for counts, ``mean``
        or ``median`` for spreads, else ``value``); ``citation`` is a short form
        ("de Jong 2009"; several joined with "; "), ``year``/``doi``/``pmid`` come from
        the first citation, ``distribution`` is the name of the suggested prior, and
        fields an entry does not have are missing (NaN/None).

        Returns
        -------
        pandas.DataFrame
            One row per entry in file order, the columns of :data:`FRAME_COLUMNS`.

        Examples
        --------
        >>> ev = evidence_from_dict({"area": "a", "description": "d", "entries": [
        ...     {"id": "x2021_m90", "quantity": "mortality_90d", "type": "events",
        ...      "events": 3, "n": 600, "verified": True, "confidence": "F",
        ...      "citation": {"authors": "Xu A, Li B", "journal": "J", "year": 2021}}]})
        >>> row = ev.to_frame().iloc[0]
        >>> row["id"], float(row["estimate"]), row["citation"]
        ('x2021_m90', 0.005, 'Xu 2021')
        """
        rows = [_row(self.area, e) for e in self.entries.values()]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)


#: columns of :meth:`EvidenceFile.to_frame`
FRAME_COLUMNS: tuple[str, ...] = (
    "area",
    "id",
    "quantity",
    "type",
    "estimate",
    "events",
    "n",
    "n_eff",
    "deaths",
    "lower",
    "upper",
    "level",
    "sd",
    "se",
    "q1",
    "q3",
    "range_low",
    "range_high",
    "unit",
    "measure",
    "population",
    "procedure",
    "arm",
    "comparison",
    "stratum",
    "design",
    "n_studies",
    "distribution",
    "currency",
    "price_year",
    "citation",
    "year",
    "doi",
    "pmid",
    "verified",
    "confidence",
    "tags",
    "notes",
)


def _short_citation(c: Mapping[str, Any]) -> str:
    authors = str(c["authors"])
    if authors == AUTHORS_NOT_CAPTURED:
        return f"{c['journal']} {c['year']}"
    first = authors.split(",")[0].strip()
    words = first.split()
    if len(words) > 1 and words[-1].isupper():  # drop the initials: "de Jong MC" -> "de Jong"
        first = " ".join(words[:-1])
    return f"{first} {c['year']}"


def _row(area: str, e: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {col: e.get(col) for col in FRAME_COLUMNS}
    row["area"] = area
    kind = e["type"]
    if kind == "events":
        row["estimate"] = e["events"] / e["n"]
    elif kind == "mean_sd":
        row["estimate"] = e["mean"]
    elif kind == "median_iqr":
        row["estimate"] = e["median"]
    else:
        row["estimate"] = e["value"]
    cites = e["citation"]
    row["citation"] = "; ".join(_short_citation(c) for c in cites)
    for key in ("year", "doi", "pmid"):
        row[key] = cites[0].get(key)
    dist = e.get("distribution")
    row["distribution"] = dist["distribution"] if dist else None
    row["tags"] = ",".join(e.get("tags", ())) or None
    return row


# ----------------------------------------------------------------------------- reading


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes: the cache key of an evidence file.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    str
        SHA-256, 64 hexadecimal characters (what :attr:`EvidenceFile.digest` holds).

    Raises
    ------
    OSError
        The file cannot be read.

    See Also
    --------
    decisionmodel.evidence.cache.evidence_digest : The digest of a parsed file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.yaml"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _entry_nodes(root: yaml.Node) -> tuple[yaml.Node | None, list[tuple[str | None, yaml.Node]]]:
    """The ``entries`` node of a composed document and its (id, entry node) pairs."""
    if not isinstance(root, yaml.MappingNode):
        return None, []
    entries = next(
        (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "entries"),
        None,
    )
    pairs: list[tuple[str | None, yaml.Node]] = []
    if isinstance(entries, yaml.SequenceNode):
        for item in entries.value:
            eid = None
            if isinstance(item, yaml.MappingNode):
                eid = next(
                    (
                        v.value
                        for k, v in item.value
                        if isinstance(k, yaml.ScalarNode)
                        and k.value == "id"
                        and isinstance(v, yaml.ScalarNode)
                    ),
                    None,
                )
            pairs.append((eid, item))
    elif isinstance(entries, yaml.MappingNode):
        pairs = [(k.value if isinstance(k, yaml.ScalarNode) else None, v) for k, v in entries.value]
    return entries, pairs


def _duplicate_key(path: Path, text: str, exc: yaml.MarkedYAMLError) -> EvidenceFileError:
    """Turn the strict loader's duplicate-key error into one naming the entry."""
    mark, context = exc.problem_mark, exc.context_mark
    line = mark.line + 1 if mark else "?"
    problem = exc.problem or "duplicate key"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # composing never checks duplicates
    except yaml.YAMLError:  # pragma: no cover - the text already parsed once
        root = None
    entries, pairs = _entry_nodes(root) if root is not None else (None, [])
    if entries is not None and context is not None and entries.start_mark.index == context.index:
        key = problem.removeprefix("duplicate key ")
        return DuplicateEntryIdError(
            f"{path}: entry {key}: the id appears twice in 'entries' (second at line {line})"
        )
    if mark is not None:
        for eid, node in pairs:
            if node.start_mark.index <= mark.index < node.end_mark.index:
                label = repr(eid) if eid is not None else "(without an id)"
                return DuplicateKeyError(f"{path}: entry {label}: {problem} at line {line}")
    return DuplicateKeyError(f"{path}: {problem} at line {line}")


def _read(path: Path) -> tuple[Any, str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EvidenceFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise EvidenceFileError(f"{path}: cannot read ({exc})") from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvidenceFileError(f"{path}: not UTF-8 text ({exc})") from None
    check_bounds(text, str(path), EvidenceFileError)  # depth, alias bombs, one document
    try:
        doc = yaml.load(text, Loader=StrictLoader)  # a SafeLoader: never constructs objects
    except yaml.constructor.ConstructorError as exc:
        if (exc.problem or "").startswith("duplicate key"):
            raise _duplicate_key(path, text, exc) from None
        raise EvidenceFileError(f"{path}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EvidenceFileError(f"{path}: not valid YAML{at}: {problem}") from None
    return doc, digest


# ----------------------------------------------------------------------------- validation


class _Entry:
    """Error factory for one entry: every message starts with the file and the entry id."""

    def __init__(self, path: Path, label: str) -> None:
        self.prefix = f"{path}: entry {label}"

    def __call__(self, cls: type[EvidenceFileError], why: str) -> EvidenceFileError:
        return cls(f"{self.prefix}: {why}")


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer too large for a float
        return False


def _number(err: _Entry, e: Mapping[str, Any], key: str) -> float:
    v = e[key]
    if not _is_number(v):
        raise err(EvidenceFieldError, f"{key} must be a finite number, got {v!r}")
    return float(v)


def _count(err: _Entry, e: Mapping[str, Any], key: str, positive: bool = False) -> int:
    v = e[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise err(EvidenceFieldError, f"{key} must be an integer count, got {v!r}")
    if v < 0 or (positive and v == 0):
        raise err(
            NegativeValueError, f"{key} must be {'positive' if positive else '>= 0'}, got {v}"
        )
    return v


def _text(err: _Entry, e: Mapping[str, Any], key: str) -> str:
    v = e[key]
    if not isinstance(v, str) or not v.strip():
        raise err(EvidenceFieldError, f"{key} must be non-empty text, got {v!r}")
    return v


def _check_citation(err: _Entry, cite: Any) -> tuple[Mapping[str, Any], ...]:
    if cite is None:
        raise err(CitationError, "no citation (every entry needs authors, journal and year)")
    items = cite if isinstance(cite, list) else [cite]
    if not items:
        raise err(CitationError, "citation is an empty list")
    out = []
    for i, c in enumerate(items):
        where = f"citation {i + 1}" if len(items) > 1 else "citation"
        if not isinstance(c, Mapping):
            raise err(CitationError, f"{where} must be a mapping with authors, journal, year")
        missing = [k for k in _CITATION_REQUIRED if c.get(k) in (None, "")]
        if missing:
            raise err(CitationError, f"{where} lacks {', '.join(missing)}")
        unknown = [str(k) for k in c if k not in _CITATION_REQUIRED + _CITATION_OPTIONAL]
        if unknown:
            raise err(
                CitationError,
                f"{where}: unknown key(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(_CITATION_REQUIRED + _CITATION_OPTIONAL)})",
            )
        for key in ("authors", "journal"):
            if not isinstance(c[key], str) or not c[key].strip():
                raise err(CitationError, f"{where}: {key} must be non-empty text")
        year = c["year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1800 <= year <= 2100:
            raise err(CitationError, f"{where}: year must be a four-digit integer, got {year!r}")
        out.append(MappingProxyType(dict(c)))
    return tuple(out)


def _interval(
    err: _Entry, est: float, lo: float, hi: float, what: str, strict: bool = True
) -> None:
    if lo > hi or (strict and lo == hi):
        raise err(IntervalOrderError, f"{what}: lower {lo} must be {'<' if strict else '<='} {hi}")
    if not lo <= est <= hi:
        raise err(
            EstimateOutsideIntervalError, f"estimate {est} lies outside its {what} [{lo}, {hi}]"
        )


def _check_level(err: _Entry, e: dict[str, Any]) -> None:
    if "level" in e:
        level = _number(err, e, "level")
        if not 0 < level < 1:
            raise err(EvidenceFieldError, f"level must lie in (0, 1), got {level}")
    else:
        e["level"] = 0.95


def _check_bounds(err: _Entry, e: dict[str, Any], est: float, kind: str) -> None:
    """CI (lower/upper) and reported range of an estimate: scale checks, order, containment."""
    for lo_key, hi_key, what, strict in (
        ("lower", "upper", "interval", True),
        ("range_low", "range_high", "range", False),
    ):
        if (lo_key in e) != (hi_key in e):
            raise err(EvidenceFieldError, f"{lo_key} and {hi_key} go together")
        if lo_key not in e:
            continue
        lo, hi = _number(err, e, lo_key), _number(err, e, hi_key)
        _check_scale(err, kind, {lo_key: lo, hi_key: hi})
        _interval(err, est, lo, hi, what, strict)
        if what == "interval":
            _check_level(err, e)
    if "level" in e and "lower" not in e:
        raise err(EvidenceFieldError, "level is given without a lower/upper interval")


def _check_scale(err: _Entry, kind: str, values: Mapping[str, float]) -> None:
    """Range checks by scale: proportion [0, 1], ratio > 0, time >= 0."""
    for key, v in values.items():
        if kind == "proportion" and not 0 <= v <= 1:
            raise err(ProportionRangeError, f"{key} {v} lies outside [0, 1]")
        if kind == "ratio" and v <= 0:
            raise err(NonPositiveRatioError, f"{key} {v} must be positive")
        if kind == "time" and v < 0:
            raise err(NegativeValueError, f"{key} {v} is a negative time")


def _scale_of(unit: str | None) -> str:
    if unit == "proportion":
        return "proportion"
    if unit == "ratio":
        return "ratio"
    if unit in TIME_UNITS:
        return "time"
    return "other"


def _check_spread(err: _Entry, e: Mapping[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if key in e and _number(err, e, key) < 0:
            raise err(NegativeValueError, f"{key} must be >= 0, got {e[key]}")


def _check_data(err: _Entry, e: dict[str, Any]) -> None:
    kind = e["type"]
    if "n" in e:
        _count(err, e, "n", positive=True)
    if kind == "events":
        events = _count(err, e, "events")
        if events > e["n"]:
            raise err(EventsExceedNError, f"events {events} exceed n {e['n']}")
        return
    if kind == "hazard_ratio":
        measure = e.setdefault("measure", "hr")
        if measure not in MEASURES:
            raise err(
                EvidenceFieldError, f"measure must be one of {', '.join(MEASURES)}, got {measure!r}"
            )
        values = {k: _number(err, e, k) for k in ("value", "lower", "upper")}
        _check_scale(err, "ratio", values)
        _check_bounds(err, e, values["value"], "ratio")
        return
    if kind == "proportion":
        value = _number(err, e, "value")
        _check_scale(err, "proportion", {"value": value})
        if "n_eff" in e:
            n_eff = _number(err, e, "n_eff")
            if n_eff <= 0:
                raise err(NegativeValueError, f"n_eff must be positive, got {n_eff}")
            if "n" in e and n_eff > e["n"]:
                raise err(EvidenceFieldError, f"n_eff {n_eff} exceeds n {e['n']}")
        if not ("n" in e or "n_eff" in e or "lower" in e):
            raise err(
                EvidenceFieldError,
                "a proportion needs n, n_eff or a lower/upper interval "
                "(use type 'value' with unit 'proportion' for a bare number)",
            )
        _check_bounds(err, e, value, "proportion")
        return
    unit = _text(err, e, "unit")
    scale = _scale_of(unit)
    if kind == "median":
        if unit not in TIME_UNITS:
            raise err(
                EvidenceFieldError,
                f"a median's unit must be one of {sorted(TIME_UNITS)}, got {unit!r}",
            )
        value = _number(err, e, "value")
        if value <= 0:
            raise err(NegativeValueError, f"median time must be positive, got {value}")
        if "deaths" in e:
            deaths = _count(err, e, "deaths")
            if "n" in e and deaths > e["n"]:
                raise err(EventsExceedNError, f"deaths {deaths} exceed n {e['n']}")
        _check_bounds(err, e, value, scale)
    elif kind == "mean_sd":
        if ("sd" in e) == ("se" in e):
            raise err(EvidenceFieldError, "a mean_sd entry needs exactly one of sd and se")
        mean = _number(err, e, "mean")
        _check_scale(err, scale, {"mean": mean})
        _check_spread(err, e, ("sd", "se"))
        _check_bounds(err, e, mean, scale)
    elif kind == "median_iqr":
        values = {k: _number(err, e, k) for k in ("median", "q1", "q3")}
        _check_scale(err, scale, values)
        _interval(err, values["median"], values["q1"], values["q3"], "interquartile range", False)
        _check_bounds(err, e, values["median"], scale)
    elif kind == "value":
        if "sd" in e and "se" in e:
            raise err(EvidenceFieldError, "give sd or se, not both")
        value = _number(err, e, "value")
        _check_scale(err, scale, {"value": value})
        _check_spread(err, e, ("sd", "se"))
        _check_bounds(err, e, value, scale)


def _check_entry(path: Path, raw: Any, label: str, key_id: str | None) -> dict[str, Any]:
    err = _Entry(path, label)
    if not isinstance(raw, Mapping):
        raise err(EvidenceFieldError, f"expected a mapping, got {type(raw).__name__}")
    # null means absent (so a YAML merge can drop an inherited field), except price_year
    e = {k: v for k, v in raw.items() if v is not None or k == "price_year"}
    if key_id is not None:
        if "id" in e and e["id"] != key_id:
            raise err(EvidenceFieldError, f"id {e['id']!r} disagrees with its key {key_id!r}")
        e["id"] = key_id
    eid = e.get("id")
    if not isinstance(eid, str) or not _IDENT.match(eid):
        raise err(
            EvidenceFieldError,
            f"id must be a lower-case identifier (letters, digits, '_'), got {eid!r}",
        )
    err = _Entry(path, repr(eid))
    e["citation"] = _check_citation(err, e.get("citation"))
    kind = e.get("type")
    if kind is None:
        raise err(EvidenceFieldError, f"no 'type' (one of {', '.join(ENTRY_TYPES)})")
    if kind not in ENTRY_TYPES:
        raise err(
            UnknownEvidenceTypeError, f"unknown type {kind!r} (known: {', '.join(ENTRY_TYPES)})"
        )
    required, optional = ENTRY_TYPES[kind]
    missing = [k for k in (*COMMON_REQUIRED, *required) if k not in e]
    if missing:
        raise err(EvidenceFieldError, f"type {kind} needs field(s) {', '.join(missing)}")
    allowed = {*COMMON_REQUIRED, *COMMON_OPTIONAL, *required, *optional}
    extra = [str(k) for k in e if k not in allowed]
    if extra:
        data = ", ".join((*required, *optional))
        raise err(
            EvidenceFieldError,
            f"unknown field(s) {', '.join(extra)} for type {kind} (its data fields: {data})",
        )
    if not isinstance(e["verified"], bool):
        raise err(VerifiedFlagError, f"verified must be true or false, got {e['verified']!r}")
    conf = e["confidence"]
    if not isinstance(conf, str) or conf not in CONFIDENCE_FLAGS:
        raise err(
            ConfidenceFlagError,
            f"unknown confidence flag {conf!r} (known: {', '.join(CONFIDENCE_FLAGS)})",
        )
    if e["verified"] and conf in RECALLED_FLAGS:
        raise err(
            VerifiedFlagError,
            f"verified is true but confidence {conf} marks the number as recalled, not checked",
        )
    if not isinstance(e["quantity"], str) or not _IDENT.match(e["quantity"]):
        raise err(
            EvidenceFieldError, f"quantity must be a lower-case identifier, got {e['quantity']!r}"
        )
    for key in (*_LABELS, "notes"):
        if key in e:
            _text(err, e, key)
    if "design" in e and e["design"] not in DESIGNS:
        raise err(
            EvidenceFieldError, f"design must be one of {', '.join(DESIGNS)}, got {e['design']!r}"
        )
    if "tags" in e:
        tags = e["tags"]
        if not isinstance(tags, list) or not all(
            isinstance(t, str) and _IDENT.match(t) for t in tags
        ):
            raise err(
                EvidenceFieldError, f"tags must be a list of lower-case identifiers, got {tags!r}"
            )
        e["tags"] = tuple(tags)
    if "n_studies" in e:
        _count(err, e, "n_studies", positive=True)
    if ("currency" in e) != ("price_year" in e):
        raise err(
            EvidenceFieldError, "currency and price_year go together (price_year: null if unknown)"
        )
    if "currency" in e:
        if not isinstance(e["currency"], str) or not _CURRENCY.match(e["currency"]):
            raise err(
                EvidenceFieldError,
                f"currency must be an ISO code such as USD, got {e['currency']!r}",
            )
        year = e["price_year"]
        ok = year is None or (
            (isinstance(year, int) and not isinstance(year, bool) and 1800 <= year <= 2100)
            or (isinstance(year, str) and _PRICE_YEAR.match(year))
        )
        if not ok:
            raise err(
                EvidenceFieldError, f"price_year must be a year, 'YYYY-YYYY' or null, got {year!r}"
            )
    _check_data(err, e)
    if "distribution" in e:
        e["distribution"] = _check_distribution(err, e["distribution"])
    return e


def _check_distribution(err: _Entry, spec: Any) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise err(
            EvidenceDistributionError,
            f"distribution must be a mapping such as {{distribution: beta, alpha: 3, beta: 97}}, "
            f"got {spec!r}",
        )
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        raise err(
            EvidenceDistributionError,
            f"unknown distribution {name!r} (known: {', '.join(DISTRIBUTIONS)}); "
            "write e.g. {distribution: beta, alpha: 3, beta: 97}",
        )
    try:
        out = normalise_spec("prior", spec)
    except ParameterError as exc:
        why = str(exc).removeprefix("parameter 'prior': ")
        raise err(EvidenceDistributionError, f"distribution: {why}") from None
    return MappingProxyType(out)


def evidence_from_dict(
    doc: Any, path: str | os.PathLike = "<dict>", digest: str = ""
) -> EvidenceFile:
    """Validate a parsed evidence document and build the :class:`EvidenceFile`.

    Parameters
    ----------
    doc : mapping
        The document as the YAML loader returns it.
    path : path-like
        Name used in error messages and stored on the result.
    digest : str
        The file's SHA-256, if known.

    Returns
    -------
    EvidenceFile
        Its entries validated and normalised (read-only mappings, in document order).

    Raises
    ------
    EvidenceFileError
        Or one of its subclasses (one per rule), naming the file and the entry; e.g.
        :class:`~decisionmodel.exceptions.DuplicateEntryIdError` when two entries
        have the same id (see :func:`load_evidence` for the list).

    See Also
    --------
    load_evidence : Read and validate a file.

    Examples
    --------
    >>> ev = evidence_from_dict({"area": "a", "description": "d", "entries": {
    ...     "x2020_hr": {"quantity": "hr_os", "type": "hazard_ratio", "value": 1.6,
    ...                  "lower": 1.46, "upper": 1.76, "comparison": "R1 vs R0",
    ...                  "citation": {"authors": "X A", "journal": "J", "year": 2020},
    ...                  "verified": True, "confidence": "F"}}})
    >>> dict(ev["x2020_hr"])["level"], ev["x2020_hr"]["measure"]
    (0.95, 'hr')
    """
    path = Path(path)
    if not isinstance(doc, Mapping):
        raise EvidenceFileError(
            f"{path}: the top level must be a mapping with area, description, entries"
        )
    unknown = [str(k) for k in doc if k not in _TOP_KEYS]
    if unknown:
        raise EvidenceFileError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)} (allowed: {', '.join(_TOP_KEYS)})"
        )
    for key in ("area", "description", "entries"):
        if key not in doc:
            raise EvidenceFileError(f"{path}: no '{key}:'")
    area = doc["area"]
    if not isinstance(area, str) or not _IDENT.match(area):
        raise EvidenceFileError(f"{path}: area must be a lower-case identifier, got {area!r}")
    for key in ("description", "notes"):
        if key in doc and (not isinstance(doc[key], str) or not doc[key].strip()):
            raise EvidenceFileError(f"{path}: {key} must be non-empty text")
    raw = doc["entries"]
    if isinstance(raw, Mapping):
        items: list[tuple[str, str | None, Any]] = [
            (repr(k), k if isinstance(k, str) else str(k), v) for k, v in raw.items()
        ]
    elif isinstance(raw, list):
        items = [(f"#{i + 1}", None, v) for i, v in enumerate(raw)]
    else:
        raise EvidenceFileError(f"{path}: entries must be a list or a mapping by id")
    if not items:
        raise EvidenceFileError(f"{path}: entries is empty")
    entries: dict[str, Mapping[str, Any]] = {}
    for label, key_id, value in items:
        if key_id is None and isinstance(value, Mapping) and isinstance(value.get("id"), str):
            label = repr(value["id"])
        entry = _check_entry(path, value, label, key_id)
        if entry["id"] in entries:
            raise DuplicateEntryIdError(f"{path}: entry {entry['id']!r}: the id appears twice")
        entries[entry["id"]] = MappingProxyType(entry)
    return EvidenceFile(
        path=path,
        area=area,
        description=doc["description"],
        entries=MappingProxyType(entries),
        digest=digest,
        notes=doc.get("notes"),
    )


def load_evidence(path: str | os.PathLike) -> EvidenceFile:
    """Read and validate one evidence file.

    Parameters
    ----------
    path : path-like
        A ``.yaml`` evidence file (layout in the module docstring).

    Returns
    -------
    EvidenceFile

    Raises
    ------
    EvidenceFileError
        Or one of its subclasses, one per rule: :class:`~decisionmodel.exceptions.CitationError`,
        :class:`~decisionmodel.exceptions.UnknownEvidenceTypeError`,
        :class:`~decisionmodel.exceptions.EvidenceFieldError`,
        :class:`~decisionmodel.exceptions.EventsExceedNError`,
        :class:`~decisionmodel.exceptions.NegativeValueError`,
        :class:`~decisionmodel.exceptions.ProportionRangeError`,
        :class:`~decisionmodel.exceptions.IntervalOrderError`,
        :class:`~decisionmodel.exceptions.EstimateOutsideIntervalError`,
        :class:`~decisionmodel.exceptions.NonPositiveRatioError`,
        :class:`~decisionmodel.exceptions.EvidenceDistributionError`,
        :class:`~decisionmodel.exceptions.DuplicateEntryIdError`,
        :class:`~decisionmodel.exceptions.DuplicateKeyError`,
        :class:`~decisionmodel.exceptions.VerifiedFlagError`,
        :class:`~decisionmodel.exceptions.ConfidenceFlagError`. The message names the
        file and the entry id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "risk.yaml"
    >>> _ = p.write_text('''area: risk
    ... description: demo
    ... entries:
    ...   - {id: liu2015_hr_r1, quantity: hr_os, type: hazard_ratio, value: 1.60,
    ...      lower: 1.46, upper: 1.76, comparison: R1 vs R0, verified: true, confidence: F,
    ...      citation: {authors: "Liu W, Sun Y, Zhang L, Xing BC", journal: Int J Colorectal Dis,
    ...                 year: 2015}}
    ... ''')
    >>> e = load_evidence(p)["liu2015_hr_r1"]
    >>> e["value"], e["lower"], e["upper"], e["level"]
    (1.6, 1.46, 1.76, 0.95)
    >>> _ = p.write_text(p.read_text().replace("upper: 1.76", "upper: 1.55"))
    >>> load_evidence(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.EstimateOutsideIntervalError: ...risk.yaml: entry 'liu2015_hr_r1': estimate 1.6 lies outside its interval [1.46, 1.55]

    See Also
    --------
    load_all : Every file of a directory.
    evidence_from_dict : Validate a document already parsed.
    """
    path = Path(path)
    doc, digest = _read(path)
    return evidence_from_dict(doc, path, digest)


def load_all(directory: str | os.PathLike | None = None) -> dict[str, EvidenceFile]:
    """Load every ``*.yaml`` / ``*.yml`` evidence file of a directory, keyed by area.

    Areas must be distinct across the files, and so must entry ids (a later synthesis
    refers to entries by id alone).

    Parameters
    ----------
    directory : path-like, optional
        Default: the evidence files shipped with the package
        (:func:`decisionmodel.resources.priors_dir`); the working directory never
        changes the evidence.

    Returns
    -------
    dict
        Area -> :class:`EvidenceFile`, sorted by area.

    Raises
    ------
    EvidenceFileError
        The directory does not exist, two files have the same area, or a file is
        invalid (any of the errors of :func:`load_evidence`).
    DuplicateEntryIdError
        Two files use the same entry id.

    See Also
    --------
    load_evidence : One file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.yaml").write_text('''area: a
    ... description: demo
    ... entries:
    ...   - {id: x2009_m90, quantity: mortality_90d, type: events, events: 3, n: 564,
    ...      citation: {authors: X, journal: BMC Surg, year: 2021},
    ...      verified: true, confidence: F}
    ... ''')
    >>> {area: len(ev) for area, ev in load_all(d).items()}
    {'a': 1}
    """
    if directory is None:
        from decisionmodel.resources import priors_dir

        directory = priors_dir()
    directory = Path(directory)
    if not directory.is_dir():
        raise EvidenceFileError(f"{directory}: no such directory")
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    out: dict[str, EvidenceFile] = {}
    seen: dict[str, Path] = {}
    for path in paths:
        ev = load_evidence(path)
        if ev.area in out:
            raise EvidenceFileError(
                f"{path}: area {ev.area!r} is also the area of {out[ev.area].path}"
            )
        for eid in ev.entries:
            if eid in seen:
                raise DuplicateEntryIdError(
                    f"{path}: entry {eid!r}: the id is also used in {seen[eid]}"
                )
            seen[eid] = path
        out[ev.area] = ev
    return dict(sorted(out.items()))
