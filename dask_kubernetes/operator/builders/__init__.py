"""Pure builders: a spec goes in, a manifest comes out, with no I/O (KubeRay's ``common/``)."""
