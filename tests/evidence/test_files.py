"""Evidence files: the shipped priors load, match the dossier, and every rule has a test.

Spot-checked values are the published ones (as reported in the project's evidence
dossier), which cites the primary papers named in each test. Each validation rule gets one
test that writes a bad file to ``tmp_path`` and asserts the exact exception class and that
the message names the file and the entry id.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from decisionmodel.evidence import (
    AUTHORS_NOT_CAPTURED,
    CONFIDENCE_FLAGS,
    FRAME_COLUMNS,
    EvidenceFile,
    file_digest,
    load_all,
    load_evidence,
)
from decisionmodel.exceptions import (
    CitationError,
    ConfidenceFlagError,
    DecisionModelError,
    DuplicateEntryIdError,
    DuplicateKeyError,
    EstimateOutsideIntervalError,
    EventsExceedNError,
    EvidenceDistributionError,
    EvidenceFieldError,
    EvidenceFileError,
    IntervalOrderError,
    NegativeValueError,
    NonPositiveRatioError,
    ProportionRangeError,
    UnknownEvidenceTypeError,
    VerifiedFlagError,
)

PRIORS = Path(__file__).resolve().parents[2] / "priors"
EXPECTED_AREAS = {
    "costs",
    "crlm_survival",
    "intraoperative",
    "lung_survival",
    "pancreas_survival",
    "peritoneal_survival",
    "surgical_risk",
    "systemic_survival",
    "tumour_kinetics",
    "utilities",
}


@pytest.fixture(scope="module")
def priors() -> dict[str, EvidenceFile]:
    return load_all(PRIORS)


@pytest.fixture(scope="module")
def entries(priors) -> dict[str, dict]:
    """Every shipped entry by id (ids are unique across files)."""
    return {eid: dict(e) for ev in priors.values() for eid, e in ev.entries.items()}


# ----------------------------------------------------------------------------- shipped files


def test_all_shipped_files_load(priors):
    assert set(priors) == EXPECTED_AREAS
    for area, ev in priors.items():
        assert ev.path.stem == area, "each file is named after its area"
        assert len(ev) > 0
        assert ev.digest == file_digest(ev.path)


def test_every_entry_has_a_full_citation(priors):
    for ev in priors.values():
        for eid, e in ev.entries.items():
            assert e["citation"], eid
            for c in e["citation"]:
                assert isinstance(c["authors"], str) and c["authors"].strip(), eid
                assert isinstance(c["year"], int) and 1900 < c["year"] <= 2026, eid
                assert c["journal"].strip(), eid
            assert e["confidence"] in CONFIDENCE_FLAGS, eid
            assert isinstance(e["verified"], bool), eid


def test_flags_are_consistent(entries):
    for eid, e in entries.items():
        if e["confidence"].startswith("M-") or e["confidence"] == "D":
            assert e["verified"] is False, eid
        if e["verified"]:
            assert e["confidence"] == "F", eid


def test_default_priors_are_marked(entries):
    derived = [eid for eid in entries if eid.startswith("default_")]
    assert len(derived) >= 20
    for eid in derived:
        e = entries[eid]
        assert e["confidence"] in ("D", "F"), eid
        assert {"default", "scenario"} & set(e.get("tags", ())), eid
    # every entry the dossier marks as a default prior carries its distribution or raw data
    for eid, e in entries.items():
        if "default" in e.get("tags", ()) and e["type"] == "value":
            assert "distribution" in e or e["quantity"].startswith("log10_"), eid


# Rows the dossier flags as recalled (M-hi / M-mod / M-low), with the flag it gives them.
RECALLED = {
    "fong1999_crs0_os_5y": "M-mod",
    "fong1999_crs3_os_5y": "M-mod",
    "fong1999_crs5_os_5y": "M-mod",
    "fong1999_crs0_median_os": "M-mod",
    "fong1999_crs4_median_os": "M-mod",
    "nordlinger2008_complications_periop_folfox": "M-mod",
    "nordlinger2013_hr_os_periop_folfox": "M-hi",
    "nordlinger2013_os_5y_periop_folfox": "M-hi",
    "margonis2018_hr_os_braf_v600e": "M-low",
    "margonis2018_hr_dfs_braf_v600e": "M-low",
    "heinemann2014_fire3_median_os_arm1": "M-hi",
    "heinemann2014_fire3_hr_os": "M-hi",
    "tribe_median_os_folfoxiri_bev": "M-hi",
    "ruers2017_clocc_median_os_chemo_only": "M-hi",
    "ruers2017_clocc_os_8y_chemo_only": "M-hi",
    "wagner1984_median_os_untreated_solitary": "M-mod",
    "franko2016_median_os_peritoneal": "M-mod",
    "franko2016_hr_os_peritoneal": "M-mod",
    "milosevic2020_pulmicc_os_5y_metastasectomy": "M-mod",
    "cameron2006_whipple_mortality": "M-hi",
    "gurusamy2013_goo_without_gj": "M-mod",
    "lillemoe1999_goo_without_gj": "M-hi",
    "lillemoe1999_median_os_after_bypass": "M-mod",
    "markos1989_mortality_low_ppofev1": "M-mod",
    "verwaal2003_median_os_crs_hipec": "M-hi",
    "verwaal2008_os_5y_complete_cytoreduction": "M-hi",
    "quenet2021_pfs_5y": "M-mod",
    "conroy2011_median_os_folfirinox": "M-hi",
    "vonhoff2013_median_os_gem_nab_paclitaxel": "M-hi",
    "joseph1971_doubling_time_cutoff_poor": "M-mod",
}


@pytest.mark.parametrize(("eid", "flag"), sorted(RECALLED.items()))
def test_recalled_numbers_are_not_verified(entries, eid, flag):
    assert entries[eid]["confidence"] == flag
    assert entries[eid]["verified"] is False


def _one(entries, eid):
    return entries[eid]


def test_spot_check_crlm_survival(entries):
    # de Jong MC et al., Ann Surg 2009;250:440-448: 5-yr OS 47.3 %, n = 1669; recurrence 947/1669
    e = _one(entries, "dejong2009_os_5y")
    assert (e["type"], e["value"], e["n"], e["confidence"]) == ("proportion", 0.473, 1669, "F")
    assert e["citation"][0]["year"] == 2009 and e["citation"][0]["authors"].startswith("de Jong")
    e = _one(entries, "dejong2009_recurrence")
    assert (e["events"], e["n"]) == (947, 1669)
    # Creasy JM et al., Surgery 2018;163:1238-44: cure 250/1211, actual 10-yr 295/1211
    assert (
        entries["creasy2018_cure_observed"]["events"],
        entries["creasy2018_cure_observed"]["n"],
    ) == (
        250,
        1211,
    )
    assert entries["creasy2018_actual_os_10y"]["events"] == 295
    # Liu W et al., Int J Colorectal Dis 2015;30:1365-73: R1 vs R0 HR 1.60 (1.46-1.76)
    e = _one(entries, "liu2015_hr_os_r1")
    assert (e["type"], e["value"], e["lower"], e["upper"], e["level"], e["measure"]) == (
        "hazard_ratio",
        1.60,
        1.46,
        1.76,
        0.95,
        "hr",
    )
    assert (e["n_studies"], e["n"]) == (18, 6790)
    # Petrelli F et al., Eur J Surg Oncol 2024;50:108306: BRAF HR 2.56 (2.04-3.22)
    e = _one(entries, "petrelli2024_hr_os_braf")
    assert (e["value"], e["lower"], e["upper"]) == (2.56, 2.04, 3.22)
    # Passiglia F et al. 2016: KRAS HR 1.86 (1.51-2.30)
    e = _one(entries, "passiglia2016_hr_os_kras")
    assert (e["value"], e["lower"], e["upper"]) == (1.86, 1.51, 2.30)
    # Fong Y et al., Ann Surg 1999: score strata sum to the cohort of 1001
    strata = [entries[f"fong1999_crs{k}_os_5y"]["n"] for k in range(6)]
    assert strata == [52, 262, 350, 243, 80, 14] and sum(strata) == 1001
    # Kanas GP et al., Clin Epidemiol 2012: margin RR 2.0 (1.7-2.5)
    e = _one(entries, "kanas2012_rr_death_margin_positive")
    assert (e["measure"], e["value"], e["lower"], e["upper"]) == ("rr", 2.0, 1.7, 2.5)
    # de Jong 2009 sites of first recurrence are a partition of the recurrences
    sites = [
        entries[f"dejong2009_first_recurrence_{s}"]["value"]
        for s in ("liver_only", "extrahepatic_only", "liver_and_extrahepatic")
    ]
    assert sum(sites) == pytest.approx(1.0)


def test_spot_check_surgical_risk_and_intraoperative(entries):
    # Fong 1999 operative mortality about 28/1001; Aloia 2009 NSQIP 57/2313 and 453/2313
    assert (
        entries["fong1999_mortality_operative"]["events"],
        entries["fong1999_mortality_operative"]["n"],
    ) == (
        28,
        1001,
    )
    assert entries["aloia2009_mortality_30d"]["events"] == 57
    assert entries["aloia2009_morbidity_major_30d"]["events"] == 453
    # Dudek W et al. 2021: lung metastasectomy 2/281
    assert (
        entries["dudek2021_mortality_perioperative"]["events"],
        entries["dudek2021_mortality_perioperative"]["n"],
    ) == (
        2,
        281,
    )
    # Gemenetzis G et al., J Surg Oncol 2018: 117/1423 occult metastases at planned pancreatectomy
    e = _one(entries, "gemenetzis2018_occult_metastases")
    assert (e["type"], e["events"], e["n"]) == ("events", 117, 1423)
    assert (
        entries["bmcgastro2018_occult_metastases"]["events"],
        entries["bmcgastro2018_occult_metastases"]["n"],
    ) == (
        62,
        235,
    )
    assert (
        entries["oba2019_radiologically_occult_metastases"]["events"],
        entries["oba2019_radiologically_occult_metastases"]["n"],
    ) == (145, 502)
    # Leal JN et al., J Am Coll Surg 2016: 5/626
    assert (
        entries["leal2016_unexpected_extrahepatic_disease"]["events"],
        entries["leal2016_unexpected_extrahepatic_disease"]["n"],
    ) == (
        5,
        626,
    )
    # Allen VB et al., Cochrane 2016: staging laparoscopy sensitivity 64.4 % (50.1-76.6)
    e = _one(entries, "allen2016_staging_laparoscopy_sensitivity")
    assert (e["value"], e["lower"], e["upper"]) == (0.644, 0.501, 0.766)
    # the dossier's default priors, as parameter declarations
    d = entries["default_hepatectomy_mortality_90d"]["distribution"]
    assert dict(d) == {"distribution": "beta", "alpha": 3.85, "beta": 124.5}
    d = entries["default_unexpected_metastases_whipple"]["distribution"]
    assert (d["alpha"], d["beta"]) == (4.95, 36.3)


def test_spot_check_randomised_local_treatment(entries):
    rand = {eid for eid, e in entries.items() if "randomised_local_treatment" in e.get("tags", ())}
    assert {
        "ruers2017_clocc_hr_os",
        "treasure2019_pulmicc_hr_death_5y",
        "milosevic2020_pulmicc_hr_os",
    } <= rand
    for eid in rand:
        assert entries[eid]["design"] == "rct", eid
    # Ruers T et al., JNCI 2017 (CLOCC): HR 0.58 (0.38-0.88), n = 119
    e = _one(entries, "ruers2017_clocc_hr_os")
    assert (e["value"], e["lower"], e["upper"], e["n"]) == (0.58, 0.38, 0.88, 119)
    # PulMiCC: 0.82 (0.43-1.56) n = 65; updated 0.93 (0.56-1.56) n = 93, 12/46 vs 11/47 alive at 5 yr
    e = _one(entries, "milosevic2020_pulmicc_hr_os")
    assert (e["value"], e["lower"], e["upper"], e["n"]) == (0.93, 0.56, 1.56, 93)
    assert entries["treasure2019_pulmicc_hr_death_5y"]["value"] == 0.82
    assert (
        entries["milosevic2020_pulmicc_alive_5y_metastasectomy"]["events"],
        entries["milosevic2020_pulmicc_alive_5y_metastasectomy"]["n"],
    ) == (
        12,
        46,
    )


def test_spot_check_kinetics_utilities_costs(entries):
    # Finlay IG et al., Br J Surg 1988: occult CRLM DT 86 +/- 12 d (SEM), n = 18
    e = _one(entries, "finlay1988_doubling_time_occult_crlm")
    assert (e["type"], e["mean"], e["se"], e["n"], e["unit"]) == ("mean_sd", 86, 12, 18, "days")
    # Burke JR et al., BJS Open 2020: primary CRC DT median 211 d (IQR 112-404), n = 31
    e = _one(entries, "burke2020_doubling_time_primary_crc")
    assert (e["median"], e["q1"], e["q3"], e["n"]) == (211, 112, 404, 31)
    assert entries["friberg1997_lethal_burden"]["value"] == 12
    assert entries["delmonte2009_cells_per_cm3_conventional"]["value"] == 1e9
    # Stein D et al. 2014: EQ-5D 0.741 (SD 0.230, n = 42)
    e = _one(entries, "stein2014_utility_pre_progression")
    assert (e["mean"], e["sd"], e["n"]) == (0.741, 0.230, 42)
    # JAMA Surg 2016 NIS: median US$ 21,535 (IQR 15,373-31,104), Gamma(3.19, 1.29e-4)
    e = _one(entries, "jamasurg2016_inpatient_cost_liver_pancreas_resection")
    assert (e["median"], e["q1"], e["q3"], e["currency"]) == (21535, 15373, 31104, "USD")
    assert (e["distribution"]["shape"], e["distribution"]["rate"]) == (3.19, 1.29e-4)
    assert e["citation"][0]["authors"] == AUTHORS_NOT_CAPTURED
    for eid, x in entries.items():
        if x["quantity"].startswith("cost"):
            assert "currency" in x and "price_year" in x, eid


def test_to_frame_has_one_row_per_entry(priors):
    ev = priors["surgical_risk"]
    df = ev.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert tuple(df.columns) == FRAME_COLUMNS
    assert len(df) == len(ev) and df["id"].is_unique
    row = df.set_index("id").loc["aloia2009_mortality_30d"]
    assert row["estimate"] == pytest.approx(57 / 2313)
    assert row["citation"] == "Aloia 2009" and row["area"] == "surgical_risk"
    row = df.set_index("id").loc["default_hepatectomy_mortality_90d"]
    assert row["distribution"] == "beta" and "Mayo 2011" in row["citation"]
    big = pd.concat([e.to_frame() for e in priors.values()], ignore_index=True)
    assert big["id"].is_unique and big["citation"].notna().all()


def test_file_digest_is_sha256_of_bytes(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_bytes(b"area: x\n")
    assert file_digest(p) == hashlib.sha256(b"area: x\n").hexdigest()
    assert file_digest(PRIORS / "costs.yaml") == load_evidence(PRIORS / "costs.yaml").digest


def test_entries_are_read_only(priors):
    e = priors["costs"]["bremner2020_end_of_life_cost_us"]
    with pytest.raises(TypeError):
        e["value"] = 0  # type: ignore[index]


# ----------------------------------------------------------------------------- rules

GOOD = """\
area: demo
description: test file
entries:
  - id: good2020_m90
    quantity: mortality_90d
    type: events
    events: 3
    n: 100
    citation: {authors: Good A, journal: J Test, year: 2020}
    verified: true
    confidence: F
