"""POST /validate: one AdmissionReview per rule, asserting the exact causes and warnings."""

from __future__ import annotations

import copy

import pytest

from dask_kubernetes.validation import warning_texts as texts
from tests.webhooks.conftest import causes, example, pinned, response_of, review

DNS_LABEL = (
    "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"
)


def _cluster():
    return pinned(example("cluster.yaml"))


def _worker(obj):
    return obj["spec"]["worker"]["spec"]["containers"][0]


def _group():
    return pinned(example("highmemworkers.yaml"))


def _autoscaler():
    return example("autoscaler.yaml")


def _job():
    return pinned(example("job.yaml"))


def post(client, obj, **kwargs):
    return response_of(client.post("/validate", json=review(obj, **kwargs)))


# --- every example is admitted as it is ------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["cluster.yaml", "cluster-spec.yaml", "cluster-annotations.yaml", "highmemworkers.yaml", "job.yaml"],
)
def test_pinned_examples_are_admitted_without_warnings(client, lookup, name):
    obj = pinned(example(name))
    lookup.clusters.add(("team-a", "simple"))
    response = post(client, obj)
    assert response["allowed"] is True
    assert "warnings" not in response
    assert "status" not in response


def test_the_autoscaler_example_is_admitted(client):
    response = post(client, _autoscaler())
    assert response == {"uid": response["uid"], "allowed": True}


# --- denials: one cause per wrong field ----------------------------------------


def _requests_over_cpu_limit(o):
    _worker(o)["resources"] = {"requests": {"cpu": "4"}, "limits": {"cpu": "2"}}


def _requests_over_memory_limit(o):
    _worker(o)["resources"] = {"requests": {"memory": "8Gi"}, "limits": {"memory": "6G"}}


def _bad_quantity(o):
    _worker(o)["resources"] = {"limits": {"cpu": "two"}}


def _no_worker_container(o):
    o["spec"]["worker"]["spec"]["containers"] = []


def _no_worker(o):
    del o["spec"]["worker"]


def _duplicate_container(o):
    containers = o["spec"]["worker"]["spec"]["containers"]
    containers.append(copy.deepcopy(containers[0]))


def _no_image(o):
    del _worker(o)["image"]


def _long_name(o):
    o["metadata"]["name"] = "a" * 54


def _negative_idle_timeout(o):
    o["spec"]["idleTimeout"] = -1


CLUSTER_DENIALS = {
    "requests-over-cpu-limit": (
        _requests_over_cpu_limit,
        [
            (
                "spec.worker.spec.containers[0].resources.requests[cpu]",
                'Invalid value: "4": must be less than or equal to cpu limit of 2',
            )
        ],
    ),
    "requests-over-memory-limit": (
        _requests_over_memory_limit,
        [
            (
                "spec.worker.spec.containers[0].resources.requests[memory]",
                'Invalid value: "8Gi": must be less than or equal to memory limit of 6G',
            )
        ],
    ),
    "unparseable-quantity": (
        _bad_quantity,
        [
            (
                "spec.worker.spec.containers[0].resources.limits[cpu]",
                "must be a Kubernetes quantity such as 500m, 2 or 4Gi, got 'two'",
            )
        ],
    ),
    "no-worker-container": (
        _no_worker_container,
        [("spec.worker.spec.containers", "the worker PodSpec needs at least one container")],
    ),
    "no-worker-group": (_no_worker, [("spec.worker", "required field is missing")]),
    "duplicate-container-name": (
        _duplicate_container,
        [("spec.worker.spec.containers[1].name", "duplicate container name 'worker'")],
    ),
    "container-without-image": (
        _no_image,
        [
            (
                "spec.worker.spec.containers[0].image",
                "every worker container needs an image, or its Pod cannot be created",
            )
        ],
    ),
    "name-too-long": (_long_name, [("metadata.name", "must be at most 53 characters, got 54")]),
    "negative-idle-timeout": (
        _negative_idle_timeout,
        [("spec.idleTimeout", "must be a non-negative integer number of seconds")],
    ),
}


