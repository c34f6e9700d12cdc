"""Field errors and name formats in the API server's own words.

Kubernetes reports a field error as ``<path>: <type>: <value>: <detail>`` (for
example ``Invalid value: 99999: must be between 1 and 65535, inclusive``).  These
helpers build :class:`~dask_kubernetes.validation.errors.FieldError` values with the
same wording, so a user sees at admission exactly what the API server would have
said when the operator created the Pod.  The name formats mirror
``k8s.io/apimachinery/pkg/util/validation`` of Kubernetes v1.36.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeGuard

from dask_kubernetes.validation.errors import FieldError


def show(value: Any) -> str:
    """Render a value the way the API server quotes it: strings in double quotes, numbers bare."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    """``Invalid value: <value>: <detail>``."""
    return FieldError(path, f"Invalid value: {show(value)}: {detail}", "FieldValueInvalid")


def required(path: str, detail: str = "") -> FieldError:
    """``Required value``, with an optional detail."""
    return FieldError(path, "Required value" + (f": {detail}" if detail else ""), "FieldValueRequired")


def not_found(path: str, value: Any) -> FieldError:
    """``Not found: <value>``: a reference to something the object does not define."""
    return FieldError(path, f"Not found: {show(value)}", "FieldValueNotFound")


def duplicate(path: str, value: Any) -> FieldError:
    """``Duplicate value: <value>``."""
    return FieldError(path, f"Duplicate value: {show(value)}", "FieldValueDuplicate")


def not_supported(path: str, value: Any, supported: Iterable[str]) -> FieldError:
    """``Unsupported value: <value>: supported values: "a", "b"``."""
    listed = ", ".join(show(s) for s in supported)
    return FieldError(
        path, f"Unsupported value: {show(value)}: supported values: {listed}", "FieldValueNotSupported"
    )


def forbidden(path: str, detail: str) -> FieldError:
    """``Forbidden: <detail>``."""
    return FieldError(path, f"Forbidden: {detail}", "FieldValueForbidden")


def one_of(path: str, value: Any, supported: tuple[str, ...]) -> list[FieldError]:
    """Refuse a present value that is not one of ``supported`` (absent values are defaulted)."""
    if value is None or value in supported:
        return []
    return [not_supported(path, value, supported)]


# --- name formats -----------------------------------------------------------------

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_LABEL = re.compile(f"^{_LABEL_FMT}$")
_SUBDOMAIN = re.compile(f"^{_SUBDOMAIN_FMT}$")
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    f"regex used for validation is '{_LABEL_FMT}')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', "
    f"regex used for validation is '{_SUBDOMAIN_FMT}')"
)
ENV_NAME_MSG = (
    "a valid environment variable name must consist only of printable ASCII characters other than '='"
)
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{_CONFIG_KEY_FMT}$")
_QUALIFIED_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED = re.compile(f"^{_QUALIFIED_FMT}$")
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"


def _name_problems(value: str, limit: int, pattern: re.Pattern[str], message: str) -> list[str]:
    problems = []
    if len(value) > limit:
        problems.append(f"must be no more than {limit} characters")
    if not pattern.match(value):
        problems.append(message)
    return problems


def dns1123_label(value: str) -> list[str]:
    """Problems of a DNS-1123 label (container, volume and port-less names); [] when valid."""
    return _name_problems(value, DNS1123_LABEL_MAX, _LABEL, LABEL_MSG)


def dns1123_subdomain(value: str) -> list[str]:
    """Problems of a DNS-1123 subdomain (ServiceAccount and object names); [] when valid."""
    return _name_problems(value, DNS1123_SUBDOMAIN_MAX, _SUBDOMAIN, SUBDOMAIN_MSG)


def port_name(value: str) -> list[str]:
    """Problems of an IANA_SVC_NAME, the format of a named port; [] when valid."""
    problems = []
    if len(value) > 15:
        problems.append("must be no more than 15 characters")
    if not re.match(r"^[-a-z0-9]+$", value):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        problems.append("must contain at least one letter (a-z)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def env_var_name(value: str) -> list[str]:
    """Problems of an environment variable name under v1.36's relaxed rule; [] when valid.

    Since RelaxedEnvironmentVariableValidation went GA, any printable ASCII character
    but ``=`` is allowed, so ``1 bad`` is a valid name and ``1 bad=x`` is not.
    """
    if all(32 <= ord(ch) <= 126 for ch in value) and "=" not in value:
        return []
    return [ENV_NAME_MSG]


def config_map_key(value: str) -> list[str]:
    """Problems of a ConfigMap or Secret key; [] when valid."""
    problems = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        problems.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _CONFIG_KEY.match(value):
        problems.append(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
            "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
            f"regex used for validation is '{_CONFIG_KEY_FMT}')"
        )
    if value == ".":
        problems.append("must not be '.'")
    elif value == "..":
        problems.append("must not be '..'")
    elif value.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def qualified_name(value: str) -> list[str]:
    """Problems of a qualified name (``example.com/name``): resource names and label keys."""
    prefix, _, name = value.rpartition("/")
    if value.count("/") > 1:
        return ["a qualified name must consist of a name with an optional DNS subdomain prefix and '/'"]
    problems = []
    if "/" in value:
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            problems += [f"prefix part {p}" for p in dns1123_subdomain(prefix)]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED.match(name):
        problems.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
            f"end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
            f"regex used for validation is '{_QUALIFIED_FMT}')"
        )
    return problems


def each(path: str, value: str, problems: list[str]) -> list[FieldError]:
    """One ``Invalid value`` error per problem of a name."""
    return [invalid(path, value, problem) for problem in problems]


def required_name(path: str, value: Any, check: Callable[[str], list[str]]) -> list[FieldError]:
    """``Required value`` for an absent or empty name, else one error per problem ``check`` finds."""
    if not isinstance(value, str) or not value:
        return [required(path)]
    return each(path, value, check(value))


def is_int(value: Any) -> TypeGuard[int]:
    """True for a JSON integer (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def port_number(path: str, value: Any, *, required_value: bool = True) -> list[FieldError]:
    """A port number in 1..65535; 0 or absent is ``Required value`` when the port is required."""
    if value is None or value == 0:
        return [required(path)] if required_value else []
    if not is_int(value) or not 1 <= value <= 65535:
        return [invalid(path, value, PORT_RANGE_MSG)]
    return []


def int_or_port_name(path: str, value: Any) -> list[FieldError]:
    """A probe's port: a number in 1..65535 or an IANA_SVC_NAME."""
    if isinstance(value, str) and not value.isdigit():
        return each(path, value, port_name(value))
    number = int(value) if isinstance(value, str) else value
    if not is_int(number) or not 1 <= number <= 65535:
        return [invalid(path, number, PORT_RANGE_MSG)]
    return []


def non_negative(path: str, value: Any) -> list[FieldError]:
    """``must be greater than or equal to 0`` for a present integer field."""
    if is_int(value) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []
