"""The upstream-compatibility cluster tests reuse the operator installed by the operator tests' fixture."""

from tests.operator.e2e.conftest import Kubectl, dask_operator, k  # noqa: F401  (fixtures)

__all__ = ["Kubectl"]
