"""Benchmarks: `python -m bench.ingest`, `python -m bench.queue` (numbers in BENCHMARKS.md)."""
