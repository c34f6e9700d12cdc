"""Exceptions users already catch, at the import path they already use."""

from __future__ import annotations


class SchedulerStartupError(Exception):
    """The scheduler did not start; the message carries what Kubernetes reported.

    Raised as upstream's, with three arguments: ``"Scheduler failed to start."``,
    ``"Scheduler Pod logs:"`` and the logs (or, when there are none, the container
    status, e.g. an executable that was not found).  ``str()`` joins them by lines.
    """

    def __str__(self) -> str:
        return "\n".join(str(arg) for arg in self.args)


class ValidationError(Exception):
    """A name, a spec or an argument is not valid; the message names the field.

    ``.message`` holds the text, as upstream's ``ValidationError(message)``.
    """

    def __init__(self, message: str = "", *args: object) -> None:
        self.message = message
        super().__init__(message, *args)


class CrashLoopBackOffError(Exception):
    """A Pod of the cluster keeps crashing; the message carries its logs."""


class ClusterSuspendedError(ValueError):
    """The DaskCluster is suspended (``spec.suspend``): it runs no Pod until it is resumed.

    A ValueError, as the cluster manager's other refusals of a request that cannot
    be carried out as asked are; the message says to call ``resume()`` first.
    """
