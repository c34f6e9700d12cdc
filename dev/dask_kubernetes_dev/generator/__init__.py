"""The generator: renders CRDs, RBAC rules, the chart's generated parts, overlays and typed bodies.

:mod:`.sources` reads ``schemas/``; :mod:`.vendor` refreshes the vendored Kubernetes
definitions and :mod:`.openapi` turns them into structural schema.  :mod:`.crds`
builds the CRDs and :mod:`.chart` the chart's CRD templates, RBAC rule templates and
values schema, all as plain data.  :mod:`.helm` renders the chart, from which
:mod:`.overlays` (base, namespaced, prometheus, cert-manager), :mod:`.kubeflow`,
:mod:`.argocd` (argocd-cm with the hand-written Argo CD health check) and
:mod:`.policies` build the other overlays.  :mod:`.bodies` writes the TypedDicts of
``dask_kubernetes/api/bodies.py``.  :mod:`.render` renders everything and writes it
or checks the work tree for drift.
"""
