"""The ValidatingAdmissionPolicy bundle refuses, without the webhook, what the webhook refuses.

Each CEL-expressible check of ``schemas/policies.yaml`` gets an invalid manifest; on the
real API server (no webhook installed) the policy refuses it with its message, and the
webhook's own validator (the Python registry) refuses the same manifest.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.validation import registry
from dask_kubernetes_dev.generator import sources
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import ROOT
from tests.operator.e2e.conftest import example

pytestmark = pytest.mark.cluster

POLICIES = ROOT / "overlays" / "admission-policy" / "policies.yaml"
LABEL = "dask.org/policy-test"


def _drop_ports(spec: dict) -> None:
    del spec["scheduler"]["service"]["ports"]


def _drop_image(spec: dict) -> None:
    del spec["containers"][0]["image"]


def _twin(spec: dict) -> None:
    spec["containers"].append(copy.deepcopy(spec["containers"][0]))


CASES: list[tuple[str, str, Callable[[dict], None], str]] = [
    ("cluster.yaml", "daskclusters", lambda o: _drop_ports(o["spec"]), "spec.scheduler.service.ports"),
    (
        "cluster.yaml",
        "daskclusters",
        lambda o: _drop_image(o["spec"]["worker"]["spec"]),
        "worker container needs",
    ),
    (
        "cluster.yaml",
        "daskclusters",
        lambda o: _drop_image(o["spec"]["scheduler"]["spec"]),
        "scheduler container",
    ),
    (
        "cluster.yaml",
        "daskclusters",
        lambda o: _twin(o["spec"]["worker"]["spec"]),
        "duplicate container name",
    ),
    (
        "highmemworkers.yaml",
        "daskworkergroups",
        lambda o: o["spec"].update(cluster="Not_A_Name"),
        "spec.cluster:",
    ),
    (
        "highmemworkers.yaml",
        "daskworkergroups",
        lambda o: _drop_image(o["spec"]["worker"]["spec"]),
        "worker container needs",
    ),
    ("autoscaler.yaml", "daskautoscalers", lambda o: o["spec"].update(cluster="Not_A_Name"), "spec.cluster:"),
    (
        "autoscaler.yaml",
        "daskautoscalers",
        lambda o: o["spec"].update(workerGroup="Not_A_Name"),
        "spec.workerGroup",
    ),
    ("job.yaml", "daskjobs", lambda o: _drop_image(o["spec"]["job"]["spec"]), "spec.job.spec.containers"),
    (
        "job.yaml",
        "daskjobs",
        lambda o: _drop_ports(o["spec"]["cluster"]["spec"]),
        "spec.cluster.spec.scheduler.service.ports",
    ),
]


def test_every_policy_rule_has_a_case() -> None:
    rules = sources.load_yaml(ROOT / "schemas" / "policies.yaml")
    assert sum(len(r) for r in rules.values()) == len(CASES)


@pytest.fixture(scope="module")
def policies(k8s_cluster) -> Any:
    """The bundle, bound only to namespaces labelled for this module, and the CRDs."""
    value = uuid.uuid4().hex[:8]
    for path in sorted((ROOT / "overlays" / "base" / "crds").glob("*.yaml")):
        k8s_cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    docs = yamlio.load_all(POLICIES.read_text())
    for doc in docs:
        doc["metadata"]["name"] += f"-{value}"
        if doc["kind"] == "ValidatingAdmissionPolicyBinding":
            doc["spec"]["policyName"] += f"-{value}"
            doc["spec"]["matchResources"] = {"namespaceSelector": {"matchLabels": {LABEL: value}}}
    k8s_cluster.kubectl("apply", "-f", "-", input=yamlio.dump_all(docs))
    yield value
    k8s_cluster.kubectl("delete", "--ignore-not-found", "-f", "-", input=yamlio.dump_all(docs), check=False)


def _dry_run(k8s_cluster, namespace: str, obj: dict):
    return k8s_cluster.kubectl(
        "apply", "-n", namespace, "--dry-run=server", "-f", "-", input=yamlio.dump(obj), check=False
    )


@pytest.mark.parametrize(
    ("name", "plural", "mutate", "field"), CASES, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_invalid_manifest_is_refused_by_the_policy_and_the_webhook_rules(
    k8s_cluster, namespace, policies, name, plural, mutate, field
) -> None:
    k8s_cluster.kubectl("label", "namespace", namespace, f"{LABEL}={policies}")
    (valid,) = example(name)
    assert _dry_run(k8s_cluster, namespace, valid).returncode == 0
    bad = copy.deepcopy(valid)
    mutate(bad)
    (message,) = [
        r["message"]
        for r in sources.load_yaml(ROOT / "schemas" / "policies.yaml")[plural]
        if field in r["message"]
    ]
    # Policies load asynchronously after they are created: wait for the refusal.
    proc = wait_for(
        lambda: (lambda p: p if p.returncode != 0 else None)(_dry_run(k8s_cluster, namespace, bad)),
        timeout=60,
        what=f"the policy to refuse {name} with {field}",
    )
    assert message in proc.stderr, proc.stderr
    path = message.split(": ", 1)[0]
    errors = [str(e) for e in registry.validate(plural, bad)]
    assert any(e.startswith(path) for e in errors), errors
