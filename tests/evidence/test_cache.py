"""Tests of decisionmodel.evidence.cache: location, key, atomic writes, corrupt files.

``pymc.sample`` is replaced by a fake drawing the toy model's conjugate posterior, so a
cache miss is visible as a call to the fake.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from decisionmodel.evidence import cache
from decisionmodel.evidence.files import load_all
from decisionmodel.evidence.fit import fit

# ----------------------------------------------------------------------------- toy model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from toy_cache import TOY, conjugate_sample, write_toy
from toy_cache import build as toy_build


class FakeSampler:
    """``pymc.sample`` for the toy model, counting its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kw):
        self.calls += 1
        return conjugate_sample(*args, **kw)


@pytest.fixture
def fake(monkeypatch):
    sampler = FakeSampler()
    monkeypatch.setattr(pm, "sample", sampler)
    return sampler


@pytest.fixture
def env(tmp_path, fake):
    """(priors dir, cache dir, sampler)."""
    return write_toy(tmp_path / "priors"), tmp_path / "cache", fake


def tree(values=None) -> xr.DataTree:
    p = np.arange(12.0).reshape(3, 4) if values is None else values
    dt = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("chain", "draw"), p)})})
    dt.attrs = {"model": "toy", "seed": 3, "ok": True, "none": None, "d": {"a": 1}}
    return dt


# ----------------------------------------------------------------------------- location


def test_cache_dir_precedence(monkeypatch, tmp_path):
    """The argument, else $DECISIONMODEL_CACHE, else platformdirs' user cache directory."""
    import platformdirs

    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    asked = []

    def fake(appname, appauthor=None, **kw):
        asked.append((appname, appauthor))
        return str(tmp_path / "platform" / appname)

    monkeypatch.setattr(platformdirs, "user_cache_dir", fake)
    assert cache.cache_dir() == tmp_path / "platform" / "decisionmodel"
    assert asked == [("decisionmodel", False)]  # no author level on Windows
    monkeypatch.setenv(cache.CACHE_ENV, "")  # empty: not set
    assert cache.cache_dir() == tmp_path / "platform" / "decisionmodel"
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "env"))
    assert cache.cache_dir() == tmp_path / "env"
    assert cache.cache_dir(tmp_path / "arg") == tmp_path / "arg"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG base directories are Linux's")
def test_cache_dir_follows_xdg_on_linux(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "decisionmodel"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "decisionmodel"


def test_fit_uses_the_environment_variable(env, monkeypatch, tmp_path):
    priors, _, _ = env
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "from_env"))
    fit(TOY, priors, rng=1)
    assert len(list((tmp_path / "from_env").glob("toy-*.nc"))) == 1


# ----------------------------------------------------------------------------- the key


def test_key_depends_on_everything_it_should(tmp_path):
    ev = load_all(write_toy(tmp_path / "a"))
    base = dict(seed=1, sampler="pymc", draws=10, tune=10, chains=2)
    k = cache.cache_key(TOY, ev, **base)
    assert k == cache.cache_key(TOY, ev, **base)  # deterministic
    changed = [
        cache.cache_key(TOY, ev, **dict(base, seed=2)),
        cache.cache_key(TOY, ev, **dict(base, sampler="nutpie")),
        cache.cache_key(TOY, ev, **dict(base, draws=11)),
        cache.cache_key(TOY, ev, **dict(base, tune=11)),
        cache.cache_key(TOY, ev, **dict(base, chains=3)),
        cache.cache_key(dataclasses.replace(TOY, version="2"), ev, **base),
        cache.cache_key(TOY, load_all(write_toy(tmp_path / "b", events=6)), **base),
    ]
    assert len({k, *changed}) == len(changed) + 1
    # the evidence part is the sha256 of the file's bytes
    doc = cache.key_document(TOY, ev, **base)
    assert doc["evidence"] == {"toy": ev["toy"].digest}


