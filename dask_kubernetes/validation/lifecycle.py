"""Validation of the batch lifecycle fields: suspend, a DaskJob's retries, deadlines and clean-up.

The CRD's own schema and CEL rules say the same (minimums, the integer formats' ranges,
the policy enum, a TTL that needs a policy that deletes something, no suspend inside a
DaskJob's cluster); the webhook says it with the field's path in the API server's words,
for the HTTP path and the operator's own checks, and warns about ``DeleteSelf`` on an
object a GitOps tool applies.  ``tests/controlplane/test_api.py`` checks that the API
server and these rules refuse the same manifests at the same fields; the admission-policy
bundle (``schemas/policies.yaml``) mirrors the warning, with the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import warning_texts
from dask_kubernetes.validation.errors import FieldError

POLICIES = ("DeleteCluster", "DeleteWorkers", "DeleteNone", "DeleteSelf")
# Fields of a DaskJob's spec holding seconds or counts, and the least value each takes.
MINIMUMS = {
    "backoffLimit": 0,
    "activeDeadlineSeconds": 1,
    "preRunningDeadlineSeconds": 1,
    "ttlSecondsAfterFinished": 0,
}
# The largest value of each, from its schema's format: the API server refuses an int32
# field above 2^31-1 (and an int64 one above 2^63-1) before any CEL rule runs.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAXIMUMS = {
    "backoffLimit": INT32_MAX,
    "activeDeadlineSeconds": INT64_MAX,
    "preRunningDeadlineSeconds": INT64_MAX,
    "ttlSecondsAfterFinished": INT32_MAX,
}
# Label and annotation keys Argo CD and Flux put on what they apply.
GITOPS_LABELS = (
    "argocd.argoproj.io/instance",
    "app.kubernetes.io/instance",
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
    "helm.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/namespace",
)
GITOPS_ANNOTATIONS = ("argocd.argoproj.io/tracking-id",)


def suspend(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """``suspend`` is a boolean (a quoted "true" would be read as a string).

    A null counts as absent, as for the other fields: the API server prunes it and
    defaults ``false`` before admission.
    """
    value = spec.get("suspend")
    if value is None or isinstance(value, bool):
        return []
    return [FieldError(f"{path}.suspend", f"Invalid value: {value!r}: must be a boolean (true or false)")]


def _integer(value: Any, path: str, minimum: int, maximum: int) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError(path, f"Invalid value: {value!r}: must be an integer")]
    if value < minimum:
        return [FieldError(path, f"Invalid value: {value}: must be greater than or equal to {minimum}")]
    if value > maximum:
        return [FieldError(path, f"Invalid value: {value}: must be less than or equal to {maximum}")]
    return []


def _policies(spec: Mapping[str, Any]) -> tuple[list[FieldError], dict[str, str]]:
    policy = spec.get("deletionPolicy")
    if policy is None:
        return [], {}
    if not isinstance(policy, Mapping):
        return [
            FieldError("spec.deletionPolicy", "Invalid value: must be an object with onSuccess and onFailure")
        ], {}
    errors: list[FieldError] = []
    chosen: dict[str, str] = {}
    for key in ("onSuccess", "onFailure"):
        value = policy.get(key)
        if value is None:
            continue
        if value not in POLICIES:
            supported = ", ".join(f'"{p}"' for p in POLICIES)
            message = f"Unsupported value: {value!r}: supported values: {supported}"
            errors.append(FieldError(f"spec.deletionPolicy.{key}", message, "FieldValueNotSupported"))
        else:
            chosen[key] = str(value)
    return errors, chosen


def job(spec: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskJob's lifecycle fields; each error names its field."""
    errors = suspend(spec, "spec")
    for key, minimum in MINIMUMS.items():
        if spec.get(key) is not None:
            errors += _integer(spec[key], f"spec.{key}", minimum, MAXIMUMS[key])
    policy_errors, chosen = _policies(spec)
    errors += policy_errors
    both_none = chosen.get("onSuccess") == "DeleteNone" and chosen.get("onFailure") == "DeleteNone"
    if spec.get("ttlSecondsAfterFinished") is not None and both_none:
        errors.append(
            FieldError(
                "spec.ttlSecondsAfterFinished",
                "Forbidden: needs a deletionPolicy that deletes something; with DeleteNone for both "
                "onSuccess and onFailure it would never act",
                "FieldValueForbidden",
            )
        )
    cluster = spec.get("cluster")
    inner = cluster.get("spec") if isinstance(cluster, Mapping) else None
    if isinstance(inner, Mapping) and inner.get("suspend") is True:
        errors.append(
            FieldError(
                "spec.cluster.spec.suspend",
                "Forbidden: a DaskJob's cluster cannot be suspended on its own; set the DaskJob's "
                "spec.suspend instead",
                "FieldValueForbidden",
            )
        )
    return errors


def _tracked_by(metadata: Any) -> str | None:
    """The first GitOps tracking key on the object, or None.

    Labels or annotations that are not maps count as none: the API server refuses such
    metadata before admission, and the webhook's HTTP path must still answer (with no
    warning) rather than fail.
    """
    if not isinstance(metadata, Mapping):
        return None
    labels = metadata.get("labels")
    annotations = metadata.get("annotations")
    labels = labels if isinstance(labels, Mapping) else {}
    annotations = annotations if isinstance(annotations, Mapping) else {}
    for key in GITOPS_ANNOTATIONS:
        if key in annotations:
            return key
    for key in GITOPS_LABELS:
        if key in labels:
            return key
    return None


def job_warnings(obj: Mapping[str, Any]) -> list[str]:
    """Warn about DeleteSelf on a DaskJob a GitOps tool applies: it would be re-created and run again."""
    spec = obj.get("spec") or {}
    policy = spec.get("deletionPolicy") if isinstance(spec, Mapping) else None
    if not isinstance(policy, Mapping):
        return []
    tracked = _tracked_by(obj.get("metadata"))
    if tracked is None:
        return []
    return [
        warning_texts.DELETE_SELF_UNDER_GITOPS.format(path=f"spec.deletionPolicy.{key}", key=tracked)
        for key in ("onSuccess", "onFailure")
        if policy.get(key) == "DeleteSelf"
    ]
