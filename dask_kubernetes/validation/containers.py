"""One container of a PodSpec, checked as Kubernetes v1.36's Pod validation does.

Covers what the API server checks without looking anything up: ports, environment
variables, volume mounts, resources, probes and lifecycle hooks.  Every error is in
the API server's words (see :mod:`.k8sfield`); :mod:`.podspec` calls this for each
container and adds the checks that span the whole Pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import k8sfield as kf
from dask_kubernetes.validation import quantity
from dask_kubernetes.validation.errors import FieldError

PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
CONTAINER_RESTART_POLICIES = ("Always", "Never", "OnFailure")
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
HTTP_SCHEMES = ("HTTP", "HTTPS")
ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
PROBE_COUNTS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)
STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage", "storage")
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
DEFAULT_GRACE_PERIOD = 30
_QUANTITY_HINT = "must be a Kubernetes quantity such as 500m, 2 or 4Gi"


def mapping_items(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The mapping items of a list, with their indexes (anything else is the schema's business)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def ports(container: Mapping[str, Any], path: str) -> list[FieldError]:
    """Port numbers in range, names that are unique IANA_SVC_NAMEs, and a known protocol."""
    errors: list[FieldError] = []
    names: set[str] = set()
    for i, port in mapping_items(container.get("ports")):
        where = f"{path}.ports[{i}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            errors += kf.each(f"{where}.name", name, kf.port_name(name))
            if name in names:
                errors.append(kf.duplicate(f"{where}.name", name))
            names.add(name)
        errors += kf.port_number(f"{where}.containerPort", port.get("containerPort"))
        errors += kf.port_number(f"{where}.hostPort", port.get("hostPort"), required_value=False)
        errors += kf.one_of(f"{where}.protocol", port.get("protocol"), PROTOCOLS)
    return errors


def _env_source(source: Mapping[str, Any], path: str) -> list[FieldError]:
    chosen = [key for key in ENV_SOURCES if source.get(key) is not None]
    if not chosen:
        listed = ", ".join(f"`{key}`" for key in ENV_SOURCES[:-1]) + f" or `{ENV_SOURCES[-1]}`"
        return [kf.invalid(path, "", f"must specify one of: {listed}")]
    if len(chosen) > 1:
        return [kf.invalid(path, "", "may not have more than one field specified at a time")]
    ref = source[chosen[0]]
    if chosen[0] in ("configMapKeyRef", "secretKeyRef") and isinstance(ref, Mapping):
        key = ref.get("key")
        if not key:
            return [kf.required(f"{path}.{chosen[0]}.key")]
        return kf.each(f"{path}.{chosen[0]}.key", key, kf.config_map_key(str(key)))
    return []


def env(container: Mapping[str, Any], path: str) -> list[FieldError]:
    """Environment variable names (the relaxed v1.36 rule) and their single value source."""
    errors: list[FieldError] = []
    for i, var in mapping_items(container.get("env")):
        where = f"{path}.env[{i}]"
        errors += kf.required_name(f"{where}.name", var.get("name"), kf.env_var_name)
        source = var.get("valueFrom")
        if isinstance(source, Mapping):
            if var.get("value"):
                errors.append(
                    kf.invalid(f"{where}.valueFrom", "", "may not be specified when `value` is not empty")
                )
            else:
                errors += _env_source(source, f"{where}.valueFrom")
    for i, source in mapping_items(container.get("envFrom")):
        prefix = source.get("prefix")
        if isinstance(prefix, str) and prefix:
            errors += kf.each(f"{path}.envFrom[{i}].prefix", prefix, kf.env_var_name(prefix))
        refs = [key for key in ("configMapRef", "secretRef") if source.get(key) is not None]
        if not refs:
            errors.append(
                kf.invalid(f"{path}.envFrom", "", "must specify one of: `configMapRef` or `secretRef`")
            )
        elif len(refs) > 1:
            errors.append(
                kf.invalid(f"{path}.envFrom", "", "may not have more than one field specified at a time")
            )
    return errors


def _sub_path(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, str) or not value:
        return []
    if value.startswith("/"):
        return [kf.invalid(path, value, "must be a relative path")]
    if ".." in value.split("/"):
        return [kf.invalid(path, value, "must not contain '..'")]
    return []


def volume_mounts(container: Mapping[str, Any], path: str, volumes: set[str]) -> list[FieldError]:
    """Each mount names a volume the Pod defines, at a unique path, with a relative subPath."""
    errors: list[FieldError] = []
    mount_paths: set[str] = set()
    for i, mount in mapping_items(container.get("volumeMounts")):
        where = f"{path}.volumeMounts[{i}]"
        name = mount.get("name")
        if not name:
            errors.append(kf.required(f"{where}.name"))
        if name not in volumes:
            errors.append(kf.not_found(f"{where}.name", name or ""))
        mount_path = mount.get("mountPath")
        if not mount_path:
            errors.append(kf.required(f"{where}.mountPath"))
        elif mount_path in mount_paths:
            errors.append(kf.invalid(f"{where}.mountPath", mount_path, "must be unique"))
        else:
            mount_paths.add(mount_path)
        errors += _sub_path(mount.get("subPath"), f"{where}.subPath")
        if mount.get("subPath") and mount.get("subPathExpr"):
            errors.append(
                kf.invalid(
                    f"{where}.subPathExpr",
                    mount["subPathExpr"],
                    "subPathExpr and subPath are mutually exclusive",
                )
            )
        errors += kf.one_of(f"{where}.mountPropagation", mount.get("mountPropagation"), MOUNT_PROPAGATIONS)
    return errors


def _extended(name: str) -> bool:
    """An extended resource (``example.com/gpu``): integers only, and requests equal limits."""
    return (
        "/" in name and not name.split("/")[0].endswith("kubernetes.io") and not name.startswith("hugepages-")
    )


def _quantities(values: Any, path: str) -> tuple[dict[str, tuple[Any, Any]], list[FieldError]]:
    """Parse a requests or limits map into ``{name: (value, as written)}``, checking each entry."""
    if not isinstance(values, Mapping):
        return {}, []
    parsed, errors = {}, []
    for name, raw in values.items():
        where = f"{path}[{name}]"
        name = str(name)
        if "/" in name:
            errors += kf.each(where, name, kf.qualified_name(name))
        elif not name.startswith("hugepages-"):
            if name not in STANDARD_RESOURCES:
                errors.append(kf.invalid(where, name, "must be a standard resource type or fully qualified"))
            if name not in CONTAINER_RESOURCES:
                errors.append(kf.invalid(where, name, "must be a standard resource for containers"))
        value = quantity.parse(raw)
        if value is None:
            errors.append(FieldError(where, f"{_QUANTITY_HINT}, got {raw!r}"))
            continue
        written = str(raw)
        if value < 0:
            errors.append(kf.invalid(where, written, "must be greater than or equal to 0"))
        elif _extended(name) and value != value.to_integral_value():
            errors.append(kf.invalid(where, written, "must be an integer"))
        parsed[name] = (value, written)
    return parsed, errors


def resources(container: Mapping[str, Any], path: str) -> list[FieldError]:
    """Valid, non-negative quantities, and no request above its limit (equal for extended resources)."""
    section = container.get("resources")
    if not isinstance(section, Mapping):
        return []
    where = f"{path}.resources"
    requests, errors = _quantities(section.get("requests"), f"{where}.requests")
    limits, limit_errors = _quantities(section.get("limits"), f"{where}.limits")
    errors += limit_errors
    if any(name.startswith("hugepages-") for name in (*requests, *limits)) and not any(
        name in ("cpu", "memory") for name in (*requests, *limits)
    ):
        errors.append(kf.forbidden(where, "HugePages require cpu or memory"))
    for name, (request, written) in requests.items():
        field = f"{where}.requests[{name}]"
        if name in limits:
            limit, limit_written = limits[name]
            if _extended(name) and request != limit:
                errors.append(kf.invalid(field, written, f"must be equal to {name} limit of {limit_written}"))
            elif request > limit:
                errors.append(
                    kf.invalid(
                        field, written, f"must be less than or equal to {name} limit of {limit_written}"
                    )
                )
        elif _extended(name):
            errors.append(
                kf.required(f"{where}.limits", "Limit must be set for non overcommitable resources")
            )
    return errors


def _handler(
    handler: Mapping[str, Any], path: str, names: tuple[str, ...], grace: int = DEFAULT_GRACE_PERIOD
) -> list[FieldError]:
    """Exactly one handler, with a valid port and scheme where it has them."""
    chosen = [name for name in names if handler.get(name) is not None]
    if not chosen:
        return [kf.required(path, "must specify a handler type")]
    if len(chosen) > 1:
        return [kf.forbidden(f"{path}.{chosen[1]}", "may not specify more than 1 handler type")]
    kind = chosen[0]
    body = handler[kind]
    if not isinstance(body, Mapping):
        return []
    errors: list[FieldError] = []
    if kind in ("httpGet", "tcpSocket"):
        errors += kf.int_or_port_name(f"{path}.{kind}.port", body.get("port"))
    if kind == "httpGet":
        errors += kf.one_of(f"{path}.httpGet.scheme", body.get("scheme"), HTTP_SCHEMES)
    if kind == "grpc":
        port = body.get("port")
        if not kf.is_int(port) or not 1 <= port <= 65535:
            errors.append(kf.invalid(f"{path}.grpc.port", port, kf.PORT_RANGE_MSG))
    if kind == "sleep":
        seconds = body.get("seconds")
        if kf.is_int(seconds) and not 0 <= seconds <= grace:
            detail = f"must be non-negative and less than terminationGracePeriodSeconds ({grace})"
            errors.append(kf.invalid(f"{path}.sleep", seconds, detail))
    return errors


def probes(container: Mapping[str, Any], path: str, grace: int = DEFAULT_GRACE_PERIOD) -> list[FieldError]:
    """Liveness, readiness and startup probes: one handler, counts that make sense."""
    errors: list[FieldError] = []
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(name)
        if not isinstance(probe, Mapping):
            continue
        where = f"{path}.{name}"
        errors += _handler(probe, where, PROBE_HANDLERS)
        for count in PROBE_COUNTS:
            errors += kf.non_negative(f"{where}.{count}", probe.get(count))
        success = probe.get("successThreshold")
        if name != "readinessProbe" and kf.is_int(success) and success > 1:
            errors.append(kf.invalid(f"{where}.successThreshold", success, "must be 1"))
        probe_grace = probe.get("terminationGracePeriodSeconds")
        if kf.is_int(probe_grace) and probe_grace <= 0:
            errors.append(
                kf.invalid(f"{where}.terminationGracePeriodSeconds", probe_grace, "must be greater than 0")
            )
    hooks = container.get("lifecycle")
    if isinstance(hooks, Mapping):
        for name in ("postStart", "preStop"):
            if isinstance(hooks.get(name), Mapping):
                errors += _handler(hooks[name], f"{path}.lifecycle.{name}", HOOK_HANDLERS, grace)
    return errors


def validate_container(
    container: Mapping[str, Any], path: str, volumes: set[str], grace: int = DEFAULT_GRACE_PERIOD
) -> list[FieldError]:
    """Everything Kubernetes checks statically on one container, except its name's uniqueness.

    ``volumes`` are the names mounts may refer to; ``grace`` is the Pod's
    terminationGracePeriodSeconds, which bounds a ``sleep`` hook.
    """
    errors = kf.required_name(f"{path}.name", container.get("name"), kf.dns1123_label)
    image = container.get("image")
    if not isinstance(image, str) or not image:
        errors.append(kf.required(f"{path}.image"))
    elif image != image.strip():
        errors.append(kf.invalid(f"{path}.image", image, "must not have leading or trailing whitespace"))
    errors += kf.one_of(f"{path}.imagePullPolicy", container.get("imagePullPolicy"), PULL_POLICIES)
    errors += kf.one_of(
        f"{path}.terminationMessagePolicy",
        container.get("terminationMessagePolicy"),
        TERMINATION_MESSAGE_POLICIES,
    )
    errors += kf.one_of(f"{path}.restartPolicy", container.get("restartPolicy"), CONTAINER_RESTART_POLICIES)
    errors += ports(container, path)
    errors += env(container, path)
    errors += volume_mounts(container, path, volumes)
    errors += resources(container, path)
    errors += probes(container, path, grace)
    return errors
