"""Scenario files: plain-data descriptions of the analyses to run on one tree.

A scenario file (``scenarios/*.yaml``) is YAML read with the package's strict safe loader
(no tags, no duplicate keys, bounded size). It names a base tree and a list of scenarios::

    tree: crlm                  # a tree file (relative to this file) or a shipped model
    description: Structural and price scenarios for the committee
    samples: 2000               # defaults for every scenario (each may override them)
    seed: 20261127
    wtp: [50000, 100000]
    evidence: true              # false: every parameter from its declared prior
    scenarios:
      - name: base case         # overrides nothing
      - name: cheaper systemic therapy
        set: {c_systemic_year: 40000}
      - name: uncertain resection effect
        prior: {hr_r1: {distribution: lognormal, meanlog: 0.47, sdlog: 0.2}}
      - name: ten-year horizon, 3.5% discounting
        horizon: 10             # years: every Markov model runs horizon / cycle_length cycles
        discount: {cost: 0.035, effect: 0.035}
      - name: older patient
        profile: {age: 75, fong: 3}
      - name: pivot closes
        protocol: {"peritoneal disease found": close}
      - name: systemic cost
        grid: {c_systemic_year: [40000, 60000, 80000]}   # three scenarios

Scenario keys: ``name`` (required, unique), ``description``, ``set`` (parameter ->
number: the parameter becomes fixed at that value), ``prior`` (parameter -> declaration,
the syntax of a tree file's ``parameters:``), ``grid`` (parameter -> list of numbers: one
scenario per combination, named ``NAME [p=v, q=w]``), ``horizon`` (years),
``discount`` (``cost`` and/or ``effect`` annual rates in [0, 1)), ``wtp``, ``profile``
(the keys of ``decisionmodel run --profile``), ``protocol`` (node -> action),
``samples`` and ``seed``.

:func:`load_scenarios` reads and checks the file itself; :func:`scenario_tree` applies
one scenario to the base tree and validates the result like a tree file, so an unknown
parameter, an impossible value (a probability of 1.5, a negative rate) or a protocol
action the tree lacks is one line naming the file, the scenario and the key
(:class:`ScenarioFileError`, exit code 2 on the command line).

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "s.yaml").write_text(
...     "tree: crlm\\nscenarios:\\n  - name: base\\n"
...     "  - name: price\\n    grid: {c_systemic_year: [40000, 80000]}\\n")
>>> sf = load_scenarios(d / "s.yaml")
>>> [s.name for s in sf.scenarios]
['base', 'price [c_systemic_year=40000]', 'price [c_systemic_year=80000]']
>>> ct = scenario_tree(sf, sf.scenarios[2])
>>> ct.graph.graph["parameters"]["c_systemic_year"]["value"]
80000.0
"""

from __future__ import annotations

import copy
import itertools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from decisionmodel.exceptions import DecisionModelError
from decisionmodel.tree.compile import CompiledTree

__all__ = [
    "FILE_KEYS",
    "SCENARIO_KEYS",
    "Scenario",
    "ScenarioFile",
    "ScenarioFileError",
    "load_scenarios",
    "scenario_tree",
]

#: keys of the file's top level
FILE_KEYS = ("tree", "description", "samples", "seed", "wtp", "evidence", "scenarios")
#: keys of one scenario
SCENARIO_KEYS = (
    "name",
    "description",
    "set",
    "prior",
    "grid",
    "horizon",
    "discount",
    "wtp",
    "profile",
    "protocol",
    "samples",
    "seed",
)
#: most scenarios a file may expand to (grids included)
MAX_SCENARIOS = 10_000
#: largest seed accepted (as ``--seed``)
_MAX_SEED = 2**32 - 1


class ScenarioFileError(DecisionModelError, ValueError):
    """A scenario file, or one of its scenarios, is malformed or impossible for its tree."""


