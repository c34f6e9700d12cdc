"""A PodSpec checked as Kubernetes v1.36 validates a Pod, before any Pod exists.

The CRD schema only checks a PodSpec's shape: ``containerPort: 99999``, an env var
named ``1 bad=x`` or a mount of an undefined volume pass it, and the API server
refuses only the Pods the operator builds later, where the user never sees why.
:func:`validate_pod_spec` repeats the checks the API server makes without looking
anything up (the ServiceAccount's existence, Pod Security and quotas need the API
server itself), with the same field paths and words.  The webhook applies it to
every PodSpec of the four kinds; the operator may call it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import containers, quantity
from dask_kubernetes.validation import k8sfield as kf
from dask_kubernetes.validation.errors import FieldError

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_INT32 = 2147483647
# Volume sources whose one required field names what they mount.
_REQUIRED_SOURCE_FIELDS = {
    "configMap": "name",
    "secret": "secretName",
    "persistentVolumeClaim": "claimName",
    "hostPath": "path",
}
_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"


def _volume_source(volume: Mapping[str, Any], where: str) -> list[FieldError]:
    sources = [key for key, value in volume.items() if key != "name" and value is not None]
    if len(sources) > 1:
        # The API server names the second source it finds, in its own field order.
        return [kf.forbidden(f"{where}.{sources[1]}", "may not specify more than 1 volume type")]
    if not sources or not isinstance(volume[sources[0]], Mapping):
        return []  # no source at all is defaulted to an emptyDir
    kind, body = sources[0], volume[sources[0]]
    errors: list[FieldError] = []
    field = _REQUIRED_SOURCE_FIELDS.get(kind)
    if field and not body.get(field):
        errors.append(kf.required(f"{where}.{kind}.{field}"))
    mode = body.get("defaultMode")
    if kf.is_int(mode) and not 0 <= mode <= 0o777:
        errors.append(kf.invalid(f"{where}.{kind}.defaultMode", mode, _MODE_MSG))
    if kind == "emptyDir" and body.get("sizeLimit") is not None:
        size = quantity.parse(body["sizeLimit"])
        if size is None or size < 0:
            errors.append(
                kf.forbidden(
                    f"{where}.emptyDir.sizeLimit", "SizeLimit field must be a valid resource quantity"
                )
            )
    return errors


def volumes(spec: Mapping[str, Any], path: str) -> tuple[set[str], list[FieldError]]:
    """Check ``volumes``: unique DNS-1123 names and one well-formed source each.

    Returns the names mounts may refer to: like the API server, a volume with errors
    of its own is left out, so its mounts read as not found.
    """
    names: set[str] = set()
    errors: list[FieldError] = []
    for i, volume in containers.mapping_items(spec.get("volumes")):
        where = f"{path}.volumes[{i}]"
        name = volume.get("name")
        own = kf.required_name(f"{where}.name", name, kf.dns1123_label)
        if isinstance(name, str) and name in names:
            own.append(kf.duplicate(f"{where}.name", name))
        own += _volume_source(volume, where)
        if not own and isinstance(name, str):
            names.add(name)
        errors += own
    return names, errors


def _host_ports(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """No two containers bind one host port, protocol and address; hostNetwork wants equal ports."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    host_network = spec.get("hostNetwork") is True
    for field in ("containers", "initContainers"):
        for c, container in containers.mapping_items(spec.get(field)):
            for p, port in containers.mapping_items(container.get("ports")):
                where = f"{path}.{field}[{c}].ports[{p}]"
                host, number = port.get("hostPort"), port.get("containerPort")
                if host_network and kf.is_int(host) and host and host != number:
                    errors.append(
                        kf.invalid(
                            f"{where}.hostPort", host, "must match `containerPort` when `hostNetwork` is true"
                        )
                    )
                if not kf.is_int(host) or not host:
                    continue
                key = f"{port.get('protocol') or 'TCP'}/{port.get('hostIP') or ''}/{host}"
                if key in seen:
                    errors.append(kf.duplicate(f"{where}.hostPort", key))
                seen.add(key)
    return errors


def _tolerations(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, toleration in containers.mapping_items(spec.get("tolerations")):
        where = f"{path}.tolerations[{i}]"
        operator, key = toleration.get("operator"), toleration.get("key")
        if not key and operator not in (None, "Exists"):
            errors.append(
                kf.invalid(
                    f"{where}.operator",
                    operator,
                    "operator must be Exists when `key` is empty, "
                    'which means "match all values and all keys"',
                )
            )
        if operator == "Exists" and toleration.get("value"):
            errors.append(
                kf.invalid(
                    f"{where}.operator",
                    toleration["value"],
                    "value must be empty when `operator` is 'Exists'",
                )
            )
        errors += kf.one_of(f"{where}.operator", operator, TOLERATION_OPERATORS)
        if toleration.get("effect"):
            errors += kf.one_of(f"{where}.effect", toleration["effect"], TAINT_EFFECTS)
    return errors


def _pod_fields(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = kf.one_of(f"{path}.restartPolicy", spec.get("restartPolicy"), RESTART_POLICIES)
    errors += kf.one_of(f"{path}.dnsPolicy", spec.get("dnsPolicy"), DNS_POLICIES)
    deadline = spec.get("activeDeadlineSeconds")
    if kf.is_int(deadline) and not 1 <= deadline <= MAX_INT32:
        errors.append(
            kf.invalid(
                f"{path}.activeDeadlineSeconds", deadline, f"must be between 1 and {MAX_INT32}, inclusive"
            )
        )
    for field, check in (
        ("serviceAccountName", kf.dns1123_subdomain),
        ("hostname", kf.dns1123_label),
        ("subdomain", kf.dns1123_label),
    ):
        value = spec.get(field)
        if isinstance(value, str) and value:
            errors += kf.each(f"{path}.{field}", value, check(value))
    return errors + _tolerations(spec, path)


def validate_pod_spec(spec: Any, path: str) -> list[FieldError]:
    """Return what the API server would refuse in a Pod with this ``spec``; [] when it would accept it.

    ``path`` names where the PodSpec sits (``spec.worker.spec``), so every error names
    the field in the user's own manifest, for example
    ``spec.worker.spec.containers[0].ports[0].containerPort``.  Pure: no lookups.
    """
    if not isinstance(spec, Mapping):
        return [kf.required(path)]
    names, errors = volumes(spec, path)
    if not containers.mapping_items(spec.get("containers")):
        errors.append(kf.required(f"{path}.containers"))
    seen: set[str] = set()
    grace = spec.get("terminationGracePeriodSeconds")
    if not kf.is_int(grace) or grace < 0:
        grace = containers.DEFAULT_GRACE_PERIOD
    for field in ("initContainers", "containers"):
        for i, container in containers.mapping_items(spec.get(field)):
            where = f"{path}.{field}[{i}]"
            errors += containers.validate_container(container, where, names, grace)
            name = container.get("name")
            if isinstance(name, str) and name:
                if name in seen:
                    errors.append(kf.duplicate(f"{where}.name", name))
                seen.add(name)
    return errors + _host_ports(spec, path) + _pod_fields(spec, path)
