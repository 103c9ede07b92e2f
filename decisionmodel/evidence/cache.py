"""On-disk cache of evidence-model posteriors.

A fitted posterior (an :class:`xarray.DataTree`) is stored as NetCDF (``h5netcdf``
engine; no pickle) under a name made of the model's name and its **cache key**: the
SHA-256 of a canonical JSON document holding

* the model's name and ``version``, and the SHA-256 of the source text of the module
  defining its ``build`` function and of the shared modules it imports (the modules of its
  own package and of :data:`MODEL_SOURCE_PACKAGES`, transitively; see
  :func:`source_digest`), so editing the model or a kernel it uses invalidates its
  posteriors, and editing another model's module does not;
* the SHA-256 of the bytes of each evidence file the model reads (``spec.files``);
* the seed and the sampler settings (sampler, draws, tune, chains) and the versions of
  PyMC and of the sampler.

Writes are atomic: the file is written to a temporary file in the cache directory and
moved into place with :func:`os.replace`, so a reader sees either the old file or the
complete new one. Each ``<name>-<key>.nc`` has a sidecar ``<name>-<key>.json`` holding the
full key, the model's name, the SHA-256 of the NetCDF bytes, the checksum of the draws
(:func:`draws_checksum`) and the fit's :func:`provenance` (package versions, sampler and
backend, compile flags, host, CPU, time); :func:`load` returns ``None`` (and the caller
refits) when the sidecar is missing or names another key, model or format, the checksum
does not match (a truncated or corrupted file), the file cannot be read, or the posterior
in it does not have the structure and draws the sidecar states. Storing a fit whose draws
differ from a trustworthy entry of the same key raises
:class:`~decisionmodel.exceptions.CacheConflictError` (the key no longer determines the
posterior), keeping both. A per-entry lock (:func:`entry_lock`) makes two processes that
fit the same model into one cache do the work once; temporary files left by a killed
process are removed (:func:`clean_stale`).

The draws are a function of the key: every fit is sampled with the compile flags of
:data:`COMPILE_FLAGS` (fast-math off), which make them the same whether pytensor's
compile cache is cold or warm (tested in subprocesses with separate fresh compile
directories).

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

import ast
import contextlib
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import logging
import marshal
import os
import platform
import secrets
import sys
import time
from collections.abc import Hashable, Mapping
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
    "COMPILE_FLAGS",
    "MODEL_SOURCE_PACKAGES",
    "cache_dir",
    "cache_key",
    "cache_paths",
    "check_writable",
    "clear",
    "compile_flags",
    "draws_checksum",
    "entry_lock",
    "evidence_digest",
    "has",
    "key_document",
    "load",
    "provenance",
    "save",
    "source_digest",
    "source_modules",
]

_log = logging.getLogger(__name__)

#: environment variable overriding the cache directory
CACHE_ENV = "DECISIONMODEL_CACHE"
#: bump when the layout of cached files changes (2: provenance and draw checksum in the
#: sidecar, posteriors sampled with IEEE arithmetic)
CACHE_FORMAT = 2
#: compile flags under which every posterior is sampled (see :func:`compile_flags`): part
#: of the key. pytensor's Numba backend compiles with fast-math by default, which lets
#: LLVM reassociate and contract floating-point operations differently when a kernel is
#: compiled afresh (inlined into the whole graph) than when it is loaded from pytensor's
#: compile cache; NUTS turns those last-bit differences into other draws, so the first fit
#: on a new machine differed from every later one. With fast-math off the draws are the
#: same whether the compile cache is cold or warm.
COMPILE_FLAGS: dict[str, Any] = {"numba__fastmath": False}
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


#: packages whose modules a model module may import as part of the model's definition
#: (the clinical constants and kernels the models use), besides the model's own package:
#: their source is part of the model's cache key
MODEL_SOURCE_PACKAGES: tuple[str, ...] = ("decisionmodel.clinical",)


def _package(module: Any) -> str:
    name = module.__name__
    return name if hasattr(module, "__path__") else name.rpartition(".")[0]


def _imported_names(module: Any) -> set[str]:
    """The modules (and ``module.name`` candidates of ``from module import name``) that the
    import statements of ``module`` name, wherever they are (module level or in a function)."""
    tree = ast.parse(inspect.getsource(module))
    package = _package(module)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _as_module(name: str) -> Any:
    """The module of that name, or None (``name`` may be a function of a module)."""
    mod = sys.modules.get(name)
    if mod is None:
        parent = sys.modules.get(name.rpartition(".")[0])
        if parent is not None and not hasattr(parent, "__path__"):
            return None  # an attribute of a plain module
        try:
            mod = importlib.import_module(name)
        except ImportError:
            return None
    return mod if inspect.ismodule(mod) else None


def _shared_modules(module: Any) -> list[Any]:
    """The modules ``module`` imports, directly or through each other, that belong to the
    model's definition: the submodules of its own package and the modules of
    :data:`MODEL_SOURCE_PACKAGES`."""
    package = _package(module)

    def relevant(name: str) -> bool:
        if package and name.startswith(package + "."):
            return True
        return any(name == p or name.startswith(p + ".") for p in MODEL_SOURCE_PACKAGES)

    seen: dict[str, Any] = {module.__name__: module}
    todo = [module]
    while todo:
        current = todo.pop()
        try:
            names = _imported_names(current)
        except (OSError, TypeError, SyntaxError):
            continue
        for name in sorted(n for n in names if relevant(n) and n not in seen):
            dep = _as_module(name)
            if dep is not None and dep.__name__ not in seen:
                seen[dep.__name__] = dep
                todo.append(dep)
    del seen[module.__name__]
    return [seen[n] for n in sorted(seen)]


def source_modules(func: Any) -> tuple[str, ...]:
    """The modules whose source :func:`source_digest` covers: the module defining ``func``,
    then the shared modules it imports (sorted).

    Parameters
    ----------
    func : callable
        A model's ``build`` function (decorated functions are unwrapped, a
        :func:`functools.partial` is looked through).

    Returns
    -------
    tuple of str
        Module names, the defining module first; empty when the module is not known
        (e.g. a function defined interactively).

    See Also
    --------
    source_digest : The digest of the source of these modules.

    Examples
    --------
    >>> from decisionmodel.evidence.models.systemic_survival import build_systemic_survival
    >>> source_modules(build_systemic_survival)
    ('decisionmodel.evidence.models.systemic_survival', 'decisionmodel.evidence.models.survival_kernels')
    """
    module = inspect.getmodule(getattr(inspect.unwrap(func), "func", inspect.unwrap(func)))
    if module is None:
        return ()
    return (module.__name__, *(m.__name__ for m in _shared_modules(module)))


def source_digest(func: Any) -> str:
    """SHA-256 of the source text of the module defining ``func`` and of the shared modules
    it imports.

    The shared modules are those of the defining module's own package (for an evidence
    model, :mod:`decisionmodel.evidence.models`: the kernels several models use) and of
    :data:`MODEL_SOURCE_PACKAGES` that it imports, directly or through each other
    (:func:`source_modules`). So editing a shared kernel changes the digest of every model
    that imports it, and editing one model's module (even its docstring) changes that
    model's digest only. A module importing no shared module has the digest of its own
    source text; otherwise the digest is that of the module's digest followed by the sorted
    digests of the shared modules (independent of their names).

    Falls back to the function's own source, then to its bytecode, when the module's
    source is not available (e.g. defined interactively). The digest is computed once
    per function object and process, so it describes the code this process runs even if
    the file is edited afterwards (a reloaded module has new function objects, and gets a
    new digest).

    Parameters
    ----------
    func : callable
        A model's ``build`` function (decorated functions are unwrapped, a
        :func:`functools.partial` is looked through).

    Returns
    -------
    str
        SHA-256, 64 hexadecimal characters.

    See Also
    --------
    source_modules : The modules the digest covers.
    key_document : Where the digest enters the cache key.

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
            own = _sha256(inspect.getsource(obj).encode("utf-8"))
        except (OSError, TypeError):
            continue
        if obj is not module:
            return own
        shared = sorted(
            _sha256(inspect.getsource(m).encode("utf-8")) for m in _shared_modules(module)
        )
        return own if not shared else _sha256("\n".join([own, *shared]).encode("utf-8"))
    code = getattr(target, "__code__", None)
    if code is not None:
        return _sha256(marshal.dumps(code))
    return _sha256(repr(target).encode("utf-8"))


