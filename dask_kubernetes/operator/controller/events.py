"""Record Kubernetes Events on the custom resources, for every decision a user would want to see."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.kubeapi import Kube

COMPONENT = "dask-kubernetes-operator"
log = logging.getLogger(__name__)


def build_event(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> dict[str, Any]:
    """Build a core/v1 Event about ``obj``; pure, so its shape is tested without a cluster."""
    meta = obj["metadata"]
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:12]}", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class Recorder:
    """Posts Events; a failure to post is logged, never raised: events must not block work."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    async def normal(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        """Record a Normal event."""
        await self._post(obj, "Normal", reason, message)

    async def warning(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        """Record a Warning event."""
        await self._post(obj, "Warning", reason, message)

    async def _post(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        event = build_event(obj, type_, reason, message)
        log.info("%s %s/%s: %s: %s", type_, obj["kind"], obj["metadata"]["name"], reason, message)
        try:
            await self.kube.core.create_namespaced_event(event["metadata"]["namespace"], event)
        except (ApiException, OSError) as exc:
            log.warning("could not record event %s on %s: %s", reason, obj["metadata"]["name"], exc)
