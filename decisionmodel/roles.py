"""Roles of a tree's strategies: which need a candidate for curative-intent surgery, which is
the no-surgery reference.

A tree file may declare, at the top level::

    roles:
      curative: [Curative hepatectomy]   # root strategies offered only to candidates
      reference: Systemic therapy        # the no-surgery strategy incremental values refer to
      procedure: hepatectomy             # candidacy rules: hepatectomy, lung or crs
      lung_resection: right_lower        # (lung) the planned resection for the ppo-FEV1 check

``curative`` lists root actions; every policy that starts with one of them (including the
policies that the engine enumerates from embedded decisions below it, such as the
intraoperative pivot) is *curative*. A patient profile that fails the candidacy check
(:mod:`decisionmodel.clinical.candidacy`) is not offered those policies: the decision is
taken among the others. ``reference`` names one root action (a strategy without embedded
decisions) against which subgroup tables report incremental effects.

Examples
--------
>>> from decisionmodel.tree.io import tree_from_dict
>>> from decisionmodel.tree.compile import compile_tree
>>> G = tree_from_dict({
...     "roles": {"curative": ["Operate"], "reference": "Wait"},
...     "tree": {"kind": "decision", "name": "d", "branches": [
...         {"action": "Operate", "kind": "terminal", "effect": 2},
...         {"action": "Wait", "kind": "terminal", "effect": 1}]}})
>>> r = strategy_roles(compile_tree(G))
>>> sorted(r.curative), r.reference
(['Operate'], 'Wait')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from decisionmodel.exceptions import TreeFileError

if TYPE_CHECKING:  # for the annotations only: decisionmodel.tree.validate imports this module
    from decisionmodel.tree.compile import CompiledTree

__all__ = ["RolesError", "StrategyRoles", "strategy_roles"]


class RolesError(TreeFileError):
    """The ``roles:`` section of a tree file names no root strategy or is malformed."""


@dataclass(frozen=True)
class StrategyRoles:
    """Roles of the policies of a compiled tree.

    Attributes
    ----------
    root_action : dict
        Policy name -> the root strategy it starts with.
    curative : frozenset of str
        Policies offered only to candidates for curative-intent surgery.
    reference : str or None
        The policy of the no-surgery reference strategy.
    procedure : str
        The curative-intent operation whose candidacy rules apply (``hepatectomy``,
        ``lung`` or ``crs``; default ``hepatectomy``).
    lung_resection : str, tuple or None
        The planned lung resection for the lung rules (a YAML list becomes a tuple, e.g.
        ``("wedge", 3)``).
    """

    root_action: dict[str, str]
    curative: frozenset[str]
    reference: str | None
    procedure: str = "hepatectomy"
    lung_resection: str | tuple | None = None

    def offered(self, eligible: bool) -> list[str]:
        """Policies offered to a patient who is (or is not) a candidate, in tree order.

        Parameters
        ----------
        eligible : bool
            Whether the patient is a candidate for curative-intent surgery (see
            :func:`decisionmodel.clinical.candidacy.assess_candidacy`).

        Returns
        -------
        list of str
            Every policy for a candidate; the policies that are not :attr:`curative` for
            anyone else.

        Examples
        --------
        >>> r = StrategyRoles({"Operate": "Operate", "Wait": "Wait"}, frozenset({"Operate"}), "Wait")
        >>> r.offered(True), r.offered(False)
        (['Operate', 'Wait'], ['Wait'])
        """
        return [p for p in self.root_action if eligible or p not in self.curative]


def _names(value: object, where: str, key: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
        raise RolesError(f"{where}: roles.{key} must be a strategy name or a list of names")
    return [str(x) for x in items]


def strategy_roles(ct: CompiledTree) -> StrategyRoles:
    """Read and check the ``roles:`` section of a compiled tree.

    Parameters
    ----------
    ct : CompiledTree
        From :func:`decisionmodel.tree.compile.compile_tree`.

    Returns
    -------
    StrategyRoles
        Empty roles (no curative policies, no reference) when the file has no section.

    Raises
    ------
    RolesError
        Unknown keys, a name that is not a root strategy, or a reference strategy that
        holds embedded decisions (several policies).

    See Also
    --------
    StrategyRoles.offered : the policies offered to a patient.
    """
    where = ct.where
    roles = ct.graph.graph.get("roles") or {}
    allowed = ("curative", "reference", "procedure", "lung_resection")
    unknown = sorted(set(roles) - set(allowed))
    if unknown:
        raise RolesError(
            f"{where}: roles: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )
    procedure = roles.get("procedure", "hepatectomy")
    if procedure not in ("hepatectomy", "lung", "crs"):
        raise RolesError(
            f"{where}: roles.procedure: {procedure!r} is not one of hepatectomy, lung, crs "
            "(the operation whose candidacy rules apply)"
        )
    root_action = {p.name: str(p.actions.get(ct.root, p.name)) for p in ct.policies}
    actions = list(dict.fromkeys(root_action.values()))
    curative = _names(roles.get("curative", []), where, "curative")
    for name in curative:
        if name not in actions:
            raise RolesError(
                f"{where}: roles.curative: {name!r} is not a root strategy "
                f"(root strategies: {', '.join(actions)})"
            )
    reference = roles.get("reference")
    ref_policy = None
    if reference is not None:
        if not isinstance(reference, str) or reference not in actions:
            raise RolesError(
                f"{where}: roles.reference: {reference!r} is not a root strategy "
                f"(root strategies: {', '.join(actions)})"
            )
        if reference in curative:
            raise RolesError(f"{where}: roles.reference {reference!r} is also curative")
        ref = [p for p, a in root_action.items() if a == reference]
        if len(ref) != 1:
            raise RolesError(
                f"{where}: roles.reference {reference!r} holds embedded decisions "
                f"({len(ref)} policies); name a strategy with one policy"
            )
        ref_policy = ref[0]
    cur = frozenset(p for p, a in root_action.items() if a in curative)
    resection = roles.get("lung_resection")
    return StrategyRoles(
        root_action=root_action,
        curative=cur,
        reference=ref_policy,
        procedure=procedure,
        lung_resection=tuple(resection) if isinstance(resection, list) else resection,
    )
