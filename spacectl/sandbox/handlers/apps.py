"""The simulated app of each Space: what the Space's `host` (as `space_info` answers it) serves.

On the Hub a Space's app runs at `https://{subdomain}.hf.space`; the sandbox runs no app, so it
answers `host` as `{endpoint}/sandbox-app/{owner}/{name}` (`shapes.app_host`) and serves every
path below it:
- a RUNNING Space answers 200 (a small JSON body naming the Space and the path), or the status
  its variable `SANDBOX_APP_STATUS` holds (e.g. `503`, to test a failing healthcheck);
- a Space in any other stage answers 503, as an app that is not up (yet);
- a Space the caller may not see (private, no or another user's token) is 404, like the API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.httputil import json_response, repo_id

STATUS_VARIABLE = "SANDBOX_APP_STATUS"


async def serve(ctx: Context, request: Request) -> Response:
    path = "/" + request.path_params.get("path", "")
    with ctx.store.transaction():
        space = ctx.space(repo_id(request))
        stage = space.runtime.stage_at(ctx.now())
        wanted = space.variables.get(STATUS_VARIABLE)
    if stage != "RUNNING":
        return json_response({"error": f"Space is {stage}"}, status=503)
    status = 200
    if wanted is not None and wanted.value.strip().isdigit():
        status = min(599, max(100, int(wanted.value)))
    return json_response({"space": space.id, "path": path}, status=status)
