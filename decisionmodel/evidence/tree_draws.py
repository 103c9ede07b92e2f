"""A tree's parameter sample with its evidence links: posteriors, priors and a patient profile.

A tree file links parameters to the evidence layer in their declarations:

``posterior: MODEL.OUTPUT``
    The draws of the parameter are the posterior draws of evidence model ``MODEL``'s
    output ``OUTPUT`` (see :mod:`decisionmodel.evidence.registry`); the declared
    distribution is the prior fallback, used when the analysis is run on priors only.
    An output may also be a *profile output* of the model (``ModelSpec.profile_outputs``),
    computed for the patient profile of the analysis, e.g. ``crlm_survival.hr_profile``.
``profile: KEY``
    A fixed value that the patient profile's ``KEY`` replaces (e.g. ``age``).

:func:`tree_draws` fits (or reads from the cache) the models the tree names, turns each
model's outputs into ``n`` draws with one resampling index per model (so the outputs of a
model keep their joint distribution), and draws the other parameters from their declared
distributions (:func:`decisionmodel.sample_parameters`, with ``rng`` itself, so a
priors-only run gives exactly the draws of ``sample_parameters(tree, n, rng)``). Each
model's resampling has its own random stream derived from ``rng``: the same seed gives the
same sample.

Examples
--------
A tree without evidence links is sampled from its declarations:

>>> import numpy as np
>>> from decisionmodel.tree.io import tree_from_dict
>>> G = tree_from_dict({"parameters": {"p": {"distribution": "beta", "alpha": 2, "beta": 8},
...                                    "age": {"value": 60, "profile": "age"}},
...                     "tree": {"kind": "terminal", "name": "t", "effect": "age * p"}})
>>> ds, info = tree_draws(G, 5, rng=np.random.default_rng(1), values={"age": 70})
>>> ds["age"].values.tolist(), info["models"]
([70.0, 70.0, 70.0, 70.0, 70.0], {})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.evidence.draws import resample_index
from decisionmodel.evidence.fit import DEFAULT_SEED, fit_all
from decisionmodel.evidence.outputs import flat_outputs, posterior_outputs
from decisionmodel.evidence.registry import ModelSpec, get_spec
from decisionmodel.exceptions import ParameterDrawsError
from decisionmodel.params import parameter_specs, sample_parameters
from decisionmodel.rng import RNGLike, as_generator, base_seed, keyed_stream

__all__ = ["evidence_links", "linked_fits", "profile_links", "tree_draws"]


def evidence_links(tree: nx.DiGraph | Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Parameter name -> (model, output) for every declaration with ``posterior:``.

    Parameters
    ----------
    tree : networkx.DiGraph or mapping
        A loaded tree (its ``graph["parameters"]`` is read) or the declarations
        themselves.

    Returns
    -------
    dict
        Parameter name -> ``(MODEL, OUTPUT)``, in declaration order.

    Raises
    ------
    ParameterError
        A declaration is invalid (e.g. a link not of the form ``MODEL.OUTPUT``).

    See Also
    --------
    profile_links : The declarations with ``profile:``.
    linked_fits : The fits of the linked models.

    Examples
    --------
    >>> evidence_links({"p": {"distribution": "beta", "alpha": 1, "beta": 1,
    ...                       "posterior": "surgical_risk.p_mort90_lung"}, "c": 3})
    {'p': ('surgical_risk', 'p_mort90_lung')}
    """
    out: dict[str, tuple[str, str]] = {}
    for name, spec in parameter_specs(tree).items():
        link = spec.get("posterior")
        if link:
            model, output = link.split(".")
            out[name] = (model, output)
    return out