@dataclass(frozen=True)
class Scenario:
    """One scenario, as checked by :func:`load_scenarios` (grids already expanded).

    Parameters
    ----------
    name : str
        Unique within the file.
    description : str
        Free text.
    set : dict
        Parameter -> fixed value.
    prior : dict
        Parameter -> declaration (a tree file's ``parameters:`` syntax).
    horizon : float or None
        Years of every Markov model.
    discount : dict
        ``cost`` and/or ``effect`` -> annual rate.
    wtp : tuple of float or None
        Willingness-to-pay values (None: the file's, else the tree's).
    profile : dict
        Patient characteristics (``decisionmodel run --profile`` keys).
    protocol : dict
        Node -> action fixed by protocol.
    samples, seed : int or None
        The number of draws and the seed (None: the file's).
    """

    name: str
    description: str = ""
    set: dict[str, float] = field(default_factory=dict)
    prior: dict[str, Any] = field(default_factory=dict)
    horizon: float | None = None
    discount: dict[str, float] = field(default_factory=dict)
    wtp: tuple[float, ...] | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, str] = field(default_factory=dict)
    samples: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ScenarioFile:
    """A checked scenario file.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    tree : pathlib.Path
        The base tree's file.
    scenarios : tuple of Scenario
        In file order, grids expanded in place.
    description : str
        Free text.
    samples, seed : int or None
        Defaults of every scenario.
    wtp : tuple of float or None
        Default willingness-to-pay values.
    evidence : bool
        Draw the linked parameters from the evidence posteriors (default True).
    """

    path: Path
    tree: Path
    scenarios: tuple[Scenario, ...]
    description: str = ""
    samples: int | None = None
    seed: int | None = None
    wtp: tuple[float, ...] | None = None
    evidence: bool = True


# ---------------------------------------------------------------------------------------
# checks of plain values
# ---------------------------------------------------------------------------------------