@pytest.mark.parametrize(("mutate", "expected"), CLUSTER_DENIALS.values(), ids=CLUSTER_DENIALS.keys())
def test_daskcluster_denials_name_each_field(client, mutate, expected):
    obj = _cluster()
    mutate(obj)
    response = post(client, obj)
    assert response["allowed"] is False
    assert causes(response) == expected


def test_a_denial_is_422_invalid_worded_like_the_api_server(client):
    obj = _cluster()
    _requests_over_cpu_limit(obj)
    response = post(client, obj, uid="abc-123")
    assert response["uid"] == "abc-123"
    status = response["status"]
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["status"] == "Failure"
    assert status["message"] == (
        'DaskCluster.kubernetes.dask.org "simple" is invalid: '
        "spec.worker.spec.containers[0].resources.requests[cpu]: "
        'Invalid value: "4": must be less than or equal to cpu limit of 2'
    )
    details = status["details"]
    assert (details["kind"], details["group"], details["name"]) == (
        "DaskCluster",
        "kubernetes.dask.org",
        "simple",
    )
    assert details["causes"][0]["type"] == "FieldValueInvalid"


def test_every_wrong_field_is_reported_at_once(client):
    obj = _cluster()
    _requests_over_cpu_limit(obj)
    del obj["spec"]["scheduler"]["spec"]["containers"][0]["image"]
    obj["metadata"]["name"] = "Not_A_Name"
    response = post(client, obj)
    assert causes(response) == [
        ("metadata.name", DNS_LABEL),
        (
            "spec.scheduler.spec.containers[0].image",
            "every scheduler container needs an image, or its Pod cannot be created",
        ),
        (
            "spec.worker.spec.containers[0].resources.requests[cpu]",
            'Invalid value: "4": must be less than or equal to cpu limit of 2',
        ),
    ]
    assert response["status"]["message"].startswith(
        'DaskCluster.kubernetes.dask.org "Not_A_Name" is invalid: ['
    )
    types = [c["type"] for c in response["status"]["details"]["causes"]]
    assert types == ["FieldValueInvalid", "FieldValueRequired", "FieldValueInvalid"]


def test_an_init_container_is_checked_too(client):
    obj = _cluster()
    obj["spec"]["worker"]["spec"]["initContainers"] = [
        {
            "name": "worker",
            "image": "busybox:1.36",
            "resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
        }
    ]
    response = post(client, obj)
    assert causes(response) == [
        ("spec.worker.spec.containers[0].name", "duplicate container name 'worker'"),
        (
            "spec.worker.spec.initContainers[0].resources.requests[memory]",
            'Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
        ),
    ]


def test_worker_group_without_worker_container_is_denied(client):
    obj = _group()
    obj["spec"]["worker"]["spec"]["containers"] = []
    response = post(client, obj)
    assert causes(response) == [
        ("spec.worker.spec.containers", "the worker PodSpec needs at least one container")
    ]


def test_worker_group_requests_over_limits_are_denied(client):
    obj = _group()
    _worker(obj)["resources"] = {"requests": {"memory": "64Gi"}, "limits": {"memory": "32Gi"}}
    response = post(client, obj)
    assert causes(response) == [
        (
            "spec.worker.spec.containers[0].resources.requests[memory]",
            'Invalid value: "64Gi": must be less than or equal to memory limit of 32Gi',
        )
    ]


def test_autoscaler_minimum_above_maximum_is_denied(client):
    obj = _autoscaler()
    obj["spec"].update(minimum=5, maximum=2)
    response = post(client, obj)
    assert causes(response) == [("spec.minimum", "must be less than or equal to spec.maximum (5 > 2)")]


@pytest.mark.parametrize(
    "group", ["Bad_Name", "-leading-dash", "a" * 64], ids=["underscore", "dash", "too-long"]
)
def test_autoscaler_worker_group_must_be_a_dns_label(client, group):
    obj = _autoscaler()
    obj["spec"]["workerGroup"] = group
    expected = []
    if len(group) > 63:
        expected.append(("spec.workerGroup", "must be at most 63 characters, got 64"))
    if group != "a" * 64:
        expected.append(("spec.workerGroup", DNS_LABEL))
    assert causes(post(client, obj)) == expected


