"""The benchmarks of `autobeat bench`: on the top floor, so each may import what it measures."""
