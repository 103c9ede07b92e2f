"""The evidence models, one PyMC synthesis per module, each exposing ``SPECS`` (one
:class:`~decisionmodel.evidence.registry.ModelSpec`) for
:data:`decisionmodel.evidence.registry.MODEL_MODULES`:

* :mod:`~decisionmodel.evidence.models.surgical_risk`: perioperative mortality and morbidity;
* :mod:`~decisionmodel.evidence.models.intraoperative`: disease found at laparotomy, staging
  laparoscopy;
* :mod:`~decisionmodel.evidence.models.tumour_kinetics`: doubling times, growth rates,
  regrowth after resection;
* :mod:`~decisionmodel.evidence.models.crlm_survival`: survival, cure and recurrence after
  hepatectomy for colorectal liver metastases (patient profiles:
  :mod:`~decisionmodel.evidence.models.crlm_profile`);
* :mod:`~decisionmodel.evidence.models.systemic_survival`: survival on systemic therapy and
  the resection effect.

What several models share is in its own module: :mod:`~decisionmodel.evidence.models.risk_common`
(the risk models) and :mod:`~decisionmodel.evidence.models.survival_kernels` (the survival
models). A model's cache key covers the source of its own module and of the modules of this
package (and of :mod:`decisionmodel.clinical`) it imports
(:func:`decisionmodel.evidence.cache.source_digest`): editing a shared module refits the
models that use it, editing one model's module refits that model only.

Nothing is imported here, so that loading one model does not load the others.
"""
