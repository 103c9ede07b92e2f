#!/usr/bin/env bash
# Check the package as a pip user gets it: build the sdist and the wheel (from the sdist),
# check the wheel's contents, install it into a fresh virtual environment outside the
# repository, and run `decisionmodel` from a directory outside the repository:
# --version, models, validate crlm, run crlm -q (the decision table and the EVPI).
#
# Usage: scripts/check_wheel.sh      (after scripts/setup.sh, which provides .venv/bin/uv)
#
# Environment: DECISIONMODEL_CACHE (posterior cache) and PYTENSOR_FLAGS (e.g.
# base_compiledir=...) are passed through unchanged, so CI can give the run fresh caches;
# without them the run uses the user's caches (~/.cache/decisionmodel, ~/.pytensor).
# UV_OFFLINE=1 builds and installs from uv's cache only. CHECK_WHEEL_PYTHON overrides the
# interpreter of the fresh environment (default: the one behind .venv). CHECK_WHEEL_KEEP=1
# keeps the temporary directory. CHECK_WHEEL_JSON=FILE also writes 'run crlm -q --json' there.
# The run fits the four evidence models of the default tree
# when the posterior cache is cold (about 2 minutes on 2 cores), and takes a few seconds
# when it is warm.
#
# Prints the timings and one line "check_wheel: OK ..." on success; on any failure, one line
# "check_wheel: FAIL: ..." naming the step and the log, and exit code 1 (the temporary
# directory with the logs is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)

fail() {
    echo "check_wheel: FAIL: $*" >&2
    exit 1
}
now() { echo "${EPOCHREALTIME:-$(date +%s)}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

uv=$repo/.venv/bin/uv
[ -x "$uv" ] || fail "$uv not found (run scripts/setup.sh first)"
py=${CHECK_WHEEL_PYTHON:-$("$repo/.venv/bin/python" -c 'import sys; print(sys._base_executable)')}
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null ||
    fail "$py is not Python >= 3.12"

work=$(mktemp -d "${TMPDIR:-/tmp}/decisionmodel-wheel.XXXXXX")
work=$(cd "$work" && pwd -P)
case "$work/" in "$repo"/*) fail "the temporary directory $work is inside the repository" ;; esac
cleanup() {
    status=$?
    if [ "$status" -eq 0 ] && [ "${CHECK_WHEEL_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
logs=$work/logs
mkdir -p "$logs" "$work/run"

# ---------------------------------------------------------------- build (the sdist, then the wheel from it: no stale build/)
t=$(now)
"$uv" build --out-dir "$work/dist" "$repo" >"$logs/build.log" 2>&1 ||
    fail "uv build failed (log: $logs/build.log)"
build_s=$(since "$t")
wheels=("$work"/dist/*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one wheel in $work/dist"
wheel=${wheels[0]}

# ---------------------------------------------------------------- wheel contents
# every tracked file of decisionmodel/data with the repository's bytes (the posterior cache
# keys hash the evidence files' bytes), the PEP 561 marker and the licence
"$repo/.venv/bin/python" - "$wheel" "$repo" >"$logs/contents.log" 2>&1 <<'EOF' ||
import hashlib, subprocess, sys, zipfile
from pathlib import Path

wheel, repo = sys.argv[1], Path(sys.argv[2])
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
tracked = subprocess.run(
    ["git", "-C", str(repo), "ls-files", "decisionmodel/data"],
    capture_output=True, text=True, check=True,
).stdout.split()
must = ["decisionmodel/py.typed", "decisionmodel/data/trees/crlm.yaml",
        "decisionmodel/data/trees/examples/sumatriptan.yaml",
        "decisionmodel/data/priors/README.md", "decisionmodel/data/priors/surgical_risk.yaml"]
missing = sorted(set(must + tracked) - names)
if missing:
    sys.exit(f"missing from the wheel: {', '.join(missing)}")
changed = [f for f in tracked
           if hashlib.sha256(z.read(f)).digest() != hashlib.sha256((repo / f).read_bytes()).digest()]
if changed:
    sys.exit(f"bytes differ from the repository: {', '.join(changed)}")
licences = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
if not licences:
    sys.exit("no .dist-info/licenses/LICENSE in the wheel")
if "MIT License" not in z.read(licences[0]).decode():
    sys.exit("the wheel's LICENSE is not the MIT licence")
print(f"{len(tracked)} data files, py.typed and LICENSE present")
EOF
    fail "wheel contents: $(tail -n 1 "$logs/contents.log") (log: $logs/contents.log)"

# ---------------------------------------------------------------- fresh environment
t=$(now)
"$uv" venv --quiet --python "$py" "$work/venv" >"$logs/venv.log" 2>&1 ||
    fail "uv venv failed (log: $logs/venv.log)"
"$uv" pip install --python "$work/venv/bin/python" --compile-bytecode "$wheel" \
    >"$logs/install.log" 2>&1 || fail "uv pip install of the wheel failed (log: $logs/install.log)"
install_s=$(since "$t")

# ---------------------------------------------------------------- run outside the repository
dm=$work/venv/bin/decisionmodel
[ -x "$dm" ] || fail "the wheel installed no decisionmodel command"
cd "$work/run"
unset PYTHONPATH
run() { # run NAME ARGS...: stdout to logs/NAME.out, stderr to logs/NAME.err
    local name=$1
    shift
    "$@" >"$logs/$name.out" 2>"$logs/$name.err" ||
        fail "'$*' exited with $? (see $logs/$name.err)"
}
expect() { # expect NAME TEXT: TEXT is in logs/NAME.out
    grep -qF -- "$2" "$logs/$1.out" || fail "'$1' printed no '$2' (see $logs/$1.out)"
}

run where "$work/venv/bin/python" -c 'import decisionmodel, decisionmodel.resources as r
from decisionmodel.evidence.cache import cache_dir
print(decisionmodel.__file__); print(r.priors_dir()); print(cache_dir())'
module=$(sed -n 1p "$logs/where.out")
case "$module" in "$work/venv/"*) ;; *) fail "decisionmodel imported from $module, not from the fresh environment" ;; esac
case "$(sed -n 2p "$logs/where.out")" in "$work/venv/"*) ;; *) fail "the evidence files are not read from the installed package" ;; esac
cache=$(sed -n 3p "$logs/where.out")

version=$(basename "$wheel" | cut -d- -f2)
t=$(now)
run version "$dm" --version
expect version "decisionmodel $version"
run models "$dm" models
for name in crlm lung_wedge_vs_lobectomy whipple_pivot peritoneal_crs_hipec examples/sumatriptan; do
    expect models "  $name "
done
run validate "$dm" validate crlm
expect validate "valid"
checks_s=$(since "$t")
t=$(now)
run run "$dm" run crlm -q
run_s=$(since "$t")
expect run "Curative hepatectomy"
expect run "EVPI"
if [ -n "${CHECK_WHEEL_JSON:-}" ]; then # the decision as JSON, for comparisons across caches
    run json "$dm" run crlm -q --json
    cp "$logs/json.out" "$CHECK_WHEEL_JSON"
fi

echo "check_wheel: wheel $(basename "$wheel") ($(du -k "$wheel" | cut -f1) kB): $(cat "$logs/contents.log")"
echo "check_wheel: build ${build_s} s; fresh environment and install ${install_s} s; --version, models and validate ${checks_s} s; 'decisionmodel run crlm -q' ${run_s} s (posterior cache $cache)"
echo "check_wheel: OK — decisionmodel $version installed from the wheel outside the repository: --version, models, validate crlm and run crlm work"
