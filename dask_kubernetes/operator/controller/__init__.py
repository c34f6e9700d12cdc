"""The kopf controller: one module per custom resource, plus the plumbing they share.

kopf is used as the watch source only: its indexes (:mod:`.indexes`) are the read
cache, and its event handlers *add* objects to a work queue (:mod:`.queue`).  The
queue runs the level-based reconcile of one object at a time, which reads the
object and its children from the cache, compares them with what the builders say
should exist, and acts; it also resyncs every object, so no kopf timer (and no
kopf finalizer) is needed.  Nothing depends on kopf's progress bookkeeping, so a
lost retry cannot leave a cluster stuck.  With several replicas, only the holder
of a Lease reconciles (:mod:`.leader`).

Importing this package registers the handlers of :mod:`.indexes`,
:mod:`.daskcluster`, :mod:`.daskworkergroup`, :mod:`.daskjob`,
:mod:`.daskautoscaler` and :mod:`.startup`.
"""

from dask_kubernetes.operator.controller import (  # noqa: F401  (registration)
    daskautoscaler,
    daskcluster,
    daskjob,
    daskworkergroup,
    indexes,
    startup,
)