def test_autoscaler_with_a_valid_worker_group_is_admitted(client):
    obj = _autoscaler()
    obj["spec"]["workerGroup"] = "simple-highmem"
    assert post(client, obj)["allowed"] is True


@pytest.mark.parametrize("policy", ["Always", "Sometimes"])
def test_job_runner_restart_policy_must_let_the_job_end(client, policy):
    obj = _job()
    obj["spec"]["job"]["spec"]["restartPolicy"] = policy
    response = post(client, obj)
    assert causes(response) == [
        (
            "spec.job.spec.restartPolicy",
            f"must be OnFailure or Never, got {policy!r}: an always-restarting runner never ends",
        )
    ]
    assert response["status"]["details"]["causes"][0]["type"] == "FieldValueNotSupported"


@pytest.mark.parametrize("policy", ["OnFailure", "Never"])
def test_job_runner_restart_policies_that_end_are_admitted(client, policy):
    obj = _job()
    obj["spec"]["job"]["spec"]["restartPolicy"] = policy
    assert post(client, obj)["allowed"] is True


def test_job_cluster_spec_is_checked_with_its_own_path(client):
    obj = _job()
    obj["spec"]["cluster"]["spec"]["worker"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "1500m"},
        "limits": {"cpu": "1"},
    }
    assert causes(post(client, obj)) == [
        (
            "spec.cluster.spec.worker.spec.containers[0].resources.requests[cpu]",
            'Invalid value: "1500m": must be less than or equal to cpu limit of 1',
        )
    ]


# --- updates: immutable fields ---------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_group, "field is immutable: create a new worker group to join another cluster"),
        (_autoscaler, "field is immutable: create a new DaskAutoscaler to scale another cluster"),
    ],
    ids=["worker-group", "autoscaler"],
)
def test_cannot_move_to_another_cluster(client, make, message):
    old = make()
    new = copy.deepcopy(old)
    new["spec"]["cluster"] = "other"
    response = post(client, new, operation="UPDATE", old=old)
    assert causes(response) == [("spec.cluster", message)]


def test_job_runner_cannot_change_after_creation(client):
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["job"]["spec"]["containers"][0]["args"] = ["python", "-c", "print(2)"]
    response = post(client, new, operation="UPDATE", old=old)
    assert causes(response) == [
        (
            "spec.job",
            "field is immutable: the runner Pod is created once (a job runs once, and Pods are "
            "immutable); delete and re-create the DaskJob to change it",
        )
    ]


def test_job_defaulted_restart_policy_is_not_a_change(client):
    """A job stored while defaulting was away gains restartPolicy on its next update: allowed."""
    old = _job()
    new = copy.deepcopy(old)
    new["spec"]["job"]["spec"]["restartPolicy"] = "OnFailure"
    new["metadata"]["labels"] = {"touched": "yes"}
    assert post(client, new, operation="UPDATE", old=old)["allowed"] is True


@pytest.mark.parametrize("name", ["highmemworkers.yaml", "autoscaler.yaml", "job.yaml", "cluster.yaml"])
def test_updates_that_keep_immutable_fields_are_admitted(client, lookup, name):
    old = pinned(example(name)) if name != "autoscaler.yaml" else example(name)
    new = copy.deepcopy(old)
    if "worker" in new["spec"]:
        new["spec"]["worker"]["replicas"] = 7
    new["metadata"]["labels"] = {"edited": "true"}
    response = post(client, new, operation="UPDATE", old=old)
    assert response["allowed"] is True
    assert lookup.calls == []


def test_updates_are_validated_like_creates(client):
    old = _cluster()
    new = copy.deepcopy(old)
    _requests_over_cpu_limit(new)
    response = post(client, new, operation="UPDATE", old=old)
    assert [field for field, _ in causes(response)] == [
        "spec.worker.spec.containers[0].resources.requests[cpu]"
    ]