"""

CITE = "citation: {authors: Bad B, journal: J Test, year: 2021}"


def bad_entry(body: str, eid: str | None = "bad2021_x") -> str:
    """A valid file plus a second entry: ``id: eid`` then the lines of ``body``."""
    lines = textwrap.dedent(body).strip("\n").splitlines()
    if eid is not None:
        lines.insert(0, f"id: {eid}")
    return GOOD + f"  - {lines[0]}\n" + "".join(f"    {line}\n" for line in lines[1:])


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check_rule(tmp_path, text, cls, *fragments, eid="bad2021_x"):
    path = write(tmp_path, text)
    with pytest.raises(cls) as info:
        load_evidence(path)
    assert type(info.value) is cls, f"expected {cls.__name__}, got {type(info.value).__name__}"
    msg = str(info.value)
    assert str(path) in msg, msg
    if eid is not None:
        assert repr(eid) in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    return msg


def test_good_file_loads(tmp_path):
    ev = load_evidence(write(tmp_path, GOOD))
    assert ev.area == "demo" and ev.ids == ["good2020_m90"]
    assert "good2020_m90" in ev and len(ev.select(quantity="mortality_90d")) == 1


def test_mapping_form_is_equivalent(tmp_path):
    text = """\
area: demo
description: mapping form
entries:
  good2020_m90:
    quantity: mortality_90d
    type: events
    events: 3
    n: 100
    citation: {authors: Good A, journal: J Test, year: 2020}
    verified: true
    confidence: F
