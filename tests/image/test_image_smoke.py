"""Smoke test of the built operator image: run it with runc, as its own non-root user, offline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import dask_kubernetes
from dask_kubernetes import pki
from dask_kubernetes_dev.image.build import BuiltImage
from tests.image.conftest import run_in_image

# A cold image build (minutes) happens in the first test's setup; the timeout only bounds a hang.
pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

# Polls the webhook from inside the container, trusting only the throw-away CA.
HEALTH_CLIENT = """
import ssl, sys, time, urllib.request
context = ssl.create_default_context(cafile="/certs/ca.crt")
deadline = time.monotonic() + 90
while True:
    try:
        with urllib.request.urlopen("https://localhost:8443/healthz", context=context, timeout=5) as answer:
            print(answer.status, answer.read().decode())
            break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"webhook never answered: {exc}")
        time.sleep(0.5)
"""


def test_the_archives_and_the_layout_exist(built_image: BuiltImage):
    assert built_image.reference == f"ghcr.io/dask-kubernetes/dask-kubernetes:{dask_kubernetes.__version__}"
    listing = subprocess.run(
        ["tar", "-xOf", str(built_image.docker_archive), "manifest.json"], capture_output=True, text=True
    )
    manifest = json.loads(listing.stdout)
    assert manifest[0]["RepoTags"] == [built_image.reference]
    assert (built_image.layout / "index.json").exists() and built_image.oci_archive.stat().st_size > 0


def test_the_image_config_runs_dask_kubernetes_as_a_numeric_non_root_user(image_bundle: Path):
    process = json.loads((image_bundle / "config.json").read_text())["process"]
    assert process["user"]["uid"] == 65532 and process["user"]["gid"] == 65532
    assert process["args"][0] == "dask-kubernetes"


def test_version(image_bundle: Path, tmp_path: Path):
    proc = run_in_image(image_bundle, ["dask-kubernetes", "--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"dask-kubernetes {dask_kubernetes.__version__}"


def test_runs_as_the_images_user_with_the_images_python(image_bundle: Path, tmp_path: Path):
    script = "import os, sys; print(os.getuid(), os.getgid(), sys.prefix)"
    proc = run_in_image(image_bundle, ["python", "-c", script], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["65532", "65532", "/opt/dask-kubernetes"]


def test_operator_help(image_bundle: Path, tmp_path: Path):
    proc = run_in_image(image_bundle, ["dask-kubernetes", "operator", "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--all-namespaces" in proc.stdout and "--liveness" in proc.stdout


def test_webhook_serves_healthz_over_tls_with_a_throwaway_certificate(image_bundle: Path, tmp_path: Path):
    ca = pki.make_ca("smoke-test-ca")
    serving = pki.issue(ca, "localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(ca.cert)
    (certs / "tls.crt").write_bytes(serving.cert)
    (certs / "tls.key").write_bytes(serving.key)
    (certs / "tls.key").chmod(0o644)  # readable by the image's user; the directory is throw-away
    hosts = tmp_path / "hosts"  # what every runtime mounts; the image itself has none
    hosts.write_text("127.0.0.1\tlocalhost\n")
    script = (
        "dask-kubernetes webhook --cert-file /certs/tls.crt --key-file /certs/tls.key --port 8443 & "
        'exec python -c "$0"'
    )
    proc = run_in_image(
        image_bundle,
        ["sh", "-c", script, HEALTH_CLIENT],
        tmp_path,
        mounts={"/certs": certs, "/etc/hosts": hosts},
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "200 ok"
