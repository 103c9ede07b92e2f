"""Which outputs an evidence model can give from the evidence files at hand.

Some models give an output only for what the evidence covers: ``surgical_risk`` has a
``p_mort90_<procedure>`` only for the procedures with mortality series. A tree that links to
an output the supplied evidence cannot give would be fitted (minutes of compiling and
sampling) and then fail; :func:`missing_outputs` tells so from the parsed files alone, so
:func:`~decisionmodel.evidence.fit.fit` refuses such a fit before paying for it.

Examples
--------
>>> missing_outputs("no_such_model", {}, ["x"])  # a model without a rule: nothing known
[]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from decisionmodel.evidence.files import EvidenceFile

__all__ = ["RULES", "missing_outputs"]


def _surgical_risk(evidence: Mapping[str, EvidenceFile]) -> set[str]:
    from decisionmodel.evidence.models.surgical_risk import _OUTPUT_PREFIX, surgical_risk_data

    out: set[str] = set()
    try:
        data = surgical_risk_data(evidence)
    except Exception:  # no usable series at all: the model refuses it itself
        return out
    for proc, outcome in zip(data["procedure"], data["outcome"], strict=True):
        if outcome == "mortality_30d":
            out |= {f"p_mort30_{proc}", f"p_mort90_{proc}"}
        else:
            out.add(f"{_OUTPUT_PREFIX[outcome]}_{proc}")
    return out


#: model name -> the outputs its evidence can give (models whose outputs do not depend on
#: which entries the files hold need no rule)
RULES: dict[str, Callable[[Mapping[str, EvidenceFile]], set[str]]] = {
    "surgical_risk": _surgical_risk,
}


def missing_outputs(
    model: str, evidence: Mapping[str, EvidenceFile], wanted: Iterable[str]
) -> list[str]:
    """The outputs of ``wanted`` that ``model`` cannot give from ``evidence``.

    Parameters
    ----------
    model : str
        The model's name; its rule is looked up in :data:`RULES`.
    evidence : mapping
        Area -> :class:`~decisionmodel.evidence.files.EvidenceFile`, the parsed files
        the model would be built on.
    wanted : iterable of str
        Output names (e.g. those a tree links to).

    Returns
    -------
    list of str
        The outputs that cannot be given, sorted; empty when all can, or when no rule is
        known for the model.

    Examples
    --------
    >>> from decisionmodel.evidence import load_all
    >>> ev = load_all()
    >>> missing_outputs("surgical_risk", ev, ["p_mort90_lung", "p_mort90_no_such_procedure"])
    ['p_mort90_no_such_procedure']
    """
    rule = RULES.get(model)
    if rule is None:
        return []
    have = rule(evidence)
    return sorted(set(wanted) - have)
