"""Space repositories: create, delete, move, duplicate, settings, info, listing, auth check."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError, repo_not_found
from spacectl.sandbox.httputil import (
    base_url,
    bool_arg,
    json_body,
    json_response,
    paginate,
    param,
    repo_id,
    space_url,
    str_field,
    text_ok,
)
from spacectl.sandbox.models import repos, settings
from spacectl.sandbox.models.cards import SDKS
from spacectl.sandbox.records import Space
from spacectl.sandbox.shapes import INFO_FIELDS, LIST_FIELDS, SPACE_EXPAND, space_json

CREATE_CONFLICT = "Cannot create repo: another conflicting operation is in progress"


def _space_type(data: dict[str, object]) -> None:
    """Only Spaces exist here: a delete or move of another type finds nothing."""
    if (data.get("type") or "model") != "space":
        raise repo_not_found()


async def create(ctx: Context, request: Request) -> Response:
    who = ctx.writer()  # credentials before the body, as the Hub answers
    data = await json_body(request)
    repo_type = data.get("type") or "model"
    if repo_type != "space":
        raise ApiError(400, f"The Hub sandbox only hosts Spaces, not {repo_type} repositories")
    name = str_field(data, "name")
    namespace = data.get("organization") or who.user
    if not isinstance(namespace, str):
        raise ApiError(400, '"organization" must be a string')
    repos.check_name(name)
    sdk = data.get("sdk")
    if sdk not in SDKS:
        raise ApiError(
            400, '"sdk" is required and must be one of gradio, streamlit, docker, static'
        )
    template = repos.template(data.get("template"), str(sdk))
    visibility = settings.visibility(data, "public")
    # The Hub refuses a user's create while another of theirs runs (the client retries on the
    # text); the create takes `create_seconds`, so overlapping creates meet it here too.
    if who.user in ctx.sandbox.creating:
        raise ApiError(409, CREATE_CONFLICT)
    ctx.sandbox.creating.add(who.user)
    try:
        if ctx.options.create_seconds:
            await asyncio.sleep(ctx.options.create_seconds)
        with ctx.store.transaction():
            space = repos.create(ctx, namespace, name, str(sdk), visibility, data, template)
            body = {"url": space_url(request, space.id), "name": space.id, "id": space.object_id}
            return json_response(body)
    finally:
        ctx.sandbox.creating.discard(who.user)


async def delete(ctx: Context, request: Request) -> Response:
    who = ctx.writer()  # credentials before the body, as the Hub answers
    data = await json_body(request)
    _space_type(data)
    name = str_field(data, "name")
    with ctx.store.transaction():
        repos.delete(ctx, f"{data.get('organization') or who.user}/{name}")
    return text_ok()


async def move(ctx: Context, request: Request) -> Response:
    ctx.writer()  # credentials before the body, as the Hub answers
    data = await json_body(request)
    source = str_field(data, "fromRepo")
    target = str_field(data, "toRepo")
    _space_type(data)
    with ctx.store.transaction():
        repos.move(ctx, source, target)
    return text_ok()


async def duplicate(ctx: Context, request: Request) -> Response:
    ctx.writer()  # credentials before the body, as the Hub answers
    data = await json_body(request)
    target = str_field(data, "repository")
    repos.split_target(target, '"repository"')
    with ctx.store.transaction():
        source = ctx.space(repo_id(request), files=True)
        space = repos.duplicate(ctx, source, target, data)
        return json_response({"url": space_url(request, space.id), "filesCopyPending": False})


async def update_settings(ctx: Context, request: Request) -> Response:
    data = await json_body(request)
    with ctx.store.transaction():
        settings.update_repo_settings(ctx.space(repo_id(request), write=True), data)
    return json_response({})


def _check_expand(expand: list[str]) -> None:
    for index, value in enumerate(expand):
        if value not in SPACE_EXPAND:
            allowed = ", ".join(sorted(SPACE_EXPAND))
            raise ApiError(400, f'"expand[{index}]" must be one of [{allowed}]')


def _fields_for(ctx: Context, space: Space, fields: tuple[str, ...] | list[str]) -> list[str]:
    """`fields` without `siblings` when the caller may not read the Space's files."""
    if "siblings" in fields and not ctx.can_read_files(space):
        return [f for f in fields if f != "siblings"]
    return list(fields)


async def info(ctx: Context, request: Request) -> Response:
    expand = request.query_params.getlist("expand")
    _check_expand(expand)
    blobs = bool_arg(request, "blobs")
    with ctx.store.transaction():
        space = ctx.space(repo_id(request))
        rev = param(request, "rev") if "rev" in request.path_params else "main"
        commit = space.resolve(rev)
        fields = _fields_for(ctx, space, expand or INFO_FIELDS)
        body = space_json(
            ctx.store, space, commit, fields, now=ctx.now(), blobs=blobs, base_url=base_url(request)
        )
        return json_response(body)


async def listing(ctx: Context, request: Request) -> Response:
    q = request.query_params
    expand = q.getlist("expand")
    if expand and bool_arg(request, "full"):
        raise ApiError(400, "Use either expand or full, not both")
    _check_expand(expand)
    fields = expand or (INFO_FIELDS if bool_arg(request, "full") else LIST_FIELDS)
    with ctx.store.transaction():
        found = repos.search(
            ctx,
            author=q.get("author"),
            text=q.get("search"),
            filters=q.getlist("filter"),
            sort=q.get("sort"),
            descending=q.get("direction", "-1") == "-1",
            models=q.getlist("models"),
            datasets=q.getlist("datasets"),
            linked=bool_arg(request, "linked"),
        )
        page, headers = paginate(request, found, ctx.options.pages.spaces)
        body = [
            space_json(
                ctx.store,
                s,
                s.head,
                _fields_for(ctx, s, fields),
                now=ctx.now(),
                base_url=base_url(request),
            )
            for s in page
        ]
        return json_response(body, headers=headers)


async def auth_check(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction():
        ctx.space(repo_id(request), write=request.url.path.endswith("/write"))
    return json_response({})
