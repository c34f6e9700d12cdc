"""Render Kueue's install from the manifests Kueue ships, the way its kustomization does (pure).

``kueue/build.sh`` copies ``config/default`` and the components it uses out of the pinned
Kueue module.  :func:`render` builds from them what ``kustomize build config/default``
builds (a test compares the two with ``kubectl kustomize``), minus the aggregated
visibility API, plus
what a node without images needs: the manager container runs the cached binary by its
absolute path (the node agent runs host processes and pulls nothing).  Building from
Kueue's own files, rather than a copy of them, keeps names, RBAC and webhooks exactly
Kueue's; the tests check the names Kueue's code expects (its internal cert management
derives the webhook configurations' names from the webhook Service's).

Only the kustomize features those files use are implemented: resources, patches (by
file or inline, strategic merge on the lists they touch), a ConfigMap generator without
a hash suffix, ``namePrefix`` with the name references that follow it, ``namespace``, and
``labels`` with ``includeSelectors``/``includeTemplates``.  :mod:`.kueue` does the I/O.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "EXCLUDED",
    "CONFIG_API_VERSION",
    "CONFIG_FILE",
    "CONFIG_MAP",
    "DEPLOYMENT",
    "EXTERNAL_FRAMEWORKS",
    "FRAMEWORKS",
    "MUTATING_WEBHOOK_CONFIGURATION",
    "NAMESPACE",
    "NAME_PREFIX",
    "QUEUE_NAME_LABEL",
    "VALIDATING_WEBHOOK_CONFIGURATION",
    "WEBHOOK_SECRET",
    "WEBHOOK_SERVICE",
    "WaitForPodsReady",
    "configuration",
    "external_framework",
    "render",
    "strategic_merge",
]

# Kueue's API.  v0.17 serves v1beta1 and v1beta2 of every kind and stores v1beta2.
API_GROUP: Final = "kueue.x-k8s.io"
API_VERSION: Final = f"{API_GROUP}/v1beta2"
CONFIG_API_VERSION: Final = "config.kueue.x-k8s.io/v1beta2"
QUEUE_NAME_LABEL: Final = f"{API_GROUP}/queue-name"

# What config/default's kustomization makes of the component names (checked by the tests).
NAMESPACE: Final = "kueue-system"
NAME_PREFIX: Final = "kueue-"
DEPLOYMENT: Final = "kueue-controller-manager"
CONFIG_MAP: Final = "kueue-manager-config"
CONFIG_FILE: Final = "controller_manager_config.yaml"
# The names Kueue's internal cert management (pkg/util/cert) derives from its
# Configuration: "<base>-webhook-service" -> "<base>-{mutating,validating}-webhook-configuration".
WEBHOOK_SERVICE: Final = "kueue-webhook-service"
WEBHOOK_SECRET: Final = "kueue-webhook-server-cert"
MUTATING_WEBHOOK_CONFIGURATION: Final = "kueue-mutating-webhook-configuration"
VALIDATING_WEBHOOK_CONFIGURATION: Final = "kueue-validating-webhook-configuration"

# config/default's resources but this one: the visibility component's APIService makes
# API discovery (and so namespace deletion) depend on the Kueue Pod, and nothing here
# asks for pending-workload visibility.  Its transformer only moves its RoleBinding.
EXCLUDED: Final = ("components/visibility",)
_SKIPPED_TRANSFORMERS: Final = ("role_binding_visibility_transformer.yaml",)

# The integrations enabled here: batch/v1 Jobs, and our kinds, whose Workloads the
# operator creates itself (Kueue's format for an external framework is Kind.version.group).
FRAMEWORKS: Final = ("batch/job",)


def external_framework(kind: str, version: str = constants.VERSION, group: str = constants.GROUP) -> str:
    """The string Kueue's ``integrations.externalFrameworks`` names a kind by: ``Kind.version.group``."""
    return f"{kind}.{version}.{group}"


EXTERNAL_FRAMEWORKS: Final = (
    external_framework(constants.KIND_JOB),
    external_framework(constants.KIND_CLUSTER),
)

# The release image of the pinned version; a node agent without an image store never
# pulls it, but the API requires an image and this names what the binary is.
IMAGE_REPOSITORY: Final = "registry.k8s.io/kueue/kueue"

_CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
    }
)
# kustomize's prefix transformer leaves these names alone.
_NO_PREFIX = frozenset({"Namespace", "CustomResourceDefinition", "APIService"})
# The merge keys of the lists the patches touch (strategic merge); other lists are replaced.
_MERGE_KEYS: Final = {
    "containers": "name",
    "initContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "env": "name",
    "webhooks": "name",
    "versions": "name",
}
# Apply order: what others refer to first (kustomize's legacy order, abridged).
_ORDER: Final = (
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "Deployment",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)

Doc = dict[str, Any]


@dataclass(frozen=True)
class WaitForPodsReady:
    """Kueue's ``waitForPodsReady``: evict an admitted workload whose Pods are not Ready in time.

    The defaults requeue after 60 s and more; eviction tests want ``backoff_base_seconds``
    small and perhaps a ``backoff_limit_count`` to see a workload deactivated.
    """

    timeout_seconds: float
    block_admission: bool = False
    recovery_timeout_seconds: float | None = None
    backoff_base_seconds: int | None = None
    backoff_max_seconds: int | None = None
    backoff_limit_count: int | None = None

    def to_config(self) -> Doc:
        """The ``waitForPodsReady`` stanza of the Configuration."""
        stanza: Doc = {"timeout": _duration(self.timeout_seconds), "blockAdmission": self.block_admission}
        if self.recovery_timeout_seconds is not None:
            stanza["recoveryTimeout"] = _duration(self.recovery_timeout_seconds)
        strategy: Doc = {"timestamp": "Eviction"}
        for key, value in (
            ("backoffBaseSeconds", self.backoff_base_seconds),
            ("backoffMaxSeconds", self.backoff_max_seconds),
            ("backoffLimitCount", self.backoff_limit_count),
        ):
            if value is not None:
                strategy[key] = value
        stanza["requeuingStrategy"] = strategy
        return stanza


def _duration(seconds: float) -> str:
    """A Go duration (metav1.Duration) for a number of seconds."""
    return f"{seconds:g}s"


def configuration(
    shipped: str,
    *,
    wait_for_pods_ready: WaitForPodsReady | None = None,
    frameworks: Iterable[str] = FRAMEWORKS,
    external_frameworks: Iterable[str] = EXTERNAL_FRAMEWORKS,
) -> Doc:
    """Kueue's Configuration: the shipped ``controller_manager_config.yaml`` with our choices.

    Internal cert management on (no cert-manager here), with the Service and Secret
    names this render creates; leader election off (one replica, and a restarted Pod
    would otherwise wait out its predecessor's lease); only Jobs that name a queue are
    managed (``manageJobsWithoutQueueName: false``), so nothing else in a test cluster
    is held back.  The visibility server is off (feature gate ``VisibilityOnDemand``):
    it needs the visibility component this render leaves out (see :data:`EXCLUDED`),
    and without that component's RoleBinding the manager exits at start.
    """
    config: Doc = yamlio.load(shipped)
    if config.get("apiVersion") != CONFIG_API_VERSION:
        raise ValueError(
            f"Kueue ships a {config.get('apiVersion')} Configuration, expected {CONFIG_API_VERSION}"
        )
    config["namespace"] = NAMESPACE
    config["leaderElection"] = {**(config.get("leaderElection") or {}), "leaderElect": False}
    config["internalCertManagement"] = {
        "enable": True,
        "webhookServiceName": WEBHOOK_SERVICE,
        "webhookSecretName": WEBHOOK_SECRET,
    }
    config["manageJobsWithoutQueueName"] = False
    config["integrations"] = {
        **(config.get("integrations") or {}),
        "frameworks": list(frameworks),
        "externalFrameworks": list(external_frameworks),
    }
    config["featureGates"] = {**(config.get("featureGates") or {}), "VisibilityOnDemand": False}
    if wait_for_pods_ready is not None:
        config["waitForPodsReady"] = wait_for_pods_ready.to_config()
    return config


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """Merge ``patch`` into ``base`` as a strategic merge patch does, for the fields Kueue's patches use.

    Maps merge key by key (``None`` deletes); lists named in the merge-key table merge
    item by item on their key (container ``ports`` on ``containerPort``); other lists
    and scalars are replaced.
    """
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list):
        key = _MERGE_KEYS.get(field)
        if field == "ports" and all(isinstance(p, dict) and "containerPort" in p for p in base + patch):
            key = "containerPort"
        if key is None:
            return copy.deepcopy(patch)
        merged_list = list(base)
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old.get(key) == item.get(key)), None)
            if index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _load(files: Mapping[str, str], path: str) -> list[Doc]:
    if path not in files:
        raise KeyError(f"Kueue's config has no {path} (was it copied by kueue/build.sh?)")
    return [doc for doc in yamlio.load_all(files[path]) if doc]


