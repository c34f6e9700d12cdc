"""Record Kubernetes Events on the custom resources, for every decision a user would want to see.

Events are rate-limited per object, like client-go's event spam filter: the same
event (type, reason, message) is posted once per ``dedupe`` seconds, and each
object gets a bucket of ``burst`` events refilled at one per ``refill`` seconds,
so a reconcile that fails every few seconds cannot flood the API server.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import times
from dask_kubernetes.kubeapi import Kube

COMPONENT = "dask-kubernetes-operator"
log = logging.getLogger(__name__)


def build_event(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> dict[str, Any]:
    """Build a core/v1 Event about ``obj``; pure, so its shape is tested without a cluster."""
    meta = obj["metadata"]
    stamp = times.now()
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


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class Recorder:
    """Posts Events; a failure to post is logged, never raised: events must not block work."""

    def __init__(
        self,
        kube: Kube,
        *,
        clock: Callable[[], float] = time.time,
        burst: int = 20,
        refill: float = 30.0,
        dedupe: float = 600.0,
    ) -> None:
        self.kube = kube
        self.clock = clock
        self.burst = burst
        self.refill = refill
        self.dedupe = dedupe
        self._buckets: dict[str, _Bucket] = {}
        self._recent: dict[tuple[str, str, str, str], float] = {}

    async def normal(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        """Record a Normal event."""
        await self._post(obj, "Normal", reason, message)

    async def warning(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        """Record a Warning event."""
        await self._post(obj, "Warning", reason, message)

    def allow(self, uid: str, type_: str, reason: str, message: str) -> bool:
        """Tell whether an event may be posted now, and count it if so."""
        now = self.clock()
        key = (uid, type_, reason, message)
        last = self._recent.get(key)
        if last is not None and now - last < self.dedupe:
            return False
        bucket = self._buckets.setdefault(uid, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) / self.refill)
        bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        self._recent[key] = now
        if len(self._recent) > 10_000:  # forget the oldest half; deleted objects leave entries behind
            for old in sorted(self._recent, key=self._recent.__getitem__)[:5_000]:
                del self._recent[old]
        return True

    async def _post(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        meta = obj["metadata"]
        log.info("%s %s/%s: %s: %s", type_, obj["kind"], meta["name"], reason, message)
        if not self.allow(str(meta.get("uid") or meta["name"]), type_, reason, message):
            return
        event = build_event(obj, type_, reason, message)
        try:
            await self.kube.create_event(event)
        except (ApiException, OSError) as exc:
            log.warning("could not record event %s on %s: %s", reason, meta["name"], exc)
