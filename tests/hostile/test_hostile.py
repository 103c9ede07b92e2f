"""Hostile input to the command line: one case file per attack under ``cases/``.

The contract (README "Command line"): bad input exits with code 2 and exactly one line on
stderr (``decisionmodel: error: ...``) naming the file, node and rule; never a traceback, a
silent wrong number, a silent accept or code execution; bounded time and memory. The case
format is described in ``tests/hostile/README.md``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CASES = Path(__file__).parent / "cases"
REPO = Path(__file__).resolve().parents[2]

REQUIRED_CATEGORIES = frozenset(
    {
        "tree-syntax",
        "tree-types",
        "nonfinite-and-huge",
        "probabilities",
        "complement",
        "alias-bombs",
        "deep-nesting",
        "huge-inputs",
        "unsafe-yaml",
        "formula-injection",
        "sizes",
        "distributions",
        "links",
        "profiles",
        "profile-files",
        "csv",
        "options",
        "output-paths",
        "cache",
    }
)

_CASE_KEYS = frozenset(
    {
        "category",
        "description",
        "argv",
        "files",
        "expect",
        "isolate",
        "timeout",
        "memory_mb",
        "env",
        "chmod",
        "skip",
    }
)
_EXPECT_KEYS = frozenset({"exit", "stderr", "stdout_empty"})


def _case_files() -> list[Path]:
    return sorted(CASES.rglob("*.yaml"))


def _load_case(path: Path) -> dict[str, Any]:
    """The case of ``path``, checked against the format (a malformed case fails loudly)."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict), f"{path}: a case is a mapping"
    unknown = set(case) - _CASE_KEYS
    assert not unknown, f"{path}: unknown case keys {sorted(unknown)}"
    for key in ("category", "description", "argv", "expect"):
        assert key in case, f"{path}: missing {key!r}"
    assert case["category"] in REQUIRED_CATEGORIES, f"{path}: unknown category {case['category']!r}"
    assert isinstance(case["argv"], list) and all(isinstance(a, str) for a in case["argv"]), (
        f"{path}: argv must be a list of strings"
    )
    expect = case["expect"]
    assert isinstance(expect, dict) and "stderr" in expect, f"{path}: expect.stderr is required"
    assert not set(expect) - _EXPECT_KEYS, f"{path}: unknown expect keys"
    re.compile(expect["stderr"])
    return case


def _fill(text: str, dirpath: Path, casedir: Path) -> str:
    return text.replace("{dir}", str(dirpath)).replace("{case}", str(casedir))


def _content(spec: Any, dirpath: Path, casedir: Path) -> bytes:
    """The bytes of one entry of ``files``: text, ``{hex}`` or ``{repeat, times, ...}``."""
    if isinstance(spec, str):
        return _fill(spec, dirpath, casedir).encode("utf-8")
    assert isinstance(spec, dict), f"bad file spec {spec!r}"
    if "hex" in spec:
        return bytes.fromhex("".join(spec["hex"].split()))
    if "repeat" in spec:
        prefix = _fill(spec.get("prefix", ""), dirpath, casedir)
        suffix = _fill(spec.get("suffix", ""), dirpath, casedir)
        unit, times = spec["repeat"], int(spec["times"])
        if "{i}" in unit:  # numbered copies (unique labels and names)
            body = "".join(unit.replace("{i}", str(i)) for i in range(times))
        else:
            body = unit * times
        close = spec.get("close", "") * times
        return (prefix + body + close + suffix).encode("utf-8")
    raise AssertionError(f"bad file spec keys {sorted(spec)}")


def _snapshot(folders: list[Path]) -> set[Path]:
    """The entries (one level deep) of ``folders``, to catch files written outside {dir}."""
    seen: set[Path] = set()
    for folder in folders:
        if folder.is_dir():
            seen.update(folder.iterdir())
    return seen


def _run_inprocess(
    argv: list[str], dirpath: Path, env: dict[str, str], capsys, monkeypatch
) -> tuple[int, str, str]:
    from decisionmodel.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(dirpath)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def _run_isolated(
    argv: list[str], dirpath: Path, env: dict[str, str], timeout: float, memory_mb: int
) -> tuple[int, str, str]:
    import resource

    limit = int(memory_mb) * 1024 * 1024

    def limits() -> None:  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    full_env = dict(os.environ)
    full_env.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO) + os.pathsep + full_env.get("PYTHONPATH", ""),
        }
    )
    full_env.update(env)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "decisionmodel.cli", *argv],
            cwd=dirpath,
            env=full_env,
            capture_output=True,
            timeout=timeout,
            preexec_fn=limits,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {timeout} s (unbounded time)")
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def test_every_category_has_a_case() -> None:
    present = {_load_case(p)["category"] for p in _case_files()}
    missing = sorted(REQUIRED_CATEGORIES - present)
    assert not missing, f"categories without a case: {missing}"


@pytest.mark.parametrize(
    "case_path", _case_files(), ids=lambda p: str(p.relative_to(CASES).with_suffix(""))
)
def test_hostile_case(case_path: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    case = _load_case(case_path)
    if case.get("skip"):
        pytest.skip(str(case["skip"]))
    casedir = case_path.parent
    dirpath = tmp_path / "case"
    dirpath.mkdir()
    for name, spec in (case.get("files") or {}).items():
        target = dirpath / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_content(spec, dirpath, casedir))
    for name, mode in (case.get("chmod") or {}).items():
        os.chmod(dirpath / name, int(mode))
    argv = [_fill(a, dirpath, casedir) for a in case["argv"]]
    env = {str(k): _fill(str(v), dirpath, casedir) for k, v in (case.get("env") or {}).items()}
    env.setdefault("MPLBACKEND", "Agg")

    watched = [casedir, REPO, REPO / "trees", tmp_path]
    before = _snapshot(watched)
    if case.get("isolate"):
        code, out, err = _run_isolated(
            argv, dirpath, env, float(case.get("timeout", 60)), int(case.get("memory_mb", 4000))
        )
    else:
        code, out, err = _run_inprocess(argv, dirpath, env, capsys, monkeypatch)
    created = sorted(str(p) for p in _snapshot(watched) - before)

    expect = case["expect"]
    where = f"{case_path.name} ({case['description']}):\nexit {code}\nstderr: {err!r}"
    assert "Traceback" not in err, where
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{where}\nexpected exactly one line on stderr"
    assert code == int(expect.get("exit", 2)), where
    assert re.search(expect["stderr"], lines[0]), f"{where}\nno match for {expect['stderr']!r}"
    if expect.get("stdout_empty"):
        assert out == "", f"{where}\nstdout: {out[:500]!r}"
    assert not created, f"{where}\nfiles created outside {{dir}}: {created}"
