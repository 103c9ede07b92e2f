"""Fit the evidence models: sample, check the diagnostics, cache the posterior.

:func:`fit` builds a registered model (:mod:`decisionmodel.evidence.registry`) on its
evidence files, samples it with NUTS, and refuses the result unless it passes the
**diagnostics gate**: R-hat ≤ 1.01, bulk and tail ESS ≥ 400 for every scalar element of
every posterior variable, and no divergent transition. Fits are cached on disk
(:mod:`decisionmodel.evidence.cache`), so the second call with the same evidence, model,
seed and settings reads the posterior back instead of sampling.

:func:`diagnostics` gives the table the gate is computed from; :func:`posterior_predictive`,
:func:`prior_predictive` and :func:`interval_check` are helpers for the models' ``checks``.

The chains of a fit run in as many processes (pymc) or threads (nutpie) as there are chains
and CPUs (one off the main thread with pymc); the environment variable ``DECISIONMODEL_FIT_CORES``
(:data:`FIT_CORES_ENV`, an integer >= 1) sets another number, e.g. 1 where forking is
unsafe (a test runner: the test suite sets it). It never changes the draws.

Examples
--------
>>> import numpy as np, xarray as xr
>>> rng = np.random.default_rng(0)
>>> post = xr.Dataset({"p": (("chain", "draw"), rng.beta(2, 8, size=(4, 500)))})
>>> dt = xr.DataTree.from_dict({"posterior": post})
>>> table = diagnostics(dt)
>>> list(table.columns)
['mean', 'sd', 'lower', 'upper', 'r_hat', 'ess_bulk', 'ess_tail', 'passed']
>>> bool(table.loc["p", "passed"]), table.attrs["divergences"]
(True, 0)
>>> row = interval_check("p mean", 0.2, post["p"], "Doe 2020")
>>> row["passed"], row["source"]
(True, 'Doe 2020')
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from decisionmodel.evidence import cache as _cache
from decisionmodel.evidence.files import EvidenceFile, load_all
from decisionmodel.evidence.outputs import posterior_outputs
from decisionmodel.evidence.registry import CHECK_COLUMNS, ModelSpec, get_spec
from decisionmodel.exceptions import (
    DiagnosticsError,
    EvidenceFileError,
    EvidenceModelError,
    MissingEvidenceError,
)
from decisionmodel.rng import RNGLike, base_seed, keyed_stream

__all__ = [
    "DEFAULT_SAMPLER",
    "DEFAULT_SEED",
    "MAX_RHAT",
    "MIN_ESS",
    "SAMPLERS",
    "SAMPLE_STATS_KEPT",
    "EvidenceDir",
    "check_diagnostics",
    "default_priors_dir",
    "diagnostics",
    "fit",
    "fit_all",
    "interval_check",
    "load_evidence_for",
    "model_rng",
    "posterior_predictive",
    "prior_predictive",
    "run_checks",
]

#: the samplers :func:`fit` accepts (``nuts_sampler`` of :func:`pymc.sample`)
SAMPLERS: tuple[str, ...] = ("pymc", "nutpie")
#: chosen by ``benchmarks/bench_evidence.py`` (see :func:`fit`)
DEFAULT_SAMPLER: Literal["pymc", "nutpie"] = "nutpie"
#: seed of ``decisionmodel evidence`` commands and of :func:`fit_all` when none is given
DEFAULT_SEED = 20261127
#: the gate: every R-hat at most this
MAX_RHAT = 1.01
#: the gate: every bulk and tail ESS at least this
MIN_ESS = 400.0
#: the gate's description, stored with each fit
GATE = f"r_hat<={MAX_RHAT}; ess_bulk>={MIN_ESS:g}; ess_tail>={MIN_ESS:g}; divergences=0"
_MAX_LISTED = 8  # failing variables listed per statistic in an error message
_log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- evidence


def default_priors_dir() -> Path:
    """The evidence files shipped with the package (:func:`decisionmodel.resources.priors_dir`).

    The working directory plays no part: a ``priors/`` directory there is not used
    unless it is passed explicitly (``evidence=`` or ``--priors DIR``).

    Returns
    -------
    pathlib.Path
        The absolute path of the package's ``priors`` directory.

    Examples
    --------
    >>> from decisionmodel.resources import priors_dir
    >>> d = default_priors_dir()
    >>> d.name, d == priors_dir(), d.is_absolute()
    ('priors', True, True)
    """
    from decisionmodel.resources import priors_dir

    return priors_dir()


_AREA_LINE = re.compile(r"^area:[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1[ \t]*(?:#.*)?$", re.M)


class EvidenceDir:
    """A directory of evidence files, parsed only when a model has to be built.

    A cached fit needs only the SHA-256 of the files a model reads, not their content, so
    :func:`fit` and :func:`fit_all` scan the directory for each file's top-level
    ``area:`` line and hash its bytes; the files are read and validated (with
    :func:`~decisionmodel.evidence.files.load_all`) the first time :meth:`files` is
    called, i.e. when something must be sampled. A file whose area cannot be found by
    the scan makes the whole directory be parsed at once.

    Parameters
    ----------
    directory : path-like
        The directory of ``*.yaml`` / ``*.yml`` evidence files (not read until
        :meth:`digests`, :meth:`paths` or :meth:`files` is called).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "x.yaml").write_text("area: risk\\ndescription: d\\nentries: []\\n")
    >>> ev = EvidenceDir(d)
    >>> list(ev.digests()), ev.digests()["risk"][:8]
    (['risk'], '43b36cc3')
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self._scan: dict[str, tuple[Path, str]] | None = None
        self._files: dict[str, EvidenceFile] | None = None

    def _scanned(self) -> dict[str, tuple[Path, str]]:
        if self._scan is None:
            if not self.directory.is_dir():
                raise EvidenceFileError(f"{self.directory}: no such directory")
            paths = sorted([*self.directory.glob("*.yaml"), *self.directory.glob("*.yml")])
            out: dict[str, tuple[Path, str]] = {}
            for path in paths:
                data = path.read_bytes()
                m = _AREA_LINE.search(data.decode("utf-8", errors="replace"))
                if m is None or m.group(2) in out:  # let the parser judge
                    self._scan = {a: (e.path, e.digest) for a, e in self.files().items()}
                    return self._scan
                out[m.group(2)] = (path, hashlib.sha256(data).hexdigest())
            self._scan = out
        return self._scan

    def digests(self) -> dict[str, str]:
        """Area -> SHA-256 of its file's bytes (the files are not parsed).

        Returns
        -------
        dict
            Area -> SHA-256 (64 hexadecimal characters), what
            :func:`~decisionmodel.evidence.cache.cache_key` takes in place of the parsed
            file.

        Raises
        ------
        EvidenceFileError
            The directory does not exist, or (when the scan cannot find an area) a file
            is invalid.
        """
        return {area: digest for area, (_, digest) in self._scanned().items()}

    def paths(self) -> dict[str, Path]:
        """Area -> file.

        Returns
        -------
        dict
            Area -> :class:`pathlib.Path` of its evidence file.

        Raises
        ------
        EvidenceFileError
            As for :meth:`digests`.
        """
        return {area: path for area, (path, _) in self._scanned().items()}

    def files(self) -> dict[str, EvidenceFile]:
        """Every file, read and validated (once).

        Returns
        -------
        dict
            Area -> :class:`~decisionmodel.evidence.files.EvidenceFile`, as
            :func:`~decisionmodel.evidence.files.load_all` returns (the same dict on
            later calls).

        Raises
        ------
        EvidenceFileError
            A file is invalid, or two files have the same area (see
            :func:`~decisionmodel.evidence.files.load_all`).
        """
        if self._files is None:
            self._files = load_all(self.directory)
        return self._files


