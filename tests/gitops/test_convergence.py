"""The rendered bundle converges applied in one go and wave by wave; examples show no drift.

"Converges" is judged by kstatus (what Flux waits for, and Argo CD's health for built-in
kinds): every object Current.  Wave by wave is how Argo CD syncs: apply one
``argocd.argoproj.io/sync-wave``, wait until it is healthy, then the next.
The bundle is the chart (webhook on, narrowed to the test's namespace; its CRDs are the
session's, its operator left out so the session's operator is the only one) plus a
DaskCluster, which the fail-closed webhook must accept.
"""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import tools as _tools
from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import CHART, ROOT, run
from tests.operator.e2e.conftest import example, is_ready

pytestmark = pytest.mark.cluster

WAVE = "argocd.argoproj.io/sync-wave"
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "kustomization.yaml")


def _bundle(release: str, ns: str, target: str) -> list[dict]:
    narrow = {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [target]}
    values = {"crds": {"enabled": False}, "webhook": {"namespaceSelector": {"matchExpressions": [narrow]}}}
    cmd = [_tools.find("helm"), "template", release, str(CHART), "--namespace", ns, "--values", "-"]
    proc = run(cmd, input=yamlio.dump(values))
    assert proc.returncode == 0, proc.stderr
    objs = [
        o
        for o in yamlio.load_all(proc.stdout)
        if not (o["kind"] == "Deployment" and "webhook" not in o["metadata"]["name"])
    ]
    (cluster,) = example("cluster.yaml")
    cluster["metadata"]["namespace"] = target
    cluster["spec"]["worker"]["replicas"] = 1
    return [*objs, cluster]


def _wave(obj: dict) -> int:
    return int(obj["metadata"].get("annotations", {}).get(WAVE, "0"))


def _live(kubectl, obj: dict) -> dict | None:
    group = obj["apiVersion"].rpartition("/")[0]
    resource = obj["kind"].lower() + (f".{group}" if group else "")
    args = ["get", resource, obj["metadata"]["name"]]
    if obj["metadata"].get("namespace"):
        args += ["-n", obj["metadata"]["namespace"]]
    proc = kubectl(*args, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def _all_current(kubectl, objs: list[dict]) -> list[str]:
    """Objects kstatus does not yet call Current (empty when converged)."""
    return [
        f"{o['kind']}/{o['metadata']['name']}" for o in objs if kstatus(_live(kubectl, o))[0] != "Current"
    ]


def _cleanup(kubectl, objs: list[dict], ns: str) -> None:
    kubectl(
        "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=yamlio.dump_all(objs), check=False
    )
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _with_namespace(objs: list[dict], ns: str) -> list[dict]:
    for obj in objs:
        if obj["kind"] in (
            "Deployment",
            "Service",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "PodDisruptionBudget",
        ):
            obj["metadata"].setdefault("namespace", ns)
    return objs


def _new_bundle(k, prefix: str) -> tuple[Any, list[dict], str]:
    """The bundle of a fresh release in a new namespace ``prefix-<random>``: kubectl, objects, namespace."""
    release = ns = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kubectl = k.target.kubectl
    kubectl("create", "namespace", ns)
    return kubectl, _with_namespace(_bundle(release, ns, k.namespace), ns), ns


def _applied(kubectl, objs: list[dict]) -> bool:
    """One server-side apply of ``objs`` succeeded."""
    return (
        kubectl("apply", "--server-side", "-f", "-", input=yamlio.dump_all(objs), check=False).returncode == 0
    )


def test_bundle_applied_in_one_apply_converges(k):
    kubectl, objs, ns = _new_bundle(k, "one")
    try:
        # Until the webhook serves, the fail-closed configuration refuses the DaskCluster:
        # re-applying, as Argo CD and Flux retry, converges.
        wait_for(
            lambda: _applied(kubectl, objs),
            timeout=300,
            what="one apply of the whole bundle to succeed",
            interval=3,
        )
        wait_for(
            lambda: not _all_current(kubectl, objs), timeout=300, what="every object Current", interval=2
        )
    finally:
        _cleanup(kubectl, objs, ns)


def test_bundle_applied_wave_by_wave_converges(k):
    kubectl, objs, ns = _new_bundle(k, "waves")
    waves = [list(group) for _, group in itertools.groupby(sorted(objs, key=_wave), key=_wave)]
    assert len(waves) >= 4
    try:
        for wave in waves:
            # As Argo CD retries a failed sync (syncPolicy.retry): the custom resources' wave
            # is refused until the webhook has patched caBundle into the configurations
            # that the wave before made.
            wait_for(
                lambda wave=wave: _applied(kubectl, wave),
                timeout=300,
                what=f"wave {_wave(wave[0])} to apply",
                interval=3,
            )
            wait_for(
                lambda wave=wave: not _all_current(kubectl, wave),
                timeout=300,
                what=f"wave {_wave(wave[0])} to be Current",
                interval=2,
            )
    finally:
        _cleanup(kubectl, objs, ns)


def _settled(k, docs: list[dict]) -> bool:
    """The operator observed every object, and clusters and worker groups are Ready."""
    for doc in docs:
        live = k.get(doc["kind"].lower(), doc["metadata"]["name"])
        if (
            live is None
            or (live.get("status") or {}).get("observedGeneration") != live["metadata"]["generation"]
        ):
            return False
        if doc["kind"] in ("DaskCluster", "DaskWorkerGroup") and not is_ready(live):
            return False
    return True


def _no_drift(k, text: str) -> str | None:
    """The diff, or None when there is none.

    kubectl diff shows whole objects, status included, so a status the operator writes
    between its two reads shows up once; spec drift would show every time.
    """
    proc = k("diff", "--server-side", "-f", "-", input=text, check=False)
    return None if proc.returncode == 0 else proc.stdout + proc.stderr


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_shows_no_drift_after_reconcile(k, path: Path):
    docs = example(path.name)
    if any(d["kind"] == "DaskWorkerGroup" or d["kind"] == "DaskAutoscaler" for d in docs):
        (cluster,) = example("cluster.yaml")
        k("apply", "--server-side", "-f", "-", input=yamlio.dump(cluster))
    text = yamlio.dump_all(docs)
    k("apply", "--server-side", "-f", "-", input=text)
    wait_for(lambda: _settled(k, docs), timeout=240, what=f"the operator to reconcile {path.name}")
    wait_for(lambda: _no_drift(k, text) is None, timeout=60, what=f"no diff for {path.name}", interval=2)
