"""The admission webhook's templates: Deployment, Service, PDB, configurations, RBAC, TLS."""

from __future__ import annotations

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import kueue
from dask_kubernetes.webhooks import reviews
from dask_kubernetes_dev.generator import helm as helm_module
from tests.chart.test_helm_render import (
    bad_values,
    by_kind,
    is_webhook,
    operator_objs,
    template,
    template_fails_naming,
)
from tests.conftest import CHART, ROOT, run

FULLNAME = "rel-dask-kubernetes-operator-webhook"
CERT_MANAGER_VALUES = CHART / "ci" / "webhook-cert-manager-values.yaml"


def one(objs, kind):
    (obj,) = by_kind(objs, kind)
    return obj


def webhook_objs(helm, *args):
    proc, objs = template(helm, *args)
    assert proc.returncode == 0, proc.stderr
    return [o for o in objs if is_webhook(o)]


def env_of(deploy):
    return {e["name"]: e.get("value") for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_default_install_has_every_webhook_object(helm):
    objs = webhook_objs(helm)
    kinds = sorted(o["kind"] for o in objs)
    assert kinds == [
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "MutatingWebhookConfiguration",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
        "ValidatingWebhookConfiguration",
    ]
    assert {o["metadata"]["name"] for o in objs} == {FULLNAME}


def test_template_files_are_named_like_cert_managers():
    names = {p.name for p in (CHART / "templates").glob("webhook-*.yaml")}
    assert {
        "webhook-deployment.yaml",
        "webhook-service.yaml",
        "webhook-pdb.yaml",
        "webhook-validating-webhook.yaml",
        "webhook-mutating-webhook.yaml",
        "webhook-rbac.yaml",
        "webhook-serviceaccount.yaml",
    } <= names


def test_deployment_runs_two_hardened_replicas_of_dask_kubernetes_webhook(helm):
    deploy = one(webhook_objs(helm), "Deployment")
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deploy["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == FULLNAME
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    (container,) = pod["containers"]
    assert container["command"] == ["dask-kubernetes", "webhook"]
    assert "args" not in container
    assert container["securityContext"] == {
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
    }
    assert container["ports"] == [{"name": "https", "containerPort": 8443, "protocol": "TCP"}]
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ):
        assert container[probe]["httpGet"] == {"path": path, "port": "https", "scheme": "HTTPS"}
    assert container["resources"]["limits"]["memory"] == "256Mi"
    # The read-only root file system needs a writable place for the self-managed certificate.
    cert_dir = env_of(deploy)["DASK_OPERATOR_WEBHOOK_CERT_DIR"]
    assert container["volumeMounts"] == [{"name": "serving-certs", "mountPath": cert_dir}]
    (volume,) = pod["volumes"]
    assert volume["name"] == "serving-certs" and volume["emptyDir"]["medium"] == "Memory"


def test_names_the_webhook_acts_on_match_what_the_chart_creates(helm):
    objs = webhook_objs(helm)
    env = env_of(one(objs, "Deployment"))
    assert env["DASK_OPERATOR_WEBHOOK_SERVICE"] == one(objs, "Service")["metadata"]["name"]
    assert (
        env["DASK_OPERATOR_WEBHOOK_VALIDATING_CONFIGURATION"]
        == one(objs, "ValidatingWebhookConfiguration")["metadata"]["name"]
    )
    assert (
        env["DASK_OPERATOR_WEBHOOK_MUTATING_CONFIGURATION"]
        == one(objs, "MutatingWebhookConfiguration")["metadata"]["name"]
    )
    assert env["DASK_OPERATOR_WEBHOOK_PORT"] == "8443"
    role = one(objs, "Role")
    named = [r for r in role["rules"] if r.get("resourceNames")]
    assert named == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [env["DASK_OPERATOR_WEBHOOK_CA_SECRET"]],
            "verbs": ["get", "update", "patch"],
        },
        # The webhook's own Deployment owns the CA Secret.
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": [env["DASK_OPERATOR_WEBHOOK_DEPLOYMENT"]],
            "verbs": ["get"],
        },
    ]
    assert env["DASK_OPERATOR_WEBHOOK_DEPLOYMENT"] == one(objs, "Deployment")["metadata"]["name"]
    cluster_role = one(objs, "ClusterRole")
    (configs,) = [r for r in cluster_role["rules"] if r["apiGroups"] == ["admissionregistration.k8s.io"]]
    assert configs["resourceNames"] == [env["DASK_OPERATOR_WEBHOOK_VALIDATING_CONFIGURATION"]]
    assert configs["verbs"] == ["get", "update"]


