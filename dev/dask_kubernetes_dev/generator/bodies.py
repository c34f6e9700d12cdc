"""Render ``dask_kubernetes/api/bodies.py``: TypedDicts of the four kinds from their schema sources.

Reads the sources as written (``$ref`` not inlined), so each of our own definitions
becomes one class that every kind using it shares, and a Kubernetes core type
(``$ref: k8s:...``) becomes a ``dict[str, Any]`` alias named after it.  A definition
that is a kind's whole spec takes the kind's name (``ClusterSpec`` is
``DaskClusterSpec``); an inline object is named after its parent and property
(``WorkerSpec.rollout`` is ``WorkerSpecRollout``).  The accessors come from
``templates/bodies.py.tmpl``.
"""

from __future__ import annotations

import keyword
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dask_kubernetes_dev.generator import sources
from dask_kubernetes_dev.generator.openapi import K8S_REF, LOCAL_REF, SchemaError

TARGET = "dask_kubernetes/api/bodies.py"
TEMPLATE = Path(__file__).parent / "templates" / "bodies.py.tmpl"
PLACEHOLDER = "@@TYPES@@"
LINE_LENGTH = 110
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
ANY_OBJECT = "dict[str, Any]"


@dataclass(frozen=True)
class _Class:
    name: str
    doc: str
    fields: dict[str, str]
    bases: tuple[str, ...] = ()


@dataclass
class _Emitter:
    """Collects aliases and classes; dependencies come before the classes using them."""

    definitions: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)
    classes: dict[str, _Class] = field(default_factory=dict)

    def add(self, cls: _Class) -> str:
        known = self.classes.get(cls.name)
        if known is not None and known != cls:
            raise SchemaError(f"two different schemas would both be the class {cls.name}")
        self.classes[cls.name] = cls
        return cls.name

    def alias(self, ref: str) -> str:
        name = ref.rsplit(".", 1)[-1]
        self.aliases.add(name)
        return name

    def local(self, name: str) -> str:
        if name not in self.definitions:
            raise SchemaError(f"unknown definition {name!r} in $ref")
        doc = f"The definition ``{name}`` of ``schemas/crds/definitions.yaml``."
        return self.type_of(self.definitions[name], self.names.get(name, name), doc)

    def type_of(self, node: dict[str, Any], name: str, doc: str = "") -> str:
        """The annotation of a schema node; an object with properties becomes the class ``name``."""
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(K8S_REF):
                return self.alias(ref)
            if ref.startswith(LOCAL_REF):
                return self.local(ref[len(LOCAL_REF) :])
            raise SchemaError(f"unsupported $ref {ref!r}")
        if node.get("x-kubernetes-int-or-string"):
            return "int | str"
        kind = node.get("type")
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == "array":
            return f"list[{self.type_of(node['items'], name + 'Item')}]"
        if kind != "object":
            raise SchemaError(f"{name}: no Python type for schema type {kind!r}")
        if "properties" in node:
            return self.add(self.object_class(node, name, doc=doc))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"dict[str, {self.type_of(extra, name + 'Value')}]"
        return ANY_OBJECT

    def object_class(
        self, node: dict[str, Any], name: str, bases: tuple[str, ...] = (), doc: str = ""
    ) -> _Class:
        fields = {}
        for prop, schema in node.get("properties", {}).items():
            if not prop.isidentifier() or keyword.iskeyword(prop):
                raise SchemaError(f"{name}.{prop} cannot be a TypedDict key in class syntax")
            fields[prop] = self.type_of(schema, name + prop[0].upper() + prop[1:], f"``{name}.{prop}``.")
        text = node.get("description") or doc or f"The ``{name}`` object."
        return _Class(name=name, doc=" ".join(text.split()), fields=fields, bases=bases)


def _kind_classes(emitter: _Emitter, source: dict[str, Any]) -> None:
    kind = source["kind"]
    spec = emitter.type_of(source["spec"], f"{kind}Spec", f"The spec of a {kind}.")
    status_source = source["status"]
    bases = tuple(emitter.local(part) for part in status_source.get("include", []))
    status_node = {
        "description": f"What the operator last observed of a {kind}.",
        "properties": status_source.get("properties", {}),
    }
    status = emitter.add(emitter.object_class(status_node, f"{kind}Status", bases))
    emitter.aliases.add("ObjectMeta")
    fields = {"apiVersion": "str", "kind": "str", "metadata": "ObjectMeta", "spec": spec, "status": status}
    emitter.add(_Class(name=kind, doc=" ".join(source["description"].split()), fields=fields))


def _docstring(text: str) -> list[str]:
    text = text.replace("\\", "\\\\")
    if len(f'    """{text}"""') <= LINE_LENGTH:
        return [f'    """{text}"""']
    lines = textwrap.wrap(text, width=LINE_LENGTH - len('    """'))
    return [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:]), '    """']


def _class_text(cls: _Class) -> str:
    bases = ", ".join(cls.bases) if cls.bases else "TypedDict"
    lines = [f"class {cls.name}({bases}, total=False):", *_docstring(cls.doc), ""]
    lines += [f"    {name}: {annotation}" for name, annotation in cls.fields.items()]
    return "\n".join(lines).rstrip() + "\n"


def types_text(src: sources.Sources) -> str:
    """The aliases and TypedDicts of the four kinds, as Python source."""
    emitter = _Emitter(definitions=src.definitions)
    for source in src.crds.values():
        ref = source["spec"].get("$ref", "")
        if ref.startswith(LOCAL_REF):
            emitter.names.setdefault(ref[len(LOCAL_REF) :], f"{source['kind']}Spec")
    for source in src.crds.values():
        _kind_classes(emitter, source)
    alias_lines = [f"{name}: TypeAlias = {ANY_OBJECT}" for name in sorted(emitter.aliases)]
    header = "# Kubernetes core types embedded in our schemas: plain mappings, not typed field by field."
    blocks = ["\n".join([header, *alias_lines]) + "\n"]
    blocks += [_class_text(cls) for cls in emitter.classes.values()]
    return "\n\n".join(blocks).rstrip("\n")


def render(src: sources.Sources) -> dict[str, str]:
    """Render ``bodies.py``; the key is its path relative to the project root."""
    return {TARGET: TEMPLATE.read_text().replace(PLACEHOLDER, types_text(src))}