"""
    a = load_evidence(write(tmp_path, text, "m.yaml"))
    b = load_evidence(write(tmp_path, GOOD))
    assert dict(a["good2020_m90"]) == dict(b["good2020_m90"])


def test_rule_missing_citation(tmp_path):
    body = """
        quantity: os_5y
        type: proportion
        value: 0.4
        n: 10
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), CitationError, "no citation")


def test_rule_citation_without_authors(tmp_path):
    body = """
        quantity: os_5y
        type: proportion
        value: 0.4
        n: 10
        citation: {journal: J Test, year: 2021}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), CitationError, "authors")


def test_rule_citation_without_year(tmp_path):
    body = """
        quantity: os_5y
        type: proportion
        value: 0.4
        n: 10
        citation: [{authors: A B, journal: J, year: 2020}, {authors: C D, journal: J}]
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), CitationError, "citation 2 lacks year")


def test_rule_unknown_type(tmp_path):
    body = f"""
        quantity: os_5y
        type: survival_curve
        value: 0.4
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), UnknownEvidenceTypeError, "survival_curve")


def test_rule_missing_field_for_type(tmp_path):
    body = f"""
        quantity: hr_os
        type: hazard_ratio
        value: 1.6
        lower: 1.4
        comparison: R1 vs R0
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "upper")


