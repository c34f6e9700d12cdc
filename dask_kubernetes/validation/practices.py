"""The seed's best practices, checked on a PodSpec; each miss is a warning, never a denial.

The seed recommends that ``--memory-limit`` and ``--nthreads`` match the container's
resources, that images be pinned, and that workers get ``--death-timeout``.  These
checks read a container's ``command`` and ``args`` the way a shell would split them,
and say nothing about values they cannot read (``$(VAR)`` references, ``auto``).
The texts live in :mod:`dask_kubernetes.validation.warning_texts`.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from dask.utils import parse_bytes

from dask_kubernetes.validation import quantity
from dask_kubernetes.validation import warning_texts as texts

# A --memory-limit within this fraction of the container's limit counts as matching
# (6GB against 6Gi is the same intent written in two unit systems).
MEMORY_TOLERANCE = Decimal("0.1")


def _containers(spec: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(spec, Mapping):
        return
    for field in ("initContainers", "containers"):
        items = spec.get(field)
        if isinstance(items, list):
            for i, container in enumerate(items):
                if isinstance(container, Mapping):
                    yield f"{path}.{field}[{i}]", container


def image_warnings(spec: Any, path: str) -> list[str]:
    """Warn about every container image that is ``:latest`` or has no tag at all."""
    found = []
    for where, container in _containers(spec, path):
        image = container.get("image")
        if not isinstance(image, str) or not image or "@" in image or "$(" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        if ":" not in last:
            found.append(texts.UNTAGGED_IMAGE.format(path=f"{where}.image", image=image))
        elif last.rsplit(":", 1)[1] == "latest":
            found.append(texts.LATEST_IMAGE.format(path=f"{where}.image", image=image))
    return found


def _tokens(container: Mapping[str, Any]) -> list[str]:
    """Split ``command`` + ``args`` into words; a word with spaces is a shell line (``sh -c``)."""
    words: list[str] = []
    for field in ("command", "args"):
        value = container.get(field)
        if not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, str):
                continue
            if any(c.isspace() for c in item):
                try:
                    words += shlex.split(item)
                except ValueError:
                    words += item.split()
            else:
                words.append(item)
    return words


def runs_dask_worker(words: Sequence[str]) -> bool:
    """Tell whether a command line starts a Dask worker (``dask-worker`` or ``dask worker``)."""
    for i, word in enumerate(words):
        base = word.rsplit("/", 1)[-1]
        if base == "dask-worker" or word == "distributed.cli.dask_worker":
            return True
        if base == "dask" and i + 1 < len(words) and words[i + 1] == "worker":
            return True
    return False


def flag(words: Sequence[str], name: str) -> str | None:
    """Return the value of ``--name VALUE`` or ``--name=VALUE``; the last one wins, as in click."""
    value = None
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith(name + "="):
            value = word[len(name) + 1 :]
    return value


def _memory_flag_bytes(value: str) -> Decimal | None:
    """Read ``--memory-limit`` as dask does; None for ``auto``, fractions and ``0`` (no limit)."""
    text = value.strip()
    if not text or text.lower() in ("auto", "none"):
        return None
    try:
        number = float(text)
    except ValueError:
        try:
            return Decimal(parse_bytes(text))
        except (ValueError, TypeError):
            return None
    if not math.isfinite(number) or number <= 1:
        return None
    return Decimal(int(number))


def _positive_int(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    number = int(value)
    return number if number > 0 else None


def _resource(container: Mapping[str, Any], kind: str, name: str) -> Decimal | None:
    resources = container.get("resources")
    section = resources.get(kind) if isinstance(resources, Mapping) else None
    return quantity.parse(section.get(name)) if isinstance(section, Mapping) else None


def _memory_warning(
    where: str, container: Mapping[str, Any], words: Sequence[str], processes: int
) -> list[str]:
    raw = flag(words, "--memory-limit")
    per_process = _memory_flag_bytes(raw) if raw is not None else None
    if raw is None or per_process is None:
        return []
    limit = _resource(container, "limits", "memory")
    if limit is None:
        return [texts.MEMORY_LIMIT_WITHOUT_LIMIT.format(path=where, flag=raw)]
    if limit > 0 and abs(per_process * processes - limit) > limit * MEMORY_TOLERANCE:
        return [texts.MEMORY_LIMIT_MISMATCH.format(path=where, flag=raw, limit=quantity.describe(limit))]
    return []


def _nthreads_warning(
    where: str, container: Mapping[str, Any], words: Sequence[str], processes: int
) -> list[str]:
    raw = flag(words, "--nthreads")
    threads = _positive_int(raw)
    if raw is None or threads is None:
        return []
    for kind in ("limits", "requests"):
        cpu = _resource(container, kind, "cpu")
        if cpu is not None:
            break
    else:
        return [texts.NTHREADS_WITHOUT_CPU.format(path=where, flag=raw)]
    low, high = max(1, math.floor(cpu)), max(1, math.ceil(cpu))
    if not low <= threads * processes <= high:
        kind_name = "limit" if kind == "limits" else "request"
        return [
            texts.NTHREADS_MISMATCH.format(path=where, flag=raw, kind=kind_name, cpu=quantity.describe(cpu))
        ]
    return []


def worker_warnings(spec: Any, path: str) -> list[str]:
    """Warn about worker containers whose flags disagree with their resources or lack a timeout."""
    found = []
    for where, container in _containers(spec, path):
        words = _tokens(container)
        if not runs_dask_worker(words):
            continue
        field = f"{where}.args" if isinstance(container.get("args"), list) else f"{where}.command"
        processes = _positive_int(flag(words, "--nworkers") or flag(words, "--nprocs")) or 1
        found += _memory_warning(field, container, words, processes)
        found += _nthreads_warning(field, container, words, processes)
        if flag(words, "--death-timeout") is None:
            found.append(texts.NO_DEATH_TIMEOUT.format(path=field))
    return found


def pod_warnings(spec: Any, path: str, *, worker: bool = False) -> list[str]:
    """Every best-practice warning for one PodSpec; ``worker`` adds the dask-worker checks."""
    found = image_warnings(spec, path)
    if worker:
        found += worker_warnings(spec, path)
    return found


def unique(items: Sequence[str]) -> list[str]:
    """Drop repeated warnings, keeping the first of each in order."""
    return list(dict.fromkeys(items))
