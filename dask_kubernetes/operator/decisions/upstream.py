"""Recognise DaskClusters and DaskWorkerGroups that upstream's operator made (pure).

Upstream dask-kubernetes (2026.3 and earlier) runs the scheduler as a Deployment
named ``{cluster}-scheduler``, with the labels ours puts on its scheduler Pod, and
each worker group as Deployments labelled ``dask.org/workergroup-name``.  If our
operator reconciled such a cluster it would add a second scheduler Pod behind the
same Service (clients would reach either at random) and a second set of workers.
So it stops and says what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dask_kubernetes.api import constants, naming

REASON: str = "UpstreamCluster"
MIGRATION_STEP = (
    "made by upstream dask-kubernetes' operator ({what} Deployment {deployment}); to migrate it, "
    "stop upstream's operator and recreate the cluster: "
    "`kubectl get daskcluster {cluster} -n {namespace} -o yaml > {cluster}.yaml`, "
    "`kubectl delete daskcluster {cluster} -n {namespace}`, then `kubectl apply -f {cluster}.yaml` "
    "(docs/migrating-from-upstream.md, 'Clusters made by upstream's operator')"
)


def _cluster_name(plural: str, obj: Mapping[str, Any]) -> str:
    if plural == constants.PLURAL_WORKER_GROUP:
        return str((obj.get("spec") or {}).get("cluster") or "")
    return str(obj["metadata"]["name"])


def _wanted(plural: str, obj: Mapping[str, Any]) -> dict[str, str]:
    name = obj["metadata"]["name"]
    if plural == constants.PLURAL_WORKER_GROUP:
        return {constants.LABEL_COMPONENT: constants.COMPONENT_WORKER, constants.LABEL_WORKER_GROUP: name}
    return naming.scheduler_selector(name)


def deployment_selector(plural: str, obj: Mapping[str, Any]) -> str:
    """The label selector that lists the Deployments upstream made for ``obj``."""
    if plural == constants.PLURAL_WORKER_GROUP:
        return naming.selector_string({constants.LABEL_WORKER_GROUP: obj["metadata"]["name"]})
    return naming.selector_string({constants.LABEL_CLUSTER_NAME: obj["metadata"]["name"]})


def upstream_deployments(
    plural: str, obj: Mapping[str, Any], deployments: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Names of the Deployments among ``deployments`` that upstream runs ``obj``'s Pods with."""
    wanted = _wanted(plural, obj)
    found = []
    for deployment in deployments:
        labels = (deployment.get("metadata") or {}).get("labels") or {}
        if all(labels.get(k) == v for k, v in wanted.items()):
            found.append(str(deployment["metadata"].get("name")))
    return sorted(found)


def stalled_message(
    plural: str, obj: Mapping[str, Any], deployments: Sequence[Mapping[str, Any]]
) -> str | None:
    """The Stalled message for an object upstream's operator made, or None if it is ours."""
    found = upstream_deployments(plural, obj, deployments)
    if not found:
        return None
    return MIGRATION_STEP.format(
        what="worker" if plural == constants.PLURAL_WORKER_GROUP else "scheduler",
        deployment=found[0],
        cluster=_cluster_name(plural, obj),
        namespace=obj["metadata"].get("namespace", ""),
    )
