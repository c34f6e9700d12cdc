"""Typed AdmissionReview v1 bodies, and the responses the webhook sends back.

The request side is a pydantic model, so a malformed body fails to parse and the
app answers 400 with the parser's words (see :mod:`.app`) instead of a stack trace.
The response side is built here in one place: an allowed review (with warnings and
an optional JSONPatch) or a denial shaped like the API server's own validation
errors: ``code: 422``, ``reason: Invalid`` and one ``details.causes[]`` entry per
wrong field, so ``kubectl`` prints each field path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dask_kubernetes.api import constants
from dask_kubernetes.validation.errors import FieldError

API_VERSION = "admission.k8s.io/v1"
# The names the chart registers the two webhooks under (templates/webhook-*-webhook.yaml).
VALIDATING_WEBHOOK = "validate.kubernetes.dask.org"
MUTATING_WEBHOOK = "mutate.kubernetes.dask.org"
KIND = "AdmissionReview"
DEFAULTING_FAILED = "the dask-kubernetes webhook could not default this object; see its logs"
Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class GroupVersionKind(_Model):
    """``request.kind``: what was sent."""

    group: str = ""
    version: str
    kind: str


class GroupVersionResource(_Model):
    """``request.resource``: where it was sent; ``resource`` is the plural."""

    group: str = ""
    version: str
    resource: str


class AdmissionRequest(_Model):
    """The ``request`` of an AdmissionReview; only the fields the webhook reads."""

    uid: str = Field(min_length=1)
    kind: GroupVersionKind
    resource: GroupVersionResource
    sub_resource: str = Field("", alias="subResource")
    name: str = ""
    namespace: str = ""
    operation: Operation
    object: dict[str, Any] | None = None
    old_object: dict[str, Any] | None = Field(None, alias="oldObject")
    dry_run: bool = Field(False, alias="dryRun")


class AdmissionReview(_Model):
    """An AdmissionReview v1 as the API server posts it."""

    api_version: Literal["admission.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


def envelope(response: dict[str, Any]) -> dict[str, Any]:
    """Wrap a response in the AdmissionReview the API server expects back."""
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def allow(uid: str, *, warnings: Sequence[str] = (), patch: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Admit, with warnings for ``kubectl`` to print and an optional JSONPatch.

    An empty patch is left out altogether: there is nothing to apply.
    """
    response: dict[str, Any] = {"uid": uid, "allowed": True}
    if warnings:
        response["warnings"] = list(warnings)
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(list(patch)).encode()).decode()
    return response


def invalid_message(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> str:
    """Word a denial like the API server does: ``Kind.group "name" is invalid: [field: msg, ...]``."""
    subject = f"{kind}.{group}" if group else kind
    listed = [str(error) for error in errors]
    body = listed[0] if len(listed) == 1 else "[" + ", ".join(listed) + "]"
    return f'{subject} "{name}" is invalid: {body}'


def attributed(message: str, webhook: str = VALIDATING_WEBHOOK) -> str:
    """Say who refused, in the API server's own words.

    For a 422/Invalid error, kubectl prints ``details.causes[]`` as ``field: message``
    and drops ``status.message`` (where the API server puts "admission webhook ...
    denied the request"), so each cause carries it; the user then sees which tier
    refused: the CRD schema, or this webhook.
    """
    return f'admission webhook "{webhook}" denied the request: {message}'


def deny(
    uid: str,
    *,
    kind: str,
    group: str,
    name: str,
    errors: Sequence[FieldError],
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """Refuse with 422/Invalid and one cause per wrong field, each naming its path."""
    response: dict[str, Any] = {
        "uid": uid,
        "allowed": False,
        "status": {
            "metadata": {},
            "status": "Failure",
            "code": 422,
            "reason": "Invalid",
            "message": invalid_message(kind, group, name, errors),
            "details": {
                "name": name,
                "group": group,
                "kind": kind,
                "causes": [
                    {"type": error.cause, "field": error.path, "message": attributed(error.message)}
                    for error in errors
                ],
            },
        },
    }
    if warnings:
        response["warnings"] = list(warnings)
    return response


def internal_error(uid: str, *, allowed: bool) -> dict[str, Any]:
    """Answer when the webhook itself failed: a bug of ours, never the user's mistake.

    Validation refuses (it fails closed, like its ``failurePolicy``); defaulting
    admits unchanged (it fails open).  The traceback goes to the log, not the client.
    """
    if allowed:
        return allow(uid, warnings=[DEFAULTING_FAILED])
    return {
        "uid": uid,
        "allowed": False,
        "status": {
            "metadata": {},
            "status": "Failure",
            "code": 500,
            "reason": "InternalError",
            "message": "the dask-kubernetes webhook failed to check this object; see its logs",
        },
    }


def object_name(request: AdmissionRequest) -> str:
    """Name the object for a message, falling back to ``generateName`` before it has one."""
    if request.name:
        return request.name
    meta = (request.object or {}).get("metadata")
    if isinstance(meta, dict):
        for key in ("name", "generateName"):
            if isinstance(meta.get(key), str) and meta[key]:
                return str(meta[key])
    return ""


class BadReview(ValueError):
    """A body that parsed but cannot be a real AdmissionReview; answered with 400."""


def target(request: AdmissionRequest) -> str | None:
    """Return the plural when the request is ours to judge, else None (admitted untouched).

    Ours means: a CREATE or UPDATE of the main resource (not a subresource such as
    ``status`` or ``scale``) of one of the four kinds.  Anything else the API server
    should never send; admitting it keeps a misconfigured rule from blocking a cluster.
    """
    if request.resource.group != constants.GROUP or request.resource.resource not in constants.PLURALS:
        return None
    if request.sub_resource or request.operation not in ("CREATE", "UPDATE"):
        return None
    if request.object is None:
        raise BadReview(f"request.object is required for {request.operation}")
    if request.operation == "UPDATE" and request.old_object is None:
        raise BadReview("request.oldObject is required for UPDATE")
    return request.resource.resource


# An object the API server sends is at most etcd's 1.5 MiB, twice for UPDATE, plus
# the envelope; anything much larger is not an AdmissionReview.
MAX_BODY_BYTES = 8 * 1024 * 1024


def parse(body: bytes) -> AdmissionReview:
    """Decode an AdmissionReview from raw bytes, whatever the Content-Type said.

    Every failure raises :class:`BadReview` with a short message that names the
    first wrong fields, and never echoes the body back.
    """
    if len(body) > MAX_BODY_BYTES:
        raise BadReview(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadReview(f"the body is not JSON ({type(exc).__name__})") from None
    try:
        return AdmissionReview.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)[:5]
        ]
        if exc.error_count() > len(problems):
            problems.append(f"and {exc.error_count() - len(problems)} more")
        raise BadReview("; ".join(problems)) from None
