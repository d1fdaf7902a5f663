"""Benchmark scripts: run them directly; they print their figures."""