def test_webhook_rbac_is_least_privilege(helm):
    objs = webhook_objs(helm)
    rules = [r for role in by_kind(objs, "Role") + by_kind(objs, "ClusterRole") for r in role["rules"]]
    for rule in rules:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert not {"watch", "delete"} & set(rule["verbs"]), rule
        # The one list: a queued cluster's worker groups, counted against Kueue's PodSet limit.
        assert "list" not in rule["verbs"] or rule["resources"] == ["daskworkergroups"], rule
        if "secrets" in rule["resources"]:
            assert rule["verbs"] == ["create"] or rule.get("resourceNames")
    for cluster_role in by_kind(objs, "ClusterRole"):
        assert not any("secrets" in r["resources"] for r in cluster_role["rules"])
    lookups = [r for r in rules if r["apiGroups"] == ["kubernetes.dask.org"]]
    assert lookups == [
        {"apiGroups": ["kubernetes.dask.org"], "resources": ["daskclusters", "daskjobs"], "verbs": ["get"]},
        {"apiGroups": ["kubernetes.dask.org"], "resources": ["daskworkergroups"], "verbs": ["list"]},
    ]
    binding = one(objs, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": "dask-operator"}]


def test_service_and_pdb_select_the_webhook_pods_only(helm):
    _, objs = template(helm)
    webhook = [o for o in objs if is_webhook(o)]
    pod_labels = one(webhook, "Deployment")["spec"]["template"]["metadata"]["labels"]
    service = one(webhook, "Service")
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    pdb = one(webhook, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    operator_selector = one(operator_objs(objs), "Deployment")["spec"]["selector"]["matchLabels"]
    assert not operator_selector.items() <= pod_labels.items()


@pytest.mark.parametrize(
    ("kind", "name", "path", "policy"),
    [
        ("ValidatingWebhookConfiguration", "validate.kubernetes.dask.org", "/validate", "Fail"),
        ("MutatingWebhookConfiguration", "mutate.kubernetes.dask.org", "/mutate", "Ignore"),
    ],
)
def test_configurations_register_both_webhooks(helm, kind, name, path, policy):
    config = one(webhook_objs(helm), kind)
    (hook,) = config["webhooks"]
    assert hook["name"] == name
    assert name in (reviews.VALIDATING_WEBHOOK, reviews.MUTATING_WEBHOOK)
    assert hook["clientConfig"] == {
        "service": {"name": FULLNAME, "namespace": "dask-operator", "path": path, "port": 443}
    }
    assert "caBundle" not in hook["clientConfig"]
    assert hook["failurePolicy"] == policy
    assert hook["sideEffects"] == "None"
    assert hook["matchPolicy"] == "Equivalent"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["timeoutSeconds"] == 10
    assert hook["rules"] == [
        {
            "apiGroups": ["kubernetes.dask.org"],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["daskclusters", "daskworkergroups", "daskjobs", "daskautoscalers"],
            "scope": "Namespaced",
        }
    ]
    (condition,) = hook["matchConditions"]
    assert condition["name"] == "spec-or-kueue-labels-changed"
    assert condition["expression"] == (
        "request.operation == 'CREATE' || !has(object.spec) || !has(oldObject.spec) "
        "|| object.spec != oldObject.spec || "
        f"['{kueue.QUEUE_LABEL}', '{kueue.PRIORITY_CLASS_LABEL}'].exists(k, "
        "(has(object.metadata.labels) && k in object.metadata.labels ? object.metadata.labels[k] : '') != "
        "(has(oldObject.metadata.labels) && k in oldObject.metadata.labels "
        "? oldObject.metadata.labels[k] : ''))"
    )
    assert hook["namespaceSelector"] == {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["dask-operator", "kube-system"],
            },
            {"key": "dask.org/webhook", "operator": "NotIn", "values": ["disabled"]},
        ]
    }


