"""Pure container environment and command-line resolution (node agent, test infrastructure only).

Kubernetes defines how ``env``, ``envFrom``, ``valueFrom`` and ``$(VAR)`` references
combine; the Dask cluster managers depend on it (``--name $(DASK_WORKER_NAME)``).  These
functions follow the kubelet's rules so Pods behave here as on a real node.  Objects
referenced by ``configMapKeyRef``/``secretKeyRef``/``envFrom`` are fetched by the caller
and passed in (``None`` meaning "not found"), which keeps everything here pure.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

FIELD_LABEL = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")


class EnvError(Exception):
    """A referenced ConfigMap, Secret or key is missing; the kubelet says CreateContainerConfigError."""


def expand(text: str, mapping: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` like Kubernetes: ``$$`` escapes, undefined references stay literal."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != "$" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2 : close]
                out.append(mapping[name] if name in mapping else f"$({name})")
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def field_ref(pod: Mapping[str, Any], path: str, *, pod_ip: str | None, host_ip: str) -> str:
    """Resolve a downward-API ``fieldPath`` against the Pod."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName") or "default",
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip or "",
        "status.podIPs": pod_ip or "",
    }
    if path in simple:
        return str(simple[path] or "")
    if path in ("metadata.labels", "metadata.annotations"):
        return format_map(meta.get(path.split(".")[1]) or {})
    match = FIELD_LABEL.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise EnvError(f"unsupported fieldPath {path!r}")


def format_map(values: Mapping[str, str]) -> str:
    """Render labels or annotations as the downward API does: ``key="value"`` lines, sorted."""
    return "\n".join(f"{key}={_go_quote(values[key])}" for key in sorted(values))


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def resource_field(
    container: Mapping[str, Any] | None,
    resource: str,
    divisor: str | None,
    allocatable: Mapping[str, str],
) -> str:
    """Resolve a ``resourceFieldRef``; an unset limit falls back to the node's allocatable."""
    resources = (container or {}).get("resources") or {}
    kind, _, name = resource.partition(".")
    value = (resources.get(kind) or {}).get(name)
    if value is None and kind == "limits":
        value = allocatable.get(name)
    if value is None and kind == "requests":
        value = (resources.get("limits") or {}).get(name, "0")
    amount = Decimal(parse_quantity(str(value)))
    unit = Decimal(parse_quantity(str(divisor or "1")))
    return str(math.ceil(amount / unit)) if unit else "0"


def _decode_secret(value: str) -> str:
    return base64.b64decode(value).decode("utf-8", errors="replace")


def _object_data(obj: Mapping[str, Any], secret: bool) -> dict[str, str]:
    data = dict(obj.get("data") or {})
    if secret:
        return {key: _decode_secret(value) for key, value in data.items()}
    return {key: str(value) for key, value in data.items()}


def _key_ref(
    ref: Mapping[str, Any], objects: Mapping[str, Mapping[str, Any] | None], kind: str, secret: bool
) -> str | None:
    name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    obj = objects.get(name)
    if obj is None:
        if optional:
            return None
        raise EnvError(f'{kind} "{name}" not found')
    data = _object_data(obj, secret)
    if key not in data:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {name}")
    return data[key]