def test_key_depends_on_the_source_of_the_build_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    ev = load_all(write_toy(tmp_path / "p"))
    keys = []
    for i, body in enumerate(["return 1", "return 2  # edited"]):
        (tmp_path / f"toymod{i}.py").write_text(f"def build(ev):\n    {body}\n")
        mod = importlib.import_module(f"toymod{i}")
        spec = dataclasses.replace(TOY, build=mod.build)
        keys.append(cache.cache_key(spec, ev, seed=1, sampler="pymc", draws=1, tune=1, chains=1))
    assert keys[0] != keys[1]
    assert cache.source_digest(mod.build) != cache.source_digest(toy_build)


def _toy_models(root: Path, name: str, *, kernel: str = "1", doc_a: str = "A.") -> None:
    """A package ``name`` of two models sharing a kernel module, and one using none."""
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""Toy models."""\n')
    (pkg / "kernels.py").write_text(f"def rate():\n    return {kernel}\n")
    (pkg / "model_a.py").write_text(
        f'"""{doc_a}"""\n\nfrom {name}.kernels import rate\n\n\ndef build(ev):\n    return rate()\n'
    )
    (pkg / "model_b.py").write_text(
        '"""B."""\n\n\ndef build(ev):\n    from .kernels import rate\n\n    return rate()\n'
    )
    (pkg / "model_c.py").write_text('"""C."""\n\n\ndef build(ev):\n    return 3\n')


def test_key_covers_the_shared_modules_a_model_imports(tmp_path, monkeypatch):
    """Editing a kernel changes the key of every model importing it (at module level or in
    a function, absolutely or relatively); editing one model's docstring changes its key
    only; a model importing no shared module keeps the digest of its own source text."""
    import hashlib

    monkeypatch.syspath_prepend(str(tmp_path))
    variants = {"base": {}, "kernel": {"kernel": "2"}, "doc": {"doc_a": "A, edited."}}
    digests = {}
    for variant, edits in variants.items():
        name = f"toymodels_{variant}"
        _toy_models(tmp_path, name, **edits)
        digests[variant] = {
            m: cache.source_digest(importlib.import_module(f"{name}.model_{m}").build)
            for m in "abc"
        }
        assert cache.source_modules(importlib.import_module(f"{name}.model_b").build) == (
            f"{name}.model_b",
            f"{name}.kernels",
        )
    base, kernel, doc = digests["base"], digests["kernel"], digests["doc"]
    assert kernel["a"] != base["a"] and kernel["b"] != base["b"] and kernel["c"] == base["c"]
    assert doc["a"] != base["a"] and doc["b"] == base["b"] and doc["c"] == base["c"]
    own = (tmp_path / "toymodels_base" / "model_c.py").read_bytes()
    assert base["c"] == hashlib.sha256(own).hexdigest()
    src_a = (tmp_path / "toymodels_base" / "model_a.py").read_bytes()
    src_k = (tmp_path / "toymodels_base" / "kernels.py").read_bytes()
    parts = [hashlib.sha256(src_a).hexdigest(), hashlib.sha256(src_k).hexdigest()]
    assert base["a"] == hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_the_registered_models_key_their_own_module_and_the_shared_ones():
    """Each evidence model's key covers its module, the shared kernels it uses and the
    clinical definitions it imports; never another model's module."""
    from decisionmodel.evidence.registry import MODEL_MODULES, load_models

    models = "decisionmodel.evidence.models."
    expected = {
        "surgical_risk": {models + "risk_common"},
        "intraoperative": {models + "risk_common"},
        "tumour_kinetics": {models + "risk_common", "decisionmodel.clinical.kinetics"},
        "crlm_survival": {
            models + "survival_kernels",
            models + "crlm_profile",
            "decisionmodel.clinical.fong",
        },
        "systemic_survival": {models + "survival_kernels"},
    }
    specs = load_models()
    assert list(specs) == list(expected)
    for name, spec in specs.items():
        own, *shared = cache.source_modules(spec.build)
        assert own == models + name and own in MODEL_MODULES
        assert set(shared) == expected[name], name
        assert not set(shared) & set(MODEL_MODULES)


# ----------------------------------------------------------------------------- save / load


