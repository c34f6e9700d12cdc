"""Connect to the Kubernetes API from the cluster managers: in-cluster or kubeconfig.

Errors a user can fix (no kubeconfig, a broken one, an unknown context) become a
:class:`KubeConfigError` naming the file and the problem, not a traceback from the
client library.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException

from dask_kubernetes import yamlio

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeConfigError(RuntimeError):
    """The Kubernetes connection settings are missing or broken."""


def in_cluster() -> bool:
    """Tell whether this process runs in a Pod with a ServiceAccount token."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT / "token").exists()


async def api_client() -> client.ApiClient:
    """Return an API client configured from the Pod's ServiceAccount or from KUBECONFIG."""
    try:
        if in_cluster():
            config.load_incluster_config()
            return client.ApiClient()
        configuration = client.Configuration()
        # Read KUBECONFIG now: the client library reads it once, at import.
        path = _kubeconfig_path()
        _check_syntax(path)
        await config.load_kube_config(config_file=path, client_configuration=configuration)
        return client.ApiClient(configuration)
    except (ConfigException, OSError, ValueError, KeyError, TypeError, yamlio.YAMLError) as exc:
        where = os.environ.get("KUBECONFIG", "~/.kube/config")
        raise KubeConfigError(f"cannot use kubeconfig {where}: {exc}") from None


def current_namespace() -> str:
    """Return the namespace to use by default: the Pod's, the kubeconfig context's, or 'default'."""
    if in_cluster():
        return (SERVICE_ACCOUNT / "namespace").read_text().strip()
    try:
        path = _kubeconfig_path()
        _check_syntax(path)
        _, context = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError, KeyError, TypeError, yamlio.YAMLError):
        return "default"
    return str((context or {}).get("context", {}).get("namespace") or "default")


def _kubeconfig_path() -> str:
    """``KUBECONFIG`` (one path or several, joined by the OS path separator) or ``~/.kube/config``."""
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def _check_syntax(paths: str) -> None:
    """Parse each kubeconfig file with our YAML library first, so a broken one is named with its line.

    The client library parses them again to load them; a file that is missing is
    left to it (it skips missing entries of a KUBECONFIG list, as kubectl does).
    """
    for path in paths.split(os.pathsep):
        if path and os.path.isfile(path):
            yamlio.load(Path(path).read_text())
