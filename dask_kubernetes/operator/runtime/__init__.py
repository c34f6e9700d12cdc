"""The machinery the reconcilers run on, apart from any one custom resource.

kopf is the watch source only: its indexes (:mod:`.indexes`) are the read cache
(:mod:`.store`), and every watch event adds the object to a work queue
(:mod:`.queue`) that runs up to 16 reconciles at once, at most one per object,
with requeue-after, per-object back-off and a resync of its
own, so no kopf timer or finalizer is needed.  :mod:`.context` ties the API
facade, cache, queue and event recorder (:mod:`.events`) together;
:mod:`.dispatch` runs a reconcile and turns its failures into status
(:mod:`.failures`, :mod:`.statuses`); :mod:`.children` writes the objects a
reconcile owns; :mod:`.leader` elects the one replica that reconciles;
:mod:`.scheduler_client` talks to Dask schedulers; :mod:`.plugins` loads the
``dask_operator_plugin`` entry points.  Nothing here imports a reconciler.
"""
