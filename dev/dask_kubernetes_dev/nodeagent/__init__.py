"""A kubelet stand-in that runs Pods as local processes — test infrastructure only.

The local control plane (:mod:`dask_kubernetes_dev.controlplane`) has no real
kubelet and no container runtime, because this machine has no Docker.  This agent
fills that gap for the test suite and the demo: it registers a Node, watches the
Pods bound to it and runs each container's ``command``/``args`` as a process from
the agent's own environment, inside a per-Pod network namespace on a Linux bridge.
It writes Pod status, serves ``kubectl logs`` and honours graceful deletion.

It is not a container runtime and gives no isolation beyond network and mount
namespaces; nothing outside the tests should use it.

Modules, one concern each:

- :mod:`.config` the command-line settings; :mod:`.api` a small asyncio API client
- :mod:`.node` the Node object, its heartbeat and Lease
- :mod:`.network` bridge, netns, veth and IPAM; :mod:`.hosts` per-Pod hosts files
- :mod:`.env` (pure) environment and ``$(VAR)`` expansion; :mod:`.volumes` volumes
- :mod:`.image` shims for image commands; :mod:`.runtime` processes and the mount wrapper
- :mod:`.probes` readiness, liveness and startup probes
- :mod:`.status` (pure) status builders; :mod:`.logs` log files and the log server
- :mod:`.pod` one Pod's lifecycle; :mod:`.agent` wires everything together
"""