EvidenceLike = Mapping[str, EvidenceFile] | EvidenceDir | str | os.PathLike | None


def _as_source(evidence: EvidenceLike) -> Mapping[str, EvidenceFile] | EvidenceDir:
    if evidence is None:
        return EvidenceDir(default_priors_dir())
    if isinstance(evidence, (str, os.PathLike)):
        return EvidenceDir(evidence)
    return evidence


def _missing(spec: ModelSpec, have: Iterable[str]) -> MissingEvidenceError | None:
    have = list(have)
    missing = [a for a in spec.files if a not in have]
    if not missing:
        return None
    return MissingEvidenceError(
        f"evidence model {spec.name!r} reads area(s) {', '.join(missing)}, "
        f"which are not among the evidence files supplied ({', '.join(sorted(have)) or 'none'})"
    )


def _digests_for(spec: ModelSpec, source: Mapping[str, EvidenceFile] | EvidenceDir) -> dict:
    """Area -> what the cache key uses for it (a digest, or the parsed file)."""
    if isinstance(source, EvidenceDir):
        digests = source.digests()
        err = _missing(spec, digests)
        if err is not None:
            raise err
        return {a: digests[a] for a in spec.files}
    return load_evidence_for(spec, source)


def load_evidence_for(spec: ModelSpec, evidence: EvidenceLike = None) -> dict[str, EvidenceFile]:
    """The evidence files a model reads (``spec.files``), keyed by area.

    Parameters
    ----------
    spec : ModelSpec
        The model; its ``files`` name the areas it reads.
    evidence : mapping, EvidenceDir, path-like or None
        Area -> :class:`EvidenceFile` (as :func:`~decisionmodel.evidence.load_all`
        returns), a directory of evidence files, or ``None`` for
        :func:`default_priors_dir`. A directory is parsed (and validated).

    Returns
    -------
    dict
        Area -> :class:`~decisionmodel.evidence.files.EvidenceFile`, for the areas of
        ``spec.files`` in their order.

    Raises
    ------
    MissingEvidenceError
        An area of ``spec.files`` is missing.
    EvidenceFileError
        A file of the directory is invalid.

    Examples
    --------
    >>> from decisionmodel.evidence.registry import get_spec
    >>> spec = get_spec("surgical_risk")
    >>> list(load_evidence_for(spec)) == list(spec.files)
    True
    """
    source = _as_source(evidence)
    files = source.files() if isinstance(source, EvidenceDir) else source
    err = _missing(spec, files)
    if err is not None:
        raise err
    return {a: files[a] for a in spec.files}


# ----------------------------------------------------------------------------- randomness


def _seed_from(rng: RNGLike) -> int:
    """The sampler's seed: one draw in [0, 2^31 - 1) from ``rng`` (samplers take 32-bit
    seeds)."""
    return base_seed(rng, high=2**31 - 1)


def model_rng(seed: int, name: str) -> np.random.Generator:
    """The generator :func:`fit_all` uses for one model: keyed by the seed and the model's
    name (:func:`decisionmodel.rng.keyed_stream`), so fitting one model alone gives the same
    posterior as fitting all of them.

    Parameters
    ----------
    seed : int
        The base seed of :func:`fit_all` (non-negative).
    name : str
        The model's name.

    Returns
    -------
    numpy.random.Generator
        ``keyed_stream(seed, name)``; :func:`fit` draws PyMC's ``random_seed`` from it.

    Examples
    --------
    >>> a = model_rng(1, "m").integers(1000)
    >>> b = model_rng(1, "m").integers(1000)
    >>> bool(a == b)
    True
    """
    return keyed_stream(seed, name)


#: environment variable: processes (pymc) or threads (nutpie) for the chains of a fit
#: when :func:`fit` is not given ``cores`` (an integer >= 1)
FIT_CORES_ENV = "DECISIONMODEL_FIT_CORES"


