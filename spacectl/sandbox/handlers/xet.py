"""Xet storage over HTTP: the Hub's token routes and the CAS (content-addressed storage) the
tokens open, under `/sandbox-xet/{instance}` (see `models/xet.py`).

The CAS answers the calls the installed `hf_xet` makes: xorb upload (and HEAD), shard upload
(v1), reconstructions (v1) and the fetch URLs they name. Global dedup queries, upload grants,
v2 shards and reconstructions are unrouted, so they answer 404 and the client falls back.
CAS requests carry the Xet access token, not a Hub token; fetch URLs carry none.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import base_url, json_response, param, repo_id
from spacectl.sandbox.models import xet
from spacectl.sandbox.models.xet import Grant, XetState

CAS_PREFIX = "/sandbox-xet/{instance}"
_OFF_MESSAGE = (
    "This Hub sandbox runs with --xet off. Run the client with HF_HUB_DISABLE_XET=1, or start "
    "the sandbox with --xet on."
)


def cas_url(request: Request, state: XetState) -> str:
    return f"{base_url(request)}/sandbox-xet/{state.instance}"


async def write_token(ctx: Context, request: Request) -> Response:
    return _token(ctx, request, "write")


async def read_token(ctx: Context, request: Request) -> Response:
    return _token(ctx, request, "read")


def _token(ctx: Context, request: Request, scope: str) -> Response:
    """A CAS token for the Space, in the JSON body (read by hf_xet) and in headers (read by
    huggingface_hub's download path), as the Hub sends both."""
    with ctx.store.transaction() as st:
        space = ctx.space(repo_id(request), files=True, write=scope == "write")
        space.resolve(param(request, "rev"))
        if not ctx.options.xet:
            raise ApiError(501, _OFF_MESSAGE)
        token, expires = xet.issue(st.xet, space, scope, ctx.now())
    url = cas_url(request, st.xet)
    headers = {
        "X-Xet-Cas-Url": url,
        "X-Xet-Access-Token": token,
        "X-Xet-Token-Expiration": str(expires),
    }
    return json_response({"accessToken": token, "exp": expires, "casUrl": url}, headers=headers)


def _grant(ctx: Context, request: Request, *, write: bool) -> Grant:
    """The grant of a CAS request, on this instance's CAS only (404 elsewhere)."""
    state = ctx.store.xet
    if not ctx.options.xet or param(request, "instance") != state.instance:
        raise ApiError(404, "Not Found")
    return xet.grant_of(state, request.headers.get("authorization"), ctx.now(), write=write)


async def xorb(ctx: Context, request: Request) -> Response:
    """`POST` stores a xorb; `HEAD` says whether it is stored (200) or not (404)."""
    _grant(ctx, request, write=request.method == "POST")
    name = xet.checked_hash(param(request, "hash"))
    if request.method == "HEAD":
        found = ctx.store.blobs.has(f"xorb/{name}")
        return Response(b"", status_code=200 if found else 404)
    body = await request.body()
    inserted = await run_in_threadpool(xet.put_xorb, ctx.store.xet, ctx.store, name, body)
    return json_response({"was_inserted": inserted})


async def shard(ctx: Context, request: Request) -> Response:
    """Rebuild and check every file of the shard (outside the store's lock: it is the slow
    part), then store them for the grant's Space."""
    grant = _grant(ctx, request, write=True)
    body = await request.body()
    files = await run_in_threadpool(xet.rebuild, ctx.store.xet, ctx.store, body)
    with ctx.store.transaction() as st:
        space = st.find(grant.space_id)
        if space is None:
            raise ApiError(404, "The Space of this Xet access token no longer exists")
        registered = [xet.register(st, space, file, content) for file, content in files]
        xet.keep_shard(st, body)
    return json_response({"result": 1 if any(registered) or not files else 0})


async def reconstruction(ctx: Context, request: Request) -> Response:
    grant = _grant(ctx, request, write=False)
    with ctx.store.transaction() as st:
        space = st.find(grant.space_id)
        if space is None:
            raise ApiError(404, "The Space of this Xet access token no longer exists")
        body = xet.reconstruction(
            st.xet,
            st,
            space,
            param(request, "hash"),
            request.headers.get("range"),
            cas_url(request, st.xet),
        )
    return json_response(body)


async def fetch(ctx: Context, request: Request) -> Response:
    """A fetch URL: no Authorization (its signature is the grant), 206 for a `Range`."""
    state = ctx.store.xet
    if param(request, "instance") != state.instance:
        raise ApiError(404, "Not Found")
    data, span = await run_in_threadpool(
        xet.fetch,
        state,
        ctx.store,
        param(request, "hash"),
        param(request, "signature"),
        request.headers.get("range"),
    )
    if span is None:
        return Response(data, media_type="application/octet-stream")
    first, last, total = span
    headers = {"Content-Range": f"bytes {first}-{last}/{total}"}
    return Response(data, status_code=206, media_type="application/octet-stream", headers=headers)


def with_hashes(ctx: Context, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tree entries with `xetHash` for the large files stored through Xet, as the Hub lists."""
    for data in entries:
        lfs_info = data.get("lfs")
        found = xet.file_hash(ctx.store, lfs_info["oid"]) if lfs_info else None
        if found is not None:
            data["xetHash"] = found
    return entries


def download_headers(
    ctx: Context, request: Request, space_id: str, commit_id: str, sha256: str | None
) -> dict[str, str]:
    """What makes hf_xet download a file through Xet: its Xet hash and where to get a read
    token (none for a file not stored through Xet, or with --xet off)."""
    found = xet.file_hash(ctx.store, sha256) if sha256 and ctx.options.xet else None
    if found is None:
        return {}
    token_url = f"{base_url(request)}/api/spaces/{space_id}/xet-read-token/{commit_id}"
    return {"X-Xet-Hash": found, "Link": f'<{token_url}>; rel="xet-auth"'}
