"""The shipped models and evidence files (decisionmodel/resources.py) and where fits look."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from decisionmodel.evidence.fit import EvidenceDir, default_priors_dir, load_evidence_for
from decisionmodel.evidence.registry import get_spec
from decisionmodel.exceptions import DecisionModelError, TreeFileError
from decisionmodel.resources import (
    UnknownTreeError,
    describe_models,
    models,
    priors_dir,
    tree_path,
    trees_dir,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "decisionmodel"
NAMES = [
    "crlm",
    "lung_wedge_vs_lobectomy",
    "peritoneal_crs_hipec",
    "whipple_pivot",
    "examples/hiv_chancellor",
    "examples/sumatriptan",
]


def test_models_are_the_shipped_tree_files():
    m = models()
    assert list(m) == NAMES
    assert m["crlm"] == trees_dir() / "crlm.yaml"
    assert m["examples/sumatriptan"] == trees_dir() / "examples" / "sumatriptan.yaml"
    assert all(p.is_file() for p in m.values())


def test_data_directories_are_inside_the_package():
    assert trees_dir().resolve() == (PACKAGE / "data" / "trees").resolve()
    assert priors_dir().resolve() == (PACKAGE / "data" / "priors").resolve()


def test_repository_links_point_at_the_packaged_data():
    """trees/ and priors/ at the root are links, so old paths read the same bytes."""
    assert (ROOT / "trees").is_symlink() and (ROOT / "priors").is_symlink()
    assert (ROOT / "trees").resolve() == trees_dir().resolve()
    assert (ROOT / "priors").resolve() == priors_dir().resolve()
    assert (ROOT / "trees" / "crlm.yaml").read_bytes() == models()["crlm"].read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_tree_path_resolves_every_name(name):
    path = tree_path(name)
    assert path == trees_dir() / f"{name}.yaml"
    assert tree_path(path) == path  # a file resolves to itself


def test_an_existing_file_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("crlm").write_text("name: mine\n", encoding="utf-8")
    assert tree_path("crlm") == Path("crlm")
    assert tree_path("whipple_pivot") == trees_dir() / "whipple_pivot.yaml"


def test_a_directory_of_a_model_name_does_not_hide_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("crlm").mkdir()
    assert tree_path("crlm") == trees_dir() / "crlm.yaml"
    assert tree_path(tmp_path) == tmp_path  # not a name: reading it reports the problem


@pytest.mark.parametrize("bad", ["nope", "crlm.yaml", "trees/missing.yaml", "sumatriptan"])
def test_unknown_name_lists_the_models(bad, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no trees/ here
    with pytest.raises(UnknownTreeError) as info:
        tree_path(bad)
    assert isinstance(info.value, TreeFileError) and isinstance(info.value, DecisionModelError)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{bad}: no such file, and not a shipped model (models: ")
    assert "models: " + ", ".join(NAMES) + ";" in msg


def test_describe_models_takes_each_tree_files_name():
    infos = describe_models()
    assert [m.name for m in infos] == NAMES
    for m in infos:
        declared = yaml.safe_load(m.path.read_text(encoding="utf-8"))["name"]
        assert m.description == " ".join(declared.split())
        assert m.path == models()[m.name]


def test_priors_dir_holds_the_evidence_files_and_their_schema():
    d = priors_dir()
    assert (d / "README.md").is_file()
    areas = EvidenceDir(d).digests()
    for model in ("surgical_risk", "intraoperative", "crlm_survival", "systemic_survival"):
        assert set(get_spec(model).files) <= set(areas)


def test_default_priors_dir_ignores_the_working_directory(tmp_path, monkeypatch):
    """A priors/ in the working directory must not silently change the evidence."""
    local = tmp_path / "priors"
    local.mkdir()
    (local / "surgical_risk.yaml").write_text("area: surgical_risk\nnot: valid\n")
    monkeypatch.chdir(tmp_path)
    assert default_priors_dir() == priors_dir()
    assert default_priors_dir().resolve() != local.resolve()
    files = load_evidence_for(get_spec("surgical_risk"))  # evidence=None: the default
    assert {f.path.parent.resolve() for f in files.values()} == {priors_dir().resolve()}


def test_cache_keys_do_not_depend_on_where_the_evidence_files_are(tmp_path):
    """The posterior cache hashes the files' bytes, so a copy elsewhere (--priors) hits it."""
    copy = shutil.copytree(priors_dir(), tmp_path / "elsewhere")
    assert EvidenceDir(copy).digests() == EvidenceDir(priors_dir()).digests()


def _glob_matches(path: str, pattern: str) -> bool:
    """setuptools' package-data glob: ``*`` stays within one directory."""
    p, g = PurePosixPath(path), PurePosixPath(pattern)
    return len(p.parts) == len(g.parts) and p.match(pattern)


def test_every_data_file_is_in_the_wheels_package_data():
    """pyproject's package-data globs cover every shipped tree and evidence file."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["decisionmodel"]
    shipped = [
        p.relative_to(PACKAGE).as_posix()
        for p in (PACKAGE / "data").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert len(shipped) >= len(NAMES) + 10  # six trees, ten evidence files, the schema
    missed = [f for f in shipped if not any(_glob_matches(f, g) for g in globs)]
    assert missed == []
    assert "py.typed" in globs and (PACKAGE / "py.typed").is_file()
