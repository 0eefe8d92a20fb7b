"""The sandbox as one ASGI app: the routes of `urls` in Starlette, each request given its
`Context`, every `ApiError` answered the Hub's way, behind the raw-path and fault middlewares.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from spacectl.sandbox.context import Context, Sandbox
from spacectl.sandbox.errors import ApiError, Moved, RepoExists, repo_not_found
from spacectl.sandbox.faults import CONTROL_PREFIX, FaultMiddleware
from spacectl.sandbox.httputil import (
    AUTH_BEFORE_BODY,
    MAX_BODY,
    BodyLimitMiddleware,
    RawPathMiddleware,
    declared_length,
    error_response,
    is_loopback,
    space_url,
)
from spacectl.sandbox.urls import LFS_UPLOAD_PREFIX, ROUTES, XET_ROOT, Handler

# An LFS upload is bounded by the size its batch call announced (handlers/lfs.py checks it).
_MAX_UPLOAD = 64 << 30
# A commit inlines its regular files (base64); with `--upload-mode regular` (the sandbox's
# stand-in for Xet storage) that is every file, however large, so a commit may be large too.
_MAX_COMMIT = 4 << 30


def _body_limit(path: str) -> int:
    if path.startswith(LFS_UPLOAD_PREFIX):
        return _MAX_UPLOAD
    return _MAX_COMMIT if "/commit/" in path else MAX_BODY


# A path naming a repository (API or git/file routes), for the routes the sandbox lacks.
_REPO_PATH = re.compile(
    r"^/(?:api/)?(models|datasets|spaces)/([^/]+)(?:/([^/]+?)(?:\.git)?)?(?:/|$)"
)


def _redirect(request: Request, error: Moved) -> Response:
    """307 to the same route under the Space's new name, relative like the Hub's, query kept."""
    params = request.path_params
    old = f"/{params['ns']}/{params.get('name') or params['repo']}"
    ns, name = error.repo_id.split("/")
    new = f"/{quote(ns, safe='')}/{quote(name, safe='')}"
    if old.endswith(".git"):
        new += ".git"
    location = request.scope["path"].replace(old, new, 1)
    if request.url.query:
        location += "?" + request.url.query
    response = error_response(error)
    response.headers["Location"] = location
    return response


def _hub_error(request: Request, error: ApiError) -> Response:
    if isinstance(error, RepoExists):
        error.extra["url"] = space_url(request, error.repo_id)
    if isinstance(error, Moved):
        return _redirect(request, error)
    return error_response(error)


def _endpoint(sandbox: Sandbox, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if request.url.path.startswith(CONTROL_PREFIX) and not is_loopback(request):
            return error_response(ApiError(403, "The sandbox control API is loopback-only"))
        ctx = Context(sandbox, request.headers.get("authorization"))
        try:
            # A large body is read only for a known caller (an LFS upload's id is its grant; a
            # CAS route checks its Xet token before it reads the body).
            large = (declared_length(request.scope) or 0) > AUTH_BEFORE_BODY
            granted = request.url.path.startswith((LFS_UPLOAD_PREFIX, XET_ROOT))
            if large and not granted and ctx.principal() is None:
                raise ApiError(401, "You must be authenticated to send a body this large")
            return await handler(ctx, request)
        except ApiError as error:
            return _hub_error(request, error)

    return endpoint


def _http_exception(sandbox: Sandbox) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and _missing_repo(sandbox, request):
            # The Hub looks the repository up before the route: a route of a repository that
            # is not there (or not visible) is RepoNotFound, which the client maps to
            # RepositoryNotFoundError.
            return error_response(repo_not_found())
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return error_response(ApiError(exc.status_code, message))

    return handle


def _missing_repo(sandbox: Sandbox, request: Request) -> bool:
    """The unrouted `request` names a repository the caller cannot see: any model or dataset
    (the sandbox hosts Spaces only), a missing Space, or one hidden from the caller."""
    found = _REPO_PATH.match(request.scope["path"])
    if found is None:
        return False
    kind, ns, name = found.groups()
    if kind != "spaces" or name is None:  # no model or dataset here; no id without a namespace
        return True
    ctx = Context(sandbox, request.headers.get("authorization"))
    try:
        with sandbox.store.transaction():
            ctx.space(f"{unquote(ns)}/{unquote(name)}")
    except ApiError:
        return True
    return False


async def _crash(request: Request, exc: Exception) -> Response:
    # A bug in the sandbox: answer like the Hub's 500 and keep serving (uvicorn logs it).
    return error_response(ApiError(500, f"Internal Error in the Hub sandbox: {exc!r}"))


def build_app(sandbox: Sandbox) -> ASGIApp:
    """The ASGI app serving `sandbox`."""
    starlette = Starlette(
        routes=[
            Route(path, _endpoint(sandbox, handler), methods=methods)
            for path, handler, methods in ROUTES
        ],
        exception_handlers={HTTPException: _http_exception(sandbox), Exception: _crash},
    )
    clock = sandbox.clock.now
    # Faults outermost: a reset needs uvicorn's own `send` to reach the connection.
    bounded = BodyLimitMiddleware(starlette, _body_limit)
    return FaultMiddleware(
        RawPathMiddleware(bounded, clock), lambda: sandbox.faults, sandbox.log, clock
    )
