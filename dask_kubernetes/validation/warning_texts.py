"""Texts of the warnings the webhook returns for the seed's best practices.

Warnings never deny a request: ``kubectl`` prints them and goes on.  Each text names
the field it is about and says what to do.  The API server may truncate a warning
longer than 256 characters, so they stay short; the ``{...}`` parts are filled in by
:mod:`dask_kubernetes.validation.practices`.
"""

from __future__ import annotations

from typing import Final

LATEST_IMAGE: Final = (
    "{path}: image {image!r} uses the :latest tag; pin a version so the scheduler, "
    "workers and client run the same code"
)
UNTAGGED_IMAGE: Final = (
    "{path}: image {image!r} has no tag, which means :latest; pin a version so the "
    "scheduler, workers and client run the same code"
)
MEMORY_LIMIT_MISMATCH: Final = (
    "{path}: --memory-limit {flag} does not match the container's memory limit {limit}; "
    "Kubernetes may kill workers before Dask spills (KilledWorker)"
)
MEMORY_LIMIT_WITHOUT_LIMIT: Final = (
    "{path}: --memory-limit {flag} is set but the container has no memory limit; "
    "set resources.limits.memory to match"
)
NTHREADS_MISMATCH: Final = (
    "{path}: --nthreads {flag} does not match the container's CPU {kind} {cpu}; "
    "workers will be over- or under-subscribed"
)
NTHREADS_WITHOUT_CPU: Final = (
    "{path}: --nthreads {flag} is set but the container has no CPU limit or request; set resources to match"
)
NO_DEATH_TIMEOUT: Final = (
    "{path}: dask-worker has no --death-timeout; add --death-timeout 60 so a worker "
    "exits when its scheduler is gone"
)
CLUSTER_NOT_FOUND: Final = (
    "spec.cluster: DaskCluster {cluster!r} does not exist in namespace {namespace!r} yet; "
    "the workers start once it does"
)
DELETE_SELF_UNDER_GITOPS: Final = (
    "{path}: DeleteSelf on a DaskJob applied by a GitOps tool ({key}): Argo CD or Flux "
    "would create the deleted job again from Git and run it again; use DeleteCluster or DeleteWorkers"
)
