"""`POST /oauth/token`: the Trusted Publisher token exchange (RFC 8693), see models/oidc.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.httputil import base_url, json_body, json_response


async def token(ctx: Context, request: Request) -> Response:
    """The id token's audience must be this Hub's endpoint, as the request reached it."""
    body = await json_body(request)
    answer = ctx.sandbox.oidc.exchange(body, audience=base_url(request), now=ctx.now())
    return json_response(answer, headers={"Cache-Control": "no-store"})
