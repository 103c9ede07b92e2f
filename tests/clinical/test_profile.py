"""Patient profiles (decisionmodel.clinical.profile).

Checks parsing of ``key=value`` items and YAML files, validation and conflicts, merging,
round-trips (hypothesis), the Fong criteria -> score consistency (hypothesis, against a naive
count), and that :func:`survival_covariates` feeds
``decisionmodel.evidence.models_survival.profile_log_hr``: the log hazard multiplier is
recomputed here from a synthetic posterior by the model's documented formula
(``alpha * (sum of the chosen criterion log HRs - mean log HR * mean score)`` for the Fong
criteria, ``beta_x * (x - prevalence_x)`` for binary covariates).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import given
from hypothesis import strategies as st

from decisionmodel.clinical.fong import FONG_CRITERIA, fong_score
from decisionmodel.clinical.profile import (
    PROFILE_KEYS,
    PatientProfile,
    ProfileConflictError,
    ProfileError,
    ProfileFileError,
    ProfileValueError,
    UnknownProfileKeyError,
    describe,
    fong_criteria_met,
    fong_score_of,
    format_profile_items,
    load_profile,
    merge,
    parse_profile_items,
    profile_from_mapping,
    survival_covariates,
    tree_values,
)
from decisionmodel.clinical.staging import M1_CATEGORIES, SITES, m1_category
from decisionmodel.evidence import models_survival
from decisionmodel.exceptions import DecisionModelError

RAW_NONE = dict(node_positive=False, dfi_months=30.0, n_tumours=1, cea_ng_ml=4.0, largest_cm=2.0)


# ------------------------------------------------------------------ parsing


def test_parse_items():
    p = parse_profile_items(
        ["fong=3", "braf=mutant", "dfi_months=8", "age=70", "sex=F", "sites=liver, lung"]
    )
    assert p.fong == 3 and isinstance(p.fong, int)
    assert p.braf == "mutant"
    assert p.dfi_months == 8.0
    assert p.age == 70.0
    assert p.sex == "female"
    assert p.sites == ("liver", "lung")
    assert p.ras is None and p.ecog is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", True), ("no", False), ("TRUE", True), ("False", False), ("Yes", True)],
)
def test_booleans(text, value):
    p = parse_profile_items([f"r0_achievable={text}", f"node_positive={text}"])
    assert p.r0_achievable is value and p.node_positive is value


def test_genotype_and_m1_aliases():
    p = parse_profile_items(["ras=WT", "braf=V600E", "m1=m1c"])
    assert (p.ras, p.braf, p.m1) == ("wild", "mutant", "M1c")
    assert PatientProfile(ras="wild-type", braf="mut").stated() == {"ras": "wild", "braf": "mutant"}


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(UnknownProfileKeyError) as info:
        parse_profile_items(["fong=2", "kras=mutant"])
    msg = str(info.value)
    assert "kras" in msg
    for k in PROFILE_KEYS:
        assert k in msg
    assert isinstance(info.value, models_survival.ProfileError)
    assert isinstance(info.value, DecisionModelError)


@pytest.mark.parametrize(
    "item",
    [
        "age=121",
        "age=-1",
        "age=old",
        "fong=6",
        "fong=-1",
        "fong=2.5",
        "dfi_months=-0.1",
        "n_tumours=0",
        "cea_ng_ml=-3",
        "largest_cm=0",
        "ecog=6",
        "fev1_percent=0",
        "dlco_percent=250",
        "ras=positive",
        "braf=",
        "m1=M2",
        "sex=x",
        "r0_achievable=maybe",
        "sites=liver,pancreas",
        "sites=",
        "age=nan",
    ],
)
def test_out_of_range_or_invalid_values_rejected(item):
    key = item.split("=")[0]
    with pytest.raises(ProfileValueError, match=f"'{key}'"):
        parse_profile_items([item])


def test_malformed_items():
    with pytest.raises(ProfileValueError, match="not key=value"):
        parse_profile_items(["fong"])
    with pytest.raises(ProfileValueError, match="not key=value"):
        parse_profile_items(["=3"])
    with pytest.raises(ProfileValueError, match="given twice"):
        parse_profile_items(["age=60", "age=61"])


def test_site_error_lists_allowed_sites():
    with pytest.raises(ProfileValueError) as info:
        parse_profile_items(["sites=liver,pancreas"])
    assert "pancreas" in str(info.value) and "peritoneum" in str(info.value)


def test_fields_match_keys():
    assert tuple(f.name for f in dataclasses.fields(PatientProfile)) == PROFILE_KEYS
    with pytest.raises(dataclasses.FrozenInstanceError):
        PatientProfile(age=60).age = 61  # type: ignore[misc]


# ------------------------------------------------------------------ conflicts


def test_fong_score_conflicting_with_criteria():
    with pytest.raises(ProfileConflictError) as info:
        parse_profile_items(["fong=1", "node_positive=yes", "dfi_months=6", "n_tumours=3"])
    msg = str(info.value)
    assert "fong=1" in msg and "3 met" in msg and "dfi_months=6" in msg
    with pytest.raises(ProfileConflictError, match="at most 2"):
        PatientProfile(fong=5, node_positive=True, dfi_months=30, n_tumours=1, cea_ng_ml=10)
    # partial criteria leave room: 1 met + 2 unknown allows 1-3
    for k in (1, 2, 3):
        PatientProfile(fong=k, node_positive=True, dfi_months=30, n_tumours=1)


def test_m1_conflicting_with_sites():
    with pytest.raises(ProfileConflictError, match=r"m1=M1a .* M1b"):
        parse_profile_items(["m1=M1a", "sites=liver,lung"])
    with pytest.raises(ProfileConflictError, match="M1c"):
        PatientProfile(m1="M1b", sites=["liver", "peritoneum"])
    assert PatientProfile(m1="M1c", sites=["peritoneum"]).m1 == "M1c"


# ------------------------------------------------------------------ files and merging


def test_load_profile(tmp_path):
    f = tmp_path / "patient.yaml"
    f.write_text(
        "age: 64\nsex: male\nnode_positive: yes\ndfi_months: 9\nn_tumours: 2\n"
        "cea_ng_ml: 35.5\nlargest_cm: 6\nras: mutant\nsites: [liver]\necog: 1\n"
    )
    p = load_profile(f)
    assert p.age == 64.0 and p.node_positive is True and p.sites == ("liver",)
    assert fong_criteria_met(p) == (
        "node_positive",
        "dfi_lt_12m",
        "multiple_tumours",
        "size_gt_5cm",
    )
    assert fong_score_of(p) == 4
    (tmp_path / "empty.yaml").write_text("")
    assert load_profile(tmp_path / "empty.yaml") == PatientProfile()


def test_profile_file_errors(tmp_path):
    with pytest.raises(ProfileFileError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("age: [64\n")
    with pytest.raises(ProfileFileError, match="not valid YAML"):
        load_profile(bad)
    bad.write_text("- age\n- 64\n")
    with pytest.raises(ProfileFileError, match="mapping"):
        load_profile(bad)
    bad.write_text("age: 64\nbraf_status: mutant\n")
    with pytest.raises(UnknownProfileKeyError, match=r"bad\.yaml: unknown key\(s\) braf_status"):
        load_profile(bad)
    bad.write_text("age: 140\n")
    with pytest.raises(ProfileValueError, match=r"bad\.yaml: .*'age'"):
        load_profile(bad)


def test_merge_cli_over_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("age: 60\nfong: 2\nras: wild\nm1: M1a\n")
    merged = merge(load_profile(f), parse_profile_items(["fong=4", "ras=mutant", "ecog=0"]))
    assert merged.stated() == {"age": 60.0, "fong": 4, "ras": "mutant", "m1": "M1a", "ecog": 0}
    # a CLI score contradicting the file's five criteria is a conflict, not a silent override
    g = tmp_path / "q.yaml"
    g.write_text("node_positive: no\ndfi_months: 40\nn_tumours: 1\ncea_ng_ml: 3\nlargest_cm: 1\n")
    with pytest.raises(ProfileConflictError, match="fong=3"):
        merge(load_profile(g), parse_profile_items(["fong=3"]))
    with pytest.raises(ProfileConflictError, match="m1=M1a"):
        merge(load_profile(f), parse_profile_items(["sites=liver,bone"]))


# ------------------------------------------------------------------ round trips (hypothesis)


@st.composite
def profiles(draw):
    def maybe(strategy):
        return draw(st.none() | strategy)

    kw = {
        "age": maybe(st.floats(0, 120, allow_nan=False)),
        "sex": maybe(st.sampled_from(["female", "male"])),
        "node_positive": maybe(st.booleans()),
        "dfi_months": maybe(st.floats(0, 240, allow_nan=False)),
        "n_tumours": maybe(st.integers(1, 40)),
        "cea_ng_ml": maybe(st.floats(0, 1e5, allow_nan=False)),
        "largest_cm": maybe(st.floats(0.01, 30, allow_nan=False)),
        "ras": maybe(st.sampled_from(["wild", "mutant"])),
        "braf": maybe(st.sampled_from(["wild", "mutant"])),
        "r0_achievable": maybe(st.booleans()),
        "staging_complete": maybe(st.booleans()),
        "primary_controlled": maybe(st.booleans()),
        "ecog": maybe(st.integers(0, 5)),
        "fev1_percent": maybe(st.floats(0.5, 200, allow_nan=False)),
        "dlco_percent": maybe(st.floats(0.5, 200, allow_nan=False)),
    }
    sites = maybe(st.lists(st.sampled_from(SITES), min_size=1, max_size=4, unique=True))
    kw["sites"] = tuple(sites) if sites else None
    if sites and draw(st.booleans()):
        kw["m1"] = m1_category(sites)
    elif not sites:
        kw["m1"] = maybe(st.sampled_from(M1_CATEGORIES))
    base = PatientProfile(**kw)
    lo = len(_naive_met(base, unknown_false=True))
    unknown = sum(getattr(base, k) is None for k in RAW_NONE)
    score = maybe(st.integers(lo, lo + unknown))
    return dataclasses.replace(base, fong=score)


def _naive_met(p, unknown_false=False):
    rules = {
        "node_positive": lambda: p.node_positive is True,
        "dfi_lt_12m": lambda: p.dfi_months is not None and p.dfi_months < 12,
        "multiple_tumours": lambda: p.n_tumours is not None and p.n_tumours >= 2,
        "cea_gt_200": lambda: p.cea_ng_ml is not None and p.cea_ng_ml > 200,
        "size_gt_5cm": lambda: p.largest_cm is not None and p.largest_cm > 5,
    }
    return [c for c in FONG_CRITERIA if rules[c]()]


@given(profiles())
def test_items_round_trip(p):
    items = format_profile_items(p)
    assert parse_profile_items(items) == p
    assert len(items) == len(p.stated())
    assert profile_from_mapping(p.stated()) == p
    assert merge(PatientProfile(), p) == p == merge(p, PatientProfile())
    assert isinstance(describe(p), str) and "\n" not in describe(p)


@given(profiles())
def test_yaml_round_trip(p):
    # what load_profile does after reading the file: safe_load, then profile_from_mapping
    data = {k: list(v) if isinstance(v, tuple) else v for k, v in p.stated().items()}
    assert profile_from_mapping(yaml.safe_load(yaml.safe_dump(data))) == p


raw_criteria = st.fixed_dictionaries(
    {
        "node_positive": st.booleans(),
        "dfi_months": st.sampled_from([11.99, 12.0]) | st.floats(0, 120, allow_nan=False),
        "n_tumours": st.integers(1, 12),
        "cea_ng_ml": st.sampled_from([200.0, 200.5]) | st.floats(0, 2000, allow_nan=False),
        "largest_cm": st.sampled_from([5.0, 5.5]) | st.floats(0.1, 20, allow_nan=False),
    }
)


@given(raw_criteria, st.integers(0, 5))
def test_fong_criteria_and_score_consistent(raw, claimed):
    p = PatientProfile(**raw)
    naive = _naive_met(p)
    assert list(fong_criteria_met(p)) == naive
    assert fong_score_of(p) == len(naive) == fong_score(**raw).score
    cov = survival_covariates(p)
    assert cov["fong"] == naive
    assert tree_values(p)["fong"] == len(naive)
    if claimed == len(naive):
        assert fong_score_of(PatientProfile(fong=claimed, **raw)) == claimed
    else:
        with pytest.raises(ProfileConflictError):
            PatientProfile(fong=claimed, **raw)


# ------------------------------------------------------------------ survival covariates


def test_survival_covariates():
    assert survival_covariates(PatientProfile()) == {}
    p = parse_profile_items(["fong=2", "ras=mutant", "braf=wild", "m1=M1b", "age=50"])
    assert survival_covariates(p) == {
        "fong": 2,
        "ras": "mutant",
        "braf": "wild",
        "extrahepatic": True,
    }
    assert survival_covariates(PatientProfile(m1="M1c"))["extrahepatic"] is True
    assert survival_covariates(PatientProfile(m1="M1a"))["extrahepatic"] is False
    assert survival_covariates(PatientProfile(sites=["liver"]))["extrahepatic"] is False
    assert survival_covariates(PatientProfile(sites=["liver", "distant_nodes"]))["extrahepatic"]
    # partial raw criteria: the stated ones as a mapping, the others at their pooled mix
    assert survival_covariates(PatientProfile(node_positive=True, dfi_months=14))["fong"] == {
        "node_positive": True,
        "dfi_lt_12m": False,
    }
    assert "fong" not in survival_covariates(PatientProfile(age=60))
    # score and complete criteria: the criteria (each has its own effect)
    both = PatientProfile(fong=0, **RAW_NONE)
    assert survival_covariates(both)["fong"] == []


def _fake_posterior(seed=0, n_chain=2, n_draw=50):
    rng = np.random.default_rng(seed)
    dims = ("chain", "draw")
    coords = {
        "chain": np.arange(n_chain),
        "draw": np.arange(n_draw),
        "fong_criterion": list(FONG_CRITERIA),
        "covariate": list(models_survival.COVARIATES),
    }
    shape = (n_chain, n_draw)
    return xr.Dataset(
        {
            "fong_attenuation": (dims, rng.uniform(0.5, 1.0, shape)),
            "log_hr_fong_univariable": (
                (*dims, "fong_criterion"),
                rng.normal(0.4, 0.1, (*shape, 5)),
            ),
            "fong_score_mean": (dims, rng.uniform(1.5, 2.0, shape)),
            "log_hr_covariate": ((*dims, "covariate"), rng.normal(0.6, 0.1, (*shape, 4))),
            "prevalence": ((*dims, "covariate"), rng.uniform(0.05, 0.4, (*shape, 4))),
        },
        coords=coords,
    )


def _naive_eta(post, cov):
    alpha = post["fong_attenuation"].values
    beta = post["log_hr_fong_univariable"].values
    s_bar = post["fong_score_mean"].values
    beta_bar = beta.mean(axis=-1)
    eta = np.zeros_like(alpha)
    fong = cov.get("fong")
    if isinstance(fong, int):
        eta += alpha * beta_bar * (fong - s_bar)
    elif isinstance(fong, dict):  # criteria not stated: met with probability s_bar / 5
        total = np.zeros_like(alpha)
        for j, c in enumerate(FONG_CRITERIA):
            w = float(fong[c]) if c in fong else s_bar / len(FONG_CRITERIA)
            total = total + w * beta[..., j]
        eta += alpha * (total - beta_bar * s_bar)
    elif fong is not None:
        idx = [FONG_CRITERIA.index(c) for c in fong]
        eta += alpha * (beta[..., idx].sum(axis=-1) - beta_bar * s_bar)
    names = list(models_survival.COVARIATES)
    for key, x in (
        ("ras", cov.get("ras") == "mutant" if "ras" in cov else None),
        ("braf", cov.get("braf") == "mutant" if "braf" in cov else None),
        ("extrahepatic", cov.get("extrahepatic")),
    ):
        if x is not None:
            j = names.index(key)
            eta += post["log_hr_covariate"].values[..., j] * (
                float(x) - post["prevalence"].values[..., j]
            )
    return eta


@pytest.mark.parametrize(
    "items",
    [
        [],
        ["fong=3"],
        ["fong=0", "ras=wild"],
        ["braf=mutant", "sites=liver,lung"],
        [
            "node_positive=yes",
            "dfi_months=6",
            "n_tumours=1",
            "cea_ng_ml=250",
            "largest_cm=3",
            "ras=mutant",
            "m1=M1a",
        ],
        ["age=80", "ecog=1", "sex=male"],  # nothing the survival model uses
        ["dfi_months=6"],  # one criterion stated, the others at their prevalence
        ["node_positive=no", "largest_cm=7", "braf=wild"],
    ],
)
def test_covariates_feed_profile_log_hr(items):
    post = _fake_posterior()
    cov = survival_covariates(parse_profile_items(items))
    eta = models_survival.profile_log_hr(post, cov)
    assert eta.dims == ("chain", "draw")
    np.testing.assert_allclose(eta.values, _naive_eta(post, cov))


@pytest.mark.slow
def test_covariates_with_the_default_survival_fit(evidence_fit):
    dt = evidence_fit("crlm_survival")
    p = parse_profile_items(["fong=4", "braf=mutant", "sites=liver,lung"])
    eta = models_survival.profile_log_hr(dt, survival_covariates(p))
    low = models_survival.profile_log_hr(dt, survival_covariates(parse_profile_items(["fong=0"])))
    assert float(eta.mean()) > float(low.mean())


# ------------------------------------------------------------------ tree values and summary


def test_tree_values():
    p = parse_profile_items(
        ["age=70", "sex=male", "braf=mutant", "ras=wild", "r0_achievable=no", "sites=liver"]
    )
    assert tree_values(p) == {
        "age": 70.0,
        "female": 0.0,
        "ras": 0.0,
        "braf": 1.0,
        "r0_achievable": 0.0,
        "extrahepatic": 0.0,
    }
    assert tree_values(PatientProfile()) == {}


def test_describe():
    assert describe(PatientProfile()) == "no patient characteristics stated (pooled cohort mix)"
    p = parse_profile_items(
        [
            "age=70",
            "sex=female",
            "fong=3",
            "ras=mutant",
            "braf=wild",
            "sites=liver,peritoneum",
            "r0_achievable=no",
            "staging_complete=yes",
            "ecog=2",
            "fev1_percent=75.5",
        ]
    )
    assert describe(p) == (
        "age 70, female; Fong score 3 (high risk); RAS mutant, BRAF wild; "
        "M1c (liver, peritoneum); R0 resection not achievable; staging complete; ECOG 2; "
        "FEV1 75.5 %"
    )
    partial = PatientProfile(node_positive=True, dfi_months=3)
    assert "Fong criteria partly stated (2 met, 3 not stated)" in describe(partial)


def test_all_profile_errors_share_the_base():
    for cls in (UnknownProfileKeyError, ProfileValueError, ProfileConflictError, ProfileFileError):
        assert issubclass(cls, ProfileError)
        assert issubclass(cls, models_survival.ProfileError)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"age: 60\nfong: 2\nage: 75\n", "duplicate key 'age'"),
        (b"age: 60\nsex: \xe9\n", "not UTF-8"),
        (b"sites: &s [liver, *s]\n", "a cycle"),
        (b"sites: " + b"[" * 500 + b"]" * 500 + b"\n", "nested deeper"),
        (b"age: !!python/object/apply:os.getpid []\n", "python/object"),
        (b"age: 60\n---\nage: 70\n", "more than one YAML document"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n".encode()
                for i in range(7)
            ),
            "YAML nodes",
        ),
    ],
)
def test_profile_file_is_read_strictly_and_within_bounds(tmp_path, content, match):
    f = tmp_path / "profile.yaml"
    f.write_bytes(content)
    with pytest.raises(ProfileFileError, match=match) as info:
        load_profile(f)
    assert str(f) in str(info.value)
