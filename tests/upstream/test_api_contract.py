"""Upstream dask-kubernetes 2026.3.0's public names, config keys and error wording (no cluster needed)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from dask_kubernetes.exceptions import SchedulerStartupError, ValidationError
from dask_kubernetes.operator import kopf_run
from dask_kubernetes.operator.kubecluster import diagnose
from dask_kubernetes.operator.main import kopf_argv

# Upstream's kubernetes.yaml, flattened to leaves (templates count as one key each).
UPSTREAM_CONFIG_KEYS = {
    "name", "namespace", "env", "count.start", "count.max", "scheduler-service-type", "image",
    "resources", "worker-command", "port-forward-cluster-ip", "create-mode", "shutdown-on-close",
    "resource-timeout", "custom-cluster-spec", "scheduler-forward-port", "scheduler-jupyter", "host",
    "port", "idle-timeout", "deploy-mode", "interface", "protocol", "dashboard_address",
    "controller.worker-allocation.batch-size", "controller.worker-allocation.delay",
    "controller.events.enabled", "controller.events.level", "scheduler-service-wait-timeout",
    "scheduler-service-name-resolution-retries", "scheduler-service-template", "scheduler-pdb-template",
    "worker-template-path", "scheduler-template", "worker-template",
}  # fmt: skip


def test_operator_package_exports_upstreams_names():
    import dask_kubernetes.operator as op

    for name in ("KubeCluster", "make_cluster_spec", "make_scheduler_spec", "make_worker_spec", "discover"):
        assert name in op.__all__
        assert getattr(op, name) is not None
    from dask_kubernetes.operator.kubecluster import discover, make_scheduler_spec  # noqa: F401


def test_make_scheduler_spec_matches_upstreams_shape():
    from dask_kubernetes.operator import make_scheduler_spec

    spec = make_scheduler_spec(cluster_name="x", image="img", scheduler_service_type="NodePort", jupyter=True)
    container = spec["spec"]["containers"][0]
    assert container["args"] == ["dask-scheduler", "--host", "0.0.0.0", "--jupyter"]
    assert container["image"] == "img"
    assert spec["service"]["type"] == "NodePort"
    assert spec["service"]["selector"] == {"dask.org/cluster-name": "x", "dask.org/component": "scheduler"}


def test_constants_are_upstreams():
    from dask_kubernetes import constants

    assert constants.KUBECLUSTER_CONTAINER_NAME == "dask-container"
    assert constants.KUBERNETES_MAX_RESOURCE_NAME_LENGTH == 63
    assert constants.SCHEDULER_NAME_TEMPLATE == "{cluster_name}-scheduler"
    assert constants.MAX_CLUSTER_NAME_LEN == 53
    assert constants.VALID_CLUSTER_NAME.match("a" * 53)
    assert not constants.VALID_CLUSTER_NAME.match("a" * 54)
    assert not constants.VALID_CLUSTER_NAME.match("invalid.chars")


def test_all_upstream_config_keys_registered_on_package_import():
    code = (
        "import dask, dask_kubernetes, json\n"
        "def flat(d, p=''):\n"
        "    for k, v in d.items():\n"
        "        if isinstance(v, dict) and v and not k.endswith('-template'):\n"
        "            yield from flat(v, p + k + '.')\n"
        "        else:\n"
        "            yield p + k\n"
        "print(json.dumps(sorted(flat(dask.config.get('kubernetes')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    keys = set(yaml.safe_load(out))
    assert len(UPSTREAM_CONFIG_KEYS) == 34
    assert UPSTREAM_CONFIG_KEYS <= keys, UPSTREAM_CONFIG_KEYS - keys


def test_validation_error_has_message():
    exc = ValidationError("name is invalid")
    assert exc.message == "name is invalid"
    assert str(exc) == "name is invalid"
    assert ValidationError(message="x").message == "x"


def test_scheduler_startup_error_keeps_upstreams_arguments():
    exc = SchedulerStartupError("Scheduler failed to start.", "Scheduler Pod logs:", "boom")
    assert exc.args[0] == "Scheduler failed to start."
    assert str(exc).startswith("Scheduler failed to start.\nScheduler Pod logs:\nboom")


def test_missing_executable_is_named_when_logs_are_empty():
    pod = {
        "status": {
            "containerStatuses": [
                {
                    "name": "scheduler",
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 128,
                            "reason": "StartError",
                            "message": 'exec: "dask-schmeduler": executable file not found in $PATH',
                        }
                    },
                }
            ]
        }
    }
    detail = diagnose.startup_failure_detail(pod, "")
    assert "executable file not found" in detail and "dask-schmeduler" in detail
    assert diagnose.startup_failure_detail(pod, "real logs\n") == "real logs\n"


def test_missing_spec_file_is_file_not_found(tmp_path):
    from dask_kubernetes.operator import KubeCluster

    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        KubeCluster(custom_cluster_spec=str(tmp_path / "nope.yaml"), quiet=True)


@pytest.mark.parametrize("resources", ["2Gi", {"limits": "2Gi"}])
def test_non_dict_resources_are_a_type_error(resources):
    from dask_kubernetes.operator import KubeCluster

    with pytest.raises(TypeError, match="must be dict type"):
        KubeCluster(name="x", resources=resources, quiet=True)


def test_misspelt_resources_key_is_upstreams_value_error():
    from dask_kubernetes.operator import KubeCluster

    with pytest.raises(ValueError, match="resources has unknown field 'limit'"):
        KubeCluster(name="foo", resources={"limit": {"CPU": "1"}}, quiet=True)


def test_worker_template_path_does_not_replace_the_operator_worker_spec(tmp_path):
    import dask

    from dask_kubernetes.operator.kubecluster.kubecluster import KubeCluster

    template = tmp_path / "worker.yaml"
    template.write_text("kind: Pod\nspec:\n  containers:\n  - name: classic\n    image: classic:1\n")
    with dask.config.set({"kubernetes.worker-template-path": str(template)}):
        cluster = KubeCluster.__new__(KubeCluster)
        cluster.image, cluster.n_workers, cluster.resources, cluster.env = "img", 1, None, {}
        cluster.worker_command, cluster.scheduler_service_type = "dask-worker", "ClusterIP"
        cluster.idle_timeout, cluster.jupyter = 0, False
        spec = cluster._generated_spec("x")
    assert spec["spec"]["worker"]["spec"]["containers"][0]["image"] == "img"


def test_kopf_argv_passes_unknown_flags_through():
    argv = kopf_argv(["--log-format=json", "--debug", "-n", "x"])
    assert argv[:3] == ["run", "--module", "dask_kubernetes.operator.controller"]
    assert argv[-4:] == ["--log-format=json", "--debug", "-n", "x"]
    assert "--all-namespaces" not in argv and "--standalone" in argv
    assert "--all-namespaces" in kopf_argv([])
    assert "--standalone" not in kopf_argv(["--peering=p"])
    assert "--log-format=plain" in kopf_argv(["-A"])


def test_kopf_run_module_detection():
    assert kopf_run.preloaded_modules(["/venv/bin/kopf", "run", "-m", "dask_kubernetes.operator", "-A"]) == [
        "dask_kubernetes.operator"
    ]
    assert kopf_run.preloaded_modules(["kopf", "run", "--module=a", "-mb"]) == ["a", "b"]
    assert kopf_run.preloaded_modules(["python", "-m", "dask_kubernetes.operator"]) == []
    assert not kopf_run.started_by_kopf_run(["jupyter", "run", "-m", "dask_kubernetes.operator"])


def test_plain_import_registers_no_handlers():
    code = (
        "import dask_kubernetes.operator, sys\n"
        "from dask_kubernetes.operator import KubeCluster\n"
        "print('dask_kubernetes.operator.controller' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_entry_points_are_registered():
    groups = importlib.metadata.entry_points()
    (cli,) = [e for e in groups.select(group="dask_cli") if e.name == "kubernetes"]
    assert cli.load().name == "kubernetes"
    (disc,) = [e for e in groups.select(group="dask_cluster_discovery") if e.name == "kubecluster"]
    from dask_kubernetes.operator import discover

    assert disc.load() is discover


def test_gen_cluster_prints_a_daskcluster():
    from dask_kubernetes.dask_cli import main

    result = CliRunner().invoke(
        main, ["gen", "cluster", "--name", "x", "--image", "y", "--n-workers", "2", "-e", "A=1"]
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.output)
    assert doc["kind"] == "DaskCluster" and doc["metadata"]["name"] == "x"
    assert doc["spec"]["worker"]["replicas"] == 2
    assert doc["spec"]["worker"]["spec"]["containers"][0]["image"] == "y"
    assert {"name": "A", "value": "1"} in doc["spec"]["worker"]["spec"]["containers"][0]["env"]
    assert "&id" not in result.output  # no YAML anchors
    assert "image: 'y'" in result.output  # kubectl would read a bare y as a boolean


def test_gen_cluster_bad_input_is_one_line():
    from dask_kubernetes.dask_cli import main

    result = CliRunner().invoke(main, ["gen", "cluster", "--name", "x", "--resources", "{oops"])
    assert result.exit_code == 2 and "--resources" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["gen", "cluster", "--name", "x", "-e", "NOEQUALS"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
