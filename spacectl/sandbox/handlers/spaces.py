"""A Space's runtime and settings: runtime, secrets, variables, hardware, sleep time, pause,
restart, dev mode, volumes, and the build and run logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import bool_arg, json_body, json_response, param, repo_id, str_field
from spacectl.sandbox.models import runtime, settings
from spacectl.sandbox.records import Space
from spacectl.sandbox.shapes import hub_timestamp, runtime_json, settings_json


def _runtime(ctx: Context, space: Space) -> Response:
    return json_response(runtime_json(space, ctx.now()))


async def get_runtime(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction():
        return _runtime(ctx, ctx.space(repo_id(request)))


# Secrets and variables: how each is set and deleted, and whether values are served (secret
# values never are; a variable write answers the whole map, a secret write `{}`).
_SETTING_MAPS = {
    "secrets": (settings.set_secret, settings.delete_secret, False),
    "variables": (settings.set_variable, settings.delete_variable, True),
}


async def _setting_map(ctx: Context, request: Request, kind: str) -> Response:
    put, delete, with_value = _SETTING_MAPS[kind]
    reading = request.method == "GET"
    data = {} if reading else await json_body(request)
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=not reading)
        if reading:
            settings.require_member(ctx, space, kind)
        else:
            key = str_field(data, "key")
            if request.method == "POST":
                put(ctx, space, key, data)
            else:
                delete(ctx, space, key)
        if reading or with_value:
            return json_response(settings_json(getattr(space, kind), with_value=with_value))
        return json_response({})


async def secrets(ctx: Context, request: Request) -> Response:
    return await _setting_map(ctx, request, "secrets")


async def variables(ctx: Context, request: Request) -> Response:
    return await _setting_map(ctx, request, "variables")


async def _change(
    ctx: Context,
    request: Request,
    change: Callable[[Space, dict[str, Any]], None],
    *,
    body: bool = True,
) -> Response:
    """Apply `change` (given the JSON body, read only with `body`) to the Space of the path, as
    a writer; answer with its runtime."""
    data = await json_body(request) if body else {}
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        change(space, data)
        return _runtime(ctx, space)


async def hardware(ctx: Context, request: Request) -> Response:
    return await _change(ctx, request, lambda s, d: settings.request_hardware(ctx, s, d))


async def sleep_time(ctx: Context, request: Request) -> Response:
    return await _change(ctx, request, lambda s, d: settings.set_sleep_time(s, d.get("seconds")))


async def dev_mode(ctx: Context, request: Request) -> Response:
    return await _change(ctx, request, lambda s, d: settings.set_dev_mode(ctx, s, d.get("enabled")))


async def pause(ctx: Context, request: Request) -> Response:
    return await _change(ctx, request, lambda s, d: runtime.pause(s), body=False)


async def restart(ctx: Context, request: Request) -> Response:
    factory = bool_arg(request, "factory")
    return await _change(
        ctx, request, lambda s, d: runtime.restart(ctx, s, factory=factory), body=False
    )


async def volumes(ctx: Context, request: Request) -> Response:
    data = await json_body(request) if request.method == "PUT" else {}
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        if request.method == "PUT":
            settings.set_volumes(ctx, space, data.get("volumes"))
        else:
            settings.delete_volumes(ctx, space)
        return json_response({})


async def logs(ctx: Context, request: Request) -> Response:
    """Build or run logs as server-sent events; while a build runs the stream follows it and
    closes when it settles (or another build replaces it)."""
    kind = param(request, "kind")
    if kind not in ("build", "run"):
        raise ApiError(404, "Not Found")
    with ctx.store.transaction():
        space = ctx.space(repo_id(request))
        state = space.runtime

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        while True:
            now = ctx.now()
            lines = state.logs(kind, now)
            for line in lines[sent:]:
                event = {"data": line.text, "timestamp": hub_timestamp(line.at)}
                yield f"data: {json.dumps(event)}\n\n".encode()
            sent = len(lines)
            if now >= state.settled_at() or space.runtime is not state:
                return
            await asyncio.sleep(0.1)

    return StreamingResponse(events(), media_type="text/event-stream")