def test_rule_extra_field_for_type(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 3
        n: 100
        value: 0.03
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "unknown field(s) value")


def test_rule_proportion_needs_a_sample_size(tmp_path):
    body = f"""
        quantity: os_5y
        type: proportion
        value: 0.4
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "needs n")


def test_rule_count_must_be_integer(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 2.5
        n: 100
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "integer")


def test_rule_number_must_be_numeric(tmp_path):
    # YAML 1.1 reads 1e9 (no dot) as text: the loader says so instead of failing later
    body = f"""
        quantity: cells_per_cm3
        type: value
        value: 1e9
        unit: cells
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "finite number")


def test_rule_events_exceed_n(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 101
        n: 100
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EventsExceedNError, "101", "100")


def test_rule_deaths_exceed_n(tmp_path):
    body = f"""
        quantity: median_os
        type: median
        value: 24
        unit: months
        n: 50
        deaths: 60
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EventsExceedNError, "deaths")


def test_rule_negative_count(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: -1
        n: 100
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NegativeValueError, "events")


def test_rule_zero_sample_size(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 0
        n: 0
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NegativeValueError, "n must be positive")


def test_rule_negative_median_time(tmp_path):
    body = f"""
        quantity: median_os
        type: median
        value: -3
        unit: months
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NegativeValueError, "positive")