def evidence_digest(ev: EvidenceFile) -> str:
    """SHA-256 of an evidence file's bytes (its ``digest``), or of its entries when the
    file was built in memory without one.

    Parameters
    ----------
    ev : EvidenceFile
        A parsed evidence file (:func:`~decisionmodel.evidence.files.load_evidence`) or
        one built in memory (:func:`~decisionmodel.evidence.files.evidence_from_dict`).

    Returns
    -------
    str
        SHA-256, 64 hexadecimal characters: ``ev.digest`` when it is set, else the
        SHA-256 of the canonical JSON of the area and entries.

    See Also
    --------
    decisionmodel.evidence.files.file_digest : The SHA-256 of a file's bytes.

    Examples
    --------
    >>> from pathlib import Path
    >>> from decisionmodel.evidence.files import EvidenceFile
    >>> evidence_digest(EvidenceFile(Path("a.yaml"), "a", "", {}, digest="0" * 64)) == "0" * 64
    True
    >>> len(evidence_digest(EvidenceFile(Path("a.yaml"), "a", "", {}, digest="")))
    64
    """
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
    """The JSON-able document whose SHA-256 is the cache key.

    Parameters
    ----------
    spec : ModelSpec
        The model: its name, ``version``, the source of its ``build`` function
        (:func:`source_digest`), its ``files`` and ``sample_kwargs`` enter the document.
    evidence : mapping
        Area -> :class:`~decisionmodel.evidence.files.EvidenceFile`, or directly the
        SHA-256 of the file's bytes, for every area of ``spec.files``.
    seed : int
        Seed of the fit.
    sampler : str
        NUTS sampler (``"pymc"`` or ``"nutpie"``).
    draws, tune, chains : int
        Draws per chain, tuning steps per chain, and chains.

    Returns
    -------
    dict
        ``format``, ``model``, ``version``, ``source``, ``evidence`` (area -> SHA-256),
        the seed and the sampler settings, the versions of PyMC, pytensor, Numba and the
        sampler, the compile flags and, when the model has any, its ``sample_kwargs``.

    Raises
    ------
    KeyError
        An area of ``spec.files`` is missing from ``evidence``.

    See Also
    --------
    cache_key : The SHA-256 of this document.
    """
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
        "compile_flags": dict(COMPILE_FLAGS),
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

    Parameters
    ----------
    spec : ModelSpec
        The model.
    evidence : mapping
        Each area of ``spec.files`` -> its
        :class:`~decisionmodel.evidence.files.EvidenceFile`, or directly the SHA-256 of
        the file's bytes (the same thing, without parsing the file).
    seed : int
        Seed of the fit.
    sampler : str
        NUTS sampler (``"pymc"`` or ``"nutpie"``).
    draws, tune, chains : int
        Draws per chain, tuning steps per chain, and chains.

    Returns
    -------
    str
        SHA-256 (64 hexadecimal characters) of the canonical JSON of
        :func:`key_document`.

    See Also
    --------
    key_document : The document hashed.
    cache_paths : The files of an entry with this key.

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
    """The NetCDF file and its JSON sidecar for one model and key.

    Parameters
    ----------
    name : str
        The model's name.
    key : str
        The cache key (:func:`cache_key`); its first 20 characters name the files.
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        ``<directory>/<name>-<key[:20]>.nc`` and ``.json`` (neither need exist).

    Examples
    --------
    >>> nc, side = cache_paths("toy", "ab" * 32, "/tmp/dm-cache")
    >>> nc.as_posix(), side.name
    ('/tmp/dm-cache/toy-abababababababababab.nc', 'toy-abababababababababab.json')
    """
    base = cache_dir(directory) / f"{name}-{key[:_KEY_CHARS]}"
    return base.with_name(base.name + ".nc"), base.with_name(base.name + ".json")


