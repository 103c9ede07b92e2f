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


class NonFiniteOutcomeError(TreeValidationError):
    """The expected cost or effect of a policy is infinite or NaN for some draws."""


class DuplicateActionError(TreeValidationError):
    """Two branches of one decision node carry the same action label."""


class BranchLabelError(TreeValidationError):
    """A branch of a chance node has no label, or two branches share one."""


class MissingActionError(TreeValidationError):
    """A branch of a decision node has no action label."""


class MarkovError(DecisionModelError):
    """A Markov cohort model declared in a tree file is invalid."""


class ProfileError(DecisionModelError, ValueError):
    """A patient profile names an unknown covariate or an invalid value."""


class CEAInputError(DecisionModelError, ValueError):
    """Outcomes or willingness-to-pay values unfit for a cost-effectiveness analysis."""


class VOIInputError(DecisionModelError, ValueError):
    """Net-benefit draws, parameter draws or options unfit for a value-of-information analysis."""


class PolicyError(DecisionModelError):
    """A requested policy or protocol does not match the tree's decision nodes."""


class EvidenceFileError(DecisionModelError):
    """An evidence file (``priors/*.yaml``) cannot be read or breaks a rule of its schema.

    Base class of the evidence-file rules; used itself when the file is missing, is not
    YAML, or its top level does not have the documented layout.
    """


class DuplicateKeyError(EvidenceFileError):
    """A YAML mapping in an evidence file repeats a key."""


class DuplicateEntryIdError(EvidenceFileError):
    """Two entries of an evidence file (or of two files loaded together) share an ``id``."""


class CitationError(EvidenceFileError):
    """An evidence entry has no citation, or one without ``authors``, ``journal`` or ``year``."""


class UnknownEvidenceTypeError(EvidenceFileError):
    """An evidence entry's ``type`` is not one of the documented data types."""


class EvidenceFieldError(EvidenceFileError):
    """An evidence entry lacks a field its type requires, has one it does not allow, or a
    field holds the wrong kind of value (e.g. text where a number is needed)."""


class EventsExceedNError(EvidenceFileError):
    """An evidence entry reports more events (or deaths) than patients."""


class NegativeValueError(EvidenceFileError):
    """A count, sample size, time or dispersion in an evidence entry is negative (or zero
    where it must be positive)."""


class ProportionRangeError(EvidenceFileError):
    """A proportion (or its interval) in an evidence entry lies outside [0, 1]."""


class IntervalOrderError(EvidenceFileError):
    """An interval in an evidence entry has ``lower >= upper`` (or ``q1 > q3``)."""


class EstimateOutsideIntervalError(EvidenceFileError):
    """An evidence entry's estimate lies outside its own confidence interval, IQR or range."""


class NonPositiveRatioError(EvidenceFileError):
    """A hazard, odds or risk ratio (or a bound of its interval) is not positive."""


class EvidenceDistributionError(EvidenceFileError):
    """The ``distribution:`` block of an evidence entry is unknown or invalid."""


class VerifiedFlagError(EvidenceFileError):
    """``verified`` is not a boolean, or is true for a number the dossier marks as recalled (M-*)."""


class ConfidenceFlagError(EvidenceFileError):
    """``confidence`` is not one of the dossier's flags F, M-hi, M-mod, M-low, D."""


class EvidenceModelError(DecisionModelError):
    """An evidence model (PyMC synthesis) cannot be found, fitted or used."""


class UnknownModelError(EvidenceModelError, KeyError):
    """No evidence model of that name is registered, or two models share a name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingEvidenceError(EvidenceModelError):
    """An evidence model reads an evidence area that was not supplied or not found."""


class DiagnosticsError(EvidenceModelError):
    """A fit failed the diagnostics gate (R-hat, bulk/tail ESS, divergences).

    ``model`` is the model's name, ``failures`` a list of ``(statistic, variable, value)``
    and ``divergences`` the number of divergent transitions.
    """

    def __init__(
        self,
        message: str,
        model: str = "",
        failures: list[tuple[str, str, float]] | None = None,
        divergences: int = 0,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.failures = list(failures or [])
        self.divergences = divergences


class ParameterDrawsError(EvidenceModelError):
    """Posterior outputs cannot be turned into parameter draws (not a mapping of (chain, draw)
    DataArrays with identifier names and one draw count, or a link to a model not fitted)."""


class CacheError(EvidenceModelError):
    """The posterior cache cannot be used: its directory is not writable, is a file, or a
    write failed (checked before a fit is paid for)."""


class CacheConflictError(CacheError):
    """A fit gave other draws than the cache entry stored under the same key: the
    posterior is not a function of the key alone (a reproducibility failure)."""
