"""Recognise a DaskCluster whose scheduler upstream's operator made (pure).

Upstream dask-kubernetes (2026.3 and earlier) runs the scheduler as a Deployment
named ``{cluster}-scheduler`` with the labels ours uses for its scheduler Pod, and
the workers as Deployments too.  If our operator reconciled such a cluster it
would add a second scheduler Pod behind the same Service, and clients would be
sent to either one at random.  So it stops and says what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dask_kubernetes._structs import constants, naming

REASON: str = "UpstreamCluster"
MIGRATION_STEP = (
    "it was made by upstream dask-kubernetes' operator (scheduler Deployment {deployment}); "
    "to migrate it, stop upstream's operator and recreate the cluster: "
    "`kubectl get daskcluster {name} -n {namespace} -o yaml > {name}.yaml`, "
    "`kubectl delete daskcluster {name} -n {namespace}`, then `kubectl apply -f {name}.yaml` "
    "(see docs/migrating-from-upstream.md, 'Clusters made by upstream's operator')"
)


def scheduler_deployments(cluster: Mapping[str, Any], deployments: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of the Deployments among ``deployments`` that run this cluster's scheduler."""
    name = cluster["metadata"]["name"]
    wanted = naming.scheduler_selector(name)
    found = []
    for deployment in deployments:
        meta = deployment.get("metadata") or {}
        labels = meta.get("labels") or {}
        if meta.get("name") == naming.scheduler_name(name) or all(
            labels.get(k) == v for k, v in wanted.items()
        ):
            found.append(str(meta.get("name")))
    return sorted(found)


def stalled_message(cluster: Mapping[str, Any], deployments: Sequence[Mapping[str, Any]]) -> str | None:
    """The Stalled message for an upstream-made cluster, or None if it is not one."""
    found = scheduler_deployments(cluster, deployments)
    if not found:
        return None
    meta = cluster["metadata"]
    return MIGRATION_STEP.format(deployment=found[0], name=meta["name"], namespace=meta.get("namespace", ""))


def deployment_selector(cluster_name: str) -> str:
    """The label selector that lists the cluster's Deployments (upstream labels all of them)."""
    return naming.selector_string({constants.LABEL_CLUSTER_NAME: cluster_name})
