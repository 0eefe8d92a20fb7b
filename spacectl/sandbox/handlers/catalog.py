"""What the Hub offers every caller: hardware flavours, Space templates, agent harnesses, and
the README validator."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.httputil import json_body, json_response
from spacectl.sandbox.hub_data import SPACE_TEMPLATES, hardware_flavors
from spacectl.sandbox.models.cards import readme_problems


async def hardware(ctx: Context, request: Request) -> Response:
    return json_response(list(hardware_flavors()))


async def templates(ctx: Context, request: Request) -> Response:
    listed = [{k: v for k, v in t.items() if k != "files"} for t in SPACE_TEMPLATES]
    return json_response({"templates": listed})


async def harnesses(ctx: Context, request: Request) -> Response:
    return json_response({"standardEnvVars": [], "harnesses": {}})


def _problems(messages: list[str]) -> Response:
    body = {"errors": [{"message": m} for m in messages], "warnings": []}
    return json_response(body, 400 if messages else 200)


async def validate_yaml(ctx: Context, request: Request) -> Response:
    # huggingface_hub reads the JSON before checking the status: always answer JSON.
    try:
        data = await json_body(request)
    except ApiError as error:
        return _problems([error.message])
    content = data.get("content")
    if not isinstance(content, str):
        return _problems(['"content" is required'])
    return _problems(readme_problems(content, data.get("repoType")))