def profile_links(tree: nx.DiGraph | Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> profile key for every declaration with ``profile:``.

    Parameters
    ----------
    tree : networkx.DiGraph or mapping
        A loaded tree (its ``graph["parameters"]`` is read) or the declarations
        themselves.

    Returns
    -------
    dict
        Parameter name -> profile key (e.g. ``"age"``), in declaration order.

    Raises
    ------
    ParameterError
        A declaration is invalid (e.g. an unknown profile key).

    See Also
    --------
    evidence_links : The declarations with ``posterior:``.

    Examples
    --------
    >>> profile_links({"age": {"value": 62, "profile": "age"}, "c": 3})
    {'age': 'age'}
    """
    return {
        name: spec["profile"]
        for name, spec in parameter_specs(tree).items()
        if spec.get("profile") is not None
    }


def _model_outputs(
    spec: ModelSpec, dt: xr.DataTree, covariates: Mapping[str, Any] | None
) -> dict[str, np.ndarray]:
    flat = posterior_outputs(spec, dt)
    if spec.profile_outputs is not None:
        size = next(iter(flat.values())).size if flat else None
        extra = spec.profile_outputs(dt, dict(covariates or {}))
        flat.update(flat_outputs(spec.name, extra, what="profile output", size=size))
    return flat


def linked_fits(
    tree: nx.DiGraph | Mapping[str, Any],
    *,
    posteriors: Mapping[str, xr.DataTree] | None = None,
    fit_seed: int = DEFAULT_SEED,
    fit_kwargs: Mapping[str, Any] | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, xr.DataTree]:
    """The fits of the evidence models a tree links to: ``posteriors`` where given, the
    others fitted or read from the cache with :func:`~decisionmodel.evidence.fit.fit_all`.

    Parameters
    ----------
    tree : networkx.DiGraph or mapping
        A loaded tree, or its parameter declarations; the models named by its
        ``posterior: MODEL.OUTPUT`` links are fitted.
    posteriors : mapping, optional
        Model name -> fit, used instead of fitting (extra models are ignored).
    fit_seed : int
        ``seed`` of :func:`~decisionmodel.evidence.fit.fit_all`.
    fit_kwargs : mapping, optional
        Further keywords of :func:`~decisionmodel.evidence.fit.fit_all` (``cache_dir``,
        ``jobs``, ``progress`` ...).
    say : callable, optional
        Receives a one-line message before models are fitted or loaded.

    Returns
    -------
    dict
        Model name -> fit, for every linked model: those taken from ``posteriors``
        first, then those fitted, each group sorted by name. Each model is asked for the outputs the tree links to
        (``require`` of :func:`~decisionmodel.evidence.fit.fit_all`).

    Raises
    ------
    UnknownModelError
        A linked model is not registered (before anything is fitted).
    DiagnosticsError, MissingEvidenceError, EvidenceModelError
        A fit fails (see :func:`~decisionmodel.evidence.fit.fit`).

    Examples
    --------
    >>> linked_fits({"c": 3})
    {}
    """
    models = sorted({m for m, _ in evidence_links(tree).values()})
    for m in models:
        get_spec(m)  # unknown model: a clear error before any fitting
    given = dict(posteriors or {})
    fits = {m: given[m] for m in models if m in given}
    todo = [m for m in models if m not in given]
    if todo:
        if say is not None:
            say(f"evidence: fitting or loading {len(todo)} model(s): {', '.join(todo)}")
        need: dict[str, list[str]] = {}
        for model, output in evidence_links(tree).values():
            need.setdefault(model, []).append(output)
        fits.update(fit_all(todo, seed=fit_seed, require=need, **dict(fit_kwargs or {})))
    return fits


def tree_draws(
    tree: nx.DiGraph,
    n: int,
    *,
    rng: RNGLike,
    evidence: bool = True,
    covariates: Mapping[str, Any] | None = None,
    values: Mapping[str, float] | None = None,
    posteriors: Mapping[str, xr.DataTree] | None = None,
    fit_seed: int = DEFAULT_SEED,
    fit_kwargs: Mapping[str, Any] | None = None,
    say: Callable[[str], None] | None = None,
) -> tuple[xr.Dataset, dict[str, Any]]:
    """The parameter sample of a tree: posterior draws where linked, priors elsewhere.

    Parameters
    ----------
    tree : networkx.DiGraph
        A loaded tree (:func:`decisionmodel.tree.io.load_tree`).
    n : int
        Number of draws (``sample`` = 0..n-1).
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        Randomness for the prior draws and the resampling of posteriors (see
        :func:`decisionmodel.rng.as_generator`; an int seed ``s`` gives the numbers of
        ``np.random.default_rng(s)``).
    evidence : bool
        Use the posteriors of the linked evidence models (default). ``False`` draws every
        parameter from its declared (prior) distribution.
    covariates : mapping, optional
        Patient covariates passed to the models' ``profile_outputs`` (e.g. ``{"fong": 3,
        "braf": "mutant"}`` for ``crlm_survival``); missing keys keep the pooled mix.
    values : mapping, optional
        Profile key -> number, replacing the fixed values declared with ``profile: KEY``.
    posteriors : mapping, optional
        Model name -> fit, to use instead of fitting (or reading the cache).
    fit_seed : int
        Seed of the evidence fits (:func:`~decisionmodel.evidence.fit.fit_all`); kept
        apart from ``rng`` so that runs with different seeds share the cached fits.
    fit_kwargs : mapping, optional
        Passed to :func:`~decisionmodel.evidence.fit.fit_all` (``cache_dir``, ``jobs``,
        ``progress`` ...).
    say : callable, optional
        Receives one-line progress messages.

    Returns
    -------
    (xarray.Dataset, dict)
        The sample, and a record: ``models`` (name -> ``{"draws", "cache_key",
        "from_cache", "parameters"}``), ``prior`` (parameters drawn from their
        declarations), ``profile_values`` (parameter -> value set from the profile).

    Raises
    ------
    ParameterDrawsError
        A linked model has no such output, or a profile value is not a finite number.
    UnknownModelError
        A linked model is not registered.
    TypeError
        ``rng`` is missing, ``None`` or not a generator, a seed sequence or an int seed.

    See Also
    --------
    linked_fits : The fits it uses.
    decisionmodel.sample_parameters : The draws of the declared distributions.
    decisionmodel.evidence.draws.resample_index : How each model's draws are resampled.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterDrawsError(f"number of draws must be a positive integer, got {n!r}")
    rng = as_generator(rng)  # one generator: the prior draws, then the resampling seed
    where = str(tree.graph.get("source_file", "")) or "tree"
    specs = parameter_specs(tree)
    links = evidence_links(tree) if evidence else {}
    data: dict[str, xr.DataArray] = {}
    record: dict[str, Any] = {"models": {}, "prior": [], "profile_values": {}}

    # 1. declared (prior) draws first, with rng itself: sample_parameters gives every
    #    parameter its own stream keyed by its name, so these are the very numbers of a
    #    priors-only run with the same seed (common random numbers between the two)
    overrides: dict[str, dict[str, Any]] = {}
    for param, key in profile_links(tree).items():
        if values and values.get(key) is not None:
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ParameterDrawsError(
                    f"profile value {key}={v!r} for parameter {param!r} must be a finite number"
                )
            overrides[param] = {**specs[param], "value": float(v)}
            record["profile_values"][param] = float(v)
    rest = {k: overrides.get(k, s) for k, s in specs.items() if k not in links}
    if rest:
        ds = sample_parameters(rest, int(n), rng)
        for name, da in ds.data_vars.items():
            data[str(name)] = da.drop_vars("sample")
        record["prior"] = sorted(k for k in rest if k not in overrides)
    base = base_seed(rng)

    # 2. posterior draws of the linked parameters, one resampling index per model
    fits = (
        linked_fits(tree, posteriors=posteriors, fit_seed=fit_seed, fit_kwargs=fit_kwargs, say=say)
        if links
        else {}
    )
    models = sorted(fits)
    for m in models:
        spec = get_spec(m)
        flat = _model_outputs(spec, fits[m], covariates)
        size = next(iter(flat.values())).size
        idx = resample_index(size, int(n), keyed_stream(base, m))
        mine = {p: out for p, (mm, out) in links.items() if mm == m}
        for param, output in sorted(mine.items()):
            if output not in flat:
                raise ParameterDrawsError(
                    f"{where}: parameter {param!r}: evidence model {m!r} has no output "
                    f"{output!r} (outputs: {', '.join(sorted(flat))})"
                )
            data[param] = xr.DataArray(
                flat[output][idx],
                dims="sample",
                attrs={"source": f"evidence model {m}.{output} (version {spec.version})"},
            )
        record["models"][m] = {
            "draws": int(size),
            "cache_key": str(fits[m].attrs.get("cache_key", "")),
            "from_cache": int(fits[m].attrs.get("from_cache", 0)),
            "parameters": {p: f"{m}.{o}" for p, o in sorted(mine.items())},
        }
    order = [k for k in specs if k in data] + [k for k in data if k not in specs]
    data = {k: data[k] for k in order}
    return xr.Dataset(data, coords={"sample": np.arange(int(n))}), record
