"""Print how a tree's Beta fallback priors compare with the default evidence fits.

The procedure and the tolerance are documented in ``decisionmodel.evidence.fallback``.
Usage::

    python scripts/fallback_priors.py trees/lung_wedge_vs_lobectomy.yaml [TREE ...]

For every parameter linked to a posterior output with a Beta fallback it prints the
declared and the posterior mean and sd, their Monte Carlo tolerance, whether the fallback
passes, and the ``alpha``/``beta`` the procedure gives (to write into the tree after its
evidence changes). Exit code 1 when a fallback fails.
"""

from __future__ import annotations

import sys

import pandas as pd

from decisionmodel.evidence.fallback import fallback_table
from decisionmodel.evidence.fit import DEFAULT_SEED, fit_all
from decisionmodel.tree.io import load_tree


def main(paths: list[str]) -> int:
    failed = False
    pd.set_option("display.width", 200)
    for path in paths:
        tree = load_tree(path)
        params = tree.graph.get("parameters") or {}
        models = sorted(
            {str(s["posterior"]).split(".")[0] for s in params.values() if s.get("posterior")}
        )
        fits = fit_all(models, seed=DEFAULT_SEED)
        table = fallback_table(tree, fits)
        print(f"# {path}")
        print(table.to_string(float_format=lambda x: f"{x:.4g}"))
        failed |= not bool(table["passed"].all()) if len(table) else False
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
