"""The GitOps tests reuse the operator tests' chart install and kubectl fixtures."""

from tests.operator.e2e.conftest import dask_operator, k  # noqa: F401
