"""Patient profiles: the characteristics of one patient that tailor a decision model.

A profile is given on the command line (``decisionmodel run TREE --profile fong=3
--profile braf=mutant ...``, parsed by :func:`parse_profile_items`) and/or in a YAML file
whose top level is a mapping of the same keys (:func:`load_profile`); :func:`merge` lets
the command-line items override the file. Every field is optional; a field not stated
stays at the pooled mix of the source cohorts.

=====================  ===============================================================
key                    value
=====================  ===============================================================
``age``                years, 0-120
``sex``                ``female`` / ``male`` (also ``f`` / ``m``)
``fong``               Fong clinical risk score 0-5 (Fong 1999), or give the raw criteria:
``node_positive``      node-positive primary (yes/no)
``dfi_months``         disease-free interval, months from the primary to the metastases (>= 0)
``n_tumours``          number of liver tumours (>= 1)
``cea_ng_ml``          preoperative CEA, ng/mL (>= 0)
``largest_cm``         largest liver tumour, cm (> 0)
``ras``, ``braf``      ``wild`` / ``mutant`` (also ``wt``, ``wild-type``, ``mut``; BRAF ``v600e``)
``m1``                 ``M1a`` / ``M1b`` / ``M1c`` (AJCC 8th edition)
``sites``              metastatic sites (comma-separated on the command line; see
                       :data:`decisionmodel.clinical.staging.SITES`)
``r0_achievable``      a complete (R0) resection of all disease is expected (yes/no)
``staging_complete``   CT chest/abdomen/pelvis, PET-CT (and brain MRI where indicated) done
``primary_controlled`` the primary tumour is resected or controlled (yes/no)
``ecog``               ECOG performance status 0-5
``fev1_percent``       preoperative FEV1, % predicted (0-200)
``dlco_percent``       preoperative DLCO, % predicted (0-200)
=====================  ===============================================================

Booleans are ``yes``/``no``/``true``/``false`` (any case). Contradictions are errors: a Fong
score that the stated criteria cannot give, an M1 category that the stated sites do not
have. :func:`survival_covariates` turns a profile into the covariates of
:func:`decisionmodel.evidence.models.crlm_profile.profile_log_hr`; :func:`tree_values` into
numbers for tree parameters declared with ``profile: KEY``.

Examples
--------
>>> p = parse_profile_items(["age=70", "fong=3", "braf=mutant", "sites=liver,lung"])
>>> survival_covariates(p)
{'fong': 3, 'braf': 'mutant', 'extrahepatic': True}
>>> describe(p)
'age 70; Fong score 3 (high risk); BRAF mutant; M1b (liver, lung)'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from decisionmodel.clinical.fong import (
    CEA_THRESHOLD_NG_ML,
    DFI_THRESHOLD_MONTHS,
    FONG_CRITERIA,
    SIZE_THRESHOLD_CM,
    ClinicalInputError,
    fong_risk_group,
)
from decisionmodel.clinical.staging import (
    M1_CATEGORIES,
    is_extrahepatic,
    m1_category,
    normalise_sites,
)
from decisionmodel.exceptions import ProfileError

__all__ = [
    "PROFILE_KEYS",
    "PatientProfile",
    "ProfileConflictError",
    "ProfileError",
    "ProfileFileError",
    "ProfileValueError",
    "UnknownProfileKeyError",
    "describe",
    "fong_criteria_met",
    "fong_score_of",
    "format_profile_items",
    "load_profile",
    "merge",
    "parse_profile_items",
    "profile_from_mapping",
    "survival_covariates",
    "tree_values",
]


class UnknownProfileKeyError(ProfileError):
    """A profile key is not one of :data:`PROFILE_KEYS`; the message lists the known ones."""


class ProfileValueError(ProfileError):
    """A profile value has the wrong type or lies outside its range."""


class ProfileConflictError(ProfileError):
    """Two profile values contradict each other (e.g. ``fong=1`` with three criteria met)."""


class ProfileFileError(ProfileError):
    """A profile file is missing, is not YAML, or its top level is not a mapping."""


# ----------------------------------------------------------------------------- value parsers

_TRUE = ("yes", "true", "y")
_FALSE = ("no", "false", "n")


def _bad(key: str, value: Any, why: str) -> ProfileValueError:
    return ProfileValueError(f"profile: invalid value {value!r} for {key!r}: {why}")


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(key, value, "expected yes/no/true/false")


def _float(lo: float, hi: float, *, lo_open: bool = False) -> Callable[[str, Any], float]:
    def parse(key: str, value: Any) -> float:
        if isinstance(value, bool | np.bool_):
            raise _bad(key, value, "expected a number")
        if isinstance(value, str):
            try:
                x = float(value.strip())
            except ValueError:
                raise _bad(key, value, "expected a number") from None
        elif isinstance(value, int | float | np.number):
            x = float(value)
        else:
            raise _bad(key, value, "expected a number")
        if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
            left = "(" if lo_open else "["
            raise _bad(key, value, f"must lie in {left}{lo:g}, {hi:g}]")
        return x

    return parse


def _int(lo: int, hi: int) -> Callable[[str, Any], int]:
    def parse(key: str, value: Any) -> int:
        if isinstance(value, bool | np.bool_):
            raise _bad(key, value, "expected an integer")
        if isinstance(value, str):
            try:
                x = int(value.strip())
            except ValueError:
                raise _bad(key, value, "expected an integer") from None
        elif isinstance(value, int | np.integer):
            x = int(value)
        elif isinstance(value, float | np.floating) and float(value).is_integer():
            x = int(value)
        else:
            raise _bad(key, value, "expected an integer")
        if not lo <= x <= hi:
            raise _bad(key, value, f"must lie in {lo}-{hi}")
        return x

    return parse


def _choice(options: Mapping[str, str]) -> Callable[[str, Any], str]:
    def parse(key: str, value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in options:
            return options[value.strip().lower()]
        allowed = ", ".join(dict.fromkeys(options.values()))
        raise _bad(key, value, f"expected one of {allowed}")

    return parse


def _sites(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [s for s in (p.strip() for p in value.split(",")) if s]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _bad(key, value, "expected site names (a list, or comma-separated)")
    if not items:
        raise _bad(key, value, "no site given")
    try:
        return normalise_sites(items)
    except ClinicalInputError as e:
        raise ProfileValueError(f"profile: invalid value {value!r} for {key!r}: {e}") from None


_GENOTYPE = {"wild": "wild", "wt": "wild", "wild-type": "wild", "wildtype": "wild"}
_GENOTYPE |= {"mutant": "mutant", "mut": "mutant", "mutated": "mutant"}

#: parser of each profile key (also the order of the keys)
_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "age": _float(0.0, 120.0),
    "sex": _choice({"female": "female", "f": "female", "male": "male", "m": "male"}),
    "fong": _int(0, len(FONG_CRITERIA)),
    "node_positive": _bool,
    "dfi_months": _float(0.0, 1200.0),
    "n_tumours": _int(1, 10_000),
    "cea_ng_ml": _float(0.0, 1e7),
    "largest_cm": _float(0.0, 100.0, lo_open=True),
    "ras": _choice(_GENOTYPE),
    "braf": _choice(_GENOTYPE | {"v600e": "mutant"}),
    "m1": _choice({c.lower(): c for c in M1_CATEGORIES}),
    "sites": _sites,
    "r0_achievable": _bool,
    "staging_complete": _bool,
    "primary_controlled": _bool,
    "ecog": _int(0, 5),
    "fev1_percent": _float(0.0, 200.0, lo_open=True),
    "dlco_percent": _float(0.0, 200.0, lo_open=True),
}
#: the keys a profile accepts
PROFILE_KEYS: tuple[str, ...] = tuple(_PARSERS)
_RAW_FONG = ("node_positive", "dfi_months", "n_tumours", "cea_ng_ml", "largest_cm")


# ----------------------------------------------------------------------------- the profile


@dataclass(frozen=True)
class PatientProfile:
    """One patient's characteristics; ``None`` means not stated.

    Values are validated and normalised on construction (strings such as ``"yes"``,
    ``"3"`` or ``"liver,lung"`` are accepted as on the command line); see the module
    docstring for the keys.

    Raises
    ------
    ProfileValueError
        A value of the wrong type or out of range.
    ProfileConflictError
        Contradictory values (Fong score vs criteria, M1 category vs sites).

    Examples
    --------
    >>> PatientProfile(fong=2, ras="WT").ras
    'wild'
    >>> PatientProfile(m1="M1a", sites=["liver", "lung"])
    Traceback (most recent call last):
    ...
    decisionmodel.clinical.profile.ProfileConflictError: profile: m1=M1a conflicts with sites=liver,lung (which are M1b)
    """

    age: float | None = None
    sex: str | None = None
    fong: int | None = None
    node_positive: bool | None = None
    dfi_months: float | None = None
    n_tumours: int | None = None
    cea_ng_ml: float | None = None
    largest_cm: float | None = None
    ras: str | None = None
    braf: str | None = None
    m1: str | None = None
    sites: tuple[str, ...] | None = None
    r0_achievable: bool | None = None
    staging_complete: bool | None = None
    primary_controlled: bool | None = None
    ecog: int | None = None
    fev1_percent: float | None = None
    dlco_percent: float | None = None

    def __post_init__(self) -> None:
        for key, parse in _PARSERS.items():
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, parse(key, value))
        _check_fong(self)
        if self.m1 is not None and self.sites is not None:
            implied = m1_category(self.sites)
            if implied != self.m1:
                raise ProfileConflictError(
                    f"profile: m1={self.m1} conflicts with sites={','.join(self.sites)} "
                    f"(which are {implied})"
                )

    def stated(self) -> dict[str, Any]:
        """The stated (non-``None``) fields, in the order of :data:`PROFILE_KEYS`.

        Returns
        -------
        dict of str to object
            Key -> value, normalised as the profile holds it.

        See Also
        --------
        format_profile_items : the same fields as command-line items.

        Examples
        --------
        >>> PatientProfile(ecog=1, age=64).stated()
        {'age': 64.0, 'ecog': 1}
        """
        return {k: getattr(self, k) for k in PROFILE_KEYS if getattr(self, k) is not None}


def _criteria_state(p: PatientProfile) -> tuple[list[str], list[str], list[str]]:
    """(criteria met with their evidence, criteria not met, criteria not stated)."""
    met: list[str] = []
    not_met: list[str] = []
    unknown: list[str] = []
    checks = (
        ("node_positive", p.node_positive, lambda v: bool(v), "node_positive=yes"),
        ("dfi_lt_12m", p.dfi_months, lambda v: v < DFI_THRESHOLD_MONTHS, "dfi_months={}"),
        ("multiple_tumours", p.n_tumours, lambda v: v > 1, "n_tumours={}"),
        ("cea_gt_200", p.cea_ng_ml, lambda v: v > CEA_THRESHOLD_NG_ML, "cea_ng_ml={}"),
        ("size_gt_5cm", p.largest_cm, lambda v: v > SIZE_THRESHOLD_CM, "largest_cm={}"),
    )
    for name, value, rule, shown in checks:
        if value is None:
            unknown.append(name)
        elif rule(value):
            met.append(f"{name} ({shown.format(_fmt(value))})")
        else:
            not_met.append(name)
    return met, not_met, unknown


def _check_fong(p: PatientProfile) -> None:
    if p.fong is None:
        return
    met, _, unknown = _criteria_state(p)
    lo, hi = len(met), len(met) + len(unknown)
    if p.fong < lo:
        raise ProfileConflictError(
            f"profile: fong={p.fong} conflicts with the Fong criteria given: {lo} met "
            f"({', '.join(met)})"
        )
    if p.fong > hi:
        given = [k for k in _RAW_FONG if getattr(p, k) is not None]
        raise ProfileConflictError(
            f"profile: fong={p.fong} conflicts with the Fong criteria given: at most {hi} "
            f"can be met ({', '.join(given)} stated, {len(met)} met)"
        )


def fong_criteria_met(profile: PatientProfile) -> tuple[str, ...] | None:
    """Names of the Fong criteria met when all five raw criteria are stated, else None.

    Parameters
    ----------
    profile : PatientProfile
        The patient; the raw criteria are ``node_positive``, ``dfi_months``,
        ``n_tumours``, ``cea_ng_ml`` and ``largest_cm``.

    Returns
    -------
    tuple of str or None
        The criteria met (names of :data:`decisionmodel.clinical.fong.FONG_CRITERIA`, in
        that order); ``None`` when one of the five raw criteria is not stated.

    See Also
    --------
    fong_score_of : the score, stated or counted from these criteria.

    Examples
    --------
    >>> fong_criteria_met(PatientProfile(node_positive=True, dfi_months=14, n_tumours=2,
    ...                                  cea_ng_ml=15, largest_cm=3))
    ('node_positive', 'multiple_tumours')
    >>> fong_criteria_met(PatientProfile(fong=2)) is None
    True
    """
    met, _, unknown = _criteria_state(profile)
    if unknown:
        return None
    names = {m.split(" ")[0] for m in met}
    return tuple(c for c in FONG_CRITERIA if c in names)


def fong_score_of(profile: PatientProfile) -> int | None:
    """The profile's Fong score: stated, or computed from all five raw criteria, else None.

    Parameters
    ----------
    profile : PatientProfile
        The patient.

    Returns
    -------
    int or None
        The stated ``fong``, else the number of criteria met when all five are stated, else
        ``None``.

    See Also
    --------
    fong_criteria_met : the criteria the score counts.
    decisionmodel.clinical.fong.fong_risk_group : the risk group of a score.

    Examples
    --------
    >>> fong_score_of(PatientProfile(node_positive=False, dfi_months=6, n_tumours=1,
    ...                              cea_ng_ml=250, largest_cm=5.5))
    3
    """
    if profile.fong is not None:
        return profile.fong
    met = fong_criteria_met(profile)
    return None if met is None else len(met)


def profile_from_mapping(values: Mapping[str, Any], *, where: str = "profile") -> PatientProfile:
    """A profile from a mapping of key -> value (strings or typed values).

    Parameters
    ----------
    values : mapping
        Keys from :data:`PROFILE_KEYS`.
    where : str
        Prefix of error messages (e.g. the file name).

    Returns
    -------
    PatientProfile

    Raises
    ------
    UnknownProfileKeyError, ProfileValueError, ProfileConflictError

    Examples
    --------
    >>> profile_from_mapping({"ecog": 1, "primary_controlled": "yes"}).primary_controlled
    True
    """
    unknown = [str(k) for k in values if k not in _PARSERS]
    if unknown:
        raise UnknownProfileKeyError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(PROFILE_KEYS)})"
        )
    try:
        return PatientProfile(**{k: v for k, v in values.items() if v is not None})
    except ProfileError as e:
        if where == "profile":
            raise
        raise type(e)(f"{where}: {e}") from None


def parse_profile_items(items: Iterable[str]) -> PatientProfile:
    """A profile from command-line items ``key=value``.

    Parameters
    ----------
    items : iterable of str
        E.g. ``["fong=3", "braf=mutant", "dfi_months=8", "age=70", "r0_achievable=yes"]``.

    Returns
    -------
    PatientProfile

    Raises
    ------
    ProfileValueError
        An item without ``=`` or a key given twice, or an invalid value.
    UnknownProfileKeyError
        A key not in :data:`PROFILE_KEYS`.
    ProfileConflictError
        Contradictory values.

    Examples
    --------
    >>> parse_profile_items(["age=70", "node_positive=Yes", "ras=mutant"]).stated()
    {'age': 70.0, 'node_positive': True, 'ras': 'mutant'}
    >>> parse_profile_items(["fong"])
    Traceback (most recent call last):
    ...
    decisionmodel.clinical.profile.ProfileValueError: profile: item 'fong' is not key=value
    """
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ProfileValueError(f"profile: item {item!r} is not key=value")
        if key in values:
            raise ProfileValueError(f"profile: key {key!r} given twice")
        values[key] = value.strip()
    return profile_from_mapping(values)


def load_profile(path: str | Path) -> PatientProfile:
    """A profile from a YAML file whose top level is a mapping of profile keys.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    PatientProfile

    Raises
    ------
    ProfileFileError
        Missing, unreadable or oversized file, not UTF-8, invalid YAML (also duplicate keys,
        nesting too deep, alias bombs and cycles, tags outside the safe schema), or a top
        level that is not a mapping.
    UnknownProfileKeyError, ProfileValueError, ProfileConflictError
        As :func:`profile_from_mapping`, the message prefixed with the file name.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "patient.yaml")
    ...     _ = open(f, "w").write("age: 58\\nsites: [liver]\\nbraf: wild\\n")
    ...     load_profile(f).stated()
    {'age': 58.0, 'braf': 'wild', 'sites': ('liver',)}
    """
    from decisionmodel.tree.yamlsafe import load_yaml

    p = Path(path)
    data = load_yaml(p, ProfileFileError, "profile file")  # strict, bounded, never executed
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileFileError(
            f"{p}: the top level must be a mapping of profile keys, not {type(data).__name__}"
        )
    return profile_from_mapping(data, where=str(p))


def merge(base: PatientProfile, override: PatientProfile) -> PatientProfile:
    """``base`` with every field stated in ``override`` replaced (CLI items over a file).

    Parameters
    ----------
    base, override : PatientProfile

    Returns
    -------
    PatientProfile

    Raises
    ------
    ProfileConflictError
        The merged values contradict each other (e.g. the file states the five Fong
        criteria and the command line a different score).

    Examples
    --------
    >>> merge(PatientProfile(age=60, ras="wild"), PatientProfile(age=72)).stated()
    {'age': 72.0, 'ras': 'wild'}
    """
    return dataclasses.replace(base, **override.stated())


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def format_profile_items(profile: PatientProfile) -> list[str]:
    """Command-line items ``key=value`` that :func:`parse_profile_items` reads back.

    Parameters
    ----------
    profile : PatientProfile
        The patient.

    Returns
    -------
    list of str
        One ``key=value`` item per stated field, in the order of :data:`PROFILE_KEYS`
        (booleans as ``yes``/``no``, sites comma-separated).

    See Also
    --------
    parse_profile_items : the inverse.

    Examples
    --------
    >>> format_profile_items(PatientProfile(age=70.5, sites=["lung", "liver"], ecog=0))
    ['age=70.5', 'sites=liver,lung', 'ecog=0']
    """
    return [f"{k}={_fmt(v)}" for k, v in profile.stated().items()]


def survival_covariates(profile: PatientProfile) -> dict[str, Any]:
    """Covariates of the survival evidence model for this profile.

    The keys accepted by :func:`decisionmodel.evidence.models.crlm_profile.profile_log_hr`,
    omitting what the profile does not state (the model keeps the pooled mix):

    * ``fong``: the criterion names met when all five raw criteria are stated (each
      criterion has its own effect), else the stated score, else (some criteria stated,
      e.g. only ``dfi_months``) a mapping criterion -> met for the stated ones, the others
      staying at their pooled prevalence;
    * ``ras``, ``braf``: ``"wild"`` or ``"mutant"``;
    * ``extrahepatic``: from ``sites`` (any site other than the liver) if stated, else
      from ``m1`` (M1b/M1c: True; M1a: False, the single site being the liver in this
      model of liver metastases).

    Parameters
    ----------
    profile : PatientProfile
        The patient.

    Returns
    -------
    dict of str to object
        ``fong``, ``ras``, ``braf`` and ``extrahepatic``, each only when the profile gives it.

    See Also
    --------
    tree_values : the profile as numbers for tree parameters.

    Examples
    --------
    >>> survival_covariates(PatientProfile(node_positive=True, dfi_months=8, n_tumours=1,
    ...     cea_ng_ml=20, largest_cm=3, m1="M1a", ras="mutant"))
    {'fong': ['node_positive', 'dfi_lt_12m'], 'ras': 'mutant', 'extrahepatic': False}
    """
    out: dict[str, Any] = {}
    met = fong_criteria_met(profile)
    if met is not None:
        out["fong"] = list(met)
    elif profile.fong is not None:
        out["fong"] = profile.fong
    else:
        known, not_met, _ = _criteria_state(profile)
        stated = {m.split(" ")[0]: True for m in known} | {c: False for c in not_met}
        if stated:  # some criteria stated: the others stay at their pooled prevalence
            out["fong"] = {c: stated[c] for c in FONG_CRITERIA if c in stated}
    for key in ("ras", "braf"):
        if getattr(profile, key) is not None:
            out[key] = getattr(profile, key)
    if profile.sites is not None:
        out["extrahepatic"] = is_extrahepatic(profile.sites)
    elif profile.m1 is not None:
        out["extrahepatic"] = profile.m1 != "M1a"
    return out


def tree_values(profile: PatientProfile) -> dict[str, float]:
    """Numbers for tree parameters declared with ``profile: KEY``.

    Numeric fields as they are; yes/no fields as 1/0; ``ras``/``braf`` as 1 for mutant,
    0 for wild; ``fong`` (stated or computed from the five criteria); ``extrahepatic``
    (1/0, as :func:`survival_covariates`); ``female`` (1/0). Unstated fields are absent.

    Parameters
    ----------
    profile : PatientProfile
        The patient.

    Returns
    -------
    dict of str to float
        Key -> number: the stated numeric and yes/no fields, ``ras``, ``braf`` and
        ``female`` (for ``sex``), and ``fong`` and ``extrahepatic`` when known.

    See Also
    --------
    survival_covariates : the covariates of the survival evidence model.

    Examples
    --------
    >>> tree_values(PatientProfile(age=70, braf="mutant", r0_achievable=False, sex="f"))
    {'age': 70.0, 'female': 1.0, 'braf': 1.0, 'r0_achievable': 0.0}
    """
    out: dict[str, float] = {}
    for key, value in profile.stated().items():
        if key == "sex":
            out["female"] = 1.0 if value == "female" else 0.0
        elif key in ("ras", "braf"):
            out[key] = 1.0 if value == "mutant" else 0.0
        elif isinstance(value, bool | int | float):
            out[key] = float(value)
    score = fong_score_of(profile)
    if score is not None:
        out["fong"] = float(score)
    cov = survival_covariates(profile)
    if "extrahepatic" in cov:
        out["extrahepatic"] = float(cov["extrahepatic"])
    return out


def describe(profile: PatientProfile) -> str:
    """One-line human summary of a profile.

    Parameters
    ----------
    profile : PatientProfile
        The patient.

    Returns
    -------
    str
        The stated characteristics, grouped and separated by ``"; "`` (demography, Fong
        score and risk group, genotype, M1 category and sites, the yes/no flags, ECOG, lung
        function).

    Examples
    --------
    >>> describe(PatientProfile())
    'no patient characteristics stated (pooled cohort mix)'
    >>> describe(PatientProfile(age=66, sex="male", node_positive=True, dfi_months=30,
    ...     n_tumours=4, cea_ng_ml=12, largest_cm=2.5, ecog=1, fev1_percent=82))
    'age 66, male; Fong score 2 (low risk: node_positive, multiple_tumours); ECOG 1; FEV1 82 %'
    """
    parts: list[str] = []
    demo = [f"age {_fmt(profile.age)}"] if profile.age is not None else []
    demo += [profile.sex] if profile.sex is not None else []
    if demo:
        parts.append(", ".join(demo))
    score = fong_score_of(profile)
    met = fong_criteria_met(profile)
    if score is not None:
        group = fong_risk_group(score)
        detail = f"{group} risk: {', '.join(met)}" if met else f"{group} risk"
        parts.append(f"Fong score {score} ({detail})")
    else:
        met_l, _, unknown = _criteria_state(profile)
        if len(unknown) < len(FONG_CRITERIA):
            parts.append(
                f"Fong criteria partly stated ({len(met_l)} met, {len(unknown)} not stated)"
            )
    genes = [f"{g.upper()} {getattr(profile, g)}" for g in ("ras", "braf") if getattr(profile, g)]
    if genes:
        parts.append(", ".join(genes))
    if profile.sites is not None:
        parts.append(f"{m1_category(profile.sites)} ({', '.join(profile.sites)})")
    elif profile.m1 is not None:
        parts.append(profile.m1)
    flags = [
        ("r0_achievable", "R0 resection achievable", "R0 resection not achievable"),
        ("staging_complete", "staging complete", "staging incomplete"),
        ("primary_controlled", "primary controlled", "primary not controlled"),
    ]
    for key, yes, no in flags:
        value = getattr(profile, key)
        if value is not None:
            parts.append(yes if value else no)
    if profile.ecog is not None:
        parts.append(f"ECOG {profile.ecog}")
    lung = [
        f"{name} {_fmt(getattr(profile, key))} %"
        for key, name in (("fev1_percent", "FEV1"), ("dlco_percent", "DLCO"))
        if getattr(profile, key) is not None
    ]
    if lung:
        parts.append(", ".join(lung))
    return "; ".join(parts) if parts else "no patient characteristics stated (pooled cohort mix)"
