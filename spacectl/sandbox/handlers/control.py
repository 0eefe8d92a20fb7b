"""The control API under `/_sandbox/` (loopback only, never faulted or logged): the request
log, live faults and options, users, the clock, forcing a runtime stage, and the trusted
publishers (with the tokens exchanged, by fingerprint)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.config import UPLOAD_MODES
from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError, repo_not_found
from spacectl.sandbox.httputil import json_body, json_response, repo_id
from spacectl.sandbox.models.oidc import parse_trusted_publisher
from spacectl.sandbox.models.runtime import FORCEABLE_STAGES, fixed
from spacectl.sandbox.shapes import hub_timestamp, runtime_json


async def requests(ctx: Context, request: Request) -> Response:
    log = ctx.sandbox.log
    if request.method == "DELETE":
        log.clear()
        return json_response({})
    return json_response(log.entries())


async def faults(ctx: Context, request: Request) -> Response:
    sandbox = ctx.sandbox
    if request.method == "PUT":
        try:
            sandbox.faults = sandbox.faults.updated(await json_body(request))
        except (ValueError, KeyError, TypeError) as error:
            raise ApiError(400, f"Invalid faults: {error}") from None
    return json_response(sandbox.faults.to_json())


async def config(ctx: Context, request: Request) -> Response:
    options = ctx.options
    if request.method == "PUT":
        data = await json_body(request)
        if "build_seconds" in data:
            seconds = data["build_seconds"]
            if not isinstance(seconds, (int, float)) or seconds < 0:
                raise ApiError(400, "build_seconds must be a number >= 0")
            options.build_seconds = float(seconds)
        if "create_seconds" in data:
            seconds = data["create_seconds"]
            if not isinstance(seconds, (int, float)) or seconds < 0:
                raise ApiError(400, "create_seconds must be a number >= 0")
            options.create_seconds = float(seconds)
        if "upload_mode" in data:
            if data["upload_mode"] not in UPLOAD_MODES:
                raise ApiError(400, "upload_mode must be auto or regular")
            options.upload_mode = data["upload_mode"]
        pages = data.get("page_size") or {}
        if not isinstance(pages, dict):
            raise ApiError(400, "page_size must be an object")
        for name, value in pages.items():
            if not hasattr(options.pages, name) or not isinstance(value, int) or value < 1:
                raise ApiError(400, f"Invalid page_size.{name}")
            setattr(options.pages, name, value)
    return json_response(options.to_json())


async def users(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction() as st:
        tokens = [
            {"name": t.user, "token": token, "role": t.role} for token, t in st.tokens.items()
        ]
        orgs = [{"name": o.name, "members": o.members} for o in st.orgs.values()]
    return json_response({"users": tokens, "orgs": orgs})


async def clock(ctx: Context, request: Request) -> Response:
    sandbox_clock = ctx.sandbox.clock
    if request.method == "PUT":
        advance = (await json_body(request)).get("advance_seconds")
        if not isinstance(advance, (int, float)) or isinstance(advance, bool) or advance < 0:
            raise ApiError(400, "advance_seconds must be a number >= 0")
        sandbox_clock.advance(float(advance))
    now = sandbox_clock.now()
    return json_response({"now": hub_timestamp(now), "offset_seconds": sandbox_clock.offset})


async def stage(ctx: Context, request: Request) -> Response:
    data = await json_body(request)
    forced = data.get("stage")
    if forced not in FORCEABLE_STAGES:
        raise ApiError(400, f"stage must be one of {', '.join(sorted(FORCEABLE_STAGES))}")
    with ctx.store.transaction() as st:
        space = st.find(repo_id(request))
        if space is None:
            raise repo_not_found()
        space.runtime = fixed(str(forced), data.get("errorMessage"))
        return json_response(runtime_json(space, ctx.now()))


async def oidc(ctx: Context, request: Request) -> Response:
    """GET: the trusted publishers and the tokens issued (fingerprints, never tokens); POST
    `{"trusted_publisher": "SPACE ISSUER SUBJECT"}` adds one, DELETE with that body removes it."""
    exchange = ctx.sandbox.oidc
    if request.method != "GET":
        value = (await json_body(request)).get("trusted_publisher")
        try:
            publisher = parse_trusted_publisher(value if isinstance(value, str) else "")
        except ValueError as error:
            raise ApiError(400, f"trusted_publisher {error}") from None
        if request.method == "POST":
            exchange.trust(publisher)
        else:
            exchange.distrust(publisher)
    return json_response(exchange.to_json())
