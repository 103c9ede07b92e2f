"""Hostile conditions for the posterior cache: foreign and forged entries, a process killed
with SIGKILL while it writes, two processes fitting the same model into one empty cache.

The sampler is replaced by a fast fake (exact conjugate draws, no MCMC), in this process
and in the subprocesses, so these tests take seconds. The CLI-level cache cases (a cache
path that is a file, below a file, under /proc) are case files in ``cases/cache/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from decisionmodel.evidence import cache
from decisionmodel.evidence.fit import fit
from decisionmodel.evidence.registry import ModelSpec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from toy_cache import TOY, build, fake_sample, write_toy  # noqa: E402

#: what a subprocess runs first: the toy model and the fake sampler
PRELUDE = textwrap.dedent(
    f"""
    import os, sys, time
    sys.path.insert(0, {str(HERE)!r})
    from toy_cache import TOY, install
    from decisionmodel.evidence import cache
    from decisionmodel.evidence.fit import fit
    install()
    """
)


@pytest.fixture(autouse=True)
def _fake_sampler(monkeypatch):
    import pymc as pm

    monkeypatch.setattr(pm, "sample", fake_sample)


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    priors = write_toy(tmp_path / "priors")
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CALLS", str(calls))
    return priors, tmp_path / "cache", calls


def _calls(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _wait_for_sampling(calls: Path, proc: subprocess.Popen, timeout: float) -> None:
    """Return once the subprocess has entered the (fake) sampler; fail if it has not
    within ``timeout`` seconds or has exited."""
    deadline = time.monotonic() + timeout
    while _calls(calls) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _calls(calls) == 1, proc.stderr.read() if proc.poll() is not None else "timed out"


def _spawn(priors: Path, cdir: Path, body: str, **env: str) -> subprocess.Popen:
    script = PRELUDE + textwrap.dedent(body)
    full = {**os.environ, **env, "PRIORS": str(priors), "CACHE": str(cdir)}
    full.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


FIT_AND_PRINT = """
dt = fit(TOY, os.environ["PRIORS"], rng=1, cache_dir=os.environ["CACHE"])
print("CHECKSUM", cache.draws_checksum(dt), dt.attrs["from_cache"], flush=True)
"""


# ----------------------------------------------------------------------------- foreign, forged


def test_another_models_entry_copied_under_this_key_is_refitted(dirs, caplog):
    priors, cdir, calls = dirs
    other = ModelSpec("other", ("toy",), build, TOY.outputs, TOY.checks)
    fit(other, priors, rng=1, cache_dir=cdir)
    first = fit(TOY, priors, rng=1, cache_dir=cdir)
    (mine,) = cdir.glob("toy-*.nc")
    (theirs,) = cdir.glob("other-*.nc")
    shutil.copy(theirs, mine)  # the file of another model, under this model's name
    shutil.copy(theirs.with_suffix(".json"), mine.with_suffix(".json"))
    again = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert again.attrs["from_cache"] == 0 and _calls(calls) == 3
    np.testing.assert_array_equal(again["posterior"]["p"], first["posterior"]["p"])


def test_a_forged_entry_with_consistent_checksums_is_refitted(dirs, caplog):
    """The draws are replaced by a posterior without the model's variable and both
    checksums in the sidecar are recomputed: the entry is refused (it cannot give the
    model's outputs), never an exception from deep inside the analysis."""
    priors, cdir, calls = dirs
    first = fit(TOY, priors, rng=1, cache_dir=cdir)
    (nc,) = cdir.glob("toy-*.nc")
    forged = xr.DataTree.from_dict(
        {"posterior": xr.Dataset({"q": (("chain", "draw"), np.zeros((4, 1000)))})}
    )
    forged.attrs = {k: v for k, v in first.attrs.items() if isinstance(v, (int, float, str))}
    forged.to_netcdf(nc, engine="h5netcdf")
    meta = json.loads(nc.with_suffix(".json").read_text())
    meta["sha256"] = cache._file_sha256(nc)
    meta["draws_sha256"] = cache.draws_checksum(forged)
    nc.with_suffix(".json").write_text(json.dumps(meta))
    again = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert again.attrs["from_cache"] == 0 and _calls(calls) == 2
    assert "unusable" in caplog.text
    np.testing.assert_array_equal(again["posterior"]["p"], first["posterior"]["p"])


def test_a_directory_in_place_of_the_entry_is_not_read(dirs):
    priors, cdir, _ = dirs
    first = fit(TOY, priors, rng=1, cache_dir=cdir)
    (nc,) = cdir.glob("toy-*.nc")
    side = nc.with_suffix(".json")
    side.unlink()
    side.mkdir()  # a directory where the sidecar belongs
    again = fit(TOY, priors, rng=1, cache_dir=cdir, cache=True)
    np.testing.assert_array_equal(again["posterior"]["p"], first["posterior"]["p"])


# ----------------------------------------------------------------------------- kill -9, races


def test_kill_9_while_writing_a_refit_then_rerun(dirs):
    """``evidence fit --refit`` is killed with SIGKILL half-way through writing the new
    NetCDF file: the cached entry stays readable and unchanged, the rerun reads it, and
    the temporary file of the dead process is removed by the next write."""
    priors, cdir, _ = dirs
    first = fit(TOY, priors, rng=1, cache_dir=cdir)
    (nc,) = cdir.glob("toy-*.nc")
    before = nc.read_bytes()
    proc = _spawn(
        priors,
        cdir,
        """
        def slow(fd, data):
            os.write(fd, bytes(data[: len(data) // 2]))
            print("WRITING", flush=True)
            time.sleep(60)
        cache._write_all = slow
        fit(TOY, os.environ["PRIORS"], rng=1, cache_dir=os.environ["CACHE"], refit=True)
        """,
    )
    assert proc.stdout.readline().strip() == "WRITING"
    (tmp,) = [p for p in cdir.iterdir() if p.name.endswith(".tmp")]
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert tmp.exists() and nc.read_bytes() == before  # nothing lost
    again = fit(TOY, priors, rng=1, cache_dir=cdir)
    assert again.attrs["from_cache"] == 1
    np.testing.assert_array_equal(again["posterior"]["p"], first["posterior"]["p"])
    fit(TOY, priors, rng=1, cache_dir=cdir, refit=True)  # the next write cleans up
    assert not tmp.exists()
    assert [p.name for p in cdir.iterdir() if p.name.endswith(".tmp")] == []


def test_kill_9_while_sampling_leaves_no_entry_and_no_lock_held(dirs):
    priors, cdir, calls = dirs
    proc = _spawn(priors, cdir, FIT_AND_PRINT, SAMPLE_SECONDS="60")
    _wait_for_sampling(calls, proc, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert list(cdir.glob("toy-*.nc")) == []
    t0 = time.monotonic()
    dt = fit(TOY, priors, rng=1, cache_dir=cdir)  # the dead process's lock is released
    assert time.monotonic() - t0 < 30 and dt.attrs["from_cache"] == 0


def test_two_concurrent_cold_fits_into_one_empty_cache_sample_once(dirs):
    priors, cdir, calls = dirs
    procs = [_spawn(priors, cdir, FIT_AND_PRINT, SAMPLE_SECONDS="3") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    lines = [next(x for x in out.splitlines() if x.startswith("CHECKSUM")) for out, _ in outs]
    checksums = {line.split()[1] for line in lines}
    assert len(checksums) == 1  # the same draws
    assert sorted(line.split()[2] for line in lines) == ["0", "1"]  # one fitted, one read
    assert _calls(calls) == 1
    assert [p.name for p in cdir.iterdir() if p.name.endswith(".tmp")] == []


# ----------------------------------------------------------------------------- Ctrl-C


CLI_FIT = """
import sys
from decisionmodel.cli import main
sys.exit(main(["evidence", "fit", "--model", "surgical_risk", "--jobs", "1",
               "--cache-dir", os.environ["CACHE"]]))
"""


def test_ctrl_c_during_a_fit_exits_130_and_caches_nothing(dirs):
    priors, cdir, calls = dirs
    proc = _spawn(priors, cdir, CLI_FIT, SAMPLE_SECONDS="120")
    _wait_for_sampling(calls, proc, 120)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "decisionmodel: interrupted"
    assert list(cdir.glob("*.nc")) == []


def test_partial_draws_returned_on_interrupt_are_never_cached(dirs):
    """nutpie answers Ctrl-C by returning the draws made so far; such a fit stops the run
    as interrupted and leaves no cache entry."""
    priors, cdir, _ = dirs
    proc = _spawn(
        priors,
        cdir,
        textwrap.dedent(
            """
        import numpy as np, pymc as pm, xarray as xr

        def partial(draws=1000, *, chains=4, **kw):  # 10 draws, as after an abort
            x = np.zeros((chains, 10))
            return xr.DataTree.from_dict({"posterior": xr.Dataset({"a": (("chain", "draw"), x)})})

        pm.sample = partial
        """
        )
        + CLI_FIT,
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    assert err.strip() == "decisionmodel: interrupted"
    assert list(cdir.glob("*.nc")) == []
