"""``dask-kubernetes local up --kueue``: the option (the install itself is what kueue_cluster runs)."""

from dask_kubernetes_dev import local_cli


def test_up_takes_kueue():
    assert local_cli._up_parser().parse_args(["--kueue"]).kueue is True
    assert local_cli._up_parser().parse_args([]).kueue is False
