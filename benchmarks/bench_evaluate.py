"""Benchmark: evaluate the default tree (trees/crlm.yaml) at 10^3 .. 10^6 parameter draws.

Three methods are measured in the same run, each (method, n) in a fresh Python process:

* engine  -- ``decisionmodel.evaluate(decisionmodel.compile_tree(G), ds)`` (compile included;
  loading the YAML file and sampling the parameters are not);
* numpy   -- the hand-written numpy evaluation of the same formulas
  (``benchmarks/crlm_numpy.py``);
* naive   -- the per-draw recursive rollback of ``benchmarks/naive.py``, timed on a few
  hundred draws only; its time per draw is extrapolated to each n.

Before timing, the three are checked against each other on 2,000 draws.

Run ``python benchmarks/bench_evaluate.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
TREE = HERE.parent / "trees" / "crlm.yaml"
sys.path.insert(0, str(HERE))

AIM_RATIO_NUMPY = 1.5  # engine time <= 1.5 x hand-written numpy, at 10^5 draws and beyond
AIM_RATIO_NAIVE = 100.0  # engine >= 100 x faster than the per-draw rollback
AIM_PEAK_MB = 2048.0  # 10^6 draws with peak memory under 2 GB
CHECK_DRAWS = 2_000
CHECK_NAIVE_DRAWS = 5
RTOL = 1e-9


# ----------------------------------------------------------------------------- memory probes
def _status_kb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb / 1024
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 / 1024 if sys.platform == "darwin" else ru / 1024


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ----------------------------------------------------------------------------- the methods
def _setup(n: int, seed: int):
    import decisionmodel as dm

    G = dm.load_tree(TREE)
    ds = dm.sample_parameters(G, n, np.random.default_rng(seed))
    params = {k: ds[k].values for k in ds.data_vars}
    return dm, G, ds, params


def _runner(method: str, dm, G, ds, params):
    if method == "engine":
        return lambda: dm.evaluate(dm.compile_tree(G), ds)
    if method == "numpy":
        from crlm_numpy import evaluate_crlm_numpy

        return lambda: evaluate_crlm_numpy(params)
    if method == "naive":
        from naive import naive_rollback

        n = len(ds["sample"])
        rows = [{k: float(v[i]) for k, v in params.items()} for i in range(n)]

        def run():
            ct = dm.compile_tree(G)
            return [naive_rollback(ct, row) for row in rows]

        return run
    raise ValueError(method)


def worker(method: str, n: int, seed: int, trace: bool) -> dict[str, Any]:
    """Time one call of a method at n draws in this (fresh) process and measure its memory.

    For n <= 10^4 an untimed warm-up call comes first (not for the slow naive rollback).
    With ``trace`` the call runs under tracemalloc instead and only the traced peak is
    reported (the time would be distorted).
    """
    dm, G, ds, params = _setup(n, seed)
    run = _runner(method, dm, G, ds, params)
    if n <= 10_000 and not trace and method != "naive":
        run()
    gc.collect()
    if trace:
        tracemalloc.start()
        out = run()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return {"method": method, "n": n, "tracemalloc_peak_mb": traced}
    before = _rss_mb()
    exact = _reset_peak()
    t0 = time.perf_counter()
    out = run()
    dt = time.perf_counter() - t0
    peak = _peak_mb()
    del out
    return {
        "method": method,
        "n": n,
        "time_s": dt,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "peak_increase_mb": None if before is None else peak - before,
        "peak_exact": exact,
    }


def measure(method: str, n: int, seed: int, trace: bool = False) -> dict[str, Any]:
    """Run :func:`worker` in a fresh interpreter and return its result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", method, str(n)]
    cmd += ["--seed", str(seed)]
    if trace:
        cmd.append("--_trace")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {method} n={n} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_size(n: int, seed: int, repeats: int, trace: bool) -> dict[str, Any]:
    """Engine and numpy at n draws: ``repeats`` rounds, alternating the methods' order so
    that both see the same machine load; best time and largest peak over the rounds."""
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "numpy": []}
    for r in range(repeats):
        order = ("engine", "numpy") if r % 2 == 0 else ("numpy", "engine")
        for method in order:
            runs[method].append(measure(method, n, seed))
    rec: dict[str, Any] = {"n": n, "repeats": repeats}
    for method, rs in runs.items():
        rec[method] = {
            "times_s": [x["time_s"] for x in rs],
            "time_s": min(x["time_s"] for x in rs),
            "rss_before_mb": max(x["rss_before_mb"] for x in rs),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in rs),
            "peak_increase_mb": max(x["peak_increase_mb"] for x in rs),
            "peak_exact": all(x["peak_exact"] for x in rs),
            "tracemalloc_peak_mb": (
                measure(method, n, seed, trace=True)["tracemalloc_peak_mb"] if trace else None
            ),
        }
    return rec


