"""On-disk cache of evidence-model posteriors.

A fitted posterior (an :class:`xarray.DataTree`) is stored as NetCDF (``h5netcdf``
engine; no pickle) under a name made of the model's name and its **cache key**: the
SHA-256 of a canonical JSON document holding

* the model's name and ``version``, and the SHA-256 of the source text of the module
  defining its ``build`` function (so editing the model invalidates its posteriors);
* the SHA-256 of the bytes of each evidence file the model reads (``spec.files``);
* the seed and the sampler settings (sampler, draws, tune, chains) and the versions of
  PyMC and of the sampler.

Writes are atomic: the file is written to a temporary file in the cache directory and
moved into place with :func:`os.replace`, so a reader sees either the old file or the
complete new one. Each ``<name>-<key>.nc`` has a sidecar ``<name>-<key>.json`` holding the
full key and the SHA-256 of the NetCDF bytes; :func:`load` returns ``None`` (and the
caller refits) when the sidecar is missing, the key differs, the checksum does not match
(a truncated or corrupted file) or the file cannot be read.

Location (first that applies): the ``directory`` argument; the ``DECISIONMODEL_CACHE``
environment variable; on Linux ``$XDG_CACHE_HOME/decisionmodel`` or
``~/.cache/decisionmodel``; on macOS ``~/Library/Caches/decisionmodel``; on Windows
``%LOCALAPPDATA%\\decisionmodel\\Cache``.

Examples
--------
>>> import tempfile, numpy as np, xarray as xr
>>> d = tempfile.mkdtemp()
>>> dt = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), np.ones((1, 3)))})})
>>> path = save(dt, "toy", "ab" * 32, directory=d)
>>> path.name
'toy-abababababababababab.nc'
>>> float(load("toy", "ab" * 32, directory=d)["posterior"]["p"].sum())
3.0
>>> _ = path.write_bytes(path.read_bytes()[:100])   # truncate it
>>> load("toy", "ab" * 32, directory=d) is None
True
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import inspect
import json
import logging
import marshal
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

if TYPE_CHECKING:  # pragma: no cover - typing only
    from decisionmodel.evidence.files import EvidenceFile
    from decisionmodel.evidence.registry import ModelSpec

__all__ = [
    "CACHE_ENV",
    "CACHE_FORMAT",
    "cache_dir",
    "cache_key",
    "cache_paths",
    "clear",
    "evidence_digest",
    "has",
    "key_document",
    "load",
    "save",
    "source_digest",
]

_log = logging.getLogger(__name__)

#: environment variable overriding the cache directory
CACHE_ENV = "DECISIONMODEL_CACHE"
#: bump when the layout of cached files changes
CACHE_FORMAT = 1
_KEY_CHARS = 20  # characters of the key used in file names (the sidecar holds all 64)


def cache_dir(directory: str | os.PathLike | None = None) -> Path:
    """The directory holding cached posteriors (not created here).

    Parameters
    ----------
    directory : path-like, optional
        Overrides everything else.

    Returns
    -------
    pathlib.Path
        ``directory``, else ``$DECISIONMODEL_CACHE``, else the platform's user cache
        directory for ``decisionmodel`` (``platformdirs.user_cache_dir``; see the module
        docstring).

    Examples
    --------
    >>> cache_dir("/tmp/dm-cache").as_posix()
    '/tmp/dm-cache'
    """
    if directory is not None:
        return Path(directory).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    # appauthor=False: no author level on Windows (%LOCALAPPDATA%\decisionmodel\Cache)
    return Path(user_cache_dir("decisionmodel", appauthor=False))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(func: Any) -> str:
    """SHA-256 of the source text of the module defining ``func``.

    Falls back to the function's own source, then to its bytecode, when the module's
    source is not available (e.g. defined interactively). The digest is computed once
    per function object and process, so it describes the code this process runs even if
    the file is edited afterwards (a reloaded module has new function objects, and gets a
    new digest).

    Examples
    --------
    >>> len(source_digest(source_digest))
    64
    """
    memo = _SOURCE_MEMO.get(id(func))
    if memo is not None and memo[0] is func:
        return memo[1]
    digest = _source_digest(func)
    _SOURCE_MEMO[id(func)] = (func, digest)
    return digest


_SOURCE_MEMO: dict[int, tuple[Any, str]] = {}


def _source_digest(func: Any) -> str:
    target = inspect.unwrap(func)
    target = getattr(target, "func", target)  # functools.partial
    module = inspect.getmodule(target)
    for obj in (module, target):
        if obj is None:
            continue
        try:
            return _sha256(inspect.getsource(obj).encode("utf-8"))
        except (OSError, TypeError):
            continue
    code = getattr(target, "__code__", None)
    if code is not None:
        return _sha256(marshal.dumps(code))
    return _sha256(repr(target).encode("utf-8"))


def evidence_digest(ev: EvidenceFile) -> str:
    """SHA-256 of an evidence file's bytes (its ``digest``), or of its entries when the
    file was built in memory without one."""
    if ev.digest:
        return ev.digest
    doc = {"area": ev.area, "entries": ev.entries}
    return _sha256(json.dumps(doc, sort_keys=True, default=str).encode("utf-8"))


def _digest_of(ev: EvidenceFile | str) -> str:
    return ev if isinstance(ev, str) else evidence_digest(ev)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def key_document(
    spec: ModelSpec,
    evidence: Mapping[str, EvidenceFile | str],
    *,
    seed: int,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
) -> dict[str, Any]:
    """The JSON-able document whose SHA-256 is the cache key (see :func:`cache_key`)."""
    return {
        "format": CACHE_FORMAT,
        "model": spec.name,
        "version": str(spec.version),
        "source": source_digest(spec.build),
        "evidence": {area: _digest_of(evidence[area]) for area in spec.files},
        "seed": int(seed),
        "sampler": sampler,
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "pymc": _version("pymc"),
        # the compiled log density (and so the draws) can change with these
        "pytensor": _version("pytensor"),
        "numba": _version("numba"),
        "sampler_version": _version(sampler) if sampler != "pymc" else _version("pymc"),
        # only when set, so that models without extra settings keep their keys
        **({"sample_kwargs": dict(spec.sample_kwargs)} if spec.sample_kwargs else {}),
    }


def cache_key(
    spec: ModelSpec,
    evidence: Mapping[str, EvidenceFile | str],
    *,
    seed: int,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
) -> str:
    """SHA-256 (hex) identifying one fit: evidence bytes, model version and source, seed,
    sampler settings.

    ``evidence`` maps each area of ``spec.files`` to its
    :class:`~decisionmodel.evidence.files.EvidenceFile` or directly to the SHA-256 of
    the file's bytes (the same thing, without parsing the file).

    Examples
    --------
    >>> import pymc as pm
    >>> from decisionmodel.evidence.registry import ModelSpec, empty_checks
    >>> from decisionmodel.evidence.files import EvidenceFile
    >>> from pathlib import Path
    >>> spec = ModelSpec("toy", ("a",), lambda ev: pm.Model(), lambda dt: {},
    ...                  lambda dt, ev: empty_checks())
    >>> ev = {"a": EvidenceFile(Path("a.yaml"), "a", "", {}, digest="0" * 64)}
    >>> k1 = cache_key(spec, ev, seed=1, sampler="pymc", draws=10, tune=10, chains=2)
    >>> k2 = cache_key(spec, ev, seed=2, sampler="pymc", draws=10, tune=10, chains=2)
    >>> len(k1), k1 == k2
    (64, False)
    """
    doc = key_document(
        spec, evidence, seed=seed, sampler=sampler, draws=draws, tune=tune, chains=chains
    )
    return _sha256(json.dumps(doc, sort_keys=True).encode("utf-8"))


def cache_paths(
    name: str, key: str, directory: str | os.PathLike | None = None
) -> tuple[Path, Path]:
    """The NetCDF file and its JSON sidecar for one model and key."""
    base = cache_dir(directory) / f"{name}-{key[:_KEY_CHARS]}"
    return base.with_name(base.name + ".nc"), base.with_name(base.name + ".json")


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then move it into
    place; on any failure the temporary file is removed and ``path`` is untouched."""
    # like tempfile.mkstemp, but with the mode of a normal file (0666 less the umask)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _netcdf_safe(dt: xr.DataTree) -> xr.DataTree:
    """A copy whose attributes NetCDF can store (bools -> int, None -> dropped, other
    non-scalars -> JSON text)."""
    out = dt.copy()
    for node in out.subtree:
        clean: dict[str, Any] = {}
        for k, v in node.attrs.items():
            if v is None:
                continue
            if isinstance(v, bool):
                clean[k] = int(v)
            elif isinstance(v, (str, int, float)) or (
                isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)
            ):
                clean[k] = v
            else:
                try:
                    clean[k] = json.dumps(v, default=str)
                except (TypeError, ValueError):
                    clean[k] = str(v)
        node.attrs = clean
    return out


