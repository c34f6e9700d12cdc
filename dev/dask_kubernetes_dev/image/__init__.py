"""The operator image: build it without Docker (``image/build.sh``) and find what it produced.

:mod:`.build` wraps the build script for ``dask-kubernetes image build``; :mod:`.store`
reads OCI image layouts, which the node agent's image mode runs containers from.
"""
