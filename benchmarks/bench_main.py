"""Benchmark of the README's main job: ``decisionmodel run trees/crlm.yaml``.

Runs the command as a user does (a fresh process each time, the installed console script)
and prints a table of wall times:

* **cold**: empty posterior cache (``--cache-dir`` in a temporary directory), empty
  pytensor compile directory (``PYTENSOR_FLAGS=base_compiledir=<tmp>``) and empty numba
  cache (``NUMBA_CACHE_DIR``): the evidence models are compiled and sampled, then the PSA
  draws, the evaluation, the decision table and the EVPI;
* **warm**: the same command again (posteriors read from the cache);
* **priors only**: ``--priors-only`` (no evidence layer at all), the baseline measured in
  the same run: warm / priors-only is what reading the evidence costs.

Aims (issue "The metastasectomy models"): cold under 3 minutes, warm under 20 seconds on
the project's 2-core machine. The load average is printed at the start and the end: other
processes inflate the times.

Usage::

    .venv/bin/python benchmarks/bench_main.py            # cold, warm x3, priors-only x3
    .venv/bin/python benchmarks/bench_main.py --warm-only
    .venv/bin/python benchmarks/bench_main.py --json main.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "trees" / "crlm.yaml"
AIM_COLD = 180.0
AIM_WARM = 20.0


def _exe() -> str:
    here = Path(sys.executable).parent / "decisionmodel"
    return str(here) if here.exists() else shutil.which("decisionmodel") or "decisionmodel"


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="warm and priors-only runs (best of)")
    ap.add_argument("--warm-only", action="store_true", help="skip the cold run")
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--json", help="write the timings to this file")
    args = ap.parse_args(argv)

    print(
        f"# main job benchmark: decisionmodel run {TREE.relative_to(ROOT)} --samples {args.samples}"
    )
    print(
        f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        cache = os.path.join(tmp, "posteriors")
        if not args.warm_only:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={os.path.join(tmp, 'compile')}"
            env["NUMBA_CACHE_DIR"] = os.path.join(tmp, "numba")
        else:
            cache = None
        base = [_exe(), "run", str(TREE), "--samples", str(args.samples), "-q"]
        ev = [*base, "--cache-dir", cache] if cache else base
        if not args.warm_only:
            print("# cold run (compiling and sampling the evidence models) ...", flush=True)
            rows["cold"] = [_time(ev, env)]
        print("# warm runs ...", flush=True)
        rows["warm"] = [_time(ev, env) for _ in range(args.repeats)]
        print("# priors-only runs ...", flush=True)
        rows["priors only"] = [_time([*base, "--priors-only"], env) for _ in range(args.repeats)]

    best = {k: min(v) for k, v in rows.items()}
    print()
    print(f"{'run':<12} | {'best s':>8} | {'/ priors-only':>13} | times s")
    print("-" * 13 + "+" + "-" * 10 + "+" + "-" * 15 + "+" + "-" * 24)
    for k, v in rows.items():
        ratio = best[k] / best["priors only"]
        print(f"{k:<12} | {best[k]:8.1f} | {ratio:13.2f} | {' '.join(f'{x:.1f}' for x in v)}")
    print()
    if "cold" in best:
        verdict = "MET" if best["cold"] < AIM_COLD else "NOT MET"
        print(f"aim cold < {AIM_COLD:.0f} s: {verdict} ({best['cold']:.1f} s)")
    verdict = "MET" if best["warm"] < AIM_WARM else "NOT MET"
    print(f"aim warm < {AIM_WARM:.0f} s: {verdict} ({best['warm']:.1f} s)")
    print(f"# load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps({"times": rows, "best": best}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
