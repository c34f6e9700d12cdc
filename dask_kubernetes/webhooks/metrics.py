"""Prometheus metrics of the webhook, served at ``/metrics``.

Each app gets its own registry, so tests can create many apps in one process and
read exactly the counts of the one they talk to.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Admission has a 10 s budget; the interesting part is well under 100 ms.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The webhook's counters, histograms and gauges, on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.reviews = Counter(
            "dask_webhook_admission_reviews",
            "AdmissionReviews answered, by route, resource, operation and verdict.",
            ["route", "resource", "operation", "allowed"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "dask_webhook_admission_duration_seconds",
            "Time to answer one AdmissionReview.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.warnings = Counter(
            "dask_webhook_admission_warnings",
            "Best-practice warnings returned, by resource.",
            ["resource"],
            registry=self.registry,
        )
        self.patches = Counter(
            "dask_webhook_defaulting_patches",
            "Reviews answered with a non-empty JSONPatch, by resource.",
            ["resource"],
            registry=self.registry,
        )
        self.bad_requests = Counter(
            "dask_webhook_bad_requests",
            "Bodies that were not a usable AdmissionReview (answered 400).",
            ["route"],
            registry=self.registry,
        )
        self.internal_errors = Counter(
            "dask_webhook_internal_errors",
            "Reviews the webhook failed to evaluate (a bug; see the logs).",
            ["route"],
            registry=self.registry,
        )
        self.ca_bundle_patches = Counter(
            "dask_webhook_ca_bundle_patches",
            "caBundle updates written into a webhook configuration.",
            ["configuration"],
            registry=self.registry,
        )
        self.certificate_expiry = Gauge(
            "dask_webhook_serving_certificate_expiry_timestamp_seconds",
            "When the serving certificate in use expires (Unix time).",
            registry=self.registry,
        )
