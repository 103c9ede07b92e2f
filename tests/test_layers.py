"""The package's layers: what a module may import.

The clinical definitions load without the evidence layer (and so without PyMC), checked in a
fresh interpreter, where nothing else has imported PyMC yet.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_clinical_package_loads_without_the_evidence_layer() -> None:
    script = (
        "import sys, decisionmodel.clinical\n"
        "loaded = sorted(m for m in sys.modules if m in ('pymc', 'pytensor') "
        "or m.startswith('decisionmodel.evidence'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "", out.stdout
