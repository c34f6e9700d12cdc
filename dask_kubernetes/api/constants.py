"""API coordinates, label keys, environment names and ports, kept in one place.

Every other module imports these names instead of spelling the strings again;
see :mod:`dask_kubernetes.api.naming` for the functions that make object names.
"""

from __future__ import annotations

from typing import Final

# The custom resources' API.
GROUP: Final = "kubernetes.dask.org"
VERSION: Final = "v1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

KIND_CLUSTER: Final = "DaskCluster"
KIND_WORKER_GROUP: Final = "DaskWorkerGroup"
KIND_JOB: Final = "DaskJob"
KIND_AUTOSCALER: Final = "DaskAutoscaler"

PLURAL_CLUSTER: Final = "daskclusters"
PLURAL_WORKER_GROUP: Final = "daskworkergroups"
PLURAL_JOB: Final = "daskjobs"
PLURAL_AUTOSCALER: Final = "daskautoscalers"

PLURALS: Final = (PLURAL_CLUSTER, PLURAL_WORKER_GROUP, PLURAL_JOB, PLURAL_AUTOSCALER)

# Labels the operator sets on every child, and selects children by.
LABEL_CLUSTER_NAME: Final = "dask.org/cluster-name"
LABEL_COMPONENT: Final = "dask.org/component"
LABEL_WORKER_GROUP: Final = "dask.org/workergroup-name"
# On a DaskJob's runner Pod (label) and its DaskCluster (annotation): the attempt they serve.
LABEL_JOB_ATTEMPT: Final = "dask.org/job-attempt"

COMPONENT_SCHEDULER: Final = "scheduler"
COMPONENT_WORKER: Final = "worker"
COMPONENT_WORKER_GROUP: Final = "workergroup"
COMPONENT_JOB_RUNNER: Final = "job-runner"
# Components that are Pods (the scheduler's Service shares its component label).
POD_COMPONENTS: Final = (COMPONENT_SCHEDULER, COMPONENT_WORKER, COMPONENT_JOB_RUNNER)

# Istio's per-Pod opt-out: an injected sidecar never exits, so a job runner Pod would
# never complete.  Upstream sets it on every Pod it builds; we set it as a default.
LABEL_ISTIO_INJECT: Final = "sidecar.istio.io/inject"

# The container name of upstream's classic KubeCluster, kept for code that imports it.
KUBECLUSTER_CONTAINER_NAME: Final = "dask-container"

# Metadata keys that belong to tools, never propagated to children.
RESERVED_METADATA_PREFIXES: Final = ("kopf.zalando.org", "kubectl.kubernetes.io")
# The recommended labels that say which install an object belongs to (prune selectors use them).
INSTANCE_LABELS: Final = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
)

# Environment variables injected into workers and the job runner.
ENV_SCHEDULER_ADDRESS: Final = "DASK_SCHEDULER_ADDRESS"
ENV_WORKER_NAME: Final = "DASK_WORKER_NAME"
# The attempt a DaskJob runner Pod belongs to, from 1 (a retry or a resume starts a new one).
ENV_JOB_ATTEMPT: Final = "DASK_JOB_ATTEMPT"

# Ports of the scheduler, by the names the seed's manifests use.
SCHEDULER_PORT: Final = 8786
DASHBOARD_PORT: Final = 8787
WORKER_DASHBOARD_PORT: Final = 8788
PORT_NAME_COMM: Final = "tcp-comm"
PORT_NAME_DASHBOARD: Final = "http-dashboard"

# Cluster names are DNS-1123 labels short enough that "{name}-scheduler" still is one.
DNS1123_LABEL_MAX: Final = 63
SCHEDULER_NAME_TEMPLATE: Final = "{cluster_name}-scheduler"
MAX_CLUSTER_NAME_LEN: Final = DNS1123_LABEL_MAX - len(SCHEDULER_NAME_TEMPLATE.format(cluster_name=""))
DNS1123_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

