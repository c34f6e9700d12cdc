"""Typed bodies, constants and naming: the pure base layer every other part imports."""
