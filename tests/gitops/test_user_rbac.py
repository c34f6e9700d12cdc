"""Who may use Dask resources: the built-in edit/view roles, and Kubeflow's profile accounts.

Checked with ``kubectl auth can-i`` against the real API server, whose clusterrole
aggregation controller merges our labelled ClusterRoles into the aggregating ones.
"""

from __future__ import annotations

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import install
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import ROOT

pytestmark = pytest.mark.cluster

CORE = ("pods", "services")
DATA = ROOT / "tests" / "gitops" / "data"
EDIT = [
    ("create", "daskclusters"),
    ("update", "daskworkergroups/scale"),
    ("create", "daskjobs"),
    ("delete", "daskautoscalers"),
]


def can_i(k, who: str, verb: str, resource: str) -> bool:
    resource, _, sub = resource.partition("/")
    qualified = resource if resource in CORE else f"{resource}.kubernetes.dask.org"
    args = ["auth", "can-i", verb, qualified, "--as", who]
    if sub:
        args.append(f"--subresource={sub}")
    proc = k(*args, check=False)
    return proc.stdout.strip() == "yes"


def eventually(k, who: str, verb: str, resource: str, expected: bool) -> None:
    """Aggregation is asynchronous: wait until the answer is the expected one."""
    wait_for(
        lambda: can_i(k, who, verb, resource) == expected,
        timeout=60,
        what=f"can-i {verb} {resource} as {who} to be {expected}",
    )


def _bind(k, name: str, role: str, user: str) -> None:
    k("create", "rolebinding", name, f"--clusterrole={role}", f"--user={user}")


def test_builtin_edit_may_create_and_scale_view_may_only_read(k):
    _bind(k, "alice-edit", "edit", "alice")
    _bind(k, "bob-view", "view", "bob")
    for verb, resource in EDIT:
        eventually(k, "alice", verb, resource, True)
    eventually(k, "bob", "get", "daskclusters", True)
    eventually(k, "bob", "list", "daskjobs", True)
    for verb, resource in EDIT:
        assert not can_i(k, "bob", verb, resource)
    assert not can_i(k, "carol", "get", "daskclusters")


def _profile(k) -> tuple[str, str]:
    docs = yamlio.load_all((DATA / "kubeflow-profile.yaml").read_text())
    for doc in docs:
        for subject in doc.get("subjects", []):
            subject["namespace"] = k.namespace
    k.apply(docs)
    return (
        f"system:serviceaccount:{k.namespace}:default-editor",
        f"system:serviceaccount:{k.namespace}:default-viewer",
    )


def test_kubeflow_recipe_and_aggregation(k):
    k.target.kubectl("apply", "-f", str(DATA / "kubeflow-roles.yaml"))
    editor, viewer = _profile(k)
    eventually(k, editor, "create", "pods", True)
    # The chart's default leaves Kubeflow alone: a notebook cannot create a DaskCluster.
    assert not can_i(k, editor, "create", "daskclusters")

    # The documented recipe for installs without aggregation: patch kubeflow-kubernetes-edit.
    patch = ROOT / "overlays" / "kubeflow" / "kubeflow-kubernetes-edit-patch.yaml"
    k.target.kubectl(
        "patch", "clusterrole", "kubeflow-kubernetes-edit", "--type=json", "--patch-file", str(patch)
    )
    for verb, resource in EDIT:
        eventually(k, editor, verb, resource, True)
    # Undo it: back to Kubeflow's role as defined.
    k.target.kubectl("apply", "-f", str(DATA / "kubeflow-roles.yaml"))
    eventually(k, editor, "create", "daskclusters", False)

    # The chart's Kubeflow aggregation (what overlays/kubeflow applies).
    rendered = install.render_chart(
        "dask-operator", ["webhook.enabled=false", "rbac.aggregate.kubeflow=true"]
    )
    roles = [
        o
        for o in yamlio.load_all(rendered)
        if o["kind"] == "ClusterRole" and o["metadata"]["name"].endswith(("-edit", "-view"))
    ]
    assert len(roles) == 2
    k.target.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=yamlio.dump_all(roles))
    try:
        for verb, resource in EDIT:
            eventually(k, editor, verb, resource, True)
        eventually(k, viewer, "get", "daskclusters", True)
        eventually(k, viewer, "watch", "daskworkergroups", True)
        for verb, resource in EDIT:
            assert not can_i(k, viewer, verb, resource)
    finally:
        plain = install.render_chart("dask-operator", ["webhook.enabled=false"])
        defaults = [
            o
            for o in yamlio.load_all(plain)
            if o["metadata"]["name"] in {r["metadata"]["name"] for r in roles}
        ]
        k.target.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", "-", input=yamlio.dump_all(defaults)
        )
