"""The package's layers: what a module may import.

The contracts are in ``pyproject.toml`` (``[tool.importlinter]``) and run here with
import-linter, on the package and on a copy with a forbidden import added (which must break
the contract it violates). The contracts count every import at module level or inside a
function, not those under ``if TYPE_CHECKING:`` (``exclude_type_checking_imports``: an
import for annotations only is no dependency at run time); the module-cycle check counts
those too. The clinical definitions load without the evidence layer (and so without
PyMC), checked in a fresh interpreter, where nothing else has imported PyMC yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "decisionmodel"
LINT = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def lint_imports(where: Path) -> tuple[int, str]:
    """Run the contracts of ``where/pyproject.toml`` on the package in ``where``: exit code
    and output, whitespace collapsed (long contract names wrap)."""
    env = {**os.environ, "PYTHONPATH": str(where)}
    out = subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out.returncode, " ".join((out.stdout + out.stderr).split())


def test_the_import_contracts_hold() -> None:
    code, out = lint_imports(ROOT)
    assert code == 0, out
    names = contract_names()
    assert len(names) >= 6
    for name in names:
        assert f"{name} KEPT" in out, (name, out)
    assert f"Contracts: {len(names)} kept, 0 broken." in out, out


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("params.py", "import decisionmodel.tree", "params does not import the tree package"),
        (
            "clinical/fong.py",
            "from decisionmodel.evidence.models.crlm_survival import COHORTS",
            "clinical definitions do not import the evidence layer",
        ),
        ("tree/formula.py", "import decisionmodel.tree.evaluate", "tree layers:"),
        ("tree/structure.py", "from decisionmodel.tree import compile", "tree layers:"),
        (
            "tree/evaluate.py",
            "import decisionmodel.report",
            "the core (tree, params, clinical) imports neither",
        ),
        ("clinical/kinetics.py", "import pymc", "does not import PyMC, PyTensor or ArviZ"),
        (
            "evidence/models/systemic_survival.py",
            "from decisionmodel.evidence.models.crlm_survival import COHORTS",
            "an evidence model's module imports no other model's module",
        ),
        (
            "vocabulary.py",
            "import decisionmodel.params",
            "no cycle between sibling modules or packages",
        ),
        # the package layers: VOI does not reach up to the report, CEA not across to VOI,
        # the shared kernels import nothing above them
        ("voi/evpi.py", "import decisionmodel.report", "package layers:"),
        ("cea.py", "from decisionmodel.voi import evpi", "package layers:"),
        ("netbenefit.py", "import decisionmodel.params", "package layers:"),
        # roles imports CompiledTree under TYPE_CHECKING only: tree.validate imports roles
        (
            "roles.py",
            "from decisionmodel.tree.compile import CompiledTree",
            "no cycle between sibling modules or packages",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract) -> None:
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "decisionmodel", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with open(copy / "decisionmodel" / module, "a", encoding="utf-8") as fh:
        fh.write(f"\n{line}\n")
    code, out = lint_imports(copy)
    assert code == 1, out
    (name,) = [n for n in contract_names() if n.startswith(contract) or contract in n]
    # others may break too (params -> tree also makes a cycle, and a chain from
    # tree.compile through params back up the tree layers): this one must
    assert f"{name} BROKEN" in out, out


def _module_graph() -> nx.DiGraph:
    graph = grimp.build_graph("decisionmodel", cache_dir=None)
    G = nx.DiGraph()
    G.add_nodes_from(graph.modules)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            G.add_edge(module, imported)
    return G


def test_no_import_cycle_between_modules() -> None:
    """No module imports (directly or through others) a module that imports it back. Every
    import statement counts: at module level, inside a function (a "lazy" import is still a
    dependency) and under ``TYPE_CHECKING``; a package's ``__init__`` is a module like any
    other, and importing a submodule is not counted as importing its package."""
    G = _module_graph()
    assert {"decisionmodel.params", "decisionmodel.tree.compile"} <= set(G)
    assert G.has_edge("decisionmodel.tree.compile", "decisionmodel.params")
    assert list(nx.simple_cycles(G)) == []
    # the check finds a cycle when there is one
    G.add_edge("decisionmodel.vocabulary", "decisionmodel.tree.compile")
    cycles = list(nx.simple_cycles(G))
    assert cycles and all("decisionmodel.vocabulary" in c for c in cycles)


def test_the_clinical_package_loads_without_the_evidence_layer() -> None:
    script = (
        "import sys, decisionmodel.clinical\n"
        "loaded = sorted(m for m in sys.modules if m in ('pymc', 'pytensor') "
        "or m.startswith('decisionmodel.evidence'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "", out.stdout
