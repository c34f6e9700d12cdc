"""The kopf controller: one module per custom resource, plus the plumbing they share.

kopf is used as the watch and event source only.  Every watch event and a slow
timer *poke* a work queue (:mod:`.queue`); the queue runs the level-based reconcile
of one object at a time, which reads the object and its children, compares them
with what the builders say should exist, and acts.  Nothing depends on kopf's
progress bookkeeping, so a lost retry cannot leave a cluster stuck (DESIGN §9).

Importing this package registers the handlers of :mod:`.daskcluster`,
:mod:`.daskworkergroup`, :mod:`.daskjob`, :mod:`.daskautoscaler` and :mod:`.startup`.
"""

from dask_kubernetes.operator.controller import (  # noqa: F401  (registration)
    daskautoscaler,
    daskcluster,
    daskjob,
    daskworkergroup,
    startup,
)