def test_rule_negative_time_in_spread(tmp_path):
    body = f"""
        quantity: doubling_time
        type: median_iqr
        median: 20
        q1: -5
        q3: 40
        unit: days
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NegativeValueError, "q1")


def test_rule_negative_sd(tmp_path):
    body = f"""
        quantity: utility
        type: mean_sd
        mean: 0.7
        sd: -0.1
        n: 40
        unit: EQ-5D
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NegativeValueError, "sd")


def test_rule_proportion_above_one(tmp_path):
    body = f"""
        quantity: os_5y
        type: proportion
        value: 47.3
        n: 1669
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), ProportionRangeError, "47.3")


def test_rule_proportion_bound_below_zero(tmp_path):
    body = f"""
        quantity: mortality
        type: value
        value: 0.01
        unit: proportion
        lower: -0.01
        upper: 0.05
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), ProportionRangeError, "lower")


def test_rule_interval_does_not_contain_estimate(tmp_path):
    body = f"""
        quantity: hr_os
        type: hazard_ratio
        value: 1.6
        lower: 1.7
        upper: 1.9
        comparison: R1 vs R0
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EstimateOutsideIntervalError, "outside")


def test_rule_median_outside_iqr(tmp_path):
    body = f"""
        quantity: doubling_time
        type: median_iqr
        median: 500
        q1: 112
        q3: 404
        unit: days
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EstimateOutsideIntervalError, "interquartile")


