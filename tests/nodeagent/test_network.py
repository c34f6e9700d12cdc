import ipaddress

import pytest

from dask_kubernetes_dev.nodeagent.network import Ipam, NetworkError


def test_ipam_skips_gateway_and_does_not_reuse_at_once(tmp_path):
    ipam = Ipam(tmp_path, ipaddress.IPv4Network("10.9.0.0/29"), ipaddress.IPv4Address("10.9.0.1"))
    first = ipam.allocate("a")
    second = ipam.allocate("b")
    assert (str(first), str(second)) == ("10.9.0.2", "10.9.0.3")
    assert (tmp_path / "10.9.0.2").read_text() == "a"
    ipam.release(first)
    assert not (tmp_path / "10.9.0.2").exists()
    assert str(ipam.allocate("c")) == "10.9.0.4"


def test_ipam_exhaustion_and_reload(tmp_path):
    cidr, gateway = ipaddress.IPv4Network("10.9.0.0/30"), ipaddress.IPv4Address("10.9.0.1")
    ipam = Ipam(tmp_path, cidr, gateway)
    assert str(ipam.allocate("a")) == "10.9.0.2"
    with pytest.raises(NetworkError):
        ipam.allocate("b")
    assert Ipam(tmp_path, cidr, gateway).used == {ipaddress.IPv4Address("10.9.0.2")}
    ipam.reset()
    assert list(tmp_path.iterdir()) == []
