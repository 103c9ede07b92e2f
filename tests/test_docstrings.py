"""Every public function, method and property of the package is documented in numpydoc.

Walks every module of ``decisionmodel`` and, for each public name the module defines (not
imports), checks that functions and the methods and properties of classes have a
docstring, and that those taking arguments have a ``Parameters`` section. ``__init__``
methods are documented by their class. This is the check the numpydoc validator's
GL08/PR01 rules make, on the whole package at once.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import decisionmodel


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(decisionmodel.__path__, "decisionmodel."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _callables(module: Any) -> Iterator[tuple[str, Any]]:
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                f = member.fget if isinstance(member, property) else member
                f = getattr(f, "__func__", f)  # staticmethod, classmethod
                if inspect.isfunction(f):
                    yield f"{name}.{attr}", f


def undocumented() -> list[str]:
    """``module.name: why`` for each public callable without the required docstring."""
    out = []
    for module in _modules():
        for name, f in _callables(module):
            doc = inspect.getdoc(f) or ""
            args = [p for p in inspect.signature(f).parameters if p not in ("self", "cls")]
            if not doc:
                out.append(f"{module.__name__}.{name}: no docstring")
            elif args and "Parameters\n----------" not in doc:
                out.append(f"{module.__name__}.{name}: no Parameters section")
    return out


def test_the_walk_sees_the_package():
    names = {m.__name__ for m in _modules()}
    assert {"decisionmodel.tree.evaluate", "decisionmodel.voi.evppi", "decisionmodel.cea"} <= names
    assert sum(1 for m in _modules() for _ in _callables(m)) > 300


def test_every_public_callable_has_a_numpydoc_docstring():
    missing = undocumented()
    assert not missing, f"{len(missing)} public callables lack numpydoc:\n" + "\n".join(missing)
