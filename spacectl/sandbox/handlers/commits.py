"""Commits: the NDJSON commit endpoint, the history, the refs, branches and tags."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import (
    bool_arg,
    json_body,
    json_response,
    paginate,
    param,
    parse_json,
    repo_id,
    space_url,
)
from spacectl.sandbox.models import commits
from spacectl.sandbox.models import refs as git_refs
from spacectl.sandbox.shapes import commit_json, refs_json


def _payload(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The (key, value) lines of an NDJSON commit payload; the first must be the header."""
    operations = []
    for number, line in enumerate(body.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = parse_json(line.encode(), f"line {number} of the commit payload")
        except ApiError as error:
            # A path no state or answer can hold (a lone surrogate) is the Hub's 422.
            raise ApiError(422 if "surrogate" in error.message else 400, error.message) from None
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            raise ApiError(400, f"Line {number}: expected {{key, value}}")
        operations.append((str(item.get("key")), item["value"]))
    if not operations or operations[0][0] != "header":
        raise ApiError(400, "The commit payload must start with a header line")
    return operations


async def commit(ctx: Context, request: Request) -> Response:
    ctx.writer()  # no, bad or read-only credentials: 401/403 whatever the body
    if bool_arg(request, "create_pr"):
        raise ApiError(400, "Pull requests are not supported by the Hub sandbox")
    (_, header), *operations = _payload(await request.body())
    message = commits.check_header(header)
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        made = commits.commit(
            ctx, space, param(request, "rev"), header.get("parentCommit"), message, operations
        )
        return json_response(
            {
                "success": True,
                "commitOid": made.id,
                "commitUrl": f"{space_url(request, space.id)}/commit/{made.id}",
                "hookOutput": "",
            }
        )


async def history(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), files=True)
        head = space.resolve(param(request, "rev"))
        page, headers = paginate(request, commits.history(space, head), ctx.options.pages.commits)
        # The client asks with `expand[]=formatted` (`list_repo_commits(formatted=True)`).
        expand = request.query_params.getlist("expand[]") + request.query_params.getlist("expand")
        formatted = "formatted" in expand or bool_arg(request, "formatted")
        body = [commit_json(c, formatted=formatted) for c in page]
        return json_response(body, headers=headers)


async def refs(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), files=True)
        return json_response(refs_json(space, pull_requests=bool_arg(request, "include_prs")))


async def branch(ctx: Context, request: Request) -> Response:
    """`create_branch` (POST, `startingPoint` optional) and `delete_branch` (DELETE)."""
    data = await json_body(request) if request.method == "POST" else {}
    start = data.get("startingPoint")
    if start is not None and not isinstance(start, str):
        raise ApiError(400, '"startingPoint" must be a revision')
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        if request.method == "POST":
            git_refs.create_branch(space, param(request, "branch"), start)
        else:
            git_refs.delete_branch(space, param(request, "branch"))
    return json_response({})


async def tag(ctx: Context, request: Request) -> Response:
    """`create_tag` (POST on the revision, `{"tag", "message"?}`) and `delete_tag` (DELETE)."""
    data = await json_body(request) if request.method == "POST" else {}
    with ctx.store.transaction():
        space = ctx.space(repo_id(request), write=True)
        if request.method == "POST":
            git_refs.create_tag(space, param(request, "ref"), data.get("tag"))
        else:
            git_refs.delete_tag(space, param(request, "ref"))
    return json_response({})
