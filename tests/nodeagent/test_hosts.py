import os

from dask_kubernetes_dev.nodeagent import hosts


def slice_(ns, name, service, ready=(), not_ready=()):
    endpoints = [{"addresses": [ip], "conditions": {"ready": True}} for ip in ready]
    endpoints += [{"addresses": [ip], "conditions": {"ready": False}} for ip in not_ready]
    return {
        "metadata": {"namespace": ns, "name": name, "labels": {"kubernetes.io/service-name": service}},
        "endpoints": endpoints,
    }


def svc(ns, name):
    return {"metadata": {"namespace": ns, "name": name}}


def test_index_prefers_ready_endpoints_and_needs_the_service():
    index = hosts.ServiceIndex()
    index.set_services([svc("a", "s1"), svc("a", "s2")])
    index.set_slices(
        [
            slice_("a", "s1-x", "s1", ready=["10.0.0.2"], not_ready=["10.0.0.3"]),
            slice_("a", "s2-x", "s2", not_ready=["10.0.0.4"]),
            slice_("a", "orphan-x", "orphan", ready=["10.0.0.9"]),
        ]
    )
    assert index.endpoints() == {("a", "s1"): ["10.0.0.2"], ("a", "s2"): ["10.0.0.4"]}
    index.slice_event("DELETED", slice_("a", "s1-x", "s1"))
    assert ("a", "s1") not in index.endpoints()
    index.service_event("DELETED", svc("a", "s2"))
    assert index.endpoints() == {}
    index.service_event("ADDED", svc("a", "orphan"))
    assert index.endpoints() == {("a", "orphan"): ["10.0.0.9"]}


def test_render_hosts_short_names_only_in_own_namespace():
    pod = hosts.PodHosts("a", "10.0.0.7", ("mypod",))
    text = hosts.render_hosts(
        pod,
        "10.0.0.1",
        {("a", "sched"): ["10.0.0.2"], ("b", "other"): ["10.0.0.3"], ("default", "kubernetes"): ["10.0.0.1"]},
    )
    lines = text.splitlines()
    assert "127.0.0.1\tlocalhost" in lines
    assert "10.0.0.7\tmypod" in lines
    assert (
        "10.0.0.1\tkubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local"
        in lines
    )
    assert "10.0.0.2\tsched sched.a sched.a.svc sched.a.svc.cluster.local" in lines
    assert "10.0.0.3\tother.b other.b.svc other.b.svc.cluster.local" in lines
    assert sum("\tkubernetes " in line for line in lines) == 1


def test_pod_hostnames_with_subdomain():
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"hostname": "h", "subdomain": "s"}}
    assert hosts.pod_hostnames(pod) == ("h.s.n.svc.cluster.local", "h")
    assert hosts.pod_hostnames({"metadata": {"name": "p"}, "spec": {}}) == ("p",)


def test_write_in_place_keeps_the_inode(tmp_path):
    path = tmp_path / "hosts"
    assert hosts.write_in_place(path, "a much longer first content\n")
    inode = os.stat(path).st_ino
    assert hosts.write_in_place(path, "short\n")
    assert path.read_text() == "short\n"
    assert os.stat(path).st_ino == inode
    assert not hosts.write_in_place(path, "short\n")


def test_hosts_files_rewrite(tmp_path):
    index = hosts.ServiceIndex()
    files = hosts.HostsFiles("10.0.0.1", index, etc_netns=tmp_path)
    files.add("ns-1", hosts.PodHosts("a", "10.0.0.7", ("p",)))
    path = tmp_path / "ns-1" / "hosts"
    inode = os.stat(path).st_ino
    assert "sched" not in path.read_text()
    assert (tmp_path / "ns-1" / "resolv.conf").read_text().startswith("nameserver 127.0.0.1")
    index.set_services([svc("a", "sched")])
    index.set_slices([slice_("a", "x", "sched", ready=["10.0.0.2"])])
    files.rewrite_all()
    assert "10.0.0.2\tsched " in path.read_text()
    assert os.stat(path).st_ino == inode
    files.remove("ns-1")
    assert not (tmp_path / "ns-1").exists()


def test_host_aliases_are_listed():
    pod = {"spec": {"hostAliases": [{"ip": "1.2.3.4", "hostnames": ["foo", "foo.local"]}, {"ip": "5.6.7.8"}]}}
    aliases = hosts.host_aliases(pod)
    assert aliases == (("1.2.3.4", ("foo", "foo.local")),)
    text = hosts.render_hosts(hosts.PodHosts("a", "10.0.0.7", ("p",), aliases), "10.0.0.1", {})
    assert "1.2.3.4\tfoo foo.local" in text.splitlines()
