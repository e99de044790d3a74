"""Benchmark helpers: multiply-accumulate counts, this CPU's matrix throughput, and the report."""