def save(
    dt: xr.DataTree,
    name: str,
    key: str,
    directory: str | os.PathLike | None = None,
) -> Path:
    """Store a posterior atomically; returns the path of the NetCDF file.

    The NetCDF file is moved into place first and its sidecar (key and checksum) second,
    so an interrupted save leaves at worst a file whose sidecar does not match, which
    :func:`load` rejects.
    """
    nc, side = cache_paths(name, key, directory)
    nc.parent.mkdir(parents=True, exist_ok=True)
    safe = _netcdf_safe(dt)
    _atomic_write(nc, lambda p: safe.to_netcdf(p, engine="h5netcdf"))
    meta = {"key": key, "model": name, "sha256": _file_sha256(nc), "format": CACHE_FORMAT}
    _atomic_write(side, lambda p: p.write_text(json.dumps(meta, indent=1), encoding="utf-8"))
    return nc


def load(name: str, key: str, directory: str | os.PathLike | None = None) -> xr.DataTree | None:
    """The cached posterior, fully read into memory, or ``None`` when there is none or
    it cannot be trusted (sidecar missing or for another key, checksum mismatch, read
    failure)."""
    nc, side = cache_paths(name, key, directory)
    if not nc.is_file() or not side.is_file():
        return None
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        if meta.get("key") != key or meta.get("format") != CACHE_FORMAT:
            _log.warning("%s: sidecar is for another key or format; refitting", side)
            return None
        if meta.get("sha256") != _file_sha256(nc):
            _log.warning("%s: checksum mismatch (truncated or corrupt); refitting", nc)
            return None
        with xr.open_datatree(nc, engine="h5netcdf") as tree:
            dt = tree.load()
    except Exception as exc:  # any read failure means "not cached": the caller refits
        _log.warning("%s: unreadable cache entry (%s); refitting", nc, exc)
        return None
    if "posterior" not in dt.children:
        _log.warning("%s: no posterior group; refitting", nc)
        return None
    dt.attrs = {
        k: v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v for k, v in dt.attrs.items()
    }
    return dt


def has(name: str, key: str, directory: str | os.PathLike | None = None) -> bool:
    """Whether a trustworthy entry exists (sidecar for this key, checksum matching),
    without reading the NetCDF file into memory."""
    nc, side = cache_paths(name, key, directory)
    if not nc.is_file() or not side.is_file():
        return False
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
        return (
            meta.get("key") == key
            and meta.get("format") == CACHE_FORMAT
            and meta.get("sha256") == _file_sha256(nc)
        )
    except (OSError, ValueError):
        return False


def clear(name: str | None = None, directory: str | os.PathLike | None = None) -> int:
    """Delete cached posteriors (of one model, or all); returns the number of files removed.

    Examples
    --------
    >>> import tempfile
    >>> clear(directory=tempfile.mkdtemp())
    0
    """
    root = cache_dir(directory)
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.iterdir():
        if path.suffix not in (".nc", ".json") or not path.is_file():
            continue
        if name is None or path.stem.rsplit("-", 1)[0] == name:
            path.unlink()
            removed += 1
    return removed
