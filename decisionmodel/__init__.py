"""decisionmodel: probabilistic decision analysis of cancer metastasectomy.

The public API is flat: trees (:func:`load_tree`, :func:`evaluate`, ...), parameter
sampling (:func:`sample_parameters`), cost-effectiveness (:func:`icer_table`,
:func:`ceac`, ...) and value of information (:func:`evpi`, :func:`evppi`, :func:`evsi`,
:func:`enbs`, :func:`pop_voi`) and the Markov state occupancy of each policy
(:func:`state_trace`; survival from it: :func:`decisionmodel.traces.survival`) are
importable from here.

Examples
--------
>>> import numpy as np, decisionmodel as dm
>>> G = dm.tree_from_dict({"parameters": {"p": {"distribution": "beta", "alpha": 6, "beta": 4}},
...     "tree": {"kind": "decision", "name": "d", "branches": [
...         {"action": "treat", "kind": "chance", "cost": 1000, "branches": [
...             {"label": "cured", "p": "p", "kind": "terminal", "effect": 1},
...             {"label": "not cured", "p": "#", "kind": "terminal", "effect": 0.5}]},
...         {"action": "wait", "kind": "terminal", "effect": 0.6}]}})
>>> params = dm.sample_parameters(G, 1000, np.random.default_rng(1))
>>> out = dm.evaluate(G, params)
>>> [str(s) for s in dm.recommended(out, wtp=[1000, 10000]).values]
['wait', 'treat']
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; at run time they load on first use
    from decisionmodel.cea import (
        ceac,
        ceaf,
        decision_table,
        expected_loss,
        icer_table,
        net_benefit,
        recommended,
    )
    from decisionmodel.params import mean_parameters, sample_parameters, with_values
    from decisionmodel.traces import state_trace
    from decisionmodel.tree import (
        compile_tree,
        dumps_tree,
        evaluate,
        load_compiled,
        load_tree,
        parse,
        read_graphml,
        run_markov,
        same_tree,
        to_dot,
        to_graphml,
        tree_from_dict,
        tree_to_dict,
        validate_tree,
        write_tree,
    )
    from decisionmodel.voi import enbs, enbs_optimum, evpi, evppi, evppi_rank, evsi, pop_voi

__version__ = "0.1.0"

#: public name -> the module that defines it. ``import decisionmodel`` loads none of them:
#: a name's module is imported when the name is first used (PEP 562), so a command that
#: needs the tree engine does not pay for SciPy's statistics or the VOI estimators.
_EXPORTS = {
    "ceac": "decisionmodel.cea",
    "ceaf": "decisionmodel.cea",
    "compile_tree": "decisionmodel.tree",
    "decision_table": "decisionmodel.cea",
    "dumps_tree": "decisionmodel.tree",
    "enbs": "decisionmodel.voi",
    "enbs_optimum": "decisionmodel.voi",
    "evaluate": "decisionmodel.tree",
    "evpi": "decisionmodel.voi",
    "evppi": "decisionmodel.voi",
    "evppi_rank": "decisionmodel.voi",
    "evsi": "decisionmodel.voi",
    "expected_loss": "decisionmodel.cea",
    "icer_table": "decisionmodel.cea",
    "load_compiled": "decisionmodel.tree",
    "load_tree": "decisionmodel.tree",
    "mean_parameters": "decisionmodel.params",
    "net_benefit": "decisionmodel.cea",
    "parse": "decisionmodel.tree",
    "pop_voi": "decisionmodel.voi",
    "read_graphml": "decisionmodel.tree",
    "recommended": "decisionmodel.cea",
    "run_markov": "decisionmodel.tree",
    "same_tree": "decisionmodel.tree",
    "sample_parameters": "decisionmodel.params",
    "state_trace": "decisionmodel.traces",
    "to_dot": "decisionmodel.tree",
    "to_graphml": "decisionmodel.tree",
    "tree_from_dict": "decisionmodel.tree",
    "tree_to_dict": "decisionmodel.tree",
    "validate_tree": "decisionmodel.tree",
    "with_values": "decisionmodel.params",
    "write_tree": "decisionmodel.tree",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"decisionmodel.{name}"):
        value = importlib.import_module(f"decisionmodel.{name}")  # dm.cea, dm.voi, ...
    else:
        raise AttributeError(f"module 'decisionmodel' has no attribute {name!r}")
    globals()[name] = value  # later uses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "ceac",
    "ceaf",
    "compile_tree",
    "decision_table",
    "dumps_tree",
    "enbs",
    "enbs_optimum",
    "evaluate",
    "evpi",
    "evppi",
    "evppi_rank",
    "evsi",
    "expected_loss",
    "icer_table",
    "load_compiled",
    "load_tree",
    "mean_parameters",
    "net_benefit",
    "parse",
    "pop_voi",
    "read_graphml",
    "recommended",
    "run_markov",
    "same_tree",
    "sample_parameters",
    "state_trace",
    "to_dot",
    "to_graphml",
    "tree_from_dict",
    "tree_to_dict",
    "validate_tree",
    "with_values",
    "write_tree",
]
