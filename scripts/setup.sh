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

stamp=.venv/.installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/decisionmodel ]; then
    exit 0
fi

py=$(find_python) || { echo "setup: Python >= 3.12 is required (PyMC 6 / ArviZ 1.x need it); none found" >&2; exit 2; }
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    rm -rf .venv
    "$py" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
.venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode -e ".[test]"
echo "$want" > "$stamp"
