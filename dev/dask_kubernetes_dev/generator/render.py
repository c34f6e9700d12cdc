"""Render every generated file, then write them or check the committed ones for drift.

Rendering happens in a temporary copy of the chart, so ``--check`` never writes into
the work tree and the overlays are rendered from the freshly generated chart parts.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dask_kubernetes import yamlio
from dask_kubernetes_dev.generator import argocd, bodies, chart, crds, kubeflow, overlays, policies, sources
from dask_kubernetes_dev.generator.openapi import Resolver

# Directories whose every file the generator owns: a file there it no longer
# renders is stale and --check reports it.
OWNED_DIRS = (
    f"{chart.CHART_DIR}/templates/crds",
    "overlays/base",
    "overlays/namespaced",
    "overlays/prometheus",
    "overlays/cert-manager",
    "overlays/argocd",
    "overlays/kubeflow",
    "overlays/admission-policy",
)

EXAMPLES_DIR = "examples"


def build_crds(src: sources.Sources) -> dict[str, dict]:
    """Build the four CRDs, keyed by plural."""
    resolver = Resolver(src.kubernetes, src.definitions, description_depth=1)
    return {source["plural"]: crds.build_crd(source, resolver) for source in src.crds.values()}


def _chart_files(src: sources.Sources) -> dict[str, str]:
    files = {
        f"{chart.CHART_DIR}/templates/crds/{plural}.yaml": chart.crd_template(crd)
        for plural, crd in build_crds(src).items()
    }
    files[f"{chart.CHART_DIR}/templates/_rbac_rules.tpl"] = chart.rbac_rules_template(src.rbac)
    files[f"{chart.CHART_DIR}/values.schema.json"] = chart.values_schema(src.chart_values_schema)
    return files


def _examples_index(root: Path) -> dict[str, str]:
    names = sorted(p.name for p in (root / EXAMPLES_DIR).glob("*.yaml") if p.name != "kustomization.yaml")
    text = overlays.HEADER.replace("from the chart", "from the files in examples/") + yamlio.dump(
        {"apiVersion": overlays.KUSTOMIZE_API, "kind": "Kustomization", "resources": names}
    )
    return {f"{EXAMPLES_DIR}/kustomization.yaml": text}


def render(root: Path) -> dict[str, str]:
    """Render every generated file; keys are paths relative to ``root``."""
    src = sources.load(root)
    files = _chart_files(src)
    with tempfile.TemporaryDirectory() as tmp:
        temp_chart = Path(tmp) / "chart"
        shutil.copytree(root / chart.CHART_DIR, temp_chart)
        for rel, text in files.items():
            target = temp_chart / Path(rel).relative_to(chart.CHART_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        files.update(overlays.render(temp_chart))
        files.update(kubeflow.render(temp_chart, src.rbac, overlays.KUSTOMIZE_API))
    files.update(argocd.render(root, overlays.KUSTOMIZE_API))
    files.update(policies.render(root, overlays.KUSTOMIZE_API))
    files.update(_examples_index(root))
    files.update(bodies.render(src))
    return files


@dataclass(frozen=True)
class Drift:
    """What differs between the work tree and a fresh render."""

    changed: list[str]
    missing: list[str]
    stale: list[str]

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.stale)

    def describe(self) -> str:
        """Name each file that differs, one per line, with what is wrong with it."""
        lines = [f"differs from a fresh render: {p}" for p in self.changed]
        lines += [f"missing (not generated yet): {p}" for p in self.missing]
        lines += [f"stale (no longer generated): {p}" for p in self.stale]
        return "\n".join(lines)


def _stale(root: Path, files: dict[str, str]) -> list[str]:
    found = []
    for owned in OWNED_DIRS:
        for path in sorted((root / owned).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in files:
                found.append(rel)
    return found


def check(root: Path, files: dict[str, str]) -> Drift:
    """Compare a render with the work tree without writing anything."""
    changed, missing = [], []
    for rel, text in sorted(files.items()):
        path = root / rel
        if not path.exists():
            missing.append(rel)
        elif path.read_text() != text:
            changed.append(rel)
    return Drift(changed=changed, missing=missing, stale=_stale(root, files))


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write a render into the work tree, removing stale files; return what changed."""
    drift = check(root, files)
    for rel in drift.stale:
        (root / rel).unlink()
    for rel in [*drift.changed, *drift.missing]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel])
    return [*drift.changed, *drift.missing, *drift.stale]