def _apply_patches(docs: list[Doc], patches: Iterable[Doc], *, strict: bool) -> None:
    """Apply each patch to the document of its kind and name; ``strict`` fails on a patch with no target."""
    for patch in patches:
        kind, name = patch.get("kind"), patch["metadata"]["name"]
        index = next(
            (i for i, d in enumerate(docs) if d.get("kind") == kind and d["metadata"]["name"] == name), None
        )
        if index is None:
            if strict:
                raise ValueError(f"Kueue's patch for {kind} {name} has no target")
            continue
        body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
        meta = {k: v for k, v in patch["metadata"].items() if k not in ("name", "namespace")}
        if meta:
            body["metadata"] = meta
        docs[index] = strategic_merge(docs[index], body)


def _patches(files: Mapping[str, str], folder: str, kustomization: Doc) -> list[Doc]:
    out: list[Doc] = []
    for entry in kustomization.get("patches") or []:
        if "target" in entry:
            raise ValueError(f"{folder}: targeted patches are not implemented here: {entry}")
        if "path" in entry:
            out += _load(files, posixpath.join(folder, entry["path"]))
        else:
            out += [doc for doc in yamlio.load_all(entry["patch"]) if doc]
    return out


def _component(files: Mapping[str, str], folder: str) -> list[Doc]:
    """One component: its resources, its generated ConfigMaps, its own patches."""
    kustomization = _load(files, f"{folder}/kustomization.yaml")[0]
    docs: list[Doc] = []
    for resource in kustomization.get("resources") or []:
        docs += _load(files, posixpath.join(folder, resource))
    for generator in kustomization.get("configMapGenerator") or []:
        data = {}
        for entry in generator.get("files") or []:
            key, _, path = entry.partition("=") if "=" in entry else (posixpath.basename(entry), "", entry)
            data[key] = files[posixpath.join(folder, path)]
        docs.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    _apply_patches(docs, _patches(files, folder, kustomization), strict=True)
    return docs


def _prefix_names(docs: list[Doc], prefix: str) -> dict[tuple[str, str], str]:
    renamed: dict[tuple[str, str], str] = {}
    for doc in docs:
        if doc["kind"] in _NO_PREFIX:
            continue
        old = doc["metadata"]["name"]
        doc["metadata"]["name"] = renamed[(doc["kind"], old)] = prefix + old
    return renamed


def _follow_names(doc: Doc, renamed: Mapping[tuple[str, str], str], namespace: str) -> None:
    """Update what refers to a renamed object, and the namespace of references into the build."""

    def new(kind: str, name: str) -> str:
        return renamed.get((kind, name), name)

    kind = doc["kind"]
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        ref = doc["roleRef"]
        ref["name"] = new(ref["kind"], ref["name"])
        for subject in doc.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and ("ServiceAccount", subject["name"]) in renamed:
                subject["name"] = new("ServiceAccount", subject["name"])
                subject["namespace"] = namespace
    elif kind == "Deployment":
        pod = doc["spec"]["template"]["spec"]
        if "serviceAccountName" in pod:
            pod["serviceAccountName"] = new("ServiceAccount", pod["serviceAccountName"])
        for volume in pod.get("volumes") or []:
            if "configMap" in volume:
                volume["configMap"]["name"] = new("ConfigMap", volume["configMap"]["name"])
            if "secret" in volume:
                volume["secret"]["secretName"] = new("Secret", volume["secret"]["secretName"])
    elif kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for webhook in doc.get("webhooks") or []:
            service = webhook["clientConfig"].get("service")
            if service:
                service["name"] = new("Service", service["name"])
                service["namespace"] = namespace
    elif kind == "CustomResourceDefinition":
        conversion = doc["spec"].get("conversion") or {}
        service = ((conversion.get("webhook") or {}).get("clientConfig") or {}).get("service")
        if service:
            service["name"] = new("Service", service["name"])
            service["namespace"] = namespace


