"""The product's one YAML library (ruamel.yaml): read documents, and dump stable, readable YAML.

Dumps compare byte for byte between runs (the generator's drift check relies on it),
never write anchors (a manifest with ``&id001`` confuses people and some tools), and
write multi-line strings as literal blocks.  ``dump(..., for_kubectl=True)`` also
quotes the plain words YAML 1.1 readers (kubectl, go-yaml) take for booleans, so a
string ``y`` stays a string, and sorts keys, as ``dask kubernetes gen cluster``
always printed them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import SafeRepresenter

__all__ = ["YAMLError", "dump", "dump_all", "load", "load_all"]

# Plain scalars that YAML 1.1 readers take for booleans; YAML 1.2 writers leave them bare.
_YAML11_BOOLS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false"})


def _represent_str(representer: SafeRepresenter, data: str) -> Any:
    # Multi-line strings (patches, scripts) read best as literal blocks.
    style = "|" if "\n" in data else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_str_for_kubectl(representer: SafeRepresenter, data: str) -> Any:
    if data.lower() in _YAML11_BOOLS:
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return _represent_str(representer, data)


def _yaml(*, for_kubectl: bool = False) -> YAML:
    yaml = YAML(typ="safe", pure=True)
    # Set options before touching yaml.representer, which is built from them.
    yaml.default_flow_style = False
    yaml.width = 80 if for_kubectl else 4096
    yaml.representer.sort_base_mapping_type_on_output = for_kubectl  # else keep insertion order
    yaml.representer.add_representer(str, _represent_str_for_kubectl if for_kubectl else _represent_str)
    yaml.representer.ignore_aliases = lambda data: True
    return yaml


def dump(document: Any, *, for_kubectl: bool = False) -> str:
    """Dump one document."""
    buffer = io.StringIO()
    _yaml(for_kubectl=for_kubectl).dump(document, buffer)
    return buffer.getvalue()


def dump_all(documents: Iterable[Any]) -> str:
    """Dump several documents separated by ``---``."""
    return "---\n".join(dump(document) for document in documents)


def load(text: str) -> Any:
    """Load one YAML document (None for an empty one)."""
    return YAML(typ="safe").load(text)


def load_all(text: str) -> list[Any]:
    """Load every non-empty document of a YAML stream.

    Uses ruamel's C parser when ruamel.yaml.clib is installed: a rendered chart is
    over a megabyte of YAML, which the pure-Python parser takes seconds to read.
    """
    return [doc for doc in YAML(typ="safe").load_all(text) if doc is not None]