# Where the operator's deployment lives, as the chart and overlays name it.
APP_NAME: Final = "dask-kubernetes-operator"
WEBHOOK_NAME: Final = "dask-kubernetes-webhook"

# The scheduler's HTTP routes with the API the operator calls (retire_workers,
# adaptive_target, check_idle) added; without it the operator falls back to RPC.
ENV_SCHEDULER_HTTP_ROUTES: Final = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
SCHEDULER_HTTP_ROUTES: Final = (
    "distributed.http.scheduler.prometheus",
    "distributed.http.scheduler.info",
    "distributed.http.scheduler.json",
    "distributed.http.health",
    "distributed.http.proxy",
    "distributed.http.statics",
    "distributed.http.scheduler.api",
)

# Annotation marking a worker Pod the scheduler has retired: the replica logic no
# longer counts or replaces it, and deletes it (docs/operator.md, "Workers: scaling, retiring, rolling out").
ANNOTATION_RETIRING: Final = "kubernetes.dask.org/retiring"
# Annotation of a cluster's default group: the hash of the cluster's spec without
# ``suspend`` when the group last followed it, so that suspending and resuming do
# not push the cluster's replicas over the group's (a scale of the group, the autoscaler).
ANNOTATION_CLUSTER_SPEC_HASH: Final = "kubernetes.dask.org/cluster-spec-hash"

# Label carrying the hash of the worker template that made a worker Pod (like a
# ReplicaSet's pod-template-hash): Pods of an older template are rolled out.
LABEL_WORKER_TEMPLATE_HASH: Final = "dask.org/worker-template-hash"
# The same for the scheduler Pod: a change of ``spec.scheduler.spec`` recreates it.
LABEL_SCHEDULER_TEMPLATE_HASH: Final = "dask.org/scheduler-template-hash"

# Kubernetes Event reasons the operator records.
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_CREATED: Final = "Created"
REASON_RECREATED: Final = "Recreated"
REASON_SCALED_UP: Final = "ScaledUp"
REASON_SCALED_DOWN: Final = "ScaledDown"
REASON_RETIRED: Final = "RetiredWorkers"
REASON_LIFO_FALLBACK: Final = "ScaleDownWithoutRetire"
REASON_REPLACED: Final = "ReplacedWorker"
REASON_ADOPTED: Final = "JoinedCluster"
REASON_IDLE_TIMEOUT: Final = "IdleTimeout"
REASON_JOB_STARTED: Final = "JobStarted"
REASON_JOB_SUCCEEDED: Final = "JobSucceeded"
REASON_JOB_FAILED: Final = "JobFailed"
REASON_AUTOSCALED: Final = "Autoscaled"
REASON_WAITING_FOR_CLUSTER: Final = "WaitingForCluster"
REASON_RECONCILE_ERROR: Final = "ReconcileError"
REASON_REFUSED: Final = "Refused"
REASON_RETIRE_INCOMPLETE: Final = "RetireIncomplete"
REASON_SCHEDULER_REPLACED: Final = "SchedulerSpecChanged"
REASON_SERVICE_UPDATED: Final = "ServiceUpdated"
REASON_PROGRESS_DEADLINE: Final = "ProgressDeadlineExceeded"
REASON_SUSPENDING: Final = "Suspending"
REASON_SUSPENDED: Final = "Suspended"
REASON_RESUMED: Final = "Resumed"
REASON_CLUSTER_SUSPENDED: Final = "ClusterSuspended"
REASON_ATTEMPT_FAILED: Final = "AttemptFailed"
REASON_DEADLINE_EXCEEDED: Final = "DeadlineExceeded"
REASON_CLEANED_UP: Final = "CleanedUp"

DEFAULT_IMAGE: Final = "ghcr.io/dask/dask:latest"
# A DaskJob runner restarts on failure unless its spec says Never (Always would never end).
DEFAULT_RUNNER_RESTART_POLICY: Final = "OnFailure"
# Seconds without progress before a resource is Stalled, as for Deployments.
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
FIELD_MANAGER: Final = "dask-kubernetes-operator"
