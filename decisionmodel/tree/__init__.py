"""Decision trees on networkx: files, formulas, validation, policies, Markov cohorts, rollback."""

from decisionmodel.tree.compile import CompiledTree, Policy, compile_tree
from decisionmodel.tree.evaluate import check_probabilities, evaluate, policy_matrix
from decisionmodel.tree.formula import Formula, parse
from decisionmodel.tree.io import (
    dumps_tree,
    load_compiled,
    load_tree,
    read_graphml,
    same_tree,
    to_dot,
    to_graphml,
    tree_from_dict,
    tree_to_dict,
    write_tree,
)
from decisionmodel.tree.markov import MarkovModel, compile_markov, run_markov
from decisionmodel.tree.structure import check_structure
from decisionmodel.tree.validate import validate_tree

__all__ = [
    "CompiledTree",
    "Formula",
    "MarkovModel",
    "Policy",
    "check_probabilities",
    "check_structure",
    "compile_markov",
    "compile_tree",
    "dumps_tree",
    "evaluate",
    "load_compiled",
    "load_tree",
    "parse",
    "policy_matrix",
    "read_graphml",
    "run_markov",
    "same_tree",
    "to_dot",
    "to_graphml",
    "tree_from_dict",
    "tree_to_dict",
    "validate_tree",
    "write_tree",
]
