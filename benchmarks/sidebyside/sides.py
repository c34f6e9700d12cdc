"""The two operators under test, each installable, switchable on and off, and readable alike.

Both serve the same API group and kinds, so one control plane holds only one set of
CRDs at a time: activating a side replaces the CRDs with its own (no Dask object
exists then), scales its operator Deployment up and proves it works with a warm-up
cluster; deactivating deletes every cluster and scales the operator to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.sidebyside import manifests
from benchmarks.sidebyside.kube import Connected, Kube, PodWatch, until
from dask_kubernetes import yamlio
from dask_kubernetes_dev import install, upstream

BENCH_NS = "bench"
CONVERGE = 600.0


@dataclass
class Side:
    """One operator: where it runs, its CRDs, and how its status says a cluster is up."""

    name: str
    namespace: str
    deployment: str
    service_account: str
    replicas: int
    selector: dict[str, str]
    crds: list[dict[str, Any]] = field(repr=False)

    @classmethod
    def of(cls, name: str, namespace: str, deployment: dict[str, Any], crds: list[dict[str, Any]]) -> Side:
        """A side described by its operator Deployment as rendered, and its CRDs."""
        spec = deployment["spec"]
        return cls(
            name=name,
            namespace=namespace,
            deployment=deployment["metadata"]["name"],
            service_account=spec["template"]["spec"]["serviceAccountName"],
            replicas=int(spec.get("replicas", 1)),
            selector=dict(spec["selector"]["matchLabels"]),
            crds=crds,
        )

    @property
    def user(self) -> str:
        """The operator's identity in the audit log."""
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    def classify(self, user: str) -> str:
        """Audit classification: this operator, or anyone else."""
        return "operator" if user == self.user else "others"

    def is_ready(self, obj: dict[str, Any]) -> bool:
        """Whether the operator's status says the cluster is up (each operator has its own way)."""
        status = obj.get("status") or {}
        if self.name == "upstream":
            return bool(status.get("phase") == "Running")
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        return conditions.get("Ready") == "True" and status.get("observedGeneration") == obj["metadata"].get(
            "generation"
        )

    def operator_pods(self, kube: Kube) -> list[str]:
        """Names of the operator's running Pods."""
        selector = ",".join(f"{k}={v}" for k, v in self.selector.items())
        pods = kube.get_json("pods", "-n", self.namespace, "-l", selector)["items"]
        return [
            p["metadata"]["name"]
            for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        ]

    def _scale(self, kube: Kube, replicas: int) -> None:
        kube.kubectl("scale", "-n", self.namespace, f"deployment/{self.deployment}", f"--replicas={replicas}")

    def activate(self, kube: Kube, pods: PodWatch) -> None:
        """Swap in this side's CRDs, run its operator, and wait until it has run a cluster."""
        names = []
        for crd in self.crds:
            names.append(crd["metadata"]["name"])
            doc = yamlio.dump(crd)
            if kube.kubectl("get", "crd", names[-1], "--ignore-not-found", "-o", "name").strip():
                kube.kubectl("replace", "-f", "-", stdin=doc)
            else:
                kube.kubectl("create", "-f", "-", stdin=doc)
        kube.kubectl("wait", "--for=condition=Established", "--timeout=120s", *(f"crd/{n}" for n in names))
        self._scale(kube, self.replicas)
        until(lambda: len(self.operator_pods(kube)) >= self.replicas, f"{self.name}'s operator", 300)
        warm_up(kube, pods, self)

    def deactivate(self, kube: Kube, pods: PodWatch) -> None:
        """Delete every cluster (and wait for its Pods to go), then stop the operator."""
        clear(kube, pods)
        self._scale(kube, 0)
        until(lambda: not self.operator_pods(kube), f"{self.name}'s operator to stop", 300)


def clear(kube: Kube, pods: PodWatch) -> None:
    """Delete every DaskCluster of the benchmark namespace and wait until no Dask Pod is left."""
    kube.kubectl("delete", "daskcluster", "--all", "-n", BENCH_NS, "--wait=false", check=False)
    until(
        lambda: (
            not pods.select(**{"dask.org/component": "scheduler"})
            and not pods.select(**{"dask.org/component": "worker"})
        ),
        "every Dask Pod to be gone",
        CONVERGE,
    )


def warm_up(kube: Kube, pods: PodWatch, side: Side) -> None:
    """Run one cluster with one worker through the operator: proves it works, and warms its caches."""
    kube.kubectl("apply", "-n", BENCH_NS, "-f", "-", stdin=yamlio.dump(manifests.cluster("warmup", 1)))
    connected = Connected(lambda: pods.running_ip(**scheduler_of("warmup")))
    try:
        # Not the status: upstream's can stay Pending while the cluster runs (measures.status_says_up).
        until(lambda: connected.workers() >= 1, f"{side.name}'s warm-up cluster", CONVERGE)
    finally:
        connected.close()
    clear(kube, pods)


def scheduler_of(cluster: str) -> dict[str, str]:
    """Labels of a cluster's scheduler Pod (the same under both operators)."""
    return {"dask.org/cluster-name": cluster, "dask.org/component": "scheduler"}


def ours(kube: Kube) -> Side:
    """Install our chart (webhook off, chart defaults otherwise) with its operator stopped."""
    namespace = "dask-operator"
    values = ["webhook.enabled=false"]
    docs = [d for d in yamlio.load_all(install.render_chart(namespace, values)) if d]
    install.install(kube.kubeconfig, namespace, values)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    side = Side.of(
        "ours", namespace, deployment, [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    )
    side._scale(kube, 0)
    return side


def theirs(kube: Kube) -> Side:
    """Install upstream's released operator with its own chart and RBAC, stopped, from its own virtualenv."""
    namespace = "dask-upstream"
    release = upstream.ensure()
    docs = upstream.render_operator(release, namespace)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    crds = [d for path in release.crd_files for d in yamlio.load_all(path.read_text()) if d]
    side = Side.of("upstream", namespace, deployment, crds)
    kube.kubectl("create", "namespace", namespace, check=False)
    deployment["spec"]["replicas"] = 0
    kube.kubectl("apply", "-f", "-", stdin=yamlio.dump_all(docs))
    return side