def _set_namespace(doc: Doc, namespace: str) -> None:
    if doc["kind"] == "Namespace":
        doc["metadata"]["name"] = namespace
    elif doc["kind"] not in _CLUSTER_SCOPED:
        doc["metadata"]["namespace"] = namespace


def _add_labels(doc: Doc, pairs: Mapping[str, str], *, selectors: bool, templates: bool) -> None:
    doc["metadata"].setdefault("labels", {}).update(pairs)
    spec = doc.get("spec") or {}
    if doc["kind"] == "Deployment":
        if selectors or templates:
            template_meta = spec["template"].setdefault("metadata", {})
            template_meta.setdefault("labels", {}).update(pairs)
        if selectors:
            spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)
    elif doc["kind"] == "Service" and selectors:
        spec.setdefault("selector", {}).update(pairs)


def _local_manager(doc: Doc, binary: str, version: str, config_map: str) -> None:
    """The manager container runs the cached binary; the image names the release it was built from."""
    pod = doc["spec"]["template"]["spec"]
    (manager,) = [c for c in pod["containers"] if c["name"] == "manager"]
    manager["command"] = [binary]
    manager["image"] = f"{IMAGE_REPOSITORY}:{version}"
    if not any(v.get("configMap", {}).get("name") == config_map for v in pod.get("volumes") or []):
        raise ValueError(f"Kueue's Deployment does not mount the ConfigMap {config_map}")


def render(
    files: Mapping[str, str],
    binary: Path | str,
    *,
    wait_for_pods_ready: WaitForPodsReady | None = None,
    external_frameworks: Iterable[str] = EXTERNAL_FRAMEWORKS,
) -> list[Doc]:
    """Kueue's install, ready for ``kubectl apply --server-side``, in apply order.

    ``files`` maps paths below the cached ``config/`` folder (``default/kustomization.yaml``,
    ``components/crd/bases/...``) to their text, and ``VERSION`` to the module version;
    ``binary`` is the absolute path of the cached ``kueue`` binary on the node.
    """
    default = _load(files, "default/kustomization.yaml")[0]
    namespace: str = default["namespace"]
    prefix: str = default["namePrefix"]
    unknown = set(default.get("transformers") or []) - set(_SKIPPED_TRANSFORMERS)
    if unknown:
        raise ValueError(f"Kueue's config/default has transformers not implemented here: {sorted(unknown)}")
    docs: list[Doc] = []
    for resource in default.get("resources") or []:
        path = posixpath.normpath(posixpath.join("default", resource))
        if path in EXCLUDED:
            continue
        if f"{path}/kustomization.yaml" in files:
            docs += _component(files, path)
        else:
            docs += _load(files, path)
    # config/default's patches; the visibility Service's has no target without that component.
    _apply_patches(docs, _patches(files, "default", default), strict=False)
    renamed = _prefix_names(docs, prefix)
    for doc in docs:
        _follow_names(doc, renamed, namespace)
        _set_namespace(doc, namespace)
        for entry in default.get("labels") or []:
            _add_labels(
                doc,
                entry["pairs"],
                selectors=bool(entry.get("includeSelectors")),
                templates=bool(entry.get("includeTemplates")),
            )
    if (namespace, prefix) != (NAMESPACE, NAME_PREFIX):
        raise ValueError(f"Kueue's kustomization uses namespace {namespace} and prefix {prefix}")
    version = files.get("VERSION", "").strip() or "unknown"
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == DEPLOYMENT:
            _local_manager(doc, str(binary), version, CONFIG_MAP)
        elif doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == CONFIG_MAP:
            config = configuration(
                doc["data"][CONFIG_FILE],
                wait_for_pods_ready=wait_for_pods_ready,
                external_frameworks=external_frameworks,
            )
            doc["data"] = {CONFIG_FILE: yamlio.dump(config)}
    rank = {kind: i for i, kind in enumerate(_ORDER)}
    return sorted(docs, key=lambda d: rank.get(d["kind"], len(rank)))
