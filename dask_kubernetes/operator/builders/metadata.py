"""Label and annotation propagation, and owner references.

The order is top level <= subresource metadata <= base labels (the seed's rule):
a DaskCluster's labels reach its children, ``spec.*.metadata`` overrides them, and
the operator's own labels (``dask.org/component`` and friends) always win.  Keys
that belong to tools (kopf, kubectl, Argo CD's tracking id) never propagate:
copied to a child they would make that tool think it manages the child.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants, kueue

# Argo CD's tracking (the annotation, and the instance label it used by default before
# 3.0): a child carrying its parent's would be shown as an extra resource and pruned.
_NEVER_PROPAGATED_KEYS = frozenset({"argocd.argoproj.io/tracking-id", "app.kubernetes.io/instance"})
# Kueue's opt-in labels queue the object that carries them, never its children: a
# queued DaskJob's cluster and Pods are covered by the job's own Workload.  On a Pod
# template (the sub-level metadata) they stay, for Kueue's plain-Pod integration.
_TOP_LEVEL_ONLY_KEYS = frozenset({kueue.QUEUE_LABEL, kueue.PRIORITY_CLASS_LABEL})


def propagatable(values: Mapping[str, str] | None) -> dict[str, str]:
    """Drop keys that tools own, which must never reach a child."""
    return {
        key: value
        for key, value in (values or {}).items()
        if not key.startswith(constants.RESERVED_METADATA_PREFIXES) and key not in _NEVER_PROPAGATED_KEYS
    }


def merge_metadata(
    top: Mapping[str, Any] | None,
    sub: Mapping[str, Any] | None,
    base_labels: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """Merge labels and annotations in the seed's order: defaults <= top <= subresource <= base.

    The one default, ``sidecar.istio.io/inject: "false"`` on the Pods' (and the
    scheduler Service's) labels, is upstream's: an injected Istio sidecar never
    exits, so a finished job runner Pod would run forever.  Unlike upstream, a
    cluster's own labels may turn it back on (e.g. for mTLS between workers).
    """
    top, sub = top or {}, sub or {}
    defaults = (
        {constants.LABEL_ISTIO_INJECT: "false"}
        if base_labels.get(constants.LABEL_COMPONENT) in constants.POD_COMPONENTS
        else {}
    )
    labels = {
        **defaults,
        **{k: v for k, v in propagatable(top.get("labels")).items() if k not in _TOP_LEVEL_ONLY_KEYS},
        **propagatable(sub.get("labels")),
        **base_labels,
    }
    annotations = {**propagatable(top.get("annotations")), **propagatable(sub.get("annotations"))}
    return {"labels": labels, "annotations": annotations}


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    """Make the controller owner reference that lets the garbage collector delete children."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def object_meta(
    name: str,
    namespace: str,
    merged: Mapping[str, Mapping[str, str]],
    owner: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Assemble ``metadata`` for a child object."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(merged["labels"])}
    if merged.get("annotations"):
        meta["annotations"] = dict(merged["annotations"])
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    return meta


def with_env(container: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Add environment variables the container does not set already: never overwrite, never duplicate."""
    out = dict(container)
    existing = list(out.get("env") or [])
    present = {item.get("name") for item in existing}
    existing += [{"name": name, "value": value} for name, value in env.items() if name not in present]
    out["env"] = existing
    return out
