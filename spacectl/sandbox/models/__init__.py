"""The Hub's rules, without HTTP: what a request may do to the state and what follows from it.

Handlers call these with the store's transaction held (one request, one transaction) and a
`Context` for the clock, the caller and the live options. They raise `ApiError` for what the
Hub refuses.
"""
