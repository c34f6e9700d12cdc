"""The development tools of dask-kubernetes: everything a checkout needs and a user does not.

This distribution (``dask-kubernetes-dev``, installed from ``dev/`` by
``scripts/setup.sh``) holds the local Kubernetes control plane and node agent
(:mod:`.controlplane`, :mod:`.nodeagent`), the pytest plugin (:mod:`.pytest_plugin`),
the generator that renders the CRDs, chart and overlays from ``schemas/``
(:mod:`.generator`), the operator image builder (:mod:`.image`), the Go helpers'
wrappers (:mod:`.kstatus`, :mod:`.luahealth`) and the checkout's paths
(:mod:`.tools`).  It registers the ``local``, ``image`` and ``generate``
subcommands of ``dask-kubernetes`` (:mod:`.commands`).  Nothing in the product
imports it.
"""
