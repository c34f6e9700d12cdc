"""The admission webhook: a FastAPI app that validates and defaults the four custom resources.

:mod:`.app` assembles the routes (:mod:`.routes`); :mod:`.reviews` types the
AdmissionReview bodies; the rules themselves are pure and live in
:mod:`dask_kubernetes.validation`, shared with the operator.  :mod:`.tls` runs the
self-managed CA (with :mod:`.cabundle` and :mod:`.serving`), :mod:`.kube` is the
webhook's connection to the API, and :mod:`.main` is the ``dask-kubernetes webhook``
entry point.
"""
