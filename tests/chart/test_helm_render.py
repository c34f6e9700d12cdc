"""The chart, rendered and linted by the real helm binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from dask_kubernetes import yamlio
from tests.conftest import CHART, run

CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))


def template(helm, *args):
    proc = run([helm, "template", "rel", str(CHART), "--namespace", "dask-operator", *args])
    return proc, (yamlio.load_all(proc.stdout) if proc.returncode == 0 else [])


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def is_webhook(obj):
    """The admission webhook's objects carry app.kubernetes.io/component=webhook."""
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "webhook"


def operator_objs(objs):
    """Everything but the webhook's objects (tests/chart/test_webhook_templates.py covers those)."""
    return [o for o in objs if not is_webhook(o)]


def test_ci_values_files_exist():
    assert len(CI_VALUES) >= 4


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=["default", *[p.stem for p in CI_VALUES]])
def test_lint_and_template_pass(helm, values: Path | None):
    extra = ["--values", str(values)] if values else []
    lint = run([helm, "lint", str(CHART), "--strict", *extra])
    assert lint.returncode == 0, lint.stdout + lint.stderr
    proc, objs = template(helm, *extra)
    assert proc.returncode == 0, proc.stderr
    assert by_kind(objs, "Deployment")


def bad_values(cases: dict[str, tuple[str, str]]) -> pytest.MarkDecorator:
    """Parametrize ``(args, named)`` from case id -> (a ``--set`` value, the key its error must name)."""
    return pytest.mark.parametrize(
        ("args", "named"), [(["--set", value], named) for value, named in cases.values()], ids=list(cases)
    )


def template_fails_naming(helm, args: list[str], named: str) -> str:
    """Render with ``args``; assert helm refuses, naming ``named``; return its error output."""
    proc, _ = template(helm, *args)
    assert proc.returncode != 0
    assert named in proc.stderr
    return proc.stderr


@bad_values(
    {
        "misspelt-rbac-key": ("rbac.clustr=false", "clustr"),
        "misspelt-monitor-key": ("metrics.worker.podMonitor.podTargetLabel={a}", "podTargetLabel"),
        "misspelt-top-level": ("imagee.name=x", "imagee"),
        "flag-without-dashes": ("kopfArgs={all-namespaces}", "kopfArgs"),
    }
)
def test_bad_values_fail_with_a_message_naming_the_key(helm, args, named):
    stderr = template_fails_naming(helm, args, named)
    assert "values don't meet the specifications of the schema" in stderr or "schema" in stderr


def test_defaults_are_cluster_wide_with_crds_kept_and_no_monitors(helm):
    _, objs = template(helm)
    objs = operator_objs(objs)
    crds = by_kind(objs, "CustomResourceDefinition")
    assert {c["metadata"]["name"] for c in crds} == {
        "daskclusters.kubernetes.dask.org",
        "daskworkergroups.kubernetes.dask.org",
        "daskjobs.kubernetes.dask.org",
        "daskautoscalers.kubernetes.dask.org",
    }
    for crd in crds:
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert by_kind(objs, "ClusterRole") and by_kind(objs, "ClusterRoleBinding")
    # The one Role is for the leader-election Lease in the release namespace.
    (role,) = by_kind(objs, "Role")
    assert {r["apiGroups"][0] for r in role["rules"]} == {"coordination.k8s.io"}
    assert {r["resources"][0] for r in role["rules"]} == {"leases"}
    assert not [o for o in objs if o["apiVersion"].startswith("monitoring.coreos.com")]
    (deploy,) = by_kind(objs, "Deployment")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["dask-kubernetes", "operator"]
    assert container["args"][0] == "--all-namespaces"


def test_crds_can_be_left_out_or_not_kept(helm):
    _, objs = template(helm, "--set", "crds.enabled=false")
    assert not by_kind(objs, "CustomResourceDefinition")
    _, objs = template(helm, "--set", "crds.keep=false")
    for crd in by_kind(objs, "CustomResourceDefinition"):
        assert "helm.sh/resource-policy" not in crd["metadata"].get("annotations", {})


def _replica_maximums(objs):
    """The schema maximum of every worker count: each group's replicas and the autoscaler's maximum."""
    found = {}
    for crd in by_kind(objs, "CustomResourceDefinition"):
        spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        kind = crd["spec"]["names"]["kind"]
        if kind == "DaskAutoscaler":
            found[kind] = spec["maximum"]["maximum"]
        elif kind == "DaskJob":
            found[kind] = spec["cluster"]["properties"]["spec"]["properties"]["worker"]["properties"][
                "replicas"
            ]["maximum"]
        else:
            found[kind] = spec["worker"]["properties"]["replicas"]["maximum"]
    return found


def test_replicas_have_a_schema_maximum_that_a_value_raises(helm):
    _, objs = template(helm)
    assert set(_replica_maximums(objs).values()) == {10000}
    assert len(_replica_maximums(objs)) == 4
    _, objs = template(helm, "--set", "crds.maxReplicas=50000")
    assert set(_replica_maximums(objs).values()) == {50000}


@pytest.mark.parametrize("value", ["0", "lots"], ids=["zero", "not-a-number"])
def test_max_replicas_must_be_a_positive_integer(helm, value):
    proc, _ = template(helm, "--set", f"crds.maxReplicas={value}")
    assert proc.returncode != 0
    assert "maxReplicas" in proc.stderr


