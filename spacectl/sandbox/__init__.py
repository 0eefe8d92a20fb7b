"""A local Hugging Face Hub for Spaces that the real `huggingface_hub` client can drive over HTTP.

Layout: `store` holds the state (users, orgs, Spaces with a git-like history) and persists it,
`runtime` simulates builds and logs, `faults` injects latency/errors/resets/rate limits and keeps
the request log, `app` maps the Hub's HTTP routes onto the store, `server` runs it with uvicorn and
`testing` starts it as a subprocess for tests. See docs/sandbox.md for users.
"""