def _safe_cores(chains: int, sampler: str) -> int:
    """Processes (pymc) or threads (nutpie) used for the chains.

    :data:`FIT_CORES_ENV` when set (at most ``chains``); otherwise one outside the main
    thread with pymc (forking from a thread warns and can deadlock), else as many as
    chains, at most the CPUs this process may use.

    Raises
    ------
    EvidenceModelError
        :data:`FIT_CORES_ENV` is set to anything but an integer >= 1.
    """
    raw = os.environ.get(FIT_CORES_ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise EvidenceModelError(
                f"{FIT_CORES_ENV} {raw!r}: give the number of processes or threads for the "
                "chains (an integer >= 1)"
            )
        return min(n, chains)
    if threading.current_thread() is not threading.main_thread() and sampler == "pymc":
        return 1
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        ncpu = os.cpu_count() or 1
    return max(1, min(chains, ncpu))


# ----------------------------------------------------------------------------- diagnostics


def _divergences(dt: xr.DataTree) -> int:
    if "sample_stats" not in dt.children:
        return 0
    stats = dt["sample_stats"]
    if "diverging" not in stats.data_vars:
        return 0
    return int(np.asarray(stats["diverging"].values, dtype=bool).sum())


def diagnostics(dt: xr.DataTree, *, var_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Posterior summary and convergence diagnostics, one row per scalar element.

    Parameters
    ----------
    dt : xarray.DataTree
        A fit: a ``posterior`` group with dims ``chain``, ``draw`` (and a
        ``sample_stats`` group with ``diverging``, when sampled by NUTS).
    var_names : sequence of str, optional
        Posterior variables to include (default all).

    Returns
    -------
    pandas.DataFrame
        Indexed by variable (``mu``, ``theta[a]`` ...), with columns ``mean``, ``sd``,
        ``lower``/``upper`` (central 95% interval), ``r_hat``, ``ess_bulk``,
        ``ess_tail`` and ``passed`` (this row meets the gate; a variable constant across
        draws, whose R-hat is undefined, passes; "constant" allows an sd of rounding
        noise, at most 1e-12 times max(1, abs(mean))). ``attrs["divergences"]`` holds the
        number of divergent transitions.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.random.default_rng(1).normal(size=(2, 300))
    >>> x[1] += 3  # two chains that disagree
    >>> dt = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": (("chain", "draw"), x)})})
    >>> bool(diagnostics(dt).loc["x", "r_hat"] > 1.5)
    True
    """
    import arviz as az

    post = dt["posterior"].to_dataset()
    names = list(var_names) if var_names is not None else list(post.data_vars)
    cols = ["mean", "sd", "lower", "upper", "r_hat", "ess_bulk", "ess_tail", "passed"]
    if not names:
        out = pd.DataFrame(columns=cols)
    else:
        with np.errstate(all="ignore"):
            s = az.summary(
                dt, var_names=names, kind="all", ci_prob=0.95, ci_kind="eti", round_to="none"
            )
        out = pd.DataFrame(
            {
                "mean": s["mean"].astype(float),
                "sd": s["sd"].astype(float),
                "lower": s["eti95_lb"].astype(float),
                "upper": s["eti95_ub"].astype(float),
                "r_hat": s["r_hat"].astype(float),
                "ess_bulk": s["ess_bulk"].astype(float),
                "ess_tail": s["ess_tail"].astype(float),
            },
            index=s.index,
        )
        # constant across draws (a fixed Deterministic): R-hat is undefined (nan); its sd
        # may be rounding noise (~1e-16) rather than exactly 0
        constant = (out["sd"] <= 1e-12 * np.maximum(1.0, out["mean"].abs())) & np.isfinite(
            out["mean"]
        )
        ok = (
            (out["r_hat"] <= MAX_RHAT) & (out["ess_bulk"] >= MIN_ESS) & (out["ess_tail"] >= MIN_ESS)
        )
        out["passed"] = (ok | constant).astype(bool)
    out.index.name = "variable"
    out.attrs["divergences"] = _divergences(dt)
    return out


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else (f"{v:.4f}" if abs(v) < 10 else f"{v:.0f}")


def check_diagnostics(
    dt: xr.DataTree, name: str = "", table: pd.DataFrame | None = None
) -> DiagnosticsError | None:
    """The gate: ``None`` when the fit passes, else the :class:`DiagnosticsError` to raise.

    The message names the model and, per failing statistic, the variables and values
    (at most a few, then how many more).

    Parameters
    ----------
    dt : xarray.DataTree
        The fit.
    name : str
        The model's name, for the message (``""``: the message says "fit").
    table : pandas.DataFrame, optional
        Its :func:`diagnostics` table, when already computed (it is computed otherwise).

    Returns
    -------
    DiagnosticsError or None
        ``None`` when every row of the table passes and there is no divergence; else
        the error (not raised), with ``model``, ``failures`` (statistic, variable,
        value) and ``divergences``.

    See Also
    --------
    diagnostics : The table the gate is computed from.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.random.default_rng(1).normal(size=(4, 500))
    >>> stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 500), bool))})
    >>> stats["diverging"][0, :3] = True
    >>> dt = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": (("chain", "draw"), x)}),
    ...                             "sample_stats": stats})
    >>> print(check_diagnostics(dt, "toy"))  # doctest: +NORMALIZE_WHITESPACE
    evidence model 'toy' failed the diagnostics gate (r_hat<=1.01; ess_bulk>=400;
    ess_tail>=400; divergences=0): 3 divergent transitions. Reparameterise, sample longer
    (--draws/--tune), or accept it knowingly with accept_diagnostics=True (CLI
    --accept-diagnostics).
    """
    if table is None:
        table = diagnostics(dt)
    div = int(table.attrs.get("divergences", 0))
    failures: list[tuple[str, str, float]] = []
    parts: list[str] = []
    if div:
        parts.append(f"{div} divergent transition{'s' if div != 1 else ''}")
    bad = table[~table["passed"].astype(bool)]
    for stat, fails in (
        ("r_hat", lambda v: not v <= MAX_RHAT),
        ("ess_bulk", lambda v: not v >= MIN_ESS),
        ("ess_tail", lambda v: not v >= MIN_ESS),
    ):
        hits = [(str(var), float(v)) for var, v in bad[stat].items() if fails(float(v))]
        if not hits:
            continue
        failures.extend((stat, var, v) for var, v in hits)
        shown = ", ".join(f"{var}={_fmt(v)}" for var, v in hits[:_MAX_LISTED])
        more = f" and {len(hits) - _MAX_LISTED} more" if len(hits) > _MAX_LISTED else ""
        limit = f"> {MAX_RHAT}" if stat == "r_hat" else f"< {MIN_ESS:g}"
        parts.append(f"{stat} {limit}: {shown}{more}")
    if not parts:
        return None
    label = f"evidence model {name!r}" if name else "fit"
    msg = (
        f"{label} failed the diagnostics gate ({GATE}): {'; '.join(parts)}. "
        "Reparameterise, sample longer (--draws/--tune), or accept it knowingly with "
        "accept_diagnostics=True (CLI --accept-diagnostics)."
    )
    return DiagnosticsError(msg, model=name, failures=failures, divergences=div)


#: bump when the gate's computation changes, so that results stored with fits are redone
_GATE_VERSION = 2


def _gate_is_stale(dt: xr.DataTree) -> bool:
    return dt.attrs.get("gate") != GATE or dt.attrs.get("gate_version") != _GATE_VERSION


def _gate(dt: xr.DataTree, name: str) -> DiagnosticsError | None:
    """The gate, from the result stored in ``attrs`` when it was computed by this version
    of the gate (otherwise computed again, and the ``attrs`` refreshed)."""
    attrs = dt.attrs
    if _gate_is_stale(dt):
        _record_gate(dt, name)
    if int(attrs["diagnostics_passed"]):
        return None
    return DiagnosticsError(
        str(attrs.get("diagnostics_message", "")),
        model=name,
        failures=[tuple(f) for f in json.loads(attrs.get("diagnostics_failures", "[]"))],
        divergences=int(attrs.get("divergences", 0)),
    )


def _record_gate(dt: xr.DataTree, name: str) -> None:
    """Compute the gate and store its result, and the extreme R-hat and ESS, in ``attrs``."""
    table = diagnostics(dt)
    err = check_diagnostics(dt, name, table)
    dt.attrs["gate"] = GATE
    dt.attrs["gate_version"] = _GATE_VERSION
    dt.attrs["diagnostics_passed"] = int(err is None)
    dt.attrs["divergences"] = int(table.attrs["divergences"])
    dt.attrs["max_r_hat"] = float(table["r_hat"].max()) if len(table) else float("nan")
    ess = table[["ess_bulk", "ess_tail"]].to_numpy(dtype=float)
    dt.attrs["min_ess"] = (
        float(np.nanmin(ess)) if ess.size and np.isfinite(ess).any() else float("nan")
    )
    dt.attrs["diagnostics_message"] = "" if err is None else str(err)
    dt.attrs["diagnostics_failures"] = json.dumps([] if err is None else err.failures)


# ----------------------------------------------------------------------------- fitting


#: sample statistics kept with a fit (PyMC's and nutpie's names); the others (timings,
#: mass-matrix eigenvalues, per-divergence detail ...) are dropped before caching, as each
#: stored variable costs time when the cache is read
SAMPLE_STATS_KEPT: frozenset[str] = frozenset(
    {
        "diverging",
        "lp",
        "logp",
        "energy",
        "energy_error",
        "max_energy_error",
        "tree_depth",
        "depth",
        "n_steps",
        "step_size",
        "acceptance_rate",
        "mean_tree_accept",
        "reached_max_treedepth",
        "maxdepth_reached",
    }
)


def _trim(dt: xr.DataTree) -> xr.DataTree:
    """Drop unneeded sample statistics and empty groups (see :data:`SAMPLE_STATS_KEPT`)."""
    groups: dict[str, xr.Dataset] = {}
    for name, node in dt.children.items():
        ds = node.to_dataset()
        if name == "sample_stats":
            ds = ds[[v for v in ds.data_vars if v in SAMPLE_STATS_KEPT]]
        if ds.data_vars:
            groups[name] = ds
    out = xr.DataTree.from_dict(groups)
    out.attrs = dict(dt.attrs)
    return out


def _sample(
    spec: ModelSpec,
    evidence: Mapping[str, EvidenceFile],
    *,
    seed: int,
    draws: int,
    tune: int,
    chains: int,
    sampler: str,
    cores: int,
    progress: bool,
) -> xr.DataTree:
    import pymc as pm

    if sampler != "pymc" and importlib.util.find_spec(sampler) is None:
        raise EvidenceModelError(
            f"evidence model {spec.name!r}: the {sampler} sampler is not installed; "
            f"install it (pip install {sampler}) or pass sampler='pymc' (CLI --sampler pymc)"
        )
    model = spec.build(evidence)
    if not isinstance(model, pm.Model):
        raise EvidenceModelError(
            f"evidence model {spec.name!r}: build() returned {type(model).__name__}, not a pymc.Model"
        )
    # fast-math off: the same draws whether the compile cache is cold or warm (cache.py)
    with model, _cache.compile_flags():
        dt = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            nuts_sampler=sampler,
            progressbar=progress,
            quiet=not progress,
            compute_convergence_checks=False,
            **dict(spec.sample_kwargs),
        )
    if not isinstance(dt, xr.DataTree) or "posterior" not in dt.children:
        raise EvidenceModelError(
            f"evidence model {spec.name!r}: sampling returned no posterior group"
        )
    sizes = dt["posterior"].sizes
    if sizes.get("chain") != chains or sizes.get("draw") != draws:
        # nutpie answers Ctrl-C by returning the draws made so far: never keep (or cache)
        # such a fit, stop as the user asked
        raise KeyboardInterrupt(
            f"evidence model {spec.name!r}: sampling stopped after {sizes.get('draw', 0)} of "
            f"{draws} draws"
        )
    return dt


def fit(
    spec_or_name: ModelSpec | str,
    evidence: EvidenceLike = None,
    *,
    rng: RNGLike,
    draws: int | None = None,
    tune: int = 1000,
    chains: int = 4,
    sampler: Literal["pymc", "nutpie"] = DEFAULT_SAMPLER,
    accept_diagnostics: bool = False,
    cache: bool = True,
    refit: bool = False,
    progress: bool = False,
    cache_dir: str | os.PathLike | None = None,
    cores: int | None = None,
    require_outputs: Iterable[str] = (),
) -> xr.DataTree:
    """Fit one evidence model (or read its cached fit) and apply the diagnostics gate.

    Parameters
    ----------
    spec_or_name : ModelSpec or str
        The model, or its name in :data:`~decisionmodel.evidence.registry.MODELS`.
    evidence : mapping, EvidenceDir, path-like or None
        Area -> :class:`~decisionmodel.evidence.files.EvidenceFile`, a directory of
        evidence files, or ``None`` for the shipped evidence files (:func:`default_priors_dir`). Only
        the areas in ``spec.files`` are passed to ``spec.build``. A directory is parsed
        (and validated) only when the model must be sampled: a cache hit needs just the
        SHA-256 of the files (see :class:`EvidenceDir`).
    rng : numpy.random.Generator, numpy.random.SeedSequence or int
        One integer is drawn from it as PyMC's ``random_seed``
        (:func:`decisionmodel.rng.base_seed`; an int is the seed of a new generator). The
        same state gives the same posterior, and the same cache entry.
    draws : int, optional
        Kept draws per chain; by default the model's own ``spec.draws`` (1,000 unless
        the model asks for more, e.g. ``crlm_survival``: 2,000).
    tune, chains : int
        Tuning steps per chain, and chains. The model's further NUTS settings
        (``spec.sample_kwargs``, e.g. ``target_accept``) are always applied.
    sampler : {"pymc", "nutpie"}
        NUTS implementation, passed explicitly as ``nuts_sampler`` (PyMC would otherwise
        pick nutpie whenever it is installed). Default :data:`DEFAULT_SAMPLER` =
        ``"nutpie"``, chosen with ``benchmarks/bench_evidence.py``: see "Sampler" below.
        The sampler is part of the cache key: the two give different (equally valid)
        draws for the same seed.
    accept_diagnostics : bool
        Return a fit that fails the gate instead of raising; the failure stays recorded
        in ``attrs`` (``diagnostics_passed`` = 0, ``diagnostics_message``).
    cache : bool
        Read and write the on-disk cache (:mod:`decisionmodel.evidence.cache`).
    refit : bool
        Sample even when a cached fit exists (and overwrite it).
    progress : bool
        Show PyMC's progress bar and sampler messages.
    cache_dir : path-like, optional
        Cache directory (default :func:`decisionmodel.evidence.cache.cache_dir`).
    cores : int, optional
        Processes (pymc) or threads (nutpie) for the chains; by default
        ``$DECISIONMODEL_FIT_CORES`` (:data:`FIT_CORES_ENV`) when set, else as many as
        chains and CPUs allow, and 1 off the main thread with pymc. It does not change
        the draws, so it is not part of the cache key.
    require_outputs : iterable of str
        Outputs the caller will use (e.g. the tree's links): when the model must be
        sampled, a fit whose evidence cannot give one of them
        (:func:`~decisionmodel.evidence.requirements.missing_outputs`) is refused
        before sampling.

    Returns
    -------
    xarray.DataTree
        PyMC's result (``posterior``, ``sample_stats``, ``observed_data`` ...) with
        ``attrs``: ``model``, ``model_version``, ``seed``, ``sampler``, ``draws``,
        ``tune``, ``chains``, ``cache_key``, ``evidence`` (JSON: area -> sha256 of the
        file), ``evidence_files`` (JSON: area -> path), ``gate``,
        ``diagnostics_passed`` (1/0), ``divergences``, ``max_r_hat``, ``min_ess``,
        ``diagnostics_message``, ``fit_seconds`` and ``from_cache`` (1 when read from
        the cache).

    Raises
    ------
    DiagnosticsError
        Some R-hat > 1.01, bulk or tail ESS < 400, or a divergence (unless
        ``accept_diagnostics``); the message names the model, the variables and values.
        The fit is cached all the same, so asking again fails fast.
    MissingEvidenceError
        An area the model reads is not in ``evidence``, or its files lack the entries
        ``require_outputs`` need.
    UnknownModelError
        No model of that name.
    EvidenceModelError
        An unknown ``sampler`` (or one that is not installed), ``draws``, ``tune`` or
        ``chains`` not an integer in range, or a ``build`` that does not return a
        ``pymc.Model``.
    CacheError
        The cache directory is not writable (checked before sampling).

    See Also
    --------
    fit_all : Several models, with one seed.

    Notes
    -----
    **Sampler.** Both samplers run the same PyMC model (compiled by pytensor's Numba
    backend) and were timed with ``benchmarks/bench_evidence.py`` on the five models
    registered on 2026-11-27 (surgical_risk, intraoperative, tumour_kinetics,
    crlm_survival, systemic_survival; 4 chains after 1000 tuning steps, 1000 draws each,
    2000 for crlm_survival), cold (empty pytensor/numba compile directories and posterior
    cache) on the project's 2-core machine. Under load (load average near 4):

    ============  ===========  ========  ===============  ============
    sampler:jobs  cold (wall)  cold CPU  of which NUTS    warm (wall)
    ============  ===========  ========  ===============  ============
    pymc:1        328 s        168 s     106 s            (refitted)
    nutpie:1      230 s        119 s     10 s             (refitted)
    pymc:2        309 s        --        95 s             1.3 s
    nutpie:2      193 s        --        10 s             1.1 s
    ============  ===========  ========  ===============  ============

    nutpie samples about 10 times faster (its NUTS loop runs in Rust), so with it
    compilation is most of a cold fit; it is the faster in every configuration, and the
    default. On the idle machine (load average about 1), with crlm_survival at 2000
    draws: nutpie with two jobs (``fit_all(jobs=2)``, the CLI's default) 71 s cold for
    all five models (76 s for the whole process), one job 120 s; a warm load of all five
    0.8-0.9 s. "Refitted": the models' source files were being edited during those
    runs, which changed their cache keys.

    Examples
    --------
    Fitting takes seconds, so this example is not run:

    >>> import numpy as np
    >>> dt = fit("surgical_risk", rng=np.random.default_rng(1))  # doctest: +SKIP
    >>> dt.attrs["diagnostics_passed"]  # doctest: +SKIP
    1
    """
    spec = get_spec(spec_or_name)
    if draws is None:
        draws = spec.draws
    if sampler not in SAMPLERS:
        raise EvidenceModelError(
            f"unknown sampler {sampler!r} (choose one of {', '.join(SAMPLERS)})"
        )
    for label, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise EvidenceModelError(f"{label} must be an integer >= {low}, got {value!r}")
    source = _as_source(evidence)
    seed = _seed_from(rng)
    settings: dict[str, Any] = {
        "sampler": sampler,
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
    }
    key = _cache.cache_key(spec, _digests_for(spec, source), seed=seed, **settings)

    def cached() -> xr.DataTree | None:
        found = _cache.load(spec.name, key, cache_dir)
        if found is not None and not _usable(spec, found):
            found = None
        if found is not None:
            if _gate_is_stale(found):  # stored by an older gate: redo it once, store it
                _record_gate(found, spec.name)
                _store(found, spec.name, key, cache_dir)
            found.attrs["from_cache"] = 1
        return found

    dt = cached() if cache and not refit else None
    if dt is None:
        ev = load_evidence_for(spec, source)
        key = _cache.cache_key(spec, ev, seed=seed, **settings)  # from the parsed files
        _refuse_missing_outputs(spec, ev, require_outputs)
        if cache:  # refuse an unusable cache before the fit is paid for
            _cache.check_writable(cache_dir)
        with _cache.entry_lock(spec.name, key, cache_dir) if cache else contextlib.nullcontext():
            if cache and not refit:  # another process may have fitted it meanwhile
                dt = cached()
            if dt is None:
                dt = _fresh_fit(spec, ev, key, seed, settings, cores, progress)
                if cache:  # a refit must reproduce the entry it replaces
                    _store(dt, spec.name, key, cache_dir, check_conflict=refit)
                dt.attrs["from_cache"] = 0

    err = _gate(dt, spec.name)
    if err is not None and not accept_diagnostics:
        raise err
    return dt


def _refuse_missing_outputs(
    spec: ModelSpec, ev: Mapping[str, EvidenceFile], wanted: Iterable[str]
) -> None:
    from decisionmodel.evidence.requirements import missing_outputs

    missing = missing_outputs(spec.name, ev, wanted)
    if missing:
        files = ", ".join(sorted(str(e.path) for e in ev.values()))
        raise MissingEvidenceError(
            f"evidence model {spec.name!r} cannot give {', '.join(missing)}: {files} "
            "hold no entries for it (nothing was fitted)"
        )


def _usable(spec: ModelSpec, dt: xr.DataTree) -> bool:
    """Whether a cached fit yields the model's outputs (a forged or foreign entry whose
    checksums were made consistent may not); one that does not is refitted."""
    try:
        posterior_outputs(spec, dt)
    except Exception as exc:  # whatever the entry holds, it is not this model's fit
        _log.warning("evidence model %r: cached fit unusable (%s); refitting", spec.name, exc)
        return False
    return True


def _fresh_fit(
    spec: ModelSpec,
    ev: Mapping[str, EvidenceFile],
    key: str,
    seed: int,
    settings: Mapping[str, Any],
    cores: int | None,
    progress: bool,
) -> xr.DataTree:
    """Sample a model, trim the result and record its attributes and gate."""
    t0 = time.perf_counter()
    dt = _sample(
        spec,
        ev,
        seed=seed,
        cores=cores
        if cores is not None
        else _safe_cores(int(settings["chains"]), str(settings["sampler"])),
        progress=progress,
        **settings,
    )
    dt = _trim(dt)
    dt.attrs.update(
        {
            "model": spec.name,
            "model_version": str(spec.version),
            "seed": seed,
            **settings,
            "cache_key": key,
            "evidence": json.dumps({a: _cache.evidence_digest(e) for a, e in ev.items()}),
            "evidence_files": json.dumps({a: str(e.path) for a, e in ev.items()}),
            "fit_seconds": round(time.perf_counter() - t0, 3),
            "draws_sha256": _cache.draws_checksum(dt),
        }
    )
    _record_gate(dt, spec.name)
    return dt


def _store(
    dt: xr.DataTree,
    name: str,
    key: str,
    cache_dir: str | os.PathLike | None,
    *,
    check_conflict: bool = True,
) -> None:
    """Cache a fit. A write that fails (e.g. a full disk) loses nothing: the fit is still
    returned, with a warning, and the next run fits again. A conflicting entry
    (:class:`~decisionmodel.exceptions.CacheConflictError`) is raised."""
    try:
        _cache.save(dt, name, key, cache_dir, check_conflict=check_conflict)
    except OSError as exc:
        _log.warning(
            "evidence model %r: the fit could not be cached (%s); it is used uncached",
            name,
            exc.strerror or exc,
        )


def _build_id(spec: ModelSpec) -> str:
    build = spec.build
    return f"{getattr(build, '__module__', '')}:{getattr(build, '__qualname__', repr(build))}"


def _fit_in_worker(
    name: str,
    build_id: str,
    evidence: str | dict[str, str],
    seed: int,
    settings: dict[str, Any],
    refit: bool,
    require_outputs: tuple[str, ...] = (),
) -> str:
    """Run in a worker process by :func:`fit_all`: fit one registered model into the cache.

    ``evidence`` is a directory, or area -> file. Any failure is left for the parent,
    which fits the model again itself (and raises)."""
    from decisionmodel.evidence.files import load_evidence

    try:
        if _build_id(get_spec(name)) != build_id:
            return "the worker's registry holds another model of that name"
        if isinstance(evidence, dict):
            source: EvidenceLike = {a: load_evidence(p) for a, p in evidence.items()}
        else:
            source = evidence
        fit(
            name,
            source,
            rng=model_rng(seed, name),
            cores=1,
            refit=refit,
            accept_diagnostics=True,
            progress=False,
            require_outputs=require_outputs,
            **settings,
        )
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    except KeyboardInterrupt:  # let the worker end: the pool would go on with the next model
        os._exit(130)
    return ""


def _prefit_parallel(
    specs: Sequence[ModelSpec],
    source: Mapping[str, EvidenceFile] | EvidenceDir,
    seed: int,
    jobs: int,
    kwargs: Mapping[str, Any],
    require: Mapping[str, Iterable[str]] | None = None,
) -> set[str]:
    """Fit the uncached registered models in ``jobs`` worker processes (spawned, so no
    state is forked); returns the names fitted. Models that are not registered (a worker
    could not import them) or whose evidence is not in files are left to the caller."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    from decisionmodel.evidence import registry

    names = ("draws", "tune", "chains", "sampler", "cache_dir")
    settings = {k: kwargs[k] for k in names if k in kwargs}
    if settings.get("cache_dir") is not None:
        settings["cache_dir"] = str(settings["cache_dir"])
    refit = bool(kwargs.get("refit", False))
    todo: list[tuple[ModelSpec, str | dict[str, str]]] = []
    for spec in specs:
        if registry.MODELS.get(spec.name) is not spec:
            continue
        digests = _digests_for(spec, source)
        if isinstance(source, EvidenceDir):
            where: str | dict[str, str] = str(source.directory)
        else:
            ev = load_evidence_for(spec, source)
            if not all(e.path.is_file() and e.digest for e in ev.values()):
                continue
            where = {a: str(e.path) for a, e in ev.items()}
        if not refit:
            key = _cache.cache_key(
                spec,
                digests,
                seed=_seed_from(model_rng(seed, spec.name)),
                sampler=settings.get("sampler", DEFAULT_SAMPLER),
                draws=int(settings.get("draws") or spec.draws),
                tune=int(settings.get("tune", 1000)),
                chains=int(settings.get("chains", 4)),
            )
            if _cache.has(spec.name, key, settings.get("cache_dir")):
                continue
        todo.append((spec, where))
    if len(todo) < 2:
        return set()
    _cache.check_writable(settings.get("cache_dir"))  # before any worker is started
    done: set[str] = set()
    pool = None
    try:
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=get_context("spawn")
        )
        futures = {
            spec.name: pool.submit(
                _fit_in_worker,
                spec.name,
                _build_id(spec),
                where,
                seed,
                settings,
                refit,
                tuple((require or {}).get(spec.name, ())),
            )
            for spec, where in todo
        }
        for name, future in futures.items():
            if future.result() == "":
                done.add(name)
    except (BrokenProcessPool, OSError):
        pass  # the caller fits what is missing, one by one
    except BaseException:  # Ctrl-C (or any error here): stop the workers now, not after
        if pool is not None:
            _stop_workers(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return done


def _stop_workers(pool: Any) -> None:
    """Cancel what has not started and terminate the worker processes of ``pool`` (a
    worker that was fitting leaves no cache entry: writes are atomic)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(5)


def fit_all(
    names: Iterable[str | ModelSpec] | None = None,
    evidence: EvidenceLike = None,
    *,
    seed: int = DEFAULT_SEED,
    jobs: int = 1,
    on_fit: Any = None,
    require: Mapping[str, Iterable[str]] | None = None,
    **kwargs: Any,
) -> dict[str, xr.DataTree]:
    """Fit several models (default: all of :data:`~decisionmodel.evidence.registry.MODELS`).

    Each model gets its own generator :func:`model_rng` ``(seed, name)``, so a model's
    posterior (and cache entry) does not depend on which other models are fitted, nor
    on ``jobs``. An evidence directory is scanned once and parsed at most once.

    Parameters
    ----------
    names : iterable of str or ModelSpec, optional
        The models, by name in :data:`~decisionmodel.evidence.registry.MODELS` or as
        specs (default: every registered model).
    evidence : mapping, EvidenceDir, path-like or None
        As for :func:`fit`.
    seed : int
        Base seed.
    jobs : int
        Models fitted at the same time, each in its own process (with its chains run
        one after the other). Compilation is single-threaded, so on a machine with free
        cores this is the way to cut the cold time; ``1`` (default) fits in this
        process. Needs the cache (the workers hand their fits over through it) and
        registered models; others are fitted here.
    on_fit : callable, optional
        ``on_fit(name, dt, seconds)`` after each model.
    require : mapping, optional
        Model name -> outputs the caller will use (``require_outputs`` of :func:`fit`).
    **kwargs
        Passed to :func:`fit` (``draws``, ``sampler``, ``cache_dir``, ``refit`` ...).

    Returns
    -------
    dict
        Name -> fit, in the order of ``names``. A fit made in a worker has
        ``attrs["from_cache"] == 0`` like any fresh fit.

    Raises
    ------
    DiagnosticsError, MissingEvidenceError, UnknownModelError, EvidenceModelError
        As for :func:`fit`, for the first model that fails.

    See Also
    --------
    fit : One model.
    model_rng : The generator of each model.
    """
    from decisionmodel.evidence import registry

    specs = [get_spec(n) for n in (registry.MODELS.values() if names is None else names)]
    source = _as_source(evidence)  # a directory is parsed only if something must be sampled
    prefitted: set[str] = set()
    if jobs > 1 and kwargs.get("cache", True):
        prefitted = _prefit_parallel(specs, source, seed, jobs, kwargs, require)
    out: dict[str, xr.DataTree] = {}
    for spec in specs:
        t0 = time.perf_counter()
        extra = {"refit": False} if spec.name in prefitted else {}
        dt = fit(
            spec,
            source,
            rng=model_rng(seed, spec.name),
            require_outputs=tuple((require or {}).get(spec.name, ())),
            **{**kwargs, **extra},
        )
        if spec.name in prefitted:
            dt.attrs["from_cache"] = 0
        out[spec.name] = dt
        if on_fit is not None:
            on_fit(spec.name, dt, time.perf_counter() - t0)
    return out


# ----------------------------------------------------------------------------- predictive checks


def _seed_of(dt: xr.DataTree | None, random_seed: int | None) -> int | None:
    if random_seed is not None:
        return int(random_seed)
    if dt is not None and "seed" in dt.attrs:
        return (int(dt.attrs["seed"]) + 1) % (2**31 - 1)
    return None


def posterior_predictive(
    model: Any,
    dt: xr.DataTree,
    *,
    var_names: Sequence[str] | None = None,
    random_seed: int | None = None,
    thin: int = 1,
) -> xr.DataTree:
    """Posterior predictive draws of a fitted model.

    Parameters
    ----------
    model : pymc.Model
        The model as ``build`` returns it (e.g. ``build(evidence)`` inside ``checks``).
    dt : xarray.DataTree
        The fit.
    var_names : sequence of str, optional
        Variables to draw (default: the observed ones).
    random_seed : int, optional
        Default: derived from the fit's seed, so the checks are reproducible.
    thin : int
        Use every ``thin``-th draw (speed).

    Returns
    -------
    xarray.DataTree
        With a ``posterior_predictive`` group (dims ``chain``, ``draw``, ...).

    See Also
    --------
    prior_predictive : The same from the priors.
    interval_check : One row of a checks table from such draws.
    """
    import pymc as pm

    post = dt["posterior"].to_dataset()
    if thin > 1:
        post = post.isel(draw=slice(None, None, thin))
    with model:
        return pm.sample_posterior_predictive(
            xr.DataTree.from_dict({"posterior": post}),
            var_names=list(var_names) if var_names is not None else None,
            random_seed=_seed_of(dt, random_seed),
            progressbar=False,
        )


def prior_predictive(
    model: Any,
    *,
    draws: int = 500,
    var_names: Sequence[str] | None = None,
    random_seed: int | None = None,
) -> xr.DataTree:
    """Prior (and prior predictive) draws of a model, e.g. to check that the priors
    alone do not already contradict the published numbers.

    Parameters
    ----------
    model : pymc.Model
        The model as ``build`` returns it.
    draws : int
        Number of draws.
    var_names : sequence of str, optional
        Variables to draw (default: all).
    random_seed : int, optional
        Seed of the draws (default: not seeded).

    Returns
    -------
    xarray.DataTree
        With ``prior`` and ``prior_predictive`` groups.

    See Also
    --------
    posterior_predictive : The same from a fit's posterior.
    """
    import pymc as pm

    with model:
        return pm.sample_prior_predictive(
            draws=draws,
            var_names=list(var_names) if var_names is not None else None,
            random_seed=random_seed,
        )


def interval_check(
    target: str,
    observed: float,
    replicated: Any,
    source: str,
    *,
    prob: float = 0.95,
) -> dict[str, Any]:
    """One row of a checks table: is a published number inside the central ``prob``
    interval of its replicated (posterior or posterior predictive) draws?

    Parameters
    ----------
    target : str
        What is checked, e.g. ``"90-day mortality, hepatectomy (Doe 2020)"``.
    observed : float
        The published number.
    replicated : array-like or xarray.DataArray
        Draws of the same quantity (all dims are flattened).
    source : str
        Citation of the published number (e.g. the evidence entry's id and citation).
    prob : float
        Interval probability.

    Returns
    -------
    dict
        Keys ``target``, ``observed``, ``lower``, ``upper``, ``passed``, ``source`` (the
        :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS`).

    Examples
    --------
    >>> import numpy as np
    >>> r = interval_check("x", 5.0, np.arange(101), "Doe 2020", prob=0.9)
    >>> round(r["lower"], 6), round(r["upper"], 6), r["passed"]
    (5.0, 95.0, True)
    """
    values = np.asarray(getattr(replicated, "values", replicated), dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        lower = upper = float("nan")
    else:
        lower, upper = (float(q) for q in np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2]))
    return {
        "target": target,
        "observed": float(observed),
        "lower": lower,
        "upper": upper,
        "passed": bool(lower <= float(observed) <= upper),
        "source": source,
    }


def run_checks(
    spec_or_name: ModelSpec | str,
    dt: xr.DataTree,
    evidence: EvidenceLike = None,
) -> pd.DataFrame:
    """A model's predictive checks, validated: the columns of
    :data:`~decisionmodel.evidence.registry.CHECK_COLUMNS` (plus ``model`` first) and
    ``passed`` as bool.

    Parameters
    ----------
    spec_or_name : ModelSpec or str
        The model, or its name in :data:`~decisionmodel.evidence.registry.MODELS`.
    dt : xarray.DataTree
        Its fit.
    evidence : mapping, EvidenceDir, path-like or None
        As for :func:`fit`; the model's ``checks`` receives the files it reads
        (:func:`load_evidence_for`).

    Returns
    -------
    pandas.DataFrame
        One row per check: ``model``, then the columns of ``CHECK_COLUMNS`` (``target``,
        ``observed``, ``lower``, ``upper``, ``passed``, ``source``), with a fresh
        integer index.

    Raises
    ------
    EvidenceModelError
        ``checks`` returned something else than a frame with those columns.
    MissingEvidenceError
        An area the model reads is not in ``evidence``.
    UnknownModelError
        No model of that name.
    """
    spec = get_spec(spec_or_name)
    ev = load_evidence_for(spec, evidence)
    table = spec.checks(dt, ev)
    if not isinstance(table, pd.DataFrame):
        raise EvidenceModelError(
            f"evidence model {spec.name!r}: checks() returned {type(table).__name__}, not a DataFrame"
        )
    missing = [c for c in CHECK_COLUMNS if c not in table.columns]
    if missing:
        raise EvidenceModelError(
            f"evidence model {spec.name!r}: checks() lacks column(s) {', '.join(missing)}"
        )
    table = table.loc[:, list(CHECK_COLUMNS)].copy()
    table["passed"] = table["passed"].astype(bool)
    table.insert(0, "model", spec.name)
    return table.reset_index(drop=True)