def _fail(where: str, why: str) -> ScenarioFileError:
    return ScenarioFileError(f"{where}: {why}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"expected a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:
        raise _fail(where, "a number too large") from None
    if not math.isfinite(v):
        raise _fail(where, f"expected a finite number, got {value!r}")
    return v


def _count(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(where, f"expected a whole number from {lo} to {hi:,}, got {value!r}")
    return int(value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"expected a mapping, got {type(value).__name__}")
    for k in value:
        if not isinstance(k, str) or not k:
            raise _fail(where, f"keys must be non-empty names, got {k!r}")
    return dict(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"expected text, got {type(value).__name__}")
    return value


def _wtp(value: Any, where: str) -> tuple[float, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _fail(where, "give at least one willingness-to-pay value")
    out = tuple(_number(v, where) for v in items)
    if any(v < 0 for v in out):
        raise _fail(where, f"willingness to pay must be non-negative, got {list(out)}")
    if len(set(out)) != len(out):
        raise _fail(where, f"willingness-to-pay values must be unique, got {list(out)}")
    return out


def _unknown(keys: Any, allowed: tuple[str, ...], where: str) -> None:
    bad = [str(k) for k in keys if k not in allowed]
    if bad:
        raise _fail(where, f"unknown key(s) {bad}; allowed: {', '.join(allowed)}")


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------


def _scenario(raw: Any, where: str, index: int) -> list[Scenario]:
    """One entry of ``scenarios:`` as one scenario, or several for a grid."""
    if not isinstance(raw, Mapping):
        raise _fail(f"{where}: scenario {index}", "expected a mapping with at least 'name'")
    if "name" not in raw:
        raise _fail(f"{where}: scenario {index}", "has no 'name'")
    name = _text(raw["name"], f"{where}: scenario {index}: name").strip()
    if not name:
        raise _fail(f"{where}: scenario {index}: name", "must not be empty")
    at = f"{where}: scenario {name!r}"
    _unknown(raw, SCENARIO_KEYS, at)
    kw: dict[str, Any] = {"name": name}
    if "description" in raw:
        kw["description"] = _text(raw["description"], f"{at}: description")
    if "set" in raw:
        kw["set"] = {
            k: _number(v, f"{at}: set: {k}") for k, v in _mapping(raw["set"], f"{at}: set").items()
        }
    if "prior" in raw:
        kw["prior"] = _mapping(raw["prior"], f"{at}: prior")
    if "horizon" in raw:
        h = _number(raw["horizon"], f"{at}: horizon")
        if h <= 0:
            raise _fail(f"{at}: horizon", f"must be a positive number of years, got {h:g}")
        kw["horizon"] = h
    if "discount" in raw:
        disc = _mapping(raw["discount"], f"{at}: discount")
        _unknown(disc, ("cost", "effect"), f"{at}: discount")
        kw["discount"] = {}
        for k, v in disc.items():
            r = _number(v, f"{at}: discount: {k}")
            if not 0 <= r < 1:
                raise _fail(f"{at}: discount: {k}", f"an annual rate in [0, 1), got {r:g}")
            kw["discount"][k] = r
    if "wtp" in raw:
        kw["wtp"] = _wtp(raw["wtp"], f"{at}: wtp")
    if "profile" in raw:
        kw["profile"] = _mapping(raw["profile"], f"{at}: profile")
        _profile(kw["profile"], f"{at}: profile")
    if "protocol" in raw:
        kw["protocol"] = {
            k: _text(v, f"{at}: protocol: {k}")
            for k, v in _mapping(raw["protocol"], f"{at}: protocol").items()
        }
    if "samples" in raw:
        kw["samples"] = _count(raw["samples"], f"{at}: samples", 1, 10_000_000)
    if "seed" in raw:
        kw["seed"] = _count(raw["seed"], f"{at}: seed", 0, _MAX_SEED)
    if "grid" not in raw:
        return [Scenario(**kw)]
    grid = _mapping(raw["grid"], f"{at}: grid")
    if not grid:
        raise _fail(f"{at}: grid", "name at least one parameter")
    axes = []
    for par, values in grid.items():
        if par in kw.get("set", {}) or par in kw.get("prior", {}):
            raise _fail(f"{at}: grid: {par}", "is also given under 'set' or 'prior'")
        if not isinstance(values, list) or not values:
            raise _fail(f"{at}: grid: {par}", "expected a non-empty list of numbers")
        nums = [_number(v, f"{at}: grid: {par}") for v in values]
        if len(set(nums)) != len(nums):
            raise _fail(f"{at}: grid: {par}", f"values must be unique, got {nums}")
        axes.append([(par, v) for v in nums])
    out = []
    for combo in itertools.product(*axes):
        label = ", ".join(f"{p}={v:g}" for p, v in combo)
        out.append(
            Scenario(
                **{
                    **kw,
                    "name": f"{name} [{label}]",
                    "set": {**kw.get("set", {}), **dict(combo)},
                }
            )
        )
        if len(out) > MAX_SCENARIOS:
            raise _fail(f"{at}: grid", f"expands to more than {MAX_SCENARIOS:,} scenarios")
    return out


def _profile(values: Mapping[str, Any], where: str) -> Any:
    from decisionmodel.clinical.profile import profile_from_mapping
    from decisionmodel.exceptions import ProfileError

    try:
        return profile_from_mapping(values, where=where)
    except ProfileError as exc:
        raise ScenarioFileError(str(exc)) from None


def load_scenarios(path: str | os.PathLike[str]) -> ScenarioFile:
    """Read and check a scenario file (its own keys and values; not yet against the tree).

    Parameters
    ----------
    path : path-like
        The scenario file (YAML).

    Returns
    -------
    ScenarioFile
        The file's defaults and its scenarios, grids expanded.

    Raises
    ------
    ScenarioFileError
        Unreadable or malformed YAML, an unknown key, a bad value, a repeated scenario
        name, a missing tree; the message names the file, the scenario and the key.

    See Also
    --------
    scenario_tree : one scenario applied to the tree and validated.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.yaml"
    >>> _ = p.write_text("tree: crlm\\nscenarios:\\n  - name: a\\n    sett: {x: 1}\\n")
    >>> load_scenarios(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    decisionmodel.scenario_files.ScenarioFileError: ...bad.yaml: scenario 'a': unknown key(s) ['sett']; ...
    """
    from decisionmodel.resources import tree_path
    from decisionmodel.tree.yamlsafe import load_yaml

    p = Path(path)
    doc = load_yaml(p, ScenarioFileError, "scenario file")
    where = str(p)
    if not isinstance(doc, Mapping):
        raise _fail(where, "expected a mapping with 'tree' and 'scenarios'")
    _unknown(doc, FILE_KEYS, where)
    for key in ("tree", "scenarios"):
        if key not in doc:
            raise _fail(where, f"has no {key!r}")
    tree_arg = _text(doc["tree"], f"{where}: tree")
    local = p.parent / tree_arg
    try:
        tree = local if local.is_file() else tree_path(tree_arg)
    except DecisionModelError as exc:
        raise _fail(f"{where}: tree", str(exc)) from None
    raw = doc["scenarios"]
    if not isinstance(raw, list) or not raw:
        raise _fail(f"{where}: scenarios", "expected a non-empty list of scenarios")
    scenarios: list[Scenario] = []
    for i, entry in enumerate(raw, 1):
        scenarios += _scenario(entry, where, i)
        if len(scenarios) > MAX_SCENARIOS:
            raise _fail(f"{where}: scenarios", f"more than {MAX_SCENARIOS:,} scenarios")
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(f"{where}: scenarios", f"scenario names must be unique; repeated: {dupes}")
    evidence = doc.get("evidence", True)
    if not isinstance(evidence, bool):
        raise _fail(f"{where}: evidence", f"expected true or false, got {evidence!r}")
    return ScenarioFile(
        path=p,
        tree=Path(tree),
        scenarios=tuple(scenarios),
        description=_text(doc.get("description", ""), f"{where}: description"),
        samples=(
            _count(doc["samples"], f"{where}: samples", 1, 10_000_000) if "samples" in doc else None
        ),
        seed=_count(doc["seed"], f"{where}: seed", 0, _MAX_SEED) if "seed" in doc else None,
        wtp=_wtp(doc["wtp"], f"{where}: wtp") if "wtp" in doc else None,
        evidence=evidence,
    )


# ---------------------------------------------------------------------------------------
# applying a scenario to the tree
# ---------------------------------------------------------------------------------------


def _horizon(markov: dict[str, Any], years: float, at: str) -> None:
    from decisionmodel.exceptions import FormulaError
    from decisionmodel.tree.formula import parse

    for model, spec in markov.items():
        try:
            length = parse(spec.get("cycle_length", 1)).constant
        except FormulaError as exc:
            raise _fail(f"{at}: horizon", f"Markov model {model!r}: {exc}") from None
        if length is None or not length > 0:
            raise _fail(
                f"{at}: horizon",
                f"Markov model {model!r}: its cycle_length is not a positive constant, "
                "so a horizon in years cannot be converted to cycles",
            )
        cycles = years / length
        if abs(cycles - round(cycles)) > 1e-9 * max(1.0, cycles) or round(cycles) < 1:
            raise _fail(
                f"{at}: horizon",
                f"{years:g} years is not a whole number of Markov model {model!r}'s "
                f"cycles of {length:g} years",
            )
        spec["cycles"] = round(cycles)


def scenario_tree(
    sf: ScenarioFile, scenario: Scenario, base: nx.DiGraph | None = None
) -> CompiledTree:
    """The base tree with one scenario applied, validated and compiled like a tree file.

    ``set`` makes each named parameter fixed at the value (its evidence or profile link is
    dropped: the scenario says what the value is); ``prior`` replaces the declaration;
    ``horizon`` sets every Markov model's ``cycles``; ``discount`` its rates; ``protocol``
    fixes decisions. Profiles, WTP, samples and seed are not part of the tree: the
    analysis applies them.

    Parameters
    ----------
    sf : ScenarioFile
        The checked file (:func:`load_scenarios`).
    scenario : Scenario
        One of ``sf.scenarios``.
    base : networkx.DiGraph, optional
        The base tree already loaded (default: read ``sf.tree``); it is not modified.

    Returns
    -------
    CompiledTree
        The scenario's tree, compiled with its protocol.

    Raises
    ------
    ScenarioFileError
        An unknown parameter, an impossible value or an unknown protocol node or action;
        the message names the file, the scenario and the key.
    """
    from decisionmodel.params import normalise_spec
    from decisionmodel.tree.io import load_tree
    from decisionmodel.tree.validate import validate_tree

    at = f"{sf.path}: scenario {scenario.name!r}"
    G = load_tree(sf.tree) if base is None else base
    H = G.copy()
    H.graph = copy.deepcopy(dict(G.graph))
    params = H.graph.setdefault("parameters", {})
    for key, overrides in (("set", scenario.set), ("prior", scenario.prior)):
        for name, value in overrides.items():
            if name not in params:
                raise _fail(
                    f"{at}: {key}: {name}",
                    f"the tree {sf.tree.name} declares no such parameter",
                )
            old = params[name]
            if isinstance(old, Mapping) and old.get("distribution") == "dirichlet":
                raise _fail(f"{at}: {key}: {name}", "a Dirichlet group cannot be overridden")
            spec: Any = {"value": value} if key == "set" else value
            if isinstance(old, Mapping) and isinstance(spec, Mapping):
                spec = {**{k: old[k] for k in ("unit",) if k in old}, **spec}
            try:
                params[name] = normalise_spec(name, spec, where=f"{at}: {key}")
            except DecisionModelError as exc:
                raise ScenarioFileError(str(exc)) from None
    markov = H.graph.get("markov") or {}
    if (scenario.horizon is not None or scenario.discount) and not markov:
        raise _fail(at, f"horizon and discount need Markov models; {sf.tree.name} has none")
    if scenario.horizon is not None:
        _horizon(markov, scenario.horizon, at)
    for spec in markov.values():
        if scenario.discount:
            spec["discount"] = {**dict(spec.get("discount") or {}), **scenario.discount}
    try:
        return validate_tree(H, protocol=scenario.protocol or None, require_declared=True)
    except DecisionModelError as exc:
        raise ScenarioFileError(f"{at}: {exc}") from None