def test_rule_lower_not_below_upper(tmp_path):
    body = f"""
        quantity: hr_os
        type: hazard_ratio
        value: 1.6
        lower: 1.76
        upper: 1.46
        comparison: R1 vs R0
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), IntervalOrderError, "lower")


def test_rule_degenerate_interval(tmp_path):
    body = f"""
        quantity: cure_fraction
        type: proportion
        value: 0.2
        lower: 0.2
        upper: 0.2
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), IntervalOrderError)


def test_rule_non_positive_hazard_ratio(tmp_path):
    body = f"""
        quantity: hr_os
        type: hazard_ratio
        value: 0
        lower: -0.1
        upper: 1.2
        comparison: A vs B
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NonPositiveRatioError, "positive")


def test_rule_non_positive_ratio_value(tmp_path):
    body = f"""
        quantity: hr_os
        type: value
        value: -1.3
        unit: ratio
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), NonPositiveRatioError)


def test_rule_unknown_distribution(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: value
        value: 0.03
        unit: proportion
        distribution: {{distribution: weibull, shape: 1, scale: 2}}
        {CITE}
        verified: false
        confidence: D
    """
    check_rule(tmp_path, bad_entry(body), EvidenceDistributionError, "weibull")


def test_rule_invalid_distribution_arguments(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: value
        value: 0.03
        unit: proportion
        distribution: {{distribution: beta, alpha: 3.85}}
        {CITE}
        verified: false
        confidence: D
    """
    msg = check_rule(
        tmp_path, bad_entry(body), EvidenceDistributionError, "beta needs argument(s) beta"
    )
    assert "parameter 'prior'" not in msg


def test_rule_distribution_not_a_mapping(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: value
        value: 0.03
        unit: proportion
        distribution: 0.03
        {CITE}
        verified: false
        confidence: D
    """
    check_rule(tmp_path, bad_entry(body), EvidenceDistributionError, "mapping")


def test_rule_level_without_interval(tmp_path):
    body = f"""
        quantity: os_5y
        type: proportion
        value: 0.4
        n: 10
        level: 0.9
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "level")


def test_rule_duplicate_ids(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 1
        n: 10
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(
        tmp_path,
        bad_entry(body, eid="good2020_m90"),
        DuplicateEntryIdError,
        "twice",
        eid="good2020_m90",
    )


def test_rule_duplicate_ids_in_mapping_form(tmp_path):
    entry = """\
  dup2020_m90:
    quantity: mortality_90d
    type: events
    events: 3
    n: 100
    citation: {authors: A B, journal: J, year: 2020}
    verified: true
    confidence: F
"""
    text = "area: demo\ndescription: d\nentries:\n" + entry + entry
    check_rule(tmp_path, text, DuplicateEntryIdError, "line 12", eid="dup2020_m90")


def test_rule_duplicate_ids_across_files(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("area: demo", "area: other"), "b.yaml")
    with pytest.raises(DuplicateEntryIdError) as info:
        load_all(tmp_path)
    assert "b.yaml" in str(info.value) and "a.yaml" in str(info.value)
    assert "'good2020_m90'" in str(info.value)


def test_rule_duplicate_area_across_files(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("good2020_m90", "good2020_other"), "b.yaml")
    with pytest.raises(EvidenceFileError, match="area 'demo'") as info:
        load_all(tmp_path)
    assert type(info.value) is EvidenceFileError


def test_rule_non_boolean_verified(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 1
        n: 10
        {CITE}
        verified: "false"
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), VerifiedFlagError, "true or false")


def test_rule_verified_true_for_recalled_number(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 1
        n: 10
        {CITE}
        verified: true
        confidence: M-hi
    """
    check_rule(tmp_path, bad_entry(body), VerifiedFlagError, "M-hi")


def test_rule_unknown_confidence_flag(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 1
        n: 10
        {CITE}
        verified: false
        confidence: M-medium
    """
    check_rule(tmp_path, bad_entry(body), ConfidenceFlagError, "M-medium")


def test_rule_duplicate_yaml_key(tmp_path):
    body = f"""
        quantity: mortality_90d
        type: events
        events: 1
        events: 2
        n: 10
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), DuplicateKeyError, "duplicate key 'events'", "line 16")


def test_rule_duplicate_top_level_key(tmp_path):
    msg = check_rule(
        tmp_path,
        "area: a\narea: b\n" + GOOD.split("\n", 1)[1],
        DuplicateKeyError,
        "'area'",
        eid=None,
    )
    assert "line 2" in msg


def test_yaml_bounds_of_tree_files_apply(tmp_path, monkeypatch):
    """Evidence files are read within the bounds of tree.yamlsafe: an alias bomb, deep
    nesting and a second document are refused before anything is constructed."""
    from decisionmodel.tree import yamlsafe

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )  # 'f' (line 6) alone expands to 1 + 10 * (1 + 10 * (... 11)) = 1,111,111 nodes
    msg = check_rule(tmp_path, bomb, EvidenceFileError, "more than 1,000,000 YAML nodes", eid=None)
    assert msg.startswith(f"{tmp_path / 'demo.yaml'}: line 6: ")
    monkeypatch.setattr(yamlsafe, "MAX_DEPTH", 3)  # GOOD: file, entries, entry, citation
    check_rule(tmp_path, GOOD, EvidenceFileError, "nested deeper than 3 levels", eid=None)
    monkeypatch.undo()
    check_rule(
        tmp_path,
        GOOD + "---\narea: b\n",
        EvidenceFileError,
        "more than one YAML document",
        eid=None,
    )
    assert load_evidence(write(tmp_path, GOOD)).area  # within the bounds: loads


def test_rule_currency_needs_price_year(tmp_path):
    body = f"""
        quantity: cost_inpatient
        type: value
        value: 21535
        unit: USD per admission
        currency: USD
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body), EvidenceFieldError, "price_year")


