"""Commits: the NDJSON commit endpoint, the history and the refs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import (
    bool_arg,
    json_response,
    paginate,
    param,
    parse_json,
    repo_id,
    space_url,
)
from spacectl.sandbox.models import commits
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
        return json_response([commit_json(c) for c in page], headers=headers)


async def refs(ctx: Context, request: Request) -> Response:
    with ctx.store.transaction():
        return json_response(refs_json(ctx.space(repo_id(request), files=True)))