# --- warnings: best practices never deny -------------------------------------------


def _args(obj):
    return _worker(obj)["args"]


def test_latest_and_untagged_images_warn(client):
    obj = _cluster()
    _worker(obj)["image"] = "ghcr.io/dask/dask:latest"
    obj["spec"]["scheduler"]["spec"]["containers"][0]["image"] = "registry.local:5000/dask"
    response = post(client, obj)
    assert response["allowed"] is True
    assert response["warnings"] == [
        texts.LATEST_IMAGE.format(
            path="spec.worker.spec.containers[0].image", image="ghcr.io/dask/dask:latest"
        ),
        texts.UNTAGGED_IMAGE.format(
            path="spec.scheduler.spec.containers[0].image", image="registry.local:5000/dask"
        ),
    ]


def test_a_digest_or_a_registry_port_is_not_mistaken_for_a_tag(client):
    obj = _cluster()
    _worker(obj)["image"] = "registry.local:5000/dask/dask@sha256:" + "a" * 64
    obj["spec"]["scheduler"]["spec"]["containers"][0]["image"] = "registry.local:5000/dask/dask:2026.8.0"
    assert "warnings" not in post(client, obj)


def _with_resources(obj, args, resources):
    _worker(obj)["args"] = ["dask-worker", *args, "--death-timeout", "60"]
    _worker(obj)["resources"] = resources
    return obj


WORKER_FLAG_CASES = {
    "memory-limit-mismatch": (
        ["--memory-limit", "8GB"],
        {"limits": {"memory": "4Gi"}},
        [
            texts.MEMORY_LIMIT_MISMATCH.format(
                path="spec.worker.spec.containers[0].args", flag="8GB", limit="4294967296"
            )
        ],
    ),
    "memory-limit-without-container-limit": (
        ["--memory-limit=6GB"],
        {},
        [texts.MEMORY_LIMIT_WITHOUT_LIMIT.format(path="spec.worker.spec.containers[0].args", flag="6GB")],
    ),
    "memory-limit-matches-in-other-units": (["--memory-limit", "6GB"], {"limits": {"memory": "6Gi"}}, []),
    "memory-limit-auto": (["--memory-limit", "auto"], {}, []),
    "memory-limit-fraction": (["--memory-limit", "0.8"], {"limits": {"memory": "6Gi"}}, []),
    "memory-limit-per-process": (
        ["--nworkers", "2", "--memory-limit", "3GiB"],
        {"limits": {"memory": "6Gi"}},
        [],
    ),
    "nthreads-mismatch-limit": (
        ["--nthreads", "4"],
        {"limits": {"cpu": "2"}},
        [
            texts.NTHREADS_MISMATCH.format(
                path="spec.worker.spec.containers[0].args", flag="4", kind="limit", cpu="2"
            )
        ],
    ),
    "nthreads-mismatch-request": (
        ["--nthreads", "1"],
        {"requests": {"cpu": "4"}},
        [
            texts.NTHREADS_MISMATCH.format(
                path="spec.worker.spec.containers[0].args", flag="1", kind="request", cpu="4"
            )
        ],
    ),
    "nthreads-without-cpu": (
        ["--nthreads", "2"],
        {},
        [texts.NTHREADS_WITHOUT_CPU.format(path="spec.worker.spec.containers[0].args", flag="2")],
    ),
    "nthreads-matches-millicores": (["--nthreads", "1"], {"limits": {"cpu": "500m"}}, []),
    "nthreads-matches-fraction": (["--nthreads", "2"], {"limits": {"cpu": "1.5"}}, []),
    "nthreads-times-nworkers": (["--nworkers", "2", "--nthreads", "2"], {"limits": {"cpu": "4"}}, []),
    "seed-worker-spec": (
        ["--nthreads", "2", "--no-dashboard", "--memory-limit", "6GB"],
        {"limits": {"cpu": "2", "memory": "6G"}, "requests": {"cpu": "2", "memory": "6G"}},
        [],
    ),
    "unreadable-values-say-nothing": (
        ["--nthreads", "$(THREADS)", "--memory-limit", "$(MEMORY)"],
        {},
        [],
    ),
}


