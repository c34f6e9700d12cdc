"""A broken kubeconfig is named, with the problem, never a traceback from the client library."""

from __future__ import annotations

import asyncio

import pytest

from dask_kubernetes import kubeconfig


def test_a_kubeconfig_with_broken_yaml_is_named_with_its_line(tmp_path, monkeypatch):
    broken = tmp_path / "config"
    broken.write_text("apiVersion: v1\nclusters: [\n  - name: x\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(kubeconfig.KubeConfigError) as info:
        asyncio.run(kubeconfig.api_client())
    assert str(broken) in str(info.value) and "line" in str(info.value)


def test_the_namespace_of_a_broken_kubeconfig_is_the_default(tmp_path, monkeypatch):
    broken = tmp_path / "config"
    broken.write_text("contexts: [\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert kubeconfig.current_namespace() == "default"


def test_the_namespace_comes_from_the_current_context(tmp_path, monkeypatch):
    good = tmp_path / "config"
    good.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: team-a}\n"
        "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
        "users:\n- name: u\n  user: {token: t}\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(good))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert kubeconfig.current_namespace() == "team-a"
