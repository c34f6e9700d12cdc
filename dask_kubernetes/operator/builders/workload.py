"""Kueue's view of a queued DaskJob or DaskCluster: its Workload, and where admitted Pods go.

A Workload is Kueue's unit of admission: a list of PodSets (a Pod template and a
count) that Kueue fits into a ClusterQueue's quota as a whole.  One object gets one
Workload, owned by it: the scheduler, each worker group and, for a DaskJob, the
runner.  The counts are what the operator may run once admitted, so a group that a
DaskAutoscaler drives reserves the autoscaler's ``maximum``: the autoscaler can then
never outgrow the quota Kueue granted.  Everything here is pure; the reads and
writes are in :mod:`dask_kubernetes.operator.controller.queueing`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import constants, kueue, naming
from dask_kubernetes.operator.builders.metadata import owner_reference


@dataclass(frozen=True)
class GroupShape:
    """One worker group as Kueue must see it: its PodSet's name, Pod spec and count."""

    name: str
    pod_spec: Mapping[str, Any]
    count: int


def _podset(name: str, pod_spec: Mapping[str, Any], count: int) -> dict[str, Any]:
    return {"name": name, "count": count, "template": {"spec": copy.deepcopy(dict(pod_spec))}}


def reserved(replicas: int, autoscaler: Mapping[str, Any] | None) -> int:
    """Pods a worker group may run under Kueue: its replicas, or its autoscaler's maximum if larger."""
    if autoscaler is None:
        return replicas
    return max(replicas, int((autoscaler.get("spec") or {}).get("maximum") or 0))


def cluster_groups(
    cluster: Mapping[str, Any],
    groups: Sequence[Mapping[str, Any]],
    autoscalers: Sequence[Mapping[str, Any]],
) -> list[GroupShape]:
    """The worker groups of a DaskCluster: its default group (from the group object once made), then the rest.

    ``groups`` are the cluster's DaskWorkerGroups; the default one's replicas win
    over ``spec.worker.replicas`` because the group may be scaled on its own.
    """
    name = cluster["metadata"]["name"]
    default = naming.default_worker_group_name(name)
    by_name = {g["metadata"]["name"]: g for g in groups}
    scaled: dict[str, Mapping[str, Any]] = {}
    for autoscaler in autoscalers:
        target = (autoscaler.get("spec") or {}).get("workerGroup") or default
        scaled[str(target)] = autoscaler
    worker = cluster["spec"]["worker"]
    default_group = by_name.get(default)
    replicas = int((default_group or {"spec": {"worker": worker}})["spec"]["worker"].get("replicas", 1))
    shapes = [
        GroupShape(
            kueue.podset_name(default), worker.get("spec") or {}, reserved(replicas, scaled.get(default))
        )
    ]
    for group_name in sorted(by_name):
        if group_name == default:
            continue
        spec = by_name[group_name]["spec"]["worker"]
        count = reserved(int(spec.get("replicas", 1)), scaled.get(group_name))
        shapes.append(GroupShape(kueue.podset_name(group_name), spec.get("spec") or {}, count))
    return shapes


def cluster_podsets(cluster: Mapping[str, Any], shapes: Sequence[GroupShape]) -> list[dict[str, Any]]:
    """The PodSets of a standalone DaskCluster: the scheduler, then one per worker group."""
    scheduler = cluster["spec"]["scheduler"].get("spec") or {}
    return [_podset(kueue.PODSET_SCHEDULER, scheduler, 1)] + [
        _podset(s.name, s.pod_spec, s.count) for s in shapes
    ]


