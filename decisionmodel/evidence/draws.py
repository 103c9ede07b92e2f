"""Parameter draws for the decision tree from the evidence models' posteriors.

:func:`parameter_draws` turns fitted posteriors into the engine's parameter sample (an
:class:`xarray.Dataset` with one variable per parameter over ``sample``, the layout of
:func:`decisionmodel.sample_parameters` and :func:`decisionmodel.evaluate`):

1. each model's ``outputs(dt)`` gives tree-parameter name -> draws over
   ``(chain, draw)``; these are stacked chain-major into ``sample`` = 0..S-1, so that
   all parameters of one model keep their joint draws (their correlation);
2. models are merged with exact alignment on ``sample``: when every posterior has the
   same S (and no ``n`` is asked), draw ``i`` of every model is kept as draw ``i``;
   otherwise each model is resampled to the common size (see ``n``);
3. parameters declared directly (``direct``, e.g. a tree's ``graph["parameters"]``) that
   no posterior supplies are drawn with :func:`decisionmodel.sample_parameters` for the
   same ``sample``.

Examples
--------
>>> import numpy as np, xarray as xr, pymc as pm
>>> from decisionmodel.evidence.registry import ModelSpec, empty_checks
>>> spec = ModelSpec("m", ("a",), lambda ev: pm.Model(),
...                  lambda dt: {"p_x": dt["posterior"]["p"]}, lambda dt, ev: empty_checks())
>>> post = xr.Dataset({"p": (("chain", "draw"), np.arange(6.0).reshape(2, 3))})
>>> dt = xr.DataTree.from_dict({"posterior": post})
>>> ds = parameter_draws({spec: dt}, direct={"c": {"value": 10}}, rng=1)
>>> ds["p_x"].values.tolist(), ds["c"].values.tolist()
([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 10.0, 10.0, 10.0, 10.0, 10.0])
>>> parameter_draws({spec: dt}, n=10, rng=1).sizes["sample"]
10
>>> parameter_draws({spec: dt}, rng=None)
Traceback (most recent call last):
...
TypeError: rng is required: pass a numpy.random.Generator, a SeedSequence or an int seed (e.g. rng=1)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import xarray as xr

from decisionmodel.evidence.fit import DEFAULT_SEED, fit_all
from decisionmodel.evidence.outputs import flat_outputs, posterior_outputs
from decisionmodel.evidence.registry import ModelSpec, get_spec
from decisionmodel.exceptions import ParameterDrawsError
from decisionmodel.params import parameter_specs, sample_parameters
from decisionmodel.rng import RNGLike, as_generator, base_seed, keyed_stream

__all__ = ["flat_outputs", "parameter_draws", "posterior_outputs", "resample_index"]


def resample_index(size: int, n: int, rng: RNGLike) -> np.ndarray:
    """Indices into ``size`` draws giving ``n`` draws.

    ``n <= size``: a random subset without replacement. ``n > size``: with replacement,
    balanced — every draw is used ``n // size`` or ``n // size + 1`` times (which
    ones get the extra use is random) — in random order. This is how
    :func:`parameter_draws` resamples.

    Examples
    --------
    >>> import numpy as np
    >>> idx = resample_index(3, 7, np.random.default_rng(0))
    >>> sorted(np.bincount(idx, minlength=3).tolist())
    [2, 2, 3]
    >>> len(set(resample_index(10, 4, np.random.default_rng(0)).tolist()))
    4
    """
    rng = as_generator(rng)
    if n <= size:
        return rng.choice(size, size=n, replace=False)
    reps, rest = divmod(n, size)
    idx = np.concatenate([np.tile(np.arange(size), reps), rng.choice(size, rest, replace=False)])
    return rng.permutation(idx)


def _direct_specs(
    direct: nx.DiGraph | Mapping[str, Any], supplied: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    specs = parameter_specs(direct)
    keep: dict[str, dict[str, Any]] = {}
    for name, spec in specs.items():
        names = spec["names"] if spec["distribution"] == "dirichlet" else [name]
        covered = [x for x in names if x in supplied]
        if not covered:
            keep[name] = spec
        elif len(covered) != len(names):
            raise ParameterDrawsError(
                f"parameter {name!r}: the Dirichlet components {', '.join(covered)} come from "
                f"evidence model(s) {', '.join(sorted({supplied[x] for x in covered}))} but "
                f"{', '.join(x for x in names if x not in supplied)} do not; supply all or none"
            )
    return keep


def parameter_draws(
    posteriors: Mapping[str | ModelSpec, xr.DataTree] | None = None,
    *,
    rng: RNGLike,
    n: int | None = None,
    direct: nx.DiGraph | Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    **fit_kwargs: Any,
) -> xr.Dataset:
    """The parameter sample of the decision tree: posterior outputs plus direct priors.

    Parameters
    ----------
    posteriors : mapping, optional
        Model (name in :data:`~decisionmodel.evidence.registry.MODELS`, or a
        :class:`~decisionmodel.evidence.registry.ModelSpec`) -> its fit. By default
        every registered model is fitted (or read from the cache) with
        :func:`~decisionmodel.evidence.fit.fit_all` (``seed`` and ``fit_kwargs`` are
        passed to it).
    n : int, optional
        Number of draws wanted. By default the posteriors' common size S (chains ×
        draws), or the smallest S when the models differ. A model with exactly ``n``
        draws is kept as it is; one with more is subsampled without replacement; one
        with fewer is resampled **with replacement** (balanced: each draw used
        ``n // S`` or ``n // S + 1`` times, see :func:`resample_index`). Each model is
        resampled with its own index (models are independent), all outputs of one model
        with the same index (their joint distribution is kept). Required when there are
        no posteriors.
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        Randomness for the resampling and the direct draws (required; see
        :func:`decisionmodel.rng.as_generator`). Each model and the direct draws get their
        own stream, keyed by the model's name under one base seed drawn from ``rng``
        (:func:`decisionmodel.rng.keyed_stream`).
    direct : networkx.DiGraph or mapping, optional
        Parameter declarations (a tree, whose ``graph["parameters"]`` is used, or the
        declarations themselves); those that a posterior supplies are skipped, the rest
        are drawn with :func:`decisionmodel.sample_parameters`.

    Returns
    -------
    xarray.Dataset
        One variable per parameter over ``sample`` (coordinate 0..n-1). A posterior
        output's ``attrs`` carry ``source`` ("evidence model NAME (version V)"), ``model``
        and ``cache_key``; the Dataset's ``attrs["posteriors"]`` (JSON) records each
        model's size and whether it was resampled.

    Raises
    ------
    ParameterDrawsError
        Two models supply the same parameter, an output is not over ``(chain, draw)``,
        ``n`` is not a positive integer (or missing with no posteriors), or a Dirichlet
        group is only partly supplied.

    Examples
    --------
    >>> import numpy as np, xarray as xr, pymc as pm
    >>> from decisionmodel.evidence.registry import ModelSpec, empty_checks
    >>> def spec(name, out):
    ...     return ModelSpec(name, (), lambda ev: pm.Model(),
    ...                      lambda dt: {out: dt["posterior"]["p"]}, lambda dt, ev: empty_checks())
    >>> def post(size):
    ...     p = np.arange(float(size)).reshape(1, size)
    ...     return xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), p)})})
    >>> ds = parameter_draws({spec("a", "x"): post(4), spec("b", "y"): post(6)}, rng=1)
    >>> ds.sizes["sample"]  # the smallest size, the larger model subsampled
    4
    >>> parameter_draws({spec("a", "x"): post(4), spec("b", "x"): post(4)}, rng=1)
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.ParameterDrawsError: parameter 'x' is supplied by evidence models 'a' and 'b'
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ParameterDrawsError(f"n must be a positive integer, got {n!r}")
    gen = as_generator(rng)
    if posteriors is None:
        posteriors = fit_all(seed=seed, **fit_kwargs)

    owner: dict[str, str] = {}
    per_model: list[tuple[ModelSpec, xr.DataTree, dict[str, np.ndarray], int]] = []
    for key, dt in posteriors.items():
        spec = get_spec(key)
        flat = posterior_outputs(spec, dt)
        for name in flat:
            if name in owner:
                raise ParameterDrawsError(
                    f"parameter {name!r} is supplied by evidence models {owner[name]!r} and {spec.name!r}"
                )
            owner[name] = spec.name
        size = next(iter(flat.values())).size if flat else 0  # a model without outputs
        per_model.append((spec, dt, flat, int(size)))

    sizes = [size for *_, size in per_model if size > 0]
    if n is None:
        if not sizes:
            raise ParameterDrawsError("n is required when no posterior supplies draws")
        n = min(sizes)
    n = int(n)

    base = base_seed(gen)
    data: dict[str, xr.DataArray] = {}
    record: dict[str, dict[str, Any]] = {}
    for spec, dt, flat, size in per_model:
        resampled = size != n
        idx = resample_index(size, n, keyed_stream(base, spec.name)) if resampled and size else None
        attrs = {
            "source": f"evidence model {spec.name} (version {spec.version})",
            "model": spec.name,
            "cache_key": str(dt.attrs.get("cache_key", "")),
        }
        for name, values in flat.items():
            data[name] = xr.DataArray(
                values if idx is None else values[idx], dims="sample", attrs=attrs
            )
        record[spec.name] = {"draws": size, "resampled": idx is not None}

    if direct is not None:
        specs = _direct_specs(direct, owner)
        if specs:
            ds_direct = sample_parameters(specs, n, keyed_stream(base, "\0direct"))
            for name, da in ds_direct.data_vars.items():
                data[str(name)] = da.drop_vars("sample")
    out = xr.Dataset(data, coords={"sample": np.arange(n)})
    out.attrs["posteriors"] = json.dumps(record)
    return out
