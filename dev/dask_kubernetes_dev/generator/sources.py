"""Read the schema sources under ``schemas/``: the CRD files, shared definitions and core types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from dask_kubernetes_dev.generator import vendor

CRD_FILES = ("daskcluster", "daskworkergroup", "daskjob", "daskautoscaler")


def load_yaml(path: Path) -> Any:
    """Load one YAML document as plain dicts and lists."""
    return YAML(typ="safe").load(path.read_text())


@dataclass(frozen=True)
class Sources:
    """Everything the generator reads, loaded once."""

    root: Path
    kubernetes: dict[str, Any]
    definitions: dict[str, Any]
    crds: dict[str, dict[str, Any]]
    rbac: dict[str, Any]
    chart_values_schema: dict[str, Any]


def load(root: Path) -> Sources:
    """Read every schema source below ``root``."""
    schemas = root / "schemas"
    vendored = json.loads(vendor.vendored_path(root).read_text())
    return Sources(
        root=root,
        kubernetes=vendored["definitions"],
        definitions=load_yaml(schemas / "crds" / "definitions.yaml"),
        crds={name: load_yaml(schemas / "crds" / f"{name}.yaml") for name in CRD_FILES},
        rbac=load_yaml(schemas / "rbac.yaml"),
        chart_values_schema=load_yaml(schemas / "values.schema.yaml"),
    )
