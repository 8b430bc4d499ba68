"""Demo data (seed-demo) and benchmark volume (seed-bench)."""
