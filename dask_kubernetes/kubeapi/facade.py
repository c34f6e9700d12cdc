"""The :class:`Kube` facade: every API call of the operator, the webhook and the cluster managers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.kubeapi import responses
from dask_kubernetes.kubeapi.ratelimit import RateLimiter

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class Kube:
    """The API calls the controllers make, nothing more.

    Writes wait for the rate limiter, reads do not; Lease calls bypass it too, so a
    busy operator's own writes never starve the leader's renewals.
    """

    def __init__(self, api_client: client.ApiClient, *, qps: float = 0, burst: int = 1) -> None:
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.coordination = client.CoordinationV1Api(api_client)
        self.limiter = RateLimiter(qps, burst)

    # Custom resources ------------------------------------------------------
    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Read one custom resource, or None if it does not exist."""
        try:
            return await responses.decoded(
                self.custom.get_namespaced_custom_object(
                    constants.GROUP, constants.VERSION, namespace, plural, name
                )
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        """List the custom resources of one kind in a namespace (the webhook counts worker groups)."""
        data = await responses.decoded(
            self.custom.list_namespaced_custom_object(constants.GROUP, constants.VERSION, namespace, plural)
        )
        return list(data.get("items", []))

    async def create(self, plural: str, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create a custom resource and return it; None if it already existed."""
        await self.limiter.acquire()
        try:
            return await responses.decoded(
                self.custom.create_namespaced_custom_object(
                    constants.GROUP, constants.VERSION, namespace, plural, dict(body)
                )
            )
        except ApiException as exc:
            if exc.status == 409:
                return None
            raise

    async def _patch_object(
        self, plural: str, namespace: str, name: str, body: Any, content_type: str, *, status: bool = False
    ) -> dict[str, Any]:
        """Patch a custom resource, or its status subresource, with a body of ``content_type``."""
        await self.limiter.acquire()
        patch = (
            self.custom.patch_namespaced_custom_object_status
            if status
            else self.custom.patch_namespaced_custom_object
        )
        return await responses.decoded(
            patch(  # type: ignore[call-arg]  # stubs omit _content_type
                constants.GROUP, constants.VERSION, namespace, plural, name, body, _content_type=content_type
            )
        )

    async def patch(self, plural: str, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Merge-patch a custom resource's spec or metadata; return the patched object."""
        return await self._patch_object(plural, namespace, name, dict(patch), MERGE_PATCH)

    async def replace_field(
        self, plural: str, namespace: str, name: str, path: str, value: Any
    ) -> dict[str, Any]:
        """Replace one field wholesale (JSON patch), so keys absent from ``value`` are removed."""
        body = [{"op": "replace", "path": path, "value": value}]
        return await self._patch_object(plural, namespace, name, body, JSON_PATCH)

    async def patch_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any] | None:
        """Merge-patch the status subresource and return the object; None if it vanished.

        With ``resource_version`` the write applies only to that version of the
        object (409 Conflict otherwise): a transition decided on a stale read, or
        written twice after a timeout that hid its success, is not applied again.
        """
        body: dict[str, Any] = {"status": dict(status)}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        try:
            return await self._patch_object(plural, namespace, name, body, MERGE_PATCH, status=True)
        except ApiException as exc:
            if exc.status != 404:
                raise
            return None

    async def delete(self, plural: str, namespace: str, name: str) -> bool:
        """Delete a custom resource (children go with it); return False if it was gone."""
        await self.limiter.acquire()
        try:
            await self.custom.delete_namespaced_custom_object(
                constants.GROUP, constants.VERSION, namespace, plural, name, propagation_policy="Background"
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # Kueue's objects (kueue.x-k8s.io) -----------------------------------------
    async def get_kueue(self, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Read a Kueue object (a namespaced Workload, a flavor or priority); None if absent."""
        try:
            if namespace is None:
                call = self.custom.get_cluster_custom_object(kueue.GROUP, kueue.VERSION, plural, name)
            else:
                call = self.custom.get_namespaced_custom_object(
                    kueue.GROUP, kueue.VERSION, namespace, plural, name
                )
            return await responses.decoded(call)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    async def create_kueue(
        self, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Create a namespaced Kueue object (a Workload); None if one of that name exists."""
        await self.limiter.acquire()
        try:
            return await responses.decoded(
                self.custom.create_namespaced_custom_object(
                    kueue.GROUP, kueue.VERSION, namespace, plural, dict(body)
                )
            )
        except ApiException as exc:
            if exc.status == 409:
                return None
            raise

    async def delete_kueue(self, plural: str, namespace: str, name: str) -> bool:
        """Delete a namespaced Kueue object (a Workload to be made anew); False if it was gone."""
        await self.limiter.acquire()
        try:
            await self.custom.delete_namespaced_custom_object(
                kueue.GROUP, kueue.VERSION, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def patch_kueue_status(
        self, plural: str, namespace: str, name: str, status: Mapping[str, Any], *, resource_version: str
    ) -> dict[str, Any] | None:
        """Merge-patch a Kueue object's status at one resourceVersion (409 if it moved on); None if gone."""
        await self.limiter.acquire()
        body = {"metadata": {"resourceVersion": resource_version}, "status": dict(status)}
        try:
            return await responses.decoded(
                self.custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
                    kueue.GROUP, kueue.VERSION, namespace, plural, name, body, _content_type=MERGE_PATCH
                )
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            return None

    # Pods and Services -------------------------------------------------------
    async def list_pods(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        """List Pods by label selector."""
        label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
        data = await responses.decode_json(
            await self.core.list_namespaced_pod(
                namespace, label_selector=label_selector, _preload_content=False
            )
        )
        return list(data.get("items", []))

    async def create_pod(
        self, namespace: str, body: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any] | None:
        """Create a Pod and return it; None if one of that name exists.

        ``dry_run`` asks the API server to validate and admit the Pod (Pod Security,
        quota, webhooks) without storing it; refusals raise as usual.
        """
        await self.limiter.acquire()
        if dry_run:
            return await responses.decode_json(
                await self.core.create_namespaced_pod(
                    namespace,
                    dict(body),  # type: ignore[arg-type]  # the client serialises dicts
                    dry_run="All",
                    _preload_content=False,
                )
            )
        return await responses.raw(
            self.core.create_namespaced_pod(
                namespace,
                dict(body),  # type: ignore[arg-type]  # the client serialises dicts
                _preload_content=False,
            ),
            unless=409,
        )

    async def delete_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete a Pod gracefully; return what the API answered (the Pod, or a Status), None if gone."""
        await self.limiter.acquire()
        return await responses.raw(
            self.core.delete_namespaced_pod(name, namespace, _preload_content=False), unless=404
        )

    async def annotate_pod(self, namespace: str, name: str, annotations: Mapping[str, str]) -> dict[str, Any]:
        """Add annotations to a Pod; return the patched Pod."""
        await self.limiter.acquire()
        return await responses.decode_json(
            await self.core.patch_namespaced_pod(  # type: ignore[call-arg]  # stubs omit _content_type
                name,
                namespace,
                {"metadata": {"annotations": dict(annotations)}},
                _preload_content=False,
                _content_type=MERGE_PATCH,
            )
        )

    async def get_service(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Read a Service, or None."""
        return await responses.raw(
            self.core.read_namespaced_service(name, namespace, _preload_content=False), unless=404
        )

    async def create_service(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create a Service and return it; None if it existed."""
        await self.limiter.acquire()
        return await responses.raw(
            self.core.create_namespaced_service(
                namespace,
                dict(body),  # type: ignore[arg-type]  # the client serialises dicts
                _preload_content=False,
            ),
            unless=409,
        )

    async def patch_service(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Merge-patch a Service (its type, ports, labels); return it."""
        await self.limiter.acquire()
        return await responses.decode_json(
            await self.core.patch_namespaced_service(  # type: ignore[call-arg]  # stubs omit _content_type
                name, namespace, dict(patch), _preload_content=False, _content_type=MERGE_PATCH
            )
        )

    async def list_deployments(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        """List Deployments by label selector (to recognise clusters upstream's operator made)."""
        await self.limiter.acquire()
        data = await responses.decode_json(
            await client.AppsV1Api(self.api_client).list_namespaced_deployment(
                namespace, label_selector=label_selector, _preload_content=False
            )
        )
        return list(data.get("items", []))

    async def pod_logs(self, namespace: str, name: str, *, tail: int = 50) -> str:
        """Read the tail of a Pod's log, for error messages; empty if unavailable."""
        try:
            response = await self.core.read_namespaced_pod_log(
                name, namespace, tail_lines=tail, _preload_content=False
            )
            return (await responses.read(response)).decode(errors="replace")
        except ApiException:
            return ""

    # Leases and Events ---------------------------------------------------------
    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Read a Lease, or None.  Lease calls do not wait for the rate limiter."""
        return await responses.raw(
            self.coordination.read_namespaced_lease(name, namespace, _preload_content=False), unless=404
        )

    async def create_lease(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a Lease and return it; a conflict raises (someone else created it first)."""
        return await responses.decode_json(
            await self.coordination.create_namespaced_lease(
                namespace,
                dict(body),  # type: ignore[arg-type]  # the client serialises dicts
                _preload_content=False,
            )
        )

    async def replace_lease(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a Lease (optimistically: a stale resourceVersion raises 409) and return it."""
        return await responses.decode_json(
            await self.coordination.replace_namespaced_lease(
                name,
                namespace,
                dict(body),  # type: ignore[arg-type]  # the client serialises dicts
                _preload_content=False,
            )
        )

    async def create_event(self, body: Mapping[str, Any]) -> None:
        """Post a core/v1 Event in its own namespace; waits for the rate limiter like other writes."""
        await self.limiter.acquire()
        await self.core.create_namespaced_event(
            body["metadata"]["namespace"],
            dict(body),  # type: ignore[arg-type]  # the client serialises dicts
        )

    # The webhook's Secrets and webhook configurations --------------------------
    # The webhook's CA Secret, the Deployment that owns it, and the caBundle of its two
    # admission webhook configurations.  Writes name the webhook's field manager.
    async def _read_raw(self, call: Callable[..., Awaitable[Any]], *args: Any) -> dict[str, Any] | None:
        """Make a raw read and decode it; None if the object does not exist."""
        return await responses.raw(call(*args, _preload_content=False), unless=404)

    async def _write_raw(
        self, call: Callable[..., Awaitable[Any]], *args: Any, field_manager: str
    ) -> dict[str, Any]:
        """Make a raw write (a plain dict body is sent as it is) and decode the answer."""
        await self.limiter.acquire()
        written: dict[str, Any] = await responses.decode_json(
            await call(*args, field_manager=field_manager, _preload_content=False)
        )
        return written

    def _webhook_configuration_call(self, verb: str, kind: str) -> Callable[..., Awaitable[Any]]:
        """``read`` or ``replace`` of the ``validating`` or ``mutating`` webhook configurations."""
        api = client.AdmissionregistrationV1Api(self.api_client)
        call: Callable[..., Awaitable[Any]] = getattr(api, f"{verb}_{kind}_webhook_configuration")
        return call

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Read a Secret, or None."""
        return await self._read_raw(self.core.read_namespaced_secret, name, namespace)

    async def create_secret(
        self, namespace: str, body: Mapping[str, Any], *, field_manager: str
    ) -> dict[str, Any] | None:
        """Create a Secret and return it; None if one of that name exists."""
        try:
            return await self._write_raw(
                self.core.create_namespaced_secret, namespace, dict(body), field_manager=field_manager
            )
        except ApiException as exc:
            if exc.status == 409:
                return None
            raise

    async def replace_secret(
        self, namespace: str, name: str, body: Mapping[str, Any], *, field_manager: str
    ) -> dict[str, Any]:
        """Replace a Secret; the body's ``resourceVersion`` makes it conditional (409 if stale)."""
        call = self.core.replace_namespaced_secret
        return await self._write_raw(call, name, namespace, dict(body), field_manager=field_manager)

    async def patch_secret(
        self, namespace: str, name: str, patch: Mapping[str, Any], *, field_manager: str
    ) -> dict[str, Any]:
        """Strategic-merge-patch a Secret (``ownerReferences`` merge by uid); return it."""
        call = self.core.patch_namespaced_secret
        return await self._write_raw(call, name, namespace, dict(patch), field_manager=field_manager)

    async def get_deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Read a Deployment, or None."""
        apps = client.AppsV1Api(self.api_client)
        return await self._read_raw(apps.read_namespaced_deployment, name, namespace)

    async def get_webhook_configuration(self, kind: str, name: str) -> dict[str, Any] | None:
        """Read a ``validating`` or ``mutating`` webhook configuration, or None."""
        return await self._read_raw(self._webhook_configuration_call("read", kind), name)

    async def replace_webhook_configuration(
        self, kind: str, name: str, body: Mapping[str, Any], *, field_manager: str
    ) -> dict[str, Any]:
        """Replace a ``validating`` or ``mutating`` webhook configuration; conditional like replace_secret."""
        call = self._webhook_configuration_call("replace", kind)
        return await self._write_raw(call, name, dict(body), field_manager=field_manager)