_TMP_PREFIX = "."
_TMP_SUFFIX = ".tmp"


def _tmp_name(path: Path) -> Path:
    """A temporary file next to ``path``, named with this process's id so that a stale one
    (left by a killed process) can be told from one being written."""
    return (
        path.parent / f"{_TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(6)}{_TMP_SUFFIX}"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale(directory: str | os.PathLike | None = None) -> int:
    """Remove temporary files left in the cache by processes that no longer run (a fit
    killed while it was writing).

    Parameters
    ----------
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    int
        The number of files removed (0 when the directory cannot be listed). Files of
        running processes, this one included, are kept.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".m-k.nc.999999999.ab.tmp").write_bytes(b"x")
    >>> clean_stale(d), sorted(p.name for p in d.iterdir())
    (1, [])
    """
    root = cache_dir(directory)
    removed = 0
    try:
        paths = list(root.iterdir())
    except OSError:
        return 0
    for path in paths:
        name = path.name
        if not (name.startswith(_TMP_PREFIX) and name.endswith(_TMP_SUFFIX)):
            continue
        parts = name[: -len(_TMP_SUFFIX)].rsplit(".", 2)
        try:
            pid = int(parts[-2])
        except (IndexError, ValueError):
            pid = -1
        if pid > 0 and pid != os.getpid() and _pid_alive(pid):
            continue
        if pid == os.getpid():
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, flush it to disk and move it
    into place; on any failure the temporary file is removed and ``path`` is untouched.
    (Plain file writes: a full disk is an ``OSError`` here, never a crash inside a
    library.)"""
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then move it into
    place; on any failure the temporary file is removed and ``path`` is untouched."""
    tmp = _tmp_name(path)
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


def check_writable(directory: str | os.PathLike | None = None) -> Path:
    """Make sure posteriors can be stored in the cache directory (creating it), before a
    fit is paid for.

    Parameters
    ----------
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    pathlib.Path
        The directory, which exists and takes a file.

    Raises
    ------
    CacheError
        The path, or a part of it, is a file; or the directory cannot be created or
        written (read-only, no permission, no space).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "file"
    >>> _ = f.write_text("x")
    >>> check_writable(f / "cache")
    Traceback (most recent call last):
    ...
    decisionmodel.exceptions.CacheError: posterior cache .../file/cache: a part of the path is a file, not a directory; choose another with --cache-dir or DECISIONMODEL_CACHE
    """
    from decisionmodel.exceptions import CacheError

    root = cache_dir(directory)
    hint = "choose another with --cache-dir or DECISIONMODEL_CACHE"
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(20, "is a file, not a directory")
        root.mkdir(parents=True, exist_ok=True)
        probe = _tmp_name(root / "write-probe")
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except NotADirectoryError as exc:
        why = (
            exc.strerror
            if exc.strerror == "is a file, not a directory"
            else ("a part of the path is a file, not a directory")
        )
        raise CacheError(f"posterior cache {root}: {why}; {hint}") from None
    except FileExistsError:
        raise CacheError(f"posterior cache {root}: a part of the path is a file; {hint}") from None
    except OSError as exc:
        raise CacheError(
            f"posterior cache {root}: not writable ({exc.strerror or exc}); {hint}"
        ) from None
    return root


@contextlib.contextmanager
def entry_lock(name: str, key: str, directory: str | os.PathLike | None = None):
    """Hold an exclusive lock on one cache entry while it is fitted and stored, so that
    two processes fitting the same model into one cache do the work once: the second
    waits, then finds the entry. The lock is released when the process ends, however it
    ends (``kill -9`` included). Without ``fcntl`` (Windows) it does nothing.

    Parameters
    ----------
    name : str
        The model's name.
    key : str
        The cache key of the entry.
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`); it must exist.

    Yields
    ------
    None
        While the lock is held (the lock file ``<name>-<key[:20]>.lock`` is kept).

    Examples
    --------
    >>> import tempfile
    >>> with entry_lock("toy", "ab" * 32, tempfile.mkdtemp()):
    ...     pass
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    nc, _ = cache_paths(name, key, directory)
    lock_path = nc.with_name(nc.name[: -len(".nc")] + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def compile_flags():
    """pytensor configured with :data:`COMPILE_FLAGS` for the duration (fast-math off).

    Examples
    --------
    >>> import pytensor
    >>> with compile_flags():
    ...     pytensor.config.numba__fastmath
    False
    """
    import pytensor

    with pytensor.config.change_flags(**COMPILE_FLAGS):
        yield


def draws_checksum(dt: xr.DataTree) -> str:
    """SHA-256 of a fit's posterior draws: every variable (sorted by name) with its
    dims, dtype, shape and bytes. Two fits have the same checksum exactly when their
    draws are bit-identical.

    Parameters
    ----------
    dt : xarray.DataTree
        A fit, with a ``posterior`` group.

    Returns
    -------
    str
        SHA-256, 64 hexadecimal characters.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> post = xr.Dataset({"p": (("chain", "draw"), np.arange(6.0).reshape(2, 3))})
    >>> a = draws_checksum(xr.DataTree.from_dict({"posterior": post}))
    >>> post["p"][0, 0] = np.nextafter(0.0, 1.0)
    >>> b = draws_checksum(xr.DataTree.from_dict({"posterior": post}))
    >>> len(a), a == b
    (64, False)
    """
    post = dt["posterior"].to_dataset()
    h = hashlib.sha256()
    for var in sorted(post.data_vars, key=str):
        da = post[var]
        values = np.ascontiguousarray(da.values)
        head = json.dumps([str(var), list(map(str, da.dims)), values.dtype.str, values.shape])
        h.update(head.encode("utf-8"))
        h.update(values.tobytes())
    return h.hexdigest()


_PROVENANCE_PACKAGES = (
    "decisionmodel",
    "pymc",
    "pytensor",
    "numba",
    "nutpie",
    "numpy",
    "scipy",
    "arviz",
    "xarray",
    "h5netcdf",
)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(dt: xr.DataTree | None = None) -> dict[str, Any]:
    """Where and with what a fit was made: package versions, Python, the compile flags,
    host, CPU, time (UTC) and, given a fit, its sampler and the checksum of its draws.

    Parameters
    ----------
    dt : xarray.DataTree, optional
        The fit; adds ``sampler`` (its ``attrs["sampler"]``), ``backend`` and
        ``draws_sha256`` (:func:`draws_checksum`).

    Returns
    -------
    dict
        ``compile_flags``, ``cpu``, ``created``, ``host``, ``machine``, ``platform``,
        ``python`` and ``versions`` (package -> version, ``"absent"`` when not installed),
        plus the fit's keys above.

    Examples
    --------
    >>> p = provenance()
    >>> sorted(p)[:4], p["compile_flags"]
    (['compile_flags', 'cpu', 'created', 'host'], {'numba__fastmath': False})
    """
    out: dict[str, Any] = {
        "compile_flags": dict(COMPILE_FLAGS),
        "cpu": _cpu(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in _PROVENANCE_PACKAGES},
    }
    if dt is not None:
        out["sampler"] = str(dt.attrs.get("sampler", ""))
        out["backend"] = "numba"
        out["draws_sha256"] = draws_checksum(dt)
    return out


def _netcdf_safe(dt: xr.DataTree) -> xr.DataTree:
    """A copy whose attributes NetCDF can store (bools -> int, None -> dropped, other
    non-scalars -> JSON text)."""
    out = dt.copy()
    for node in out.subtree:
        clean: dict[Hashable, Any] = {}
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


def _read_sidecar(side: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeError):
        return None
    return meta if isinstance(meta, dict) else None


def save(
    dt: xr.DataTree,
    name: str,
    key: str,
    directory: str | os.PathLike | None = None,
    *,
    check_conflict: bool = True,
) -> Path:
    """Store a posterior atomically.

    The NetCDF bytes are made in memory and written with plain file writes (a full disk
    is an ``OSError``, and nothing is left behind). The NetCDF file is moved into place
    first and its sidecar (key, model, checksums, :func:`provenance`) second, so an
    interrupted save leaves at worst a file whose sidecar does not match, which
    :func:`load` rejects.

    Parameters
    ----------
    dt : xarray.DataTree
        The fit. Attributes NetCDF cannot store are converted (bools to ints, other
        non-scalars to JSON text; ``None`` is dropped).
    name : str
        The model's name.
    key : str
        The cache key (:func:`cache_key`).
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`; created if needed).
    check_conflict : bool
        Compare with a trustworthy entry of the same key first (default). ``False``
        replaces the entry without comparing (for an entry the caller found unusable).

    Returns
    -------
    pathlib.Path
        The NetCDF file (:func:`cache_paths`).

    Raises
    ------
    CacheConflictError
        A trustworthy entry with the same key (one that :func:`load` accepts) holds other
        draws: the new fit is kept beside it, in ``conflicts/``, and the entry is left as
        it was.
    OSError
        The file cannot be written (no space, no permission); nothing is left behind.

    See Also
    --------
    load : Read an entry back.
    check_writable : Refuse an unusable cache before a fit is paid for.
    """
    from decisionmodel.exceptions import CacheConflictError

    nc, side = cache_paths(name, key, directory)
    nc.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(nc.parent)
    prov = provenance(dt)
    safe = _netcdf_safe(dt)
    data = bytes(safe.to_netcdf(None, engine="h5netcdf"))
    old = None
    if check_conflict and has(name, key, directory) and load(name, key, directory) is not None:
        old = _read_sidecar(side)
    if old is not None and old.get("draws_sha256") not in (None, prov["draws_sha256"]):
        where = nc.parent / "conflicts"
        where.mkdir(exist_ok=True)
        kept = where / f"{nc.stem}-{prov['draws_sha256'][:12]}.nc"
        _atomic_write_bytes(kept, data)
        _atomic_write_bytes(
            kept.with_suffix(".json"),
            json.dumps({"key": key, "model": name, **prov}, indent=1).encode("utf-8"),
        )
        then = old.get("provenance", {})
        raise CacheConflictError(
            f"evidence model {name!r}: this fit's draws differ from the cached fit with the "
            f"same key {key[:_KEY_CHARS]} (cached on {then.get('host', '?')} at "
            f"{then.get('created', '?')}, this one on {prov['host']}): the posterior is not "
            f"reproducible here; the new fit is kept in {kept}, the cached one is unchanged"
        )
    _atomic_write_bytes(nc, data)
    meta = {
        "key": key,
        "model": name,
        "sha256": _sha256(data),
        "format": CACHE_FORMAT,
        "draws_sha256": prov["draws_sha256"],
        "provenance": prov,
    }
    _atomic_write_bytes(side, json.dumps(meta, indent=1).encode("utf-8"))
    return nc


def _structure_problem(dt: xr.DataTree, meta: Mapping[str, Any]) -> str | None:
    """Why a cached fit cannot be what its sidecar says, or ``None``."""
    if "posterior" not in dt.children:
        return "no posterior group"
    post = dt["posterior"].to_dataset()
    if not post.data_vars:
        return "an empty posterior group"
    chains, draws = dt.attrs.get("chains"), dt.attrs.get("draws")
    for var, da in post.data_vars.items():
        if da.dims[:2] != ("chain", "draw"):
            return f"variable {var!r} is not over (chain, draw)"
        if (
            chains is not None
            and draws is not None
            and (
                int(np.asarray(chains)) != da.sizes["chain"]
                or int(np.asarray(draws)) != da.sizes["draw"]
            )
        ):
            return f"variable {var!r} does not have the chains x draws its attributes state"
        if da.dtype.kind not in "fiub":
            return f"variable {var!r} is not numeric"
    if str(dt.attrs.get("model", meta.get("model"))) != meta.get("model"):
        return "its attributes name another model"
    if str(dt.attrs.get("cache_key", meta.get("key"))) != meta.get("key"):
        return "its attributes hold another key"
    want = meta.get("draws_sha256")
    if want is not None and draws_checksum(dt) != want:
        return "the draws do not match their checksum"
    return None


def load(name: str, key: str, directory: str | os.PathLike | None = None) -> xr.DataTree | None:
    """The cached posterior, fully read into memory, or ``None`` when there is none or
    it cannot be trusted.

    Parameters
    ----------
    name : str
        The model's name.
    key : str
        The cache key (:func:`cache_key`).
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    xarray.DataTree or None
        The fit (0-d attributes as Python scalars). ``None`` when there is no entry, or
        when it cannot be trusted: the sidecar missing, unreadable or for another key,
        model or format; the file's checksum not matching; a read failure; a posterior
        whose structure or draws do not match what the sidecar states. An untrusted
        entry is logged (and the caller refits).

    See Also
    --------
    save : Store an entry.
    has : Whether an entry exists, without reading it.
    """
    nc, side = cache_paths(name, key, directory)
    if not nc.is_file() or not side.is_file():
        return None
    try:
        meta = _read_sidecar(side)
        if meta is None:
            _log.warning("%s: unreadable sidecar; refitting", side)
            return None
        if meta.get("key") != key or meta.get("format") != CACHE_FORMAT:
            _log.warning("%s: sidecar is for another key or format; refitting", side)
            return None
        if meta.get("model") != name:
            _log.warning("%s: sidecar is for another model; refitting", side)
            return None
        if meta.get("sha256") != _file_sha256(nc):
            _log.warning("%s: checksum mismatch (truncated or corrupt); refitting", nc)
            return None
        with xr.open_datatree(nc, engine="h5netcdf") as tree:
            dt = tree.load()
        dt.attrs = {
            k: v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v
            for k, v in dt.attrs.items()
        }
        problem = _structure_problem(dt, meta)
    except Exception as exc:  # any read failure means "not cached": the caller refits
        _log.warning("%s: unreadable cache entry (%s); refitting", nc, exc)
        return None
    if problem is not None:
        _log.warning("%s: %s; refitting", nc, problem)
        return None
    return dt


def has(name: str, key: str, directory: str | os.PathLike | None = None) -> bool:
    """Whether a trustworthy entry exists, without reading the NetCDF file into memory.

    Parameters
    ----------
    name : str
        The model's name.
    key : str
        The cache key (:func:`cache_key`).
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    bool
        The NetCDF file and its sidecar exist, the sidecar names this key, model and
        format, and the file's SHA-256 matches it. (:func:`load` checks the draws too.)

    Examples
    --------
    >>> import tempfile
    >>> has("toy", "ab" * 32, tempfile.mkdtemp())
    False
    """
    nc, side = cache_paths(name, key, directory)
    if not nc.is_file() or not side.is_file():
        return False
    meta = _read_sidecar(side)
    if meta is None:
        return False
    try:
        return (
            meta.get("key") == key
            and meta.get("model") == name
            and meta.get("format") == CACHE_FORMAT
            and meta.get("sha256") == _file_sha256(nc)
        )
    except OSError:
        return False


def clear(name: str | None = None, directory: str | os.PathLike | None = None) -> int:
    """Delete cached posteriors (of one model, or all).

    Parameters
    ----------
    name : str, optional
        Only this model's entries. By default every entry.
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).

    Returns
    -------
    int
        The number of files removed (NetCDF files, sidecars and lock files).

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
        if path.suffix not in (".nc", ".json", ".lock") or not path.is_file():
            continue
        if name is None or path.stem.rsplit("-", 1)[0] == name:
            path.unlink()
            removed += 1
    return removed
