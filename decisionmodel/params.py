"""Parameter declarations and probabilistic sampling.

A tree file declares its parameters under ``parameters:``. Each is either fixed::

    p_relief: {value: 0.558, source: "Evans 1997"}

or drawn from a distribution, with its arguments named as below::

    p_mort:   {distribution: beta, alpha: 3.85, beta: 124.5, source: "..."}
    c_surg:   {distribution: gamma, shape: 3.19, rate: 1.29e-4, source: "..."}
    hr_r1:    {distribution: lognormal, meanlog: 0.472, sdlog: 0.046, source: "..."}
    age:      {distribution: normal, mean: 62, sd: 5}
    u_x:      {distribution: uniform, low: 0.6, high: 0.9}
    site:     {distribution: dirichlet, alpha: [409, 339, 199],
               names: [p_site_liver, p_site_extra, p_site_both]}

A Dirichlet declaration defines one parameter per entry of ``names``. The draws form an
:class:`xarray.Dataset` with one variable per parameter over the ``sample`` dimension,
the layout :func:`decisionmodel.evaluate` takes.

Examples
--------
>>> import numpy as np
>>> specs = {"p": {"distribution": "beta", "alpha": 2, "beta": 8}, "c": {"value": 100}}
>>> ds = sample_parameters(specs, 1000, np.random.default_rng(1))
>>> ds.sizes["sample"], float(ds["c"][0])
(1000, 100.0)
>>> bool(abs(float(ds["p"].mean()) - 0.2) < 0.02)
True
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.exceptions import ParameterError
from decisionmodel.rng import RNGLike, as_generator, base_seed, keyed_stream
from decisionmodel.vocabulary import is_reserved

#: distribution name -> required argument names (besides source/description/...)
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "beta": ("alpha", "beta"),
    "gamma": ("shape", "rate"),
    "lognormal": ("meanlog", "sdlog"),
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "dirichlet": ("alpha", "names"),
}
#: keys allowed in any declaration that do not affect the draws
METADATA_KEYS = ("source", "description", "unit", "verified", "confidence", "notes")
#: keys linking a declaration to the evidence layer and to patient profiles:
#: ``posterior: MODEL.OUTPUT`` (draws come from that evidence model's posterior output
#: when the analysis uses the evidence; the declared distribution is the prior fallback)
#: and ``profile: KEY`` (a patient-profile value replaces a fixed value, e.g. ``age``)
LINK_KEYS = ("posterior", "profile")
#: profile keys a fixed value may link to (the keys of
#: :func:`decisionmodel.clinical.profile.tree_values`)
PROFILE_LINK_KEYS = (
    "age",
    "female",
    "fong",
    "node_positive",
    "dfi_months",
    "n_tumours",
    "cea_ng_ml",
    "largest_cm",
    "ras",
    "braf",
    "extrahepatic",
    "r0_achievable",
    "staging_complete",
    "primary_controlled",
    "ecog",
    "fev1_percent",
    "dlco_percent",
)
#: most parameter declarations in one tree
MAX_PARAMETERS = 1_000
#: most components of one dirichlet group
MAX_COMPONENTS = 1_000
#: largest magnitude of a value or distribution argument
MAX_ARGUMENT = 1e300


def _fail(where: str, name: str, why: str) -> ParameterError:
    prefix = f"{where}: " if where else ""
    return ParameterError(f"{prefix}parameter {name!r}: {why}")


def _check_not_reserved(ident: str, where: str, name: str) -> None:
    if is_reserved(ident):
        raise _fail(
            where,
            name,
            f"{ident!r} is reserved (a formula constant, function or Markov cycle variable); rename it",
        )


def _number(value: Any, where: str, name: str, arg: str) -> float:
    """``value`` as a finite float of magnitude at most :data:`MAX_ARGUMENT`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = " (text: YAML reads an exponent without a sign, e.g. 1e6, as text; write 1.0e+6)"
            except ValueError:
                pass
        raise _fail(where, name, f"{arg} must be a number, got {value!r}{hint}")
    try:
        v = float(value)
    except OverflowError:
        raise _fail(
            where, name, f"{arg} is too large (an integer of {len(str(value))} digits)"
        ) from None
    if not math.isfinite(v):
        raise _fail(where, name, f"{arg} must be a finite number, got {value!r}")
    if abs(v) > MAX_ARGUMENT:
        raise _fail(
            where, name, f"{arg} is too large ({v:g}; at most {MAX_ARGUMENT:g} in magnitude)"
        )
    return v


