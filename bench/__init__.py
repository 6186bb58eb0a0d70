"""Benchmarks for inbox-agent (issue #8): ``python -m bench.run``. Figures, not timed tests."""
