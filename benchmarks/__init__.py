"""Benchmarks: the engine against baselines and peers, side by side (see BENCHMARKS.md)."""
