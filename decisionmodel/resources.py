"""The decision models and evidence files shipped with the package.

The tree files live in ``decisionmodel/data/trees/`` and the evidence files of the
Bayesian evidence synthesis in ``decisionmodel/data/priors/``; both are found with
:mod:`importlib.resources`, so an installed wheel needs no repository checkout (in the
repository, ``trees/`` and ``priors/`` at the root are links to them).

A shipped model is named by its tree file's path below the trees directory, without
the ``.yaml`` suffix: ``crlm`` (the default model), ``lung_wedge_vs_lobectomy``,
``whipple_pivot``, ``peritoneal_crs_hipec``, and the published examples
``examples/sumatriptan`` and ``examples/hiv_chancellor``. Every command of
``decisionmodel`` that takes a TREE accepts such a name or a file
(:func:`tree_path`); ``decisionmodel models`` lists them (:func:`describe_models`).

Examples
--------
>>> list(models())
['crlm', 'lung_wedge_vs_lobectomy', 'peritoneal_crs_hipec', 'whipple_pivot', 'examples/hiv_chancellor', 'examples/sumatriptan']
>>> tree_path("crlm").relative_to(trees_dir()).as_posix()
'crlm.yaml'
>>> sorted(p.name for p in priors_dir().glob("*.yaml"))[:3]
['costs.yaml', 'crlm_survival.yaml', 'intraoperative.yaml']
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from decisionmodel.exceptions import DecisionModelError, TreeFileError

__all__ = [
    "ModelInfo",
    "UnknownTreeError",
    "describe_models",
    "models",
    "priors_dir",
    "tree_path",
    "trees_dir",
]

_TREE_SUFFIX = ".yaml"


class UnknownTreeError(TreeFileError):
    """A TREE argument is neither an existing file nor the name of a shipped model."""


class ModelInfo(NamedTuple):
    """One shipped model, as ``decisionmodel models`` lists it."""

    name: str
    path: Path
    description: str


_extracted = contextlib.ExitStack()  # resources unpacked from a zip, removed at exit
atexit.register(_extracted.close)


@functools.cache
def _data_dir(kind: str) -> Path:
    """``decisionmodel/data/<kind>`` as a directory on the file system."""
    res = resources.files("decisionmodel").joinpath("data", kind)
    if isinstance(res, Path):  # a normal (or editable) installation
        return res
    return Path(_extracted.enter_context(resources.as_file(res)))  # pragma: no cover - zipped


def trees_dir() -> Path:
    """The directory of the shipped tree files.

    Returns
    -------
    pathlib.Path
        ``decisionmodel/data/trees`` of the installed package.

    Examples
    --------
    >>> (trees_dir() / "crlm.yaml").is_file()
    True
    """
    return _data_dir("trees")


def priors_dir() -> Path:
    """The directory of the shipped evidence files (the default of every evidence fit).

    Returns
    -------
    pathlib.Path
        ``decisionmodel/data/priors`` of the installed package; its ``README.md``
        documents the schema of the files.

    Examples
    --------
    >>> d = priors_dir()
    >>> d.name, (d / "surgical_risk.yaml").is_file(), (d / "README.md").is_file()
    ('priors', True, True)
    """
    return _data_dir("priors")


def models() -> dict[str, Path]:
    """The shipped models: name -> tree file.

    Returns
    -------
    dict of str to pathlib.Path
        The companion models in alphabetical order (the default ``crlm`` first), then
        the published examples (``examples/...``). Names use ``/`` on every platform.

    Examples
    --------
    >>> m = models()
    >>> m["crlm"].name, m["examples/sumatriptan"].parent.name
    ('crlm.yaml', 'examples')
    """
    root = trees_dir()
    files = [p for p in root.rglob(f"*{_TREE_SUFFIX}") if p.is_file()]
    names = {p.relative_to(root).with_suffix("").as_posix(): p for p in files}
    return {n: names[n] for n in sorted(names, key=lambda n: (n.count("/"), n))}


def tree_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The tree file of a TREE argument: an existing file, or a shipped model's name.

    Parameters
    ----------
    name_or_path : str or path-like
        A file path, or a name of :func:`models` (``crlm``, ``examples/sumatriptan``).

    Returns
    -------
    pathlib.Path
        ``name_or_path`` itself when it is an existing file (a file always wins, so a
        ``crlm`` file in the working directory is read rather than the shipped model);
        else the shipped model's file; else ``name_or_path`` when something exists
        there (a directory: reading it reports the problem).

    Raises
    ------
    UnknownTreeError
        Nothing exists at ``name_or_path`` and it is not a shipped model's name; the
        message lists the names (a :class:`~decisionmodel.exceptions.TreeFileError`).

    Examples
    --------
    >>> tree_path("whipple_pivot").name
    'whipple_pivot.yaml'
    >>> tree_path(tree_path("crlm")) == tree_path("crlm")
    True
    >>> tree_path("no_such_model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    decisionmodel.resources.UnknownTreeError: no_such_model: no such file, and not a shipped model (models: crlm, lung_wedge_vs_lobectomy, ...; see `decisionmodel models`)
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = models()
    name = os.fspath(name_or_path)
    if name in shipped:
        return shipped[name]
    if path.exists():
        return path
    raise UnknownTreeError(
        f"{name}: no such file, and not a shipped model "
        f"(models: {', '.join(shipped)}; see `decisionmodel models`)"
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _description(path: Path) -> str:
    """The tree file's ``name``, else the first sentence of its ``description``."""
    from decisionmodel.tree.yamlsafe import load_yaml

    try:
        data = load_yaml(path, TreeFileError, "tree file")
    except DecisionModelError as exc:
        return f"(unreadable: {_one_line(exc)})"
    if not isinstance(data, dict):
        return ""
    if data.get("name"):
        return _one_line(data["name"])
    first = _one_line(data.get("description") or "").split(". ")[0]
    return first.rstrip(".")


def describe_models() -> list[ModelInfo]:
    """The shipped models with a one-line description each (``decisionmodel models``).

    Returns
    -------
    list of ModelInfo
        ``(name, path, description)`` in the order of :func:`models`; the description is
        the tree file's ``name`` (else the first sentence of its ``description``).

    Examples
    --------
    >>> info = {m.name: m for m in describe_models()}
    >>> info["examples/sumatriptan"].description
    'Sumatriptan vs caffeine/ergotamine for migraine (Evans 1997)'
    """
    return [ModelInfo(n, p, _description(p)) for n, p in models().items()]
