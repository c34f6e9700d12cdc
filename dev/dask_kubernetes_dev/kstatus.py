"""Run the real kstatus library on an object: the status Flux's health checks and kpt wait for.

kstatus (``sigs.k8s.io/cli-utils/pkg/kstatus/status``) reads the standard conditions
(``Ready``, ``Reconciling``, ``Stalled``) and ``status.observedGeneration``.  Calling the
library itself, through the small Go helper in ``gohelpers/cmd/kstatus``, proves that our
statuses mean to Flux what we say they mean.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from dask_kubernetes_dev.gohelpers import GoHelperError, helper

#: The statuses kstatus computes (``status.Status``), by name.
STATUSES = ("InProgress", "Current", "Failed", "Terminating", "NotFound", "Unknown")


def kstatus(obj: dict[str, Any] | None) -> tuple[str, str]:
    """Return kstatus's ``(status, message)`` for one object; ``None`` means it does not exist.

    The status is one of :data:`STATUSES`.  Raises :class:`GoHelperError` when kstatus
    cannot compute a status (for instance an object that is not a mapping).
    """
    payload = "" if obj is None else json.dumps(obj)
    proc = subprocess.run([str(helper("kstatus"))], input=payload, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GoHelperError(proc.stderr.strip() or f"kstatus exited with {proc.returncode}")
    result = json.loads(proc.stdout)
    return result["status"], result["message"]
