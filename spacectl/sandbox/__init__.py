"""A local Hugging Face Hub for Spaces that the real `huggingface_hub` client can drive over HTTP.

Layers, each importing only those below it:
- `server` runs it (uvicorn; `main` is `spacectl sandbox serve`), `embedded` for `--sandbox`,
  `testing` starts it as a subprocess; `config` declares the flags and settings once.
- `app` assembles the ASGI app: `urls` (the route table) onto `handlers/` (one module per
  resource: read the request, call the models, answer with `shapes`), behind the middlewares of
  `httputil` (raw paths, request ids) and `faults` (injected faults, the request log).
- `context`: the shared `Sandbox` state, the clock, and per request the caller and permissions.
- `models/`: the Hub's rules without HTTP (repos, commits, trees, lfs, settings, runtime, cards).
- `records` (the state as data), `store` (one lock, atomic persistence), `frontmatter` (the
  sandbox's own README parser), `hub_data` (hardware and name catalogues), `errors` (`ApiError`).

The sandbox imports nothing of spacectl but `spacectl.errors` and `spacectl.fsio` (the one
atomic file writer), so that it checks the client independently. See docs/sandbox.md for users.
"""