# ----------------------------------------------------------------------------- correctness
def check(seed: int) -> dict[str, Any]:
    """Hand-written numpy vs engine on CHECK_DRAWS draws; naive vs engine on the first few."""
    from crlm_numpy import evaluate_crlm_numpy
    from naive import naive_rollback

    dm, G, ds, params = _setup(CHECK_DRAWS, seed)
    ct = dm.compile_tree(G)
    out = dm.evaluate(ct, ds)
    hand = evaluate_crlm_numpy(params)
    result: dict[str, Any] = {"draws": CHECK_DRAWS, "rtol": RTOL, "policies": {}, "ok": True}
    if sorted(hand) != sorted(map(str, out["strategy"].values)):
        raise SystemExit(f"policy names differ: {sorted(hand)} vs {list(out['strategy'].values)}")
    rows = [
        naive_rollback(ct, {k: float(v[i]) for k, v in params.items()})
        for i in range(CHECK_NAIVE_DRAWS)
    ]
    for name in hand:
        rec = {}
        for q, k in (("cost", 0), ("effect", 1)):
            eng = out[q].sel(strategy=name).values
            rel_hand = np.max(np.abs(hand[name][k] - eng) / np.abs(eng))
            nv = np.array([r[name][k] for r in rows])
            rel_naive = np.max(
                np.abs(nv - eng[:CHECK_NAIVE_DRAWS]) / np.abs(eng[:CHECK_NAIVE_DRAWS])
            )
            rec[q] = {"numpy_max_rel": float(rel_hand), "naive_max_rel": float(rel_naive)}
            result["ok"] &= bool(rel_hand <= RTOL and rel_naive <= RTOL)
        result["policies"][name] = rec
    return result


# ----------------------------------------------------------------------------- report
def _fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = " | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = [" | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, sep, *body])


def report(results: dict[str, Any]) -> str:
    naive = results["naive"]
    per_draw = naive["time_s"] / naive["n"]
    rows, mem_rows = [], []
    for rec in results["sizes"]:
        n, eng, npy = rec["n"], rec["engine"], rec["numpy"]
        naive_s = per_draw * n
        rec["naive_extrapolated_s"] = naive_s
        rec["engine_over_numpy"] = eng["time_s"] / npy["time_s"]
        rec["naive_over_engine"] = naive_s / eng["time_s"]
        rows.append(
            [
                f"{n:,}",
                _fmt_s(eng["time_s"]),
                _fmt_s(npy["time_s"]),
                _fmt_s(naive_s) + " *",
                f"{rec['engine_over_numpy']:.2f}",
                f"{rec['naive_over_engine']:,.0f}",
                f"{eng['peak_increase_mb']:.0f}",
                f"{npy['peak_increase_mb']:.0f}",
            ]
        )
        for meth in ("engine", "numpy"):
            m = rec[meth]
            tm = m["tracemalloc_peak_mb"]
            mem_rows.append(
                [
                    f"{n:,}",
                    meth,
                    f"{m['rss_before_mb']:.0f}",
                    f"{m['peak_rss_mb']:.0f}",
                    f"{m['peak_increase_mb']:.0f}",
                    "-" if tm is None else f"{tm:.0f}",
                    " ".join(f"{t:.3g}" for t in m["times_s"]),
                ]
            )
    header = [
        "n",
        "engine s",
        "numpy s",
        "naive s (extrap.)",
        "engine/numpy",
        "naive/engine",
        "engine peak MB",
        "numpy peak MB",
    ]
    out = [_table(rows, header)]
    out.append(
        f"* naive: {naive['n']} draws took {naive['time_s']:.2f} s "
        f"({per_draw * 1e3:.1f} ms per draw); the column is that time per draw x n (extrapolated)."
    )
    out.append(
        "peak MB: peak RSS during the call minus RSS just before it (fresh process per method and n)."
    )
    out.append("")
    out.append(
        _table(
            mem_rows,
            [
                "n",
                "method",
                "RSS before MB",
                "peak RSS MB",
                "increase MB",
                "tracemalloc MB",
                "times s",
            ],
        )
    )
    out.append("")
    out.extend(aims(results))
    return "\n".join(out)


