"""The repository is self-contained: no tracked file names a path outside it.

Data, citations and test references live in the repository (the VOI reference data in
``tests/data/voi-reference/``, the evidence in ``decisionmodel/data/priors/`` with a citation
of the paper on every entry). A path of one machine (``/work/...``, a home directory), a
sibling checkout (``../shared``) or a file that is not shipped (``EVIDENCE.md``) in a tracked
file works only where that path exists, so this test lists the tracked files with
``git ls-files`` and fails on every line that names one, giving file and line. Symbolic links
must point inside the repository. The test is skipped where git or the git metadata is absent
(e.g. an unpacked sdist).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()

# what names a location outside the repository: a literal every match contains (a fast
# pre-filter), the pattern, and the reason printed on failure
OUTSIDE = [
    ("/work/", re.compile(r"/work/"), "an absolute path of one machine (/work/)"),
    ("../shared", re.compile(r"\.\./shared\b"), "a directory beside the repository (../shared)"),
    (
        "shared/",
        re.compile(r"\bshared/(?:evidence|voi-reference)\b"),
        "the outside shared/ directory",
    ),
    (
        "shared",
        re.compile(r"""["']shared["']\s*/\s*["'](?:evidence|voi-reference)["']"""),
        "the outside shared/ directory, joined as a path",
    ),
    ("EVIDENCE.md", re.compile(r"EVIDENCE\.md"), "the evidence dossier, not in the repository"),
    ("/home/", re.compile(r"(?<![\w.~-])/home/[A-Za-z0-9_.-]+"), "an absolute home directory"),
    ("/Users/", re.compile(r"(?<![\w.~-])/Users/[A-Za-z0-9_.-]+"), "an absolute home directory"),
    ("/root/", re.compile(r"(?<![\w.~-])/root/"), "the root user's home directory"),
    ("Users\\", re.compile(r"\b[A-Za-z]:\\+Users\\+"), "an absolute Windows home directory"),
]


def flagged(line: str) -> list[str]:
    """The reasons for which ``line`` names a location outside the repository."""
    return [why for lit, pattern, why in OUTSIDE if lit in line and pattern.search(line)]


def tracked_files() -> list[Path]:
    """The files git tracks in this checkout (skips the test without git or a checkout)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: cannot list the tracked files")
    proc = subprocess.run(
        [git, "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout: {proc.stderr.decode(errors='replace')}")
    names = [n for n in proc.stdout.decode("utf-8", errors="replace").split("\0") if n]
    return [REPO / n for n in names]


def outside_mentions(path: Path, root: Path = REPO) -> list[str]:
    """``file:line: reason: text`` for every line of ``path`` (a file of the repository
    ``root``) that names a path outside it; a symbolic link out of ``root`` is one too."""
    rel = path.relative_to(root)
    if path.is_symlink():
        target = os.readlink(path)
        inside = (path.parent / target).resolve().is_relative_to(root.resolve())
        if os.path.isabs(target) or not inside:
            return [f"{rel}: symbolic link to {target}, outside the repository"]
        return []
    if not path.is_file():  # tracked but deleted in the working tree
        return []
    data = path.read_bytes()
    if b"\0" in data:  # binary
        return []
    text = data.decode("utf-8", errors="replace")
    if not any(lit in text for lit, _, _ in OUTSIDE):
        return []
    return [
        f"{rel}:{number}: {why}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), 1)
        for why in flagged(line)
    ]


def test_the_patterns_catch_outside_paths_and_spare_repository_paths():
    """The patterns against lines of known answer (the scan is only as good as they are)."""
    for bad in (
        "see /work/shared/evidence/EVIDENCE.md",
        'str(Path(__file__).resolve().parents[3] / "shared" / "voi-reference"),',
        "beside the repository (../shared/voi-reference)",
        "(parameter dossier: shared/evidence/EVIDENCE.md, section 13)",
        "EVIDENCE.md section 1",
        "data in /home/alice/voi",
        "cache at /Users/bob/Library",
        "HOME=/root/ by default",
        r"C:\Users\carol\data",
    ):
        assert flagged(bad), bad
    for good in (
        "tests/data/voi-reference/voi-chemo/voi_results.csv",
        "Schema: priors/README.md",
        "the evidence dossier, section 13.2",
        "~/.cache/decisionmodel (platformdirs' user cache)",
        "shared by the whole suite; on a shared machine",
        "https://github.com/chjackson/voi",
        "decisionmodel/data/trees/crlm.yaml",
        'Path(__file__).resolve().parents[1] / "data" / "voi-reference"',
    ):
        assert not flagged(good), good


def test_a_mention_is_reported_with_file_and_line(tmp_path):
    """On a repository of known content: each offending line by file and line number, a
    link out of the repository by name; clean files, binaries and inside links pass."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("fine\nsee ../shared/x\nfine\ndata: /work/y\n")
    (root / "clean.txt").write_text("tests/data/voi-reference/README.md\n")
    (root / "blob.bin").write_bytes(b"\0/work/")
    (root / "inside").symlink_to("docs")
    (root / "out").symlink_to(tmp_path)
    names = ["docs/a.md", "clean.txt", "blob.bin", "inside", "out"]
    report = {Path(n).name: outside_mentions(root / n, root) for n in names}
    assert [m.split(": ")[0] for m in report["a.md"]] == ["docs/a.md:2", "docs/a.md:4"]
    assert "../shared" in report["a.md"][0] and "/work/" in report["a.md"][1]
    assert report["clean.txt"] == report["blob.bin"] == report["inside"] == []
    assert report["out"] == [f"out: symbolic link to {tmp_path}, outside the repository"]


def test_no_tracked_file_names_a_path_outside_the_repository():
    files = [p for p in tracked_files() if p.resolve() != THIS]
    assert len(files) > 50  # the listing worked
    found = [m for p in files for m in outside_mentions(p)]
    assert not found, (
        f"{len(found)} line(s) name a path outside the repository; cite the paper or use a "
        "path inside the repository instead:\n" + "\n".join(found)
    )


def test_test_modules_have_distinct_names():
    """The test directories are not packages, so pytest imports each test module by its
    basename ("prepend" import mode): two ``test_x.py`` in different directories collide
    and the second fails to collect ("import file mismatch") on a clean checkout."""
    seen: dict[str, list[str]] = {}
    for root in (REPO / "tests", REPO / "decisionmodel"):
        for p in sorted(root.rglob("*.py")):
            if p.name.startswith("test_") or p.name.endswith("_test.py"):
                seen.setdefault(p.name, []).append(str(p.relative_to(REPO)))
    assert len(seen) > 30
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"test modules sharing a basename: {clashes}"
