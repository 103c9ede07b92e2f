"""Benchmark: fit every registered evidence model cold, then load it warm from the cache.

For each configuration ``SAMPLER:JOBS`` (PyMC's NUTS or nutpie, both through
``pymc.sample(nuts_sampler=...)``; JOBS models fitted at once in worker processes, see
:func:`decisionmodel.evidence.fit.fit_all`):

* **cold** -- a fresh Python process with an empty pytensor compile directory
  (``PYTENSOR_FLAGS=base_compiledir=<tmp>``), an empty numba cache and an empty posterior
  cache fits every model of ``decisionmodel.evidence.registry.MODELS`` with the default
  settings (4 chains x each model's draws, 1000 or 2000 for crlm_survival, after 1000
  tuning steps): model building, compilation,
  sampling, the diagnostics gate and the cache write are all included;
* **warm** -- a second fresh process reads the same fits back from the posterior cache
  (checksum, NetCDF read, gate), which is what every later command does.

Reported per model: the cold fit time (measured inside the process that fitted it), its
CPU time when fitted in this process, the part PyMC reports as sampling (the rest is
building and compiling), the warm load time, and the diagnostics. Totals are wall-clock
over all models; the import of decisionmodel/PyMC is timed separately. The aims are a
cold total under 2 minutes and a warm total under 2 s.

Run ``python benchmarks/bench_evidence.py --help`` (all four configurations take about
25 minutes on a busy 2-core machine). On a shared machine the load average (printed at
start and end) inflates the wall times; CPU times are less affected.

Result on 2026-11-27 (2 cores, load average ~4 from other jobs; five models): cold
total pymc:1 328 s, nutpie:1 230 s, pymc:2 309 s, nutpie:2 193 s; NUTS itself 95-106 s
with pymc and 10 s with nutpie, the rest being compilation (nutpie:1 cold CPU 119 s);
warm 1.1-1.3 s (0.8 s in-process on a quieter machine). Hence the default sampler
nutpie and ``fit_all(jobs=...)`` / ``--jobs`` (see the docstring of
:func:`decisionmodel.evidence.fit.fit`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AIM_COLD_S = 120.0
AIM_WARM_S = 2.0
DEFAULT_CONFIGS = ("pymc:1", "nutpie:1", "pymc:2", "nutpie:2")


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (PyMC's chain processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ----------------------------------------------------------------------------- worker


def _worker(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    from decisionmodel.evidence import registry
    from decisionmodel.evidence.files import load_all
    from decisionmodel.evidence.fit import default_priors_dir, diagnostics, fit_all

    names = args.model or list(registry.MODELS)  # imports the model modules (and PyMC)
    t_import = time.perf_counter() - t0
    evidence = load_all(default_priors_dir())
    seconds: dict[str, tuple[float, float]] = {}
    last = [time.perf_counter(), _cpu()]

    def on_fit(name: str, dt: Any, secs: float) -> None:
        now, cpu = time.perf_counter(), _cpu()
        seconds[name] = (secs, cpu - last[1])
        last[:] = [now, cpu]

    t_all = time.perf_counter()
    error = ""
    try:
        fits = fit_all(
            names,
            evidence,
            seed=args.seed,
            jobs=args.jobs,
            on_fit=on_fit,
            sampler=args.sampler,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            cache_dir=args.cache_dir,
            accept_diagnostics=True,
            cores=args.cores,
        )
    except Exception as exc:  # report, do not stop the benchmark
        fits, error = {}, repr(exc)
    total = time.perf_counter() - t_all
    rows: list[dict[str, Any]] = []
    for name, dt in fits.items():
        table = diagnostics(dt)
        here, cpu = seconds.get(name, (float("nan"), float("nan")))
        fresh = not dt.attrs.get("from_cache", 0)
        rows.append(
            {
                "model": name,
                "seconds": here,  # in this process: a fit, or a load from the cache
                "fit_seconds": float(dt.attrs.get("fit_seconds", float("nan"))),
                "cpu": cpu if fresh and args.jobs <= 1 else float("nan"),
                "sampling": float(dt["posterior"].attrs.get("sampling_time", float("nan"))),
                "from_cache": int(dt.attrs.get("from_cache", 0)),
                "key": str(dt.attrs.get("cache_key", "")),
                "gate": "pass" if int(dt.attrs.get("diagnostics_passed", 0)) else "FAIL",
                "divergences": int(table.attrs["divergences"]),
                "max_r_hat": float(table["r_hat"].max()),
                "min_ess": float(table[["ess_bulk", "ess_tail"]].min().min()),
                "variables": len(table),
            }
        )
    print(json.dumps({"import": t_import, "total": total, "rows": rows, "error": error}))


def _run_worker(
    config: str, phase: str, cache_dir: str, compiledir: str, opts: argparse.Namespace
) -> dict[str, Any]:
    sampler, jobs = config.split(":")
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir}"
    env["NUMBA_CACHE_DIR"] = os.path.join(compiledir, "numba")
    env.pop("DECISIONMODEL_CACHE", None)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", "--sampler", sampler]
    cmd += ["--jobs", jobs, "--cache-dir", cache_dir, "--seed", str(opts.seed)]
    if opts.draws is not None:
        cmd += ["--draws", str(opts.draws)]
    cmd += ["--tune", str(opts.tune), "--chains", str(opts.chains)]
    if opts.cores is not None:
        cmd += ["--cores", str(opts.cores)]
    for m in opts.model or []:
        cmd += ["--model", m]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{phase} run of {config} failed (exit {proc.returncode})")
    out = json.loads(lines[-1])
    if out.get("error"):
        print(f"  {config} {phase}: error {out['error'][:300]}", file=sys.stderr)
    out["wall"] = wall
    return out


# ----------------------------------------------------------------------------- driver


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _table(results: dict[str, dict[str, Any]]) -> str:
    header = (
        f"{'model':<18} {'config':<8} {'cold s':>7} {'cpu s':>7} {'sampling':>8} "
        f"{'warm s':>7} {'gate':>5} {'div':>4} {'max R-hat':>9} {'min ESS':>7} {'vars':>4}"
    )
    lines = [header, "-" * len(header)]
    notes: list[str] = []
    for config, res in results.items():
        warm = {r["model"]: r for r in res["warm"]["rows"]}
        for r in res["cold"]["rows"]:
            w = warm.get(r["model"], {})
            flag = ""
            if w and not w.get("from_cache"):
                flag = "*"
                why = "its cache key changed" if w.get("key") != r["key"] else "the cache missed"
                notes.append(
                    f"* {r['model']} ({config}): the warm run refitted ({why}; was the model's "
                    "source or evidence edited during the run?)"
                )
            lines.append(
                f"{r['model']:<18} {config:<8} {r['fit_seconds']:>7.1f} {_nan(r['cpu']):>7.1f} "
                f"{r['sampling']:>8.1f} {_nan(w.get('seconds')):>7.3f}{flag:<1} {r['gate']:>4} "
                f"{r['divergences']:>4} {r['max_r_hat']:>9.4f} {r['min_ess']:>7.0f} "
                f"{r['variables']:>4}"
            )
    lines.append("-" * len(header))
    for config, res in results.items():
        c, w = res["cold"], res["warm"]
        smp = sum(r["sampling"] for r in c["rows"])
        lines.append(
            f"{'TOTAL':<18} {config:<8} {c['total']:>7.1f} {'':>7} {smp:>8.1f} "
            f"{w['total']:>7.3f}  (+ import {c['import']:.1f} s; whole process "
            f"{c['wall']:.1f} s cold / {w['wall']:.1f} s warm)"
        )
    return "\n".join(lines + notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time cold fits and warm cache loads of the evidence models."
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        default=list(DEFAULT_CONFIGS),
        metavar="SAMPLER:JOBS",
        help=f"configurations to time (default {' '.join(DEFAULT_CONFIGS)})",
    )
    parser.add_argument("--model", action="append", help="only this model (repeatable)")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument(
        "--draws", type=int, default=None, help="draws per chain (default: each model's own)"
    )
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument(
        "--cores", type=int, help="processes/threads for the chains (default: fit()'s choice)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    # worker-only options
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sampler", default="pymc", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._worker:
        _worker(args)
        return 0
    for config in args.configs:
        sampler, _, jobs = config.partition(":")
        if sampler not in ("pymc", "nutpie") or not jobs.isdigit() or int(jobs) < 1:
            parser.error(f"bad configuration {config!r}: expected pymc:N or nutpie:N")

    print(f"load average at start: {_loadavg()}  (cpus: {os.cpu_count()})", flush=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        for config in args.configs:
            tag = config.replace(":", "-")
            compiledir = os.path.join(tmp, f"compile-{tag}")
            cache_dir = os.path.join(tmp, f"posteriors-{tag}")
            print(f"{config}: cold fit of every model ...", flush=True)
            cold = _run_worker(config, "cold", cache_dir, compiledir, args)
            print(f"{config}: cold {cold['total']:.1f} s; warm load ...", flush=True)
            warm = _run_worker(config, "warm", cache_dir, compiledir, args)
            print(f"{config}: warm {warm['total']:.2f} s", flush=True)
            results[config] = {"cold": cold, "warm": warm}
    print()
    print(_table(results))
    print(f"\nload average at end: {_loadavg()}")
    print(f"aims: cold total < {AIM_COLD_S:.0f} s, warm total < {AIM_WARM_S:.0f} s")
    for config, res in results.items():
        cold_ok = res["cold"]["total"] < AIM_COLD_S
        warm_ok = res["warm"]["total"] < AIM_WARM_S
        print(
            f"  {config}: cold {'met' if cold_ok else 'MISSED'}, "
            f"warm {'met' if warm_ok else 'MISSED'}"
        )
    if len(results) > 1:
        best = min(results, key=lambda c: results[c]["cold"]["total"])
        print(f"fastest cold: {best}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
