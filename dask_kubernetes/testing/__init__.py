"""Test infrastructure: a local Kubernetes control plane and a node agent.

Nothing here is used by the operator, the webhook or the cluster managers.  It exists
so that tests and the demo run against a real kube-apiserver on a machine with no
Docker: :mod:`.controlplane` starts etcd, kube-apiserver, kube-controller-manager and
kube-scheduler from the binary built in ``controlplane/``, and :mod:`.nodeagent`
plays the kubelet, running Pods as local processes.
"""
