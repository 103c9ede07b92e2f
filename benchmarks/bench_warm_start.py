"""Warm start of ``decisionmodel run`` and ``decisionmodel validate``: a baseline commit
against the working tree, in the same run, on the same machine.

The baseline is checked out into a temporary git worktree and run with the same Python
(``PYTHONPATH`` puts its package first), so both sides use the same interpreter and
libraries; each side has its own posterior cache (the cache keys differ between versions),
filled by one untimed run first, so the timed runs are warm: the posteriors are read, not
fitted. Each command runs ``--repeats`` times in a fresh process; the table gives the best
and the median wall time and the ratio now / baseline.

It also compares the outputs: the JSON decision table of ``run TREE --json`` for every
shipped tree, with the evidence (posterior draws) and with ``--priors-only``, must be the
same on both sides except the posterior cache keys (which hash the models' source files)
and the tree file's path (each side reads its own checkout), and the ``decisionmodel voi`` outputs on the chemotherapy example must be byte-identical.
A difference is printed and makes the exit code 1.

The default baseline, 8e4563a, is the last commit before the package was rearranged
(layers, compile once, one rng convention); with ``--baseline HEAD`` the script measures
uncommitted changes.

Usage::

    .venv/bin/python benchmarks/bench_warm_start.py                  # 5 repeats
    .venv/bin/python benchmarks/bench_warm_start.py --baseline HEAD~3 --repeats 3
    .venv/bin/python benchmarks/bench_warm_start.py --no-compare     # timings only

The first run of a baseline fits its posteriors (about two minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREES = ["crlm", "lung_wedge_vs_lobectomy", "peritoneal_crs_hipec", "whipple_pivot"]
CHEMO = ROOT / "tests" / "data" / "voi-reference" / "voi-chemo"
DEFAULT_BASELINE = "8e4563a"


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src)
    env["DECISIONMODEL_CACHE"] = str(cache)
    env.pop("DECISIONMODEL_FIT_CORES", None)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    cmd = [sys.executable, "-c", "from decisionmodel.cli import main; raise SystemExit(main())"]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, *args], env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(
            f"failed ({proc.returncode}) in {cwd}: decisionmodel {' '.join(args)}\n{proc.stderr}"
        )
    return dt, proc.stdout


def _strip_keys(obj):
    """The decision table without the posterior cache keys (they hash source files) and the
    tree file's path (each side reads the file of its own checkout)."""
    if isinstance(obj, dict):
        return {k: _strip_keys(v) for k, v in obj.items() if k not in ("cache_key", "tree")}
    if isinstance(obj, list):
        return [_strip_keys(v) for v in obj]
    return obj


def _voi_commands() -> list[list[str]]:
    """The voi commands of the comparison: EVPI, EVPPI (with standard errors) and EVSI on
    the chemotherapy example, as net benefit and as costs, effects and a WTP grid."""
    nb, pars = str(CHEMO / "chemo_nb.csv"), str(CHEMO / "chemo_pars.csv")
    cea = [
        "--costs",
        str(CHEMO / "chemo_cea_c.csv"),
        "--effects",
        str(CHEMO / "chemo_cea_e.csv"),
        "--wtp",
        str(CHEMO / "chemo_cea_k.csv"),
    ]
    return [
        ["voi", "evpi", "--outputs", nb],
        ["voi", "evpi", *cea, "--pop-per-year", "1000", "--horizon", "5"],
        [
            "voi",
            "evppi",
            "--inputs",
            pars,
            "--outputs",
            nb,
            "--pars",
            "p_side_effects_t2",
            "--pars",
            "p_side_effects_t2,logor_side_effects",
            "--seed",
            "7",
        ],
        ["voi", "evppi", "--inputs", pars, *cea, "--pars", "logor_side_effects", "--no-se"],
        [
            "voi",
            "evsi",
            "--inputs",
            pars,
            *cea,
            "--study",
            "binary_two_arm:p1=p_side_effects_t1,p2=p_side_effects_t2",
            "--n",
            "100,1000",
            "--seed",
            "7",
        ],
    ]


def compare(sides: dict[str, tuple[Path, Path]]) -> list[str]:
    """Differences between the two sides' outputs (empty: identical)."""
    diffs = []
    (b_src, b_cache), (n_src, n_cache) = sides["baseline"], sides["now"]
    for tree in TREES:
        for extra in ([], ["--priors-only"]):
            args = ["run", tree, "-q", "--json", *extra]
            a = json.loads(_run(args, _env(b_src, b_cache), b_src)[1])
            b = json.loads(_run(args, _env(n_src, n_cache), ROOT)[1])
            if _strip_keys(a) != _strip_keys(b):
                diffs.append(f"decisionmodel {' '.join(args)}: the decision tables differ")
            else:
                print(f"  same: decisionmodel {' '.join(args)}")
    for args in _voi_commands():
        a = _run(args, _env(b_src, b_cache), b_src)[1]
        b = _run(args, _env(n_src, n_cache), ROOT)[1]
        if a != b:
            diffs.append(f"decisionmodel {' '.join(args)}: the outputs differ")
        else:
            shown = " ".join(Path(a).name if "/" in a else a for a in args)
            print(f"  byte-identical: decisionmodel {shown}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="commit to compare with")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-compare", action="store_true", help="timings only")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    base = tmp / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.baseline],
        check=True,
    )
    try:
        sides = {"baseline": (base, tmp / "cache-baseline"), "now": (ROOT, tmp / "cache-now")}
        commands = {
            "run crlm (warm)": ["run", "crlm", "-q"],
            "run crlm --priors-only": ["run", "crlm", "-q", "--priors-only"],
            "validate crlm": ["validate", "crlm"],
        }
        print(f"baseline {args.baseline} vs the working tree; load {os.getloadavg()[0]:.2f}")
        for side, (src, cache) in sides.items():  # fill each side's posterior cache
            print(f"  {side}: fitting or reading the posteriors once (untimed)")
            _run(["run", "crlm", "-q"], _env(src, cache), src if side == "baseline" else ROOT)
        times: dict[str, dict[str, list[float]]] = {c: {} for c in commands}
        for _ in range(args.repeats):  # interleaved, so that load drifts hit both sides
            for name, cmd in commands.items():
                for side, (src, cache) in sides.items():
                    cwd = src if side == "baseline" else ROOT
                    times[name].setdefault(side, []).append(_run(cmd, _env(src, cache), cwd)[0])
        print()
        print(
            f"{'command':28s} {'baseline best/median s':>24s} {'now best/median s':>20s} {'now/baseline':>13s}"
        )
        for name, t in times.items():
            b, n = t["baseline"], t["now"]
            print(
                f"{name:28s} {min(b):11.2f} / {statistics.median(b):6.2f} "
                f"{min(n):11.2f} / {statistics.median(n):6.2f} {min(n) / min(b):13.2f}"
            )
        print(f"(best of {args.repeats} fresh processes; load {os.getloadavg()[0]:.2f})")
        if args.no_compare:
            return 0
        print("\noutputs, baseline vs now:")
        diffs = compare(sides)
        for d in diffs:
            print("  DIFFERENT:", d)
        return 1 if diffs else 0
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
