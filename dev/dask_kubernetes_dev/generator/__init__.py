"""The generator: renders CRDs, RBAC, monitors, the chart's generated parts and overlays.

:mod:`.openapi` turns the vendored Kubernetes definitions into structural schema,
:mod:`.crds`, :mod:`.rbac`, :mod:`.monitors`, :mod:`.chart` and :mod:`.overlays`
build manifests as plain data, and :mod:`.render` writes them or checks for drift.
"""