def test_round_trip_keeps_values_and_attrs(tmp_path):
    key = "f" * 64
    path = cache.save(tree(), "toy", key, directory=tmp_path)
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    assert meta["key"] == key and len(meta["sha256"]) == 64
    back = cache.load("toy", key, directory=tmp_path)
    np.testing.assert_array_equal(back["posterior"]["p"], tree()["posterior"]["p"])
    assert back.attrs["model"] == "toy" and back.attrs["seed"] == 3 and back.attrs["ok"] == 1
    assert type(back.attrs["seed"]) is int
    assert "none" not in back.attrs and json.loads(back.attrs["d"]) == {"a": 1}
    assert cache.load("toy", "e" * 64, directory=tmp_path) is None  # other key: a miss
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file, not mkstemp's 0600


@pytest.mark.parametrize(
    "damage",
    [
        lambda nc, side: nc.write_bytes(nc.read_bytes()[: nc.stat().st_size // 2]),  # truncated
        lambda nc, side: nc.write_bytes(b"\x89HDF\r\n" + os.urandom(2000)),  # garbage
        lambda nc, side: nc.write_bytes(  # one flipped byte
            (lambda b: b[:-100] + bytes([b[-100] ^ 0xFF]) + b[-99:])(nc.read_bytes())
        ),
        lambda nc, side: side.unlink(),  # sidecar missing
        lambda nc, side: side.write_text("{not json"),  # sidecar corrupt
        lambda nc, side: side.write_text(  # sidecar of another key
            json.dumps(dict(json.loads(side.read_text()), key="0" * 64))
        ),
    ],
    ids=["truncated", "garbage", "bitflip", "no-sidecar", "bad-sidecar", "wrong-key"],
)
def test_damaged_cache_is_refitted_never_used(env, damage, caplog):
    priors, cdir, sampler = env
    first = fit(TOY, priors, rng=1, cache_dir=cdir)
    (nc,) = cdir.glob("toy-*.nc")
    damage(nc, nc.with_suffix(".json"))
    had_sidecar = nc.with_suffix(".json").exists()
    again = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert sampler.calls == 2 and again.attrs["from_cache"] == 0
    assert ("refitting" in caplog.text) == had_sidecar  # a rejected entry is logged
    np.testing.assert_array_equal(again["posterior"]["p"], first["posterior"]["p"])
    third = fit(TOY, priors, rng=1, cache_dir=cdir)  # repaired
    assert sampler.calls == 2 and third.attrs["from_cache"] == 1


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    key = "a" * 64
    good = cache.save(tree(), "toy", key, directory=tmp_path)
    before = good.read_bytes()

    def broken(fd, data):  # the disk fills up half-way through a write
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "disk full")

    monkeypatch.setattr(cache, "_write_all", broken)
    with pytest.raises(OSError, match="disk full"):
        cache.save(tree(), "toy", key, directory=tmp_path)  # same draws: a rewrite
    with pytest.raises(OSError, match="disk full"):
        cache.save(tree(), "toy", "b" * 64, directory=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([good.name, good.stem + ".json"])
    assert good.read_bytes() == before  # the old file is untouched
    monkeypatch.undo()
    assert float(cache.load("toy", key, directory=tmp_path)["posterior"]["p"].sum()) == 66.0


def test_clear(tmp_path):
    cache.save(tree(), "toy", "a" * 64, directory=tmp_path)
    cache.save(tree(), "toy_b", "a" * 64, directory=tmp_path)
    assert cache.clear("toy", directory=tmp_path) == 2
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["toy_b", "toy_b"]
    assert cache.clear(directory=tmp_path) == 2
    assert cache.clear(directory=tmp_path / "absent") == 0


# ----------------------------------------------------------------------------- hits and misses


def test_cache_hit_and_misses(env):
    priors, cdir, sampler = env
    a = fit(TOY, priors, rng=1, cache_dir=cdir)
    b = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert sampler.calls == 1 and a.attrs["from_cache"] == 0 and b.attrs["from_cache"] == 1
    np.testing.assert_array_equal(a["posterior"]["p"], b["posterior"]["p"])
    assert b.attrs["cache_key"] == a.attrs["cache_key"]

    fit(TOY, priors, rng=2, cache_dir=cdir)  # seed change
    assert sampler.calls == 2
    fit(dataclasses.replace(TOY, version="2"), priors, rng=1, cache_dir=cdir)  # version bump
    assert sampler.calls == 3
    fit(TOY, priors, rng=1, cache_dir=cdir, draws=999)  # sampler settings
    assert sampler.calls == 4
    write_toy(priors, events=7)  # evidence file changed
    c = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert sampler.calls == 5 and c.attrs["cache_key"] != a.attrs["cache_key"]
    write_toy(priors, events=5)  # back to the original bytes: a hit again
    fit(TOY, priors, rng=1, cache_dir=cdir)
    assert sampler.calls == 5
    fit(TOY, priors, rng=1, cache_dir=cdir, refit=True)
    assert sampler.calls == 6
    fit(TOY, priors, rng=1, cache_dir=cdir, cores=2)  # cores does not change the draws
    assert sampler.calls == 6


def test_cache_false_neither_reads_nor_writes(env):
    priors, cdir, sampler = env
    fit(TOY, priors, rng=1, cache=False, cache_dir=cdir)
    assert not cdir.exists()
    fit(TOY, priors, rng=1, cache_dir=cdir)
    fit(TOY, priors, rng=1, cache=False, cache_dir=cdir)
    assert sampler.calls == 3


def test_gate_results_from_an_older_gate_are_redone_and_stored(env):
    priors, cdir, sampler = env
    dt = fit(TOY, priors, rng=1, cache_dir=cdir)
    key = dt.attrs["cache_key"]
    old = cache.load("toy", key, directory=cdir)
    del old.attrs["gate_version"]
    old.attrs["diagnostics_passed"] = 0  # what an older, different gate had concluded
    cache.save(old, "toy", key, directory=cdir)
    again = fit(TOY, priors, rng=1, cache_dir=cdir)  # no DiagnosticsError: recomputed
    assert sampler.calls == 1 and again.attrs["diagnostics_passed"] == 1
    stored = cache.load("toy", key, directory=cdir)
    assert stored.attrs["gate_version"] == dt.attrs["gate_version"]
    assert "from_cache" not in stored.attrs


# ----------------------------------------------------------------------------- provenance, trust


def test_sidecar_records_provenance_and_the_draws_checksum(tmp_path):
    dt = tree()
    nc = cache.save(dt, "toy", "a" * 64, directory=tmp_path)
    meta = json.loads(nc.with_suffix(".json").read_text())
    assert meta["model"] == "toy" and meta["key"] == "a" * 64
    assert meta["draws_sha256"] == cache.draws_checksum(dt)
    prov = meta["provenance"]
    assert prov["compile_flags"] == {"numba__fastmath": False}
    assert prov["versions"]["pymc"] == importlib.metadata.version("pymc")
    assert prov["versions"]["pytensor"] == importlib.metadata.version("pytensor")
    assert prov["host"] and prov["cpu"] and prov["created"].endswith("Z")
    assert prov["draws_sha256"] == meta["draws_sha256"]


def test_draws_checksum_sees_one_bit_and_ignores_attrs():
    a = tree()
    b = tree()
    b.attrs["seed"] = 99
    assert cache.draws_checksum(a) == cache.draws_checksum(b)
    values = np.arange(12.0).reshape(3, 4)
    values[2, 3] = np.nextafter(values[2, 3], np.inf)
    assert cache.draws_checksum(tree(values)) != cache.draws_checksum(a)


def test_a_sidecar_for_another_model_is_not_trusted(tmp_path, caplog):
    nc = cache.save(tree(), "toy", "a" * 64, directory=tmp_path)
    side = nc.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta["model"] = "other"
    side.write_text(json.dumps(meta))
    assert cache.load("toy", "a" * 64, directory=tmp_path) is None
    assert not cache.has("toy", "a" * 64, directory=tmp_path)
    assert "another model" in caplog.text


def _tamper(nc: Path, values: np.ndarray, attrs: dict | None = None) -> None:
    """Rewrite the NetCDF file with other draws and make the file checksum consistent."""
    dt = tree(values)
    dt.attrs = attrs or {"model": "toy"}
    dt.to_netcdf(nc, engine="h5netcdf")
    side = nc.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta["sha256"] = cache._file_sha256(nc)
    side.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "values",
    [np.zeros((3, 4)), np.arange(12.0).reshape(3, 4)[:, :2].copy()],
    ids=["other-draws", "fewer-draws"],
)
def test_tampered_draws_with_a_consistent_file_checksum_are_refitted(tmp_path, values, caplog):
    nc = cache.save(tree(), "toy", "a" * 64, directory=tmp_path)
    _tamper(nc, values)
    assert cache.load("toy", "a" * 64, directory=tmp_path) is None
    assert "checksum" in caplog.text


def test_a_posterior_without_chain_and_draw_is_refitted(tmp_path, caplog):
    nc = cache.save(tree(), "toy", "a" * 64, directory=tmp_path)
    bad = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": (("x",), np.arange(3.0))})})
    bad.to_netcdf(nc, engine="h5netcdf")
    side = nc.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta["sha256"] = cache._file_sha256(nc)
    side.write_text(json.dumps(meta))
    assert cache.load("toy", "a" * 64, directory=tmp_path) is None
    assert "not over (chain, draw)" in caplog.text


def test_other_draws_under_the_same_key_are_a_conflict_and_both_are_kept(tmp_path):
    from decisionmodel.exceptions import CacheConflictError

    key = "c" * 64
    first = cache.save(tree(), "toy", key, directory=tmp_path)
    before = first.read_bytes()
    cache.save(tree(), "toy", key, directory=tmp_path)  # the same draws: fine
    with pytest.raises(CacheConflictError, match="not reproducible") as err:
        cache.save(tree(np.zeros((3, 4))), "toy", key, directory=tmp_path)
    assert first.read_bytes() == before
    (kept,) = (tmp_path / "conflicts").glob("*.nc")
    assert str(kept) in str(err.value)
    with xr.open_datatree(kept, engine="h5netcdf") as dt:
        assert float(dt["posterior"]["p"].sum()) == 0.0
    assert float(cache.load("toy", key, directory=tmp_path)["posterior"]["p"].sum()) == 66.0


def test_an_unusable_cache_directory_is_refused_before_fitting(env):
    from decisionmodel.exceptions import CacheError

    priors, cdir, sampler = env
    blocker = cdir.parent / "a-file"
    blocker.write_text("x")
    for where in (blocker, blocker / "cache"):
        with pytest.raises(CacheError, match=r"is a file|part of the path is a file"):
            fit(TOY, priors, rng=1, cache_dir=where)
    assert sampler.calls == 0  # nothing was paid for


def test_a_failed_cache_write_loses_nothing(env, monkeypatch, caplog):
    priors, cdir, _ = env

    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "_write_all", full)
    dt = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert dt.attrs["from_cache"] == 0 and float(dt["posterior"]["p"].mean()) > 0
    assert "could not be cached" in caplog.text
    assert [p.name for p in cdir.iterdir() if p.suffix == ".tmp"] == []


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / ".toy-x.nc.999999999.abcdef.tmp"
    live = tmp_path / f".toy-y.nc.{os.getppid()}.abcdef.tmp"
    dead.write_bytes(b"partial")
    live.write_bytes(b"being written")
    cache.save(tree(), "toy", "a" * 64, directory=tmp_path)
    assert not dead.exists() and live.exists()


def test_the_entry_lock_serialises_two_fits_of_one_model(env):
    """Two threads fit the same uncached model into one cache: one samples, the other
    waits for the lock and then reads the entry."""
    import threading

    priors, cdir, sampler = env
    results = []
    barrier = threading.Barrier(2)

    def work():
        barrier.wait()
        results.append(fit(TOY, priors, rng=5, cache_dir=cdir))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sampler.calls == 1
    assert sorted(r.attrs["from_cache"] for r in results) == [0, 1]
    np.testing.assert_array_equal(results[0]["posterior"]["p"], results[1]["posterior"]["p"])
