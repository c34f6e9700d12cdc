"""What the background tasks and the routes share: the API client and readiness."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.webhooks.kube import ClusterLookup, NoLookup


@dataclass
class WebhookState:
    """Mutable state of one running webhook.

    ``ready`` turns true once the app can answer reviews with a valid serving
    certificate.  It deliberately does not wait for the webhook configurations
    to carry our caBundle: with Argo CD sync waves those are applied only after
    this Deployment is healthy, so waiting for them would deadlock the sync.
    """

    kube: ClusterLookup = field(default_factory=NoLookup)
    ready: bool = False
    not_ready_reason: str = "starting"


# A background task runs for the app's lifetime, e.g. the CA and caBundle sync.
BackgroundTask = Callable[[WebhookState], Coroutine[Any, Any, None]]
