"""Benchmarks: ``python -m bench`` prints its figures; the README quotes them."""
