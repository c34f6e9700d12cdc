"""A small async facade over the Kubernetes API, shared by the operator and the cluster managers.

Objects go in and come out as plain dicts (camelCase, as in YAML).  Methods that
create tolerate "already exists" and methods that delete tolerate "not found", so
reconciles can be retried at any point without special cases.

Two places where kubernetes_asyncio's stubs are narrower than the client: they
name only the model classes as bodies (the client serialises plain dicts as they
are), and they omit ``_content_type`` (which the client accepts and sends as the
Content-Type header).  Those calls carry a ``type: ignore`` with that code.

The facade is :mod:`.facade`; :mod:`.responses` decodes answers and errors and
:mod:`.ratelimit` is the client-side QPS and burst limit.
"""

from dask_kubernetes.kubeapi.facade import JSON_PATCH, MERGE_PATCH, Kube
from dask_kubernetes.kubeapi.ratelimit import RateLimiter
from dask_kubernetes.kubeapi.responses import api_message

__all__ = ["JSON_PATCH", "MERGE_PATCH", "Kube", "RateLimiter", "api_message"]