def container_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    configmaps: Mapping[str, Mapping[str, Any] | None],
    secrets: Mapping[str, Mapping[str, Any] | None],
    service_env: Mapping[str, str],
    pod_ip: str | None,
    host_ip: str,
    allocatable: Mapping[str, str],
) -> dict[str, str]:
    """The variables Kubernetes defines for ``container``, in the kubelet's order.

    Service variables come first, then ``envFrom``, then ``env``; each ``env`` value may
    refer to the variables defined before it.  The result excludes the image's own
    environment (PATH and so on), which the caller layers underneath.
    """
    defined: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        if "configMapRef" in source:
            ref, objects, kind, secret = source["configMapRef"], configmaps, "configmap", False
        elif "secretRef" in source:
            ref, objects, kind, secret = source["secretRef"], secrets, "secret", True
        else:
            continue
        obj = objects.get(ref.get("name", ""))
        if obj is None:
            if ref.get("optional"):
                continue
            raise EnvError(f'{kind} "{ref.get("name")}" not found')
        for key, data in _object_data(obj, secret).items():
            if "=" not in key:
                defined[prefix + key] = data
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var:
            scope = {**service_env, **defined}
            defined[name] = expand(str(var.get("value") or ""), scope)
            continue
        source = var["valueFrom"]
        value: str | None
        if "fieldRef" in source:
            value = field_ref(pod, source["fieldRef"]["fieldPath"], pod_ip=pod_ip, host_ip=host_ip)
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            target = _find_container(pod, ref.get("containerName")) or container
            value = resource_field(target, ref["resource"], ref.get("divisor"), allocatable)
        elif "configMapKeyRef" in source:
            value = _key_ref(source["configMapKeyRef"], configmaps, "configmap", False)
        elif "secretKeyRef" in source:
            value = _key_ref(source["secretKeyRef"], secrets, "secret", True)
        else:
            raise EnvError(f"unsupported valueFrom in env {name}")
        if value is not None:
            defined[name] = value
    return {**service_env, **defined}


def _find_container(pod: Mapping[str, Any], name: str | None) -> Mapping[str, Any] | None:
    if not name:
        return None
    spec = pod.get("spec") or {}
    containers: list[Mapping[str, Any]] = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    return next((c for c in containers if c.get("name") == name), None)


def command_line(container: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """``command + args`` (or ``args`` alone: images are not pulled) with ``$(VAR)`` expanded."""
    command = list(container.get("command") or []) + list(container.get("args") or [])
    if not command:
        raise EnvError(
            f"container {container.get('name')!r} has neither command nor args, and images are not run here"
        )
    return [expand(str(part), env) for part in command]


def service_env(host: str, port: int) -> dict[str, str]:
    """The variables for the ``kubernetes`` Service that every container gets."""
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": str(port),
        "KUBERNETES_SERVICE_PORT_HTTPS": str(port),
        "KUBERNETES_PORT": f"tcp://{host}:{port}",
        f"KUBERNETES_PORT_{port}_TCP": f"tcp://{host}:{port}",
        f"KUBERNETES_PORT_{port}_TCP_PROTO": "tcp",
        f"KUBERNETES_PORT_{port}_TCP_PORT": str(port),
        f"KUBERNETES_PORT_{port}_TCP_ADDR": host,
    }


def image_env(
    agent_env: Mapping[str, str], python_bin: str, hostname: str, shim_bin: str | None = None
) -> dict[str, str]:
    """The stand-in for an image's environment: the agent's PATH with the venv's bin first.

    ``shim_bin`` (see :mod:`.image`) comes right after it.  Only a few variables pass
    through, so the agent's KUBECONFIG or Dask settings never leak into Pods, which
    must find the API server the in-cluster way.  PYTHONPATH passes too: it is part
    of which code this Python environment runs, so a checkout's Pods run its code.
    """
    first = [python_bin] + ([shim_bin] if shim_bin else [])
    rest = [p for p in agent_env.get("PATH", "/usr/bin:/bin").split(":") if p and p not in first]
    env = {"PATH": ":".join(first + rest), "HOME": agent_env.get("HOME") or "/root", "HOSTNAME": hostname}
    for key in ("LANG", "LC_ALL", "TZ", "PYTHONPATH"):
        if key in agent_env:
            env[key] = agent_env[key]
    return env


def referenced_names(containers: Sequence[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """ConfigMap and Secret names the containers' environment refers to, to fetch beforehand."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    for container in containers:
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                configmaps.add(source["configMapRef"].get("name", ""))
            if "secretRef" in source:
                secrets.add(source["secretRef"].get("name", ""))
        for var in container.get("env") or []:
            source = var.get("valueFrom") or {}
            if "configMapKeyRef" in source:
                configmaps.add(source["configMapKeyRef"].get("name", ""))
            if "secretKeyRef" in source:
                secrets.add(source["secretKeyRef"].get("name", ""))
    return configmaps, secrets
