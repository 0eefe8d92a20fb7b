"""A revision's files: tree listings, paths info, preupload advice and downloads."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.handlers import xet
from spacectl.sandbox.httputil import bool_arg, json_body, json_response, paginate, param, repo_id
from spacectl.sandbox.models import lfs, trees
from spacectl.sandbox.shapes import preupload_json, tree_entry_json


async def tree(ctx: Context, request: Request) -> Response:
    expand = bool_arg(request, "expand")
    recursive = bool_arg(request, "recursive")
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), files=True)
        commit = space.resolve(param(request, "rev"))
        base = param(request, "path").strip("/") if "path" in request.path_params else ""
        listed = trees.listing(commit, base, recursive=recursive)
        pages = ctx.options.pages
        page, headers = paginate(request, listed, pages.tree_expand if expand else pages.tree)
        body = [tree_entry_json(trees.item(space, commit, p, e, expand=expand)) for p, e in page]
        return json_response(xet.with_hashes(ctx, body), headers=headers)


async def paths_info(ctx: Context, request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    expand = form.get("expand", ["false"])[-1].lower() == "true"
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), files=True)
        commit = space.resolve(param(request, "rev"))
        found = trees.paths(commit, form.get("paths", []))
        body = [tree_entry_json(trees.item(space, commit, p, e, expand=expand)) for p, e in found]
        return json_response(xet.with_hashes(ctx, body))


async def preupload(ctx: Context, request: Request) -> Response:
    data = await json_body(request)
    files = data.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) for f in files
    ):
        raise ApiError(400, '"files" must be a list of {path, sample, size}')
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        commit = space.resolve(param(request, "rev"))
        advice = lfs.preupload(ctx, commit, files, data.get("gitIgnore"))
        return json_response(preupload_json(advice, commit))


async def download(ctx: Context, request: Request) -> Response:
    """`/resolve/{rev}/{path}`: a file's content, with the Hub's ETag and LFS headers."""
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), files=True)
        commit = space.resolve(param(request, "rev"))
        entry, data = trees.download(ctx.store, commit, param(request, "path"))
        xet_headers = xet.download_headers(ctx, request, space.id, commit.id, entry.sha256)
    etag = entry.sha256 or entry.oid
    headers = {
        "X-Repo-Commit": commit.id,
        "ETag": f'"{etag}"',
        "Content-Length": str(entry.size),
        "Accept-Ranges": "bytes",
        **xet_headers,
    }
    if entry.sha256:
        headers["X-Linked-Etag"] = f'"{etag}"'
        headers["X-Linked-Size"] = str(entry.size)
    body = b"" if request.method == "HEAD" else data
    return Response(body, media_type="application/octet-stream", headers=headers)
