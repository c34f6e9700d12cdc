"""Settings of the operator and the webhook: one class, read once from the environment.

Every knob is an environment variable with the prefix ``DASK_OPERATOR_`` (for example
``DASK_OPERATOR_RESYNC_INTERVAL=10``).  The chart's ``workerAllocation`` values keep
their upstream variable names, which are accepted as aliases.  Handlers receive the
settings object; nothing reads the environment or ``dask.config`` mid-reconcile.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _worker_allocation(ours: str, upstream: str) -> AliasChoices:
    """``DASK_OPERATOR_WORKER_<ours>``, or the upstream name of the chart's ``workerAllocation`` value."""
    return AliasChoices(
        f"DASK_OPERATOR_WORKER_{ours}", f"DASK_KUBERNETES__CONTROLLER__WORKER_ALLOCATION__{upstream}"
    )


class Settings(BaseSettings):
    """Operator and webhook settings; validated on load, so a bad value fails at start-up."""

    model_config = SettingsConfigDict(env_prefix="DASK_OPERATOR_", extra="ignore")

    # Operator ---------------------------------------------------------------
    resync_interval: float = Field(
        30.0, gt=0, description="Seconds between resyncs of a resource (read from the cache: no API calls)."
    )
    max_backoff: float = Field(60.0, gt=0, description="Longest wait before retrying a failed reconcile.")
    kube_qps: float = Field(20.0, ge=0, description="Sustained API requests per second (0: unlimited).")
    kube_burst: int = Field(50, ge=1, description="API requests allowed in a burst.")
    admission_recheck: float = Field(
        300.0, gt=0, description="Seconds a Pod spec admitted by a server-side dry run stays trusted."
    )
    error_report_after: int = Field(
        3, ge=1, description="Failed reconciles in a row before the error is written to status and events."
    )
    leader_election: bool = Field(
        True, description="Hold a Lease so that only one replica reconciles (off with --standalone)."
    )
    lease_name: str = Field("dask-kubernetes-operator", description="Name of the leader-election Lease.")
    lease_namespace: str = Field(
        "",
        validation_alias=AliasChoices("DASK_OPERATOR_LEASE_NAMESPACE", "POD_NAMESPACE"),
        description="Namespace of the Lease; no leader election when neither this nor POD_NAMESPACE is set.",
    )
    lease_duration: float = Field(15.0, gt=0, description="Seconds a Lease is valid without renewal.")
    lease_renew_deadline: float = Field(
        10.0, gt=0, description="The leader steps down if it cannot renew for this long."
    )
    lease_retry_period: float = Field(
        2.0, gt=0, description="Seconds between tries to acquire or renew the Lease."
    )
    identity: str = Field(
        "",
        validation_alias=AliasChoices("DASK_OPERATOR_IDENTITY", "POD_NAME", "HOSTNAME"),
        description="This replica's name in the Lease.",
    )
    worker_batch_size: int | None = Field(
        None,
        ge=1,
        validation_alias=_worker_allocation("BATCH_SIZE", "BATCH_SIZE"),
        description="Worker Pods created per batch; all at once when unset.",
    )
    worker_batch_delay: float | None = Field(
        None,
        ge=0,
        validation_alias=_worker_allocation("BATCH_DELAY", "DELAY"),
        description="Seconds between batches of worker Pods.",
    )
    autoscaler_interval: float = Field(5.0, gt=0, description="Seconds between adaptive-target polls.")
    autoscaler_scale_down_delay: float = Field(
        30.0, ge=0, description="A lower target must hold this long before workers are removed."
    )
    kueue: bool = Field(
        False,
        description="Queue DaskJobs and DaskClusters labelled kueue.x-k8s.io/queue-name through Kueue "
        "(a Workload per object, started when Kueue admits it). Off: the label means nothing.",
    )
    scheduler_timeout: float = Field(10.0, gt=0, description="Timeout of one call to a Dask scheduler.")
    retire_timeout: float = Field(120.0, gt=0, description="Timeout of retiring workers before deletion.")

    # Webhook ----------------------------------------------------------------
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_host: str = "0.0.0.0"
    webhook_service: str = Field("dask-kubernetes-webhook", description="Service name the API server calls.")
    webhook_namespace: str = Field("dask-operator", description="Namespace the webhook runs in.")
    webhook_cert_file: str = Field(
        "", description="Serving certificate (cert-manager's tls.crt); empty: the webhook manages its own CA."
    )
    webhook_key_file: str = Field("", description="Private key of webhook_cert_file.")
    webhook_cert_dir: str = Field(
        "/tmp/dask-kubernetes-webhook", description="Where a self-managed serving certificate is written."
    )
    webhook_ca_secret: str = Field(
        "dask-kubernetes-webhook-ca", description="Secret holding the self-managed CA, in webhook_namespace."
    )
    webhook_deployment: str = Field(
        "",
        description="The webhook's Deployment, in webhook_namespace: it owns the CA Secret (garbage "
        "collected with it) and lends it its instance labels. Empty: the Secret has no owner.",
    )
    webhook_validating_configuration: str = Field(
        "dask-kubernetes-webhook", description="ValidatingWebhookConfiguration whose caBundle is patched."
    )
    webhook_mutating_configuration: str = Field(
        "dask-kubernetes-webhook", description="MutatingWebhookConfiguration whose caBundle is patched."
    )
    webhook_tls_sync_interval: float = Field(
        60.0, gt=0, description="Seconds between checks of the CA Secret, caBundle and certificate files."
    )
    webhook_lookup_timeout: float = Field(
        2.0, gt=0, description="Timeout of the API lookup behind the missing-cluster warning."
    )
    webhook_access_log: bool = Field(False, description="Log every request (probes included).")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> Settings:
        if bool(self.webhook_cert_file) != bool(self.webhook_key_file):
            raise ValueError("webhook_cert_file and webhook_key_file must be set together")
        return self

    @property
    def webhook_self_managed_tls(self) -> bool:
        """True when no certificate is given, so the webhook runs its own CA."""
        return not self.webhook_cert_file


@lru_cache
def get_settings() -> Settings:
    """Load the settings once per process; tests override by constructing ``Settings`` directly."""
    return Settings()
