"""Clinical calculators: risk scores, staging, lung function, tumour kinetics, candidacy.

Plain functions over plain data, used to describe a patient (:class:`PatientProfile`) and to
turn clinical values into the inputs of the decision and evidence models.

* :mod:`~decisionmodel.clinical.fong`: Fong clinical risk score and its published strata
  (Fong Y et al. *Ann Surg* 1999;230:309-21; strata recalled, M-mod); low (0-2) / high
  (3-5) grouping (Creasy JM et al. *Surgery* 2018;163:1238-44).
* :mod:`~decisionmodel.clinical.staging`: AJCC 8th-edition M1a/M1b/M1c of colorectal cancer
  (Amin MB et al., eds. *AJCC Cancer Staging Manual*, 8th ed. Springer 2017) and
  extrahepatic disease.
* :mod:`~decisionmodel.clinical.pulmonary`: predicted postoperative FEV1/DLCO by the
  anatomical segment method, ACCP 2013 risk categories (Brunelli A et al. *Chest*
  2013;143:e166S-e190S; M-hi), the ERS/ESTS 2009 variant (Brunelli A et al. *Eur Respir J*
  2009;34:17-41), operative mortality vs ppoFEV1 (Markos J et al. *Am Rev Respir Dis*
  1989;139:902-10; Nakahara K et al. *Ann Thorac Surg* 1988;46:549-52; fitted logistic, D).
* :mod:`~decisionmodel.clinical.kinetics`: exponential regrowth after R0/R1/R2 resection
  (Friberg S, Mattson S. *J Surg Oncol* 1997;65:284-97; Del Monte U. *Cell Cycle*
  2009;8:505-6; Finlay IG et al. *Br J Surg* 1988;75:641-4; residual burdens D).
* :mod:`~decisionmodel.clinical.candidacy`: candidacy for curative-intent metastasectomy.
* :mod:`~decisionmodel.clinical.profile`: patient profiles from ``key=value`` items or YAML
  and their survival-model covariates.

Values come from the papers cited above, as the project's evidence dossier (sections 1, 5, 8,
11 and 13; not part of this repository) reports them; its confidence flags (F found, M-*
recalled, D derived) are kept in the docstrings.

Examples
--------
>>> from decisionmodel import clinical
>>> clinical.fong_score(node_positive=True, dfi_months=6, n_tumours=2, cea_ng_ml=50,
...                     largest_cm=3).score
3
>>> clinical.m1_category(["liver", "lung"])
'M1b'
>>> round(clinical.ppo(80, "right_lower"), 1)
58.9
"""

from decisionmodel.clinical.candidacy import (
    PROCEDURES,
    Candidacy,
    CandidacyInputError,
    assess_candidacy,
)
from decisionmodel.clinical.fong import (
    FONG_CITATION,
    FONG_CRITERIA,
    FONG_STRATA,
    ClinicalInputError,
    FongScore,
    FongStratum,
    fong_criteria,
    fong_risk_group,
    fong_score,
    fong_stratum,
    score_from_criteria,
)
from decisionmodel.clinical.kinetics import (
    DETECTION_CELLS,
    LETHAL_CELLS,
    RESIDUAL_CELLS,
    KineticsInputError,
    dfi_growth_rate_bound,
    doubling_time_from_growth_rate,
    growth_rate_from_doubling_time,
    regrowth_time,
    residual_cells,
    time_to_detection,
)
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
from decisionmodel.clinical.pulmonary import (
    RESECTIONS,
    SEGMENTS,
    TOTAL_SEGMENTS,
    LungRiskAssessment,
    PulmonaryInputError,
    Resection,
    accp2013_risk,
    ers_ests2009_risk,
    operative_mortality_ppo,
    ppo,
    ppo_sequential,
    segments_resected,
)
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

__all__ = [
    "DETECTION_CELLS",
    "FONG_CITATION",
    "FONG_CRITERIA",
    "FONG_STRATA",
    "LETHAL_CELLS",
    "M1_CATEGORIES",
    "PROCEDURES",
    "PROFILE_KEYS",
    "RESECTIONS",
    "RESIDUAL_CELLS",
    "SEGMENTS",
    "SITES",
    "TOTAL_SEGMENTS",
    "Candidacy",
    "CandidacyInputError",
    "ClinicalInputError",
    "FongScore",
    "FongStratum",
    "KineticsInputError",
    "LungRiskAssessment",
    "PatientProfile",
    "ProfileConflictError",
    "ProfileError",
    "ProfileFileError",
    "ProfileValueError",
    "PulmonaryInputError",
    "Resection",
    "StagingError",
    "UnknownProfileKeyError",
    "UnknownSiteError",
    "accp2013_risk",
    "assess_candidacy",
    "describe",
    "dfi_growth_rate_bound",
    "doubling_time_from_growth_rate",
    "ers_ests2009_risk",
    "extrahepatic_sites",
    "fong_criteria",
    "fong_criteria_met",
    "fong_risk_group",
    "fong_score",
    "fong_score_of",
    "fong_stratum",
    "format_profile_items",
    "growth_rate_from_doubling_time",
    "is_extrahepatic",
    "load_profile",
    "m1_category",
    "merge",
    "normalise_sites",
    "operative_mortality_ppo",
    "parse_profile_items",
    "ppo",
    "ppo_sequential",
    "profile_from_mapping",
    "regrowth_time",
    "residual_cells",
    "score_from_criteria",
    "segments_resected",
    "survival_covariates",
    "time_to_detection",
    "tree_values",
]
