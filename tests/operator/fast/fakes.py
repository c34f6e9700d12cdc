"""The fast tier's fakes: a dict-backed API and scheduler, for the operator's decisions only.

Every behaviour tested with these also has a test against the real API server
(tests/operator/e2e); these exist so that decisions (queue order, whom to retire,
what status says) are checked in milliseconds, with fake time.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants, kueue, times
from dask_kubernetes.operator.controller.startup import build_context
from dask_kubernetes.operator.runtime import store as store_mod
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerUnreachable, WorkerInfo
from dask_kubernetes.settings import Settings

KINDS = {
    constants.PLURAL_CLUSTER: constants.KIND_CLUSTER,
    constants.PLURAL_WORKER_GROUP: constants.KIND_WORKER_GROUP,
    constants.PLURAL_JOB: constants.KIND_JOB,
    constants.PLURAL_AUTOSCALER: constants.KIND_AUTOSCALER,
}


# Kueue's kinds, kept apart from ours (cluster-scoped ones under namespace "").
KUEUE_KINDS = tuple(
    f"kueue:{p}"
    for p in (kueue.PLURAL_WORKLOAD, kueue.PLURAL_RESOURCE_FLAVOR, kueue.PLURAL_WORKLOAD_PRIORITY_CLASS)
)


class Clock:
    """Fake wall-clock time for the reconcilers (the queue uses the loop's fake time)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeIndex(Mapping[Any, list[dict[str, Any]]]):
    """A kopf index over the fake's objects of one kind."""

    def __init__(self, api: FakeApi, kind: str) -> None:
        self.api, self.kind = api, kind

    def __getitem__(self, key: Any) -> list[dict[str, Any]]:
        found = [o for o in self.api.objects[self.kind].values() if key in store_mod.index_keys(self.kind, o)]
        if not found:
            raise KeyError(key)
        return [copy.deepcopy(o) for o in found]

    def __iter__(self) -> Iterator[Any]:
        keys = {k for o in self.api.objects[self.kind].values() for k in store_mod.index_keys(self.kind, o)}
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))


def _drop_nulls(value: Any) -> Any:
    """What a JSON merge patch leaves: keys patched to null are removed."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def api_error(status: int, message: str) -> ApiException:
    """An ApiException as the client raises it, with a Status body."""
    exc = ApiException(status=status, reason="Refused")
    exc.body = json.dumps({"kind": "Status", "message": message})
    return exc


@dataclass
class Fault:
    """An API error injected into the next ``times`` calls of one operation on one kind.

    ``after``: the call takes effect and then fails (a timeout that hid its success).
    """

    op: str
    plural: str
    status: int = 500
    after: bool = False
    times: int = 1
    skip: int = 0  # matching calls let through first
    fired: int = 0


def faulty(op: str, plural: str | None = None) -> Callable[..., Any]:
    """Let a FakeApi method fail as the tests' faults say (``plural`` None: its first argument)."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def call(self: FakeApi, *args: Any, **kwargs: Any) -> Any:
            fault = None if kwargs.get("dry_run") else self.take_fault(op, plural or args[0])
            if fault is not None and not fault.after:
                raise api_error(fault.status, f"injected {op} fault")
            result = await fn(self, *args, **kwargs)
            if fault is not None:
                raise api_error(fault.status, f"injected {op} fault after the call took effect")
            return result

        return call

    return wrap


