"""eval/benchmarks stage."""