def test_rule_id_must_be_identifier(tmp_path):
    body = f"""
        id: Bad Id
        quantity: mortality_90d
        type: events
        events: 1
        n: 10
        {CITE}
        verified: true
        confidence: F
    """
    check_rule(tmp_path, bad_entry(body, eid=None), EvidenceFieldError, "identifier", eid="Bad Id")


def test_null_means_absent(tmp_path):
    body = f"""
        quantity: os_5y
        type: proportion
        value: 0.4
        n: 10
        n_eff: null
        {CITE}
        verified: true
        confidence: F
    """
    ev = load_evidence(write(tmp_path, bad_entry(body)))
    assert "n_eff" not in ev["bad2021_x"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("entries: [", "not valid YAML"),
        ("- just a list\n", "top level"),
        ("area: demo\ndescription: d\n", "no 'entries:'"),
        ("area: demo\ndescription: d\nentries: []\n", "empty"),
        (GOOD + "source: somewhere\n", "unknown top-level key(s) source"),
        (GOOD.replace("area: demo", "area: Demo Area"), "area"),
    ],
)
def test_file_layout_errors(tmp_path, text, fragment):
    check_rule(tmp_path, text, EvidenceFileError, fragment, eid=None)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(EvidenceFileError, match="no such file"):
        load_evidence(tmp_path / "absent.yaml")
    with pytest.raises(EvidenceFileError, match="no such directory"):
        load_all(tmp_path / "absent")


def test_all_rules_share_one_base():
    for cls in (
        CitationError,
        ConfidenceFlagError,
        DuplicateEntryIdError,
        DuplicateKeyError,
        EstimateOutsideIntervalError,
        EventsExceedNError,
        EvidenceDistributionError,
        EvidenceFieldError,
        IntervalOrderError,
        NegativeValueError,
        NonPositiveRatioError,
        ProportionRangeError,
        UnknownEvidenceTypeError,
        VerifiedFlagError,
    ):
        assert issubclass(cls, EvidenceFileError) and issubclass(cls, DecisionModelError)
