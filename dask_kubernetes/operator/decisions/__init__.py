"""Pure decision logic of the controllers: scaling, conditions, autoscaling.

Nothing here talks to Kubernetes or Dask; the controllers in
:mod:`dask_kubernetes.operator.controller` gather facts, call these functions and
carry out what they decide.
"""
