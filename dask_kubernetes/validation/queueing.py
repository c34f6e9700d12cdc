"""Admission for objects Kueue queues: created suspended, the queue fixed while running, 8 PodSets.

A DaskJob or DaskCluster labelled ``kueue.x-k8s.io/queue-name`` waits in that queue
until Kueue admits its Workload (see ``docs/queues.md``).  Kueue has no webhook of its
own for our kinds, so this one does what Kueue's does for a batch Job:

- on CREATE it sets ``spec.suspend: true`` (:func:`suspend_patch`), so nothing runs
  before admission, whatever the manifest said;
- the queue label names a LocalQueue, so it must be a DNS-1123 subdomain
  (:func:`validate_labels`), and it may not be added, changed or removed while the
  object is not suspended (:func:`validate_queue_change`): Kueue admitted it from one
  queue and holds that queue's quota for it;
- a Workload holds at most :data:`~dask_kubernetes.api.kueue.MAX_PODSETS` PodSets, so
  a worker group that would be the ninth of a queued cluster is refused
  (:func:`worker_group_limit`); the webhook looks the cluster up
  (:class:`QueuedCluster`), and says nothing when it cannot.

A DaskJob's own DaskCluster inherits the job's labels, queue included, but it is part
of the job's Workload, not queued on its own: every rule here skips it, as Kueue skips
a Job whose owner it already manages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.validation import k8sfield as kf
from dask_kubernetes.validation.errors import FieldError

# The kinds Kueue queues (its externalFrameworks); worker groups and autoscalers ride along.
QUEUED_KINDS: dict[str, str] = {
    constants.PLURAL_JOB: constants.KIND_JOB,
    constants.PLURAL_CLUSTER: constants.KIND_CLUSTER,
}
QUEUE_LABEL_PATH = f"metadata.labels[{kueue.QUEUE_LABEL}]"
PRIORITY_CLASS_LABEL_PATH = f"metadata.labels[{kueue.PRIORITY_CLASS_LABEL}]"
_SUSPEND_FIRST = "suspend it first, or in the same update (spec.suspend: true)"


def job_owner(obj: Mapping[str, Any]) -> str | None:
    """The name of the DaskJob that controls ``obj`` (the job's own cluster), or None."""
    meta = obj.get("metadata")
    owners = meta.get("ownerReferences") if isinstance(meta, Mapping) else None
    for owner in owners if isinstance(owners, list) else ():
        if (
            isinstance(owner, Mapping)
            and owner.get("controller") is True
            and owner.get("kind") == constants.KIND_JOB
            and str(owner.get("apiVersion", "")).startswith(f"{constants.GROUP}/")
        ):
            name = owner.get("name")
            return name if isinstance(name, str) and name else None
    return None


def owned_by_job(obj: Mapping[str, Any]) -> bool:
    """Whether a DaskJob controls ``obj``: the job's own cluster, queued as part of the job."""
    return job_owner(obj) is not None


def _label(obj: Mapping[str, Any], key: str) -> Any:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels.get(key) if isinstance(labels, Mapping) else None


def queue_of(obj: Mapping[str, Any]) -> str | None:
    """The queue label's value, or None when absent or empty, as ``kueue.queue_name`` reads it.

    Read defensively: admission sees objects before the API server has checked their
    metadata, and must answer for any of them.
    """
    value = _label(obj, kueue.QUEUE_LABEL)
    return value if isinstance(value, str) and value else None


def queued(plural: str, obj: Mapping[str, Any]) -> str | None:
    """The queue ``obj`` asks Kueue for, or None: another kind, no label, or a job's own cluster."""
    if plural not in QUEUED_KINDS or owned_by_job(obj):
        return None
    return queue_of(obj)


def suspend_patch(plural: str, obj: Any) -> list[dict[str, Any]]:
    """The JSONPatch that creates a queued object suspended; [] for anything else.

    Like Kueue's webhook for a batch Job, ``suspend: false`` is overridden too: the
    operator unsuspends the object once Kueue admits it.  A value that is not a
    boolean is left for validation to refuse, rather than silently corrected.
    """
    if not isinstance(obj, Mapping) or queued(plural, obj) is None:
        return []
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return []
    value = spec.get("suspend")
    if value is None:
        return [{"op": "add", "path": "/spec/suspend", "value": True}]
    if value is False:
        return [{"op": "replace", "path": "/spec/suspend", "value": True}]
    return []


def validate_labels(plural: str, obj: Mapping[str, Any]) -> list[FieldError]:
    """Kueue's labels name objects: a LocalQueue and a WorkloadPriorityClass, both DNS-1123 subdomains.

    Worded as Kueue's own webhook words it for a Job; an empty value means "not
    queued" and is not checked.
    """
    if plural not in QUEUED_KINDS or owned_by_job(obj):
        return []
    errors = []
    labels = ((kueue.QUEUE_LABEL, QUEUE_LABEL_PATH), (kueue.PRIORITY_CLASS_LABEL, PRIORITY_CLASS_LABEL_PATH))
    for key, path in labels:
        value = _label(obj, key)
        if isinstance(value, str) and value:
            problems = kf.dns1123_subdomain(value)
            if problems:
                errors.append(kf.invalid(path, value, ",".join(problems)))
    return errors


def _suspended(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    return isinstance(spec, Mapping) and spec.get("suspend") is True


def validate_queue_change(plural: str, obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Refuse adding, changing or removing the queue label of an object that is not suspended.

    Kueue refuses the same for a Job that is not suspended: the object was admitted
    from (and holds the quota of) the queue it had, or runs outside Kueue altogether.
    The update that sets ``spec.suspend: true`` may change the label too.
    """
    if plural not in QUEUED_KINDS or owned_by_job(obj) or _suspended(obj):
        return []
    before, after = queue_of(old), queue_of(obj)
    if before == after:
        return []
    kind = QUEUED_KINDS[plural]
    if before is None:
        detail = (
            f'cannot put a {kind} that is not suspended in the Kueue queue "{after}": it runs outside Kueue'
        )
    elif after is None:
        detail = (
            f'cannot take a {kind} that is not suspended out of the Kueue queue "{before}": '
            "Kueue holds that queue's quota for it"
        )
    else:
        detail = (
            f'cannot move a {kind} that is not suspended from the Kueue queue "{before}" to "{after}": '
            f'Kueue admitted it from "{before}"'
        )
    return [kf.forbidden(QUEUE_LABEL_PATH, f"{detail}; {_SUSPEND_FIRST}")]


@dataclass(frozen=True)
class QueuedCluster:
    """What the webhook learnt of a queued DaskCluster a new worker group names.

    ``worker_groups`` are the names of the cluster's groups, its default group
    included (counted even before the operator has made it); ``runner`` is True for a
    DaskJob's cluster, whose Workload also holds the runner's PodSet.
    """

    queue: str
    worker_groups: frozenset[str]
    runner: bool = False

    def podsets(self, *, joining: str | None = None) -> int:
        """How many PodSets the Workload has, or would have once ``joining`` is one of the groups."""
        groups = self.worker_groups | ({joining} if joining else set())
        return kueue.podset_count(len(groups), runner=self.runner)


def _have(cluster: QueuedCluster) -> str:
    groups = len(cluster.worker_groups)
    listed = f"{groups} worker group" + ("" if groups == 1 else "s")
    if cluster.runner:
        return f"the scheduler, the DaskJob's runner and {listed}"
    return f"the scheduler and {listed}"


def worker_group_limit(group: str, cluster_name: str, cluster: QueuedCluster | None) -> list[FieldError]:
    """Refuse a worker group that would give a queued cluster's Workload more PodSets than Kueue allows.

    ``cluster`` is None when the cluster is not queued, does not exist, or could not be
    looked up: then nothing is said (fail open; the operator reports a Workload it
    cannot build).  A group already counted (the default group, or a retried create)
    adds nothing and is never refused.
    """
    if cluster is None or group in cluster.worker_groups:
        return []
    after = cluster.podsets(joining=group)
    if after <= kueue.MAX_PODSETS:
        return []
    owner = f' (the cluster of DaskJob "{cluster_name}")' if cluster.runner else ""
    detail = (
        f'DaskCluster "{cluster_name}"{owner} is queued by Kueue (queue "{cluster.queue}") and has '
        f"{cluster.podsets()} PodSets already ({_have(cluster)}); another worker group would make "
        f"{after}, over Kueue's limit of {kueue.MAX_PODSETS} PodSets per Workload; add the workers to "
        "an existing group or queue a separate DaskCluster"
    )
    return [kf.forbidden("spec.cluster", detail)]
