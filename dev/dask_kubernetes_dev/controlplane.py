"""Start and stop a real Kubernetes control plane as four local processes.

:class:`ControlPlane` writes the PKI, a static admin token and kubeconfigs into a
work directory, starts etcd, kube-apiserver, kube-controller-manager and
kube-scheduler (each its own process of the multi-call binary, see
:mod:`.binary`), waits for ``/readyz`` and the ``default`` ServiceAccount, and
optionally starts the node agent (:mod:`.nodeagent`).  :meth:`ControlPlane.stop`
ends every process it started.  The state file lets ``dask-kubernetes local down``
stop a control plane that another process started.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dask_kubernetes import pki, yamlio
from dask_kubernetes_dev.polling import TimedOut, wait_for

SERVICE_CIDR = "10.96.0.0/16"
NODE_STATE_ROOT = Path("/var/lib/dask-kubernetes-testing")
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ADMIN_USER = "local-admin"


# Workload-aware scheduling (KEP-4671), alpha in Kubernetes 1.36: the PodGroup API and the
# kube-scheduler's gang policy.  Off by default, as on a real cluster.
WORKLOAD_FEATURE_GATES = "GenericWorkload=true,GangScheduling=true"
WORKLOAD_RUNTIME_CONFIG = "scheduling.k8s.io/v1alpha2=true"


class ControlPlaneError(RuntimeError):
    """A component did not start; the message carries the tail of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Network:
    """The pod network the node agent builds: a bridge and the subnet behind it."""

    bridge: str = "dk0"
    pod_cidr: str = "10.244.0.0/16"
    gateway: str = "10.244.0.1"


@dataclass
class State:
    """What a running control plane needs to be found and stopped again."""

    workdir: str
    server: str
    token: str
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    network: dict[str, str] = field(default_factory=dict)


