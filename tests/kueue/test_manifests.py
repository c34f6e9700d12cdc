"""Kueue's install as rendered for the node agent: Kueue's own names, our binary, our kinds (no cluster)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants
from dask_kubernetes_dev import kueue
from dask_kubernetes_dev import kueue_manifests as km
from dask_kubernetes_dev.tools import find

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def docs(kueue_folder: Path) -> list[Doc]:
    return kueue.manifests(kueue_folder)


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def manager_config(docs: list[Doc]) -> Doc:
    config_map = by_kind(docs, "ConfigMap")[km.CONFIG_MAP]
    return yamlio.load(config_map["data"][km.CONFIG_FILE])


def test_names_are_what_kueues_internal_cert_management_patches(docs):
    # pkg/util/cert: "<base>-webhook-service" -> "<base>-{validating,mutating}-webhook-configuration",
    # the Secret and Service named by the Configuration, in its namespace.
    base = km.WEBHOOK_SERVICE.removesuffix("-webhook-service")
    assert set(by_kind(docs, "MutatingWebhookConfiguration")) == {f"{base}-mutating-webhook-configuration"}
    assert set(by_kind(docs, "ValidatingWebhookConfiguration")) == {
        f"{base}-validating-webhook-configuration"
    }
    assert km.MUTATING_WEBHOOK_CONFIGURATION in by_kind(docs, "MutatingWebhookConfiguration")
    assert km.VALIDATING_WEBHOOK_CONFIGURATION in by_kind(docs, "ValidatingWebhookConfiguration")
    assert km.WEBHOOK_SERVICE in by_kind(docs, "Service")
    assert km.WEBHOOK_SECRET in by_kind(docs, "Secret")
    config = manager_config(docs)
    assert config["apiVersion"] == km.CONFIG_API_VERSION
    assert config["namespace"] == km.NAMESPACE
    assert config["internalCertManagement"] == {
        "enable": True,
        "webhookServiceName": km.WEBHOOK_SERVICE,
        "webhookSecretName": km.WEBHOOK_SECRET,
    }


def test_every_webhook_and_conversion_calls_the_webhook_service(docs):
    expected = {"name": km.WEBHOOK_SERVICE, "namespace": km.NAMESPACE}
    services = [
        w["clientConfig"]["service"]
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
        for config in by_kind(docs, kind).values()
        for w in config["webhooks"]
    ]
    for crd in by_kind(docs, "CustomResourceDefinition").values():
        conversion = crd["spec"].get("conversion") or {}
        if conversion.get("strategy") == "Webhook":
            services.append(conversion["webhook"]["clientConfig"]["service"])
    assert services
    assert all({k: s[k] for k in ("name", "namespace")} == expected for s in services)
    # The Service selects the manager's Pods, which the webhook server listens in.
    service = by_kind(docs, "Service")[km.WEBHOOK_SERVICE]
    deployment = by_kind(docs, "Deployment")[km.DEPLOYMENT]
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= template_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= template_labels.items()


def test_namespaced_objects_live_in_kueue_system(docs):
    cluster_scoped = {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
    assert set(by_kind(docs, "Namespace")) == {km.NAMESPACE}
    assert docs[0]["kind"] == "Namespace"  # applied first
    for doc in docs:
        if doc["kind"] in cluster_scoped:
            assert "namespace" not in doc["metadata"], doc["metadata"]["name"]
        else:
            assert doc["metadata"]["namespace"] == km.NAMESPACE, doc["metadata"]["name"]
    for binding in [*by_kind(docs, "RoleBinding").values(), *by_kind(docs, "ClusterRoleBinding").values()]:
        for subject in binding["subjects"]:
            assert subject == {
                "kind": "ServiceAccount",
                "name": "kueue-controller-manager",
                "namespace": km.NAMESPACE,
            }
        assert binding["roleRef"]["name"] in by_kind(docs, binding["roleRef"]["kind"])


def test_the_manager_runs_the_cached_binary_with_the_shipped_config_mount(docs, kueue_folder):
    deployment = by_kind(docs, "Deployment")[km.DEPLOYMENT]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    binary = Path(container["command"][0])
    assert container["command"] == [str((kueue_folder / "kueue").resolve())]
    assert binary.is_absolute() and os.access(binary, os.X_OK)
    assert (
        container["image"]
        == f"registry.k8s.io/kueue/kueue:{(kueue_folder / 'config' / 'VERSION').read_text().strip()}"
    )
    (config_arg,) = [a for a in container["args"] if a.startswith("--config=")]
    (mount,) = [
        m for m in container["volumeMounts"] if m["mountPath"] == config_arg.removeprefix("--config=")
    ]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == km.CONFIG_MAP
    assert mount["subPath"] == km.CONFIG_FILE
    assert pod["serviceAccountName"] in by_kind(docs, "ServiceAccount")


def test_our_kinds_are_external_frameworks_and_only_queued_jobs_are_managed(docs):
    config = manager_config(docs)
    assert config["integrations"]["externalFrameworks"] == [
        "DaskJob.v1.kubernetes.dask.org",
        "DaskCluster.v1.kubernetes.dask.org",
    ]
    assert km.external_framework(constants.KIND_JOB) == "DaskJob.v1.kubernetes.dask.org"
    assert config["integrations"]["frameworks"] == ["batch/job"]
    assert config["manageJobsWithoutQueueName"] is False
    assert config["leaderElection"]["leaderElect"] is False
    assert config["featureGates"] == {"VisibilityOnDemand": False}
    assert "waitForPodsReady" not in config


def test_wait_for_pods_ready_is_an_option(kueue_folder):
    ready = km.WaitForPodsReady(timeout_seconds=20, backoff_base_seconds=1, backoff_limit_count=2)
    config = manager_config(kueue.manifests(kueue_folder, wait_for_pods_ready=ready))
    assert config["waitForPodsReady"] == {
        "timeout": "20s",
        "blockAdmission": False,
        "requeuingStrategy": {"timestamp": "Eviction", "backoffBaseSeconds": 1, "backoffLimitCount": 2},
    }


def test_workloads_are_served_and_stored_as_v1beta2(docs):
    crd = by_kind(docs, "CustomResourceDefinition")[f"workloads.{km.API_GROUP}"]
    versions = {v["name"]: (v["served"], v["storage"]) for v in crd["spec"]["versions"]}
    assert versions == {"v1beta1": (True, False), "v1beta2": (True, True)}
    assert km.API_VERSION == f"{km.API_GROUP}/v1beta2"


def _normalised(value: Any, field: str = "") -> Any:
    """Keyed lists in key order: a strategic merge appends where kustomize prepends."""
    if isinstance(value, dict):
        return {k: _normalised(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalised(v) for v in value]
        key = {"ports": "containerPort", **km._MERGE_KEYS}.get(field)
        if key and all(isinstance(i, dict) and key in i for i in items):
            return sorted(items, key=lambda i: str(i[key]))
        return items
    return value


def test_the_rendering_is_kustomize_build_of_kueues_config_default(docs, kueue_folder):
    """Object for object what `kubectl kustomize config/default` makes, but for the local changes."""
    proc = subprocess.run(
        [find("kubectl"), "kustomize", str(kueue_folder / "config" / "default")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    reference = {(d["kind"], d["metadata"]["name"]): d for d in yamlio.load_all(proc.stdout) if d}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    visibility = {key for key in reference if "visibility" in key[1]}
    assert visibility  # the excluded component: its APIServices, Service and RoleBinding
    assert set(reference) - visibility == set(ours)
    for key, doc in ours.items():
        expected = _normalised(reference[key])
        got = _normalised(doc)
        if key == ("Deployment", km.DEPLOYMENT):
            for theirs, mine in zip(
                expected["spec"]["template"]["spec"]["containers"],
                got["spec"]["template"]["spec"]["containers"],
                strict=True,
            ):
                theirs.update(command=mine["command"], image=mine["image"])
        if key == ("ConfigMap", km.CONFIG_MAP):
            expected["data"] = got["data"]
        assert got == expected, key


def test_strategic_merge():
    base = {"containers": [{"name": "a", "ports": [{"containerPort": 1}], "args": ["x"]}], "drop": 1}
    patch = {"containers": [{"name": "a", "ports": [{"containerPort": 2}], "args": ["y"]}], "drop": None}
    assert km.strategic_merge(base, patch) == {
        "containers": [{"name": "a", "ports": [{"containerPort": 1}, {"containerPort": 2}], "args": ["y"]}]
    }
