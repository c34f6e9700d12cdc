"""Refresh the vendored Kubernetes core definitions from the pinned Kubernetes module.

The CRDs embed PodSpec and ServiceSpec.  Their definitions come from the OpenAPI v3
document that ships inside the ``k8s.io/kubernetes`` Go module
(``api/openapi-spec/v3/api__v1_openapi.json``), fetched through the Go module proxy
with ``go mod download``.  Only the closure of the definitions we embed is kept, so
the vendored file stays small and its diff on a version bump stays readable.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

KUBERNETES_VERSION = "v1.36.3"
ROOTS = ("io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.ServiceSpec")
OPENAPI_PATH = "api/openapi-spec/v3/api__v1_openapi.json"
REF_PREFIX = "#/components/schemas/"


def vendored_path(root: Path, version: str = KUBERNETES_VERSION) -> Path:
    """Locate the vendored definitions for ``version`` under the project's ``schemas/``."""
    return root / "schemas" / "kubernetes" / f"core-{version}.json"


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def closure(schemas: Mapping[str, Any], roots: Iterable[str] = ROOTS) -> dict[str, Any]:
    """Keep the definitions reachable from ``roots``; pure, so tests can call it."""
    keep: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in schemas:
            raise KeyError(f"definition {name!r} is referenced but missing from the OpenAPI document")
        keep[name] = schemas[name]
        todo.extend(_refs(schemas[name]))
    return dict(sorted(keep.items()))


def module_dir(version: str = KUBERNETES_VERSION) -> Path:
    """Download (or find in the module cache) ``k8s.io/kubernetes@version``."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(out.stdout)["Dir"])


def refresh(root: Path, version: str = KUBERNETES_VERSION) -> Path:
    """Rewrite the vendored definitions from the Kubernetes module of ``version``."""
    document = json.loads((module_dir(version) / OPENAPI_PATH).read_text())
    vendored = {
        "source": f"k8s.io/kubernetes@{version} {OPENAPI_PATH}",
        "kubernetesVersion": version,
        "definitions": closure(document["components"]["schemas"]),
    }
    path = vendored_path(root, version)
    path.write_text(json.dumps(vendored, indent=1, sort_keys=True) + "\n")
    return path
