"""Benchmarks: `python -m bench` compares spacectl with the scripted flow and writes
docs/benchmarks.md (see bench/run.py); calls.py, latency.py and startup.py are single studies."""