def _check_name(ident: str, where: str, name: str) -> None:
    """Names must be in NFKC normal form: formulas (Python identifiers) are read NFKC-normalised,
    so 'ﬁ' and 'fi' would be the same name."""
    normal = unicodedata.normalize("NFKC", ident)
    if normal != ident:
        raise _fail(
            where,
            name,
            f"name {ident!r} is not in NFKC normal form (formulas read it as {normal!r}); "
            f"write {normal!r}",
        )


def _positive_number(
    value: Any, where: str, name: str, arg: str, allow_zero: bool = False
) -> float:
    v = _number(value, where, name, arg)
    if v < 0 or (v == 0 and not allow_zero):
        raise _fail(
            where,
            name,
            f"{arg} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value!r}",
        )
    return v


def normalise_spec(name: str, spec: Any, where: str = "") -> dict[str, Any]:
    """Check one parameter declaration and return it in canonical form.

    A bare number is a fixed value. A mapping with ``value`` and no ``distribution`` is
    fixed. Otherwise ``distribution`` must be one of :data:`DISTRIBUTIONS` with exactly
    its arguments.

    Parameters
    ----------
    name : str
        The declared name.
    spec : number or mapping
        The declaration as read from the file.
    where : str
        Location for error messages (usually the file name).

    Returns
    -------
    dict
        With ``distribution`` set explicitly.

    Raises
    ------
    ParameterError
        On an unknown distribution, missing or extra arguments, or invalid values.

    Examples
    --------
    >>> normalise_spec("c", 12.5)
    {'distribution': 'fixed', 'value': 12.5}
    >>> normalise_spec("p", {"distribution": "beta", "alpha": 1})
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.ParameterError: parameter 'p': beta needs argument(s) beta
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise _fail(where, str(name), "names must be identifiers not starting with '_'")
    _check_name(name, where, name)
    _check_not_reserved(name, where, name)
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"value": spec}
    if not isinstance(spec, Mapping):
        raise _fail(where, name, f"expected a number or a mapping, got {spec!r}")
    dist = spec.get("distribution", "fixed" if "value" in spec else None)
    if dist is not None and not isinstance(dist, str):
        raise _fail(where, name, f"distribution must be a name such as 'beta', got {dist!r}")
    out = {"distribution": dist, **{k: v for k, v in spec.items() if k != "distribution"}}
    if dist is None:
        raise _fail(where, name, "give either 'value' or 'distribution'")
    if dist not in DISTRIBUTIONS:
        raise _fail(
            where, name, f"unknown distribution {dist!r} (known: {', '.join(DISTRIBUTIONS)})"
        )
    out["distribution"] = dist
    required = DISTRIBUTIONS[dist]
    missing = [a for a in required if a not in out]
    if missing:
        raise _fail(where, name, f"{dist} needs argument(s) {', '.join(missing)}")
    extra = [
        k
        for k in out
        if k not in required and k != "distribution" and k not in METADATA_KEYS + LINK_KEYS
    ]
    if extra:
        raise _fail(where, name, f"{dist} does not take argument(s) {', '.join(map(str, extra))}")
    for meta in ("source", "description", "unit", "confidence"):
        if meta in out and out[meta] is not None and not isinstance(out[meta], str):
            raise _fail(where, name, f"{meta} must be text, got {type(out[meta]).__name__}")
    if "verified" in out and not isinstance(out["verified"], bool):
        raise _fail(where, name, f"verified must be true or false, got {out['verified']!r}")
    link = out.get("posterior")
    if link is not None:
        parts = link.split(".") if isinstance(link, str) else []
        if len(parts) != 2 or not all(p.isidentifier() and not p.startswith("_") for p in parts):
            raise _fail(where, name, f"posterior must be 'MODEL.OUTPUT', got {link!r}")
        if dist == "dirichlet":
            raise _fail(where, name, "a dirichlet group cannot take a posterior")
    key = out.get("profile")
    if key is not None:
        if not isinstance(key, str) or not key.isidentifier():
            raise _fail(where, name, f"profile must be a profile key name, got {key!r}")
        if key not in PROFILE_LINK_KEYS:
            raise _fail(
                where,
                name,
                f"unknown profile key {key!r} for a numeric value "
                f"(known: {', '.join(PROFILE_LINK_KEYS)})",
            )
        if dist != "fixed":
            raise _fail(where, name, "only a fixed value can be set from a patient profile")
    if dist == "fixed":
        _number(out["value"], where, name, "value")
    elif dist in ("beta",):
        _positive_number(out["alpha"], where, name, "alpha")
        _positive_number(out["beta"], where, name, "beta")
    elif dist == "gamma":
        _positive_number(out["shape"], where, name, "shape")
        _positive_number(out["rate"], where, name, "rate")
    elif dist == "lognormal":
        meanlog = _number(out["meanlog"], where, name, "meanlog")
        sdlog = _positive_number(out["sdlog"], where, name, "sdlog", allow_zero=True)
        if sdlog > 1e150 or meanlog + sdlog**2 / 2 > 700:
            raise _fail(
                where,
                name,
                f"lognormal meanlog={meanlog:g}, sdlog={sdlog:g}: the mean exp(meanlog + "
                "sdlog^2/2) is too large to represent",
            )
    elif dist == "normal":
        _number(out["mean"], where, name, "mean")
        _positive_number(out["sd"], where, name, "sd", allow_zero=True)
    elif dist == "uniform":
        lo, hi = out["low"], out["high"]
        for arg, v in (("low", lo), ("high", hi)):
            _number(v, where, name, arg)
        if not lo < hi:
            raise _fail(where, name, f"uniform needs low < high, got low={lo}, high={hi}")
    elif dist == "dirichlet":
        alpha, names = out["alpha"], out["names"]
        if not isinstance(alpha, list) or len(alpha) < 2:
            raise _fail(where, name, "dirichlet alpha must be a list of at least 2 numbers")
        if len(alpha) > MAX_COMPONENTS:
            raise _fail(where, name, f"dirichlet with more than {MAX_COMPONENTS:,} components")
        for a in alpha:
            _positive_number(a, where, name, "every dirichlet alpha")
        if not isinstance(names, list) or len(names) != len(alpha):
            raise _fail(where, name, "dirichlet names must be a list as long as alpha")
        for n in names:
            if not isinstance(n, str) or not n.isidentifier() or n.startswith("_"):
                raise _fail(where, name, f"dirichlet component name {n!r} is not an identifier")
            _check_name(n, where, name)
            _check_not_reserved(n, where, name)
        if len(set(names)) != len(names):
            raise _fail(where, name, "dirichlet component names repeat")
    return out


def declared_names(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Names of the parameters a set of declarations defines (Dirichlet components expanded).

    Parameters
    ----------
    specs : mapping
        Parameter declarations (name -> declaration), as in a tree's ``parameters:``.

    Returns
    -------
    list of str
        The value names in declaration order; a Dirichlet group gives its components.

    Examples
    --------
    >>> declared_names({"a": {"value": 1}, "d": {"distribution": "dirichlet",
    ...                 "alpha": [1, 1], "names": ["d1", "d2"]}})
    ['a', 'd1', 'd2']
    """
    out: list[str] = []
    for name, spec in specs.items():
        if spec.get("distribution") == "dirichlet":
            out.extend(spec["names"])
        else:
            out.append(name)
    return out