def test_sync_waves_order_crds_rbac_webhook_configurations_operator(helm):
    _, objs = template(helm, "--values", str(CERT_MANAGER_VALUES))

    def wave(obj):
        return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])

    waves = {}
    for obj in objs:
        role = "webhook" if is_webhook(obj) else "operator"
        waves.setdefault((role, obj["kind"]), set()).add(wave(obj))
    assert waves[("operator", "CustomResourceDefinition")] == {-10}
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        assert waves[("webhook", kind)] == {-5}
        assert waves[("operator", kind)] == {-5}
    assert waves[("webhook", "Issuer")] == waves[("webhook", "Certificate")] == {-4}
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        assert waves[("webhook", kind)] == {-3}
    assert waves[("webhook", "ValidatingWebhookConfiguration")] == {-2}
    assert waves[("webhook", "MutatingWebhookConfiguration")] == {-2}
    assert waves[("operator", "Deployment")] == {-1}


def test_cert_manager_issues_the_certificate_and_injects_the_ca(helm):
    objs = webhook_objs(helm, "--values", str(CERT_MANAGER_VALUES))
    issuers = {o["metadata"]["name"]: o["spec"] for o in by_kind(objs, "Issuer")}
    assert issuers == {
        f"{FULLNAME}-selfsign": {"selfSigned": {}},
        f"{FULLNAME}-ca": {"ca": {"secretName": f"{FULLNAME}-ca"}},
    }
    certificates = {o["metadata"]["name"]: o["spec"] for o in by_kind(objs, "Certificate")}
    assert certificates[f"{FULLNAME}-ca"]["isCA"] is True
    serving = certificates[FULLNAME]
    assert serving["dnsNames"] == [
        FULLNAME,
        f"{FULLNAME}.dask-operator",
        f"{FULLNAME}.dask-operator.svc",
        f"{FULLNAME}.dask-operator.svc.cluster.local",
    ]
    assert serving["issuerRef"] == {"name": f"{FULLNAME}-ca", "kind": "Issuer", "group": "cert-manager.io"}
    assert (serving["duration"], serving["renewBefore"]) == ("720h", "240h")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        annotations = one(objs, kind)["metadata"]["annotations"]
        assert annotations["cert-manager.io/inject-ca-from"] == f"dask-operator/{FULLNAME}"
    deploy = one(objs, "Deployment")
    env = env_of(deploy)
    assert env["DASK_OPERATOR_WEBHOOK_CERT_FILE"] == "/etc/dask-kubernetes-webhook/tls/tls.crt"
    assert "DASK_OPERATOR_WEBHOOK_CA_SECRET" not in env
    volumes = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == serving["secretName"]
    # No CA of its own: no Secret rights, no caBundle rights.
    assert not by_kind(objs, "Role")
    rules = one(objs, "ClusterRole")["rules"]
    assert {g for r in rules for g in r["apiGroups"]} == {"kubernetes.dask.org"}


