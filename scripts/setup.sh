#!/usr/bin/env bash
# Create ./.venv with Python >= 3.12 and install decisionmodel (editable) with its test extras.
# Idempotent: does nothing when pyproject.toml has not changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for cand in python3.14 python3.13 python3.12 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
           "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
            command -v "$cand"; return 0
        fi
    done
    for dir in "$HOME"/.pyenv/versions/3.1[2-9]*; do
        [ -x "$dir/bin/python3" ] && { echo "$dir/bin/python3"; return 0; }
    done
    return 1
}

say() { echo "setup: $*" >&2; }

stamp=.venv/.installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/decisionmodel ]; then
    exit 0
fi

py=$(find_python) || { echo "setup: Python >= 3.12 is required (PyMC 6 / ArviZ 1.x need it); none found" >&2; exit 2; }
t0=$(date +%s)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    say "creating .venv with $("$py" --version 2>&1) ($py)"
    rm -rf .venv
    "$py" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    say "installing uv into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
say "installing decisionmodel (editable) and its dependencies: PyMC, ArviZ, numba ... (about a minute on a fresh machine)"
.venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode -e ".[test]"
echo "$want" > "$stamp"
say "done in $(( $(date +%s) - t0 )) s: .venv/bin/decisionmodel $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("decisionmodel"))')"
