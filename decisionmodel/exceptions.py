"""Exception hierarchy of decisionmodel.

Every error caused by bad input derives from :class:`DecisionModelError`, so a caller
(or the CLI, which turns these into one line on stderr and exit code 2) can catch
them all at once. Each validation rule of a tree has its own class, and its message
names the file and the node path where the rule is broken.

Examples
--------
>>> from decisionmodel.exceptions import TreeValidationError, NotArborescenceError
>>> issubclass(NotArborescenceError, TreeValidationError)
True
"""

from __future__ import annotations


class DecisionModelError(Exception):
    """Base class of every input error raised by decisionmodel."""


class TreeFileError(DecisionModelError):
    """A tree file cannot be read: missing, not YAML, or not of the documented layout."""


class FormulaError(DecisionModelError):
    """A formula is not allowed by the restricted grammar or cannot be evaluated."""


class ParameterError(DecisionModelError):
    """A parameter declaration or a supplied parameter sample is invalid."""


class UnknownParameterError(ParameterError):
    """Formulas refer to names that are neither declared parameters nor derived values."""


class TreeValidationError(DecisionModelError):
    """Base class of the tree validation rules (one subclass per rule)."""


class NotArborescenceError(TreeValidationError):
    """The graph is not a rooted tree (a cycle, several roots, or a node with two parents)."""


class NodeKindError(TreeValidationError):
    """A node has a kind other than ``decision``, ``chance`` or ``terminal``."""


class LeafNotTerminalError(TreeValidationError):
    """A node without children is not a terminal node."""


class TerminalWithChildrenError(TreeValidationError):
    """A terminal node has children."""


class DecisionEdgeProbabilityError(TreeValidationError):
    """An edge leaving a decision node carries a probability ``p``."""


class MissingProbabilityError(TreeValidationError):
    """An edge leaving a chance node has no probability ``p``."""


class MultipleComplementError(TreeValidationError):
    """More than one branch of a chance node uses the complement ``#``."""


class ProbabilityRangeError(TreeValidationError):
    """A branch probability lies outside [0, 1] for at least one draw."""


class ProbabilitySumError(TreeValidationError):
    """The branch probabilities of a chance node do not sum to 1 for at least one draw."""


class DuplicateActionError(TreeValidationError):
    """Two branches of one decision node carry the same action label."""


class BranchLabelError(TreeValidationError):
    """A branch of a chance node has no label, or two branches share one."""


class MissingActionError(TreeValidationError):
    """A branch of a decision node has no action label."""


class MarkovError(DecisionModelError):
    """A Markov cohort model declared in a tree file is invalid."""


class CEAInputError(DecisionModelError, ValueError):
    """Outcomes or willingness-to-pay values unfit for a cost-effectiveness analysis."""


class VOIInputError(DecisionModelError, ValueError):
    """Net-benefit draws, parameter draws or options unfit for a value-of-information analysis."""


class PolicyError(DecisionModelError):
    """A requested policy or protocol does not match the tree's decision nodes."""