def aims(results: dict[str, Any]) -> list[str]:
    sizes = results["sizes"]
    lines = []
    big = [r for r in sizes if r["n"] >= 100_000]
    if big:
        worst = max(big, key=lambda r: r["engine_over_numpy"])
        ok = worst["engine_over_numpy"] <= AIM_RATIO_NUMPY
        detail = ", ".join(f"{r['n']:,}: {r['engine_over_numpy']:.2f}x" for r in big)
        lines.append(
            f"aim 1 (engine <= {AIM_RATIO_NUMPY}x hand-written numpy at >= 10^5 draws): "
            f"{'MET' if ok else 'NOT MET'} ({detail})"
        )
    else:
        lines.append("aim 1 (engine <= 1.5x numpy at >= 10^5 draws): NOT MEASURED (--max-draws)")
    fails = [r for r in sizes if r["naive_over_engine"] < AIM_RATIO_NAIVE]
    worst = min(sizes, key=lambda r: r["naive_over_engine"])
    lines.append(
        f"aim 2 (engine >= {AIM_RATIO_NAIVE:.0f}x faster than per-draw rollback, every n): "
        f"{'MET' if not fails else 'NOT MET'} (smallest {worst['naive_over_engine']:,.0f}x at "
        f"n = {worst['n']:,}; naive extrapolated)"
    )
    top = [r for r in sizes if r["n"] >= 1_000_000]
    if top:
        eng = top[0]["engine"]
        ok = eng["peak_rss_mb"] < AIM_PEAK_MB
        lines.append(
            f"aim 3 (10^6 draws with peak memory < 2 GB): {'MET' if ok else 'NOT MET'} "
            f"(engine process peak RSS {eng['peak_rss_mb']:.0f} MB in all, of which "
            f"{eng['rss_before_mb']:.0f} MB before the call: interpreter, imports and the "
            f"sampled parameters; increase {eng['peak_increase_mb']:.0f} MB)"
        )
    else:
        lines.append("aim 3 (10^6 draws under 2 GB): NOT MEASURED (--max-draws)")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-draws", type=int, default=1_000_000, help="largest n (default 10^6)")
    ap.add_argument("--quick", action="store_true", help="10^3 and 10^4 draws only")
    ap.add_argument(
        "--naive-draws",
        type=int,
        default=200,
        help="draws timed for the naive rollback (default 200)",
    )
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument(
        "--tracemalloc-max",
        type=int,
        default=100_000,
        help="also report the tracemalloc peak (an extra untimed call) up to this n",
    )
    ap.add_argument("--json", type=Path, help="write the results to this file")
    ap.add_argument("--_worker", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--_trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._worker:
        method, n = args._worker[0], int(args._worker[1])
        res = worker(method, n, args.seed, args._trace)
        print(json.dumps(res))
        return 0

    max_n = 10_000 if args.quick else args.max_draws
    sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= max_n]
    if not sizes:
        raise SystemExit("--max-draws must be at least 1000")
    t_start = time.perf_counter()
    print(f"# decisionmodel benchmark: {TREE.name}, seed {args.seed}", flush=True)
    print(
        f"# python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {_load()}",
        flush=True,
    )
    chk = check(args.seed)
    worst_np = max(r[q]["numpy_max_rel"] for r in chk["policies"].values() for q in r)
    worst_nv = max(r[q]["naive_max_rel"] for r in chk["policies"].values() for q in r)
    print(
        f"# correctness ({CHECK_DRAWS} draws, rtol {RTOL:g}): numpy vs engine max rel diff "
        f"{worst_np:.1e}; naive vs engine (first {CHECK_NAIVE_DRAWS} draws) {worst_nv:.1e}: "
        f"{'OK' if chk['ok'] else 'MISMATCH'}",
        flush=True,
    )
    if not chk["ok"]:
        print(json.dumps(chk["policies"], indent=2))
        raise SystemExit("correctness check failed: not timing")

    results: dict[str, Any] = {
        "tree": str(TREE),
        "seed": args.seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "load_average_start": _load(),
        "check": chk,
        "engine_timing_includes": "compile_tree(G) + evaluate(ct, ds) (ds: xarray Dataset)",
        "sizes": [],
    }
    naive_n = min(args.naive_draws, max_n)
    print(f"# naive rollback on {naive_n} draws ...", flush=True)
    results["naive"] = measure("naive", naive_n, args.seed)
    for n in sizes:
        repeats = 1 if n >= 1_000_000 else 3
        print(f"# engine and numpy at n = {n:,} (best of {repeats}) ...", flush=True)
        results["sizes"].append(measure_size(n, args.seed, repeats, n <= args.tracemalloc_max))
    print()
    print(report(results))
    results["aims"] = aims(results)
    results["load_average_end"] = _load()
    print(
        f"\n# load average at the end {results['load_average_end']} (other processes distort times)"
    )
    results["total_s"] = time.perf_counter() - t_start
    print(f"\n# total benchmark time {results['total_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"# results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
