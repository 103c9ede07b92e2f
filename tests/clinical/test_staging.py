"""AJCC 8th-edition M1 subcategories (decisionmodel.clinical.staging).

Reference: AJCC Cancer Staging Manual, 8th ed. (Amin MB et al., eds. Springer 2017), colon
and rectum: M1a one site or organ without peritoneal metastasis; M1b more than one site or
organ without peritoneal metastasis; M1c peritoneal surface alone or with other sites. The
rule is re-implemented naively below and compared on every combination of up to three sites.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisionmodel.clinical.fong import ClinicalInputError
from decisionmodel.clinical.staging import (
    M1_CATEGORIES,
    SITES,
    StagingError,
    UnknownSiteError,
    extrahepatic_sites,
    is_extrahepatic,
    m1_category,
    normalise_sites,
)
from decisionmodel.evidence import load_evidence

PRIORS = Path(__file__).resolve().parents[2] / "priors"


def _naive_m1(sites):
    organs = set(sites)
    if "peritoneum" in organs:
        return "M1c"
    if len(organs) == 1:
        return "M1a"
    return "M1b"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_every_combination_against_the_naive_rule(k):
    for combo in itertools.combinations(SITES, k):
        assert m1_category(combo) == _naive_m1(combo), combo


def test_examples_from_the_ajcc_definitions():
    assert m1_category(["liver"]) == "M1a"
    assert m1_category(["lung"]) == "M1a"
    assert m1_category(["ovary"]) == "M1a"
    assert m1_category(["distant_nodes"]) == "M1a"  # non-regional nodes count as one site
    assert m1_category(["liver", "lung"]) == "M1b"
    assert m1_category(["peritoneum"]) == "M1c"  # alone
    assert m1_category(["peritoneum", "liver", "lung"]) == "M1c"  # or with other sites
    assert set(M1_CATEGORIES) == {"M1a", "M1b", "M1c"}


@given(st.lists(st.sampled_from(SITES), min_size=1, max_size=8))
def test_repeats_and_order_do_not_matter(sites):
    assert m1_category(sites) == m1_category(list(reversed(sites))) == _naive_m1(sites)
    assert normalise_sites(sites) == tuple(s for s in SITES if s in sites)


def test_names_are_normalised():
    assert normalise_sites(["Liver", " LUNG ", "distant nodes", "soft-tissue"]) == (
        "liver",
        "lung",
        "distant_nodes",
        "soft_tissue",
    )
    assert normalise_sites("peritoneum") == ("peritoneum",)
    assert m1_category("liver") == "M1a"


def test_unknown_site_lists_the_allowed_names():
    with pytest.raises(UnknownSiteError) as info:
        m1_category(["liver", "pancreas"])
    msg = str(info.value)
    assert "'pancreas'" in msg
    for s in SITES:
        assert s in msg
    assert isinstance(info.value, StagingError)
    assert isinstance(info.value, ClinicalInputError)


def test_no_site_or_non_string_rejected():
    with pytest.raises(StagingError, match="M0"):
        m1_category([])
    with pytest.raises(StagingError, match="string"):
        m1_category(["liver", 3])


def test_extrahepatic():
    assert is_extrahepatic(["liver"]) is False
    assert is_extrahepatic(["liver", "lung"]) is True
    assert is_extrahepatic(["liver", "peritoneum"]) is True
    assert is_extrahepatic(["lung"]) is True
    assert extrahepatic_sites(["bone", "liver", "distant_nodes"]) == ("distant_nodes", "bone")
    for combo in itertools.combinations(SITES, 2):
        assert is_extrahepatic(combo) is (set(combo) != {"liver"})


def test_categories_match_the_evidence_file_strata():
    ev = load_evidence(PRIORS / "peritoneal_survival.yaml")
    strata = {e.get("stratum") for e in ev.select(quantity="median_os") if e.get("stratum")}
    assert set(M1_CATEGORIES) <= strata
