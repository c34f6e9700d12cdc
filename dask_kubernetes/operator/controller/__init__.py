"""The four reconcilers, one module per custom resource, and what only they use.

Each of :mod:`.daskcluster`, :mod:`.daskworkergroup`, :mod:`.daskjob` and
:mod:`.daskautoscaler` registers kopf event handlers that only add the object to
the work queue, and a level-based ``reconcile`` that reads the object and its
children from the cache, compares them with what the builders say should exist,
and acts.  The machinery they run on (queue, cache, leader election, events,
status writing, failure reporting, the scheduler client) is
:mod:`dask_kubernetes.operator.runtime`; the pure decisions are
:mod:`dask_kubernetes.operator.decisions`.

Upstream's image runs ``kopf run -m dask_kubernetes.operator.controller``: importing
this package registers the handlers of the runtime's read cache
(:mod:`~dask_kubernetes.operator.runtime.indexes`), of the four reconcilers and of
:mod:`.startup`, and, with the Kueue integration on, the Workload watch
(:mod:`.workloads`).
"""

from dask_kubernetes.operator.controller import (  # noqa: F401  (registration)
    daskautoscaler,
    daskcluster,
    daskjob,
    daskworkergroup,
    startup,
)
from dask_kubernetes.operator.runtime import indexes  # noqa: F401  (registration)
from dask_kubernetes.settings import get_settings

if get_settings().kueue:
    from dask_kubernetes.operator.controller import workloads  # noqa: F401  (registration)