def job_podsets(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The PodSets of a DaskJob: its cluster's scheduler and default workers, and the runner."""
    cluster_spec = job["spec"]["cluster"]["spec"]
    worker = cluster_spec["worker"]
    group = naming.default_worker_group_name(naming.job_cluster_name(job["metadata"]["name"]))
    return [
        _podset(kueue.PODSET_SCHEDULER, cluster_spec["scheduler"].get("spec") or {}, 1),
        _podset(kueue.podset_name(group), worker.get("spec") or {}, int(worker.get("replicas", 1))),
        _podset(kueue.PODSET_RUNNER, job["spec"]["job"].get("spec") or {}, 1),
    ]


def build_workload(
    obj: Mapping[str, Any], podsets: Sequence[Mapping[str, Any]], priority: tuple[str, int] | None
) -> dict[str, Any]:
    """The Workload of one queued object, owned by it, in its LocalQueue, at its priority.

    ``priority`` is the named WorkloadPriorityClass and its value, as Kueue's own
    job integrations resolve the ``kueue.x-k8s.io/priority-class`` label.
    """
    meta = obj["metadata"]
    spec: dict[str, Any] = {"queueName": kueue.queue_name(obj) or "", "podSets": [dict(p) for p in podsets]}
    if priority is not None:
        spec["priorityClassRef"] = {
            "group": kueue.GROUP,
            "kind": kueue.KIND_WORKLOAD_PRIORITY_CLASS,
            "name": priority[0],
        }
        spec["priority"] = priority[1]
    return {
        "apiVersion": kueue.API_VERSION,
        "kind": kueue.KIND_WORKLOAD,
        "metadata": {
            "name": kueue.workload_name(obj["kind"], meta["name"]),
            "namespace": meta["namespace"],
            "labels": {constants.LABEL_CLUSTER_NAME: meta["name"]},
            "ownerReferences": [owner_reference(obj)],
        },
        "spec": spec,
    }


def podsets_match(workload: Mapping[str, Any], podsets: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a Workload still describes the object: the same PodSets, counts and templates."""
    have = (workload.get("spec") or {}).get("podSets") or []
    if len(have) != len(podsets):
        return False
    for got, want in zip(have, podsets, strict=True):
        if got.get("name") != want["name"] or int(got.get("count", 0)) != want["count"]:
            return False
    return True


Placement = dict[str, dict[str, Any]]


def placement(workload: Mapping[str, Any], flavors: Mapping[str, Mapping[str, Any]]) -> Placement:
    """Where each admitted PodSet's Pods go: the union of its flavors' nodeLabels and tolerations.

    ``flavors`` maps a ResourceFlavor's name to the object (those the admission
    names).  The result maps a PodSet name to ``{"nodeSelector", "tolerations",
    "count"}``, the shape kept in the object's ``status.queue.podSets``.
    """
    out: Placement = {}
    for assignment in kueue.assignments(workload):
        selector: dict[str, str] = {}
        tolerations: list[dict[str, Any]] = []
        for flavor_name in sorted(set((assignment.get("flavors") or {}).values())):
            flavor_spec = (flavors.get(flavor_name) or {}).get("spec") or {}
            selector.update(flavor_spec.get("nodeLabels") or {})
            for toleration in flavor_spec.get("tolerations") or []:
                if toleration not in tolerations:
                    tolerations.append(dict(toleration))
        entry: dict[str, Any] = {"name": assignment["name"]}
        if assignment.get("count") is not None:
            entry["count"] = int(assignment["count"])
        if selector:
            entry["nodeSelector"] = selector
        if tolerations:
            entry["tolerations"] = tolerations
        out[str(assignment["name"])] = entry
    return out


def place_pod_spec(pod_spec: Mapping[str, Any], where: Mapping[str, Any] | None) -> dict[str, Any]:
    """A Pod spec with one PodSet's admitted nodeSelector and tolerations added (Kueue's own merge).

    The flavor's node labels join the Pod's own nodeSelector (the flavor wins on a
    clash, as Kueue's job integrations do); its tolerations are appended.
    """
    spec = copy.deepcopy(dict(pod_spec))
    if not where:
        return spec
    if where.get("nodeSelector"):
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **where["nodeSelector"]}
    extra = [t for t in where.get("tolerations") or [] if t not in (spec.get("tolerations") or [])]
    if extra:
        spec["tolerations"] = [*(spec.get("tolerations") or []), *extra]
    return spec


def podset_of_pod(pod: Mapping[str, Any]) -> str | None:
    """The PodSet a Pod of ours counts against: the scheduler, its worker group, or the runner."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    component = labels.get(constants.LABEL_COMPONENT)
    if component == constants.COMPONENT_SCHEDULER:
        return kueue.PODSET_SCHEDULER
    if component == constants.COMPONENT_JOB_RUNNER:
        return kueue.PODSET_RUNNER
    group = labels.get(constants.LABEL_WORKER_GROUP)
    if component == constants.COMPONENT_WORKER and group:
        return kueue.podset_name(str(group))
    return None
