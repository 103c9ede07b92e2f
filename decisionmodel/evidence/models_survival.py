"""The former module of the two survival evidence models, kept as an import path.

The models now live one per module: :mod:`decisionmodel.evidence.models.crlm_survival`
(with its patient-profile tooling, :mod:`decisionmodel.evidence.models.crlm_profile`) and
:mod:`decisionmodel.evidence.models.systemic_survival`, sharing
:mod:`decisionmodel.evidence.models.survival_kernels`. This module re-exports their public
names (no ``SPECS``: the registry reads the model modules). ``SAMPLER_SETTINGS`` maps each
model's name to its settings, as before.

Examples
--------
>>> from decisionmodel.evidence.models import crlm_profile, crlm_survival
>>> survival_by_profile is crlm_profile.survival_by_profile
True
>>> SAMPLER_SETTINGS["crlm_survival"] is crlm_survival.SAMPLER_SETTINGS
True
"""

from __future__ import annotations

from decisionmodel.clinical.fong import FONG_CRITERIA
from decisionmodel.evidence.models import crlm_survival, systemic_survival
from decisionmodel.evidence.models.crlm_profile import (
    SYSTEMIC_PROFILE_KEYS,
    crlm_profile_outputs,
    profile_log_hr,
    survival_by_profile,
)
from decisionmodel.evidence.models.crlm_survival import (
    COHORTS,
    COVARIATES,
    CrlmData,
    build_crlm_survival,
    crlm_checks,
    crlm_data,
    crlm_outputs,
    crlm_predictions,
)
from decisionmodel.evidence.models.survival_kernels import (
    AGE_REF,
    GOMPERTZ_A,
    GOMPERTZ_B,
    MedianTarget,
    ProportionTarget,
)
from decisionmodel.evidence.models.systemic_survival import (
    SystemicData,
    build_systemic_survival,
    systemic_checks,
    systemic_data,
    systemic_outputs,
)
from decisionmodel.exceptions import ProfileError

__all__ = [
    "AGE_REF",
    "COHORTS",
    "COVARIATES",
    "FONG_CRITERIA",
    "GOMPERTZ_A",
    "GOMPERTZ_B",
    "SAMPLER_SETTINGS",
    "SYSTEMIC_PROFILE_KEYS",
    "CrlmData",
    "MedianTarget",
    "ProfileError",
    "ProportionTarget",
    "SystemicData",
    "build_crlm_survival",
    "build_systemic_survival",
    "crlm_checks",
    "crlm_data",
    "crlm_outputs",
    "crlm_predictions",
    "crlm_profile_outputs",
    "profile_log_hr",
    "survival_by_profile",
    "systemic_checks",
    "systemic_data",
    "systemic_outputs",
]

#: NUTS settings by model name (each model module's ``SAMPLER_SETTINGS``)
SAMPLER_SETTINGS = {
    "crlm_survival": crlm_survival.SAMPLER_SETTINGS,
    "systemic_survival": systemic_survival.SAMPLER_SETTINGS,
}
