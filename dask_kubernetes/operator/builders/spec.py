"""``make_cluster_spec`` and ``make_worker_spec``: DaskCluster manifests from a few keywords.

The defaults are the seed's (upstream dask-kubernetes 2026.3.0), so code that
builds a spec and tweaks it keeps working; the scheduler also gets the HTTP API
routes the operator prefers over RPC.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from dask_kubernetes.api import constants

RESOURCE_KEYS = frozenset({"requests", "limits", "claims"})


def _env_list(env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if env is None:
        return []
    if isinstance(env, Mapping):
        return [{"name": str(key), "value": str(value)} for key, value in env.items()]
    return [dict(item) for item in env]


def _resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``resources`` with upstream's exceptions and words (TypeError, ValueError), ours after."""
    if not resources:
        return {}
    if not isinstance(resources, Mapping):
        raise TypeError(
            f"resources must be dict type, found {type(resources)}; e.g. {{'limits': {{'memory': '2Gi'}}}}"
        )
    unknown = sorted(set(resources) - RESOURCE_KEYS)
    if unknown:
        raise ValueError(
            f"resources has unknown field {unknown[0]!r}; "
            "use 'requests' and 'limits', e.g. {'limits': {'memory': '2Gi'}}"
        )
    for key, value in resources.items():
        if key != "claims" and not isinstance(value, Mapping):
            raise TypeError(f"key of {key!r} must be dict type, found {type(value)}")
    return {key: copy.deepcopy(value) if key == "claims" else dict(value) for key, value in resources.items()}


def _command(command: str | Sequence[str]) -> list[str]:
    return command.split() if isinstance(command, str) else list(command)


def make_worker_spec(
    image: str = constants.DEFAULT_IMAGE,
    n_workers: int = 3,
    resources: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    worker_command: str | Sequence[str] = "dask-worker",
    cluster_name: str | None = None,
) -> dict[str, Any]:
    """Generate the ``worker`` part of a DaskCluster or DaskWorkerGroup spec.

    ``cluster_name`` is accepted, and unused, because the seed's examples pass it.
    """
    args = [
        *_command(worker_command),
        "--name",
        f"$({constants.ENV_WORKER_NAME})",
        "--dashboard",
        "--dashboard-address",
        str(constants.WORKER_DASHBOARD_PORT),
    ]
    return {
        "replicas": n_workers,
        "spec": {
            "containers": [
                {
                    "name": "worker",
                    "image": image,
                    "args": args,
                    "env": _env_list(env),
                    "resources": _resources(resources),
                    "ports": [
                        {
                            "name": constants.PORT_NAME_DASHBOARD,
                            "containerPort": constants.WORKER_DASHBOARD_PORT,
                            "protocol": "TCP",
                        }
                    ],
                }
            ]
        },
    }


def _scheduler_env(env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The scheduler's environment: the user's, plus the HTTP routes the operator calls unless set."""
    env_list = _env_list(env)
    if not any(item.get("name") == constants.ENV_SCHEDULER_HTTP_ROUTES for item in env_list):
        env_list.append(
            {
                "name": constants.ENV_SCHEDULER_HTTP_ROUTES,
                "value": repr(list(constants.SCHEDULER_HTTP_ROUTES)),
            }
        )
    return env_list


def _scheduler_container(
    image: str, args: list[str], env_list: list[dict[str, Any]], resources: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The scheduler container: its comm and dashboard ports, probed on the dashboard's /health."""
    probe = {"httpGet": {"port": constants.PORT_NAME_DASHBOARD, "path": "/health"}}
    return {
        "name": "scheduler",
        "image": image,
        "args": args,
        "env": env_list,
        "resources": _resources(resources),
        "ports": [
            {"name": constants.PORT_NAME_COMM, "containerPort": constants.SCHEDULER_PORT, "protocol": "TCP"},
            {
                "name": constants.PORT_NAME_DASHBOARD,
                "containerPort": constants.DASHBOARD_PORT,
                "protocol": "TCP",
            },
        ],
        "readinessProbe": {
            **probe,
            "initialDelaySeconds": 0,
            "periodSeconds": 1,
            "timeoutSeconds": 300,
        },
        "livenessProbe": {**probe, "initialDelaySeconds": 15, "periodSeconds": 20},
    }


def _scheduler_service(cluster_name: str, service_type: str) -> dict[str, Any]:
    """The scheduler Service: the comm and dashboard ports of the cluster's scheduler Pod."""
    return {
        "type": service_type,
        "selector": {
            constants.LABEL_CLUSTER_NAME: cluster_name,
            constants.LABEL_COMPONENT: constants.COMPONENT_SCHEDULER,
        },
        "ports": [
            {
                "name": port_name,
                "protocol": "TCP",
                "port": number,
                "targetPort": port_name,
            }
            for port_name, number in (
                (constants.PORT_NAME_COMM, constants.SCHEDULER_PORT),
                (constants.PORT_NAME_DASHBOARD, constants.DASHBOARD_PORT),
            )
        ],
    }


def make_scheduler_spec(
    cluster_name: str,
    env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    resources: Mapping[str, Any] | None = None,
    image: str = constants.DEFAULT_IMAGE,
    scheduler_service_type: str = "ClusterIP",
    jupyter: bool = False,
) -> dict[str, Any]:
    """Generate the ``scheduler`` part of a DaskCluster spec: its Pod and Service."""
    args = ["dask-scheduler", "--host", "0.0.0.0"]
    if jupyter:
        args.append("--jupyter")
    container = _scheduler_container(image, args, _scheduler_env(env), resources)
    return {
        "spec": {"containers": [container]},
        "service": _scheduler_service(cluster_name, scheduler_service_type),
    }


def make_cluster_spec(
    name: str,
    image: str = constants.DEFAULT_IMAGE,
    n_workers: int | None = None,
    resources: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
    worker_command: str | Sequence[str] = "dask-worker",
    scheduler_service_type: str = "ClusterIP",
    idle_timeout: int = 0,
    jupyter: bool = False,
) -> dict[str, Any]:
    """Generate a DaskCluster resource from common options, to create as is or tweak first."""
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_CLUSTER,
        "metadata": {"name": name},
        "spec": {
            "idleTimeout": idle_timeout,
            "worker": make_worker_spec(
                image=image,
                n_workers=3 if n_workers is None else n_workers,
                resources=resources,
                env=env,
                worker_command=worker_command,
            ),
            "scheduler": make_scheduler_spec(
                cluster_name=name,
                env=env,
                resources=resources,
                image=image,
                scheduler_service_type=scheduler_service_type,
                jupyter=jupyter,
            ),
        },
    }
