"""The API server's own Pod validation agrees with the static validator, case by case.

Each case of :mod:`tests.validation.podspec_cases` becomes a Pod, created with a
server-side dry run (nothing is stored): a case the validator refuses must be
refused by the API server naming the same field with the same words, and a case it
accepts must be accepted.
"""

from __future__ import annotations

import json
import re

import pytest

from dask_kubernetes.validation.podspec import validate_pod_spec
from tests.validation.podspec_cases import CASES, spec_for

pytestmark = pytest.mark.cluster


def _server_words(path: str, message: str) -> str:
    """How the API server prints one error.

    The one deliberate difference: for a request above its limit the API server names
    ``resources.requests``; the validator names the resource (``requests[cpu]``).
    """
    if "limit of" in message:
        path = re.sub(r"\.requests\[[^\]]+\]$", ".requests", path)
    return f"{path}: {message}"


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_api_server_agrees_with_the_validator(k8s_cluster, namespace, case):
    spec = spec_for(case)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"}, "spec": spec}
    proc = k8s_cluster.kubectl(
        "create",
        "--dry-run=server",
        "-n",
        namespace,
        "-o",
        "name",
        "-f",
        "-",
        input=json.dumps(pod),
        check=False,
    )
    ours = validate_pod_spec(spec, "spec")
    if not ours:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode != 0, f"the API server accepted what the validator refuses: {ours}"
    if "error looking up service account" in proc.stderr:
        # ServiceAccount admission runs before validation and refuses a name that
        # cannot exist; the validator refuses the same field.
        assert [error.path for error in ours] == ["spec.serviceAccountName"], proc.stderr
        return
    assert "is invalid" in proc.stderr, proc.stderr
    for error in ours:
        assert _server_words(error.path, error.message) in proc.stderr, proc.stderr