@dataclass
class FakeApi:
    """The API calls the operator makes, over dicts, with resourceVersions and generations."""

    clock: Clock
    objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(
        default_factory=lambda: {k: {} for k in (*store_mod.KINDS, *KUEUE_KINDS)}
    )
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    refuse_pods: str | None = None  # a message: every Pod create (and dry run) is refused with it
    faults: list[Fault] = field(default_factory=list)
    _rv: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def take_fault(self, op: str, plural: str) -> Fault | None:
        for fault in self.faults:
            if fault.op == op and fault.plural == plural and fault.times > 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                fault.fired += 1
                return fault
        return None

    async def create_event(self, body: Mapping[str, Any]) -> None:
        self.events.append(dict(body))

    # Helpers for tests --------------------------------------------------------
    def stamp(self) -> str:
        return times.format_time(self.clock())

    def put(self, kind: str, obj: Mapping[str, Any], *, spec_changed: bool = True) -> dict[str, Any]:
        obj = copy.deepcopy(dict(obj))
        meta = obj.setdefault("metadata", {})
        key = (meta["namespace"], meta["name"])
        old = self.objects[kind].get(key)
        meta.setdefault("uid", (old or {}).get("metadata", {}).get("uid") or str(uuid.uuid4()))
        meta.setdefault(
            "creationTimestamp", (old or {}).get("metadata", {}).get("creationTimestamp") or self.stamp()
        )
        if kind in KINDS:
            obj.setdefault("apiVersion", constants.API_VERSION)
            obj.setdefault("kind", KINDS[kind])
            generation = int((old or {}).get("metadata", {}).get("generation") or 0)
            meta["generation"] = generation + 1 if (old is None or spec_changed) else generation
        meta["resourceVersion"] = str(next(self._rv))
        self.objects[kind][key] = obj
        return copy.deepcopy(obj)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self.objects[kind].get((namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def pods(self, namespace: str, group: str | None = None) -> list[dict[str, Any]]:
        out = [o for (ns, _), o in self.objects["pods"].items() if ns == namespace]
        if group is not None:
            out = [p for p in out if p["metadata"]["labels"].get(constants.LABEL_WORKER_GROUP) == group]
        return sorted(out, key=lambda p: p["metadata"]["name"])

    def set_pod_running(self, namespace: str, name: str, ip: str, *, ready: bool = True) -> None:
        pod = self.objects["pods"][(namespace, name)]
        pod["status"] = {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        pod["metadata"]["resourceVersion"] = str(next(self._rv))

    def reasons(self) -> list[str]:
        return [e["reason"] for e in self.events]

    # The Kube facade -----------------------------------------------------------------
    @faulty("create")
    async def create(self, plural: str, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        self.calls.append(("create", plural, body["metadata"]["name"]))
        if (namespace, body["metadata"]["name"]) in self.objects[plural]:
            return None
        return self.put(plural, {**body, "metadata": {**body["metadata"], "namespace": namespace}})

    @faulty("patch")
    async def patch(self, plural: str, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(("patch", plural, name))
        obj = self.get(plural, namespace, name)
        assert obj is not None

        def merge(into: dict[str, Any], patch: Mapping[str, Any]) -> None:
            for k, v in patch.items():
                if isinstance(v, Mapping) and isinstance(into.get(k), dict):
                    merge(into[k], v)
                else:
                    into[k] = copy.deepcopy(v)

        merge(obj, patch)
        return self.put(plural, obj, spec_changed="spec" in patch)

    @faulty("replace")
    async def replace_field(
        self, plural: str, namespace: str, name: str, path: str, value: Any
    ) -> dict[str, Any]:
        self.calls.append(("replace", plural, name, path))
        obj = self.get(plural, namespace, name)
        assert obj is not None
        *parents, last = path.strip("/").split("/")
        node = obj
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
        return self.put(plural, obj)

    @faulty("status")
    async def patch_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any] | None:
        self.calls.append(("status", plural, name))
        obj = self.get(plural, namespace, name)
        if obj is None:
            return None
        if resource_version is not None and resource_version != obj["metadata"]["resourceVersion"]:
            raise api_error(
                409, "the object has been modified; please apply your changes to the latest version"
            )
        obj["status"] = _drop_nulls({**(obj.get("status") or {}), **copy.deepcopy(dict(status))})
        return self.put(plural, obj, spec_changed=False)

    @faulty("delete")
    async def delete(self, plural: str, namespace: str, name: str) -> bool:
        self.calls.append(("delete", plural, name))
        return self.objects[plural].pop((namespace, name), None) is not None

    @faulty("create", "pods")
    async def create_pod(
        self, namespace: str, body: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any] | None:
        name = body["metadata"].get("name") or body["metadata"]["generateName"] + "x1y2z"
        self.calls.append(("dry-run" if dry_run else "create", "pods", name))
        if self.refuse_pods:
            raise api_error(403, self.refuse_pods)
        if (namespace, name) in self.objects["pods"]:
            if dry_run:  # the API server answers a dry run as it would the create
                raise api_error(409, f'pods "{name}" already exists')
            return None
        if dry_run:
            return copy.deepcopy(dict(body))
        return self.put("pods", {**body, "status": {"phase": "Pending"}})

    @faulty("delete", "pods")
    async def delete_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("delete", "pods", name))
        pod = self.objects["pods"].pop((namespace, name), None)
        if pod is None:
            return None
        return {"kind": "Status", "status": "Success"}

    async def get_kueue(self, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        self.calls.append(("get", f"kueue:{plural}", name))
        return self.get(f"kueue:{plural}", namespace or "", name)

    @faulty("create", "kueue:workloads")
    async def create_kueue(
        self, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        self.calls.append(("create", f"kueue:{plural}", body["metadata"]["name"]))
        if (namespace, body["metadata"]["name"]) in self.objects[f"kueue:{plural}"]:
            return None
        return self.put(f"kueue:{plural}", body)

    async def delete_kueue(self, plural: str, namespace: str, name: str) -> bool:
        self.calls.append(("delete", f"kueue:{plural}", name))
        return self.objects[f"kueue:{plural}"].pop((namespace, name), None) is not None

    async def patch_kueue_status(
        self, plural: str, namespace: str, name: str, status: Mapping[str, Any], *, resource_version: str
    ) -> dict[str, Any] | None:
        self.calls.append(("status", f"kueue:{plural}", name))
        obj = self.get(f"kueue:{plural}", namespace, name)
        if obj is None:
            return None
        if resource_version != obj["metadata"]["resourceVersion"]:
            raise api_error(409, "the object has been modified")
        merged = {**(obj.get("status") or {}), **copy.deepcopy(dict(status))}
        obj["status"] = {k: v for k, v in merged.items() if v is not None}
        return self.put(f"kueue:{plural}", obj, spec_changed=False)

    async def annotate_pod(self, namespace: str, name: str, annotations: Mapping[str, str]) -> dict[str, Any]:
        self.calls.append(("annotate", "pods", name, *sorted(annotations.values())))
        pod = self.get("pods", namespace, name)
        assert pod is not None
        pod["metadata"].setdefault("annotations", {}).update(annotations)
        return self.put("pods", pod, spec_changed=False)

    async def create_service(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        self.calls.append(("create", "services", body["metadata"]["name"]))
        if (namespace, body["metadata"]["name"]) in self.objects["services"]:
            return None
        return self.put("services", body)

    async def list_deployments(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        self.calls.append(("list", "deployments", label_selector))
        return []

    async def patch_service(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(("patch", "services", name))
        svc = self.get("services", namespace, name)
        assert svc is not None
        svc["spec"].update(copy.deepcopy(dict(patch["spec"])))
        return self.put("services", svc)


@dataclass
class FakeScheduler:
    """A Dask scheduler as the operator sees it: workers by address, retire, adaptive target."""

    workers: dict[str, WorkerInfo] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)
    unreachable: bool = False
    keep: set[str] = field(default_factory=set)  # addresses whose data cannot be moved
    target: int = 0
    last_path: str = "http"

    def connect(self, name: str, ip: str, held: int = 0) -> str:
        address = f"tcp://{ip}:40000"
        self.workers[address] = WorkerInfo(address=address, name=name, managed_bytes=held)
        return address

    async def workers_(self) -> dict[str, WorkerInfo]:
        if self.unreachable:
            raise SchedulerUnreachable("fake: unreachable")
        return dict(self.workers)

    async def retire_workers(self, addresses: list[str]) -> dict[str, Any]:
        if self.unreachable:
            raise SchedulerUnreachable("fake: unreachable")
        done = {}
        for address in addresses:
            if address in self.workers and address not in self.keep:
                done[address] = {"name": self.workers.pop(address).name}
                self.retired.append(done[address]["name"])
        return done

    async def adaptive_target(self) -> int:
        if self.unreachable:
            raise SchedulerUnreachable("fake: unreachable")
        return self.target

    async def idle_since(self) -> float | None:
        return None


class _Client:
    def __init__(self, scheduler: FakeScheduler) -> None:
        self.s = scheduler
        self.last_path = scheduler.last_path
        self.workers = scheduler.workers_
        self.retire_workers = scheduler.retire_workers
        self.adaptive_target = scheduler.adaptive_target
        self.idle_since = scheduler.idle_since


@dataclass
class World:
    """A fake API, a fake scheduler per cluster, a clock, and an operator context wired to them."""

    clock: Clock = field(default_factory=Clock)
    settings: Settings = field(
        default_factory=lambda: Settings(worker_batch_size=None, worker_batch_delay=None)
    )
    schedulers: dict[str, FakeScheduler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.api = FakeApi(self.clock)
        self.ctx = build_context(self.api, self.settings)  # type: ignore[arg-type]
        self.ctx.clock = self.clock
        self.ctx.events.clock = self.clock
        self.ctx.store.clock = self.clock
        self.ctx.store.indexes = {kind: FakeIndex(self.api, kind) for kind in store_mod.KINDS}
        self.ctx.scheduler_factory = lambda address: _Client(
            self.schedulers.setdefault(address.host, FakeScheduler())
        )

    def scheduler(self, ip: str = "10.0.0.2") -> FakeScheduler:
        return self.schedulers.setdefault(ip, FakeScheduler())

    async def reconcile(self, plural: str, name: str, namespace: str = "ns") -> float | None:
        return await self.ctx.reconcilers[plural](self.ctx, namespace, name)

    async def run(self, plural: str, name: str, namespace: str = "ns") -> float | None:
        """Reconcile through the context's dispatcher, so refusals become status."""
        return await self.ctx.dispatch(self.ctx, (plural, namespace, name))
