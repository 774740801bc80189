"""The benchmark: `python -m bench` (see bench/runner.py and docs/performance.md)."""
