"""Benchmarks: ``python -m bench.extraction``, ``python -m bench.search``."""
