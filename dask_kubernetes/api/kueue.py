"""Kueue's names as this project uses them, in one place: labels, the Workload API, PodSets.

Kueue (``kueue.x-k8s.io``) admits our DaskJobs and DaskClusters the way it admits a
batch Job: an object labelled with a queue is created suspended, the operator
describes it to Kueue as one ``Workload`` with a PodSet per kind of Pod, and
unsuspends it once Kueue admits that Workload.  The operator, the webhook and the
docs' examples all read the strings below, so a label can never be spelt two ways.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

GROUP: Final = "kueue.x-k8s.io"
VERSION: Final = "v1beta2"
API_VERSION: Final = f"{GROUP}/{VERSION}"
PLURAL_WORKLOAD: Final = "workloads"
PLURAL_RESOURCE_FLAVOR: Final = "resourceflavors"
PLURAL_WORKLOAD_PRIORITY_CLASS: Final = "workloadpriorityclasses"
KIND_WORKLOAD: Final = "Workload"
KIND_WORKLOAD_PRIORITY_CLASS: Final = "WorkloadPriorityClass"

QUEUE_LABEL: Final = "kueue.x-k8s.io/queue-name"
PRIORITY_CLASS_LABEL: Final = "kueue.x-k8s.io/priority-class"

# Kueue refuses a Workload with more PodSets than this (its CRD's maxItems).
MAX_PODSETS: Final = 8
# A PodSet name is a DNS label.
_MAX_PODSET_NAME: Final = 63

PODSET_SCHEDULER: Final = "scheduler"
PODSET_RUNNER: Final = "runner"

# Workload condition types and the reasons the operator reads or writes.
CONDITION_QUOTA_RESERVED: Final = "QuotaReserved"
CONDITION_ADMITTED: Final = "Admitted"
CONDITION_EVICTED: Final = "Evicted"
CONDITION_FINISHED: Final = "Finished"
CONDITION_REQUEUED: Final = "Requeued"
FINISHED_SUCCEEDED: Final = "Succeeded"
FINISHED_FAILED: Final = "Failed"
# Kueue sets Requeued=True after these evictions (its own job reconciler's rule).
REQUEUED_AFTER: Final = frozenset({"Preempted", "NodeFailures"})

# The externalFrameworks entries of Kueue's configuration that name our kinds.
EXTERNAL_FRAMEWORKS: Final = (
    "DaskJob.v1.kubernetes.dask.org",
    "DaskCluster.v1.kubernetes.dask.org",
)


def queue_name(obj: Mapping[str, Any]) -> str | None:
    """The Kueue LocalQueue an object asks for, or None: the label is the whole opt-in."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    value = labels.get(QUEUE_LABEL) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) and value else None


def priority_class(obj: Mapping[str, Any]) -> str | None:
    """The WorkloadPriorityClass an object names, or None."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    value = labels.get(PRIORITY_CLASS_LABEL) if isinstance(labels, Mapping) else None
    return value if isinstance(value, str) and value else None


def workload_name(kind: str, name: str) -> str:
    """Name the Workload of one object; the kind keeps a job's and its cluster's apart.

    ``daskjob-<name>`` / ``daskcluster-<name>``, shortened with a hash past 253
    characters (a Workload's name is a DNS subdomain).
    """
    full = f"{kind.lower()}-{name}"
    if len(full) <= 253:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:10]
    return f"{full[:242]}-{digest}"


def podset_name(worker_group: str) -> str:
    """Name the PodSet of one worker group: the group's name, made a DNS label."""
    name = worker_group.lower()
    if len(name) <= _MAX_PODSET_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_PODSET_NAME - 9]}-{digest}"


def podset_count(worker_groups: int, *, runner: bool) -> int:
    """How many PodSets an object needs: the scheduler, each worker group, a job's runner."""
    return 1 + worker_groups + (1 if runner else 0)


def condition(workload: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """One condition of a Workload's status, or None."""
    for cond in (workload.get("status") or {}).get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def is_true(workload: Mapping[str, Any], kind: str) -> bool:
    """Whether a Workload condition is True."""
    cond = condition(workload, kind)
    return cond is not None and cond.get("status") == "True"


def assignments(workload: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The admitted PodSets' flavors and counts (``status.admission.podSetAssignments``)."""
    admission = (workload.get("status") or {}).get("admission") or {}
    return admission.get("podSetAssignments") or []
