"""Lease-based leader election (``coordination.k8s.io``), as client-go's leaderelection does it.

Several operator replicas run; all of them watch (their caches stay warm), only
the holder of the Lease reconciles.  The holder renews the Lease every
``retry_period``; a replica takes the Lease over only after it has seen the same
record unchanged for ``lease_duration`` (measured on its own clock, so clock skew
between nodes does not matter).  A leader that cannot renew within
``renew_deadline`` stops reconciling before anyone else can take over.  On a clean
shutdown the Lease is released, so the next replica takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api.times import format_micro_time
from dask_kubernetes.kubeapi import Kube

log = logging.getLogger(__name__)
Callback = Callable[[], Awaitable[None]]


def lease_body(name: str, namespace: str, identity: str, duration: float, *, now: float) -> dict[str, Any]:
    """Build a Lease held by ``identity``; pure, tested without a cluster."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "holderIdentity": identity,
            "leaseDurationSeconds": max(1, int(round(duration))),
            "acquireTime": format_micro_time(now),
            "renewTime": format_micro_time(now),
            "leaseTransitions": 0,
        },
    }


@dataclass
class LeaderElector:
    """Acquire and keep a Lease; call ``on_started`` when leading and ``on_stopped`` when not."""

    kube: Kube
    namespace: str
    name: str
    identity: str
    on_started: Callback
    on_stopped: Callback
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    clock: Callable[[], float] = time.monotonic
    leading: bool = False
    _observed: tuple[Any, ...] | None = None
    _observed_at: float = 0.0
    _last_renew: float = 0.0
    _lease: dict[str, Any] | None = None  # the Lease as we last wrote it: a leader renews without reading
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _read(self) -> dict[str, Any] | None:
        return await self.kube.get_lease(self.namespace, self.name)

    async def _write(self, lease: dict[str, Any] | None) -> bool:
        """Create or update the Lease as ours; False when another replica won the race."""
        now = time.time()
        try:
            if lease is None:
                body = lease_body(self.name, self.namespace, self.identity, self.lease_duration, now=now)
                self._lease = await self.kube.create_lease(self.namespace, body)
                return True
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
                spec["acquireTime"] = format_micro_time(now)
            spec.update(
                holderIdentity=self.identity,
                leaseDurationSeconds=max(1, int(round(self.lease_duration))),
                renewTime=format_micro_time(now),
            )
            lease = {**lease, "spec": spec}
            self._lease = await self.kube.replace_lease(self.namespace, self.name, lease)
            return True
        except ApiException as exc:
            self._lease = None
            if exc.status in (409, 422):
                return False
            raise

    async def try_acquire_or_renew(self) -> bool:
        """One round of the election; return whether this replica holds the Lease.

        The leader renews the Lease as it last wrote it (a conflict means someone
        else wrote it, and the next round reads it); the others read it.
        """
        if self.leading and self._lease is not None:
            return await self._write(self._lease)
        lease = await self._read()
        now = self.clock()
        if lease is None:
            return await self._write(None)
        spec = lease.get("spec") or {}
        record = (spec.get("holderIdentity"), spec.get("renewTime"), spec.get("leaseTransitions"))
        if record != self._observed:
            self._observed, self._observed_at = record, now
        holder = spec.get("holderIdentity")
        expired = now - self._observed_at >= float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and not expired:
            return False
        return await self._write(lease)

    async def _round(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except (TimeoutError, ApiException, OSError) as exc:
            log.warning("leader election: %s", exc)
            return False

    async def run(self) -> None:
        """Campaign until stopped; lead while renewals succeed."""
        while not self._stopping.is_set():
            ours = await self._round()
            now = self.clock()
            if ours:
                self._last_renew = now
                if not self.leading:
                    self.leading = True
                    log.info(
                        "leader election: %s now leads (Lease %s/%s)",
                        self.identity,
                        self.namespace,
                        self.name,
                    )
                    await self.on_started()
            elif self.leading and now - self._last_renew >= self.renew_deadline:
                self.leading = False
                log.warning("leader election: %s could not renew the Lease; stepping down", self.identity)
                await self.on_stopped()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.retry_period)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Stop campaigning; if leading, stop work and release the Lease for a quick hand-over."""
        self._stopping.set()
        if not self.leading:
            return
        self.leading = False
        await self.on_stopped()
        try:
            lease = await self._read()
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"].update(holderIdentity="", leaseDurationSeconds=1)
                await self.kube.replace_lease(self.namespace, self.name, lease)
        except (ApiException, OSError) as exc:
            log.warning("leader election: could not release the Lease: %s", exc)
