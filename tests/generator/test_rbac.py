"""Least privilege in the one RBAC declaration."""

from __future__ import annotations

from dask_kubernetes_dev.generator import sources
from tests.conftest import ROOT


def _rules(component):
    rbac = sources.load_yaml(ROOT / "schemas" / "rbac.yaml")
    return [rule for rules in rbac[component].values() for rule in rules]


def test_operator_cannot_touch_secrets_or_use_wildcards():
    for rule in _rules("operator"):
        assert "secrets" not in rule["resources"]
        assert "*" not in rule["resources"] and "*" not in rule["verbs"] and "*" not in rule["apiGroups"]


def test_operator_can_manage_every_child_it_creates():
    granted = {
        (g, r, v)
        for rule in _rules("operator")
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    for resource in ("pods", "services"):
        for verb in ("create", "delete", "list", "watch", "patch"):
            assert ("", resource, verb) in granted
    for plural in ("daskclusters", "daskworkergroups", "daskjobs", "daskautoscalers"):
        assert ("kubernetes.dask.org", f"{plural}/status", "patch") in granted


def test_webhook_reads_secrets_only_in_its_own_namespace():
    rbac = sources.load_yaml(ROOT / "schemas" / "rbac.yaml")
    for scope, rules in rbac["webhook"].items():
        for rule in rules:
            if "secrets" in rule["resources"]:
                assert scope == "ownNamespace"
                assert "list" not in rule["verbs"] and "watch" not in rule["verbs"]
