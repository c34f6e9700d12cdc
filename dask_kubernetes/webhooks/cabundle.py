"""Put the webhook's CA into the ``caBundle`` of its two admission webhook configurations.

Only webhooks that call our own Service are touched, so two installs of the chart
(say in two namespaces) never overwrite each other's caBundle.  Each write replaces
the configuration as read, so it is conditional on its ``resourceVersion``; a
conflict with another replica is retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_MANAGER = "dask-kubernetes-webhook"
CONFLICT_RETRIES = 8
# The two configurations, by the word Kubernetes' API paths use for them.
KINDS = ("validating", "mutating")


async def retry_conflicts(step: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a read-modify-write step again when another replica won the race (409)."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            return await step()
        except ApiException as exc:
            if exc.status != 409 or attempt == CONFLICT_RETRIES - 1:
                raise
            log.info("conflict while %s; retrying", what)
            await asyncio.sleep(random.uniform(0.05, 0.3) * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _ours(hook: dict[str, Any], settings: Settings) -> bool:
    service = (hook.get("clientConfig") or {}).get("service") or {}
    return bool(
        service.get("name") == settings.webhook_service
        and service.get("namespace") == settings.webhook_namespace
    )


async def patch_configuration(
    kube: Kube, settings: Settings, kind: str, name: str, bundle: str, metrics: Metrics | None = None
) -> bool:
    """Put ``bundle`` into every webhook of ours in one configuration; False if it is absent."""

    async def step() -> bool:
        body = await kube.get_webhook_configuration(kind, name)
        if body is None:
            return False
        changed = False
        for hook in body.get("webhooks") or []:
            if _ours(hook, settings) and hook["clientConfig"].get("caBundle") != bundle:
                hook["clientConfig"]["caBundle"] = bundle
                changed = True
        if changed:
            await kube.replace_webhook_configuration(kind, name, body, field_manager=FIELD_MANAGER)
            log.info("patched caBundle of %s webhook configuration %s", kind, name)
            if metrics is not None:
                metrics.ca_bundle_patches.labels(name).inc()
        return True

    return await retry_conflicts(step, f"patching caBundle of {name}")


async def patch_ca_bundles(
    kube: Kube, settings: Settings, bundle: str, metrics: Metrics | None = None
) -> bool:
    """Patch both configurations; True when both exist (they may not yet, see sync waves)."""
    names = {
        "validating": settings.webhook_validating_configuration,
        "mutating": settings.webhook_mutating_configuration,
    }
    found = [await patch_configuration(kube, settings, kind, names[kind], bundle, metrics) for kind in KINDS]
    return all(found)