@pytest.mark.parametrize(
    ("args", "resources", "expected"), WORKER_FLAG_CASES.values(), ids=WORKER_FLAG_CASES.keys()
)
def test_worker_flags_are_compared_with_resources(client, args, resources, expected):
    obj = _with_resources(_cluster(), args, resources)
    response = post(client, obj)
    assert response["allowed"] is True
    assert response.get("warnings", []) == expected


@pytest.mark.parametrize(
    "command",
    [
        {"args": ["dask-worker", "--nthreads", "1"]},
        {"args": ["dask", "worker", "tcp://simple-scheduler:8786"]},
        {"command": ["/bin/sh", "-c"], "args": ["exec dask-worker --name $(DASK_WORKER_NAME)"]},
        {"command": ["python", "-m", "distributed.cli.dask_worker"]},
    ],
    ids=["dask-worker", "dask-worker-subcommand", "shell-line", "python-module"],
)
def test_a_worker_without_death_timeout_warns(client, command):
    obj = _cluster()
    container = _worker(obj)
    container.pop("args")
    container.update(command)
    container["resources"] = {"limits": {"cpu": "1"}}
    field = "args" if "args" in command else "command"
    response = post(client, obj)
    assert response["warnings"] == [
        texts.NO_DEATH_TIMEOUT.format(path=f"spec.worker.spec.containers[0].{field}")
    ]


def test_a_container_that_is_not_a_worker_is_not_held_to_worker_flags(client):
    obj = _cluster()
    obj["spec"]["worker"]["spec"]["containers"].append(
        {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "infinity"]}
    )
    assert "warnings" not in post(client, obj)


def test_job_warnings_name_the_runner_and_the_cluster(client):
    obj = example("job.yaml")
    warnings = post(client, obj)["warnings"]
    assert [w.split(":", 1)[0] for w in warnings] == [
        "spec.job.spec.containers[0].image",
        "spec.cluster.spec.worker.spec.containers[0].image",
        "spec.cluster.spec.worker.spec.containers[0].args",
        "spec.cluster.spec.scheduler.spec.containers[0].image",
    ]


def test_warnings_ride_along_with_a_denial(client):
    obj = example("cluster.yaml")
    _requests_over_cpu_limit(obj)
    response = post(client, obj)
    assert response["allowed"] is False
    assert len(response["warnings"]) == 3


# --- the missing-cluster warning (an API lookup) ------------------------------------


def test_worker_group_naming_a_missing_cluster_warns(client, lookup):
    response = post(client, _group(), namespace="team-a")
    assert response["allowed"] is True
    assert response["warnings"] == [texts.CLUSTER_NOT_FOUND.format(cluster="simple", namespace="team-a")]
    assert lookup.calls == [("team-a", "simple")]


def test_worker_group_naming_an_existing_cluster_does_not_warn(client, lookup):
    lookup.clusters.add(("team-a", "simple"))
    assert "warnings" not in post(client, _group(), namespace="team-a")


def test_a_failed_lookup_is_neither_a_warning_nor_an_error(client, lookup):
    lookup.broken = True
    response = post(client, _group())
    assert response == {"uid": response["uid"], "allowed": True}


# --- requests that are not ours are admitted untouched -------------------------------


def test_other_resources_subresources_and_deletes_are_admitted(client):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    body = review(pod)
    body["request"]["resource"] = {"group": "", "version": "v1", "resource": "pods"}
    assert response_of(client.post("/validate", json=body))["allowed"] is True

    broken = _cluster()
    broken["spec"]["worker"]["spec"]["containers"] = []
    body = review(broken, operation="UPDATE", old=_cluster())
    body["request"]["subResource"] = "status"
    assert response_of(client.post("/validate", json=body))["allowed"] is True

    body = review(None, operation="DELETE", old=broken)
    assert response_of(client.post("/validate", json=body))["allowed"] is True
