"""The sandbox's route handlers, one module per resource: each reads its request, calls the
models under one store transaction, and answers with a shape of `shapes`.

A handler is `async (ctx, request) -> Response`; `urls` maps paths onto them and `app` turns
an `ApiError` they raise into the Hub's error answer.
"""