def test_every_webhook_value_reaches_its_object(helm):
    objs = webhook_objs(helm, "--values", str(CERT_MANAGER_VALUES))
    deploy = one(objs, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    assert deploy["spec"]["replicas"] == 3
    assert pod["serviceAccountName"] == "dask-webhook-sa"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"][0]["value"] == "platform"
    assert "podAntiAffinity" in pod["affinity"]
    assert pod["topologySpreadConstraints"][0]["maxSkew"] == 1
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert deploy["spec"]["template"]["metadata"]["annotations"] == {"example.com/team": "platform"}
    assert pod["containers"][0]["ports"][0]["containerPort"] == 9443
    assert env_of(deploy)["DASK_OPERATOR_WEBHOOK_PORT"] == "9443"
    assert one(objs, "ServiceAccount")["metadata"]["annotations"]["iam.example.com/role"] == "dask-webhook"
    assert one(objs, "PodDisruptionBudget")["spec"] == {
        "maxUnavailable": 1,
        "selector": deploy["spec"]["selector"],
    }
    hook = one(objs, "ValidatingWebhookConfiguration")["webhooks"][0]
    assert hook["timeoutSeconds"] == 5
    assert hook["namespaceSelector"]["matchExpressions"] == [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["dask-operator", "kube-system", "monitoring"],
        },
        {"key": "example.com/dask-admission", "operator": "NotIn", "values": ["off"]},
        {"key": "example.com/tenant", "operator": "Exists"},
    ]


def test_an_existing_issuer_is_used_as_given(helm):
    objs = webhook_objs(helm, "--values", str(CHART / "ci" / "webhook-issuer-values.yaml"))
    assert not by_kind(objs, "Issuer")
    (certificate,) = by_kind(objs, "Certificate")
    assert certificate["spec"]["issuerRef"] == {
        "name": "platform-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


def test_the_webhook_can_be_left_out(helm):
    assert webhook_objs(helm, "--set", "webhook.enabled=false") == []


def test_a_pdb_that_would_block_every_drain_is_refused(helm):
    proc, _ = template(helm, "--set", "webhook.replicaCount=1")
    assert proc.returncode != 0
    assert "minAvailable must be below webhook.replicaCount" in proc.stderr
    proc, objs = template(
        helm, "--set", "webhook.replicaCount=1", "--set", "webhook.podDisruptionBudget.enabled=false"
    )
    assert proc.returncode == 0
    assert not [p for p in by_kind(objs, "PodDisruptionBudget") if "webhook" in p["metadata"]["name"]]


@bad_values(
    {
        "misspelt-key": ("webhook.replicas=3", "replicas"),
        "bad-policy": ("webhook.failurePolicy=Deny", "failurePolicy"),
        "timeout-over-30s": ("webhook.timeoutSeconds=60", "timeoutSeconds"),
        "misspelt-cert-manager-key": ("webhook.certManager.issuer=x", "issuer"),
        "misspelt-label-key": ("webhook.namespaceSelector.optOutLabel.val=x", "val"),
    }
)
def test_bad_webhook_values_fail_naming_the_key(helm, args, named):
    template_fails_naming(helm, args, named)


def test_no_key_material_is_generated_in_templates(helm):
    """genCA or randAlphaNum would render differently every time and keep Argo CD OutOfSync."""
    for path in (CHART / "templates").rglob("*"):
        if path.is_file():
            text = path.read_text()
            for forbidden in ("genCA", "genSelfSignedCert", "genSignedCert", "randAlphaNum", "genPrivateKey"):
                assert forbidden not in text, f"{path.name} uses {forbidden}"
    first = run([helm, "template", "rel", str(CHART), "--namespace", "dask-operator"]).stdout
    second = run([helm, "template", "rel", str(CHART), "--namespace", "dask-operator"]).stdout
    assert first == second


def test_cert_manager_overlay_says_what_the_chart_says(kubectl):
    """overlays/cert-manager is base plus patches; it must equal the chart with certManager.enabled."""
    proc = run([kubectl, "kustomize", str(ROOT / "overlays" / "cert-manager")])
    assert proc.returncode == 0, proc.stderr
    overlay = {(o["kind"], o["metadata"]["name"]): o for o in yamlio.load_all(proc.stdout)}
    chart = helm_module.template(
        CHART, values={"webhook": {"certManager": {"enabled": True}}, "crds": {"keep": False}}
    )
    for obj in chart:
        helm_module.strip_helm_metadata(obj)
        assert overlay.pop((obj["kind"], obj["metadata"]["name"])) == obj, obj["kind"]
    assert [key for key in overlay] == [("Namespace", "dask-operator")]
