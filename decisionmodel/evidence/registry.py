"""The registry of evidence models: one :class:`ModelSpec` per PyMC synthesis.

A model module (one per model in :mod:`decisionmodel.evidence.models`, e.g.
``decisionmodel.evidence.models.surgical_risk``) exposes ``SPECS``, a list of
:class:`ModelSpec`; :data:`MODELS` collects them by name the first time it is read
(lazily, so a model module may import this one without a circular import). A module
that does not exist yet is skipped; an error *inside* an existing module propagates.

The contract
------------
``build(evidence)``
    Receives a mapping area -> :class:`~decisionmodel.evidence.files.EvidenceFile`
    holding (at least) the areas listed in ``files`` and returns a ``pm.Model`` whose
    variables are named and carry coords/dims.
``outputs(dt)``
    Receives the fitted ``xarray.DataTree`` (``posterior`` group, dims ``chain``,
    ``draw``, ...) and returns tree-parameter name -> ``xarray.DataArray`` of posterior
    draws with dims ``(chain, draw)`` exactly (one scalar parameter per name).
``checks(dt, evidence)``
    Posterior predictive checks: a :class:`pandas.DataFrame` with one row per
    published number and the columns :data:`CHECK_COLUMNS` (``target``, ``observed``,
    ``lower``, ``upper``, ``passed``, ``source``).
``version``
    Bump when the model changes; it is part of the cache key (so is the source text
    of the module that defines ``build`` and of the shared modules it imports: see
    :func:`decisionmodel.evidence.cache.source_digest`).

Examples
--------
>>> import pymc as pm
>>> spec = ModelSpec(
...     name="toy",
...     files=("toy",),
...     build=lambda ev: pm.Model(),
...     outputs=lambda dt: {},
...     checks=lambda dt, ev: empty_checks(),
... )
>>> spec.name, spec.files, spec.version
('toy', ('toy',), '1')
>>> list(empty_checks().columns)
['target', 'observed', 'lower', 'upper', 'passed', 'source']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from decisionmodel.exceptions import UnknownModelError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pymc as pm
    import xarray as xr

    from decisionmodel.evidence.files import EvidenceFile

__all__ = [
    "CHECK_COLUMNS",
    "MODELS",
    "MODEL_MODULES",
    "ModelSpec",
    "UnknownModelError",
    "empty_checks",
    "get_spec",
    "load_models",
]

#: modules searched for ``SPECS`` (skipped when they do not exist)
MODEL_MODULES: tuple[str, ...] = (
    "decisionmodel.evidence.models.surgical_risk",
    "decisionmodel.evidence.models.intraoperative",
    "decisionmodel.evidence.models.tumour_kinetics",
    "decisionmodel.evidence.models.crlm_survival",
    "decisionmodel.evidence.models.systemic_survival",
)

#: columns of the frame returned by ``ModelSpec.checks``
CHECK_COLUMNS: tuple[str, ...] = ("target", "observed", "lower", "upper", "passed", "source")


@dataclass(frozen=True)
class ModelSpec:
    """One evidence synthesis: how to build it, what it yields, how to check it.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"surgical_risk"``; unique across :data:`MODELS`.
    files : tuple of str
        Evidence areas it reads, e.g. ``("surgical_risk",)``.
    build : callable
        ``build(evidence: Mapping[str, EvidenceFile]) -> pm.Model`` with named variables
        carrying coords/dims.
    outputs : callable
        ``outputs(dt: xr.DataTree) -> dict[str, xr.DataArray]``: tree-parameter name ->
        posterior draws with dims ``(chain, draw)``, derived from the posterior group.
    checks : callable
        ``checks(dt, evidence) -> pd.DataFrame``: one row per published number with the
        columns :data:`CHECK_COLUMNS`.
    version : str
        Bump when the model changes (part of the cache key).
    draws : int
        Kept draws per chain when the caller does not say (``fit(draws=None)``): a model
        whose posterior mixes slowly asks for more than the usual 1,000 here.
    sample_kwargs : mapping
        Further NUTS settings passed to :func:`pymc.sample` for this model, e.g.
        ``{"target_accept": 0.9}``; JSON-able values only (they are part of the cache
        key).
    profile_outputs : callable, optional
        ``profile_outputs(dt, covariates) -> dict[str, xr.DataArray]``: outputs that
        depend on a patient's covariates (e.g. a profile's hazard multiplier), over
        ``(chain, draw)`` like ``outputs``; an empty mapping means the pooled population.
        Tree parameters link to them as to any output (``posterior: MODEL.NAME``).
    """

    name: str
    files: tuple[str, ...]
    build: Callable[[Mapping[str, EvidenceFile]], pm.Model]
    outputs: Callable[[xr.DataTree], dict[str, xr.DataArray]]
    checks: Callable[[xr.DataTree, Mapping[str, EvidenceFile]], pd.DataFrame]
    version: str = "1"
    draws: int = 1000
    sample_kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    profile_outputs: Callable[[xr.DataTree, Mapping[str, Any]], dict[str, xr.DataArray]] | None = (
        None
    )


def empty_checks() -> pd.DataFrame:
    """An empty checks frame with the :data:`CHECK_COLUMNS` (for models without checks).

    Returns
    -------
    pandas.DataFrame
        No rows; the columns of :data:`CHECK_COLUMNS`, of dtype ``object``.

    Examples
    --------
    >>> len(empty_checks()), list(empty_checks().columns)[:2]
    (0, ['target', 'observed'])
    """
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CHECK_COLUMNS})


def load_models(modules: Iterable[str] = MODEL_MODULES) -> dict[str, ModelSpec]:
    """Collect the ``SPECS`` lists of the model modules that exist, keyed by name.

    Parameters
    ----------
    modules : iterable of str
        Module names; a module that does not exist is skipped (an import error raised
        *inside* an existing module propagates).

    Returns
    -------
    dict
        Name -> :class:`ModelSpec`, in module then list order.

    Raises
    ------
    UnknownModelError
        Two specs share a name.

    Examples
    --------
    >>> load_models(["decisionmodel.evidence.no_such_module"])
    {}
    """
    out: dict[str, ModelSpec] = {}
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name is not None and modname.startswith(exc.name):
                continue  # the module itself is absent (not one of its imports)
            raise
        for spec in getattr(mod, "SPECS", ()):
            if spec.name in out:
                raise UnknownModelError(
                    f"evidence model {spec.name!r} is defined twice ({modname})"
                )
            out[spec.name] = spec
    return out


def get_spec(name_or_spec: str | ModelSpec) -> ModelSpec:
    """The registered :class:`ModelSpec` of that name (a spec is returned as is).

    Parameters
    ----------
    name_or_spec : str or ModelSpec
        A name in :data:`MODELS`, or a spec (registered or not).

    Returns
    -------
    ModelSpec

    Raises
    ------
    UnknownModelError
        No model of that name; the message lists the known ones.

    Examples
    --------
    >>> get_spec("no_such_model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.UnknownModelError: unknown evidence model 'no_such_model' ...
    >>> get_spec("surgical_risk").files
    ('surgical_risk',)
    """
    if isinstance(name_or_spec, ModelSpec):
        return name_or_spec
    models = globals().get("MODELS")
    if models is None:
        models = __getattr__("MODELS")
    try:
        return models[name_or_spec]
    except KeyError:
        known = ", ".join(sorted(models)) or "none registered"
        raise UnknownModelError(
            f"unknown evidence model {name_or_spec!r} (known: {known})"
        ) from None


#: name -> ModelSpec, filled on first access by :func:`load_models`
MODELS: dict[str, ModelSpec]


def __getattr__(name: str) -> Any:
    # PEP 562: MODELS is built on first read, so the model modules (which import this
    # module for ModelSpec) are imported only once this module is complete.
    if name == "MODELS":
        models = load_models()
        globals()["MODELS"] = models
        return models
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
