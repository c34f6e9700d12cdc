"""Exceptions users already catch, at the import path they already use."""

from __future__ import annotations


class SchedulerStartupError(Exception):
    """The scheduler did not start; the message carries what Kubernetes reported."""


class ValidationError(Exception):
    """A name, a spec or an argument is not valid; the message names the field."""


class CrashLoopBackOffError(Exception):
    """A Pod of the cluster keeps crashing; the message carries its logs."""
