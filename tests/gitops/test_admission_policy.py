"""The ValidatingAdmissionPolicy bundle refuses, without the webhook, what the webhook refuses.

Each CEL-expressible check of ``schemas/policies.yaml`` gets an invalid manifest; on the
real API server (no webhook installed) the policy refuses it with its message, and the
webhook's own validator (the Python registry) refuses the same manifest.  Each rule
marked ``action: Warn`` gets a manifest the API server admits with its message as a
warning, which the webhook's own warnings (the same registry) also raise.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.validation import lifecycle, registry
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


def _rules(plural: str, action: str) -> list[dict[str, str]]:
    """The source rules of one kind that its binding enforces with ``action``."""
    rules = sources.load_yaml(ROOT / "schemas" / "policies.yaml")[plural]
    return [rule for rule in rules if rule.get("action", "Deny") == action]


def _delete_self(where: str, key: str) -> Callable[[dict], None]:
    """Make a DaskJob delete itself once it succeeds, and carry one GitOps tracking key."""

    def mutate(obj: dict) -> None:
        obj["spec"]["deletionPolicy"] = {"onSuccess": "DeleteSelf"}
        obj["metadata"].setdefault("labels" if where == "label" else "annotations", {})[key] = "jobs"

    mutate.__name__ = f"delete-self-{where}-{key}"
    return mutate


# (name, plural, mutate, field): each makes the warning rule of that field fail.
TRACKING = [("annotation", key) for key in lifecycle.GITOPS_ANNOTATIONS] + [
    ("label", key) for key in lifecycle.GITOPS_LABELS
]
WARN_CASES: list[tuple[str, str, Callable[[dict], None], str]] = [
    ("job.yaml", "daskjobs", _delete_self(where, key), "spec.deletionPolicy") for where, key in TRACKING
]


def test_every_policy_rule_has_a_case() -> None:
    rules = sources.load_yaml(ROOT / "schemas" / "policies.yaml")
    assert sum(len(_rules(plural, "Deny")) for plural in rules) == len(CASES)
    warned = {(plural, field) for _, plural, _, field in WARN_CASES}
    assert {
        (plural, rule["message"].split(": ", 1)[0]) for plural in rules for rule in _rules(plural, "Warn")
    } == warned
    assert sum(len(r) for r in rules.values()) == len(CASES) + len(warned)


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
    (message,) = [r["message"] for r in _rules(plural, "Deny") if field in r["message"]]
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


@pytest.mark.parametrize(
    ("name", "plural", "mutate", "field"), WARN_CASES, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_a_warning_rule_admits_with_its_message_as_the_webhook_warns(
    k8s_cluster, namespace, policies, name, plural, mutate, field
) -> None:
    k8s_cluster.kubectl("label", "namespace", namespace, f"{LABEL}={policies}")
    (valid,) = example(name)
    warned = copy.deepcopy(valid)
    mutate(warned)
    (message,) = [r["message"] for r in _rules(plural, "Warn") if r["message"].startswith(field)]
    # Policies load asynchronously after they are created: wait for the warning.
    proc = wait_for(
        lambda: (lambda p: p if message in p.stderr else None)(_dry_run(k8s_cluster, namespace, warned)),
        timeout=60,
        what=f"the policy to warn about {field} on {name}",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning:" in proc.stderr, proc.stderr
    assert any(w.startswith(field) for w in registry.warnings(plural, warned))
    # Now that the policy is known to be loaded: without tracking metadata, or with a
    # policy that keeps the DaskJob, neither tier warns.
    untracked = copy.deepcopy(valid)
    untracked["spec"]["deletionPolicy"] = {"onSuccess": "DeleteSelf"}
    kept = copy.deepcopy(warned)
    kept["spec"]["deletionPolicy"] = {"onSuccess": "DeleteCluster", "onFailure": "DeleteWorkers"}
    for quiet in (untracked, kept):
        proc = _dry_run(k8s_cluster, namespace, quiet)
        assert proc.returncode == 0, proc.stderr
        assert message not in proc.stderr, proc.stderr
        assert not any(w.startswith(field) for w in registry.warnings(plural, quiet))