def test_single_namespace_install_from_the_seed(helm):
    _, objs = template(helm, "--set", "rbac.cluster=false", "--set", "kopfArgs={--namespace=my-namespace}")
    objs = operator_objs(objs)
    assert not by_kind(objs, "ClusterRole")
    roles = {r["metadata"]["name"]: r for r in by_kind(objs, "Role")}
    assert set(roles) == {"rel-dask-kubernetes-operator", "rel-dask-kubernetes-operator-leader-election"}
    assert {r["metadata"]["namespace"] for r in roles.values()} == {"dask-operator"}
    (deploy,) = by_kind(objs, "Deployment")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["args"][0] == "--namespace=my-namespace"


def test_hardened_security_context(helm):
    _, objs = template(helm)
    deployments = by_kind(objs, "Deployment")
    assert len(deployments) == 2  # the operator and the webhook
    for deploy in deployments:
        pod = deploy["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        ctx = pod["containers"][0]["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert ctx["runAsUser"] == 1000


def test_operator_role_never_grants_secrets(helm):
    for args in ([], ["--set", "rbac.cluster=false"]):
        _, objs = template(helm, *args)
        objs = operator_objs(objs)
        for role in by_kind(objs, "ClusterRole") + by_kind(objs, "Role"):
            for rule in role["rules"]:
                assert "secrets" not in rule["resources"]


def test_metrics_values_render_every_option(helm):
    _, objs = template(helm, "--values", str(CHART / "ci" / "metrics-values.yaml"))
    (sm,) = by_kind(objs, "ServiceMonitor")
    (pm,) = by_kind(objs, "PodMonitor")
    assert sm["metadata"]["namespace"] == "monitoring"
    assert sm["metadata"]["labels"]["release"] == "prometheus"
    assert sm["spec"]["targetLabels"] == ["dask.org/cluster-name"]
    assert sm["spec"]["endpoints"][0]["interval"] == "30s"
    assert sm["spec"]["jobLabel"] == "dask.org/cluster-name"
    assert sm["spec"]["namespaceSelector"] == {"any": True}
    assert pm["spec"]["podTargetLabels"] == ["dask.org/cluster-name", "dask.org/workergroup-name"]
    assert pm["spec"]["podMetricsEndpoints"][0]["metricRelabelings"][0]["action"] == "keep"
    assert pm["spec"]["selector"]["matchLabels"] == {"dask.org/component": "worker"}


def test_seed_metrics_block_creates_both_monitors(helm):
    _, objs = template(helm, "--values", str(CHART / "ci" / "seed-metrics-values.yaml"))
    assert len(by_kind(objs, "ServiceMonitor")) == 1
    (pm,) = by_kind(objs, "PodMonitor")
    assert pm["spec"]["podTargetLabels"] == ["dask.org/cluster-name", "dask.org/workergroup-name"]


def test_custom_values_reach_the_deployment(helm):
    _, objs = template(helm, "--values", str(CHART / "ci" / "custom-values.yaml"))
    objs = operator_objs(objs)
    (deploy,) = by_kind(objs, "Deployment")
    assert deploy["metadata"]["name"] == "dask-operator-custom"
    pod = deploy["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example.com/dask/operator:2026.11.0-custom"
    assert container["imagePullPolicy"] == "Always"
    assert pod["serviceAccountName"] == "dask-operator-sa"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert deploy["spec"]["template"]["metadata"]["annotations"] == {"example.com/team": "data"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DASK_KUBERNETES__CONTROLLER__WORKER_ALLOCATION__BATCH_SIZE"] == "10"
    assert env["DASK_KUBERNETES__CONTROLLER__WORKER_ALLOCATION__DELAY"] == "2"
    assert {"name": "extra", "mountPath": "/etc/dask"} in container["volumeMounts"]


def test_notes_tell_the_user_what_to_do_next(helm):
    proc = run([helm, "install", "rel", str(CHART), "--dry-run=client", "--namespace", "dask-operator"])
    assert proc.returncode == 0, proc.stderr
    notes = proc.stdout.split("NOTES:", 1)[1]
    assert "kubectl get pods -n dask-operator" in notes
    assert "kubectl apply -f" in notes
    assert "KubeCluster" in notes


def test_two_operator_replicas_roll_with_a_pdb_and_elect_a_leader(helm):
    _, objs = template(helm)
    objs = operator_objs(objs)
    (deploy,) = by_kind(objs, "Deployment")
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["strategy"]["type"] == "RollingUpdate"
    env = {e["name"] for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {"POD_NAME", "POD_NAMESPACE", "DASK_OPERATOR_LEASE_NAME"} <= env
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    _, single = template(helm, "--set", "replicaCount=1")
    assert not by_kind(operator_objs(single), "PodDisruptionBudget")


def test_defaults_install_this_projects_image_at_the_charts_app_version(helm):
    """The chart runs our image (it has `dask-kubernetes operator`), tagged with the package version."""
    import tomllib

    import dask_kubernetes
    from tests.conftest import ROOT

    chart = yamlio.load_all((CHART / "Chart.yaml").read_text())[0]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert chart["appVersion"] == version == dask_kubernetes.__version__
    values = yamlio.load_all((CHART / "values.yaml").read_text())[0]
    assert values["image"]["name"] == "ghcr.io/dask-kubernetes/dask-kubernetes"
    proc, objs = template(helm)
    assert proc.returncode == 0, proc.stderr
    images = {
        c["image"] for d in by_kind(objs, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"ghcr.io/dask-kubernetes/dask-kubernetes:{chart['appVersion']}"}
    assert "dask/dask-kubernetes-operator" not in proc.stdout
