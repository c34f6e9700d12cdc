"""Dump manifests as stable, readable YAML, so a fresh render compares byte for byte."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML


def _represent_str(representer: Any, data: str) -> Any:
    # Multi-line strings (patches, scripts) read best as literal blocks.
    style = "|" if "\n" in data else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    # Set options before touching yaml.representer, which is built from them.
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = False  # keep insertion order
    yaml.representer.add_representer(str, _represent_str)
    return yaml


def dump(document: Any) -> str:
    """Dump one document."""
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def dump_all(documents: Iterable[Any]) -> str:
    """Dump several documents separated by ``---``."""
    return "---\n".join(dump(document) for document in documents)


def load_all(text: str) -> list[Any]:
    """Load every non-empty document of a YAML stream.

    Uses ruamel's C parser when ruamel.yaml.clib is installed: a rendered chart is
    over a megabyte of YAML, which the pure-Python parser takes seconds to read.
    """
    return [doc for doc in YAML(typ="safe").load_all(text) if doc is not None]


def indent(text: str, spaces: int) -> str:
    """Indent every non-empty line, for embedding YAML inside a template."""
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
