"""Benchmarks: ``python -m bench`` prints its figures; docs/benchmarks.md quotes them."""
