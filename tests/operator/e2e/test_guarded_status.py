"""A guarded status write (a DaskJob's transitions) is refused by the real API server when stale.

The DaskJob controller writes each transition (an attempt starts or fails) over the
version of the job it decided on; this shows the API server enforces that on the
status subresource, so a transition decided on a stale read is never applied twice.
"""

from __future__ import annotations

import asyncio

import pytest
from kubernetes_asyncio import config
from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi.facade import Kube
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import example


async def _guarded_writes(kubeconfig: str, namespace: str, name: str, version: str) -> tuple[bool, int]:
    api_client = await config.new_client_from_config(config_file=str(kubeconfig))
    try:
        kube = Kube(api_client)
        first = await kube.patch_status(
            constants.PLURAL_JOB, namespace, name, {"activeSeconds": 7}, resource_version=version
        )
        try:
            await kube.patch_status(
                constants.PLURAL_JOB, namespace, name, {"activeSeconds": 8}, resource_version=version
            )
        except ApiException as exc:
            return first is not None, exc.status
        return first is not None, 200
    finally:
        await api_client.close()


def test_a_status_write_over_a_stale_resource_version_is_refused(k, namespace):
    (job,) = example("job.yaml")
    job["spec"]["suspend"] = True  # the operator writes Suspended once, then leaves it alone
    k.apply(job)
    settled = wait_for(
        lambda: (
            (j := k.get("daskjob", "simple-job"))
            and j.get("status", {}).get("jobStatus") == "Suspended"
            and j
        ),
        timeout=120,
        what="the suspended job's status",
    )
    version = settled["metadata"]["resourceVersion"]
    try:
        applied, second = asyncio.run(_guarded_writes(k.target.kubeconfig, namespace, "simple-job", version))
    except ApiException as exc:  # the operator wrote in between: the guard refused the first write
        pytest.fail(f"the first guarded write was refused ({exc.status}); the operator wrote meanwhile")
    assert applied
    assert second == 409
    assert k.get("daskjob", "simple-job")["status"]["activeSeconds"] == 7
