"""Outputs an evidence model can give from the files at hand (decisionmodel.evidence.requirements)."""

from __future__ import annotations

import dataclasses

import pymc as pm
import pytest

from decisionmodel.evidence.files import load_all
from decisionmodel.evidence.fit import default_priors_dir, fit
from decisionmodel.evidence.requirements import missing_outputs
from decisionmodel.exceptions import MissingEvidenceError


@pytest.fixture(scope="module")
def evidence():
    return load_all(default_priors_dir())


def _without(evidence, procedure):
    """The evidence with every surgical_risk entry of one procedure removed."""
    from decisionmodel.evidence.models.surgical_risk import SURGICAL_PROCEDURES

    ev = evidence["surgical_risk"]
    kept = {
        k: e
        for k, e in ev.entries.items()
        if SURGICAL_PROCEDURES.get(str(e.get("procedure", "")).lower()) != procedure
    }
    assert len(kept) < len(ev.entries)
    return {**evidence, "surgical_risk": dataclasses.replace(ev, entries=kept, digest="")}


def test_the_shipped_evidence_gives_every_output_the_trees_link_to(evidence):
    wanted = ["p_mort90_lung", "p_major_morbidity_lung", "p_mort90_hepatectomy", "p_mort90_whipple"]
    assert missing_outputs("surgical_risk", evidence, wanted) == []


def test_a_procedure_without_entries_cannot_give_its_outputs(evidence):
    ev = _without(evidence, "lung")
    wanted = ["p_mort90_lung", "p_major_morbidity_lung", "p_mort90_hepatectomy"]
    assert missing_outputs("surgical_risk", ev, wanted) == [
        "p_major_morbidity_lung",
        "p_mort90_lung",
    ]


def test_fit_refuses_before_sampling(evidence, tmp_path, monkeypatch):
    def no_sampling(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("sampled although the evidence lacks the entries")

    monkeypatch.setattr(pm, "sample", no_sampling)
    ev = _without(evidence, "lung")
    with pytest.raises(
        MissingEvidenceError, match=r"cannot give p_mort90_lung.*nothing was fitted"
    ):
        fit("surgical_risk", ev, rng=1, cache_dir=tmp_path, require_outputs=["p_mort90_lung"])
    assert not list(tmp_path.glob("*.nc"))
