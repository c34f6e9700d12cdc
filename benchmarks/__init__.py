"""Benchmarks: timings and counts, measured side by side, never asserted in tests."""