def _draw(spec: Mapping[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    dist = spec["distribution"]
    if dist == "fixed":
        return np.full(n, float(spec["value"]))
    if dist == "beta":
        return rng.beta(spec["alpha"], spec["beta"], size=n)
    if dist == "gamma":
        return rng.gamma(spec["shape"], 1.0 / spec["rate"], size=n)
    if dist == "lognormal":
        return rng.lognormal(spec["meanlog"], spec["sdlog"], size=n)
    if dist == "normal":
        return rng.normal(spec["mean"], spec["sd"], size=n)
    if dist == "uniform":
        return rng.uniform(spec["low"], spec["high"], size=n)
    if dist == "dirichlet":
        return rng.dirichlet(np.asarray(spec["alpha"], dtype=float), size=n)
    raise ParameterError(f"unknown distribution {dist!r}")  # pragma: no cover


def parameter_specs(tree_or_specs: nx.DiGraph | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The normalised declarations of a tree (or of a plain mapping of declarations).

    Every declaration is checked and brought to one form (``distribution`` and its
    arguments; a bare ``value`` becomes ``fixed``), and no value name may be defined twice.

    Parameters
    ----------
    tree_or_specs : networkx.DiGraph or mapping
        A tree (its ``graph["parameters"]``) or the declarations themselves.

    Returns
    -------
    dict
        Name -> normalised declaration, in declaration order.

    Raises
    ------
    ParameterError
        A bad declaration, too many parameters or a value name defined twice (the file
        and the parameter named).

    See Also
    --------
    sample_parameters : draws of the declarations.
    mean_parameters : their expected values.

    Examples
    --------
    >>> parameter_specs({"p": {"value": 0.2}})["p"]["distribution"]
    'fixed'
    """
    if isinstance(tree_or_specs, nx.DiGraph):
        raw = tree_or_specs.graph.get("parameters", {})
        where = str(tree_or_specs.graph.get("source_file", ""))
    else:
        raw, where = tree_or_specs, ""
    if len(raw) > MAX_PARAMETERS:
        raise ParameterError(f"{where}: more than {MAX_PARAMETERS:,} parameters")
    specs = {name: normalise_spec(name, spec, where) for name, spec in raw.items()}
    defined_by: dict[str, str] = {}  # value name -> the declaration defining it
    for name, spec in specs.items():
        for value in spec["names"] if spec["distribution"] == "dirichlet" else [name]:
            if value in defined_by and defined_by[value] != name:
                raise _fail(
                    where,
                    name,
                    f"defines {value!r}, which is already defined by parameter "
                    f"{defined_by[value]!r}",
                )
            defined_by[value] = name
    return specs


def sample_parameters(tree: nx.DiGraph | Mapping[str, Any], n: int, rng: RNGLike) -> xr.Dataset:
    """Draw every declared parameter ``n`` times, all at once.

    Each parameter gets its own random stream, keyed by its name under one base seed drawn
    from ``rng`` (:func:`decisionmodel.rng.keyed_stream`), so the same seed gives the same
    numbers, and adding or removing a parameter does not change the draws of the others
    (common random numbers across model versions).

    Parameters
    ----------
    tree : networkx.DiGraph or mapping
        A tree whose ``graph["parameters"]`` holds the declarations, or the declarations.
    n : int
        Number of draws (the length of the ``sample`` dimension).
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        The source of randomness (see :func:`decisionmodel.rng.as_generator`; an int seed
        ``s`` gives the draws of ``np.random.default_rng(s)``). Required: ``None`` is
        refused.

    Returns
    -------
    xarray.Dataset
        One variable per parameter, dimension ``sample`` (coordinate 0..n-1); each
        variable carries its declaration's ``source`` in ``attrs`` when given.

    Examples
    --------
    >>> import numpy as np
    >>> specs = {"x": {"distribution": "normal", "mean": 0, "sd": 1}}
    >>> a = sample_parameters(specs, 5, np.random.default_rng(7))
    >>> b = sample_parameters(specs, 5, np.random.default_rng(7))
    >>> bool((a["x"] == b["x"]).all())
    True
    >>> bool((sample_parameters(specs, 5, 7)["x"] == a["x"]).all())  # an int seed alike
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"number of draws must be a positive integer, got {n!r}")
    gen = as_generator(rng)
    specs = parameter_specs(tree)
    base = base_seed(gen)
    data: dict[str, xr.DataArray] = {}
    for name, spec in specs.items():
        values = _draw(spec, int(n), keyed_stream(base, name))
        if not np.isfinite(values).all():
            where = str(tree.graph.get("source_file", "")) if isinstance(tree, nx.DiGraph) else ""
            raise _fail(
                where,
                name,
                f"{spec['distribution']} draws are infinite or NaN: the arguments are too large",
            )
        attrs: dict[str, Any] = {k: spec[k] for k in ("source", "description", "unit") if k in spec}
        attrs["distribution"] = spec["distribution"]
        if spec["distribution"] == "dirichlet":
            for j, comp in enumerate(spec["names"]):
                data[comp] = xr.DataArray(
                    values[:, j], dims="sample", attrs=dict(attrs, group=name)
                )
        else:
            data[name] = xr.DataArray(values, dims="sample", attrs=attrs)
    return xr.Dataset(data, coords={"sample": np.arange(int(n))})


def mean_parameters(tree: nx.DiGraph | Mapping[str, Any]) -> xr.Dataset:
    """The expected value of every declared parameter, as a one-draw sample (base case).

    Parameters
    ----------
    tree : networkx.DiGraph or mapping
        A tree whose ``graph["parameters"]`` holds the declarations, or the declarations.

    Returns
    -------
    xarray.Dataset
        One variable per value name over a ``sample`` dimension of length 1.

    See Also
    --------
    sample_parameters : draws of the same declarations.

    Examples
    --------
    >>> float(mean_parameters({"p": {"distribution": "beta", "alpha": 1, "beta": 3}})["p"][0])
    0.25
    """
    specs = parameter_specs(tree)
    data: dict[str, Any] = {}
    for name, spec in specs.items():
        dist = spec["distribution"]
        if dist == "fixed":
            data[name] = float(spec["value"])
        elif dist == "beta":
            data[name] = spec["alpha"] / (spec["alpha"] + spec["beta"])
        elif dist == "gamma":
            data[name] = spec["shape"] / spec["rate"]
        elif dist == "lognormal":
            data[name] = math.exp(spec["meanlog"] + spec["sdlog"] ** 2 / 2)
        elif dist == "normal":
            data[name] = float(spec["mean"])
        elif dist == "uniform":
            data[name] = (spec["low"] + spec["high"]) / 2
        elif dist == "dirichlet":
            alpha = np.asarray(spec["alpha"], dtype=float)
            for comp, a in zip(spec["names"], alpha / alpha.sum(), strict=True):
                data[comp] = float(a)
    return xr.Dataset({k: ("sample", [v]) for k, v in data.items()}, coords={"sample": [0]})


def as_arrays(params: xr.Dataset | Mapping[str, Any]) -> tuple[dict[str, np.ndarray | float], int]:
    """Turn a parameter sample into name → 1-D array (or scalar) and the number of draws.

    Parameters
    ----------
    params : xarray.Dataset or mapping
        A Dataset with a ``sample`` dimension, or a mapping of scalars / 1-D arrays
        (all arrays of one length).

    Returns
    -------
    (dict, int)
        Arrays that are already float64 are returned as they are (views of the input,
        not copies: callers must not modify them); other numeric values are converted.

    Raises
    ------
    ParameterError
        If lengths differ, a variable has other dimensions, or values are not numeric.

    Examples
    --------
    >>> env, n = as_arrays({"a": [1.0, 2.0], "b": 3})
    >>> n, env["b"]
    (2, 3.0)
    """
    env: dict[str, np.ndarray | float] = {}
    n: int | None = None
    if isinstance(params, xr.Dataset):
        for name, var in params.data_vars.items():
            dims = tuple(var.dims)
            if dims == ():
                env[str(name)] = float(var.values)
                continue
            if dims != ("sample",):
                raise ParameterError(
                    f"parameter {name!r}: expected dimension ('sample',), got {dims}"
                )
            env[str(name)] = np.asarray(var.values, dtype=float)
        n = int(params.sizes.get("sample", 1))
    else:
        for name, value in params.items():
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                raise ParameterError(f"parameter {name!r}: values are not numeric")
            if arr.ndim == 0:
                env[str(name)] = float(arr)
                continue
            if arr.ndim != 1:
                raise ParameterError(f"parameter {name!r}: expected a 1-D array of draws")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ParameterError(
                    f"parameter {name!r}: {arr.shape[0]} draws, but others have {n}"
                )
            env[str(name)] = np.asarray(arr, dtype=float)  # no copy of a float array
        n = 1 if n is None else n
    for name, value in env.items():
        if not np.all(np.isfinite(value)):
            raise ParameterError(f"parameter {name!r}: contains NaN or infinite values")
    return env, n


def with_values(params: xr.Dataset, values: Mapping[str, Any]) -> xr.Dataset:
    """A copy of a parameter sample with some parameters set (a scenario, a one-way value).

    Parameters
    ----------
    params : xarray.Dataset
        A parameter sample with a ``sample`` dimension (:func:`sample_parameters`,
        :func:`mean_parameters`), or a Dataset of scalars.
    values : mapping
        Parameter name -> a number (the same on every draw) or one value per draw. A name
        the sample does not hold is added (e.g. a value the tree leaves to a profile).

    Returns
    -------
    xarray.Dataset
        The copy; ``params`` is left as it is. Set variables keep the ``attrs`` (source) of
        the variable they replace.

    Raises
    ------
    ParameterError
        A value is not numeric or not finite, or a per-draw array does not have one value
        per draw.

    See Also
    --------
    sample_parameters, mean_parameters

    Examples
    --------
    >>> import numpy as np
    >>> specs = {"p": {"distribution": "beta", "alpha": 2, "beta": 2}, "c": {"value": 100}}
    >>> ds = sample_parameters(specs, 3, 1)
    >>> out = with_values(ds, {"c": 250, "p": [0.1, 0.2, 0.3]})
    >>> out["c"].values.tolist(), out["p"].values.tolist(), float(ds["c"][0])
    ([250.0, 250.0, 250.0], [0.1, 0.2, 0.3], 100.0)
    >>> with_values(mean_parameters(specs), {"p": 0.9})["p"].values.tolist()
    [0.9]
    """
    out = params.copy()
    n = out.sizes.get("sample")
    for name, value in values.items():
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(
                f"with_values: parameter {name!r}: {value!r} is not a number"
            ) from None
        if not np.isfinite(arr).all():
            raise ParameterError(f"with_values: parameter {name!r}: values must be finite")
        attrs = dict(out[name].attrs) if name in out else {}
        if n is None:
            if arr.ndim != 0:
                raise ParameterError(
                    f"with_values: parameter {name!r}: the sample has one draw of scalars; give a number"
                )
            out[name] = xr.DataArray(float(arr), attrs=attrs)
        else:
            if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.shape[0] != n):
                raise ParameterError(
                    f"with_values: parameter {name!r}: give a number or {n} values (one per draw), "
                    f"got shape {arr.shape}"
                )
            data = np.broadcast_to(arr, (n,)).copy()
            out[name] = xr.DataArray(data, dims=("sample",), attrs=attrs)
    return out
