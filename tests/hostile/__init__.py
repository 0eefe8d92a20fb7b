"""Hostile inputs: a data-driven corpus of manifests and source trees (cases.py), run by one
worker process under a memory bound (runner.py) against one shared sandbox (test_corpus.py)."""
