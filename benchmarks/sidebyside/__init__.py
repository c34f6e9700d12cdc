"""Ours and upstream's operator, side by side on one local control plane, with the physical floor."""
