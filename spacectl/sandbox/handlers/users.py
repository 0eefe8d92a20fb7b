"""Who the caller is: `whoami-v2`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import base_url, json_response
from spacectl.sandbox.shapes import whoami_json


async def whoami(ctx: Context, request: Request) -> Response:
    who = ctx.principal()
    if who is None:
        raise ApiError(401, "Invalid username or password.")
    if who.scope is not None:
        # A Trusted Publisher token belongs to a CI workflow, not to a user.
        raise ApiError(403, f"This token is scoped to spaces/{who.scope}: it has no user")
    with ctx.store.transaction() as st:
        user = st.users[who.user]
        token = next(t for t in st.tokens.values() if t.user == who.user and t.role == who.role)
        orgs = [st.orgs[name] for name in who.orgs]
        return json_response(whoami_json(user, token, who, orgs, base_url(request)))
