"""Large files: the git LFS batch API and its upload and verify URLs (Xet is `handlers/xet.py`)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import (
    base_url,
    declared_length,
    json_body,
    json_response,
    param,
)
from spacectl.sandbox.models import lfs
from spacectl.sandbox.records import Space
from spacectl.sandbox.shapes import lfs_batch_json

LFS_TYPE = "application/vnd.git-lfs+json"


def _lfs_space(ctx: Context, request: Request) -> Space:
    """The Space of a `/spaces/{ns}/{name}.git/info/lfs/...` URL, for writing."""
    return ctx.space(lfs.repo_of(param(request, "ns"), param(request, "repo")), write=True)


async def batch(ctx: Context, request: Request) -> Response:
    data = await json_body(request)
    if data.get("operation") != "upload":
        raise ApiError(400, "The Hub sandbox only supports LFS uploads through the batch API")
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise ApiError(400, '"objects" must be a list')
    with ctx.store.transaction():
        space = _lfs_space(ctx, request)
        answers = lfs.batch(ctx, space, objects)
        body = lfs_batch_json(answers, base_url(request), space.id)
    return Response(json.dumps(body).encode(), media_type=LFS_TYPE)


async def upload(ctx: Context, request: Request) -> Response:
    # No Authorization header arrives here (as on the Hub): the unguessable id is the grant.
    upload_id = param(request, "upload_id")
    with ctx.store.lock:
        pending = ctx.store.uploads.get(upload_id)
    if pending is None:
        raise ApiError(404, "Unknown or expired upload URL")
    length = declared_length(request.scope)
    if length is not None and length != pending[2]:  # refused before the body is read
        raise ApiError(400, "The uploaded content does not match the announced oid and size")
    body = await request.body()
    with ctx.store.transaction() as st:
        lfs.receive(st, upload_id, body)
    return Response(b"", status_code=200)


async def verify(ctx: Context, request: Request) -> Response:
    data = await json_body(request)
    with ctx.store.transaction() as st:
        lfs.verify(st, _lfs_space(ctx, request), str(data.get("oid", "")))
    return json_response({})
