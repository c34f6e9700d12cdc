"""PodSpecs the API server refuses or accepts, with the errors it names.

One table for two tests: the unit test checks :func:`validate_pod_spec` against the
expected errors, and the ``cluster`` test asks the real API server (a server-side
dry-run create of a Pod with the same spec) whether it agrees.  Each expected error
is ``(path below the PodSpec, message)``, the message in the API server's words.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

IMAGE = "ghcr.io/dask/dask:2026.8.0"


def base() -> dict[str, Any]:
    """A PodSpec the API server accepts."""
    return {"containers": [{"name": "worker", "image": IMAGE}]}


def _container(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["containers"][0].update(copy.deepcopy(fields))

    return change


def _pod(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec.update(copy.deepcopy(fields))

    return change


def _second_container(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["containers"].append({"name": "other", "image": IMAGE, **copy.deepcopy(fields)})

    return change


C = "containers[0]"
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
ENV = "a valid environment variable name must consist only of printable ASCII characters other than '='"
RANGE = "must be between 1 and 65535, inclusive"
CM_VOLUME = {"name": "config", "configMap": {"name": "settings"}}

# id -> (change to the base PodSpec, expected errors; [] means the API server accepts it)
CASES: dict[str, tuple[Callable[[dict[str, Any]], None], list[tuple[str, str]]]] = {
    "valid-minimal": (lambda spec: None, []),
    "valid-everything": (
        _pod(
            restartPolicy="OnFailure",
            dnsPolicy="ClusterFirst",
            activeDeadlineSeconds=600,
            volumes=[CM_VOLUME, {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
            tolerations=[{"key": "dedicated", "operator": "Equal", "value": "dask", "effect": "NoSchedule"}],
            containers=[
                {
                    "name": "worker",
                    "image": IMAGE,
                    "ports": [{"name": "http-dashboard", "containerPort": 8787, "protocol": "TCP"}],
                    "env": [{"name": "1 relaxed name", "value": "ok"}, {"name": "DASK_X", "value": "1"}],
                    "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/dask", "subPath": "dask.yaml"},
                        {"name": "scratch", "mountPath": "/scratch"},
                    ],
                    "resources": {
                        "requests": {"cpu": "500m", "memory": "1Gi", "example.com/gpu": "1"},
                        "limits": {"cpu": "1", "memory": "2Gi", "example.com/gpu": "1"},
                    },
                    "livenessProbe": {"httpGet": {"port": "http-dashboard", "path": "/health"}},
                    "readinessProbe": {"tcpSocket": {"port": 8787}, "successThreshold": 2},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 1}}},
                }
            ],
        ),
        [],
    ),
    "container-port-above-range": (
        _container(ports=[{"containerPort": 99999}]),
        [(f"{C}.ports[0].containerPort", f"Invalid value: 99999: {RANGE}")],
    ),
    "container-port-zero": (
        _container(ports=[{"containerPort": 0}]),
        [(f"{C}.ports[0].containerPort", "Required value")],
    ),
    "host-port-above-range": (
        _container(ports=[{"containerPort": 80, "hostPort": 70000}]),
        [(f"{C}.ports[0].hostPort", f"Invalid value: 70000: {RANGE}")],
    ),
    "port-name-uppercase": (
        _container(ports=[{"containerPort": 80, "name": "HTTP"}]),
        [
            (
                f"{C}.ports[0].name",
                'Invalid value: "HTTP": '
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            ),
            (f"{C}.ports[0].name", 'Invalid value: "HTTP": must contain at least one letter (a-z)'),
        ],
    ),
    "port-name-too-long": (
        _container(ports=[{"containerPort": 80, "name": "abcdefghijklmnop"}]),
        [(f"{C}.ports[0].name", 'Invalid value: "abcdefghijklmnop": must be no more than 15 characters')],
    ),
    "port-name-duplicate": (
        _container(ports=[{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}]),
        [(f"{C}.ports[1].name", 'Duplicate value: "http"')],
    ),
    "port-protocol-unknown": (
        _container(ports=[{"containerPort": 80, "protocol": "QUIC"}]),
        [(f"{C}.ports[0].protocol", 'Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"')],
    ),
    "host-port-twice": (
        lambda spec: (
            _container(ports=[{"containerPort": 80, "hostPort": 8080}])(spec),
            _second_container(ports=[{"containerPort": 81, "hostPort": 8080}])(spec),
        ),
        [("containers[1].ports[0].hostPort", 'Duplicate value: "TCP//8080"')],
    ),
    "env-name-with-equals": (
        _container(env=[{"name": "1 bad=x", "value": "1"}]),
        [(f"{C}.env[0].name", f'Invalid value: "1 bad=x": {ENV}')],
    ),
    "env-name-not-ascii": (
        _container(env=[{"name": "CAFÉ", "value": "1"}]),
        [(f"{C}.env[0].name", f'Invalid value: "CAFÉ": {ENV}')],
    ),
    "env-value-and-value-from": (
        _container(
            env=[{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
        ),
        [(f"{C}.env[0].valueFrom", 'Invalid value: "": may not be specified when `value` is not empty')],
    ),
    "env-from-prefix-with-equals": (
        _container(envFrom=[{"prefix": "A=", "configMapRef": {"name": "x"}}]),
        [(f"{C}.envFrom[0].prefix", f'Invalid value: "A=": {ENV}')],
    ),
    "mount-of-undefined-volume": (
        _container(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
        [(f"{C}.volumeMounts[0].name", 'Not found: "data"')],
    ),
    "mount-path-twice": (
        lambda spec: (
            _pod(volumes=[CM_VOLUME])(spec),
            _container(
                volumeMounts=[{"name": "config", "mountPath": "/a"}, {"name": "config", "mountPath": "/a"}]
            )(spec),
        ),
        [(f"{C}.volumeMounts[1].mountPath", 'Invalid value: "/a": must be unique')],
    ),
    "volume-name-duplicate": (
        _pod(volumes=[CM_VOLUME, CM_VOLUME]),
        [("volumes[1].name", 'Duplicate value: "config"')],
    ),
    "volume-name-not-a-label": (
        _pod(volumes=[{"name": "My_Volume", "emptyDir": {}}]),
        [("volumes[0].name", f'Invalid value: "My_Volume": {LABEL}')],
    ),
    "volume-two-sources": (
        _pod(volumes=[{"name": "v", "emptyDir": {}, "configMap": {"name": "c"}}]),
        [("volumes[0].configMap", "Forbidden: may not specify more than 1 volume type")],
    ),
    "volume-config-map-without-name": (
        _pod(volumes=[{"name": "v", "configMap": {}}]),
        [("volumes[0].configMap.name", "Required value")],
    ),
    "container-name-duplicate": (
        _second_container(name="worker"),
        [("containers[1].name", 'Duplicate value: "worker"')],
    ),
    "container-name-not-a-label": (
        _container(name="Worker_1"),
        [(f"{C}.name", f'Invalid value: "Worker_1": {LABEL}')],
    ),
    "negative-cpu-request": (
        _container(resources={"requests": {"cpu": "-1"}}),
        [(f"{C}.resources.requests[cpu]", 'Invalid value: "-1": must be greater than or equal to 0')],
    ),
    "requests-over-limits": (
        _container(resources={"requests": {"memory": "4Gi"}, "limits": {"memory": "2Gi"}}),
        [
            (
                f"{C}.resources.requests[memory]",
                'Invalid value: "4Gi": must be less than or equal to memory limit of 2Gi',
            )
        ],
    ),
    "extended-resource-request-not-limit": (
        _container(resources={"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}}),
        [
            (
                f"{C}.resources.requests[example.com/gpu]",
                'Invalid value: "1": must be equal to example.com/gpu limit of 2',
            )
        ],
    ),
    "pod-restart-policy-unknown": (
        _pod(restartPolicy="Sometimes"),
        [
            (
                "restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            )
        ],
    ),
    "dns-policy-unknown": (
        _pod(dnsPolicy="Google"),
        [
            (
                "dnsPolicy",
                'Unsupported value: "Google": supported values: '
                '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
            )
        ],
    ),
    "active-deadline-zero": (
        _pod(activeDeadlineSeconds=0),
        [("activeDeadlineSeconds", "Invalid value: 0: must be between 1 and 2147483647, inclusive")],
    ),
    "pull-policy-unknown": (
        _container(imagePullPolicy="Sometimes"),
        [
            (
                f"{C}.imagePullPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
            )
        ],
    ),
    "image-with-whitespace": (
        _container(image=f" {IMAGE}"),
        [(f"{C}.image", f'Invalid value: " {IMAGE}": must not have leading or trailing whitespace')],
    ),
    "probe-with-two-handlers": (
        _container(livenessProbe={"exec": {"command": ["true"]}, "httpGet": {"port": 80}}),
        [(f"{C}.livenessProbe.httpGet", "Forbidden: may not specify more than 1 handler type")],
    ),
    "probe-without-handler": (
        _container(readinessProbe={"periodSeconds": 5}),
        [(f"{C}.readinessProbe", "Required value: must specify a handler type")],
    ),
    "liveness-success-threshold-above-one": (
        _container(livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 2}),
        [(f"{C}.livenessProbe.successThreshold", "Invalid value: 2: must be 1")],
    ),
    "probe-port-zero": (
        _container(startupProbe={"httpGet": {"port": 0}}),
        [(f"{C}.startupProbe.httpGet.port", f"Invalid value: 0: {RANGE}")],
    ),
    "pre-stop-without-handler": (
        _container(lifecycle={"preStop": {}}),
        [(f"{C}.lifecycle.preStop", "Required value: must specify a handler type")],
    ),
    "toleration-exists-with-value": (
        _pod(tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]),
        [
            (
                "tolerations[0].operator",
                "Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
            )
        ],
    ),
    "container-restart-policy-unknown": (
        _container(restartPolicy="Sometimes"),
        [
            (
                f"{C}.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
            )
        ],
    ),
    "valid-init-container-restart-policy": (
        _pod(initContainers=[{"name": "init", "image": IMAGE, "restartPolicy": "OnFailure"}]),
        [],
    ),
    "host-network-port-mismatch": (
        lambda spec: (
            _pod(hostNetwork=True)(spec),
            _container(ports=[{"containerPort": 80, "hostPort": 81}])(spec),
        ),
        [
            (
                f"{C}.ports[0].hostPort",
                "Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
            )
        ],
    ),
    "resource-name-not-qualified": (
        _container(resources={"limits": {"gpu": "1"}}),
        [
            (
                f"{C}.resources.limits[gpu]",
                'Invalid value: "gpu": must be a standard resource type or fully qualified',
            ),
            (
                f"{C}.resources.limits[gpu]",
                'Invalid value: "gpu": must be a standard resource for containers',
            ),
        ],
    ),
    "extended-resource-fraction": (
        _container(resources={"limits": {"example.com/gpu": "500m"}}),
        [(f"{C}.resources.limits[example.com/gpu]", 'Invalid value: "500m": must be an integer')],
    ),
    "extended-resource-without-limit": (
        _container(resources={"requests": {"example.com/gpu": "1"}}),
        [(f"{C}.resources.limits", "Required value: Limit must be set for non overcommitable resources")],
    ),
    "hugepages-without-cpu-or-memory": (
        _container(resources={"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"hugepages-2Mi": "2Mi"}}),
        [(f"{C}.resources", "Forbidden: HugePages require cpu or memory")],
    ),
    "grpc-probe-port-zero": (
        _container(livenessProbe={"grpc": {"port": 0}}),
        [(f"{C}.livenessProbe.grpc.port", f"Invalid value: 0: {RANGE}")],
    ),
    "pre-stop-sleep-past-grace-period": (
        _container(lifecycle={"preStop": {"sleep": {"seconds": 31}}}),
        [
            (
                f"{C}.lifecycle.preStop.sleep",
                "Invalid value: 31: must be non-negative and less than terminationGracePeriodSeconds (30)",
            )
        ],
    ),
    "config-map-key-with-space": (
        _container(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "a b"}}}]),
        [
            (
                f"{C}.env[0].valueFrom.configMapKeyRef.key",
                'Invalid value: "a b": '
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                "'[-._a-zA-Z0-9]+')",
            )
        ],
    ),
    "container-name-too-long": (
        _container(name="w" * 64),
        [(f"{C}.name", f'Invalid value: "{"w" * 64}": must be no more than 63 characters')],
    ),
    "service-account-name-not-a-subdomain": (
        _pod(serviceAccountName="Bad_Account"),
        [
            (
                "serviceAccountName",
                'Invalid value: "Bad_Account": a lowercase RFC 1123 subdomain must consist of lower case '
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                "(e.g. 'example.com', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            )
        ],
    ),
}


def spec_for(case: str) -> dict[str, Any]:
    """The PodSpec of one case."""
    change, _ = CASES[case]
    spec = base()
    change(spec)
    return spec