class ControlPlane:
    """One local control plane: etcd, kube-apiserver, controller-manager, scheduler (+ node agent)."""

    def __init__(
        self,
        workdir: Path,
        binary: Path,
        *,
        node_agent: bool = True,
        network: Network | None = None,
        die_with_parent: bool = False,
        audit: bool = False,
        image_store: Path | None = None,
        workload_scheduling: bool = False,
    ) -> None:
        self.workdir = workdir.resolve()
        self.workload_scheduling = workload_scheduling
        self.audit = audit
        self.image_store = image_store.resolve() if image_store else None
        self.binary = binary
        self.node_agent = node_agent
        self.network = network or Network()
        self.die_with_parent = die_with_parent
        self.token = secrets.token_hex(24)
        self.ports: dict[str, int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # Paths -----------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        """Directory holding the CA, serving certificate and service-account keys."""
        return self.workdir / "pki"

    @property
    def kubeconfig(self) -> Path:
        """Admin kubeconfig for kubectl, helm and the tests."""
        return self.workdir / "kubeconfig"

    @property
    def ca_file(self) -> Path:
        """CA that signed the API server's serving certificate."""
        return self.pki_dir / "ca.crt"

    @property
    def server(self) -> str:
        """API server URL on loopback."""
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def node_state_dir(self) -> Path:
        """Where the node agent keeps Pod volumes, logs and shims.

        Under /var/lib, like the kubelet's, and never under the work directory: a
        work directory below /tmp would be hidden inside any Pod that mounts an
        emptyDir at /tmp (as the chart's Deployments do), and with it the volumes.
        """
        return node_state_dir_for(self.workdir)

    @property
    def state_file(self) -> Path:
        """Where :meth:`save_state` records pids and ports."""
        return self.workdir / "state.json"

    def log_file(self, component: str) -> Path:
        """Log file of one component."""
        return self.workdir / "logs" / f"{component}.log"

    # Setup -----------------------------------------------------------------
    def _write_pki(self) -> None:
        self.pki_dir.mkdir(parents=True, exist_ok=True)
        ca = pki.make_ca("dask-kubernetes-local-ca")
        serving = pki.issue(
            ca,
            "kube-apiserver",
            dns_names=[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ip_addresses=["127.0.0.1", self.network.gateway, "10.96.0.1"],
        )
        # The API server's client certificate for kubelet endpoints (exec, logs,
        # port-forward), which the node agent's endpoint requires.
        kubelet_client = pki.issue(ca, "kube-apiserver-kubelet-client", client=True)
        sa_key = pki.rsa_key_pem()
        files = {
            "ca.crt": ca.cert,
            "ca.key": ca.key,
            "apiserver.crt": serving.cert,
            "apiserver.key": serving.key,
            "apiserver-kubelet-client.crt": kubelet_client.cert,
            "apiserver-kubelet-client.key": kubelet_client.key,
            "sa.key": sa_key,
            "sa.pub": pki.public_key_pem(sa_key),
        }
        for name, data in files.items():
            path = self.pki_dir / name
            path.write_bytes(data)
            path.chmod(0o600)
        (self.pki_dir / "tokens.csv").write_text(f'{self.token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": ADMIN_USER, "user": {"token": self.token}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": ADMIN_USER}}],
            "current-context": "local",
        }
        self.kubeconfig.write_text(yamlio.dump(config))
        self.kubeconfig.chmod(0o600)

    @property
    def audit_log(self) -> Path:
        """The API server's audit log (JSON lines, one per request), when started with ``audit=True``."""
        return self.workdir / "logs" / "audit.log"

    def _audit_flags(self) -> list[str]:
        """Log every request's user, verb and resource (not bodies), for benchmarks that count requests."""
        if not self.audit:
            return []
        policy = self.workdir / "audit-policy.yaml"
        policy.write_text(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
            "rules:\n  - level: Metadata\n"
        )
        self.audit_log.parent.mkdir(parents=True, exist_ok=True)
        return [
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-maxsize=0",
        ]

    def _gate_flags(self, *, apiserver: bool = False) -> list[str]:
        """Feature gates (and, for the API server, the alpha API) of workload-aware scheduling."""
        if not self.workload_scheduling:
            return []
        flags = [f"--feature-gates={WORKLOAD_FEATURE_GATES}"]
        if apiserver:
            flags.append(f"--runtime-config={WORKLOAD_RUNTIME_CONFIG}")
        return flags

    def _commands(self) -> dict[str, list[str]]:
        p = self.pki_dir
        b = str(self.binary)
        etcd_url = f"http://127.0.0.1:{self.ports['etcd']}"
        return {
            "etcd": [
                b, "etcd",
                "--name=local",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{self.ports['etcd-peer']}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.ports['etcd-peer']}",
                f"--initial-cluster=local=http://127.0.0.1:{self.ports['etcd-peer']}",
                "--listen-metrics-urls=",
                "--log-level=warn",
                "--quota-backend-bytes=4294967296",
                "--unsafe-no-fsync=true",
            ],
            "kube-apiserver": [
                b, "kube-apiserver",
                f"--etcd-servers={etcd_url}",
                "--bind-address=0.0.0.0",
                f"--advertise-address={self.network.gateway}",
                f"--secure-port={self.ports['apiserver']}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
                f"--token-auth-file={p / 'tokens.csv'}",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--api-audiences={SERVICE_ACCOUNT_ISSUER}",
                "--authorization-mode=Node,RBAC",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--enable-aggregator-routing=true",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=lease",
                "--profiling=false",
                "--v=1",
                *self._audit_flags(),
                *self._gate_flags(apiserver=True),
            ],
            "kube-controller-manager": [
                b, "kube-controller-manager",
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.ports['controller-manager']}",
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                "--use-service-account-credentials=true",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--leader-elect=false",
                "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pvc-protection,-pv-protection",
                "--profiling=false",
                "--v=1",
                *self._gate_flags(),
            ],
            "kube-scheduler": [
                b, "kube-scheduler",
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.ports['scheduler']}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
                *self._gate_flags(),
            ],
        }  # fmt: skip

    def _node_agent_command(self) -> list[str]:
        return [
            sys.executable, "-m", "dask_kubernetes_dev.nodeagent",
            f"--kubeconfig={self.kubeconfig}",
            "--node-name=local-node",
            f"--state-dir={self.node_state_dir}",
            f"--bridge={self.network.bridge}",
            f"--pod-cidr={self.network.pod_cidr}",
            f"--gateway={self.network.gateway}",
            f"--ca-file={self.ca_file}",
            f"--api-server-port={self.ports['apiserver']}",
            f"--kubelet-binary={self.binary}",
            *([f"--image-store={self.image_store}"] if self.image_store else []),
        ]  # fmt: skip

    # Lifecycle ---------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = self.log_file(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.procs[name] = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_death_signal(name) if self.die_with_parent else None,
            )

    def _check_alive(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            tail = "\n".join(self.log_file(name).read_text(errors="replace").splitlines()[-40:])
            raise ControlPlaneError(f"{name} exited with code {proc.returncode}:\n{tail}")

    def _wait(self, name: str, probe: Callable[[], object], timeout: float) -> None:
        def ready() -> object:
            self._check_alive(name)
            return probe()

        try:
            wait_for(ready, timeout=timeout, interval=0.25, what=f"{name} to be ready")
        except TimedOut:
            tail = "\n".join(self.log_file(name).read_text(errors="replace").splitlines()[-40:])
            raise ControlPlaneError(f"{name} was not ready within {timeout:.0f}s:\n{tail}") from None

    def _ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def get(self, path: str) -> tuple[int, bytes]:
        """GET an API path with the admin token; return status and body."""
        request = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, context=self._ssl(), timeout=5) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError):
            return 0, b""

    def _etcd_healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.ports['etcd']}/health"
            with urllib.request.urlopen(url, timeout=2) as resp:
                return b'"true"' in resp.read()
        except (urllib.error.URLError, OSError):
            return False

    def _default_service_account(self) -> bool:
        return self.get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200

    def start(self, *, timeout: float = 180) -> None:
        """Start every component and wait until the API serves and Pods can be created."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler"):
            self.ports[name] = free_port()
        self._write_pki()
        self._write_kubeconfig()
        commands = self._commands()
        try:
            self._spawn("etcd", commands["etcd"])
            self._wait("etcd", self._etcd_healthy, timeout)
            self._spawn("kube-apiserver", commands["kube-apiserver"])
            self._wait("kube-apiserver", lambda: self.get("/readyz")[0] == 200, timeout)
            self._spawn("kube-controller-manager", commands["kube-controller-manager"])
            self._spawn("kube-scheduler", commands["kube-scheduler"])
            self._wait("kube-controller-manager", self._default_service_account, timeout)
            self._check_alive("kube-scheduler")
            if self.node_agent:
                self._spawn("node-agent", self._node_agent_command())
                self._wait("node-agent", self._node_ready, timeout)
        except BaseException:
            self.stop()
            raise
        self.save_state()

    def _node_ready(self) -> bool:
        status, body = self.get("/api/v1/nodes/local-node")
        if status != 200:
            return False
        conditions = json.loads(body).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def restart_apiserver(self, *, timeout: float = 120) -> None:
        """Stop and start kube-apiserver alone, as a fault test wants."""
        _terminate({"kube-apiserver": self.procs.pop("kube-apiserver")})
        self._spawn("kube-apiserver", self._commands()["kube-apiserver"])
        self._wait("kube-apiserver", lambda: self.get("/readyz")[0] == 200, timeout)

    def stop(self) -> None:
        """Stop every process this object started, node agent first, etcd last."""
        order = ["node-agent", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]
        _terminate({name: self.procs[name] for name in order if name in self.procs})
        self.procs.clear()
        shutil.rmtree(self.node_state_dir, ignore_errors=True)
        if self.state_file.exists():
            self.state_file.unlink()

    def save_state(self) -> None:
        """Record pids and ports so another process can find or stop this control plane."""
        state = State(
            workdir=str(self.workdir),
            server=self.server,
            token=self.token,
            pids={name: proc.pid for name, proc in self.procs.items()},
            ports=self.ports,
            network=asdict(self.network),
        )
        self.state_file.write_text(json.dumps(asdict(state), indent=2))

    def env(self) -> dict[str, str]:
        """Environment that points kubectl, helm and the kubernetes client at this control plane."""
        return {"KUBECONFIG": str(self.kubeconfig)}


def _death_signal(component: str) -> Callable[[], None]:
    """Ask Linux to signal the child when the harness dies, so a killed test run leaks nothing.

    The node agent gets SIGTERM, to tear down its network namespaces; the Go
    components get SIGKILL, since kube-apiserver hangs in shutdown once etcd is gone.
    """
    sig = signal.SIGTERM if component == "node-agent" else signal.SIGKILL

    def set_pdeathsig() -> None:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, sig)

    return set_pdeathsig


def _terminate(procs: dict[str, subprocess.Popen[bytes]], grace: float = 15) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def node_state_dir_for(workdir: Path) -> Path:
    """Name the node agent's state directory of the control plane in ``workdir``."""
    key = hashlib.sha256(str(workdir).encode()).hexdigest()[:12]
    return NODE_STATE_ROOT / f"node-{key}"


def stop_from_state(state_file: Path, grace: float = 15) -> bool:
    """Stop a control plane another process started, from its state file."""
    if not state_file.exists():
        return False
    state = json.loads(state_file.read_text())
    order = ["node-agent", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]
    pids = [state["pids"][name] for name in order if name in state["pids"]]
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
    state_file.unlink()
    shutil.rmtree(node_state_dir_for(Path(state["workdir"])), ignore_errors=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
